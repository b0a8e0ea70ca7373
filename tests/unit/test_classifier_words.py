"""The words count too (DESIGN.md "Regulatory mapping"): what the free text raises in
the regulatory answers, what it must not raise, that it never lowers a declared answer,
that every raise is named with its words in the tier's basis, and `eu_ai_act.answered`.
Also the misreads of actions and data classes that issue 12 names."""

from __future__ import annotations

import pytest

from bot.domain import proposal
from bot.domain.classifier import classify, detect
from bot.domain.policy_file import load_policy
from bot.domain.regulatory import effective_answers

POLICY = load_policy()
KEYS = ("use_area", "prohibited_practices", "profiles_people", "interacts_with_people", "generates_content")
PLAIN = {"use_area": "none", "prohibited_practices": [], "profiles_people": False, "interacts_with_people": False,
         "generates_content": False}  # fmt: skip


def read(description: str, **declared: object) -> dict[str, object]:
    """The effective regulatory answers the classifier judges a proposal on."""
    answers = proposal.normalise({"title": "Assistant", "description": description, **declared})
    judged, _ = effective_answers(answers, detect(answers, POLICY).sources, POLICY)
    return {k: judged[k] for k in KEYS}


def eu(**answers: object) -> dict:
    return classify({"title": "Assistant", **answers}, POLICY)["regulatory"]["eu_ai_act"]


# --------------------------------------------------------------------------- raises


@pytest.mark.parametrize(
    "text, raised",
    [
        # Annex III point 4: recruiting, promotion and termination, task allocation, monitoring
        (
            "Scores job applicants and ranks them for the recruiter.",
            {"use_area": "employment", "profiles_people": True},
        ),
        ("Shortlists candidates from the CVs we receive.", {"use_area": "employment", "profiles_people": True}),
        ("Suggests which people to put at risk of redundancy.", {"use_area": "employment", "profiles_people": True}),
        (
            "Allocates shifts and tracks each worker's productivity.",
            {"use_area": "employment", "profiles_people": True},
        ),
        ("Ranks our sales reps every week by revenue.", {"use_area": "employment", "profiles_people": True}),
        # point 3: admission, grading, proctoring
        ("Grades students' essays.", {"use_area": "education"}),
        ("Detects cheating in online exams.", {"use_area": "education"}),
        (
            "Recommends which applicants to admit to the MSc programme.",
            {"use_area": "education", "profiles_people": True},
        ),
        # point 5: credit, life and health insurance, public benefits, emergency calls
        ("Decides who is creditworthy.", {"use_area": "essential_services", "profiles_people": True}),
        ("Prices life or health insurance.", {"use_area": "essential_services"}),
        ("Assesses claims for public benefits.", {"use_area": "essential_services"}),
        ("Classifies emergency calls and dispatches ambulances.", {"use_area": "essential_services"}),
        # point 2, point 1, points 6-8, Art. 6(1)
        ("Adjusts dosing valves at the water treatment plant.", {"use_area": "critical_infrastructure"}),
        ("Controls the timing of the traffic lights on the ring road.", {"use_area": "critical_infrastructure"}),
        ("Identifies people by matching faces.", {"use_area": "biometrics"}),
        ("Assesses the risk of reoffending for the probation service.", {"use_area": "law_enforcement"}),
        ("Assesses visa applications for risk.", {"use_area": "migration"}),
        ("Helps judges draft rulings.", {"use_area": "justice_democracy"}),
        ("Safety component of the emergency braking system.", {"use_area": "safety_component"}),
        # Art. 5 practices
        (
            "Detects employees' emotions from their webcams.",
            {"use_area": "biometrics", "prohibited_practices": ["emotion_recognition_work_school"]},
        ),
        (
            "Trustworthiness score for residents used to decide access to housing.",
            {"prohibited_practices": ["social_scoring"], "profiles_people": True},
        ),
        (
            "Scrapes face images from the internet to build a face recognition database.",
            {"use_area": "biometrics", "prohibited_practices": ["face_scraping"]},
        ),
        (
            "Infers sexual orientation or religion from photos.",
            {"use_area": "biometrics", "prohibited_practices": ["biometric_categorisation_sensitive"]},
        ),
        ("Uses subliminal cues to push users into buying.", {"prohibited_practices": ["manipulation"]}),
        (
            "Targets problem gamblers with free bet offers to keep them playing.",
            {"prohibited_practices": ["exploits_vulnerabilities"]},
        ),
        (
            "Predicts which residents will commit crimes based on their personality.",
            {"prohibited_practices": ["predictive_policing"], "profiles_people": True},
        ),
        # Art. 50 triggers
        ("A chatbot that answers visitors' questions.", {"interacts_with_people": True}),
        ("Customers message us on WhatsApp and the assistant replies directly.", {"interacts_with_people": True}),
        ("Writes blog posts.", {"generates_content": True}),
        ("Posts updates.", {"generates_content": True}),
        ("Creates product images for the online shop.", {"generates_content": True}),
        ("Produces voice-overs with a synthetic voice of our CEO.", {"generates_content": True}),
        # wider wording: occupations, utilities, cameras, borders, vulnerable groups, channels
        ("Screens nurses applying for agency shifts.", {"use_area": "employment", "profiles_people": True}),
        ("Sets the water pressure across our distribution zones at night.", {"use_area": "critical_infrastructure"}),
        (
            "Opens or closes the floodgates on the river from rainfall forecasts.",
            {"use_area": "critical_infrastructure"},
        ),
        ("Recognises regular guests from the lobby cameras.", {"use_area": "biometrics"}),
        (
            "Flags passengers with unusual travel patterns for border officers.",
            {"use_area": "migration", "profiles_people": True},
        ),
        (
            "Reports which employees sounded frustrated in team meetings.",
            {
                "use_area": "biometrics",
                "prohibited_practices": ["emotion_recognition_work_school"],
                "profiles_people": True,
            },
        ),
        (
            "Rates citizens on loyalty and lets high scorers skip the housing queue.",
            {"prohibited_practices": ["social_scoring"], "profiles_people": True},
        ),
        (
            "Collects photos of people from dating sites for our facial recognition dataset.",
            {"use_area": "biometrics", "prohibited_practices": ["face_scraping"]},
        ),
        (
            "Sorts visitors into ethnic groups from the entrance cameras.",
            {"use_area": "biometrics", "prohibited_practices": ["biometric_categorisation_sensitive"]},
        ),
        (
            "Shows gambling ads to teenagers when they are most impulsive.",
            {"prohibited_practices": ["exploits_vulnerabilities", "manipulation"]},
        ),
        (
            "Predicts which residents will commit fraud from a personality test.",
            {"prohibited_practices": ["predictive_policing"], "profiles_people": True},
        ),
        ("A booking assistant on WhatsApp takes table reservations.", {"interacts_with_people": True}),
        ("Narrates our audiobooks with an AI voice.", {"generates_content": True}),
        (
            "An AI voice agent tells callers our opening times.",
            {"interacts_with_people": True},
        ),  # talks, makes no content
    ],
)
def test_the_words_raise_the_regulatory_answers(text, raised):
    assert read(text) == {**PLAIN, **raised}


