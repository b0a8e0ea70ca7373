"""Text signals: what the free text adds to the declared data and actions.

Recall: the many ways people describe each high-risk action. Precision: a noun alone,
a reading verb or a negation does not fire. Text only ever adds.
"""

from __future__ import annotations

import pytest

from bot.domain.classifier import classify, detect
from bot.domain.lexicon import inflect_verb, noun_forms, phrase_anchors, trie_regex
from bot.domain.policy_file import load_policy
from bot.domain.proposal import validate_proposal

POLICY = load_policy()


def found(text: str, field: str = "description") -> set[str]:
    d = detect({field: text}, POLICY)
    return set(d.data) | set(d.actions)


def run(**answers) -> dict:
    return classify(validate_proposal({"title": "Assistant", "owner": "U1", **answers}), POLICY)


RECALL = {
    "change_billing": [
        "The agent issues the refund when the parcel is lost.",
        "It refunds the customer automatically.",
        "Issued credits to customers hit by the outage.",
        "Issuing a partial refund for late orders.",
        "Applies late fees to overdue accounts.",
        "Charges the customer's card for renewals.",
        "Creates and sends invoices to clients.",
        "Waives the late fee for loyal customers.",
        "Refunds are issued automatically.",
        "Gives the customer a credit.",
        "Writes off bad debt under 50 EUR.",
        "Changes prices in the shop.",
        "Processes payments for orders.",
        "Processes refund requests end to end.",
        "The bot that issues refunds is new.",
        "It is capable of issuing refunds.",
        "Automatically approves expense claims under 100 EUR.",
        "Decides whether the customer gets a refund.",
        "Offers discounts to churning customers.",
    ],
    "change_production": [
        "Deploys the new build to production.",
        "Pushes the fix to prod every night.",
        "Releases updates to the live servers.",
        "Merges approved pull requests to main.",
        "Rolls out the new version to production.",
        "Pushing code to production without review.",
        "Auto-deploys to staging after merging.",
        "Restarts the production database when it hangs.",
        "Merged into master once the checks pass.",
        "Runs database migrations on production.",
        "Executes SQL against the production database.",
    ],
    "change_permissions": [
        "Grants admin access to new hires.",
        "Revokes access for leavers.",
        "Resets passwords for staff.",
        "Unlocks user accounts after identity checks.",
        "Assigns roles in Okta.",
        "Adds users to the admin group.",
        "Removes admin rights when people change team.",
        "Access is granted once the manager agrees.",
    ],
    "change_customer_data": [
        "Edits customer records in the CRM.",
        "Updates the CRM after each call.",
        "Merges duplicate contacts in Salesforce.",
        "Deletes customer data on request.",
        "Updates records in the CRM.",
        "Writes call notes back to HubSpot.",
        "Customer records are updated nightly.",
    ],
    "publish_public": [
        "Publishes posts on our website.",
        "Posts updates to LinkedIn and Twitter.",
        "Publishes the press release on the newswire.",
        "Shares announcements on social media.",
        "Tweets product news.",
        "Publishes articles on the company blog.",
        "Issues a press release after each launch.",
        "Updates the status page during incidents.",
        "Posts job ads on LinkedIn.",
    ],
    "regulated": [
        "Triages patient medical histories.",
        "Works with PHI under HIPAA.",
        "Supports credit decisions for loan applications.",
        "Reads lab results and prescriptions.",
        "Stores social security numbers.",
    ],
}


@pytest.mark.parametrize("code, text", [(c, t) for c, texts in RECALL.items() for t in texts])
def test_high_risk_phrasings_are_detected(code, text):
    assert code in found(text)


PRECISION = [
    ("Reads last week's closed tickets and drafts a summary of recurring themes.", "update_records"),
    ("Summarises the customer's refunded orders for the finance review.", "change_billing"),
    ("Classifies billing disputes for the finance team.", "change_billing"),
    ("Reads the refund policy and answers questions.", "change_billing"),
    ("Summarises the refunds from last week.", "change_billing"),
    ("Answers questions about refunds the customer asked for.", "change_billing"),
    ("Sends invoice reminders.", "change_billing"),
    ("Generates a report on invoices.", "change_billing"),
    ("Calculates the refund amount for the agent.", "change_billing"),
    ("Summarises deployment logs for the on-call engineer.", "change_production"),
    ("Writes release notes for the production release.", "change_production"),
    ("Monitors deployed services.", "change_production"),
    ("Reviews access logs for anomalies.", "change_permissions"),
    ("Explains the password policy to employees.", "change_permissions"),
    ("Enables users to find documents faster.", "change_permissions"),
    ("Looks up customer records in the CRM.", "change_customer_data"),
    ("Updates the customer on the status of their order.", "change_customer_data"),
    ("Drafts blog posts for review by marketing.", "publish_public"),
    ("Reviews posts on LinkedIn.", "publish_public"),
    ("Publishes the weekly digest in the team channel.", "publish_public"),
    ("Drafts replies to customers.", "send_external"),
    ("Runs reports on production data.", "change_production"),
    ("Reads the website to answer questions.", "publish_public"),
]


