"""The tables. FORMATS.md fixes the main names: auditors query them directly.

Instants are stored in UTC (``types.UTCDateTime``); dates are plain calendar dates.
Every directory row keeps ``in_latest_directory``: an import never deletes, a
``--full`` import marks what the latest export no longer lists (不在最新名录).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Index,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from workflow.persistence.types import Money, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# The kinds of value many tables keep, each declared once.
Instant = Annotated[datetime, mapped_column(UTCDateTime)]  # aware in, aware UTC out
Who = Annotated[str, mapped_column(String(254))]  # an identity: an email or a certificate number (FORMATS.md)
Digest = Annotated[str, mapped_column(String(64))]  # a SHA-256, hex
PersonName = Annotated[str, mapped_column(String(50))]
Email = Annotated[str, mapped_column(String(254))]
Phone = Annotated[str, mapped_column(String(40))]
Counted = Annotated[bool, mapped_column(Boolean, default=False, server_default=false())]  # a statistics flag


class _DirectoryRow:
    in_latest_directory: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    last_import_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[Instant]
    updated_at: Mapped[Instant]


class Department(_DirectoryRow, Base):
    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    admin_name: Mapped[PersonName | None]
    admin_email: Mapped[Email | None]
    """管理员: does the department's 比对确认 (seed: 由各单位（部门）的管理员在两个工作日内完成比对和确认)."""
    leader_name: Mapped[PersonName | None]
    leader_email: Mapped[Email | None]
    """分管领导: the escalation ladder's ``department_leader`` step."""
    responsible_section: Mapped[str | None] = mapped_column(String(100))
    contact_name: Mapped[PersonName | None]
    contact_phone: Mapped[Phone | None]
    contact_email: Mapped[Email | None]
    """联络人: receives the dispatch lists and the notices (the ladder's ``department_contact`` step)."""


class Officer(_DirectoryRow, Base):
    __tablename__ = "officers"

    certificate_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    mobile: Mapped[str | None] = mapped_column(String(11))
    email: Mapped[str | None] = mapped_column(String(254))
    certificate_valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="在岗")
    specialties: Mapped[str | None] = mapped_column(Text)


class OfficerConflict(Base):
    """回避企业: an officer must never be matched to this enterprise."""

    __tablename__ = "officer_conflicts"

    certificate_no: Mapped[str] = mapped_column(
        ForeignKey("officers.certificate_no", ondelete="CASCADE"), primary_key=True
    )
    uscc: Mapped[str] = mapped_column(String(18), primary_key=True)


class Enterprise(_DirectoryRow, Base):
    __tablename__ = "enterprises"

    uscc: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str | None] = mapped_column(String(100))
    registered_capital: Mapped[Decimal | None] = mapped_column(Money)
    established_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8))
    district: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(500))
    legal_representative: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))
    industry: Mapped[str | None] = mapped_column(String(200))
    credit_risk: Mapped[str | None] = mapped_column(String(1))


class InspectionItem(_DirectoryRow, Base):
    __tablename__ = "inspection_items"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    category: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    target: Mapped[str | None] = mapped_column(String(200))
    level: Mapped[str | None] = mapped_column(String(16))
    method: Mapped[str | None] = mapped_column(String(200))
    basis: Mapped[str | None] = mapped_column(Text)


