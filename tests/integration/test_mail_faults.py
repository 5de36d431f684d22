"""Mail fails one message at a time (issue 14, cases 1 and 2), against a real SMTP server on loopback.

A name with a line break, a file deleted after it was queued, a recipient the server refuses,
a server that drops the connection after DATA, a second campaign beside a poisoned one: each
test checks what the office sees (exit code, messages), that every other message went, and
that the audit chains still verify. Bad data is written straight into the database, as data
that predates the checks at import would be.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, text, update

from tests.conftest import EXAMPLE_CAMPAIGN, Inbox, draw_campaign, serve_smtp
from workflow.identity import SYSTEM
from workflow.persistence import orm
from workflow.persistence.database import make_engine
from workflow.services.dashboard import dashboard
from workflow.services.overdue import prepare_daily_overdue_report
from workflow.services.uow import UnitOfWork

CODE = "luquan-2019-h2"
OTHER = "luquan-2020-h1"
_o = orm.OutboxMessage.__table__


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Shanghai"))


class Server(Inbox):
    """The loopback server, with its moods: addresses it refuses (550) and addresses whose message it takes,
    then hangs up on before answering (the sender cannot know whether it was delivered)."""

    def __init__(self):
        super().__init__()
        self.refuse: set[str] = set()
        self.hang_up: set[str] = set()
        self.rcpt_tries: list[str] = []
        self.data_seen: list[tuple[str, str]] = []  # (recipient, Message-ID) for every DATA received

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_tries.append(address)
        if address in self.refuse:
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.data_seen.append((envelope.rcpt_tos[0], message["Message-ID"]))
        if set(envelope.rcpt_tos) & self.hang_up:
            server.transport.close()
            return "250 OK"  # never reaches the sender: the connection is gone
        return await super().handle_DATA(server, session, envelope)

    def to(self, address: str) -> list:
        return [m for rcpts, m in self.messages if address in rcpts]


@pytest.fixture(params=["pipelining", "one command at a time"])
def server(monkeypatch, request):
    """The server, offering PIPELINING or not: every fault means the same either way."""
    handler = Server()
    handler.pipelining = request.param == "pipelining"
    with serve_smtp(handler, monkeypatch):
        yield handler


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def rows(engine, **where):
    with engine.connect() as conn:
        return conn.execute(select(_o).filter_by(**where).order_by(_o.c.id)).all()


def change(engine, statement) -> None:
    with engine.begin() as conn:
        conn.execute(statement)


def tick(ssj, when: str, code: str = CODE, expect: int = 0):
    """``ssj tick``; ``expect=1`` where the campaign's mail fails in this run or is still failing (issue 15)."""
    result = ssj("tick", code, "--now", when)
    assert result.code == expect, result.err
    return result


def audit_clean(ssj) -> None:
    verified = ssj("audit", "verify")
    assert verified.code == 0, verified.out + verified.err


def test_a_line_break_in_an_enterprise_name_goes_out_on_one_line(loaded, engine, server):
    """Case 1: a CR/LF in a name stopped every tick; the subject now carries it as a space, nothing is injected."""
    sampled = draw_campaign(loaded)["sampled"]
    change(engine, update(orm.Enterprise.__table__).where(orm.Enterprise.uscc == sampled[0])
           .values(name="坏名称有限公司\r\nBcc: thief@evil.example"))
    result = tick(loaded, "2019-11-28T09:30")
    assert "警告" not in result.err
    assert {r.state for r in rows(engine)} == {"已发"}, "every reminder and dispatch mail went"
    bodies = [m.get_body(preferencelist=("plain",)).get_content() for _, m in server.messages]
    lists = [body for body in bodies if "坏名称有限公司" in body]
    assert lists and all("坏名称有限公司 Bcc: thief@evil.example（统一社会信用代码" in body for body in lists), \
        "the name on its line of the list, as one line"
    assert not any(m["Bcc"] for _, m in server.messages)
    assert not any("thief@evil.example" in r for r in server.rcpt_tries), "no header was injected"
    audit_clean(loaded)


