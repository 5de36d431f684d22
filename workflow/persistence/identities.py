"""Who runs this database: its settings fixed at ``ssj init`` and the office's ``staff`` directory.

``database_settings`` holds ``simulation`` ("true"/"false"), ``administrator`` (the
operating-system account that initialised the database) and ``initialised_at``;
a database upgraded from before they existed has none and is a real one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, insert, inspect, select

from workflow.persistence.orm import DatabaseSetting, StaffMember

_settings = DatabaseSetting.__table__
_staff = StaffMember.__table__

SIMULATION, ADMINISTRATOR, INITIALISED_AT = "simulation", "administrator", "initialised_at"


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