class InspectionItemContent(Base):
    """检查内容: the content points of an item, in the order the list gives them."""

    __tablename__ = "inspection_item_contents"

    item_code: Mapped[str] = mapped_column(
        ForeignKey("inspection_items.code", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)


class DirectoryImport(Base):
    """One run of ``ssj import``: who loaded which file, and what it changed."""

    __tablename__ = "directory_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(Text)
    file_sha256: Mapped[Digest]
    full: Mapped[bool] = mapped_column(Boolean)
    rows: Mapped[int] = mapped_column(Integer)
    inserted: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    marked_not_latest: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[Who]
    imported_at: Mapped[Instant]


class Campaign(Base):
    """A campaign as its file defined it; ``plan`` is the validated file as JSON."""

    __tablename__ = "campaigns"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    document_no: Mapped[str] = mapped_column(String(100))
    office: Mapped[str] = mapped_column(String(200))
    lead_department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    timezone: Mapped[str] = mapped_column(String(64))
    window_from: Mapped[date] = mapped_column(Date)
    window_to: Mapped[date] = mapped_column(Date)
    draw_at: Mapped[Instant]
    plan: Mapped[dict] = mapped_column(JSON)
    source_toml: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[Digest]
    created_at: Mapped[Instant]
    created_by: Mapped[Who]
    calendar_sha256: Mapped[Digest | None]  # the override files its deadlines were computed with
    calendar_files: Mapped[str | None] = mapped_column(Text)  # their content (JSON [[name, text], …]): kept in force


class CampaignDepartment(Base):
    __tablename__ = "campaign_departments"

    campaign_code: Mapped[str] = mapped_column(
        ForeignKey("campaigns.code", ondelete="CASCADE"), primary_key=True
    )
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), primary_key=True)
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False)


class CampaignItem(Base):
    __tablename__ = "campaign_items"

    campaign_code: Mapped[str] = mapped_column(
        ForeignKey("campaigns.code", ondelete="CASCADE"), primary_key=True
    )
    item_code: Mapped[str] = mapped_column(ForeignKey("inspection_items.code"), primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))



# --- the draws (commit–reveal) -------------------------------------------------