def test_a_deleted_forms_folder_does_not_stop_the_mail(assigned, engine, server):
    """Case 1: the files are stored with their message when it is queued, so deleting ``--out DIR`` costs nothing;
    a message queued before that (a local path only) whose file is gone fails alone, and goes once it is back."""
    ssj, _sampled, _teams, forms = assigned
    officers = rows(engine, kind="forms")
    assert officers
    legacy, kept = officers[0], forms.parent / "kept"
    kept.mkdir()
    lost_file = sorted((forms / "一企一表").glob("*.xlsx"))[0]
    (kept / lost_file.name).write_bytes(lost_file.read_bytes())
    context = json.loads(legacy.context)
    context["attachments"] = [str(lost_file)]  # as rows were queued before the files went into the database
    change(engine, delete(orm.OutboxAttachment.__table__).where(orm.OutboxAttachment.message_key == legacy.key))
    change(engine, update(_o).where(_o.c.id == legacy.id).values(context=json.dumps(context, ensure_ascii=False)))

    shutil.rmtree(forms)
    result = tick(ssj, "2019-12-03T10:00", expect=1)  # set aside in this run: the run says so
    assert "无法生成 1 封" in result.out
    assert "警告" in result.err and "无法生成 1 封" in result.err
    [failed] = rows(engine, state="无法生成")
    assert failed.id == legacy.id and lost_file.name in failed.last_error and legacy.recipient in failed.last_error
    assert CODE in failed.last_error and "附件" in failed.last_error and "不存在" in failed.last_error
    assert {r.state for r in rows(engine) if r.id != legacy.id} == {"已发"}, "every other message went"
    for row in officers[1:]:
        [mail] = server.to(row.recipient)
        names = [a.get_filename() for a in mail.iter_attachments()]
        assert names and all(n.endswith((".xlsx", ".docx")) for n in names), "its 一企一表 from the database"
    status = ssj("campaign", "status", CODE)
    assert status.code == 0 and "无法生成 1 封" in status.out and lost_file.name in status.out

    tick(ssj, "2019-12-03T11:00")
    assert rows(engine, state="无法生成"), "not tried again while nothing changed"
    assert not server.to(legacy.recipient)
    lost_file.parent.mkdir(parents=True)
    lost_file.write_bytes((kept / lost_file.name).read_bytes())
    result = tick(ssj, "2019-12-03T11:15")
    assert not rows(engine, state="无法生成") and "警告" not in result.err
    [mail] = server.to(legacy.recipient)
    assert mail["Message-ID"] == legacy.message_id
    audit_clean(ssj)


def test_a_refused_recipient_bounces_after_three_answers_and_stays_put(loaded, engine, server, tmp_path):
    """Case 2: a 550 was retried every hour for ever with a green tick; now 退信 after three, shown to the office."""
    draw_campaign(loaded)
    dispatch = rows(engine, kind="dispatch")
    refused = dispatch[0].recipient
    server.refuse.add(refused)
    first = tick(loaded, "2019-11-27T09:05", expect=1)
    assert "稍后重试 1 封" in first.out and "550" in first.err
    assert all(server.to(r.recipient) for r in dispatch[1:]), "the other departments have their lists"
    tick(loaded, "2019-11-27T09:07", expect=1)
    third = tick(loaded, "2019-11-27T09:10", expect=1)  # the bounce fails the run it happens in, no later one
    assert "退信 1 封" in third.out
    assert "警告" in third.err and "退信 1 封" in third.err and f"ssj campaign status {CODE}" in third.err
    [bounced] = rows(engine, state="退信")
    assert bounced.recipient == refused and bounced.rejections == 3
    assert "550 5.1.1" in bounced.last_error and "User unknown" in bounced.last_error and CODE in bounced.last_error
    assert server.rcpt_tries.count(refused) == 3
    later = tick(loaded, "2019-11-27T18:00")
    assert server.rcpt_tries.count(refused) == 3, "never tried again by itself"
    assert rows(engine, id=bounced.id)[0].attempts == bounced.attempts
    assert "警告" in later.err and "退信 1 封" in later.err, "a later tick still says so"
    status = json.loads(loaded("campaign", "status", CODE, "--json").out)["mail_problems"]
    assert status["counts"]["退信"] == 1 and status["messages"][0]["recipient"] == refused
    assert not server.to(refused)
    assert {r.state for r in rows(engine) if r.recipient != refused} == {"已发"}
    office = UnitOfWork(engine, now=at("2019-11-28T08:30"), actor=SYSTEM, campaign=CODE)
    board = dashboard(office)
    assert "退信 1 封" in board.mail_problems and refused in board.markdown, "on the dashboard's summary"
    prepare_daily_overdue_report(office, tmp_path / "报表")
    tick(loaded, "2019-11-28T08:31", expect=1)  # the refused administrator's 【提醒】 is refused in its turn
    reports = [m for _, m in server.messages if str(m["Subject"]).startswith("【逾期报告】")]
    assert reports and all("退信 1 封" in m.get_body(("plain",)).get_content() for m in reports), \
        "and in the office's morning report"
    audit_clean(loaded)


def test_a_connection_lost_after_data_is_resent_once_under_the_same_message_id(loaded, engine, server):
    """Case 2: the first message of the batch went again on every tick and the rest failed; now the session is
    re-opened, the message re-sent once, then flagged 投递不明."""
    draw_campaign(loaded)
    dispatch = rows(engine, kind="dispatch")
    lost = dispatch[0]
    server.hang_up.add(lost.recipient)
    first = tick(loaded, "2019-11-27T09:05", expect=1)
    assert "稍后重试 1 封" in first.out and "不确定是否送达" in first.err
    assert {r.state for r in rows(engine) if r.id != lost.id} == {"已发"}, "the rest of the batch went"
    assert all(server.to(r.recipient) for r in dispatch[1:])
    second = tick(loaded, "2019-11-27T09:10", expect=1)
    assert "投递不明 1 封" in second.out and "警告" in second.err
    tick(loaded, "2019-11-27T10:00")
    tick(loaded, "2019-11-28T12:00", expect=1)  # the day's reminders to that address are hung up on too
    tries = [mid for _, mid in server.data_seen if mid == lost.message_id]
    assert len(tries) == 2, "sent, re-sent once under the same Message-ID, no more"
    [unclear] = rows(engine, state="投递不明")
    assert unclear.id == lost.id and lost.message_id in unclear.last_error and lost.recipient in unclear.last_error
    audit_clean(loaded)


