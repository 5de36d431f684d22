"""What every flow shares: its instant, a database engine for one step, artifact keys."""

from __future__ import annotations

import contextlib
import re
from datetime import datetime

from calendars import BEIJING
from workflow.persistence.database import make_engine
from workflow.persistence.identities import database_kind
from workflow.simulation import acting_instant


def flow_now(now: str | None, url: str | None = None) -> datetime:
    """The flow's instant: the wall clock, Beijing time; ``now`` (a simulated instant) only on a simulation
    database — on a real one it is refused (``workflow.simulation``, the command line's rule). ``url``: the
    database the flow changes (None: only to name a run)."""
    claimed = None
    if now is not None:
        value = datetime.fromisoformat(now)
        claimed = value if value.tzinfo else value.replace(tzinfo=BEIJING)
    if claimed is None or url is None:
        return claimed or datetime.now(BEIJING)
    with database(url) as engine:
        simulation = database_kind(engine).simulation
    return acting_instant(claimed, lambda: datetime.now(BEIJING), simulation=simulation, changes=True,
                          source="参数 now")


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
