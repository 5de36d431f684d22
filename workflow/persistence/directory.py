"""Reading the directories (departments, officers, enterprises, items) as campaigns need them.

Writing them is the importer's (``directory_writer``); here are the lookups the
handlers, the forms and the reports share, so each is written once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import Connection, func, select

from workflow.campaign_plan import Sampling
from workflow.persistence.bulk import among, parts
from workflow.persistence.queries import count_of, eligible_enterprises
from workflow.persistence.orm import Department, Enterprise, InspectionItem, InspectionItemContent, Officer, \
    OfficerConflict

d, o, e, it, c = Department, Officer, Enterprise, InspectionItem, InspectionItemContent
ON_DUTY = "在岗"


class DirectoryReader:
    def __init__(self, conn: Connection):
        self.conn = conn

    # --- departments -------------------------------------------------------------

    def department(self, code: str):
        """One department's row (name, admin, leader, contact …), or None."""
        return self.conn.execute(select(d.__table__).where(d.code == code)).first()

    def departments(self) -> dict[str, object]:
        """Every department's row by code."""
        return {r.code: r for r in self.conn.execute(select(d.__table__))}

    def department_names(self) -> dict[str, str]:
        return dict(self.conn.execute(select(d.code, d.name)).all())

    def departments_of(self, address: str) -> list[str]:
        """Codes of the departments whose administrator or contact has this email (compared case-insensitively)."""
        who = address.strip().lower()
        return list(self.conn.execute(select(d.code).where((func.lower(d.admin_email) == who)
                                                           | (func.lower(d.contact_email) == who))
                                      .order_by(d.code)).scalars())

    # --- officers -----------------------------------------------------------------

    def officer(self, certificate_no: str):
        return self.conn.execute(select(o.__table__).where(o.certificate_no == certificate_no)).first()

    def officers(self) -> dict[str, object]:
        """Every officer's row by certificate number (name, email, department, mobile …)."""
        return {r.certificate_no: r for r in self.conn.execute(select(o.certificate_no, o.name, o.email, o.mobile,
                                                                       o.department_code))}

    def officers_of(self, address: str) -> list[str]:
        """Certificate numbers of the officers with this email (compared case-insensitively)."""
        return list(self.conn.execute(select(o.certificate_no).where(func.lower(o.email) == address.strip().lower())
                                      .order_by(o.certificate_no)).scalars())

    def on_duty(self, departments: Iterable[str], *, valid_through: date) -> list:
        """Officers 在岗 in the latest directory whose certificate covers ``valid_through``: who may be drawn."""
        return self.conn.execute(select(o.certificate_no, o.department_code, o.certificate_valid_until).where(
            o.status == ON_DUTY, o.in_latest_directory.is_(True), o.certificate_valid_until >= valid_through,
            o.department_code.in_(list(departments))).order_by(o.certificate_no)).all()

    def roster(self, departments: Sequence[str]) -> list:
        """Officers 在岗 of these departments, with mobiles (for the confirmation report before the draw)."""
        return self.conn.execute(select(o.department_code, o.name, o.certificate_no, o.mobile).where(
            o.department_code.in_(list(departments)), o.status == ON_DUTY,
            o.in_latest_directory.is_(True)).order_by(o.department_code, o.certificate_no)).all()

    def conflicts(self) -> list[tuple[str, str]]:
        """Every declared 回避: (officer, USCC)."""
        return self.conn.execute(select(OfficerConflict.certificate_no, OfficerConflict.uscc)).all()

    def declared_conflict(self, certificate_no: str, uscc: str) -> bool:
        return self.conn.execute(select(OfficerConflict.uscc).where(OfficerConflict.certificate_no == certificate_no,
                                                                    OfficerConflict.uscc == uscc)).first() is not None

    # --- enterprises and items ------------------------------------------------------

    def eligible(self, sampling: Sampling, at: datetime, *, stratified: bool = False) -> list[tuple[str, str | None]]:
        """(USCC, credit risk — None unless ``stratified``) of every enterprise the criteria select at ``at``."""
        query = eligible_enterprises(sampling, at, with_credit_risk=stratified)
        if stratified:
            return [tuple(r) for r in self.conn.execute(query)]
        return [(u, None) for u in self.conn.execute(query).scalars()]

    def eligible_count(self, sampling: Sampling, at: datetime) -> int:
        return self.conn.execute(count_of(eligible_enterprises(sampling, at))).scalar() or 0

    def census(self) -> tuple[int, int, dict[str, dict[str, int]]]:
        """The enterprise directory in numbers: all rows, rows not in the latest export, and (latest) per category
        and status."""
        table: dict[str, dict[str, int]] = {}
        for category, status, n in self.conn.execute(
                select(e.category, e.status, func.count()).where(e.in_latest_directory.is_(True))
                .group_by(e.category, e.status)):
            table.setdefault(category, {})[status] = n
        total = self.conn.execute(select(func.count()).select_from(e)).scalar() or 0
        not_latest = self.conn.execute(select(func.count()).select_from(e)
                                       .where(e.in_latest_directory.is_(False))).scalar() or 0
        return total, not_latest, table

    def enterprises(self, usccs: Sequence[str]) -> dict[str, object]:
        """The enterprises' rows by USCC (name, address, legal representative, phone …)."""
        found = {}
        for part in parts(self.conn, usccs):
            found.update({r.uscc: r for r in self.conn.execute(select(e.__table__)
                                                                .where(among(self.conn, e.uscc, part)))})
        return found

    def names_and_addresses(self, usccs: Sequence[str]) -> dict[str, tuple[str, str]]:
        """(name, address) by USCC: what a list of enterprises shows (a sweep's lists name tens of thousands)."""
        found = {}
        for part in parts(self.conn, usccs):
            found.update({uscc: (name, address or "") for uscc, name, address in self.conn.execute(
                select(e.uscc, e.name, e.address).where(among(self.conn, e.uscc, part)))})
        return found

    def items(self) -> dict[str, object]:
        """Every item's row by code (name, method, department)."""
        return {r.code: r for r in self.conn.execute(select(it.__table__))}

    def contents(self) -> dict[str, list[str]]:
        """Each item's content points, in the list's order."""
        out: dict[str, list[str]] = {}
        for code, text in self.conn.execute(select(c.item_code, c.text).order_by(c.item_code, c.position)):
            out.setdefault(code, []).append(text)
        return out
