"""The message itself: names from the data never break a header, a missing file stops that message alone."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from workflow.files.email import Unbuildable, build_message, inputs_digest, one_line, stored_files
from workflow.mail import Mail

WHEN = datetime(2019, 11, 28, 1, 30, tzinfo=timezone.utc)


def make(**changes):
    values = dict(sender="office@x.cn", recipient="a@x.cn", subject="【提醒】主题", body="正文\n", message_id="<1@x.cn>",
                  date=WHEN, attachments=[])
    return build_message(**{**values, **changes})


def test_a_line_break_in_the_subject_becomes_a_space():
    message = make(subject="【提醒】坏名称\r\nBcc: thief@evil.example\x0b公司")
    assert str(message["Subject"]) == "【提醒】坏名称 Bcc: thief@evil.example 公司"
    assert message["Bcc"] is None
    assert one_line("a\u2028b\x00c\x85d") == "a b c d"


def test_a_name_keeps_its_own_spaces_in_the_subject_and_the_file_name():
    """Only control characters are replaced: the subject and the attachment read as the name does in the body
    and as the file is called in the folder the officer was sent."""
    name = "石家庄　鹿泉  某某有限公司"
    message = make(subject=f"【提醒】（{name}）", attachments=[(f"91130110X-{name}.xlsx", b"PK")])
    assert str(message["Subject"]) == f"【提醒】（{name}）"
    assert [part.get_filename() for part in message.iter_attachments()] == [f"91130110X-{name}.xlsx"]


@pytest.mark.parametrize("field", ["recipient", "sender"])
def test_an_address_with_a_line_break_cannot_be_made(field):
    with pytest.raises(Unbuildable, match="含有换行"):
        make(**{field: "a@x.cn\r\nBcc: thief@evil.example"})


def test_a_file_missing_when_queued_cannot_be_made_and_says_which():
    with pytest.raises(Unbuildable, match="附件“表.xlsx”不存在"):
        make(attachments=[("表.xlsx", None)])
    message = make(attachments=[("表.xlsx", b"PK")])
    [part] = message.iter_attachments()
    assert part.get_filename() == "表.xlsx" and part.get_content() == b"PK"


def test_the_files_are_read_when_queued_and_their_paths_leave_the_context(tmp_path):
    (tmp_path / "a.xlsx").write_bytes(b"A")
    mail = Mail("k#a@x.cn", "a@x.cn", "forms", "forms_dispatch",
                {"officer": "张三", "attachments": [str(tmp_path / "a.xlsx"), str(tmp_path / "gone.docx")]})
    [kept], files = stored_files([mail])
    assert "attachments" not in kept.context and kept.context["officer"] == "张三"
    assert files == {"k#a@x.cn": [("a.xlsx", b"A"), ("gone.docx", None)]}


def test_the_fingerprint_changes_with_any_input():
    base = ("task_notice", '{"a":1}', "a@x.cn", "office@x.cn", [("a.xlsx", None)])
    digest = inputs_digest(*base)
    assert inputs_digest(*base) == digest
    for i, other in enumerate(("dispatch", '{"a":2}', "b@x.cn", "o@x.cn", [("a.xlsx", b"A")])):
        assert inputs_digest(*base[:i], other, *base[i + 1:]) != digest


def test_a_message_queued_before_the_upgrade_is_still_made_with_the_wording_it_was_queued_for():
    """Mail waiting in the outbox when the product is upgraded (no greeting or signature in its context): it goes
    out as it was written, not as 无法生成."""
    from workflow.files.email import render

    old_dispatch = {"department": "鹿泉区统计局", "campaign_name": "联合抽查", "document_no": "石鹿双随机办〔2019〕11号",
                    "office": "领导小组办公室", "drawn_at": "2019-11-27 09:00", "count": 3, "due": "2019-11-30 00:00",
                    "provisional": False, "attachment_name": "TJ.xlsx"}
    subject, body = render("dispatch", old_dispatch)
    assert subject.startswith("【派发】联合抽查") and "鹿泉区统计局：" in body
    old_notice = {"prefix": "【提醒】", "stage": "remind", "step_label": "责任人", "task_label": "部门比对确认",
                  "campaign_name": "联合抽查", "campaign_code": "luquan-2019-h2", "document_no": "石鹿双随机办〔2019〕11号",
                  "due": "2019-11-30 00:00", "provisional": False, "workdays_left": 1, "workdays_overdue": 0,
                  "what_to_do": "回复是否检查", "greeting": "联络人", "office": "领导小组办公室", "department": "鹿泉区统计局",
                  "enterprise": "某公司", "uscc": "91130185MA0XXXXX1X", "officer": "", "key_digest": "abc"}
    subject, body = render("task_notice", old_notice)
    assert subject == "【提醒】部门比对确认：联合抽查（某公司）" and "尚余 1 个工作日" in body