def test_a_poisoned_message_in_one_campaign_holds_back_no_other(loaded, engine, server, tmp_path):
    """Case 1: every campaign's mail stopped behind one bad row; the claim is now shared among campaigns and a
    message that cannot be made is set aside alone."""
    draw_campaign(loaded)
    other = tmp_path / "other.toml"
    other.write_text(EXAMPLE_CAMPAIGN.read_text(encoding="utf-8").replace(CODE, OTHER), encoding="utf-8")
    draw_campaign(loaded, other, OTHER)
    mine = rows(engine, campaign_code=CODE)
    poisoned = mine[0]
    change(engine, update(_o).where(_o.c.id == poisoned.id)
           .values(recipient=poisoned.recipient + "\r\nBcc: thief@evil.example"))
    with UnitOfWork(engine, now=at("2019-11-27T09:05"), actor=SYSTEM) as uow:
        claimed = uow.outbox.claim(now=uow.now, worker="look", limit=4)
    assert {r.campaign_code for r in claimed} == {CODE, OTHER}, "a claim takes from every campaign"
    change(engine, update(_o).values(claimed_at=None, claimed_by=None))

    result = tick(loaded, "2019-11-27T09:05", OTHER)
    assert "无法生成 1 封" in result.out
    assert {r.state for r in rows(engine, campaign_code=OTHER)} == {"已发"}, "the other campaign's mail all went"
    assert {r.state for r in rows(engine, campaign_code=CODE) if r.id != poisoned.id} == {"已发"}
    [failed] = rows(engine, state="无法生成")
    assert failed.id == poisoned.id and "收件人" in failed.last_error and CODE in failed.last_error
    assert not any("thief@evil.example" in r for r in server.rcpt_tries)
    assert "警告" not in result.err, "the other campaign has nothing for its office"
    assert "警告" in tick(loaded, "2019-11-27T09:10", CODE).err

    change(engine, update(_o).where(_o.c.id == poisoned.id).values(recipient=poisoned.recipient))
    fixed = tick(loaded, "2019-11-27T09:20", CODE)
    assert "警告" not in fixed.err and {r.state for r in rows(engine)} == {"已发"}, "fixed data: sent by the next tick"
    assert len(server.to(poisoned.recipient)) == sum(r.recipient == poisoned.recipient for r in rows(engine))
    audit_clean(loaded)


def test_every_set_aside_message_is_looked_at_again_not_only_the_first_page(loaded, engine):
    """无法生成 rows are read a page at a time: those past the first page come back too once their data changed."""
    from workflow.services.outbox import SendReport, revive_fixed

    draw_campaign(loaded)
    queued = rows(engine, kind="dispatch")
    assert len(queued) > 4
    change(engine, update(_o).where(_o.c.kind == "dispatch").values(state="无法生成", inputs_sha256="what it failed on"))
    report = SendReport()
    revive_fixed(UnitOfWork(engine, now=at("2019-11-27T10:00"), actor=SYSTEM), {}, report, page=2)
    assert report.revived == len(queued)
    assert not rows(engine, state="无法生成") and {r.state for r in rows(engine, kind="dispatch")} == {"待发"}


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_mark_that_fails_holds_back_the_next_message_and_the_first_goes_once_more(loaded, engine, server):
    """PostgreSQL commits a sent mark while the next message is on its way; when that mark fails, the next
    message's final dot is never sent (the server drops it unfinished): the run stops with one accepted message
    unmarked, which the next run sends once more under the same Message-ID, and no other twice."""
    draw_campaign(loaded)
    dispatch = rows(engine, kind="dispatch")
    first = dispatch[0]
    change(engine, text(f"""
        CREATE FUNCTION refuse_mark() RETURNS trigger AS $$ BEGIN
            IF NEW.id = {first.id} AND NEW.sent_at IS NOT NULL THEN RAISE EXCEPTION 'disk full'; END IF;
            RETURN NEW; END $$ LANGUAGE plpgsql;
        CREATE TRIGGER refuse_mark BEFORE UPDATE ON outbox FOR EACH ROW EXECUTE FUNCTION refuse_mark();"""))
    failed = loaded("tick", CODE, "--now", "2019-11-27T09:05")
    assert failed.code != 0
    assert [mid for _, mid in server.data_seen] == [first.message_id], "the next message was never completed"
    assert {r.state for r in rows(engine, kind="dispatch")} == {"待发"}
    change(engine, text("DROP TRIGGER refuse_mark ON outbox; DROP FUNCTION refuse_mark();"))
    tick(loaded, "2019-11-27T09:20")  # after the stopped run's lease
    assert {r.state for r in rows(engine, kind="dispatch")} == {"已发"}
    seen = [mid for _, mid in server.data_seen]
    assert seen.count(first.message_id) == 2 and all(seen.count(r.message_id) == 1 for r in dispatch[1:])
    audit_clean(loaded)