@pytest.mark.parametrize(
    "text",
    [
        "Summarises an employee survey into themes.",  # employee data, but it profiles nobody
        "Summarises the free-text comments from our staff engagement survey into themes for leadership.",
        "Ranks support tickets by urgency.",  # things, not people
        "Analyses the sentiment of customer product reviews.",  # text, not faces or voices
        "Flags card transactions that look fraudulent.",  # fraud detection is not credit scoring
        "Calculates home and contents insurance quotes.",  # not life or health insurance
        "Summarises the daily shift reports from the water treatment plant.",  # reads, does not operate
        "Lets staff unlock the warehouse tablets with face verification.",  # verification, not identification
        "Detects signs of drowsiness from the in-cab camera and tells the driver to take a break.",
        "Maps burglary hotspots by neighbourhood to plan patrols.",  # places, not people
        "Finds relevant case law for our in-house lawyers.",  # not for a court
        "Formats the council's official election results into tables.",
        "Summarises chat transcripts with customers for the weekly review.",  # no one talks to it
        "Suggests a reply to each support ticket that the agent edits and sends.",
        "Summarises Teams meeting recordings into action items.",
        "Collects list prices from public sites of our competitors.",
        "Spots anomalies in the electricity meter readings of our offices.",  # reads, does not operate
        "Suggests the next best action for agents on live chats with customers.",
    ],
)
def test_plain_wording_raises_nothing(text):
    assert read(text) == PLAIN


def test_one_use_area_the_first_in_the_policy_order():
    # biometrics (point 1) comes before employment (point 4)
    text = "Reads candidates' facial expressions in video interviews and ranks the candidates."
    assert read(text)["use_area"] == "biometrics"


def test_a_practice_at_work_needs_the_workplace_in_the_same_sentence():
    assert (
        read("Detects frustration in callers' voices and routes them to a senior agent.")["prohibited_practices"] == []
    )


# --------------------------------------------------------------------------- never lowered


