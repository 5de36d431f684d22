"""Who runs this database: its settings fixed at ``ssj init`` and the office's ``staff`` directory.

``database_settings`` holds ``simulation`` ("true"/"false"), ``administrator`` (the
operating-system account that initialised the database), ``initialised_at`` and ``reply_secret``
(the key of the tokens in the files we send, which tell a returned file to be ours);
a database upgraded from before they existed has none and is a real one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, insert, inspect, select

from workflow.errors import UserError
from workflow.persistence.database import current_revision, upgrade
from workflow.persistence.orm import DatabaseSetting, StaffMember

_settings = DatabaseSetting.__table__
_staff = StaffMember.__table__

SIMULATION, ADMINISTRATOR, INITIALISED_AT = "simulation", "administrator", "initialised_at"
REPLY_SECRET = "reply_secret"  # the key of the tokens in the files we send (``workflow.file_tokens``)


class DatabaseSettings:
    def __init__(self, conn: Connection):
        self.conn = conn

    def all(self) -> dict[str, str]:
        if not inspect(self.conn).has_table(_settings.name):  # a database not upgraded yet
            return {}
        return dict(self.conn.execute(select(_settings.c.key, _settings.c.value)).all())

    def simulation(self) -> bool:
        return self.all().get(SIMULATION) == "true"

    def administrator(self) -> str | None:
        return self.all().get(ADMINISTRATOR)

    def reply_secret(self) -> str:
        """The key of the files' tokens (hex), fixed at ``ssj init`` (for an older database, at its upgrade)."""
        secret = self.all().get(REPLY_SECRET)
        if not secret:
            raise UserError("数据库尚未初始化或需要升级，请先运行 ssj init")
        return secret

    def fix(self, values: dict[str, str]) -> None:
        """Record the settings not recorded yet (the first ``ssj init``); those present are kept."""
        present = self.all()
        missing = [{"key": k, "value": v} for k, v in values.items() if k not in present]
        if missing:
            self.conn.execute(insert(_settings), missing)


class StaffDirectory:
    def __init__(self, conn: Connection):
        self.conn = conn

    def by_os_account(self, login: str) -> str | None:
        """The staff email of an operating-system account, or None."""
        return self.conn.execute(select(_staff.c.email).where(_staff.c.os_account == login)).scalar()

    def member(self, email: str):
        """The staff row of ``email`` (compared case-insensitively), or None."""
        return self.conn.execute(select(_staff).where(func.lower(_staff.c.email) == email.strip().lower())).first()

    def members(self) -> list:
        return list(self.conn.execute(select(_staff).order_by(_staff.c.email)))

    def add(self, email: str, name: str, os_account: str | None, *, now: datetime, by: str) -> None:
        self.conn.execute(insert(_staff).values(email=email, name=name, os_account=os_account, added_at=now,
                                                added_by=by))


@dataclass(frozen=True)
class DatabaseKind:
    simulation: bool
    administrator: str | None

    @property
    def label(self) -> str:
        return "模拟数据库" if self.simulation else "正式数据库"


def database_kind(engine: Engine) -> DatabaseKind:
    """The database's kind as ``ssj init`` fixed it (one upgraded from before the setting existed is real)."""
    with engine.connect() as conn:
        settings = DatabaseSettings(conn)
        return DatabaseKind(settings.simulation(), settings.administrator())


def initialise(engine: Engine, *, simulation: bool, os_account: str, now: datetime,
               reply_secret: str | None = None) -> tuple[str | None, str]:
    """Create or upgrade the schema and fix the database's kind; (revision before, revision after).

    A database that exists keeps its kind: asking for the other is refused before anything is changed. The
    settings are recorded on the first ``ssj init`` (``reply_secret``: a fixed key, for a simulation that must
    replay message for message; by default a random one) (for a database from before they existed, on its upgrade:
    a real one, administered by whoever upgrades it)."""
    if current_revision(engine) is not None:
        kind = database_kind(engine)
        if kind.simulation != simulation:
            raise UserError(f"该数据库是{kind.label}，类型在初始化时已确定，不能改为"
                            f"{'模拟数据库（--simulation）' if simulation else '正式数据库（不带 --simulation）'}；"
                            "本次未作任何更改" + ("（升级模拟数据库请运行 ssj init --simulation）" if kind.simulation else ""))
    before, after = upgrade(engine)
    with engine.begin() as conn:
        DatabaseSettings(conn).fix({SIMULATION: "true" if simulation else "false", ADMINISTRATOR: os_account,
                                    INITIALISED_AT: now.isoformat(), REPLY_SECRET: reply_secret or secrets.token_hex(32)})
    return before, after


def person_of(engine: Engine, os_account: str) -> str | None:
    """The staff email the operating-system account runs ``ssj`` as, or None."""
    with engine.connect() as conn:
        return StaffDirectory(conn).by_os_account(os_account)
