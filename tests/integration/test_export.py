"""`govbot audit ID` lines and `govbot export --format csv|json` on the real store."""

from __future__ import annotations

import csv
import io
import json

import pytest

from bot.domain.errors import NotFound, UsageError
from bot.service import export
from tests.support.core_state import GOV
from tests.support.stages import OWNER, pending_request, seed


def _history(core, clock):
    """A pilot promoted on evidence, a blocked proposal overridden, one rejected."""
    a = seed(core, "pilot", risk="high", eu_tier="limited", title="Refund drafts", use_area="none")
    core.record_checkin(OWNER, a.id, "-0.5")  # formula-looking on purpose (a leading minus)
    clock.advance(hours=1)
    core.transition(OWNER, a.id, "promote")
    b = seed(core, "approved", stops=("invisible_failure",), title="Invoice matcher", eu_tier="minimal")
    core.override_stop(GOV, b.id, "invisible_failure", "daily sample review")
    c = seed(core, "in_review", title='HR screening, "quoted"', eu_tier="high", risk="high")
    req = pending_request(core, c.id, "USEC")
    core.decide("USEC", req.id, "reject", comment="needs a DPIA first")
    return a, b, c


def test_audit_lines_say_who_what_when_why(core, clock):
    a, b, _ = _history(core, clock)
    lines = core.audit_lines(b.id)
    assert lines[0].startswith(f'Audit trail of #{b.id} "Invoice matcher"')
    override = [line for line in lines if "stop_condition.overridden" in line]
    assert override == [
        "2026-11-16T10:00:00Z  UGOV  stop_condition.overridden  code=invisible_failure  — reason: daily sample review"
    ]
    assert [line for line in lines if "stage.pilot" in line] == [
        "2026-11-16T10:00:00Z  UGOV  stage.pilot  code=invisible_failure from=approved to=pilot via=override"
    ]
    promoted = [line for line in core.audit_lines(a.id) if "stage.production" in line]
    assert promoted == [
        f"2026-11-16T10:00:00Z  {OWNER}  stage.production  "
        'evidence={"checkin_id": 1, "period": "2026-W47", "value": "-0.5"} '
        "from=pilot to=production via=promote"
    ]
    with pytest.raises(NotFound):
        core.audit_lines(4242)


def test_json_export_has_classification_approvals_checkins_and_tiers(core, clock):
    a, b, c = _history(core, clock)
    data = json.loads(core.export("json"))
    assert data["count"] == 3
    assert data["counts"]["by_stage"] == {"pilot": 1, "production": 1, "rejected": 1}
    assert data["counts"]["by_eu_ai_act_tier"] == {"high": 1, "limited": 1, "minimal": 1}
    assert data["counts"]["by_risk_level"] == {"high": 2, "medium": 1}
    items = {p["id"]: p for p in data["proposals"]}
    assert items[a.id]["stage"] == "production"
    assert items[a.id]["checkins"][0]["value"] == "-0.5"  # JSON keeps it verbatim
    assert items[a.id]["classification"]["reasons"] == ["seeded as high"]
    assert items[b.id]["stop_conditions"] == [
        {
            "code": "invisible_failure",
            "status": "overridden",
            "overridden_by": GOV,
            "override_reason": "daily sample review",
            "changed_at": "2026-11-16T10:00:00Z",
        }
    ]
    [approval] = items[c.id]["approvals"]
    assert approval["role"] == "security" and approval["status"] == "rejected"
    assert approval["decision"]["decision"] == "reject" and approval["decision"]["comment"] == "needs a DPIA first"
    assert items[c.id]["eu_ai_act_tier"] == "high"


def test_csv_export_one_row_per_proposal(core, clock):
    a, b, c = _history(core, clock)
    rows = list(csv.DictReader(io.StringIO(core.export("csv"))))
    assert [int(r["id"]) for r in rows] == [a.id, b.id, c.id]
    by_id = {int(r["id"]): r for r in rows}
    assert by_id[a.id]["stage"] == "production" and by_id[a.id]["eu_ai_act_tier"] == "limited"
    assert by_id[a.id]["checkins"] == "1"
    assert by_id[a.id]["latest_checkin_value"] == "'-0.5"  # no spreadsheet formula
    assert by_id[a.id]["latest_checkin_period"] == "2026-W47"
    assert by_id[b.id]["overrides"] == "invisible_failure by UGOV: daily sample review"
    assert by_id[b.id]["stop_conditions"] == "invisible_failure:overridden"
    assert by_id[c.id]["title"] == 'HR screening, "quoted"'
    assert by_id[c.id]["approvals"] == "security:rejected:USEC"
    assert by_id[c.id]["readiness_score"] == "6"


def test_export_pages_through_many_proposals(core, monkeypatch):
    monkeypatch.setattr(export, "PAGE", 4)
    ids = [seed(core, "pilot", title=f"Workflow {n}").id for n in range(10)]
    assert [p["id"] for p in json.loads(core.export("json"))["proposals"]] == ids
    assert len(core.export("csv").strip().splitlines()) == 11


def test_empty_portfolio_and_bad_format(core):
    assert json.loads(core.export("json"))["proposals"] == []
    assert core.export("csv").strip() == ",".join(export.CSV_COLUMNS)
    with pytest.raises(UsageError) as err:
        core.export("xlsx")
    assert err.value.message == "format: unknown 'xlsx'; allowed: csv, json"