@pytest.mark.parametrize("text, code", PRECISION)
def test_nouns_and_reading_verbs_do_not_fire(text, code):
    assert code not in found(text)


NEGATED = [
    ("Does not issue refunds; it only drafts replies.", "change_billing"),
    ("It never issues refunds.", "change_billing"),
    ("Instead of manually issuing refunds, the agent drafts a note.", "change_billing"),
    ("Never deploys anything.", "change_production"),
    ("It won't deploy to production.", "change_production"),
    ("It never deploys code or changes permissions.", "change_permissions"),
    ("Doesn't grant access.", "change_permissions"),
    ("Refunds are never issued by the bot.", "change_billing"),
    ("It does not use customer emails.", "customer"),
]


@pytest.mark.parametrize("text, code", NEGATED)
def test_negations_do_not_fire(text, code):
    assert code not in found(text)


def test_a_negation_in_another_clause_does_not_hide_the_action():
    assert "change_billing" in found("It does not draft replies, but it issues refunds.")
    assert "change_production" in found("No human reviews it before it deploys to production.")


@pytest.mark.parametrize(
    "text, code",
    [
        ("Reads customer emails.", "customer"),
        ("Matches invoices to purchase orders.", "financial"),
        ("Compares salary bands across employee records.", "employee"),
        ("Reviews the source code in the repository.", "source_code"),
        ("Scans for leaked credentials and vulnerabilities.", "security"),
        ("Screens job applicants' CVs.", "employee"),
    ],
)
def test_data_classes_from_text(text, code):
    assert code in found(text)


@pytest.mark.parametrize(
    "text, code",
    [
        ("Emails customers a summary.", "send_external"),
        ("Creates Jira tickets for each bug.", "update_records"),
        ("Routes tickets to the right queue.", "classify_route"),
    ],
)
def test_medium_actions_from_text(text, code):
    assert code in found(text)


def test_reason_names_the_field_and_the_words():
    out = run(description="When the parcel is lost it issues the refund.", actions=["draft"])
    assert out["risk_level"] == "high"
    assert "actions include change_billing (from description: 'issues the refund')" in out["reasons"]
    assert out["effective"]["actions"] == ["change_billing", "draft"]
    assert "finance" in out["approver_roles"]
    assert "changes_permissions_billing_or_production" in out["stop_conditions"]


def test_every_text_field_is_read_and_each_is_reported():
    out = run(
        title="Deploy helper",
        expected_output="The build, deployed to production.",
        current_process="Engineers push to prod by hand.",
    )
    reason = next(r for r in out["reasons"] if r.startswith("actions include change_production"))
    assert "title: 'Deploy'" in reason and "current_process: 'push to prod'" in reason
    assert "expected_output: 'deployed to production'" in reason


def test_detected_data_is_reported_even_below_the_winning_level():
    out = run(description="Reads customer emails and issues the refund.")
    assert "data includes customer (from description: 'customer emails')" in out["reasons"]
    assert out["effective"]["data"] == ["customer", "financial"]


def test_declared_items_carry_no_text_source():
    out = run(description="It issues the refund.", actions=["change_billing"])
    assert out["reasons"] == ["actions include change_billing", "data includes financial (from description: 'refund')"]


def test_text_never_lowers_the_declared_risk():
    declared = {"actions": ["change_production"], "data": ["regulated"], "audience": "public"}
    out = run(description="It only summarises. It never deploys and touches no patient data.", **declared)
    assert out["risk_level"] == "high"
    assert out["effective"]["actions"] == ["change_production"]
    assert out["effective"]["data"] == ["regulated"]


