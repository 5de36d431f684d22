"""The tables. FORMATS.md fixes the main names: auditors query them directly.

Instants are stored in UTC (``types.UTCDateTime``); dates are plain calendar dates.
Every directory row keeps ``in_latest_directory``: an import never deletes, a
``--full`` import marks what the latest export no longer lists (不在最新名录).

Each table is a class (``declared.Base``: SQLAlchemy Core, no ORM); ``Campaign.code`` is its column.
"""

from __future__ import annotations

from sqlalchemy import (JSON, Boolean, Column, Date, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint, false, text, true)

from workflow.persistence.declared import DIGEST, EMAIL, INSTANT, PERSON_NAME, PHONE, WHO, Base
from workflow.persistence.types import Money


class _DirectoryRow:
    in_latest_directory = Column(Boolean, default=True, server_default=true(), nullable=False)
    last_import_id = Column(Integer)
    created_at = Column(INSTANT, nullable=False)
    updated_at = Column(INSTANT, nullable=False)


class Department(_DirectoryRow, Base):
    __tablename__ = "departments"

    code = Column(String(64), primary_key=True)
    name = Column(String(100), nullable=False)
    admin_name = Column(PERSON_NAME)
    admin_email = Column(EMAIL)
    """管理员: does the department's 比对确认 (seed: 由各单位（部门）的管理员在两个工作日内完成比对和确认)."""
    leader_name = Column(PERSON_NAME)
    leader_email = Column(EMAIL)
    """分管领导: the escalation ladder's ``department_leader`` step."""
    responsible_section = Column(String(100))
    contact_name = Column(PERSON_NAME)
    contact_phone = Column(PHONE)
    contact_email = Column(EMAIL)
    """联络人: receives the dispatch lists and the notices (the ladder's ``department_contact`` step)."""


class Officer(_DirectoryRow, Base):
    __tablename__ = "officers"

    certificate_no = Column(String(64), primary_key=True)
    name = Column(String(50), nullable=False)
    department_code = Column(ForeignKey("departments.code"), index=True, nullable=False)
    mobile = Column(String(11))
    email = Column(String(254))
    certificate_valid_until = Column(Date, nullable=False)
    status = Column(String(8), default="在岗", nullable=False)
    specialties = Column(Text)


class OfficerConflict(Base):
    """回避企业: an officer must never be matched to this enterprise."""

    __tablename__ = "officer_conflicts"

    certificate_no = Column(ForeignKey("officers.certificate_no", ondelete="CASCADE"), primary_key=True)
    uscc = Column(String(18), primary_key=True)


class Enterprise(_DirectoryRow, Base):
    __tablename__ = "enterprises"

    uscc = Column(String(18), primary_key=True)
    name = Column(String(200), nullable=False)
    category = Column(String(16), nullable=False)
    kind = Column(String(100))
    registered_capital = Column(Money)
    established_on = Column(Date, nullable=False)
    status = Column(String(8), nullable=False)
    district = Column(String(100))
    address = Column(String(500))
    legal_representative = Column(String(100))
    phone = Column(String(40))
    industry = Column(String(200))
    credit_risk = Column(String(1))


class InspectionItem(_DirectoryRow, Base):
    __tablename__ = "inspection_items"

    code = Column(String(64), primary_key=True)
    department_code = Column(ForeignKey("departments.code"), index=True, nullable=False)
    category = Column(String(100))
    name = Column(String(200), nullable=False)
    target = Column(String(200))
    level = Column(String(16))
    method = Column(String(200))
    basis = Column(Text)


class InspectionItemContent(Base):
    """检查内容: the content points of an item, in the order the list gives them."""

    __tablename__ = "inspection_item_contents"

    item_code = Column(ForeignKey("inspection_items.code", ondelete="CASCADE"), primary_key=True)
    position = Column(Integer, primary_key=True)
    text = Column(Text, nullable=False)


