"""A driver the seam tests run as their own process: one handler, killed (SIGKILL) at one named seam.

    python -m tests.integration.seams tick|publish SEAM      (SSJ_DATABASE_URL, SSJ_NOW, SSJ_FILES_DIR, SSJ_OUT)

It runs the production handler — the whole tick step (``advance``) as the system,
or the office's publication — with a unit of work whose ``on_seam`` kills the
process when the seam named on the command line is reached. Nothing else differs
from ``ssj tick`` / ``ssj publish``.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import datetime
from pathlib import Path

CLERK = "clerk@office.luquan.example"


def main(what: str, seam: str) -> None:
    from tests.integration.conftest import CODE
    from workflow.identity import SYSTEM
    from workflow.persistence.database import make_engine
    from workflow.services.publication import publish
    from workflow.services.tick import advance
    from workflow.services.uow import UnitOfWork

    def kill_at(name: str) -> None:
        if name == seam:
            os.kill(os.getpid(), signal.SIGKILL)

    engine = make_engine(os.environ["SSJ_DATABASE_URL"])
    now = datetime.fromisoformat(os.environ["SSJ_NOW"])
    if what == "tick":
        advance(UnitOfWork(engine, now=now, actor=SYSTEM, campaign=CODE, on_seam=kill_at))
    else:
        publish(UnitOfWork(engine, now=now, actor=CLERK, campaign=CODE, on_seam=kill_at), Path(os.environ["SSJ_OUT"]))
    print("not killed", file=sys.stderr)
    sys.exit(3)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
