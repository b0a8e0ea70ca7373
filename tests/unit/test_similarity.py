"""The pure text part of near-duplicate matching (bot.domain.similarity)."""

from __future__ import annotations

import pytest

from bot.domain.policy import PolicyError
from bot.domain.policy_file import load_policy, parse_policy
from bot.domain.similarity import SimilarityRules, cosine, fold, reason, same_department, stem, terms, tokens

RULES = SimilarityRules(
    threshold=0.35,
    synonyms=(("invoice", "bill"), ("pull request", "merge request"), ("translate", "localise")),
    generic_words=("tool",),
)


@pytest.mark.parametrize(
    "a, b",
    [
        ("summarises", "summarising"),
        ("localised", "localize"),
        ("translation", "translate"),
        ("documentation", "documents"),
        ("planning", "plan"),
        ("policies", "policy"),
    ],
)
def test_inflections_and_spellings_share_a_stem(a, b):
    assert stem(a) == stem(b)


def test_folding_removes_case_and_accents():
    assert fold("Résumé Screening") == "resume screening"


def test_a_synonym_phrase_becomes_one_concept_named_by_its_group():
    assert [t.term for t in tokens("Checks each merge request", RULES)] == ["check", "~pull request"]


def test_function_and_generic_words_carry_no_weight():
    assert [t.term for t in tokens("The tool for the invoices", RULES)] == ["~invoice"]


def test_bags_are_normalised_so_a_text_matches_itself_fully():
    bag = terms("Invoice matching", "Matches supplier bills", RULES)
    assert cosine(bag, bag) == 1.0


def test_synonyms_make_two_wordings_of_one_workflow_similar():
    with_table = cosine(terms("Bill approval", None, RULES), terms("Invoice approval", None, RULES))
    without = cosine(
        terms("Bill approval", None, SimilarityRules()), terms("Invoice approval", None, SimilarityRules())
    )
    assert (with_table, without < 0.6) == (1.0, True)


def test_unrelated_workflows_score_near_zero():
    assert cosine(terms("Shift rota planner", None, RULES), terms("Release notes", None, RULES)) == 0.0


def test_the_reason_names_what_both_share_and_both_wordings_of_a_synonym():
    text = reason("Supplier bill approval", "", "Invoice approval for suppliers", "", RULES)
    assert text == "both are about approval, supplier and bill / invoice"


def test_a_blank_department_is_never_the_same_department():
    assert (same_department(" Finance ", "finance"), same_department(None, None), same_department("HR", "IT")) == (
        True,
        False,
        False,
    )


def test_the_packaged_policy_carries_the_workplace_synonyms():
    groups = load_policy().similarity.synonyms
    assert ("invoice", "bill") in groups


def _raw_with(section):
    import tomllib
    from importlib import resources

    raw = tomllib.loads(resources.files("bot").joinpath("policy.toml").read_text())
    if section is None:
        raw.pop("similarity")
    else:
        raw["similarity"] = section
    return raw


def test_a_policy_written_before_the_similarity_section_takes_the_default_one():
    policy = parse_policy(_raw_with(None), "old.toml")
    assert policy.similarity == load_policy().similarity


def test_a_bad_similarity_section_names_each_bad_key():
    bad = {"threshold": 2, "embeddings_threshold": 0.8, "shown": 3, "synonyms": [["bill"]], "colour": "red"}
    with pytest.raises(PolicyError) as err:
        parse_policy(_raw_with(bad), "bad.toml")
    assert err.value.problems == [
        "similarity.colour: unknown key; allowed: threshold, embeddings_threshold, shown, synonyms, generic_words",
        "similarity.threshold: must be a number above 0 and at most 1",
        "similarity.synonyms[0]: must list two or more words or phrases that mean the same",
    ]
