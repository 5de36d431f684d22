"""The wire bytes of a message written directly (``message_bytes``) read exactly as ``build_message``'s: every
header a mail client shows or threads by, the body, and the transfer encoding; anything unusual goes through
``build_message`` itself."""

from __future__ import annotations

import email
import io
from datetime import datetime, timezone
from email import policy
from email.generator import BytesGenerator

import pytest

from workflow.files.email import Unbuildable, build_message, message_bytes

WHEN = datetime(2019, 11, 28, 1, 30, tzinfo=timezone.utc)
LONG = "石家庄某某商贸有限公司（统一社会信用代码 91130185MA0000001X）：截止 2019年12月03日 17:30，已逾期 2 个工作日"
BODIES = ["正文\n", "", "plain ascii\n.leading dot\n", "\n".join([LONG] * 3) + "\n", "\n".join([LONG] * 12),
          "a" * 200 + "\n" + "é" * 10, "line\r\nwith crlf\rand cr\n", "x" * 79 + "\n" + "短\n" * 12]
SUBJECTS = ["【逾期】比对确认逾期（3 项）：鹿泉区2019年下半年双随机联合抽查", "short ascii", "",
            "【提醒】坏名称\r\nBcc: thief@evil.example\x0b公司", "  two  spaces  ", "a" * 120, "中" * 100]


def _reference(**values) -> bytes:
    buffer = io.BytesIO()
    BytesGenerator(buffer).flatten(build_message(**values), linesep="\r\n")
    return buffer.getvalue()


def _read(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize("extra", [{}, {"cc": ["c@x.cn", "d@x.cn"], "reply_to": "inbox@x.cn"},
                                   {"in_reply_to": "<their.id@mail.example>", "reply_to": "office@x.cn"}])
def test_a_message_written_directly_reads_as_the_email_package_makes_it(subject, body, extra):
    values = dict(sender="office@x.cn", recipient="a@x.cn", subject=subject, body=body,
                  message_id="<0123abcd@x.cn>", date=WHEN, **extra)
    ours, theirs = _read(message_bytes(**values)), _read(_reference(**values))
    assert list(ours.keys()) == list(theirs.keys())
    for name in theirs.keys():
        assert str(ours[name]) == str(theirs[name]), name
    assert ours.get_content() == theirs.get_content()
    assert ours["Content-Transfer-Encoding"] == theirs["Content-Transfer-Encoding"]
    assert all(len(line) <= 78 for line in message_bytes(**values).split(b"\r\n\r\n")[0].split(b"\r\n"))


def test_the_body_is_the_same_bytes():
    values = dict(sender="office@x.cn", recipient="a@x.cn", subject="主题", body="\n".join([LONG] * 12),
                  message_id="<1@x.cn>", date=WHEN)
    assert message_bytes(**values).split(b"\r\n\r\n", 1)[1] == _reference(**values).split(b"\r\n\r\n", 1)[1]


def test_files_and_unusual_addresses_go_through_the_email_package():
    values = dict(sender="office@x.cn", recipient="a@x.cn", subject="主题", body="正文\n", message_id="<1@x.cn>",
                  date=WHEN)
    with_file = {**values, "attachments": [("清单.xlsx", b"PK")]}
    assert _read(message_bytes(**with_file)).get_payload()[1].get_filename() == "清单.xlsx"
    named = {**values, "recipient": "张三 <a@x.cn>"}
    assert str(_read(message_bytes(**named))["To"]) == str(_read(_reference(**named))["To"])
    with pytest.raises(Unbuildable, match="含有换行"):
        message_bytes(**{**values, "recipient": "a@x.cn\r\nBcc: thief@evil.example"})
    odd = {**values, "in_reply_to": "<id with space@x>\r\nBcc: x@y"}
    assert str(_read(message_bytes(**odd))["In-Reply-To"]) == str(_read(_reference(**odd))["In-Reply-To"])
