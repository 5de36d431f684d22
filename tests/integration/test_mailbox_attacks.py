"""The office mailbox attacked: a careless clerk, a careless department, a hostile outsider, a dishonest insider.

Each case is a message put into a real Dovecot (IMAP APPEND) and a real pass (``ssj mailbox``, or
``read_mailbox`` where a pass must be stopped half-way), then what a person would notice: what was recorded,
which folder the message is in, what we answered and how often.
"""

from __future__ import annotations

import hashlib

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import rows
from tests.integration.conftest import CODE
from tests.integration.test_answers_by_mail import (ADMIN_SW, CONTACT_SW, PDF, answer_mail, answers_of,  # noqa: F401
                                                    forms_sent, inbound, lists_sent)  # (the stage and fixtures)
from tests.mail_replies import OFFICE, Ours, filled_list, ours, reply
from workflow.files.email import render
from workflow.persistence.orm import OutboxMessage, SubmittedDocument

ROOT = Path(__file__).resolve().parents[2]


def our_answers(db_url: str, recipient: str) -> list:
    o = OutboxMessage.__table__
    return rows(db_url, select(o.c.message_id, o.c.context).where(o.c.recipient == recipient,
                                                                   o.c.template == "mail_answer").order_by(o.c.id))


# --- a careless department: its auto-responder answers our answer ----------------------------------------------

def test_a_departments_auto_responder_answering_our_answer_is_not_answered_again(lists_sent, db_url, office):
    """An out-of-office reply that sets none of the RFC 3834 headers (many webmail auto-replies don't) answers our
    【已登记】; answering it would make the auto-responder answer us again, every pass, for as long as the
    administrator is away."""
    ssj, sampled = lists_sent
    dispatch = ours(db_url, "dispatch", ADMIN_SW)
    (name, content), = dispatch.files.items()
    office.deliver(reply(dispatch, sender=ADMIN_SW, files={name: filled_list(content)}))
    assert ssj("mailbox", "--now", "2019-11-28T10:00").code == 0
    (answer,) = our_answers(db_url, ADMIN_SW)

    for day in (29, 30):  # the auto-responder answers whatever we sent last
        last = our_answers(db_url, ADMIN_SW)[-1]
        office.deliver(reply(Ours(last.message_id, "【已登记】比对确认清单", ADMIN_SW, {}), sender=ADMIN_SW,
                             subject="Re: 【已登记】比对确认清单", body="您好，我正在休假，12月2日返回，急事请致电。"))
        assert ssj("mailbox", "--now", f"2019-11-{day}T10:00").code == 0

    assert len(our_answers(db_url, ADMIN_SW)) == 1, "each auto-reply was answered: a mail loop"
    assert len(answers_of(db_url, "SW")) == len(sampled)
    assert office.folder("INBOX") == []


def test_an_officers_auto_responder_answering_our_answer_is_not_answered_again(forms_sent, db_url, office):
    """The officer acknowledges by replying; his out-of-office reply then answers our 【已登记】: it is no second
    acknowledgement (that was refused, 【未登记】, and answered again), and it is not answered."""
    ssj, teams, emails = forms_sent
    cert = next(c for team in teams.values() for c, _ in team)
    office.deliver(reply(ours(db_url, "forms_dispatch", emails[cert]), sender=emails[cert], body="收到。"))
    assert ssj("mailbox", "--now", "2019-12-03T09:00").code == 0
    (answer,) = our_answers(db_url, emails[cert])
    office.deliver(reply(Ours(answer.message_id, "【已登记】确认收到一企一表", emails[cert], {}), sender=emails[cert],
                         subject="Re: 【已登记】确认收到一企一表", body="我正在外地培训，12月9日返回。"))

    assert ssj("mailbox", "--now", "2019-12-03T10:00").code == 0

    assert len(our_answers(db_url, emails[cert])) == 1
    first, second = inbound(db_url)
    assert first.outcome == "已记录" and second.folder == "需人工处理" and "自动回复" in second.detail


# --- a hostile outsider: our Message-IDs are computed from public facts ------------------------------------------

