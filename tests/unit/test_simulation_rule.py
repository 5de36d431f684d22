"""The one rule for claimed instants and actors (``workflow.simulation``), as the command line and the flows use it."""

from datetime import datetime

import pytest

from calendars import BEIJING
from workflow.errors import UserError
from workflow.identity import OnBehalf
from workflow.simulation import acting_instant, refuse_claimed_actor

CLOCK = datetime(2026, 11, 30, 12, 0, tzinfo=BEIJING)
CLAIMED = datetime(2019, 11, 27, 9, 0, tzinfo=BEIJING)


def clock() -> datetime:
    return CLOCK


@pytest.mark.parametrize("simulation", [True, False])
@pytest.mark.parametrize("changes", [True, False])
def test_without_a_claim_the_machines_clock_decides(simulation, changes):
    assert acting_instant(None, clock, simulation=simulation, changes=changes) == CLOCK


def test_a_simulation_plays_any_instant_and_a_question_may_ask_as_of_one():
    assert acting_instant(CLAIMED, clock, simulation=True, changes=True) == CLAIMED
    assert acting_instant(CLAIMED, clock, simulation=False, changes=False) == CLAIMED


def test_a_change_claiming_an_instant_on_a_real_database_is_refused():
    with pytest.raises(UserError, match="正式数据库.*不能用 --now 指定时间"):
        acting_instant(CLAIMED, clock, simulation=False, changes=True)


def test_a_typed_actor_is_refused_on_a_real_database_only():
    refuse_claimed_actor(simulation=True, source="--user")
    with pytest.raises(UserError, match="--on-behalf-of"):
        refuse_claimed_actor(simulation=False, source="--user")


def test_acting_on_behalf_needs_exactly_one_ground_and_says_it_in_the_payload():
    with pytest.raises(UserError):
        OnBehalf("SJ")
    with pytest.raises(UserError):
        OnBehalf("SJ", "a.pdf", "0" * 64, "电话")
    assert OnBehalf("SJ", reason="电话").payload() == {"on_behalf_of": "SJ", "on_behalf_reason": "电话"}
    assert OnBehalf("SJ", "a.pdf", "ab" * 32).payload() == {
        "on_behalf_of": "SJ", "on_behalf_evidence": {"file": "a.pdf", "sha256": "ab" * 32}}
    assert OnBehalf("sj", reason="x").names("SJ") and not OnBehalf("SJ", reason="x").names("SW")
