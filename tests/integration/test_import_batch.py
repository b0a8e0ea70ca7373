"""`govbot import` in chunks (bot.batch): one unit of work per chunk, a savepoint per row.

A refused row or a row the database refuses rolls back alone; the others commit; a
re-import is idempotent; each imported row is stored and routed as a chat submission.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from bot.app import build_core
from bot.domain.errors import ProposalInvalid, Refused
from bot.domain.proposal import validate_proposal
from bot.service.importer import row_key
from bot.settings import Settings
from tests.support.core_state import set_roles
from tests.support.proposals import high_billing, make_proposal, medium


def _count(core: Any, sql: str, **params: Any) -> int:
    with core.uow() as uow:
        return int(uow.session.execute(text(sql), params).scalar_one())


def _footprint(core: Any) -> dict[str, int]:
    """Rows a submission writes, table by table."""
    tables = ("proposals", "proposal_revisions", "classifications", "stop_conditions", "approval_requests")
    counts = {t: _count(core, f"SELECT count(*) FROM {t}") for t in tables}  # noqa: S608 - fixed names
    counts["outbox"] = _count(core, "SELECT count(*) FROM outbox")
    counts["submitted"] = _count(core, "SELECT count(*) FROM audit_events WHERE action = 'proposal.submitted'")
    counts["requested"] = _count(core, "SELECT count(*) FROM audit_events WHERE action = 'approval.requested'")
    counts["claims"] = _count(core, "SELECT count(*) FROM job_runs WHERE job = 'submit'")
    return counts


def _shape(core: Any, proposal_id: int) -> dict[str, Any]:
    """What a submission stored and queued, without ids and requester."""
    data = core.status_data(proposal_id)
    p = data["proposal"]
    return {
        "proposal": {k: p[k] for k in ("title", "stage", "risk_level", "department", "owner", "eu_tier", "answers")},
        "classification": data["classification"],
        "stop_conditions": sorted(s["code"] for s in data["stop_conditions"]),
        "approvals": [(a["role"], a["approver"], a["status"]) for a in data["approvals"]],
        "audit": [e["action"] for e in data["audit"]],
        "outbox": sorted((o["channel"], o["recipient"], o["kind"]) for o in data["undelivered"]),
    }


@pytest.fixture
def no_governance_core(database_url, clock):
    """Nobody holds governance: a row without an owner cannot be routed and is refused."""
    return build_core(Settings(database_url=database_url, governance="", _env_file=None), clock=clock)


def test_a_refused_row_in_the_middle_of_a_chunk_leaves_no_trace(no_governance_core):
    core = no_governance_core
    rows = [make_proposal(title="First"), make_proposal(title="Unroutable", owner=None), make_proposal(title="Third")]
    report = core.import_proposals("U_IMP", "slack", rows, chunk=200)
    assert [r["status"] for r in report["rows"]] == ["imported", "refused", "imported"]
    assert (report["imported"], report["refused"]) == (2, 1)
    # the same message as the chat path gives for the same row
    with pytest.raises(Refused) as chat:
        core.submit("U_CHAT", "slack", make_proposal(title="Unroutable", owner=None))
    assert report["rows"][1]["errors"] == [chat.value.message]
    assert report["rows"][1]["title"] == "Unroutable"
    assert _count(core, "SELECT count(*) FROM proposals WHERE title = 'Unroutable'") == 0
    footprint = _footprint(core)
    assert footprint["proposals"] == footprint["classifications"] == footprint["proposal_revisions"] == 2
    assert footprint["submitted"] == 2 and footprint["claims"] == 2
    ids = {r["proposal_id"] for r in report["rows"] if r["status"] == "imported"}
    with core.uow() as uow:
        outbox_ids = set(uow.session.execute(text("SELECT DISTINCT proposal_id FROM outbox")).scalars())
    assert outbox_ids == ids
    # the refusal is audited (the import's and the chat attempt's), without a proposal
    assert _count(core, "SELECT count(*) FROM audit_events WHERE action = 'proposal.refused'") == 2
    # a refused row was not recorded: importing it again once governance exists succeeds
    core.set_role("cli", "governance", "", ["U_GOV"])
    again = core.import_proposals("U_IMP", "slack", rows)
    assert [r.get("already_imported") for r in again["rows"]] == [True, False, True]
    assert again["rows"][1]["status"] == "imported"


def test_a_row_the_database_refuses_rolls_back_alone(core):
    # force a uniqueness conflict inside the database for the third row
    with core.uow() as uow:
        uow.session.execute(text("CREATE UNIQUE INDEX test_unique_title ON proposals (title)"))
        uow.commit()
    rows = [
        make_proposal(title="Alpha"),
        medium(title="Beta"),
        make_proposal(title="Alpha", description="Another tool that happens to share the first one's title."),
        high_billing(department="Ops"),
    ]
    before = _footprint(core)
    report = core.import_proposals("U_IMP", "slack", rows, chunk=200)
    assert [r["status"] for r in report["rows"]] == ["imported", "imported", "refused", "imported"]
    assert report["rows"][2]["title"] == "Alpha"
    assert "database refused" in report["rows"][2]["errors"][0]
    after = _footprint(core)
    assert after["proposals"] - before["proposals"] == 3
    assert after["classifications"] == after["proposal_revisions"] == after["submitted"] == after["claims"] == 3
    ids = [r["proposal_id"] for r in report["rows"] if r["status"] == "imported"]
    requests = sum(len(core.status_data(i)["approvals"]) for i in ids)
    assert after["approval_requests"] == after["requested"] == requests
    assert _count(core, "SELECT count(*) FROM audit_events WHERE action = 'proposal.refused'") == 1
    # the refused row was not recorded: without the rule it imports on the next run
    with core.uow() as uow:
        uow.session.execute(text("DROP INDEX test_unique_title"))
        uow.commit()
    again = core.import_proposals("U_IMP", "slack", rows)
    assert [r["already_imported"] for r in again["rows"]] == [True, True, False, True]
    assert [r["proposal_id"] for r in again["rows"] if r["already_imported"]] == ids


@pytest.mark.parametrize("chunk", [200, 2])
def test_re_import_is_idempotent_across_chunks(core, chunk):
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]), ("finance", "", ["U_FIN"]))
    rows = [make_proposal(title=f"Tool {n}") for n in range(3)] + [medium(title="Team tool"), high_billing()]
    first = core.import_proposals("U_IMP", "slack", rows, chunk=chunk)
    assert first["imported"] == 5
    assert [r["already_imported"] for r in first["rows"]] == [False] * 5
    footprint = _footprint(core)
    rows.append(make_proposal(title="New since last time"))
    second = core.import_proposals("U_IMP", "slack", rows, chunk=chunk)
    assert [r["already_imported"] for r in second["rows"]] == [True] * 5 + [False]
    assert [r["proposal_id"] for r in second["rows"][:5]] == [r["proposal_id"] for r in first["rows"]]
    assert [r["risk_level"] for r in second["rows"][:5]] == [r["risk_level"] for r in first["rows"]]
    grown = _footprint(core)
    assert grown["proposals"] == footprint["proposals"] + 1
    assert grown["submitted"] == footprint["submitted"] + 1
    # a chat submission with the row's key is the same recorded submission
    replay = core.submit("U_IMP", "slack", validate_proposal(rows[0]), idempotency_key=row_key("U_IMP", rows[0]))
    assert replay.duplicate and replay.proposal_id == first["rows"][0]["proposal_id"]


def test_each_row_is_stored_and_routed_as_in_chat(core):
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]), ("finance", "", ["U_FIN"]))
    answers = [make_proposal(title="Low"), medium(title="Medium"), high_billing()]
    report = core.import_proposals("U_IMP", "slack", answers, chunk=2)
    for raw, row in zip(answers, report["rows"], strict=True):
        chat = core.submit("U_IMP", "slack", raw)
        imported, chatted = _shape(core, row["proposal_id"]), _shape(core, chat.proposal_id)
        assert imported == chatted
        assert row["risk_level"] == chat.classification["risk_level"]


def test_the_per_row_report(core):
    rows: list[Any] = [make_proposal(title="Good"), {"title": "x" * 3, "data": ["nonsense"]}, "not an object", medium()]
    report = core.import_proposals("U_IMP", "slack", rows, chunk=2)
    ids = [r.get("proposal_id") for r in report["rows"]]
    expected_errors = []
    for raw in rows[1:3]:
        with pytest.raises(ProposalInvalid) as exc:
            validate_proposal(raw)
        expected_errors.append([str(e) for e in exc.value.errors])
    assert report == {
        "imported": 2,
        "refused": 2,
        "rows": [
            {
                "row": 1,
                "status": "imported",
                "title": "Good",
                "proposal_id": ids[0],
                "risk_level": "low",
                "already_imported": False,
            },
            {"row": 2, "status": "refused", "title": "xxx", "errors": expected_errors[0]},
            {"row": 3, "status": "refused", "title": None, "errors": expected_errors[1]},
            {
                "row": 4,
                "status": "imported",
                "title": medium()["title"],
                "proposal_id": ids[3],
                "risk_level": "medium",
                "already_imported": False,
            },
        ],
    }
    assert ids[0] is not None and ids[3] is not None and ids[0] != ids[3]


def test_a_savepoint_rolls_back_only_its_own_writes(core):
    from bot.domain.errors import Conflict

    with core.uow() as uow:
        uow.keyvalues.put("test:kept", "1")
        with pytest.raises(RuntimeError), uow.savepoint():
            uow.keyvalues.put("test:dropped", "1")
            raise RuntimeError("boom")
        with pytest.raises(Conflict), uow.savepoint():
            uow.session.execute(
                text(
                    "INSERT INTO job_runs (job, period, claimed_by, claimed_at, status, detail) "
                    "VALUES ('t', 'p', 'i', CURRENT_TIMESTAMP, 'running', '{}')"
                )
            )
            uow.session.execute(
                text(
                    "INSERT INTO job_runs (job, period, claimed_by, claimed_at, status, detail) "
                    "VALUES ('t', 'p', 'i', CURRENT_TIMESTAMP, 'running', '{}')"
                )
            )
        with uow.savepoint():
            uow.keyvalues.put("test:inner", "1")
        uow.commit()
    with core.uow() as uow:
        assert (uow.keyvalues.get("test:kept"), uow.keyvalues.get("test:dropped"), uow.keyvalues.get("test:inner")) == (
            "1",
            None,
            "1",
        )
    assert _count(core, "SELECT count(*) FROM job_runs WHERE job = 't'") == 0


@pytest.mark.parametrize("chunk", [200, 1])
def test_a_row_repeated_in_one_file_is_already_imported(core, chunk):
    rows = [make_proposal(title="Once"), medium(title="Other"), make_proposal(title="Once")]
    report = core.import_proposals("U_IMP", "slack", rows, chunk=chunk)
    assert [r["status"] for r in report["rows"]] == ["imported"] * 3
    assert [r["already_imported"] for r in report["rows"]] == [False, False, True]
    assert report["rows"][2]["proposal_id"] == report["rows"][0]["proposal_id"]
    footprint = _footprint(core)
    assert footprint["proposals"] == footprint["submitted"] == footprint["claims"] == 2
    assert _count(core, "SELECT count(*) FROM audit_events WHERE action = 'proposal.refused'") == 0