def test_a_forged_report_replying_to_a_message_id_computed_from_public_facts_is_not_recorded(lists_sent, db_url,
                                                                                            office):
    """Anyone who knows the campaign's code (it is on every notice), the department's code and the office's address
    can compute the Message-ID of our dispatch, forge From: the department's contact and attach any PDF: the
    reference to our message, which is all that vouches for a file without a token, proves nothing then."""
    from workflow.files.email import message_id

    ssj, _ = lists_sent
    key = f"dispatch|{CODE}|1|SW#{ADMIN_SW}"  # every part of it is public
    guessed = f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{OFFICE.split('@')[1]}>"
    assert guessed != ours(db_url, "dispatch", ADMIN_SW).message_id != message_id(key, OFFICE, "00" * 32)
    office.deliver(reply(Ours(guessed, "【派发】", ADMIN_SW, {}), sender=CONTACT_SW,
                         files={"比对确认报告（盖章）.pdf": b"%PDF-1.4\n% not the department's report\n%%EOF\n"}))

    assert ssj("mailbox", "--now", "2019-12-02T15:00").code == 0

    d = SubmittedDocument.__table__
    assert rows(db_url, select(d.c.id)) == [], "a forged report was recorded as the department's"


# --- a hostile outsider: bytes no mail client writes -------------------------------------------------------------

