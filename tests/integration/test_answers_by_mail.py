"""Departments and officers answer by replying; ``ssj mailbox`` reads a real IMAP server (Dovecot on loopback),
records each reply as its sender with the commands' own rules, answers him, and files the message.

Each case is a message put into the office mailbox with IMAP APPEND, as a department's or an officer's mail
client would have sent it (tests/mail_replies.py), then read as the office would see it: the database, the
answer queued to the sender, the folders.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy import select

from tests.conftest import rows, stage, stage_facts
from tests.integration.conftest import CODE
from tests.mail_replies import filled_form, filled_list, ours, reply, usccs_of
from workflow.persistence.orm import (AuditEvent, InboundMessage, InspectionDepartment, OutboxMessage,
                                      SubmittedDocument)

ADMIN_SW, ADMIN_TJ = "admin@sw.luquan.example", "admin@tj.luquan.example"
CONTACT_SW = "contact@sw.luquan.example"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"  # what a scanner writes, kept as sent


@stage("lists_sent", after="loaded")
def _lists_sent(ssj, folder, facts):
    from tests.conftest import EXAMPLE_CAMPAIGN, draw_campaign

    source = EXAMPLE_CAMPAIGN.read_text(encoding="utf-8").replace('ratio = "1%"', 'ratio = "5%"')
    (folder / "campaign.toml").write_text(source, encoding="utf-8")
    return {**facts, "sampled": draw_campaign(ssj, folder / "campaign.toml")["sampled"]}


@pytest.fixture
def lists_sent(loaded, request):
    """The seed campaign drawn at 5 % (2019-11-27 09:00): each department's list queued to its administrator."""
    return loaded, stage_facts(request)["sampled"]


def inbound(db_url: str) -> list:
    m = InboundMessage.__table__
    return rows(db_url, select(m).order_by(m.c.id))


def answers_of(db_url: str, department: str) -> list:
    d = InspectionDepartment.__table__
    return rows(db_url, select(d.c.inspects, d.c.decline_reason, d.c.answered_by)
                .where(d.c.department_code == department, d.c.answered_at.is_not(None)))


def answer_mail(db_url: str, recipient: str) -> dict:
    """Our answer to ``recipient``: its subject and body as he reads them."""
    from workflow.files.email import render

    o = OutboxMessage.__table__
    found = rows(db_url, select(o.c.template, o.c.context).where(o.c.recipient == recipient,
                                                                 o.c.template == "mail_answer").order_by(o.c.id))
    assert found, f"no answer to {recipient}"
    subject, body = render(found[-1].template, json.loads(found[-1].context))
    return {"subject": subject, "body": body, "count": len(found)}


def test_a_filled_list_is_recorded_as_the_department_and_the_administrator_is_answered(lists_sent, db_url, office):
    ssj, sampled = lists_sent
    dispatch = ours(db_url, "dispatch", ADMIN_SW)
    (name, content), = dispatch.files.items()
    declined = usccs_of(content)[:3]
    filled = filled_list(content, {u: ("否", "不属于本部门监管范围") for u in declined})
    office.deliver(reply(dispatch, sender=ADMIN_SW, files={name: filled}))

    result = ssj("mailbox", "--now", "2019-11-28T10:00")

    assert result.code == 0, result.err
    answered = answers_of(db_url, "SW")
    assert len(answered) == len(sampled) and {a.answered_by for a in answered} == {ADMIN_SW}
    assert sum(not a.inspects for a in answered) == 3
    (message,) = inbound(db_url)
    assert (message.outcome, message.kind, message.party, message.folder) == ("已记录", "confirm_list", "SW", "已处理")
    mail = answer_mail(db_url, ADMIN_SW)
    assert mail["subject"].startswith("【已登记】比对确认清单")
    assert f"共 {len(sampled)} 户，检查 {len(sampled) - 3} 户，不检查 3 户" in mail["body"]
    assert office.folder("INBOX") == [] and len(office.folder("已处理")) == 1
    a = AuditEvent.__table__
    via = [json.loads(p)["via_mail"] for (p,) in rows(db_url, select(a.c.payload).where(a.c.action == "answer"))]
    assert via and all(v["sender"] == ADMIN_SW and v["files"][0]["name"] == name for v in via)


