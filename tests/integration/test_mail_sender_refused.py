"""A server that refuses the sender (530 authentication required, 550 relay denied for the From address) is a
fault of the sending side — a missing SSJ_SMTP_USER, a wrong campaign sender — not of any recipient.

It must not turn every message of every campaign into 退信 after three ticks, never to be sent again even once
the setting is corrected (no command re-queues a 退信): the messages wait with a backoff, the tick says why, and
once the server takes the sender each message goes, once.
"""

from __future__ import annotations

from tests.conftest import draw_campaign
from tests.integration.test_mail_faults import Server, audit_clean, rows, tick  # noqa: F401 - fixtures below
from tests.integration.test_mail_faults import engine, serve_smtp  # noqa: F401


class RefusesTheSender(Server):
    answer = "530 5.7.0 Authentication required"  # what it says to MAIL FROM while ``refusing``

    def __init__(self):
        super().__init__()
        self.refusing = True

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.refusing:
            return self.answer
        envelope.mail_from = address
        return "250 OK"


def test_a_refused_sender_is_not_a_bounce_and_mail_goes_once_it_is_fixed(loaded, engine, monkeypatch):  # noqa: F811
    handler = RefusesTheSender()
    with serve_smtp(handler, monkeypatch):
        draw_campaign(loaded)
        queued = rows(engine)
        for when in ("2019-11-27T09:05", "2019-11-27T09:07", "2019-11-27T09:10", "2019-11-27T09:30"):
            result = tick(loaded, when, expect=1)  # the campaign's mail is failing: said, exit 1
            assert "530" in result.err and "退信" not in result.out
        assert not rows(engine, state="退信"), "the recipients did nothing wrong"
        assert {r.state for r in rows(engine)} == {"待发"}
        handler.refusing = False  # the office sets SSJ_SMTP_USER / the server is fixed
        tick(loaded, "2019-11-27T12:00")
        assert {r.state for r in rows(engine)} == {"已发"}
        assert sorted(handler.ids()) == sorted(r.message_id for r in queued), "each message once"
        audit_clean(loaded)
