"""Issue 17's mail attacked as a careless clerk, a hostile insider and an unlucky operator would: real databases,
the real sweep and sender, a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from tests.conftest import EXAMPLE_CAMPAIGN, draw_campaign
from workflow.identity import SYSTEM
from workflow.persistence import orm
from workflow.persistence.database import make_engine
from workflow.services.outbox import send_outbox
from workflow.services.sweep import sweep
from workflow.services.uow import UnitOfWork

CODE = "luquan-2019-h2"
BEIJING = ZoneInfo("Asia/Shanghai")
_o = orm.OutboxMessage.__table__
_d = orm.Department.__table__
_t = orm.TaskRow.__table__


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def change(engine, statement) -> None:
    with engine.begin() as conn:
        conn.execute(statement)


def outbox(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(_o).order_by(_o.c.id)).all()


def campaign_file(tmp_path, **replace: str):
    """The example campaign with some lines replaced (old text -> new text)."""
    source = EXAMPLE_CAMPAIGN.read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in source, old
        source = source.replace(old, new, 1)
    path = tmp_path / "campaign.toml"
    path.write_text(source, encoding="utf-8")
    return path


def run_sweep(engine, when: str, *, within: float = 15.0):
    """The sweep, which must end: a sweep that loops forever never sends anything and blocks every later tick."""
    done: dict = {}

    def run():
        try:
            done["report"] = sweep(UnitOfWork(engine, now=at(when), actor=SYSTEM, campaign=CODE))
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            done["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(within)
    assert not worker.is_alive(), f"the sweep at {when} did not end within {within} s"
    if "error" in done:
        raise done["error"]
    return done["report"]


def send(engine, config, when: str):
    return send_outbox(UnitOfWork(engine, now=at(when), actor=SYSTEM), config, worker="w1")


def test_a_ladder_whose_last_step_is_skipped_ends_the_sweep(loaded, engine, tmp_path, smtp_server):
    """An unlucky operator: a ladder without the office, and a department with no leader in the directory. After
    the contact's 督办 nothing is left for its tasks; the sweep must not claim them again and again forever."""
    inbox, config = smtp_server
    draw_campaign(loaded, campaign_file(tmp_path, **{
        'ladder = ["responsible", "department_contact", "department_leader", "office"]':
            'ladder = ["responsible", "department_contact", "department_leader"]'}))
    change(engine, update(_d).where(_d.c.code == "SW").values(leader_email=None, leader_name=None))
    for when in ("2019-11-27T12:00", "2019-11-28T09:30", "2019-11-30T00:05", "2019-12-03T09:30"):
        run_sweep(engine, when)
    run_sweep(engine, "2019-12-04T09:30")
    send(engine, config, "2019-12-04T10:00")
    to_sw = sorted((str(m["Subject"])[:4], r) for rcpts, m in inbox.messages for r in rcpts
                   if r.endswith("@sw.luquan.example") and "部门比对确认" in str(m["Subject"]))
    assert to_sw == [("【提醒】", "admin@sw.luquan.example"), ("【督办】", "contact@sw.luquan.example"),
                     ("【逾期】", "admin@sw.luquan.example")], "the ladder ends at the contact: nobody is mailed twice"
    with engine.connect() as conn:
        levels = set(conn.execute(select(_t.c.escalation_level).where(_t.c.kind == "confirm",
                                                                        _t.c.department_code == "SW")).scalars())
    assert levels == {4}, "nothing left on the ladder: the tasks leave the sweep's due set"