@pytest.mark.parametrize(
    "declared, text, expected",
    [
        (
            {"use_area": "education"},
            "Ranks job applicants for the teaching roles.",
            {"use_area": "education", "profiles_people": True},
        ),
        ({"use_area": "employment"}, "Summarises interview notes.", {"use_area": "employment"}),
        ({"interacts_with_people": True}, "Summarises reports.", {"interacts_with_people": True}),
        ({"generates_content": True}, "Summarises reports.", {"generates_content": True}),
        ({"profiles_people": True}, "Summarises reports.", {"profiles_people": True}),
        ({"prohibited_practices": ["manipulation"]}, "Summarises reports.", {"prohibited_practices": ["manipulation"]}),
        (
            {"prohibited_practices": ["manipulation"]},
            "Detects stress in employees' voices on calls.",
            {"use_area": "biometrics", "prohibited_practices": ["emotion_recognition_work_school", "manipulation"]},
        ),
        ({"interacts_with_people": False}, "A chatbot for our tenants.", {"interacts_with_people": True}),
        ({"use_area": "none"}, "Grades the certification exams.", {"use_area": "education"}),
    ],
)
def test_a_declared_answer_is_kept_and_only_raised(declared, text, expected):
    assert read(text, **declared) == {**PLAIN, **expected}


def test_the_words_never_set_the_narrow_task_exception():
    out = eu(description="Ranks candidates for the recruiter.", use_area="employment", narrow_procedural_task=True)
    assert out["tier"] == "high"


def test_a_narrow_task_declared_with_plain_words_keeps_the_exception():
    out = eu(description="Books interview slots in calendars.", use_area="employment", narrow_procedural_task=True)
    assert out["tier"] == "minimal"


# --------------------------------------------------------------------------- the basis names the words


def test_the_issue_example_scoring_applicants_is_high_with_its_words():
    out = classify({"title": "Applicant ranking", "description": "Scores job applicants and ranks them."}, POLICY)
    assert out["regulatory"]["eu_ai_act"]["basis"] == [
        "Art. 6(2) and Annex III point 4 (Employment and workers management); it profiles people, so the Art. 6(3) "
        "exception cannot apply (from the words: use_area employment from title: 'Applicant ranking'; description: "
        "'Scores job applicants'; profiles_people from description: 'Scores job applicants')"
    ]


def test_the_issue_example_scoring_applicants_raises_the_risk_and_routes_to_legal():
    out = classify({"title": "Applicant ranking", "description": "Scores job applicants and ranks them."}, POLICY)
    assert (out["risk_level"], out["approver_roles"]) == ("high", ["department_lead", "governance", "legal", "owner"])


def test_the_issue_example_voice_stress_is_prohibited_with_its_words():
    out = eu(description="Analyses agents' voices for stress and anger and feeds a performance score.")
    assert out["basis"] == [
        "Art. 5(1): prohibited practice (Art. 5(1)(f) emotion recognition at work or school) (from the words: "
        "prohibited_practices emotion_recognition_work_school from description: 'stress … voices … agents')",
        "Art. 6(2) and Annex III point 1 (Biometrics) (from the words: use_area biometrics from description: "
        "'stress … voices')",
    ]


def test_a_prohibited_practice_from_the_words_is_a_stop_condition_no_override_lifts():
    out = classify({"title": "Agent QA", "description": "Detects employees' emotions from their webcams."}, POLICY)
    assert "prohibited_practice" in out["stop_conditions"]


def test_a_transparency_trigger_from_the_words_names_them():
    assert eu(description="A chatbot that answers visitors' questions.")["basis"] == [
        "Art. 50(1): people interact with it directly (from the words: interacts_with_people from description: "
        "'answers visitors' questions')"
    ]


def test_a_declared_answer_carries_no_words():
    assert eu(description="Grades students' essays.", use_area="education")["basis"] == [
        "Art. 6(2) and Annex III point 3 (Education and vocational training)"
    ]


def test_nothing_raised_keeps_the_default_basis():
    assert eu(description="Summarises meeting notes.")["basis"] == [POLICY.eu_ai_act.default_basis]


def test_the_effective_use_area_drives_the_duties():
    duties = eu(description="Scores job applicants and ranks them.")["duties"]
    assert (
        "Inform workers' representatives and affected workers before using it at the workplace (Art. 26(7))" in duties
    )


# --------------------------------------------------------------------------- answered


@pytest.mark.parametrize(
    "answers, answered",
    [
        ({}, False),
        ({"use_area": "none"}, True),
        ({"interacts_with_people": False}, True),
        ({"prohibited_practices": []}, True),
        ({"ai_act_role": "deployer"}, True),
        ({"use_area": None, "profiles_people": None}, False),
        ({"description": "Scores job applicants."}, False),  # raised by the words, still unanswered
    ],
)
def test_answered_is_whether_anyone_gave_a_regulatory_answer(answers, answered):
    assert eu(**answers)["answered"] is answered


