"""The intake interview's questions as data: the answer kinds and text limits, the
`Choice`/`Question`/`Page` records, the plain-language labels of every enum code, why
each follow-up matters, the questions of each page and the page titles. The flow
that chooses and parses pages is `bot.domain.interview`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

from bot.domain.proposal import FIELDS

TEXT: Final = "text"
LONG_TEXT: Final = "long_text"
SINGLE: Final = "single"
MULTI: Final = "multi"
YES_NO: Final = "yes_no"
USER: Final = "user"
KINDS: Final = (TEXT, LONG_TEXT, SINGLE, MULTI, YES_NO, USER)

# Platform limits every renderer relies on (Slack is the strictest).
LABEL_MAX: Final = 48
HELP_MAX: Final = 150
OPTION_MAX: Final = 75
PLACEHOLDER_MAX: Final = 150
PAGE_TITLE_MAX: Final = 24
CHOICE_HELP_MAX: Final = 300  # full sentences for the console; Slack clips option descriptions to 75


@dataclass(frozen=True)
class Choice:
    """One option of a single or multi choice: `value` is the enum code, `label` plain words."""

    value: str
    label: str
    help: str = ""


@dataclass(frozen=True)
class Question:
    """One input. `key` is the proposal key it fills (Slack block_id, Teams input id)."""

    key: str
    label: str
    prompt: str
    help: str
    kind: str  # text | long_text | single | multi | yes_no | user
    choices: tuple[Choice, ...] = ()
    required: bool = False
    max_len: int | None = None
    placeholder: str = ""


@dataclass(frozen=True)
class Page:
    """One screen of the interview (a Slack modal view, a Teams card, a console section)."""

    id: str
    title: str
    questions: tuple[Question, ...]

    def keys(self) -> tuple[str, ...]:
        return tuple(q.key for q in self.questions)


# --------------------------------------------------------------------------- labels

LABELS: Final[dict[str, dict[str, str]]] = {
    "data": {
        "public": "Public information (already published)",
        "internal": "Internal documents, notes and chats",
        "employee": "Employee or HR data (people, pay, performance)",
        "customer": "Customer data (names, contacts, accounts, tickets)",
        "financial": "Financial data (invoices, payments, budgets)",
        "security": "Security data (logs, credentials, incidents)",
        "source_code": "Source code",
        "regulated": "Regulated data (health, credit, legal, children)",
    },
    "actions": {
        "summarize": "Summarises text",
        "draft": "Drafts text for a person to check",
        "format": "Formats or tidies content",
        "research": "Researches or looks things up",
        "analyze": "Analyses data or documents",
        "classify_route": "Classifies, tags or routes items",
        "recommend": "Recommends a decision or next step",
        "send_external": "Sends messages outside the company",
        "update_records": "Updates internal records (tickets, notes)",
        "change_customer_data": "Changes customer records (CRM, accounts)",
        "change_permissions": "Changes access (roles, admin rights, passwords)",
        "change_billing": "Changes billing (refunds, credits, invoices, charges)",
        "change_production": "Changes live systems (deploys, releases, config)",
        "security_decision": "Makes security decisions (block, allow, flag)",
        "publish_public": "Publishes publicly (website, social media, press)",
    },
    "audience": {
        "internal": "Only the person using it",
        "team": "A team that acts on the output",
        "customer": "Customers",
        "public": "The public (anyone)",
    },
    "review": {
        "none": "No human review",
        "spot_check": "A person spot-checks some outputs",
        "every_output": "A person checks every output",
    },
    "autonomy": {
        "draft_only": "Drafts only; a person does the rest",
        "human_approves": "Acts only after a person approves",
        "human_monitors": "Acts on its own; a person monitors",
        "autonomous": "Fully autonomous",
    },
    "stack": {
        "strategy": "Strategy",
        "operating_model": "Operating model (roles, decisions, governance)",
        "processes": "Processes (how work flows)",
        "software": "Software (apps and tools)",
        "data_security": "Data and security",
        "automation": "Automation",
    },
    "capacity": {
        "keep_the_lights_on": "Keeping the lights on (running the business)",
        "incremental": "Incremental improvement",
        "strategic": "Strategic change",
    },
    "use_area": {
        "none": "None of these",
        "biometrics": "Biometrics (identifying or categorising people)",
        "critical_infrastructure": "Critical infrastructure (energy, water, traffic)",
        "education": "Education and training (admission, grading)",
        "employment": "Employment (hiring, promotion, tasks, dismissal)",
        "essential_services": "Essential services (credit, insurance, benefits)",
        "law_enforcement": "Law enforcement",
        "migration": "Migration, asylum and border control",
        "justice_democracy": "Courts, justice and elections",
        "safety_component": "Safety part of a regulated product",
    },
    "prohibited_practices": {
        "manipulation": "Manipulates people's choices in ways that harm them",
        "exploits_vulnerabilities": "Exploits age, disability or hardship",
        "social_scoring": "Scores people's social behaviour (social scoring)",
        "emotion_recognition_work_school": "Reads emotions at work or in school",
        "biometric_categorisation_sensitive": "Infers race, religion, politics etc. from biometrics",
        "face_scraping": "Collects faces from the internet or CCTV",
        "predictive_policing": "Predicts crime from a person's profile",
    },
    "ai_act_role": {
        "provider": "We build it, or sell it under our name (provider)",
        "deployer": "We use an AI system under our authority (deployer)",
    },
}

# Fallback help for each Annex III area, used until/unless the policy file has its own.
_AREA_HELP: Final[dict[str, str]] = {
    "none": "It is not used for any of the purposes below.",
    "biometrics": "Recognises people from face, voice or fingerprints, or sorts them by biometric traits.",
    "critical_infrastructure": "Safety part of running roads, water, gas, heating or electricity, or critical digital systems.",
    "education": "Decides admission, grades learning, assigns people to schools or watches them in tests.",
    "employment": "Recruits, screens CVs, decides promotions or dismissals, allocates tasks or monitors staff.",
    "essential_services": "Decides access to benefits, credit scores, life or health insurance pricing, or emergency calls.",
    "law_enforcement": "Used by or for police: risk of crime, evidence reliability, lie detection, profiling.",
    "migration": "Assesses visa, asylum or residence applications, or risks posed by people at borders.",
    "justice_democracy": "Helps judges research or apply the law, or could influence elections or how people vote.",
    "safety_component": "A safety part of a product under EU safety law (machinery, toys, medical devices, cars, lifts).",
}

# Why each follow-up matters (shown next to the question asked again).
WHY: Final[dict[str, str]] = {
    "owner": "Every workflow needs one accountable person. Without one it cannot go to pilot (stop condition no_owner).",
    "value_metric": "Without a measure nobody can show value; a blank metric blocks the pilot (unmeasurable_success).",
    "exception_path": "Says what happens to cases the AI cannot handle. Readiness counts it; approvers look for it.",
    "escalation_path": "Says who people turn to when it goes wrong. Readiness counts it; approvers look for it.",
    "control_points": "Where a person checks or can stop the work. Readiness counts it; it sets the approval checkpoint.",
    "rollback_path": "How to switch it off and go back to today's process. It goes into the rollout plan.",
    "current_process": "Approvers compare the change with how the work is done today (readiness check: workflow).",
    "expected_output": "Approvers need to know what comes out to judge the risk (readiness check: workflow).",
}
# Asked in the follow-up (and the summary) only when the metric sentence gives no number for them.
WHY["value_baseline"] = (
    "The metric today, as a number in its unit. Check-ins are compared with it; production needs "
    "a check-in at or beyond the target."
)
WHY["value_target"] = (
    "The value that proves it worth it, as a number in the metric's unit. Promotion to production "
    "needs a check-in that meets it."
)
VALUE_QUESTIONS_NOTE: Final = "I could not read this number from your value metric."
FOLLOWUP_KEYS: Final = (
    "owner",
    "value_metric",
    "exception_path",
    "escalation_path",
    "control_points",
    "rollback_path",
    "current_process",
    "expected_output",
)

_PLACEHOLDERS: Final = frozenset(
    {
        "n/a",
        "na",
        "n.a",
        "n.a.",
        "tbd",
        "tbc",
        "t.b.d.",
        "todo",
        "to do",
        "none",
        "no",
        "nothing",
        "nobody",
        "no one",
        "noone",
        "nil",
        "null",
        "unknown",
        "not sure",
        "unsure",
        "idk",
        "dunno",
        "?",
        "??",
        "???",
        "-",
        "--",
        "---",
        ".",
        "...",
        "x",
        "xx",
        "xxx",
        "same",
        "later",
        "tba",
        "not applicable",
        "not yet",
        "don't know",
        "dont know",
        "to be decided",
        "to be confirmed",
        "see above",
        "etc",
        "whatever",
        "someone",
        "somebody",
        "anyone",
        "the team",
        "team",
        "us",
        "me",
    }
)
_MIN_WORDS: Final = 3
_USER_KINDS: Final = {"owner"}


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def label_of(key: str, value: str) -> str:
    """The plain-language label of an enum code (the code itself when unknown)."""
    return LABELS.get(key, {}).get(value, value)


def _choices(key: str, help_texts: dict[str, str] | None = None) -> tuple[Choice, ...]:
    spec = FIELDS[key]
    return tuple(
        Choice(code, LABELS[key][code], _clip((help_texts or {}).get(code, ""), CHOICE_HELP_MAX))
        for code in spec.choices
    )


_YES_NO: Final = (Choice("true", "Yes"), Choice("false", "No"))


def _q(
    key: str,
    label: str,
    prompt: str,
    help: str,
    kind: str,
    *,
    placeholder: str = "",
    choices: tuple[Choice, ...] | None = None,
) -> Question:
    spec = FIELDS[key]
    if choices is None:
        choices = _YES_NO if kind == YES_NO else (_choices(key) if kind in (SINGLE, MULTI) else ())
    return Question(key, label, prompt, help, kind, choices, spec.required, spec.max_len, placeholder)


# --------------------------------------------------------------------------- questions

_BASICS: Final = (
    _q(
        "title",
        "Title",
        "What should we call this workflow?",
        "A short name people will recognise. At most 120 characters.",
        TEXT,
        placeholder="Draft replies to support tickets",
    ),
    _q(
        "department",
        "Department",
        "Which department runs it?",
        "The team that does this work today, e.g. Support, Finance, HR.",
        TEXT,
        placeholder="Support",
    ),
    _q(
        "description",
        "What the AI does",
        "What will the AI do, step by step?",
        "Plain words: what goes in, what the AI does with it, what comes out and where it goes.",
        LONG_TEXT,
        placeholder="Reads each new ticket and drafts a reply for the agent to edit and send",
    ),
    _q(
        "current_process",
        "How it is done today",
        "How is this work done today, without AI?",
        "Who does it, how long it takes, how often. Approvers compare the change with this.",
        LONG_TEXT,
    ),
    _q(
        "expected_output",
        "Expected output",
        "What should the AI produce?",
        "E.g. a draft reply in the ticket, a weekly summary email, a tag on each invoice.",
        LONG_TEXT,
    ),
    _q(
        "owner",
        "Workflow owner",
        "Who is the one person accountable for this workflow?",
        "One person (not a team) who answers for it, approves first and reports its value.",
        USER,
    ),
    _q(
        "value_metric",
        "Value metric",
        "How will we know it is worth it?",
        "A measure with a baseline and a target, e.g. 'handling time from 12 to 6 minutes per ticket'.",
        TEXT,
        placeholder="Handling time from 12 to 6 minutes per ticket",
    ),
    _q(
        "capacity",
        "Kind of work",
        "Is this running the business, improving it or changing it?",
        "Which of the three kinds of capacity the work spends; the portfolio shows the mix.",
        SINGLE,
    ),
    _q(
        "stack",
        "Area of change",
        "Which part of the organisation does it mostly change?",
        "The transformation stack the work belongs to.",
        SINGLE,
    ),
)

_DATA_ACTIONS: Final = (
    _q(
        "data",
        "Data it uses",
        "What data will it read or use?",
        "Tick every kind that applies, even if only now and then.",
        MULTI,
    ),
    _q(
        "actions",
        "What it does",
        "What will the AI itself do?",
        "Tick every action it takes on its own, not what people later do with its output.",
        MULTI,
    ),
    _q(
        "audience",
        "Who sees the output",
        "Who sees or relies on its output?",
        "Customer-facing and public output needs more care.",
        SINGLE,
    ),
    _q(
        "review",
        "Human review",
        "Does a person check the output before it is used?",
        "Review is the main safeguard while a workflow is new.",
        SINGLE,
    ),
    _q(
        "autonomy",
        "Autonomy",
        "How much will it act on its own?",
        "Start with drafts and remove one checkpoint at a time.",
        SINGLE,
    ),
    _q(
        "failure_visible",
        "Would a failure show?",
        "If it gets something wrong, would the customer or team notice?",
        "Silent failures are the dangerous ones: 'No' blocks the pilot until there is a check.",
        YES_NO,
    ),
    _q(
        "vendor",
        "AI vendor",
        "Who supplies the AI?",
        "The company behind the model or product, e.g. OpenAI, Anthropic, Microsoft; 'in-house' if we built it.",
        TEXT,
        placeholder="OpenAI",
    ),
    _q(
        "model",
        "Model or product",
        "Which model or product does it use?",
        "E.g. gpt-4.1, Claude Sonnet, Microsoft Copilot. The portfolio counts workflows per vendor.",
        TEXT,
        placeholder="gpt-4.1",
    ),
)

_CONTROLS: Final = (
    _q(
        "exception_path",
        "Exceptions",
        "What happens when the AI cannot handle a case?",
        "E.g. 'it leaves the ticket untagged and it goes to the normal queue'.",
        LONG_TEXT,
    ),
    _q(
        "escalation_path",
        "Escalation",
        "Who do people turn to when something goes wrong?",
        "A named role or channel, e.g. 'support lead on call, then #support-escalations'.",
        LONG_TEXT,
    ),
    _q(
        "control_points",
        "Control points",
        "Where does a person check the work or stop it?",
        "E.g. 'the agent approves every reply; QA reviews 20 samples a week'.",
        LONG_TEXT,
    ),
    _q(
        "rollback_path",
        "Rollback",
        "How do we switch it off and go back to today's process?",
        "E.g. 'turn off the integration; agents answer manually as today'.",
        LONG_TEXT,
    ),
    _q(
        "downstream",
        "Hands work to",
        "Which other departments receive its output or its exceptions?",
        "Comma-separated, e.g. 'Finance, Legal'. Each one's department lead is asked to approve.",
        TEXT,
        placeholder="Finance, Legal",
    ),
)

_VALUE: Final = (
    _q(
        "value_baseline",
        "Baseline today",
        "What is the metric today, as a number?",
        "A number in the metric's unit, e.g. 12 for '12 minutes per ticket'.",
        TEXT,
        placeholder="12",
    ),
    _q(
        "value_target",
        "Target",
        "What value proves it worth it, as a number?",
        "A number in the metric's unit, e.g. 6 for '6 minutes per ticket'. Production needs a check-in that meets it.",
        TEXT,
        placeholder="6",
    ),
)

KNOWN_SHOWN: Final = 6  # known values named in a question's help


def with_known(question: Question, known: Sequence[str]) -> Question:
    """The question with the values the portfolio already knows named in its help (the
    most used first), so teams spell a vendor or a department the same way."""
    names = [k for k in known if k][:KNOWN_SHOWN]
    if not names:
        return question
    help_ = _clip(f"Already in use: {', '.join(names)}. {question.help}", HELP_MAX)
    return replace(question, help=help_, placeholder=_clip(names[0], PLACEHOLDER_MAX))


_Q_INTERACTS: Final = _q(
    "interacts_with_people",
    "Do people talk to it?",
    "Will people talk to it, or read its output as if a person wrote it?",
    "If yes, the EU AI Act says people must be told they are dealing with an AI.",
    YES_NO,
)
_Q_GENERATES: Final = _q(
    "generates_content",
    "Does it make content?",
    "Does it produce text, images, audio or video that others will see?",
    "If yes, generated content may have to be labelled as AI-made.",
    YES_NO,
)
_Q_PROFILES: Final = _q(
    "profiles_people",
    "Does it score people?",
    "Does it score, rank or profile individual people?",
    "E.g. ranking job applicants, rating creditworthiness, predicting which customer will leave.",
    YES_NO,
)
_Q_ROLE: Final = _q(
    "ai_act_role",
    "Our role",
    "Do we build this AI system, or use one that others made?",
    "Providers carry more duties under the EU AI Act than deployers. Most teams are deployers.",
    SINGLE,
)
_Q_NARROW: Final = _q(
    "narrow_procedural_task",
    "Only a narrow task?",
    "Is it only a narrow or preparatory task that does not replace a person's assessment?",
    "E.g. sorting CVs into folders for a recruiter who reads them all. Then it may not count as high-risk.",
    YES_NO,
)
_Q_PROHIBITED: Final = _q(
    "prohibited_practices",
    "Banned practices",
    "Does it do any of these? Leave all unticked if none applies.",
    "These practices are banned in the EU. Any tick stops the proposal; no override lifts it.",
    MULTI,
)

PAGE_ORDER: Final = ("basics", "data_actions", "controls", "regulatory", "regulatory_detail")
PAGE_TITLES: Final = {
    "basics": "Basics",
    "data_actions": "Data and actions",
    "controls": "Controls",
    "regulatory": "EU AI Act",
    "regulatory_detail": "EU AI Act: details",
    "followup": "Before you submit",
}
ALL_KEYS: Final = tuple(FIELDS)

# Intake in one paragraph (`bot.domain.intake`): the first step of a new interview, and
# the one summary to confirm after a paragraph was read or when a proposal is edited.
PARAGRAPH: Final = "paragraph"  # Slack block_id and Teams input id of "Describe it in your own words"
PARAGRAPH_TITLE: Final = "Describe it"
SUMMARY: Final = "summary"
SUMMARY_TITLE: Final = "Check your proposal"
PARAGRAPH_QUESTION: Final = Question(
    PARAGRAPH,
    "Describe it in your own words",
    "Describe it in your own words",
    "What the AI will do, with which data, for whom, who checks it, how you would stop it and how "
    "you will know it works. I will fill in what I can. Leave it empty to answer question by question.",
    LONG_TEXT,
    max_len=4000,
    placeholder="Each morning the AI reads new support tickets and drafts a reply that the agent edits and sends…",
)

_PEOPLE_FACING: Final = frozenset({"customer", "public"})
_SENSITIVE_DATA: Final = frozenset({"employee", "customer", "regulated"})
_PROFILING_ACTIONS: Final = frozenset({"classify_route", "recommend"})