class DirectoryImport(Base):
    """One run of ``ssj import``: who loaded which file, and what it changed."""

    __tablename__ = "directory_imports"

    id = Column(Integer, primary_key=True, autoincrement=True)
    kind = Column(String(16), nullable=False)
    path = Column(Text, nullable=False)
    file_sha256 = Column(DIGEST, nullable=False)
    full = Column(Boolean, nullable=False)
    rows = Column(Integer, nullable=False)
    inserted = Column(Integer, nullable=False)
    updated = Column(Integer, nullable=False)
    marked_not_latest = Column(Integer, nullable=False)
    imported_by = Column(WHO, nullable=False)
    imported_at = Column(INSTANT, nullable=False)


class Campaign(Base):
    """A campaign as its file defined it; ``plan`` is the validated file as JSON."""

    __tablename__ = "campaigns"

    code = Column(String(64), primary_key=True)
    name = Column(String(200), nullable=False)
    document_no = Column(String(100), nullable=False)
    office = Column(String(200), nullable=False)
    lead_department_code = Column(ForeignKey("departments.code"), nullable=False)
    timezone = Column(String(64), nullable=False)
    window_from = Column(Date, nullable=False)
    window_to = Column(Date, nullable=False)
    draw_at = Column(INSTANT, nullable=False)
    plan = Column(JSON, nullable=False)
    source_toml = Column(Text, nullable=False)
    source_sha256 = Column(DIGEST, nullable=False)
    created_at = Column(INSTANT, nullable=False)
    created_by = Column(WHO, nullable=False)
    calendar_sha256 = Column(DIGEST)  # the override files its deadlines were computed with
    calendar_files = Column(Text)  # their content (JSON [[name, text], …]): kept in force


class CampaignDepartment(Base):
    __tablename__ = "campaign_departments"

    campaign_code = Column(ForeignKey("campaigns.code", ondelete="CASCADE"), primary_key=True)
    department_code = Column(ForeignKey("departments.code"), primary_key=True)
    is_lead = Column(Boolean, default=False, nullable=False)


class CampaignItem(Base):
    __tablename__ = "campaign_items"

    campaign_code = Column(ForeignKey("campaigns.code", ondelete="CASCADE"), primary_key=True)
    item_code = Column(ForeignKey("inspection_items.code"), primary_key=True)
    department_code = Column(ForeignKey("departments.code"), nullable=False)



# --- the draws (commit–reveal) -------------------------------------------------