def test_a_validated_inventory_row_is_unanswered():
    row = proposal.validate_proposal({"title": "CV ranking", "description": "Ranks applicants for open roles."})
    assert classify(row, POLICY)["regulatory"]["eu_ai_act"]["answered"] is False


# --------------------------------------------------------------------------- misreads of actions and data


def effective(description: str, **fields: str) -> dict[str, list[str]]:
    return classify({"title": "Assistant", "description": description, **fields}, POLICY)["effective"]


@pytest.mark.parametrize(
    "text, expected",
    [
        # a verb decides an action, not a noun
        ("Collects list prices from public sites.", {"data": [], "actions": []}),
        ("Gathers the rates other agencies publish for contract developers.", {"data": [], "actions": []}),
        ("Drafts text that people edit and publish.", {"data": [], "actions": []}),
        ("Drafts blog posts for the marketing team to edit and publish on our website.", {"data": [], "actions": []}),
        ("Summarises staff survey comments into themes.", {"data": ["employee"], "actions": []}),
        ("Answers agents' questions about the refund policy.", {"data": [], "actions": []}),
        # the misses
        (
            "Updates the delivery address in Salesforce when a customer asks.",
            {"data": ["customer"], "actions": ["change_customer_data"]},
        ),
        ("Changes a contact's phone number in HubSpot.", {"data": ["customer"], "actions": ["change_customer_data"]}),
        ("Grants a discount of up to 10% on renewals.", {"data": ["financial"], "actions": ["change_billing"]}),
        ("Sends the customer a 5 EUR voucher.", {"data": ["customer"], "actions": ["change_billing", "send_external"]}),
        ("Applies a price override at the till.", {"data": [], "actions": ["change_billing"]}),
        ("Closes low-severity security alerts.", {"data": ["security"], "actions": ["security_decision"]}),
        ("Suppresses duplicate EDR alerts.", {"data": ["security"], "actions": ["security_decision"]}),
        ("Dismisses alerts from known admin tools.", {"data": [], "actions": ["security_decision"]}),
        ("Posts a weekly update on our public Discord channel.", {"data": [], "actions": ["publish_public"]}),
        ("Posts our news on the company Twitter account.", {"data": [], "actions": ["publish_public"]}),
        ("Turns call notes with customers into next steps.", {"data": ["customer"], "actions": []}),
        ("Reads the contents of Zendesk tickets.", {"data": ["customer"], "actions": []}),
        ("Summarises chat transcripts.", {"data": ["customer"], "actions": []}),
        # wider wording: coordinated verbs, amounts in the gap, compounds, pages, false positives
        ("Approves or rejects access requests for the finance share.", {"data": [], "actions": ["change_permissions"]}),
        ("Gives a 10% voucher to shoppers whose parcel arrived late.", {"data": [], "actions": ["change_billing"]}),
        ("Decides the credit limit for credit card customers.", {"data": ["financial", "regulated"], "actions": []}),
        (
            "Changes the billing address on the customer's account.",
            {"data": ["customer", "financial"], "actions": ["change_customer_data"]},
        ),
        ("Posts the weekly offers on our Facebook page.", {"data": [], "actions": ["publish_public"]}),
        ("Marks phishing reports as false positives.", {"data": ["security"], "actions": ["security_decision"]}),
        ("Rolls back the latest release when errors spike.", {"data": [], "actions": ["change_production"]}),
        (
            "Cancels orders that fail the fraud check and refunds the card.",
            {"data": ["financial"], "actions": ["change_billing", "update_records"]},
        ),
    ],
)
def test_actions_and_data_read_from_the_words(text, expected):
    assert effective(text) == expected


def test_a_person_doing_it_today_is_still_the_workflow_to_take_over():
    # in the current process people do the work the AI would take over
    assert effective("Summarises orders.", current_process="The team publishes the offers on our website.") == {
        "data": [],
        "actions": ["publish_public"],
    }


def test_the_misread_price_collection_stays_low_risk_without_finance():
    out = classify({"title": "Competitor prices", "description": "Collects list prices from public sites."}, POLICY)
    assert (out["risk_level"], out["approver_roles"], out["stop_conditions"]) == (
        "low",
        ["governance", "owner"],  # governance for the stop conditions; no finance
        ["no_owner", "unmeasurable_success"],
    )


def test_a_raise_that_changes_no_tier_is_still_shown_with_its_words():
    assert eu(description="Scores churn risk for each customer.")["basis"] == [
        "Also read from the words, without changing the tier: profiles_people from description: "
        "'risk for each customer'",
        POLICY.eu_ai_act.default_basis,
    ]
