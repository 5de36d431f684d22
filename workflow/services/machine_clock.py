"""The machine's clock: the one place under ``workflow/`` that reads it.

It stamps each audit row's ``written_at`` (when the row was really written) and
tells how long another process has really held a lock (``services/tick.py``);
nothing else: every act's instant is the ``now`` a unit of work is given. A
``UnitOfWork`` takes it as its default ``clock``; a test passes its own.
"""

from __future__ import annotations

from datetime import datetime, timezone


def wall_clock() -> datetime:
    """Now by the machine's clock, in UTC."""
    return datetime.now(timezone.utc)