class DrawRow(Base):
    """One round of a draw (enterprises or officers): the commitment, then the public run.

    ``snapshot`` holds exactly the text that was hashed, so a later directory update
    never invalidates a past draw; ``witness`` is kept exactly as received.
    """

    __tablename__ = "draws"
    __table_args__ = (UniqueConstraint("campaign_code", "kind", "round"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_code: Mapped[str] = mapped_column(ForeignKey("campaigns.code"))
    kind: Mapped[str] = mapped_column(String(16))  # enterprises | officers
    round: Mapped[int] = mapped_column(Integer)
    algorithm: Mapped[str] = mapped_column(String(32))
    redraw_reason: Mapped[str | None] = mapped_column(Text)
    secret_hex: Mapped[str | None] = mapped_column(String(64))  # ssj-*-v1 only: the office's secret
    commitment: Mapped[str | None] = mapped_column(String(64))  # ssj-*-v1 only
    parties: Mapped[str | None] = mapped_column(Text)  # ssj-*-v2: canonical JSON [{party, commitment, secret}]
    snapshot: Mapped[str] = mapped_column(Text)
    snapshot_sha256: Mapped[Digest]
    eligible: Mapped[int] = mapped_column(Integer)
    committed_at: Mapped[Instant]
    committed_by: Mapped[Who]
    witness: Mapped[str | None] = mapped_column(Text)
    seed: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[str | None] = mapped_column(Text)  # canonical JSON: sample size, sampled in rank order, strata
    run_at: Mapped[Instant | None]
    run_by: Mapped[Who | None]


# --- inspections and what their moves depend on ------------------------------


class InspectionRow(Base):
    """One drawn enterprise in one campaign: its state and the instant each state was reached."""

    __tablename__ = "inspections"
    __table_args__ = (
        UniqueConstraint("campaign_code", "uscc"),
        Index("ix_inspections_campaign_state", "campaign_code", "state"),
        # The draw's "not inspected within the window" anti-join: the visits since an instant, with their USCCs.
        Index("ix_inspections_inspected", "inspected_at", "uscc", sqlite_where=text("inspected_at IS NOT NULL"),
              postgresql_where=text("inspected_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_code: Mapped[str] = mapped_column(ForeignKey("campaigns.code"))
    uscc: Mapped[str] = mapped_column(ForeignKey("enterprises.uscc"))
    state: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    sampled_at: Mapped[Instant]
    confirmed_at: Mapped[Instant | None]
    assigned_at: Mapped[Instant | None]
    inspected_at: Mapped[Instant | None]
    reported_at: Mapped[Instant | None]
    published_at: Mapped[Instant | None]
    withdrawn_at: Mapped[Instant | None]
    withdraw_reason: Mapped[str | None] = mapped_column(Text)
    forms_generated_at: Mapped[Instant | None]
    visit_date: Mapped[date | None] = mapped_column(Date)
    visit_signature: Mapped[str | None] = mapped_column(String(8))
    visit_note: Mapped[str | None] = mapped_column(Text)
    visit_recorded_at: Mapped[Instant | None]
    visit_recorded_by: Mapped[Who | None]
    draw_id: Mapped[int | None] = mapped_column(ForeignKey("draws.id"))
    planned_visit_on: Mapped[date | None] = mapped_column(Date)  # the visit schedule (ssj forms)
    visit_group: Mapped[int | None] = mapped_column(Integer)  # the day's group (vehicle) number


class InspectionDepartment(Base):
    """A drawn enterprise dispatched to a department, and that department's 比对确认."""

    __tablename__ = "inspection_departments"

    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), primary_key=True)
    dispatched_at: Mapped[Instant]
    inspects: Mapped[bool | None] = mapped_column(Boolean)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[Instant | None]
    answered_by: Mapped[Who | None]
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False)


class TeamMemberRow(Base):
    """An officer (or a specialist helper) on an enterprise's inspection team."""

    __tablename__ = "team_members"

    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True)
    certificate_no: Mapped[str] = mapped_column(ForeignKey("officers.certificate_no"), primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    specialist: Mapped[bool] = mapped_column(Boolean, default=False)
    matched_at: Mapped[Instant]
    eligibility: Mapped[str | None] = mapped_column(Text)  # why this officer could be drawn for this enterprise
    substitute_for: Mapped[str | None] = mapped_column(String(64))
    released_at: Mapped[Instant | None]  # replaced: no longer on the team
    release_reason: Mapped[str | None] = mapped_column(Text)


class VisitOfficer(Base):
    """An officer present at the joint visit."""

    __tablename__ = "visit_officers"

    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True)
    certificate_no: Mapped[str] = mapped_column(ForeignKey("officers.certificate_no"), primary_key=True)


# --- tasks: parallel work with its own clock ----------------------------------


class TaskRow(Base):
    """Work with its own deadline (a department's confirmation, an officer's acknowledgement …).

    ``key`` makes creating a task idempotent; ``ix_tasks_open_due`` serves a campaign's "what is due or
    overdue now" (the most overdue first) without touching finished tasks.
    """

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_open_due", "campaign_code", "due_at", "id", sqlite_where=text("done_at IS NULL"),
              postgresql_where=text("done_at IS NULL")),
        Index("ix_tasks_campaign_kind", "campaign_code", "kind"),
        # The sweep's due set and the next notice instant, per campaign (an idle tick reads only this index); the
        # level keeps the tasks whose ladder is exhausted (no next notice, at the top) out of the due set's range.
        Index("ix_tasks_open_notice", "campaign_code", "next_notice_at", "escalation_level",
              sqlite_where=text("done_at IS NULL"), postgresql_where=text("done_at IS NULL")),
        # The board's overdue work per department: a department's own open tasks in (department, enterprise) order,
        # with their due instants — counted from the index alone, the enterprises without a sort.
        Index("ix_tasks_open_owner", "campaign_code", "department_code", "inspection_id", "due_at",
              sqlite_where=text("done_at IS NULL"), postgresql_where=text("done_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    campaign_code: Mapped[str] = mapped_column(ForeignKey("campaigns.code"))
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    certificate_no: Mapped[str | None] = mapped_column(ForeignKey("officers.certificate_no"))
    due_at: Mapped[Instant]
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[Instant]
    done_at: Mapped[Instant | None]
    outcome: Mapped[str | None] = mapped_column(String(16))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    next_notice_at: Mapped[Instant | None]  # None: not planned yet (the sweep plans it)
    # Announced while provisional, and kept when the year's file would have brought it forward: never earlier.
    no_earlier: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


# --- the database itself and who may run ssj on it -------------------------------


class DatabaseSetting(Base):
    """Facts about the database fixed at ``ssj init``: ``simulation`` ("true"/"false"), ``administrator``
    (the operating-system account that initialised it), ``initialised_at``."""

    __tablename__ = "database_settings"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class StaffMember(Base):
    """The office's staff: who may import directories, create campaigns, draw, withdraw, publish, reload calendars.

    ``os_account`` is the operating-system login that runs ``ssj`` as this person."""

    __tablename__ = "staff"

    email: Mapped[Email] = mapped_column(primary_key=True)
    name: Mapped[PersonName]
    os_account: Mapped[str | None] = mapped_column(String(64), unique=True)
    added_at: Mapped[Instant]
    added_by: Mapped[str] = mapped_column(String(254))


# --- the audit trail ------------------------------------------------------------


class AuditChainHead(Base):
    """The last row of each hash chain; writers lock it to append, so a chain cannot fork."""

    __tablename__ = "audit_chains"

    chain: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[Digest]


class AuditEvent(Base):
    """An append-only, hash-chained record of something that happened (see workflow.audit)."""

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("chain", "seq"), Index("ix_audit_events_campaign_uscc", "campaign_code", "uscc"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chain: Mapped[str] = mapped_column(String(100))
    seq: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[Instant]  # the instant the act claims
    written_at: Mapped[Instant | None]  # the machine's clock when the row was written (None before migration 0007)
    actor: Mapped[Who]
    action: Mapped[str] = mapped_column(String(40))
    campaign_code: Mapped[str | None] = mapped_column(String(64))
    uscc: Mapped[str | None] = mapped_column(String(18))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[Digest]
    hash: Mapped[Digest]


# --- email that is never lost ----------------------------------------------------


class SubmittedDocument(Base):
    """A file a department sends the office, kept exactly as sent (the stamped confirmation report, its summary)."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_code: Mapped[str] = mapped_column(ForeignKey("campaigns.code"))
    kind: Mapped[str] = mapped_column(String(32))  # confirmation_report | summary
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[Digest]
    highlights: Mapped[str | None] = mapped_column(Text)  # 亮点
    practices: Mapped[str | None] = mapped_column(Text)  # 经验做法
    problems: Mapped[str | None] = mapped_column(Text)  # 存在问题
    submitted_at: Mapped[Instant]
    submitted_by: Mapped[Who]


class EventCursor(Base):
    """How far the audit chain has been announced as Prefect events (so each transition is emitted once)."""

    __tablename__ = "event_cursors"

    chain: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)


class CampaignCount(Base):
    """One of a campaign's counts (``workflow.campaign_counts``), kept by ``persistence.counts`` in the transaction
    that changes what it counts: the statistics table and the board read a few of these, not the inspections."""

    __tablename__ = "campaign_counts"

    campaign_code: Mapped[str] = mapped_column(ForeignKey("campaigns.code"), primary_key=True)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    department_code: Mapped[str] = mapped_column(String(64), primary_key=True)  # "": the campaign as a whole
    detail: Mapped[str] = mapped_column(String(64), primary_key=True)  # a state, an item code, or ""
    n: Mapped[int] = mapped_column(Integer)


# The outbox, the mailbox and the results live in modules of their own; imported here so that
# Base.metadata, and so Alembic and the tests, know every table.
from workflow.persistence.orm_outbox import OutboxAttachment, OutboxMessage, PendingNotice  # noqa: E402,F401
from workflow.persistence.orm_mailbox import InboundMessage, MailboxPass  # noqa: E402,F401
from workflow.persistence.orm_results import ItemResultRow, ResultCode, ResultHandling  # noqa: E402,F401
