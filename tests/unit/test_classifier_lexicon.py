"""The lexicon as policy data: the keys a text-signal rule may use for the regulatory
answers (kinds, `context`, `noun_heads`), the person-as-subject check, and that a
broken rule is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.classifier import detect
from bot.domain.lexicon import human_subject_regex, phrase_anchors
from bot.domain.policy import PolicyError
from bot.domain.policy_file import load_policy

POLICY = load_policy()
DEFAULT_TEXT = (Path(__file__).resolve().parents[2] / "bot" / "policy.toml").read_text(encoding="utf-8")


def with_rule(tmp_path: Path, rule: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(DEFAULT_TEXT + "\n[[text_signals.rules]]\n" + rule + "\n", encoding="utf-8")
    return path


def problems(tmp_path: Path, rule: str) -> list[str]:
    with pytest.raises(PolicyError) as info:
        load_policy(with_rule(tmp_path, rule))
    return info.value.problems


N = DEFAULT_TEXT.count("[[text_signals.rules]]")  # the index of an appended rule


@pytest.mark.parametrize(
    "rule, problem",
    [
        (
            "kind = \"verdict\"\nphrases = ['\\bx\\b']",
            f"text_signals.rules[{N}].kind: must be one of actions, data, use_area",
        ),
        (
            'kind = "use_area"\ncode = "none"\nphrases = [\'\\bx\\b\']',
            f"text_signals.rules[{N}].code: unknown use_area code 'none'; allowed: biometrics,",
        ),
        (
            'kind = "prohibited_practices"\ncode = "spying"\nphrases = [\'\\bx\\b\']',
            f"text_signals.rules[{N}].code: unknown prohibited_practices code 'spying'; allowed: manipulation,",
        ),
        (
            'kind = "profiles_people"\ncode = "true"\nphrases = [\'\\bx\\b\']',
            f"text_signals.rules[{N}].code: not allowed for kind profiles_people (the words set it to true)",
        ),
        (
            "kind = \"generates_content\"\nphrases = ['\\bx\\b']\ncontext = ['(']",
            f"text_signals.rules[{N}].context[0]: invalid regular expression: missing ), unterminated subpattern",
        ),
    ],
)
def test_a_broken_regulatory_rule_is_named(tmp_path, rule, problem):
    assert any(p.startswith(problem) for p in problems(tmp_path, rule))


def test_an_unknown_term_is_named(tmp_path):
    found = problems(tmp_path, 'kind = "use_area"\ncode = "employment"\nphrases = [\'\\b{pepole}\\b\']')
    assert found == [f"text_signals.rules[{N}].phrases[0]: unknown term {{pepole}}; defined: people, workers"]


def test_widening_a_term_widens_every_rule_that_uses_it(tmp_path):
    text = DEFAULT_TEXT.replace('workers = [\n  "employee",', 'workers = [\n  "stevedore", "employee",', 1)
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    desc = {"description": "Ranks stevedores by productivity per shift."}
    assert ("use_area", "employment") not in detect(desc, POLICY).sources
    assert detect(desc, load_policy(path)).sources[("use_area", "employment")] == (
        ("description", "Ranks stevedores by productivity"),
    )


def test_a_custom_rule_raises_a_use_area(tmp_path):
    policy = load_policy(
        with_rule(tmp_path, 'kind = "use_area"\ncode = "migration"\nphrases = [\'\\bborder\\s+queues?\\b\']')
    )
    assert detect({"description": "Predicts border queues."}, policy).sources == {
        ("use_area", "migration"): (("description", "border queues"),)
    }


def test_a_context_rule_fires_only_with_its_context_in_the_sentence(tmp_path):
    policy = load_policy(
        with_rule(
            tmp_path,
            "kind = \"generates_content\"\nphrases = ['\\bchimes?\\b']\ncontext = ['\\bradio\\b']",
        )
    )
    found = [
        detect({"description": text}, policy).found("generates_content")
        for text in ("Picks the radio chime.", "Picks the chime. It plays on the radio.")
    ]
    assert found == [frozenset({"true"}), frozenset()]


def test_a_rule_may_add_its_own_noun_heads(tmp_path):
    rule = 'kind = "profiles_people"\nverbs = ["tally"]\nobjects = ["visitor"]\nnoun_heads = ["numbers"]'
    policy = load_policy(with_rule(tmp_path, rule))
    found = [
        bool(detect({"description": text}, policy).found("profiles_people"))
        for text in ("Tallies visitors by spending.", "Tallies visitor numbers.")
    ]
    assert found == [True, False]


def test_every_phrase_of_the_default_policy_starts_at_a_word():
    """A phrase that may start anywhere is searched in the whole text of every proposal."""
    assert POLICY.signals.unanchored == frozenset()


def test_a_phrase_anchor_may_also_be_an_object_word():
    # "chat" is an object of one rule and the start of the phrase "chat\\s*bots?" of the same finding
    assert detect({"description": "Chatbot for our tenants."}, POLICY).found("interacts_with_people") == {"true"}


@pytest.mark.parametrize(
    "before, person",
    [
        ("drafts posts that the marketing team edits and ", True),
        ("drafts posts for editors to ", True),
        ("writes drafts for our founders, who rewrite them and ", True),
        ("a team lead ", True),
        ("we then ", True),
        ("the bot drafts the reply and ", False),
        ("sends the draft to the team and ", False),
        ("it ", False),
        ("the agent ", False),  # an agent may be the AI: its actions count
    ],
)
def test_a_person_as_subject(before, person):
    rx = human_subject_regex(["team", "editors", "founders", "lead", "we"], ["to", "then"])
    assert (rx is not None and rx.search(before) is not None) is person


def test_phrase_anchors_of_alternatives_with_optional_words_are_unknown():
    assert phrase_anchors(r"\b(?:the\s+)?customer\b") is None


def test_a_policy_parsed_again_reuses_its_compiled_lexicon():
    import tomllib

    from bot.domain.policy_file import parse_policy

    raw = tomllib.loads(DEFAULT_TEXT)
    changed = tomllib.loads(DEFAULT_TEXT.replace('version = "', 'version = "x-', 1))
    assert parse_policy(raw).signals.detectors is parse_policy(changed).signals.detectors
