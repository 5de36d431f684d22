"""What every flow shares: its instant, a database engine for one step, artifact keys."""

from __future__ import annotations

import contextlib
import re
from datetime import datetime

from calendars import BEIJING
from workflow.persistence.database import make_engine


def flow_now(now: str | None) -> datetime:
    """The flow's instant: given (simulated time) or the wall clock, Beijing time."""
    if now is None:
        return datetime.now(BEIJING)
    value = datetime.fromisoformat(now)
    return value if value.tzinfo else value.replace(tzinfo=BEIJING)


@contextlib.contextmanager
def database(url: str):
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def artifact_key(code: str, what: str) -> str:
    """Prefect artifact keys: lowercase letters, digits and dashes."""
    return re.sub(r"[^a-z0-9-]+", "-", f"{code}-{what}".lower()).strip("-")