def test_a_refused_list_records_nothing_and_says_each_problem_as_the_command_would(lists_sent, db_url, office):
    ssj, sampled = lists_sent
    dispatch = ours(db_url, "dispatch", ADMIN_SW)
    (name, content), = dispatch.files.items()
    bad = filled_list(content, {usccs_of(content)[1]: ("否", "")})  # 否 without its reason
    office.deliver(reply(dispatch, sender=ADMIN_SW, files={name: bad}))

    assert ssj("mailbox", "--now", "2019-11-28T10:00").code == 0

    assert answers_of(db_url, "SW") == []
    (message,) = inbound(db_url)
    assert message.outcome == "已退回" and message.folder == "已处理"
    body = answer_mail(db_url, ADMIN_SW)["body"]
    assert f"{name}:3:" in body and "未能登记" in body and "/tmp" not in body
    assert "导入被拒绝" in body


def test_a_scanned_report_replying_to_the_dispatch_is_kept_as_sent(lists_sent, db_url, office):
    ssj, _ = lists_sent
    dispatch = ours(db_url, "dispatch", ADMIN_SW)
    office.deliver(reply(dispatch, sender=CONTACT_SW, files={"比对确认报告（盖章）.pdf": PDF}))

    assert ssj("mailbox", "--now", "2019-12-02T15:00").code == 0

    d = SubmittedDocument.__table__
    (doc,) = rows(db_url, select(d.c.kind, d.c.department_code, d.c.content, d.c.submitted_by))
    assert (doc.kind, doc.department_code, bytes(doc.content), doc.submitted_by) == \
        ("confirmation_report", "SW", PDF, CONTACT_SW)
    assert answer_mail(db_url, CONTACT_SW)["subject"].startswith("【已登记】盖章的比对确认报告")


def test_a_stranger_and_unrelated_mail_wait_for_the_office_and_are_never_answered(lists_sent, db_url, office):
    ssj, _ = lists_sent
    dispatch = ours(db_url, "dispatch", ADMIN_SW)
    (name, content), = dispatch.files.items()
    office.deliver(reply(dispatch, sender="someone@example.com", files={name: filled_list(content)}))
    office.deliver(reply(None, sender="news@shop.example", subject="双十二大促", body="优惠"))

    assert ssj("mailbox", "--now", "2019-11-28T10:00").code == 0

    assert answers_of(db_url, "SW") == []
    assert {m.outcome for m in inbound(db_url)} == {"需人工处理"}
    assert len(office.folder("需人工处理")) == 2
    o = OutboxMessage.__table__
    assert rows(db_url, select(o.c.id).where(o.c.template == "mail_answer")) == []
    status = ssj("campaign", "status", CODE, "--now", "2019-11-28T10:05")
    assert "someone@example.com" in status.out and "需人工处理" in status.out


def test_another_departments_list_sent_under_a_forged_sender_is_not_recorded(lists_sent, db_url, office):
    ssj, _ = lists_sent
    theirs = ours(db_url, "dispatch", ADMIN_TJ)
    (name, content), = theirs.files.items()
    office.deliver(reply(None, sender=ADMIN_SW, files={name: filled_list(content)}))  # TJ's list from SW's admin

    assert ssj("mailbox", "--now", "2019-11-28T10:00").code == 0

    assert answers_of(db_url, "TJ") == [] and answers_of(db_url, "SW") == []
    (message,) = inbound(db_url)
    assert message.folder == "需人工处理" and "TJ" in message.detail
    assert "未登记" in answer_mail(db_url, ADMIN_SW)["subject"]  # the real SW administrator sees the attempt


