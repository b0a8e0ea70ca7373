"""Hypothesis strategies for hostile input, shared by the parser and HTTP fuzz tests."""

from __future__ import annotations

from hypothesis import strategies as st

# odd unicode: control characters, right-to-left marks, zero-width joiners, emoji, surrogates
# are not valid in JSON text, so leave those out; everything else may appear
ODD = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60) | st.sampled_from(
    ["\u202eevil\u202c", "a\u200db", "\x00\x01", "🙂" * 30, "Ωmega ≠ ascii", " \t\n ", "", "null", "0"]
)
BIG = st.integers(4000, 20_000).map(lambda n: "x" * n)
SCALARS = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | ODD
JSONISH = st.recursive(SCALARS, lambda c: st.lists(c, max_size=4) | st.dictionaries(ODD, c, max_size=4), max_leaves=8)
