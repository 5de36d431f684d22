"""The unit of work on both databases: one transaction per outer block, a savepoint per inner one, refusals apart."""

from __future__ import annotations

from datetime import datetime

import pytest

from calendars import BEIJING
from tests.conftest import EXAMPLE_CAMPAIGN
from workflow.audit import campaign_chain
from workflow.errors import UserError
from workflow.persistence.database import make_engine
from workflow.services.uow import UnitOfWork, refusals_audited

CODE = "luquan-2019-h2"
NOW = datetime(2019, 11, 26, 11, tzinfo=BEIJING)


@pytest.fixture
def office(loaded, db_url):
    assert loaded("campaign", "create", EXAMPLE_CAMPAIGN, "--now", "2019-11-26T10:00").code == 0
    engine = make_engine(db_url)
    yield lambda code=CODE: UnitOfWork(engine, now=NOW, actor="clerk@office.luquan.example", campaign=code)
    engine.dispose()


def actions(uow) -> list[str]:
    with uow:
        return [e.action for e in uow.audit.entries(campaign_chain(CODE))]


def test_an_error_in_an_inner_block_undoes_only_that_block(office):
    uow = office()
    with uow:
        uow.record("outer")
        with pytest.raises(UserError):
            with uow:
                uow.record("inner")
                raise UserError("拒绝")
        uow.record("after")
    assert actions(office()) == ["outer", "after"]
    assert uow.conn is None, "the transaction is closed with the outer block"


def test_an_error_in_the_outer_block_undoes_everything(office):
    uow = office()
    with pytest.raises(UserError):
        with uow:
            uow.record("outer")
            with uow:
                uow.record("inner")
            raise UserError("拒绝")
    assert actions(office()) == []


def test_a_refusal_is_rolled_back_then_recorded_once_in_a_transaction_of_its_own(office):
    uow = office()
    with pytest.raises(UserError):
        with refusals_audited(uow, "withdraw", "91130110MA0000000X"):
            with uow:
                uow.record("half-done")
                raise UserError("只有领导小组办公室可以撤出")
    with office() as check:
        [row] = list(check.audit.entries(campaign_chain(CODE)))
    assert (row.action, row.uscc) == ("refused", "91130110MA0000000X")
    assert "只有领导小组办公室可以撤出" in row.payload


def test_no_refusal_is_recorded_for_a_campaign_that_does_not_exist(office):
    uow = office("nope")
    with pytest.raises(UserError) as caught:
        with refusals_audited(uow, "withdraw"):
            with uow:
                uow.plan
    assert "不存在" in str(caught.value)
    with office() as check:
        assert campaign_chain("nope") not in {r.chain for r in check.audit.verify()}, "no chain, no row"


def test_refusals_are_audited_around_a_whole_act_only(office):
    uow = office()
    with uow, pytest.raises(RuntimeError):
        with refusals_audited(uow, "withdraw"):
            pass
