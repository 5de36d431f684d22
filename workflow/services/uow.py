"""The unit of work: one transaction, its repositories, and the campaign it acts on.

Every command and every flow step that changes a campaign opens one::

    uow = UnitOfWork(engine, now=now, actor=user, campaign="luquan-2019-h2")
    with uow:                      # a transaction; committed when the block ends, rolled back on any error
        inspection = uow.inspections.get(uow.plan.code, uscc)
        uow.move(inspection, WITHDRAW, reason="企业已注销")   # the guard, the row, its reactions, its audit row

It carries who acts and when (``actor``, ``now``: injected, never read from the
wall clock) and the machine's clock (``clock``, default the wall clock in UTC; a
test may pass its own), which only stamps each audit row's ``written_at``, loads the campaign's stored plan and its working-day calendar once,
and moves inspections through the machine: a move is written together with its
reactions (``reactions.REACTIONS``) and its audit row, in the same transaction.
Entering it again inside its own block joins the transaction as a savepoint (a
handler may call another; an error inside the inner block undoes only that block's
writes, and the outer block decides what to do with it). A handler that needs several transactions by design (the sweep's
batches, the sender's marks) enters it several times, one block each.

The lock order (PostgreSQL): a unit of work that changes a campaign takes the
campaign's audit chain head (``audit_chains``, ``SELECT … FOR UPDATE``) as the
first statement of each transaction — or, when it learns the campaign later
(``use``), before it touches that campaign — and only then reads or writes
inspections, tasks, the outbox. Every writer of one campaign therefore waits at
the same door and none can hold a task row while waiting for the head: the
writers of a campaign take turns, different campaigns go on in parallel. A unit
that only reads (``changes=False``) takes nothing. On SQLite every write
transaction is already serial (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine

from calendars import WorkdayCalendar
from workflow.audit import Entry, campaign_chain
from workflow.campaign_plan import CampaignPlan
from workflow.errors import NotFound, UserError
from workflow.files.email import stored_files
from workflow.files.location import campaign_folder
from workflow.identity import OnBehalf
from workflow.inspection import Inspection, Moved
from workflow.machine import fire
from workflow.mail import Mail
from workflow.persistence.audit_log import AuditLog
from workflow.persistence.campaigns import CampaignRepository
from workflow.persistence.directory import DirectoryReader
from workflow.persistence.contention import retried
from workflow.persistence.counts import CountKeeper
from workflow.persistence.database import without_jit
from workflow.persistence.documents import DocumentRepository
from workflow.persistence.draws import DrawRepository
from workflow.persistence.identities import DatabaseSettings, StaffDirectory
from workflow.persistence.inspections import InspectionRepository
from workflow.persistence.locks import held_since, try_exclusive
from workflow.persistence.mailbox import MailboxRepository
from workflow.persistence.outbox import OutboxRepository
from workflow.persistence.pending_notices import PendingNotices
from workflow.persistence.queries import ReportQueries
from workflow.persistence.tasks import TaskRepository
from workflow.persistence.teams import TeamRepository
from workflow.services.audit_trail import with_anchor
from workflow.services.calendar_files import campaign_calendar
from workflow.services.machine_clock import wall_clock
from workflow.services.facts import facts_for
from workflow.services.reactions import react


T = TypeVar("T")


def unknown_campaign(code: str) -> NotFound:
    return NotFound(f"抽查任务“{code}”不存在（用 ssj campaign create 创建）")


class UnitOfWork:
    def __init__(self, engine: Engine, *, now: datetime, actor: str, campaign: str | None = None,
                 files_dir: Path | None = None, on_seam: Callable[[str], None] | None = None, changes: bool = True,
                 on_behalf: OnBehalf | None = None, clock: Callable[[], datetime] = wall_clock):
        self.engine = engine
        self.clock = clock
        self.changes = changes  # False: only reads, so it takes no lock (a dashboard, a report, a verification)
        self.commits = 0  # transactions committed so far: a unit that committed one cannot simply be run again
        self._held: set[str] = set()  # the campaigns whose chain head this transaction holds
        self.on_seam = on_seam  # called at each named seam between the steps of a long handler (tests kill there)
        self.now = now
        self.actor = actor
        self.on_behalf = on_behalf  # the actor acts for a department or an officer: every audit row of it says so
        self.via: dict | None = None  # the act came by email: every audit row names the message (``services.mailbox``)
        self._simulation: bool | None = None
        self.code = campaign
        self._files_dir = files_dir
        self._calendars: dict[str, WorkdayCalendar] = {}
        self._depth = 0
        self._nested: list = []  # the savepoints of the blocks entered inside the transaction
        self.conn = None

    # --- the transaction -------------------------------------------------------

    def __enter__(self) -> UnitOfWork:
        if self._depth == 0:
            self._plans: dict[str, CampaignPlan] = {}
            self._begin()
        else:
            self._nested.append(self._savepoint())
        self._depth += 1
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self._depth -= 1
        if self._depth == 0:
            self._end(commit=exc_type is None)
        else:
            self._release(self._nested.pop(), commit=exc_type is None)
        return False

    def _savepoint(self):
        """A block inside the transaction: on an error only the block's own writes are undone (and the moves it
        told the count keeper of)."""
        return self.conn.begin_nested(), self.counts.savepoint()

    def _release(self, savepoint, *, commit: bool) -> None:
        nested, mark = savepoint
        if commit:
            nested.commit()
        else:
            nested.rollback()
            self.counts.rollback_to(mark)

    def _begin(self) -> None:
        """A transaction on the database, and the repositories over it (nothing left open if it cannot start)."""
        conn = self.engine.connect()
        try:
            self._transaction = conn.begin()
            if not self.changes:
                without_jit(conn)  # a read's aggregates are short: compiling them costs more than it saves
            self._repositories(conn)
            self._held = set()
            self.conn = conn
            if self.code is not None:
                self._take_head(self.code)
        except BaseException:
            conn.close()  # rolls back whatever began
            self.conn = None
            raise

    def _repositories(self, conn) -> None:
        self.counts = CountKeeper(conn)  # brought up to date when the transaction commits
        self.inspections = InspectionRepository(conn, self.counts)
        self.tasks = TaskRepository(conn)
        self.draws = DrawRepository(conn)
        self.teams = TeamRepository(conn, self.counts)
        self.outbox = OutboxRepository(conn)
        self.pending_notices = PendingNotices(conn)
        self.mailbox = MailboxRepository(conn)
        self.audit = AuditLog(conn, self.clock)
        self.documents = DocumentRepository(conn)
        self.directory = DirectoryReader(conn)
        self.campaigns = CampaignRepository(conn)
        self.reports = ReportQueries(conn)
        self.settings = DatabaseSettings(conn)
        self.staff = StaffDirectory(conn)

    def _take_head(self, code: str) -> None:
        """The lock order: a changing transaction holds its campaign's chain head before anything else of it."""
        if self.changes and code not in self._held:
            self._held.add(code)
            self.audit.lock_head(campaign_chain(code))

    def _end(self, *, commit: bool) -> None:
        try:
            if commit:
                self.counts.flush()
                self._transaction.commit()
                self.commits += 1
            else:
                self._transaction.rollback()
        finally:
            self.conn.close()
            self.conn = None

    # --- the campaign ----------------------------------------------------------

    def use(self, code: str) -> UnitOfWork:
        """Act on campaign ``code`` from here on (a file of answers may name several); inside a transaction, its
        chain head is taken now (see the lock order above)."""
        self.code = code
        if self.conn is not None:
            self._take_head(code)
        return self

    def lock_campaigns(self, codes: Iterable[str]) -> None:
        """Take several campaigns' chain heads at once, in code order (a file of answers may name several): two
        such files cannot then wait for each other."""
        for code in sorted(set(codes)):
            self._take_head(code)

    def retried(self, handler: Callable[[UnitOfWork], T]) -> T:
        """``handler(self)``, run again (bounded) when a deadlock or serialisation failure rolled its transaction back
        before it committed anything — for a handler that does nothing outside the database before its commit."""
        before = self.commits

        def attempt() -> T:
            nonlocal before
            before = self.commits
            return handler(self)
        return retried(attempt, redo_safe=lambda: self.conn is None and self.commits == before)

    @property
    def simulation(self) -> bool:
        """Whether the database was initialised as a simulation (``ssj init --simulation``); read once."""
        if self._simulation is None:
            if self.conn is not None:
                self._simulation = self.settings.simulation()
            else:
                with self.engine.connect() as conn:
                    self._simulation = DatabaseSettings(conn).simulation()
        return self._simulation

    def _stated(self, payload: dict | None) -> dict | None:
        """An audit row's payload, with whom the actor acted for and on what ground when acting on behalf."""
        if self.via is not None:
            payload = {**(payload or {}), "via_mail": self.via}
        if self.on_behalf is None:
            return payload
        return {**(payload or {}), **self.on_behalf.payload()}

    @property
    def plan(self) -> CampaignPlan:
        """The campaign's stored plan, loaded once per transaction; NotFound when there is no such campaign."""
        if self.code is None:
            raise UserError("没有指定抽查任务")
        plan = self._plans.get(self.code)
        if plan is None:
            plan = self.campaigns.plan(self.code)
            if plan is None:
                raise unknown_campaign(self.code)
            self._plans[self.code] = plan
        return plan

    @property
    def calendar(self) -> WorkdayCalendar:
        """The campaign's working-day calendar (the one it adopted, when an override file is broken now)."""
        if self.plan.code not in self._calendars:
            self._calendars[self.plan.code] = campaign_calendar(self.plan)
        return self._calendars[self.plan.code]

    @property
    def files_dir(self) -> Path:
        """The campaign's folder: dispatch lists, the 一企一表, reports (``SSJ_FILES_DIR``/<code>, or as given)."""
        return Path(self._files_dir) if self._files_dir is not None else campaign_folder(self.plan.code)

    def seam(self, name: str) -> None:
        """A point between two steps of a handler where a killed process must leave nothing half-done."""
        if self.on_seam is not None:
            self.on_seam(name)

    @contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        """A named lock one process holds at a time (released if it dies); yields whether this one got it."""
        with try_exclusive(self.engine, name) as mine:
            yield mine

    def held_since(self, name: str) -> datetime | None:
        """When the process holding ``exclusive(name)`` took it (None: nobody, or it cannot be told)."""
        return held_since(self.engine, name)

    # --- what happens ----------------------------------------------------------

    def record(self, action: str, *, uscc: str | None = None, payload: dict | None = None,
               to_state: str | None = None) -> None:
        """One row in the campaign's audit chain, by this actor at this instant."""
        self.record_all([(action, uscc, payload, to_state)])

    def record_all(self, rows: Iterable[tuple[str, str | None, dict | None, str | None]]) -> None:
        """Rows (action, USCC, payload, state reached) in the campaign's audit chain, by this actor at this instant."""
        self.audit.append(campaign_chain(self.plan.code), (
            Entry(action, self.actor, self.now, self.plan.code, uscc, None, to_state, self._stated(payload))
            for action, uscc, payload, to_state in rows))

    def queue(self, mails: Sequence[Mail]) -> int:
        """Queue mail in this transaction (sent after it commits; never twice for one key); the morning report and
        the 【待公布】 mails carry the campaign's audit chain head (``audit_trail.with_anchor``)."""
        mails, files = stored_files(with_anchor(self, mails))  # the files go into the database with their message
        opening = self.plan.office_hours.opening(self.now, self.calendar, self.plan.tz)  # officials read mail then
        return self.outbox.queue(self.plan.code, self.plan.email_sender, mails, self.now, files, not_before=opening,
                                 secret=self.settings.reply_secret())

    def sent_marks(self):
        """The sender's marks for one sending run, on a connection of their own (``outbox_marks.SentMarks``)."""
        from workflow.persistence.outbox_marks import SentMarks

        return SentMarks(self.engine, self.now)

    def move(self, inspection: Inspection, trigger: str, *, reason: str = "") -> Moved:
        """Move one inspection: its guard (IllegalMove / MoveRefused leave everything untouched), then the row,
        its reactions and its audit row."""
        facts = facts_for(self, trigger, [inspection], reason=reason)[inspection.id]
        moved = fire(inspection, trigger, facts, self.now)
        self._written([(inspection, moved)])
        return moved

    def move_many(self, inspections: Sequence[Inspection], trigger: str
                  ) -> tuple[list[Inspection], list[tuple[Inspection, UserError]]]:
        """Move a batch by one trigger: those whose guard passes move, the others are returned with why."""
        facts = facts_for(self, trigger, inspections)
        moved, refused = [], []
        for inspection in inspections:
            try:
                moved.append((inspection, fire(inspection, trigger, facts[inspection.id], self.now)))
            except UserError as exc:
                refused.append((inspection, exc))
        self._written(moved)
        return [i for i, _ in moved], refused

    def _written(self, moved: list[tuple[Inspection, Moved]]) -> None:
        """The moves' rows, their reactions, their audit rows (the chain is the campaign's event log: the tick
        announces each transition from it once, whichever process made it)."""
        if not moved:
            return
        self.inspections.save(i for i, _ in moved)
        react(self, moved)
        self.audit.append(campaign_chain(self.plan.code), (
            Entry(m.trigger, m.actor, m.at, self.plan.code, i.uscc, m.source, m.dest, self._stated(m.payload))
            for i, m in moved))


@contextmanager
def refusals_audited(uow: UnitOfWork, what: str, uscc: str | None = None) -> Iterator[None]:
    """A refused act (UserError) is rolled back, then recorded in the campaign's chain on its own, and re-raised.

    A campaign that does not exist has no chain: nothing is recorded."""
    if uow.conn is not None:
        raise RuntimeError("refusals_audited wraps a whole act: the refusal needs a transaction of its own")
    try:
        yield
    except UserError as exc:
        code = uow.code
        if code is not None:
            with uow:
                if uow.campaigns.plan(code) is not None:
                    uow.record("refused", uscc=uscc, payload={"action": what, "message": exc.lines})
        raise
