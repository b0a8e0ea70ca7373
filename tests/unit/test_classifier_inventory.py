"""An imported inventory (issue 12): fourteen rows with only a title and a description,
as a team's AI inventory spreadsheet has them. Before the words counted, twelve came out
`minimal`; each now gets the tier its words describe, and none has answered the
regulatory questions."""

from __future__ import annotations

from bot.domain.classifier import classify
from bot.domain.policy_file import load_policy
from bot.domain.proposal import validate_proposal

POLICY = load_policy()

INVENTORY = [
    ("CV ranking", "Ranks applicants for open roles by how well they fit the job description.", "high"),
    ("Call centre QA", "Scores agents' calls and the emotion in their voice for coaching.", "prohibited"),
    ("Website chatbot", "Answers visitors' questions on the website.", "limited"),
    ("LinkedIn updates", "Writes and posts our LinkedIn updates.", "limited"),
    ("Credit pre-approval", "Decides which customers are pre-approved for credit.", "high"),
    ("Exam marking", "Marks online exams for the training academy.", "high"),
    ("Meeting notes", "Summarises internal meetings.", "minimal"),
    ("Invoice matching", "Matches supplier invoices to purchase orders.", "minimal"),
    ("Shift planner", "Allocates shifts to warehouse staff based on their productivity scores.", "high"),
    ("Face entry", "Identifies staff at the door by face recognition.", "high"),
    ("Benefit claims", "Assesses housing benefit claims for the council.", "high"),
    ("Product images", "Generates product images for the online shop.", "limited"),
    ("Code review", "Reviews pull requests for bugs.", "minimal"),
    ("Traffic signals", "Adjusts traffic light timing at junctions in the city centre.", "high"),
]


def classified() -> list[dict]:
    return [classify(validate_proposal({"title": t, "description": d}), POLICY) for t, d, _ in INVENTORY]


def test_each_inventory_row_gets_the_tier_its_words_describe():
    assert [out["regulatory"]["eu_ai_act"]["tier"] for out in classified()] == [tier for _, _, tier in INVENTORY]


def test_no_inventory_row_has_answered_the_regulatory_questions():
    assert [out["regulatory"]["eu_ai_act"]["answered"] for out in classified()] == [False] * len(INVENTORY)


def test_every_raised_tier_names_its_words():
    raised = [out for out in classified() if out["regulatory"]["eu_ai_act"]["tier"] != "minimal"]
    assert all("(from the words: " in " ".join(out["regulatory"]["eu_ai_act"]["basis"]) for out in raised)
