"""Intake in one paragraph, measured: how many questions a requester still answers and
how often they correct what was pre-filled, with an LLM reading well (the local
OpenAI stub answering each paragraph's labelled answers), with an LLM that also invents
an ungrounded answer and gets one grounded answer wrong, and with the lexicon alone.

Each case is a paragraph with the answers its requester means (`TRUTH`; the words each
came from, or None when the paragraph does not say it). A simulated requester opens the
summary through the real core, corrects every pre-filled answer that differs from the
truth, answers every question still asked, and submits; the figures come from the
`extractions` table (`Govbot.intake_stats`), as the portfolio would read them.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from tests.support.intake_data import GOOD, PARAGRAPH

Answer = tuple[Any, str | None]

# What a requester adds when asked (the paragraph does not say these).
ASKED_DEFAULTS: dict[str, Any] = {
    "owner": "U_OWNER",
    "capacity": "incremental",
    "stack": "processes",
    "use_area": "none",
    "ai_act_role": "deployer",
    "failure_visible": True,
    "interacts_with_people": False,
    "generates_content": False,
    "profiles_people": False,
    "narrow_procedural_task": False,
    "prohibited_practices": [],
}

CASES: dict[str, tuple[str, dict[str, Answer]]] = {
    "refunds": (PARAGRAPH, {**GOOD, "actions": (["change_billing", "draft", "send_external"], GOOD["actions"][1])}),
    "cv_ranking": (
        "CV screening helper for HR. The AI reads each application for an opening and ranks applicants so "
        "recruiters see the strongest first. Today recruiters read every CV by hand, about 40 applications a "
        "week for each opening. The output is a ranked shortlist in the applicant tracking system. A recruiter "
        "reviews every shortlist before anyone is contacted, and the AI only drafts the ranking. A bad ranking "
        "would be noticed by the recruiters. If a CV cannot be parsed it goes to the recruiter unranked. "
        "Problems go to the head of talent, then the HR director. Recruiters confirm every shortlist and HR "
        "audits a sample each month. To roll back we turn the ranking off and recruiters sort by hand. Success "
        "is time to shortlist from 5 days to 2 days.",
        {
            "title": ("CV screening helper", "CV screening helper"),
            "department": ("HR", "for HR"),
            "current_process": ("Recruiters read every CV by hand.", "recruiters read every CV by hand"),
            "expected_output": ("A ranked shortlist in the applicant tracking system.", "a ranked shortlist"),
            "data": (["employee"], "reads each application"),
            "actions": (["classify_route", "recommend"], "ranks applicants"),
            "audience": ("team", "recruiters see the strongest first"),
            "review": ("every_output", "A recruiter reviews every shortlist"),
            "autonomy": ("draft_only", "the AI only drafts the ranking"),
            "failure_visible": (True, "would be noticed by the recruiters"),
            "exception_path": ("Unparsed CVs go to the recruiter unranked.", "goes to the recruiter unranked"),
            "escalation_path": (
                "The head of talent, then the HR director.",
                "the head of talent, then the HR director",
            ),
            "control_points": (
                "Recruiters confirm every shortlist; HR audits a sample each month.",
                "Recruiters confirm every shortlist and HR audits a sample each month",
            ),
            "rollback_path": ("Turn the ranking off; recruiters sort by hand.", "turn the ranking off"),
            "value_metric": ("Time to shortlist from 5 days to 2 days", "time to shortlist from 5 days to 2 days"),
            "use_area": ("employment", "ranks applicants"),
            "profiles_people": (True, "ranks applicants"),
            "capacity": ("incremental", None),
            "stack": ("processes", None),
        },
    ),
    "themes_digest": (
        "Weekly support themes digest for Support. Every Friday the AI summarises last week's tickets into the "
        "top five themes for the team meeting. Today a team lead skims about 200 tickets by hand, which takes 3 "
        "hours. The output is a one-page internal summary posted in the team channel. The lead reads every "
        "summary before it is shared and the AI only drafts. A wrong summary would be noticed by the team. "
        "Tickets it cannot group are listed at the end for the lead. Problems go to the support department "
        "lead, then the head of support. The lead reads every summary and can stop the job at any time. To roll "
        "back we stop the weekly job and the lead writes notes by hand. Success is Friday notes from 3 hours to "
        "30 minutes.",
        {
            "title": ("Weekly support themes digest", "Weekly support themes digest"),
            "department": ("Support", "for Support"),
            "current_process": ("A team lead skims about 200 tickets by hand.", "a team lead skims about 200 tickets"),
            "expected_output": ("A one-page internal summary in the team channel.", "a one-page internal summary"),
            "data": (["internal"], "last week's tickets"),
            "actions": (["summarize"], "summarises last week's tickets"),
            "audience": ("team", "for the team meeting"),
            "review": ("every_output", "The lead reads every summary before it is shared"),
            "autonomy": ("draft_only", "the AI only drafts"),
            "failure_visible": (True, "would be noticed by the team"),
            "exception_path": ("Tickets it cannot group are listed for the lead.", "listed at the end for the lead"),
            "escalation_path": (
                "The support department lead, then the head of support.",
                "the support department lead",
            ),
            "control_points": ("The lead reads every summary and can stop the job.", "can stop the job at any time"),
            "rollback_path": ("Stop the weekly job; the lead writes notes by hand.", "stop the weekly job"),
            "value_metric": ("Friday notes from 3 hours to 30 minutes", "Friday notes from 3 hours to 30 minutes"),
            "capacity": ("keep_the_lights_on", None),
        },
    ),
    "deploys": (
        "Release notes and deploy assistant for Engineering. After each merge the AI drafts the release notes "
        "from the source code changes and deploys to production when the tests pass. Today an engineer writes "
        "the notes and runs the deploy by hand, about an hour per release. The output is release notes in the "
        "wiki and a deployed build. An engineer spot-checks some of the notes, and the AI acts on its own while "
        "the team monitors it. A failed deploy would be noticed by customers. Builds it cannot deploy stay in "
        "the queue for an engineer. Problems go to the engineer on call, then #eng-incidents. Every deploy is "
        "logged and the on-call engineer can stop the pipeline. To roll back we redeploy the previous build and "
        "turn the assistant off. Success is release time from 60 minutes to 10 minutes.",
        {
            "title": ("Release notes and deploy assistant", "Release notes and deploy assistant"),
            "department": ("Engineering", "for Engineering"),
            "current_process": ("An engineer writes the notes and deploys by hand.", "an engineer writes the notes"),
            "expected_output": ("Release notes in the wiki and a deployed build.", "release notes in the wiki"),
            "data": (["source_code"], "the source code changes"),
            "actions": (["change_production", "draft"], "drafts the release notes … deploys to production"),
            "audience": ("team", "the team monitors it"),
            "review": ("spot_check", "spot-checks some of the notes"),
            "autonomy": ("human_monitors", "acts on its own while the team monitors it"),
            "failure_visible": (True, "would be noticed by customers"),
            "exception_path": ("Builds it cannot deploy stay queued for an engineer.", "stay in the queue"),
            "escalation_path": (
                "The engineer on call, then #eng-incidents.",
                "the engineer on call, then #eng-incidents",
            ),
            "control_points": ("Every deploy is logged; on-call can stop the pipeline.", "can stop the pipeline"),
            "rollback_path": ("Redeploy the previous build; turn the assistant off.", "redeploy the previous build"),
            "value_metric": ("Release time from 60 to 10 minutes", "release time from 60 minutes to 10 minutes"),
            "stack": ("automation", None),
        },
    ),
}


def good_reply(truth: dict[str, Answer]) -> str:
    """What an LLM reading well answers: every answer the paragraph gives, with its words."""
    said = {k: v for k, v in truth.items() if v[1] is not None}
    return json.dumps({"answers": {k: v[0] for k, v in said.items()}, "evidence": {k: v[1] for k, v in said.items()}})


def noisy_reply(truth: dict[str, Answer]) -> str:
    """A weaker reader: it also invents an owner from words not in the paragraph, and
    gets the review grounded but wrong."""
    reply = json.loads(good_reply(truth))
    reply["answers"]["owner"] = "U_GUESS"
    reply["evidence"]["owner"] = "owned by the operations manager"
    wrong = "none" if truth.get("review", ("", None))[0] != "none" else "every_output"
    reply["answers"]["review"] = wrong
    reply["evidence"]["review"] = reply["evidence"].get("review") or reply["evidence"]["title"]
    return json.dumps(reply)


def requester(core: Any, user: str, truth: dict[str, Answer], start: Any) -> dict[str, Any]:
    """Walk the interview as the requester would: correct what differs, answer what is asked."""
    from bot.domain import intake, interview

    flow = core.interview_flow()
    answers = dict(start.seed)
    mean = {k: v[0] for k, v in truth.items()}
    step: interview.Step | None = flow.start(answers)
    while step is not None:
        for q in step.page.questions:
            if q.key == "description":
                continue
            wanted = mean.get(q.key, ASKED_DEFAULTS.get(q.key))
            if wanted is not None and answers.get(q.key) != wanted:
                answers[q.key] = wanted
            answers.setdefault(q.key, None)
        step = flow.after(step.page.id, answers)
    core.submit(user, "console", interview.to_proposal(answers))
    return intake.state(answers) or {}


def run(log: Any = print) -> dict[str, Any]:
    """Read every case with each extractor and report the stored figures."""
    from bot.app import build_core
    from bot.clock import FixedClock
    from bot.settings import Settings
    from store.db import upgrade
    from tests.support.clock import T0
    from tests.support.openai_stub import OpenAIStub, Reply

    out: dict[str, Any] = {"cases": len(CASES)}
    with tempfile.TemporaryDirectory(prefix="govbot-bench-intake-") as tmp, OpenAIStub() as stub:
        for name, llm, reply in (
            ("llm_good", True, good_reply),
            ("llm_noisy", True, noisy_reply),
            ("lexicon", False, None),
        ):
            url = f"sqlite:///{Path(tmp) / (name + '.sqlite3')}"
            upgrade(url)
            extra = (
                {
                    "openai_api_key": "sk-bench",
                    "openai_base_url": stub.base_url,
                    "llm_model": "stub",
                    "llm_max_retries": 0,
                }
                if llm
                else {}
            )
            settings = Settings(database_url=url, governance="UGOV", _env_file=None, **extra)  # type: ignore[arg-type]
            core = build_core(settings, clock=FixedClock(T0))
            left: list[int] = []
            for i, (case, (paragraph, truth)) in enumerate(CASES.items()):
                if reply is not None:
                    stub.script(Reply(reply(truth)))
                start = core.read_paragraph(f"U_REQ{i}", "console", paragraph)
                left.append(len((start.seed.get("_intake") or {}).get("why") or {}))
                requester(core, f"U_REQ{i}", truth, start)
                log(f"  intake {name} {case}: {left[-1]} questions left after reading")
            stats = core.intake_stats()
            figures = next(iter(stats.values()))
            out[name] = {**figures, "questions_left": dict(zip(CASES, left, strict=True))}
    return out


def lines(r: dict[str, Any]) -> list[str]:
    """The figures as table lines for `python -m bench`."""
    rows = [
        "",
        f"intake in one paragraph ({r['cases']} labelled paragraphs): reader | questions left mean/max | "
        "answered mean | correction rate | fallbacks | tokens in/out",
    ]
    for name in ("llm_good", "llm_noisy", "lexicon"):
        f = r.get(name)
        if f:
            rows.append(
                f"  {name:>38} | {f['asked_mean']:>6} / {f['asked_max']:<3} | {f['answered_mean']:>13} | "
                f"{f['correction_rate']:>15} | {f['fallbacks']:>9} | {f['tokens_in']}/{f['tokens_out']}"
            )
    return rows


if __name__ == "__main__":
    result = run()
    print("\n".join(lines(result)))
