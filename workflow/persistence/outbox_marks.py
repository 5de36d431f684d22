"""The sender's marks of sent rows, on a connection of their own held for a whole sending run (issue 19).

A mark must be durable before the next message is handed over (at most one accepted message unmarked), but
waiting for each commit's round trip and flush halves the send rate; on PostgreSQL the mark is sent without
waiting and settled just before the next message's final dot. The unit of work hands one out
(``uow.sent_marks()``): connections stay the persistence layer's.
"""

from __future__ import annotations

import select

import psycopg

from workflow.mail import SENT
from workflow.persistence.outbox import OutboxRepository


class SentMarks:
    """The sender's marks, each its own transaction (one autocommitted UPDATE) on one connection held for the run.

    On PostgreSQL a mark is sent without waiting for its answer: its round trip and its commit's flush overlap
    the next message's SMTP exchange, and ``settle`` — called by the session just before it hands over the next
    message's final dot — waits for it. So at any moment at most one accepted message is not yet marked durably
    (a crash re-sends that one, and no other), as with a mark per message waited for at once, without the wait.
    Elsewhere (SQLite) each mark is committed before the next message."""

    def __init__(self, engine, now):
        self.engine, self.now = engine, now
        self.raw = self.conn = None  # PostgreSQL: the pooled DBAPI connection; SQLite: an SQLAlchemy connection
        self.pending: int | None = None  # the id whose mark was sent and not yet answered

    def sent(self, row) -> None:
        self.settle()
        if self.engine.dialect.name != "postgresql":
            self.conn = self.conn or self.engine.connect()
            OutboxRepository(self.conn).mark_sent(row, self.now)
            self.conn.commit()
            return
        if self.raw is None:
            self.raw = self.engine.raw_connection()
            self.raw.driver_connection.autocommit = True
            # A mark's commit does not wait for its WAL flush: the sender's death (killed, out of memory) loses
            # no mark the server answered; only the database server's own crash could lose the last fraction of
            # a second of marks (those messages go once more, with their Message-IDs) — and that wait was half
            # of each message's time. Everything else keeps synchronous commits.
            self.raw.driver_connection.execute("SET synchronous_commit TO off")
        pgconn = self.raw.driver_connection.pgconn
        pgconn.send_query_params(
            _MARK, [self.now.isoformat().encode(), str(row.attempts + 1).encode(), SENT.encode(), str(row.id).encode()])
        self.pending = row.id
        while pgconn.flush():  # psycopg's connections do not block: send it all now
            select.select([], [pgconn.socket], [])

    def settle(self) -> None:
        """The last mark is committed (raises when it was not: the run stops, that message is re-sent later)."""
        if self.pending is None:
            return
        pgconn, failed = self.raw.driver_connection.pgconn, None
        pgconn.consume_input()
        while pgconn.is_busy():
            select.select([pgconn.socket], [], [])
            pgconn.consume_input()
        while (result := pgconn.get_result()) is not None:
            if result.status != psycopg.pq.ExecStatus.COMMAND_OK:
                failed = (result.error_message or b"").decode("utf-8", "replace")
        self.pending = None
        if failed:
            raise psycopg.OperationalError(f"marking outbox row sent failed: {failed}")

    def close(self) -> None:
        """The last mark settled (or, after a failure, the connection never reused), the connection given back."""
        raw, conn, self.raw, self.conn = self.raw, self.conn, None, None
        try:
            if raw is not None:
                try:
                    self.raw = raw
                    self.settle()
                    raw.driver_connection.execute("RESET synchronous_commit")
                    raw.driver_connection.autocommit = False
                except BaseException:
                    self.pending = None
                    raw.invalidate()
                    raise
                finally:
                    self.raw = None
                    raw.close()
        finally:
            if conn is not None:
                conn.close()


_MARK = "UPDATE outbox SET sent_at = $1, attempts = $2, state = $3 WHERE id = $4 AND sent_at IS NULL".encode()