def test_a_nul_in_the_message_id_or_the_sender_does_not_stop_the_mailbox(lists_sent, db_url, tmp_path,
                                                                          monkeypatch):
    """A NUL in a header (PostgreSQL refuses it in a text value) must cost that message only: the pass goes on, the
    next reply is recorded, the odd message waits for a person. Dovecot turns a NUL into U+FFFD on APPEND, so this is
    the Maildir (``SSJ_MAILDIR``, the demo's mailbox; other IMAP servers may keep the byte)."""
    from workflow.services.maildir import MaildirMailbox

    ssj, sampled = lists_sent
    for key in [k for k in os.environ if k.startswith("SSJ_IMAP_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SSJ_MAILDIR", str(tmp_path / "mail"))
    dispatch = ours(db_url, "dispatch", ADMIN_SW)
    (name, content), = dispatch.files.items()
    with MaildirMailbox(tmp_path / "mail", create=True) as box:
        box.append(b"From: someone@example.com\r\nTo: 1qqj2463@163.com\r\nSubject: =?utf-8?B?5ZKo6K+i?=\r\n"
                   b"Message-ID: <nul\x00id@example.com>\r\n\r\nhello\r\n")
        box.append(b"From: some\x00one@example.com\r\nTo: 1qqj2463@163.com\r\nSubject: x\r\n"
                   b"Message-ID: <nul-sender@example.com>\r\n\r\nhello\r\n")
        box.append(reply(dispatch, sender=ADMIN_SW, files={name: filled_list(content)}))

    result = ssj("mailbox", "--now", "2019-11-28T10:00")

    assert result.code == 0, result.err
    assert len(answers_of(db_url, "SW")) == len(sampled)
    with MaildirMailbox(tmp_path / "mail") as box:
        assert box.messages() == []
    assert len(inbound(db_url)) == 3
    assert ssj("mailbox", "--now", "2019-11-28T10:10").code == 0  # and the next pass is not stuck either


# --- identity ---------------------------------------------------------------------------------------------------

def test_a_display_name_spelling_the_administrators_address_does_not_make_the_sender_him(lists_sent, db_url, office):
    ssj, _ = lists_sent
    dispatch = ours(db_url, "dispatch", ADMIN_SW)
    (name, content), = dispatch.files.items()
    raw = reply(dispatch, sender="evil@outside.example", files={name: filled_list(content)})
    raw = raw.replace(b"From: evil@outside.example", f'From: "{ADMIN_SW}" <evil@outside.example>'.encode(), 1)
    office.deliver(raw)

    assert ssj("mailbox", "--now", "2019-11-28T10:00").code == 0

    assert answers_of(db_url, "SW") == []
    (message,) = inbound(db_url)
    assert message.sender == "evil@outside.example" and message.folder == "需人工处理"
    assert our_answers(db_url, "evil@outside.example") == [] and our_answers(db_url, ADMIN_SW) == []


def test_a_reply_to_another_departments_dispatch_is_not_recorded_and_waits_for_the_office(lists_sent, db_url,
                                                                                          office):
    """SW's contact replies (with a scan) to the dispatch sent to TJ — say a forwarded thread: not SW's, not TJ's."""
    ssj, _ = lists_sent
    theirs = ours(db_url, "dispatch", "admin@tj.luquan.example")
    office.deliver(reply(theirs, sender=CONTACT_SW, files={"报告.pdf": PDF}))

    assert ssj("mailbox", "--now", "2019-12-02T15:00").code == 0

    d = SubmittedDocument.__table__
    assert rows(db_url, select(d.c.id)) == []
    (message,) = inbound(db_url)
    assert message.folder == "需人工处理" and "不是该邮件的收件人" in message.detail


# --- hostile attachments ------------------------------------------------------------------------------------------

def _zip_bomb() -> bytes:
    """An .xlsx whose one sheet unpacks to 300 MB of nothing (a few hundred KB sent)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w") as sheet:
            chunk = b" " * (1 << 20)
            for _ in range(300):
                sheet.write(chunk)
    return out.getvalue()


def test_hostile_attachments_are_refused_with_a_reason_and_the_pass_goes_on(lists_sent, db_url, office):
    ssj, sampled = lists_sent
    dispatch = ours(db_url, "dispatch", ADMIN_SW)
    (name, content), = dispatch.files.items()
    office.deliver(reply(dispatch, sender=ADMIN_SW, files={"比对确认清单.xlsx": _zip_bomb()}))
    office.deliver(reply(dispatch, sender=ADMIN_SW, files={"比对确认清单.xlsx": PDF}))  # a PDF called .xlsx
    evil_name = "../../" + "\u202e" + "xslx.exe" + "长" * 300 + ".xlsx"
    office.deliver(reply(dispatch, sender=ADMIN_SW, files={evil_name: filled_list(content)}))

    started = time.monotonic()
    result = ssj("mailbox", "--now", "2019-11-28T10:00")

    assert result.code == 0, result.err
    assert time.monotonic() - started < 60
    assert office.folder("INBOX") == []
    bomb, pdf, named = inbound(db_url)
    # a spreadsheet that cannot be read is not the list, and never the stamped report (it was recorded as one)
    d = SubmittedDocument.__table__
    assert rows(db_url, select(d.c.id)) == []
    assert (bomb.outcome, pdf.outcome) == ("已退回", "已退回")
    # the list under a hostile name is still the department's own list: recorded, named safely in the answer
    assert named.outcome == "已记录" and len(answers_of(db_url, "SW")) == len(sampled)
    texts = [render("mail_answer", json.loads(b.context)) for b in our_answers(db_url, ADMIN_SW)]
    assert [subject[:5] for subject, _ in texts] == ["【未登记】", "【未登记】", "【已登记】"]
    assert all("无法读取（文件已损坏" in body for _, body in texts[:2])
    assert all("/tmp" not in body and "\u202e" not in body and "../" not in body for _, body in texts)


# --- the clerk --------------------------------------------------------------------------------------------------

def test_a_folder_that_does_not_exist_and_a_mistyped_security_are_told_not_guessed(lists_sent, db_url, office,
                                                                                    monkeypatch):
    ssj, _ = lists_sent
    monkeypatch.setenv("SSJ_IMAP_FOLDER", "收件箱")
    result = ssj("mailbox", "--now", "2019-11-28T10:00")
    assert result.code != 0 and "收件箱" in result.err and "SSJ_IMAP_FOLDER" in result.err

    monkeypatch.setenv("SSJ_IMAP_FOLDER", "INBOX")
    monkeypatch.setenv("SSJ_IMAP_SECURITY", "tls")
    result = ssj("mailbox", "--now", "2019-11-28T10:00")
    assert result.code != 0 and "SSJ_IMAP_SECURITY" in result.err
    tick = ssj("tick", CODE, "--no-mail", "--now", "2019-11-28T10:05")  # the tick goes on and says why
    assert tick.code == 0, tick.err
    assert "SSJ_IMAP_SECURITY" in tick.err


def test_a_mailbox_of_200_unrelated_messages_is_read_in_one_quick_pass(lists_sent, db_url, office):
    from workflow.services.imap import ImapMailbox

    ssj, _ = lists_sent
    with ImapMailbox(office.config()) as box:
        for i in range(200):
            box.append(reply(None, sender=f"shop{i % 7}@news.example", subject=f"优惠活动第 {i} 期", body="促销"))
    started = time.monotonic()
    result = ssj("mailbox", "--now", "2019-11-28T10:00")
    took = time.monotonic() - started

    assert result.code == 0, result.err
    assert "读取 200 封" in result.err + result.out and "需人工处理 200 封" in result.err + result.out
    assert office.folder("INBOX") == [] and len(office.folder("需人工处理")) == 200
    assert took < 60, f"one pass over 200 messages took {took:.0f} s"


# --- two passes, and passes killed ------------------------------------------------------------------------------

def test_a_pass_while_another_is_reading_does_nothing_and_the_reply_is_recorded_once(lists_sent, db_url, office):
    from calendars import BEIJING
    from workflow.persistence.database import make_engine
    from workflow.services.imap import ImapMailbox
    from workflow.services.mailbox import read_mailbox

    _, sampled = lists_sent
    dispatch = ours(db_url, "dispatch", ADMIN_SW)
    (name, content), = dispatch.files.items()
    office.deliver(reply(dispatch, sender=ADMIN_SW, files={name: filled_list(content)}))
    now = datetime(2019, 11, 28, 10, 0, tzinfo=BEIJING)
    engine = make_engine(db_url)
    second_done = threading.Event()
    reports = {}

    def second():
        reports["second"] = read_mailbox(engine, ImapMailbox(office.config()), now=now)
        second_done.set()

    def at_seam(name):
        if name == "mailbox:before-move":  # the first has committed, not moved: the second starts now
            threading.Thread(target=second).start()
            assert second_done.wait(30)

    try:
        reports["first"] = read_mailbox(engine, ImapMailbox(office.config()), now=now, on_seam=at_seam)
    finally:
        engine.dispose()

    assert reports["second"].busy and reports["second"].read == 0
    assert reports["first"].recorded == 1
    assert len(inbound(db_url)) == 1 and len(answers_of(db_url, "SW")) == len(sampled)
    assert len(our_answers(db_url, ADMIN_SW)) == 1
    assert office.folder("INBOX") == [] and len(office.folder("已处理")) == 1


_KILLED_PASS = """
import os, signal, sys
from datetime import datetime
from workflow.persistence.database import make_engine
from workflow.services.imap import open_mailbox
from workflow.services.mailbox import read_mailbox

def kill(name):
    if name == sys.argv[1]:
        os.kill(os.getpid(), signal.SIGKILL)

read_mailbox(make_engine(os.environ["SSJ_DATABASE_URL"]), open_mailbox(os.environ),
             now=datetime.fromisoformat("2019-11-28T10:00+08:00"), on_seam=kill)
sys.exit(3)
"""


@pytest.mark.parametrize("seam", ["mailbox:before-row", "mailbox:before-move"])
def test_a_pass_killed_at_a_seam_is_finished_by_the_next_recording_once(lists_sent, db_url, office, seam):
    ssj, sampled = lists_sent
    dispatch = ours(db_url, "dispatch", ADMIN_SW)
    (name, content), = dispatch.files.items()
    office.deliver(reply(dispatch, sender=ADMIN_SW, files={name: filled_list(content)}))

    done = subprocess.run([sys.executable, "-c", _KILLED_PASS, seam], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "SSJ_DATABASE_URL": db_url}, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert len(office.folder("INBOX")) == 1  # killed before the move: still there
    assert len(inbound(db_url)) == (seam == "mailbox:before-move")

    assert ssj("mailbox", "--now", "2019-11-28T10:10").code == 0

    assert len(inbound(db_url)) == 1 and len(answers_of(db_url, "SW")) == len(sampled)
    assert len(our_answers(db_url, ADMIN_SW)) == 1
    assert office.folder("INBOX") == [] and len(office.folder("已处理")) == 1


# --- a dishonest insider: an officer returns a form of an enterprise his team does not inspect -------------------

def test_an_officer_returning_another_teams_form_records_nothing_and_is_told_why(forms_sent, db_url, office):
    """Officer A has a colleague's genuine 一企一表 (its token is the enterprise's, not A's) and returns it filled:
    the token is ours, but A is not on that enterprise's team."""
    from tests.mail_replies import filled_form
    from workflow.persistence.orm import InspectionRow as Inspection

    ssj, teams, emails = forms_sent
    cert = next(c for team in teams.values() for c, _ in team)
    theirs = next(u for u, team in teams.items() if cert not in [c for c, _ in team])
    other = teams[theirs][0][0]
    sent = ours(db_url, "forms_dispatch", emails[other])
    (name, content), = [(n, c) for n, c in sent.files.items() if n.startswith(theirs) and n.endswith(".xlsx")]
    mine = ours(db_url, "forms_dispatch", emails[cert])
    office.deliver(reply(mine, sender=emails[cert], files={name: filled_form(content, [c for c, _ in teams[theirs]])}))

    assert ssj("mailbox", "--now", "2019-12-11T09:00").code == 0

    i = Inspection.__table__
    assert rows(db_url, select(i.c.state).where(i.c.uscc == theirs)) == [("assigned",)]
    (message,) = inbound(db_url)
    assert message.outcome == "已退回"
    mail = answer_mail(db_url, emails[cert])
    assert mail["subject"].startswith("【未登记】") and "检查组" in mail["body"] and theirs in mail["body"]


# --- header attacks ---------------------------------------------------------------------------------------------

def test_a_huge_message_id_a_thousand_references_and_a_subject_with_line_breaks_reach_nobody_else(
        lists_sent, db_url, office, smtp_server):
    """Our answer quotes the subject and threads under the reply's Message-ID: neither may add a header (a Bcc to
    an outsider) nor make the answer a message the SMTP server refuses."""
    ssj, sampled = lists_sent
    inbox, _ = smtp_server
    dispatch = ours(db_url, "dispatch", ADMIN_SW)
    (name, content), = dispatch.files.items()
    huge = "<" + "x" * 10_000 + "@sw.luquan.example>"
    raw = reply(None, sender=ADMIN_SW, files={name: filled_list(content)}, subject="回复", message_id="<tmp@x>")
    references = " ".join(f"<ref{i}@elsewhere.example>" for i in range(1000)) + f" {dispatch.message_id}"
    raw = raw.replace(b"Subject: =?utf-8?b?5Zue5aSN?=",  # 回复, then CR LF and a Bcc inside the encoded word
                      b"Subject: =?utf-8?Q?=E5=9B=9E=E5=A4=8D=0D=0ABcc:_evil@outside.example?=")
    raw = raw.replace(b"Message-ID: <tmp@x>", f"Message-ID: {huge}\r\nReferences: {references}".encode())
    assert b"Bcc" in raw and huge.encode() in raw
    office.deliver(raw)

    result = ssj("tick", CODE, "--now", "2019-11-28T10:00")

    assert result.code == 0, result.err
    assert len(answers_of(db_url, "SW")) == len(sampled)
    (answer,) = [(to, m) for to, m in inbox.messages if "【已登记】" in str(m["Subject"])]
    to, message = answer
    assert list(to) == [ADMIN_SW] and message["Bcc"] is None
    assert "".join(str(message["In-Reply-To"]).split()) == huge
    assert all(len(line) <= 998 for line in message.as_bytes().split(b"\n"))
    assert "Bcc: evil@outside.example" in message.get_body(("plain",)).get_content()  # quoted, as text