def test_a_tampered_token_is_refused(lists_sent, db_url, office):
    ssj, _ = lists_sent
    dispatch = ours(db_url, "dispatch", ADMIN_SW)
    (name, content), = dispatch.files.items()
    office.deliver(reply(None, sender=ADMIN_SW, files={name: _edit_token(filled_list(content))}))

    assert ssj("mailbox", "--now", "2019-11-28T10:00").code == 0

    assert answers_of(db_url, "SW") == []
    (message,) = inbound(db_url)
    assert message.folder == "需人工处理" and "校验标记" in message.detail


def test_the_same_reply_delivered_twice_is_recorded_once(lists_sent, db_url, office):
    ssj, sampled = lists_sent
    dispatch = ours(db_url, "dispatch", ADMIN_SW)
    (name, content), = dispatch.files.items()
    raw = reply(dispatch, sender=ADMIN_SW, files={name: filled_list(content)}, message_id="<twice@sw.luquan.example>")
    office.deliver(raw)
    office.deliver(raw)

    assert ssj("mailbox", "--now", "2019-11-28T10:00").code == 0
    office.deliver(raw)  # and once more, a day later
    assert ssj("mailbox", "--now", "2019-11-29T10:00").code == 0

    assert len(inbound(db_url)) == 1 and len(answers_of(db_url, "SW")) == len(sampled)
    assert answer_mail(db_url, ADMIN_SW)["count"] == 1
    assert len(office.folder("已处理")) == 3 and office.folder("INBOX") == []


def test_gbk_file_names_are_read_as_the_department_wrote_them(lists_sent, db_url, office):
    ssj, sampled = lists_sent
    dispatch = ours(db_url, "dispatch", ADMIN_SW)
    (_, content), = dispatch.files.items()
    office.deliver(_gbk_reply(dispatch.message_id, ADMIN_SW, "税务局比对确认表（已填）.xlsx", filled_list(content)))

    assert ssj("mailbox", "--now", "2019-11-28T10:00").code == 0

    assert len(answers_of(db_url, "SW")) == len(sampled)
    assert "税务局比对确认表（已填）.xlsx" in answer_mail(db_url, ADMIN_SW)["body"]


def test_a_mailbox_that_cannot_be_reached_does_not_stop_the_tick_and_the_board_says_so(lists_sent, db_url, office,
                                                                                        monkeypatch):
    ssj, _ = lists_sent
    office.stop()
    result = ssj("tick", CODE, "--no-mail", "--now", "2019-11-28T10:00")
    assert result.code == 0, result.err
    assert "办公室邮箱无法读取" in result.err
    status = ssj("campaign", "status", CODE, "--now", "2019-11-28T10:05")
    assert "失败" in status.out and "连接" in status.out


