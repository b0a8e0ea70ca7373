"""Intake in one paragraph, the use cases (DESIGN.md "Intake in one paragraph").

`propose <paragraph>` first keeps the requester's words as their draft (`keep_words`),
so nothing they typed is lost whatever happens next; the channel acknowledges, says it
is reading, then calls `read_paragraph`, which runs the extractor (slow with an LLM),
stores the extraction and opens the summary. When the proposal is submitted, `settle`
records which pre-filled answers the requester changed.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from bot.domain import intake
from bot.domain.errors import NotFound, UsageError
from bot.domain.extraction import Extraction, ExtractionRow, check_paragraph, lexicon_extraction
from bot.domain.interview import seed, to_proposal
from bot.domain.policy import Policy
from bot.domain.proposal import FIELDS, normalise
from bot.domain.questions import PARAGRAPH, SUMMARY
from bot.domain.records import InterviewDraft
from bot.ports import Clock, Extractor, PolicySource, UnitOfWork
from bot.service import submit
from bot.service.drafts import load_draft
from bot.service.results import InterviewStart

logger = logging.getLogger(__name__)


def keep_words(uow: UnitOfWork, clock: Clock, actor: str, channel: str, text: str) -> InterviewStart:
    """Save the paragraph as the requester's draft (title: its first sentence;
    description: the paragraph as written) and ask the channel to read it. Raises
    UsageError for an empty or too long paragraph."""
    paragraph = check_paragraph(text)
    answers = seed(paragraph)
    answers["description"] = paragraph
    with uow:
        uow.drafts.put(InterviewDraft(channel, actor, dict(answers), PARAGRAPH, None, clock.now()))
        uow.commit()
    return InterviewStart(seed=answers, proposal_id=None, resumed=False, paragraph=paragraph)


def extract(extractor: Extractor, policy: Policy, paragraph: str) -> Extraction:
    """The extractor on the paragraph; an unexpected failure of the extractor itself is
    logged and the lexicon reads it instead (the reason says so)."""
    try:
        return extractor.extract(paragraph, policy)
    except UsageError:
        raise
    except Exception as exc:  # an extractor bug must not cost the requester their words
        logger.exception("intake: the %s extractor failed", getattr(extractor, "name", "?"))
        reason = f"the extractor failed ({type(exc).__name__})"
        return lexicon_extraction(check_paragraph(paragraph), policy, fallback_reason=reason)


def read_paragraph(
    uow: UnitOfWork,
    clock: Clock,
    source: PolicySource,
    extractor: Extractor,
    actor: str,
    channel: str,
    paragraph: str,
) -> InterviewStart:
    """Read the paragraph, store the extraction and the draft in one transaction, and
    return the interview to open: the summary (or, when the LLM failed, the plain
    interview with what the lexicon found)."""
    policy = source.current()
    extraction = extract(extractor, policy, paragraph)
    answers = intake.start(extraction, policy)
    meta = intake.state(answers) or {}
    now = clock.now()
    row = ExtractionRow(
        id=None,
        channel=channel,
        user_id=actor,
        extractor=extraction.extractor,
        model=extraction.model,
        prompt_name=extraction.prompt_name,
        prompt_version=extraction.prompt_version,
        tokens_in=extraction.tokens_in,
        tokens_out=extraction.tokens_out,
        latency_ms=extraction.latency_ms,
        fallback_reason=extraction.fallback_reason,
        prefilled={k: v for k, v in extraction.answers.items() if k != "description"},
        dropped=list(extraction.dropped),
        asked=list(meta.get("why") or ()),
        created_at=now,
    )
    step = SUMMARY if intake.in_summary(answers) else "basics"
    with uow:
        stored = uow.extractions.add(row)
        meta["id"] = stored.id
        uow.drafts.put(InterviewDraft(channel, actor, dict(answers), step, None, now))
        uow.commit()
    logger.info(
        "intake: %s read a paragraph for %s in %d ms (%d pre-filled, %d to ask)",
        extraction.extractor,
        actor,
        extraction.latency_ms,
        len(row.prefilled),
        len(row.asked),
    )
    return InterviewStart(seed=answers, proposal_id=None, resumed=False)


def edit_seed(uow: UnitOfWork, clock: Clock, source: PolicySource, actor: str, proposal_id: int) -> InterviewStart:
    """`Govbot.edit_seed`: the latest revision's answers as one summary to correct."""
    start = submit.edit_seed(uow, clock, actor, proposal_id)
    return replace(start, seed=intake.edit(dict(start.seed), source.current()))


def pending(uow: UnitOfWork, channel: str, actor: str) -> int | None:
    """The id of the extraction behind the actor's unfinished interview, if any."""
    draft = load_draft(uow, channel, actor)
    meta = intake.state((draft or {}).get("answers") or {})
    value = (meta or {}).get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def changed_keys(prefilled: dict[str, Any], submitted: dict[str, Any]) -> list[str]:
    """The pre-filled keys whose submitted value differs (compared as the proposal stores
    them), in the proposal's key order (a JSONB column does not keep the order)."""
    before, after = normalise(to_proposal(prefilled)), normalise(to_proposal(submitted))
    return [k for k in FIELDS if k in prefilled and before.get(k) != after.get(k)]


def settle(uow: UnitOfWork, clock: Clock, extraction_id: int, proposal_id: int, submitted: dict[str, Any]) -> None:
    """Record which proposal the extraction became and which pre-filled answers changed.
    Measuring never fails a submission: problems are logged."""
    try:
        with uow:
            row = uow.extractions.get(extraction_id)
            if row.settled_at is None:
                uow.extractions.settle(extraction_id, proposal_id, changed_keys(row.prefilled, submitted), clock.now())
                uow.commit()
    except NotFound:
        logger.warning("intake: extraction %s is gone; proposal %s not measured", extraction_id, proposal_id)
    except Exception:
        logger.exception("intake: could not record the corrections of proposal %s", proposal_id)


def stats(uow: UnitOfWork) -> dict[str, Any]:
    """Per extractor: questions asked and answered, correction rate, fallbacks, latency."""
    with uow:
        return uow.extractions.stats()