def test_quotes_keep_the_original_case_and_are_short():
    d = detect({"description": "It ISSUES THE REFUND " + "x " * 100}, POLICY)
    assert d.sources[("actions", "change_billing")] == (("description", "ISSUES THE REFUND"),)


def test_no_text_means_no_detection():
    d = detect({"title": "   ", "description": None}, POLICY)
    assert not d.data and not d.actions and not d.sources


def test_patterns_do_not_cross_fields():
    # "issues" ends the title, "refunds" starts the description: no verb-object across fields
    assert "change_billing" not in found_fields(title="Bot that issues", description="refunds for late orders")
    assert "change_billing" in found_fields(description="Bot that issues refunds for late orders")


def found_fields(**answers) -> set[str]:
    d = detect(answers, POLICY)
    return set(d.actions)


@pytest.mark.parametrize(
    "spec, forms",
    [
        ("issue", {"issue", "issues", "issued", "issuing"}),
        ("apply", {"apply", "applies", "applied", "applying"}),
        ("push", {"push", "pushes", "pushed", "pushing"}),
        ("ship", {"ship", "ships", "shipped", "shipping"}),  # the lemmatiser knows the doubling
        ("deploy", {"deploy", "deploys", "deployed", "deploying"}),
        ("roll out", {"roll out", "rolls out", "rolled out", "rolling out"}),
        ("give", {"give", "gives", "gave", "given", "giving"}),  # irregular forms from the lemmatiser
        ("write off", {"write off", "writes off", "wrote off", "written off", "writing off"}),
        ("lay off", {"lay off", "lays off", "laid off", "laying off"}),
        ("cancel", {"cancel", "cancels", "cancelled", "cancelling", "canceled", "canceling"}),  # both spellings
        ("autograde", {"autograde", "autogrades", "autograded", "autograding"}),  # unknown to it: regular forms
        ("send|sends|sent|sending", {"send", "sends", "sent", "sending"}),  # forms listed by hand stay as listed
    ],
)
def test_verb_inflection(spec, forms):
    assert set(inflect_verb(spec)) == forms


@pytest.mark.parametrize(
    "noun, forms",
    [
        ("policy", {"policy", "policies"}),
        ("child", {"child", "childs", "children"}),  # "childs" never occurs, harmless
        ("customer record", {"customer record", "customer records"}),
    ],
)
def test_noun_forms(noun, forms):
    assert set(noun_forms(noun)) == forms


def test_an_irregular_form_is_read_without_being_listed():
    """The policy lists "take", not "took": the lemmatiser supplies the past tense."""
    assert "change_billing" in found_fields(description="It took the deposit from the tenant's card.")


def test_trie_regex_matches_exactly_its_words():
    import re

    words = ["refund", "refunds", "refunded", "credit note", "charge"]
    rx = re.compile(rf"\b(?:{trie_regex(words)})\b")
    for w in words:
        assert rx.fullmatch(w)
    assert rx.fullmatch("credit   note")
    assert not rx.fullmatch("refun") and not rx.fullmatch("credit")


@pytest.mark.parametrize(
    "pattern, anchors",
    [
        (r"\binvoic(?:e|es)\b", {"invoic"}),
        (r"\b(?:general\s+ledgers?|ledgers?)\b", {"general", "ledger"}),
        (r"\bcustomer\s+x|\bclient", {"customer", "client"}),
        (r"\be?phi\b", None),
        (r"xyz", None),
    ],
)
def test_phrase_anchors(pattern, anchors):
    assert phrase_anchors(pattern) == anchors


def test_an_unanchored_custom_phrase_is_still_found(tmp_path):
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "bot" / "policy.toml").read_text(encoding="utf-8")
    text += '\n[[text_signals.rules]]\nkind = "data"\ncode = "regulated"\nphrases = [\'x?rays?\']\n'
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    desc = {"description": "Reads chest x-rays."}
    assert "regulated" not in detect(desc, POLICY).data
    assert "regulated" in detect(desc, load_policy(path)).data


def test_case_folding_that_changes_length_keeps_fields_apart():
    d = detect({"title": "İİİİ İstanbul office", "description": "It issues the refund."}, POLICY)
    assert d.sources[("actions", "change_billing")] == (("description", "issues the refund"),)


def test_interview_reads_the_area_help_from_the_policy():
    from bot.domain.interview import area_help

    assert area_help(POLICY) == POLICY.use_area_help
