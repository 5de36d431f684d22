"""The SMTP session against a real server (aiosmtpd on loopback) that offers PIPELINING, and one that does not:
MAIL, RCPT and DATA go in one write where it is offered (one round trip a message instead of three), and every
answer means the same either way — above all, a refused recipient whose copy was taken sends nothing to the copy."""

from __future__ import annotations

from datetime import datetime

import pytest

from calendars import BEIJING
from tests.conftest import serve_smtp
from tests.integration.test_mail_sender_refused import RefusesTheSender
from workflow.files.email import message_bytes
from workflow.services.smtp import Refused, SmtpSession, Temporary

SENDER = "office@luquan.example"


class Picky(RefusesTheSender):
    """Refuses gone@dept.example (550) and, while ``refusing``, the sender (550 relay denied)."""

    answer = "550 5.7.1 Relay access denied"

    def __init__(self, pipelining: bool):
        super().__init__()
        self.pipelining = pipelining
        self.refuse = {"gone@dept.example"}
        self.refusing = False


@pytest.fixture(params=[True, False], ids=["pipelining", "one command at a time"])
def picky(monkeypatch, request):
    handler = Picky(request.param)
    with serve_smtp(handler, monkeypatch) as config:
        yield handler, SmtpSession(config)


def _message(recipient: str, n: int, cc=()) -> bytes:
    return message_bytes(sender=SENDER, recipient=recipient, subject=f"【提醒】第 {n} 封", body=f"请办理第 {n} 项。\n",
                         message_id=f"<m{n}@luquan.example>", date=datetime(2019, 11, 29, 9, 0, tzinfo=BEIJING), cc=cc)


def test_messages_arrive_whole_in_order_over_one_session(picky):
    handler, session = picky
    for n in range(5):
        session.deliver(_message(f"admin{n}@dept.example", n), SENDER, f"admin{n}@dept.example")
    session.close()
    assert [m["Message-ID"] for _, m in handler.messages] == [f"<m{n}@luquan.example>" for n in range(5)]
    assert [m.get_content().replace("\r\n", "\n") for _, m in handler.messages] == \
        [f"请办理第 {n} 项。\n" for n in range(5)]
    assert [r for r, _ in handler.messages] == [[f"admin{n}@dept.example"] for n in range(5)]


def test_a_refused_recipient_sends_nothing_to_its_copy_and_the_next_message_goes(picky):
    handler, session = picky
    with pytest.raises(Refused, match="550 5.1.1"):
        session.deliver(_message("gone@dept.example", 1, cc=["leader@dept.example"]), SENDER, "gone@dept.example",
                        copies=["leader@dept.example"])
    session.deliver(_message("admin@dept.example", 2), SENDER, "admin@dept.example")
    session.close()
    assert [(r, m["Message-ID"]) for r, m in handler.messages] == [(["admin@dept.example"], "<m2@luquan.example>")]


def test_a_refused_copy_is_left_out_and_the_message_goes_to_its_recipient(picky):
    handler, session = picky
    session.deliver(_message("admin@dept.example", 1, cc=["gone@dept.example"]), SENDER, "admin@dept.example",
                    copies=["gone@dept.example"])
    session.close()
    assert [r for r, _ in handler.messages] == [["admin@dept.example"]]


def test_a_refused_sender_waits_and_is_not_the_recipients_fault(picky):
    handler, session = picky
    handler.refusing = True
    with pytest.raises(Temporary, match="不接受发件人"):
        session.deliver(_message("admin@dept.example", 1), SENDER, "admin@dept.example")
    handler.refusing = False
    session.deliver(_message("admin@dept.example", 1), SENDER, "admin@dept.example")
    session.close()
    assert [m["Message-ID"] for _, m in handler.messages] == ["<m1@luquan.example>"], "once, after the fix"