def _edit_token(content: bytes) -> bytes:
    """The list with its token's party changed by hand (in the hidden sheet's XML, as an editor would)."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content))
    sheet = book["ssj"]
    for row in sheet.iter_rows():
        if row[0].value == "token":
            row[1].value = row[1].value[:-4] + "0000"
    out = io.BytesIO()
    book.save(out)
    assert zipfile.is_zipfile(io.BytesIO(out.getvalue()))
    return out.getvalue()


def _gbk_reply(original_id: str, sender: str, filename: str, content: bytes) -> bytes:
    """A reply as an old client writes it: the subject in RFC 2047 GBK, the file name as raw GBK bytes."""
    import base64

    body = base64.encodebytes(content)
    subject = "=?GBK?B?" + base64.b64encode("回复：比对确认".encode("gbk")).decode() + "?="
    head = (f"From: {sender}\r\nTo: 1qqj2463@163.com\r\nSubject: {subject}\r\n"
            f"Message-ID: <gbk-{len(content)}@sw.luquan.example>\r\nIn-Reply-To: {original_id}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n").encode()
    text = b"--b1\r\nContent-Type: text/plain; charset=GBK\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + \
        "已填好，请查收。".encode("gbk") + b"\r\n"
    part = (b"--b1\r\nContent-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name=\"" +
            filename.encode("gbk") + b"\"\r\nContent-Disposition: attachment; filename=\"" + filename.encode("gbk") +
            b"\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + body.replace(b"\n", b"\r\n") + b"--b1--\r\n")
    return head + text + part


@pytest.fixture
def forms_sent(matched, db_url):
    """The matched campaign's tick (2019-12-02 11:00) has sent each officer his 一企一表: (ssj, teams, officers'
    addresses by certificate number)."""
    from workflow.persistence.orm import Officer

    ssj, sampled, teams = matched
    assert ssj("tick", CODE, "--no-mail", "--now", "2019-12-02T11:00").code in (0, 1)
    o = Officer.__table__
    emails = dict(rows(db_url, select(o.c.certificate_no, o.c.email)))
    return ssj, teams["teams"], emails


def _tasks(db_url: str, kind: str) -> list:
    from workflow.persistence.orm import TaskRow

    t = TaskRow.__table__
    return rows(db_url, select(t.c.certificate_no, t.c.inspection_id, t.c.done_at).where(t.c.kind == kind))


def test_an_officer_acknowledges_by_replying_without_an_attachment(forms_sent, db_url, office):
    ssj, teams, emails = forms_sent
    cert = next(c for team in teams.values() for c, _ in team)
    mail = ours(db_url, "forms_dispatch", emails[cert])
    office.deliver(reply(mail, sender=emails[cert], body="收到，按时参加。"))

    assert ssj("mailbox", "--now", "2019-12-03T09:00").code == 0

    done = {c: at for c, _, at in _tasks(db_url, "acknowledge")}
    assert done[cert] is not None and sum(at is not None for at in done.values()) == 1
    assert answer_mail(db_url, emails[cert])["subject"].startswith("【已登记】确认收到一企一表")


def test_an_officer_returns_two_filled_forms_in_one_reply(forms_sent, db_url, office):
    from workflow.persistence.orm import InspectionRow as Inspection

    ssj, teams, emails = forms_sent
    cert = next(c for team in teams.values() for c, _ in team
                if sum(c in [x for x, _ in t] for t in teams.values()) >= 2)
    mine = [u for u, team in teams.items() if cert in [c for c, _ in team]][:2]
    mail = ours(db_url, "forms_dispatch", emails[cert])
    files = {name: filled_form(content, [c for c, _ in teams[name.split("-")[0]]])
             for name, content in mail.files.items() if name.endswith(".xlsx") and name.split("-")[0] in mine}
    assert len(files) == 2
    office.deliver(reply(mail, sender=emails[cert], files=files))

    result = ssj("mailbox", "--now", "2019-12-11T09:00")

    assert result.code == 0, result.err
    i = Inspection.__table__
    states = dict(rows(db_url, select(i.c.uscc, i.c.state).where(i.c.uscc.in_(mine))))
    assert set(states.values()) == {"reported"}, states
    body = answer_mail(db_url, emails[cert])["body"]
    assert all(u in body for u in mine) and "全部事项已回填" in body
    assert "并记录为已确认收到一企一表" in body


def test_a_photo_instead_of_the_form_is_answered_with_what_to_do(forms_sent, db_url, office):
    ssj, teams, emails = forms_sent
    cert = next(c for team in teams.values() for c, _ in team)
    mail = ours(db_url, "forms_dispatch", emails[cert])
    office.deliver(reply(mail, sender=emails[cert], files={"现场照片.jpg": b"\xff\xd8\xff\xe0fake-jpeg"}))

    assert ssj("mailbox", "--now", "2019-12-11T09:00").code == 0

    assert inbound(db_url)[0].outcome == "已退回"
    body = answer_mail(db_url, emails[cert])["body"]
    assert "现场照片.jpg" in body and "Excel" in body


def test_a_report_that_arrived_before_its_deadline_is_on_time_though_read_after_it(lists_sent, db_url, office):
    from datetime import datetime

    from calendars import BEIJING

    ssj, _ = lists_sent
    dispatch = ours(db_url, "dispatch", ADMIN_SW)
    arrived = datetime(2019, 12, 2, 16, 50, tzinfo=BEIJING)  # the deadline is 2019-12-02 17:00
    office.deliver(reply(dispatch, sender=ADMIN_SW, files={"报告.pdf": PDF}, when=arrived), at=arrived)

    assert ssj("mailbox", "--now", "2019-12-02T17:20").code == 0

    a = AuditEvent.__table__
    (payload,) = [json.loads(p) for (p,) in rows(db_url, select(a.c.payload).where(
        a.c.action == "confirmation_report"))]
    assert payload["late"] is False
    (message,) = inbound(db_url)
    assert message.handled_at.astimezone(BEIJING) == arrived
    assert "已超过期限" not in answer_mail(db_url, ADMIN_SW)["body"]
    theirs = ours(db_url, "dispatch", "admin@rs.luquan.example")  # five minutes too late
    office.deliver(reply(theirs, sender="admin@rs.luquan.example", files={"报告.pdf": PDF}),
                   at=datetime(2019, 12, 2, 17, 5, tzinfo=BEIJING))
    assert ssj("mailbox", "--now", "2019-12-02T17:20").code == 0
    assert "已超过期限" in answer_mail(db_url, "admin@rs.luquan.example")["body"]


def test_a_summary_after_the_report_is_read_from_its_document(lists_sent, db_url, office, tmp_path):
    from docx import Document

    ssj, _ = lists_sent
    dispatch = ours(db_url, "dispatch", ADMIN_SW)
    office.deliver(reply(dispatch, sender=ADMIN_SW, files={"比对确认报告.pdf": PDF}))
    assert ssj("mailbox", "--now", "2019-12-02T15:00").code == 0
    doc = Document()
    for heading, text in (("亮点", "按期完成全部检查。"), ("经验做法", "联络人逐户电话联系企业。"), ("存在问题", "部分企业法定代表人不在场。")):
        doc.add_paragraph(heading)
        doc.add_paragraph(text)
    doc.save(tmp_path / "总结.docx")
    office.deliver(reply(dispatch, sender=ADMIN_SW, files={"税务局工作总结.docx": (tmp_path / "总结.docx").read_bytes()}))

    assert ssj("mailbox", "--now", "2019-12-16T10:00").code == 0

    d = SubmittedDocument.__table__
    summary = rows(db_url, select(d.c.filename, d.c.highlights, d.c.problems).where(d.c.kind == "summary"))
    assert [(s.filename, s.highlights, s.problems) for s in summary] == \
        [("税务局工作总结.docx", "按期完成全部检查。", "部分企业法定代表人不在场。")]
    assert answer_mail(db_url, ADMIN_SW)["subject"].startswith("【已登记】部门总结")


def test_the_whole_round_trip_through_smtp_and_imap(lists_sent, db_url, office, smtp_server):
    """The tick mails the list (SMTP); the administrator fills the attachment of what he received and replies; the
    next tick reads the mailbox (IMAP), records the answers and mails him the answer, threaded under his reply."""
    from email import message_from_bytes, policy

    ssj, sampled = lists_sent
    inbox, _ = smtp_server
    assert ssj("tick", CODE, "--now", "2019-11-27T09:05").code == 0
    (received,) = [m for to, m in inbox.messages if ADMIN_SW in to and "【派发】" in str(m["Subject"])]
    assert received["Reply-To"] == "1qqj2463@163.com"
    (part,) = list(received.iter_attachments())
    answer = reply(None, sender=ADMIN_SW, files={part.get_filename(): filled_list(part.get_content())},
                   subject=f"回复：{received['Subject']}")
    answer = answer.replace(b"\r\n\r\n", f"\r\nIn-Reply-To: {received['Message-ID']}\r\n\r\n".encode(), 1)
    office.deliver(answer)

    result = ssj("tick", CODE, "--now", "2019-11-28T10:00")

    assert result.code == 0, result.err
    assert "办公室邮箱：读取 1 封，登记 1 封" in result.err
    assert len(answers_of(db_url, "SW")) == len(sampled)
    (ours_back,) = [m for to, m in inbox.messages if "【已登记】" in str(m["Subject"])]
    mine = message_from_bytes(answer, policy=policy.default)
    assert ours_back["To"] == ADMIN_SW and ours_back["In-Reply-To"] == mine["Message-ID"]
    assert ours_back["Auto-Submitted"] == "auto-replied", "out-of-office responders must not answer it"
    assert office.folder("INBOX") == [] and len(office.folder("已处理")) == 1


def test_the_board_and_the_morning_report_show_the_last_pass_and_what_waits_for_a_person(lists_sent, db_url,
                                                                                           office, tmp_path):
    from datetime import datetime

    from calendars import BEIJING
    from workflow.identity import SYSTEM
    from workflow.persistence.database import make_engine
    from workflow.services.dashboard import dashboard
    from workflow.services.overdue import prepare_daily_overdue_report
    from workflow.services.uow import UnitOfWork

    ssj, _ = lists_sent
    office.deliver(reply(None, sender="someone@example.com", subject="咨询抽查事宜"))
    assert ssj("mailbox", "--now", "2019-11-28T10:00").code == 0
    engine = make_engine(db_url)
    try:
        now = datetime(2019, 11, 28, 10, 5, tzinfo=BEIJING)
        board = dashboard(UnitOfWork(engine, now=now, actor=SYSTEM, campaign=CODE, changes=False)).markdown
        report = prepare_daily_overdue_report(UnitOfWork(engine, now=now, actor=SYSTEM, campaign=CODE),
                                              out_dir=tmp_path / "报表")
    finally:
        engine.dispose()
    section = board.split("## 办公室邮箱", 1)[1]
    assert "最近一次读取：2019年11月28日" in section and "需人工处理 1 封" in section
    assert "someone@example.com" in section and "咨询抽查事宜" in section
    assert any("someone@example.com" in line for line in report.mailbox)


def test_a_summary_sent_with_its_tables_keeps_every_file_and_reads_the_summary_from_the_one_that_has_it(
        lists_sent, db_url, office, tmp_path):
    from docx import Document
    from openpyxl import Workbook

    ssj, _ = lists_sent
    dispatch = ours(db_url, "dispatch", ADMIN_SW)
    office.deliver(reply(dispatch, sender=ADMIN_SW, files={"比对确认报告.pdf": PDF}))
    assert ssj("mailbox", "--now", "2019-12-02T15:00").code == 0
    book = Workbook()
    book.active.append(["检查户数", 9])
    book.save(tmp_path / "统计表.xlsx")
    doc = Document()
    doc.add_paragraph("亮点：按期完成全部检查。")
    doc.add_paragraph("存在问题：部分企业法定代表人不在场。")
    doc.save(tmp_path / "总结.docx")
    office.deliver(reply(dispatch, sender=ADMIN_SW, files={
        "统计表.xlsx": (tmp_path / "统计表.xlsx").read_bytes(), "工作总结.docx": (tmp_path / "总结.docx").read_bytes(),
        "检查记录表（盖章）.pdf": PDF}))

    assert ssj("mailbox", "--now", "2019-12-16T10:00").code == 0

    d = SubmittedDocument.__table__
    kept = rows(db_url, select(d.c.filename, d.c.highlights).where(d.c.kind == "summary").order_by(d.c.id))
    assert [k.filename for k in kept] == ["统计表.xlsx", "工作总结.docx", "检查记录表（盖章）.pdf"]
    assert {k.highlights for k in kept} == {"按期完成全部检查。"}
    body = answer_mail(db_url, ADMIN_SW)["body"]
    assert all(name in body for name in ("统计表.xlsx", "工作总结.docx", "检查记录表（盖章）.pdf"))


def test_an_attachment_over_20_mb_and_a_winmail_dat_are_refused_with_a_reply_that_says_so(lists_sent, db_url, office):
    ssj, _ = lists_sent
    dispatch = ours(db_url, "dispatch", ADMIN_SW)
    office.deliver(reply(dispatch, sender=ADMIN_SW, files={"扫描件.pdf": PDF + b"0" * (21 * 1024 * 1024)}))

    assert ssj("mailbox", "--now", "2019-12-02T15:00").code == 0

    assert rows(db_url, select(SubmittedDocument.__table__.c.id)) == []
    body = answer_mail(db_url, ADMIN_SW)["body"]
    assert "扫描件.pdf" in body and "超过上限 20 MB" in body and "未能登记" in body

    contact = ours(db_url, "dispatch", "admin@rs.luquan.example")
    office.deliver(reply(contact, sender="admin@rs.luquan.example", files={"winmail.dat": b"\x78\x9f\x3e\x22rest"}))
    assert ssj("mailbox", "--now", "2019-12-02T15:10").code == 0
    body = answer_mail(db_url, "admin@rs.luquan.example")["body"]
    assert "winmail.dat" in body and "未能登记" in body


def test_ssj_mailbox_without_a_mailbox_or_with_a_wrong_setting_says_which_and_changes_nothing(ready, monkeypatch):
    for key in ("SSJ_IMAP_HOST", "SSJ_MAILDIR"):
        monkeypatch.delenv(key, raising=False)
    result = ready("mailbox")
    assert result.code == 2 and "未配置办公室邮箱" in result.err and "SSJ_IMAP_HOST" in result.err
    monkeypatch.setenv("SSJ_IMAP_HOST", "127.0.0.1")
    monkeypatch.setenv("SSJ_IMAP_USER", "office")
    monkeypatch.setenv("SSJ_IMAP_SECURITY", "tls")
    result = ready("mailbox")
    assert result.code == 2 and "SSJ_IMAP_SECURITY" in result.err and "“tls”" in result.err


def test_a_mailbox_that_cannot_be_reached_makes_ssj_mailbox_exit_1_with_the_reason(lists_sent, office):
    ssj, _ = lists_sent
    office.stop()
    result = ssj("mailbox", "--now", "2019-11-28T10:00")
    assert result.code == 1 and "办公室邮箱无法读取" in result.err and "连接被拒绝" in result.err


def test_a_message_the_office_puts_back_in_the_inbox_after_mending_the_cause_is_read_again(lists_sent, db_url,
                                                                                           office, district, tmp_path):
    """The SW administrator writes from his new address, not yet in the directory: the reply waits for a person. The
    office corrects the directory and moves the message back to the inbox: the next pass records it."""
    from workflow.services.imap import ImapMailbox

    ssj, sampled = lists_sent
    dispatch = ours(db_url, "dispatch", ADMIN_SW)
    (name, content), = dispatch.files.items()
    office.deliver(reply(None, sender="new.admin@sw.luquan.example", files={name: filled_list(content)}))
    assert ssj("mailbox", "--now", "2019-11-28T10:00").code == 0
    assert answers_of(db_url, "SW") == [] and len(office.folder("需人工处理")) == 1

    corrected = tmp_path / "departments.csv"
    source = district["departments"].read_text(encoding="utf-8")
    corrected.write_text(source.replace(ADMIN_SW, "new.admin@sw.luquan.example"), encoding="utf-8")
    assert ssj("import", "departments", corrected, "--now", "2019-11-28T10:30").code == 0
    with ImapMailbox(office.config("需人工处理")) as box:
        (stored,) = box.messages()
        box.move(stored.uid, "INBOX")

    assert ssj("mailbox", "--now", "2019-11-28T10:40").code == 0

    assert len(answers_of(db_url, "SW")) == len(sampled)
    (message,) = inbound(db_url)
    assert message.outcome == "已记录" and office.folder("需人工处理") == [] and len(office.folder("已处理")) == 1