class DrawRow(Base):
    """One round of a draw (enterprises or officers): the commitment, then the public run.

    ``snapshot`` holds exactly the text that was hashed, so a later directory update
    never invalidates a past draw; ``witness`` is kept exactly as received.
    """

    __tablename__ = "draws"
    __table_args__ = (UniqueConstraint("campaign_code", "kind", "round"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    campaign_code = Column(ForeignKey("campaigns.code"), nullable=False)
    kind = Column(String(16), nullable=False)  # enterprises | officers
    round = Column(Integer, nullable=False)
    algorithm = Column(String(32), nullable=False)
    redraw_reason = Column(Text)
    secret_hex = Column(String(64))  # ssj-*-v1 only: the office's secret
    commitment = Column(String(64))  # ssj-*-v1 only
    parties = Column(Text)  # ssj-*-v2: canonical JSON [{party, commitment, secret}]
    snapshot = Column(Text, nullable=False)
    snapshot_sha256 = Column(DIGEST, nullable=False)
    eligible = Column(Integer, nullable=False)
    committed_at = Column(INSTANT, nullable=False)
    committed_by = Column(WHO, nullable=False)
    witness = Column(Text)
    seed = Column(String(64))
    result = Column(Text)  # canonical JSON: sample size, sampled in rank order, strata
    run_at = Column(INSTANT)
    run_by = Column(WHO)


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

    id = Column(Integer, primary_key=True, autoincrement=True)
    campaign_code = Column(ForeignKey("campaigns.code"), nullable=False)
    uscc = Column(ForeignKey("enterprises.uscc"), nullable=False)
    state = Column(String(16), nullable=False)
    version = Column(Integer, default=1, nullable=False)
    sampled_at = Column(INSTANT, nullable=False)
    confirmed_at = Column(INSTANT)
    assigned_at = Column(INSTANT)
    inspected_at = Column(INSTANT)
    reported_at = Column(INSTANT)
    published_at = Column(INSTANT)
    withdrawn_at = Column(INSTANT)
    withdraw_reason = Column(Text)
    forms_generated_at = Column(INSTANT)
    visit_date = Column(Date)
    visit_signature = Column(String(8))
    visit_note = Column(Text)
    visit_recorded_at = Column(INSTANT)
    visit_recorded_by = Column(WHO)
    draw_id = Column(ForeignKey("draws.id"))
    planned_visit_on = Column(Date)  # the visit schedule (ssj forms)
    visit_group = Column(Integer)  # the day's group (vehicle) number


class InspectionDepartment(Base):
    """A drawn enterprise dispatched to a department, and that department's 比对确认."""

    __tablename__ = "inspection_departments"

    inspection_id = Column(ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True)
    department_code = Column(ForeignKey("departments.code"), primary_key=True)
    dispatched_at = Column(INSTANT, nullable=False)
    inspects = Column(Boolean)
    decline_reason = Column(Text)
    answered_at = Column(INSTANT)
    answered_by = Column(WHO)
    on_behalf = Column(Boolean, default=False, nullable=False)


class TeamMemberRow(Base):
    """An officer (or a specialist helper) on an enterprise's inspection team."""

    __tablename__ = "team_members"

    inspection_id = Column(ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True)
    certificate_no = Column(ForeignKey("officers.certificate_no"), primary_key=True)
    department_code = Column(ForeignKey("departments.code"), nullable=False)
    specialist = Column(Boolean, default=False, nullable=False)
    matched_at = Column(INSTANT, nullable=False)
    eligibility = Column(Text)  # why this officer could be drawn for this enterprise
    substitute_for = Column(String(64))
    released_at = Column(INSTANT)  # replaced: no longer on the team
    release_reason = Column(Text)


class VisitOfficer(Base):
    """An officer present at the joint visit."""

    __tablename__ = "visit_officers"

    inspection_id = Column(ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True)
    certificate_no = Column(ForeignKey("officers.certificate_no"), primary_key=True)


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

    id = Column(Integer, primary_key=True, autoincrement=True)
    key = Column(String(200), unique=True, nullable=False)
    campaign_code = Column(ForeignKey("campaigns.code"), nullable=False)
    inspection_id = Column(ForeignKey("inspections.id"), index=True)
    kind = Column(String(32), nullable=False)
    department_code = Column(ForeignKey("departments.code"))
    certificate_no = Column(ForeignKey("officers.certificate_no"))
    due_at = Column(INSTANT, nullable=False)
    provisional = Column(Boolean, default=False, nullable=False)
    created_at = Column(INSTANT, nullable=False)
    done_at = Column(INSTANT)
    outcome = Column(String(16))
    escalation_level = Column(Integer, default=0, nullable=False)
    next_notice_at = Column(INSTANT)  # None: not planned yet (the sweep plans it)
    # Announced while provisional, and kept when the year's file would have brought it forward: never earlier.
    no_earlier = Column(Boolean, default=False, server_default=false(), nullable=False)


# --- the database itself and who may run ssj on it -------------------------------


class DatabaseSetting(Base):
    """Facts about the database fixed at ``ssj init``: ``simulation`` ("true"/"false"), ``administrator``
    (the operating-system account that initialised it), ``initialised_at``."""

    __tablename__ = "database_settings"

    key = Column(String(40), primary_key=True)
    value = Column(Text, nullable=False)


class StaffMember(Base):
    """The office's staff: who may import directories, create campaigns, draw, withdraw, publish, reload calendars.

    ``os_account`` is the operating-system login that runs ``ssj`` as this person."""

    __tablename__ = "staff"

    email = Column(EMAIL, primary_key=True)
    name = Column(PERSON_NAME, nullable=False)
    os_account = Column(String(64), unique=True)
    added_at = Column(INSTANT, nullable=False)
    added_by = Column(String(254), nullable=False)


# --- the audit trail ------------------------------------------------------------


class AuditChainHead(Base):
    """The last row of each hash chain; writers lock it to append, so a chain cannot fork."""

    __tablename__ = "audit_chains"

    chain = Column(String(100), primary_key=True)
    last_seq = Column(Integer, nullable=False)
    last_hash = Column(DIGEST, nullable=False)


class AuditEvent(Base):
    """An append-only, hash-chained record of something that happened (see workflow.audit)."""

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("chain", "seq"), Index("ix_audit_events_campaign_uscc", "campaign_code", "uscc"))

    id = Column(Integer, primary_key=True, autoincrement=True)
    chain = Column(String(100), nullable=False)
    seq = Column(Integer, nullable=False)
    occurred_at = Column(INSTANT, nullable=False)  # the instant the act claims
    written_at = Column(INSTANT)  # the machine's clock when the row was written (None before migration 0007)
    actor = Column(WHO, nullable=False)
    action = Column(String(40), nullable=False)
    campaign_code = Column(String(64))
    uscc = Column(String(18))
    from_state = Column(String(16))
    to_state = Column(String(16))
    payload = Column(Text, nullable=False)
    prev_hash = Column(DIGEST, nullable=False)
    hash = Column(DIGEST, nullable=False)


# --- email that is never lost ----------------------------------------------------


class SubmittedDocument(Base):
    """A file a department sends the office, kept exactly as sent (the stamped confirmation report, its summary)."""

    __tablename__ = "documents"

    id = Column(Integer, primary_key=True, autoincrement=True)
    campaign_code = Column(ForeignKey("campaigns.code"), nullable=False)
    kind = Column(String(32), nullable=False)  # confirmation_report | summary
    department_code = Column(ForeignKey("departments.code"), nullable=False)
    filename = Column(String(255), nullable=False)
    content = Column(LargeBinary, nullable=False)
    sha256 = Column(DIGEST, nullable=False)
    highlights = Column(Text)  # 亮点
    practices = Column(Text)  # 经验做法
    problems = Column(Text)  # 存在问题
    submitted_at = Column(INSTANT, nullable=False)
    submitted_by = Column(WHO, nullable=False)


class EventCursor(Base):
    """How far the audit chain has been announced as Prefect events (so each transition is emitted once)."""

    __tablename__ = "event_cursors"

    chain = Column(String(100), primary_key=True)
    last_seq = Column(Integer, nullable=False)


class CampaignCount(Base):
    """One of a campaign's counts (``workflow.campaign_counts``), kept by ``persistence.counts`` in the transaction
    that changes what it counts: the statistics table and the board read a few of these, not the inspections."""

    __tablename__ = "campaign_counts"

    campaign_code = Column(ForeignKey("campaigns.code"), primary_key=True)
    name = Column(String(40), primary_key=True)
    department_code = Column(String(64), primary_key=True)  # "": the campaign as a whole
    detail = Column(String(64), primary_key=True)  # a state, an item code, or ""
    n = Column(Integer, nullable=False)


# The outbox, the mailbox and the results live in modules of their own; imported here so that
# Base.metadata, and so Alembic and the tests, know every table.
from workflow.persistence.orm_outbox import OutboxAttachment, OutboxMessage, PendingNotice  # noqa: E402,F401
from workflow.persistence.orm_mailbox import InboundMessage, MailboxPass  # noqa: E402,F401
from workflow.persistence.orm_results import ItemResultRow, ResultCode, ResultHandling  # noqa: E402,F401
