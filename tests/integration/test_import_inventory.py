"""`govbot import` of a raw inventory (issue 12): rows with only a title and a
description are accepted, classified from their words, stored with their tier, and
recorded as not having answered the regulatory questions."""

from __future__ import annotations

ROWS = [
    {"title": "CV ranking", "description": "Ranks applicants for open roles by how well they fit the job description."},
    {"title": "Call centre QA", "description": "Scores agents' calls and the emotion in their voice for coaching."},
    {"title": "Website chatbot", "description": "Answers visitors' questions on the website."},
    {"title": "Meeting notes", "description": "Summarises internal meetings."},
]


def test_a_raw_inventory_is_imported_and_classified_from_its_words(core):
    report = core.import_proposals("U_IMPORT", "cli", ROWS)
    stored = [core.status_data(r["proposal_id"]) for r in report["rows"]]
    assert [(s["proposal"]["eu_tier"], s["classification"]["regulatory"]["eu_ai_act"]["answered"]) for s in stored] == [
        ("high", False),
        ("prohibited", False),
        ("limited", False),
        ("minimal", False),
    ]


def test_an_imported_row_keeps_its_regulatory_answers_unanswered(core):
    report = core.import_proposals("U_IMPORT", "cli", ROWS[:1])
    answers = core.status_data(report["rows"][0]["proposal_id"])["proposal"]["answers"]
    assert (answers["use_area"], answers["profiles_people"]) == (None, None)
