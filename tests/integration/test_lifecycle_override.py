"""Stop-condition overrides: governance only, written reason, prohibited_practice never."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.domain.errors import Refused, UsageError
from bot.messages.message import plain
from bot.service.policy import StaticPolicy
from tests.support.core_state import GOV, audit_events, outbox_for, stage_of
from tests.support.stages import OWNER, REQUESTER, seed


def _stops(core, pid):
    with core.uow() as uow:
        return {s.code: s for s in uow.stop_conditions.for_proposal(pid)}


def test_override_records_reason_on_the_row_and_in_the_audit_log(core):
    p = seed(core, "in_review", stops=("unmeasurable_success", "invisible_failure"))
    msg = core.override_stop(GOV, p.id, "unmeasurable_success", "  pilot measures cycle time by hand  ")
    stops = _stops(core, p.id)
    assert stops["unmeasurable_success"].status == "overridden"
    assert stops["unmeasurable_success"].override_reason == "pilot measures cycle time by hand"
    assert stops["unmeasurable_success"].overridden_by == GOV
    assert stops["invisible_failure"].status == "open"
    event = audit_events(core, p.id, "stop_condition.overridden")[0]
    assert event.actor == GOV
    assert event.detail == {"code": "unmeasurable_success", "reason": "pilot measures cycle time by hand"}
    assert "Still open: invisible_failure" in msg.text
    assert stage_of(core, p.id) == "in_review"  # approvals still pending: no move
    told = [r for r in outbox_for(core, OWNER) if r.kind == "override"]
    assert [plain(r.payload["text"]) for r in told] == [
        'Governance (<@UGOV>) overrode unmeasurable_success on #1 "Refund triage assistant": '
        "pilot measures cycle time by hand Still open: invisible_failure."
    ]


def test_approved_proposal_moves_to_pilot_once_the_last_stop_is_overridden(core):
    p = seed(core, "approved", stops=("no_owner", "invisible_failure"), owner=None)
    core.override_stop(GOV, p.id, "no_owner", "interim owner named in the charter")
    assert stage_of(core, p.id) == "approved"
    assert not audit_events(core, p.id, "stage.pilot")

    msg = core.override_stop(GOV, p.id, "invisible_failure", "weekly sample review catches errors")
    assert stage_of(core, p.id) == "pilot"
    assert "now in pilot" in msg.text
    moved = audit_events(core, p.id, "stage.pilot")
    assert [(e.actor, e.detail["from"], e.detail["via"], e.detail["code"]) for e in moved] == [
        (GOV, "approved", "override", "invisible_failure")
    ]
    # no owner: the requester is told
    assert [plain(r.payload["text"]) for r in outbox_for(core, REQUESTER)][-1] == (
        'Governance (<@UGOV>) overrode invisible_failure on #1 "Refund triage assistant": weekly sample review '
        'catches errors All approvals are in and no stop condition remains: #1 "Refund triage assistant" is now in '
        "pilot."
    )


@pytest.mark.parametrize("actor", [OWNER, REQUESTER, "UX"])
def test_only_governance_may_override(core, actor):
    p = seed(core, "approved", stops=("invisible_failure",))
    with pytest.raises(Refused) as err:
        core.override_stop(actor, p.id, "invisible_failure", "because")
    assert err.value.code == "not_governance"
    assert _stops(core, p.id)["invisible_failure"].status == "open"
    assert stage_of(core, p.id) == "approved"
    assert audit_events(core, p.id, "lifecycle.refused")[0].detail["code"] == "not_governance"


def test_prohibited_practice_is_never_overridden(core):
    p = seed(core, "approved", stops=("prohibited_practice",), eu_tier="prohibited", risk="high")
    with pytest.raises(Refused) as err:
        core.override_stop(GOV, p.id, "prohibited_practice", "board approved it")
    assert err.value.code == "not_overridable"
    assert "never" in err.value.message
    assert _stops(core, p.id)["prohibited_practice"].status == "open"
    assert stage_of(core, p.id) == "approved"
    assert not audit_events(core, p.id, "stop_condition.overridden")


def test_prohibited_practice_stays_when_policy_lists_nothing(core):
    lenient = replace(core.policy.current(), non_overridable_stop_conditions=())
    core.policy = StaticPolicy(lenient)  # a policy file cannot lift the prohibition
    p = seed(core, "approved", stops=("prohibited_practice",))
    with pytest.raises(Refused):
        core.override_stop(GOV, p.id, "prohibited_practice", "x")


def test_other_stops_lifted_but_prohibited_keeps_the_proposal_out_of_pilot(core):
    p = seed(core, "approved", stops=("prohibited_practice", "invisible_failure"))
    core.override_stop(GOV, p.id, "invisible_failure", "monitored")
    assert stage_of(core, p.id) == "approved"


def test_blank_or_missing_reason_is_a_usage_error(core):
    p = seed(core, "approved", stops=("invisible_failure",))
    for reason in ("", "   ", None):
        with pytest.raises(UsageError) as err:
            core.override_stop(GOV, p.id, "invisible_failure", reason)
        assert err.value.message.startswith("reason:")
    with pytest.raises(UsageError) as err:
        core.override_stop(GOV, p.id, "too_risky", "x")
    assert "code" in err.value.message and "no_owner" in err.value.message
    assert _stops(core, p.id)["invisible_failure"].status == "open"


def test_override_of_a_code_that_is_not_open(core, clock):
    p = seed(core, "approved", stops=("invisible_failure",))
    with pytest.raises(Refused) as err:
        core.override_stop(GOV, p.id, "no_owner", "x")
    assert err.value.code == "not_open"
    assert "open: invisible_failure" in err.value.message
    core.override_stop(GOV, p.id, "invisible_failure", "sampled daily")
    with pytest.raises(Refused) as err:
        core.override_stop(GOV, p.id, "invisible_failure", "again")
    assert err.value.code == "already_overridden"
    assert len(audit_events(core, p.id, "stop_condition.overridden")) == 1
    # a resolved condition is not open either
    with core.uow() as uow:
        uow.stop_conditions.set_open(p.id, [], clock.now())
        uow.commit()
    with pytest.raises(Refused) as err:
        core.override_stop(GOV, p.id, "invisible_failure", "x")
    assert err.value.code == "not_open"


def test_the_policy_in_force_is_read_at_each_override(core):
    class Switchable:  # a policy source whose policy changes while the core runs
        def __init__(self, policy):
            self.policy = policy

        def current(self):
            return self.policy

    packaged = core.policy.current()
    source = core.policy = Switchable(replace(packaged, non_overridable_stop_conditions=("invisible_failure",)))
    p = seed(core, "approved", stops=("invisible_failure",))
    with pytest.raises(Refused) as err:
        core.override_stop(GOV, p.id, "invisible_failure", "monitored by hand")
    source.policy = packaged
    core.override_stop(GOV, p.id, "invisible_failure", "monitored by hand")
    assert (err.value.code, _stops(core, p.id)["invisible_failure"].status) == ("not_overridable", "overridden")
