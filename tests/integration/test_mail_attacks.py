"""Issue 17's mail attacked as a careless clerk, a hostile insider and an unlucky operator would: real databases,
the real sweep and sender, a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from calendars.workday_calendar import WorkdayCalendar
from tests.conftest import EXAMPLE_CAMPAIGN, draw_campaign, serve_smtp
from tests.integration.conftest import HEADER
from tests.integration.test_mail_faults import Server
from workflow.identity import SYSTEM
from workflow.office_hours import OfficeHours
from workflow.persistence import orm
from workflow.persistence.database import make_engine
from workflow.services.dashboard import dashboard
from workflow.services.outbox import send_outbox
from workflow.services.digests import INLINE_ROWS
from workflow.services.sweep import sweep
from workflow.services.uow import UnitOfWork

CODE = "luquan-2019-h2"
ROOT = Path(__file__).resolve().parents[2]
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


def killed_tick(db_url: str, seam: str, now: str, files) -> None:
    """``ssj tick``'s handler in a process of its own, SIGKILLed at ``seam`` (``tests/integration/seams.py``)."""
    env = {**os.environ, "SSJ_DATABASE_URL": db_url, "SSJ_NOW": now, "SSJ_FILES_DIR": str(files), "SSJ_OUT": ""}
    done = subprocess.run([sys.executable, "-m", "tests.integration.seams", "tick", seam], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, (seam, done.returncode, done.stderr[-2000:])


def answer_department(ssj, tmp_path, department: str, sampled: list[str], when: str) -> None:
    path = tmp_path / f"{department}.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER] + [[CODE, department, u, "否", "不涉及"] for u in sampled])
    result = ssj("confirm", "import", path, "--user", f"contact@{department.lower()}.luquan.example", "--now", when)
    assert result.code == 0, result.err


@pytest.mark.stress  # a process of its own, killed (~6 s a backend)
def test_a_tick_killed_after_holding_its_notices_sends_none_about_tasks_done_since(loaded, db_url, engine, tmp_path,
                                                                                  smtp_server):
    """An unlucky operator: the Saturday-midnight tick dies after deciding the 【逾期】 notices and before digesting
    them; the tax bureau answers on Saturday morning. Monday's tick sends the held digests — but none telling the
    tax bureau that tasks it has answered are overdue."""
    inbox, _ = smtp_server
    sampled = draw_campaign(loaded)["sampled"]
    for when in ("2019-11-27T12:00", "2019-11-28T09:30"):
        assert loaded("tick", CODE, "--now", when).code == 0
    killed_tick(db_url, "sweep:held", "2019-11-30T00:05:00+08:00", tmp_path / "files")
    answer_department(loaded, tmp_path, "SW", sampled, "2019-11-30T10:00")
    assert loaded("tick", CODE, "--now", "2019-12-02T08:35").code == 0
    overdue = [r for rcpts, m in inbox.messages for r in rcpts if str(m["Subject"]).startswith("【逾期】")]
    assert overdue.count("admin@sj.luquan.example") == 1, "the held notices of the others go out, once"
    assert "admin@sw.luquan.example" not in overdue, "no 【逾期】 about tasks answered after the crash"


def test_a_digest_of_hundreds_of_tasks_counts_them_all_where_it_lists_some(loaded, engine, tmp_path, smtp_server):
    """A careless clerk lets every confirmation run late: the office's 【督办】 lists every department's enterprises.
    The body lists the first INLINE_ROWS of a kind; its heading still counts them all, as the subject does."""
    inbox, config = smtp_server
    draw_campaign(loaded, campaign_file(tmp_path, **{'ratio = "1%"': 'ratio = "10%"'}))
    run_sweep(engine, "2019-11-27T12:00")
    run_sweep(engine, "2019-12-05T09:30")  # late: only the latest notice, the office's
    send(engine, config, "2019-12-05T09:31")
    [office] = [m for rcpts, m in inbox.messages if "1qqj2463@163.com" in rcpts
                and str(m["Subject"]).startswith("【督办】")]
    body = office.get_body(("plain",)).get_content()
    heading, more = re.search(r"、部门比对确认（(\d+) 项）", body), re.search(r"另有 (\d+) 项未逐一列出", body)
    assert heading and more, body[:300]
    assert int(heading[1]) == INLINE_ROWS + int(more[1]), "the heading counts the kind's tasks, not the lines shown"
    assert body.count("统一社会信用代码") == INLINE_ROWS


def test_an_address_typed_in_capitals_is_the_same_person_on_the_ladder(loaded, engine, smtp_server):
    """A careless clerk: the tax bureau's administrator is also its contact and its leader, typed in other capitals
    each time. The ladder skips both steps (the same mailbox as the administrator, who had the 【逾期】) and ends at
    the office on the first working day after the grace: nobody is mailed twice."""
    inbox, config = smtp_server
    change(engine, update(_d).where(_d.c.code == "SW").values(contact_email="Admin@SW.luquan.example",
                                                              leader_email="ADMIN@sw.luquan.example"))
    draw_campaign(loaded)
    for when in ("2019-11-27T12:00", "2019-11-30T00:05", "2019-12-03T09:30"):
        run_sweep(engine, when)
    send(engine, config, "2019-12-03T09:31")
    escalated = {r.lower() for rcpts, m in inbox.messages for r in rcpts
                 if str(m["Subject"]).startswith("【督办】部门比对确认") and r.lower().endswith("@sw.luquan.example")}
    assert not escalated, "the same mailbox is not mailed again as another step"
    [office] = [m for rcpts, m in inbox.messages if "1qqj2463@163.com" in rcpts
                and str(m["Subject"]).startswith("【督办】")]
    assert "国家税务总局石家庄市鹿泉区税务局" in office.get_body(("plain",)).get_content(), "the ladder ends at the office"
    [dispatch] = [m for rcpts, m in inbox.messages if str(m["Subject"]).startswith("【派发】")
                  and any(r.lower() == "admin@sw.luquan.example" for r in rcpts)]
    assert dispatch["Cc"] is None, "the administrator is not copied on his own dispatch"
    board = dashboard(UnitOfWork(engine, now=at("2019-12-03T10:00"), actor=SYSTEM, campaign=CODE)).markdown
    assert "2019年12月3日（星期二）08:30起 · **部门比对确认**" in board, board[board.find("## 已督办"):][:1500] or board
    assert "2019年12月5日" not in board


@pytest.mark.stress  # the documented behaviour, guarded (~2 s a backend)
def test_a_refused_copy_does_not_stop_the_message_and_a_refused_recipient_bounces_alone(loaded, engine, monkeypatch):
    """An unlucky operator: the server refuses the tax bureau's contact (in copy of its dispatch) and the statistics
    bureau's administrator (the dispatch's recipient). The tax bureau's administrator still gets his list; the
    statistics bureau's dispatch ends 退信 after the third refusal, for the office to see; every other one goes."""
    server = Server()
    server.refuse |= {"contact@sw.luquan.example", "admin@tj.luquan.example"}
    with serve_smtp(server, monkeypatch) as config:
        draw_campaign(loaded)
        for minute in ("09:05", "09:10", "09:20", "09:40"):  # the backoff: 1, 2, 4 minutes
            send(engine, config, f"2019-11-27T{minute}")
    dispatched = {r: m for rcpts, m in server.messages for r in rcpts if str(m["Subject"]).startswith("【派发】")}
    assert "admin@sw.luquan.example" in dispatched and "contact@sw.luquan.example" not in dispatched
    assert "contact@sw.luquan.example" in str(dispatched["admin@sw.luquan.example"]["Cc"]), "the copy is still named"
    assert "admin@tj.luquan.example" not in dispatched and "contact@tj.luquan.example" not in dispatched
    [bounced] = [r for r in outbox(engine) if r.state != "已发"]
    assert (bounced.recipient, bounced.state, bounced.rejections) == ("admin@tj.luquan.example", "退信", 3)
    assert len(dispatched) == 11, "the five other departments' administrators and contacts, and the tax bureau's"


def test_a_reminder_counted_in_calendar_days_falls_on_a_working_day(loaded, engine, tmp_path, smtp_server):
    """A careless clerk writes remind_before = "1 day". The stamped report is due Monday 12-02 17:00: one day before
    is a Sunday, and a Sunday reminder reaches the office on Monday morning, the day the report is due, saying one
    working day is left. It must go on the working day before, Friday, as a reminder on a working day does."""
    inbox, config = smtp_server
    draw_campaign(loaded, campaign_file(tmp_path, **{'remind_before = "1 workday"': 'remind_before = "1 day"'}))
    run_sweep(engine, "2019-11-27T12:00")
    run_sweep(engine, "2019-11-29T09:00")
    send(engine, config, "2019-11-29T09:01")
    reminded = [m for rcpts, m in inbox.messages if "contact@sj.luquan.example" in rcpts
                and str(m["Subject"]).startswith("【提醒】")]
    assert reminded, "Friday's reminder of the report due on Monday"
    assert "2019年12月2日（星期一）17:00前，尚余 1 个工作日" in reminded[0].get_body(("plain",)).get_content()


@pytest.mark.stress  # the campaign carried to its visits (~10 s a backend)
def test_an_overdue_publication_ends_the_sweep_with_the_example_ladder(assigned, engine, smtp_server):
    """The example campaign as it is: the office publishes, so every step above it is skipped (the departments
    have nobody for it, the office is the step before). Its overdue notice is the last; the tick must go on."""
    ssj, sampled, teams, _ = assigned
    uscc = sampled[0]
    team = ",".join(c for c, _ in teams["teams"][uscc])
    assert ssj("results", "visit", CODE, uscc, "--date", "2019-12-10", "--officers", team, "--signature", "签字",
               "--now", "2019-12-10T17:00").code == 0
    run_sweep(engine, "2020-01-09T09:30")  # the publication was due by the end of 2020-01-08
    with engine.connect() as conn:
        [level] = conn.execute(select(_t.c.escalation_level).where(_t.c.kind == "publish")).scalars()
    assert level == 5, "nothing left above the office: out of the sweep's due set"
    assert run_sweep(engine, "2020-01-10T09:30").notices == 0


def test_mail_after_the_last_covered_year_waits_past_new_years_day():
    """An unlucky operator: 2027's calendar is not published yet. Mail held on the evening of 2026-12-31 must not
    go out on 元旦 (Friday 2027-01-01, a statutory day off whatever the State Council later moves), but on Monday."""
    calendar = WorkdayCalendar.default()
    assert not calendar.covers(datetime(2027, 1, 1).date())
    hours = OfficeHours()
    assert hours.opening(at("2026-12-31T18:00"), calendar, BEIJING) == at("2027-01-04T08:30")
    assert hours.opening(at("2027-01-01T10:00"), calendar, BEIJING) == at("2027-01-04T08:30")
    assert hours.opening(at("2027-01-04T17:29:59"), calendar, BEIJING) == at("2027-01-04T17:29:59")
