"""Plans that stay good as tables grow (issue 19): on a populated PostgreSQL database, after the statistics the
product itself refreshes, each hot query reads its index, never a whole large table.

PostgreSQL only: SQLite plans by rule and keeps no statistics the product refreshes. A missing server fails
the test (it never skips). The rows go straight in by ``generate_series``: 200,000 enterprises, 50,000
past inspections with visits over ten
years and 150,000 without, 200,000 tasks (150,000 open, none due), 100,000 more open at the top of their ladder
(nothing left to send: no next notice), 100,000 sent messages and a few unsent, and 200,000 held notices for 5,000
officers not yet digested (another campaign's back-fill wave).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import event, text

from tests.conftest import _pg_available, _pg_database_url
from tests.integration.conftest import CODE
from workflow.identity import SYSTEM

LARGE = ("enterprises", "inspections", "tasks", "outbox")
NOW = datetime(2019, 12, 3, 10, 0, tzinfo=timezone.utc)

POPULATE = [
    """INSERT INTO enterprises (uscc, name, category, kind, registered_capital, established_on, status, district,
                                in_latest_directory, created_at, updated_at)
       SELECT 'P' || lpad(n::text, 17, '0'), '企业' || n, CASE WHEN n % 3 = 0 THEN '个体工商户' ELSE '内资企业' END,
              '有限责任公司', n % 1500, DATE '2000-01-01' + n % 6000, CASE WHEN n % 10 = 0 THEN '注销' ELSE '存续' END,
              '鹿泉区', true, now(), now()
       FROM generate_series(1, 200000) n""",
    """INSERT INTO campaigns SELECT 'past-2018', name, document_no, office, lead_department_code, timezone,
              window_from - 400, window_to - 400, draw_at - interval '400 days', plan, source_toml, source_sha256,
              created_at, created_by, calendar_sha256, calendar_files
       FROM campaigns WHERE code = :code""",
    """INSERT INTO campaigns SELECT 'open-2019', name, document_no, office, lead_department_code, timezone, window_from,
              window_to, draw_at, plan, source_toml, source_sha256, created_at, created_by, calendar_sha256,
              calendar_files
       FROM campaigns WHERE code = :code""",
    """INSERT INTO inspections (campaign_code, uscc, state, version, sampled_at, inspected_at)
       SELECT 'past-2018', 'P' || lpad((n * 4)::text, 17, '0'), 'inspected', 1, TIMESTAMPTZ '2017-01-01 00:00+00',
              TIMESTAMPTZ '2010-01-01 00:00+00' + n % 3650 * interval '1 day'
       FROM generate_series(1, 50000) n""",
    """INSERT INTO inspections (campaign_code, uscc, state, version, sampled_at)
       SELECT 'open-2019', 'P' || lpad(n::text, 17, '0'), 'sampled', 1, TIMESTAMPTZ '2019-01-01 00:00+00'
       FROM generate_series(1, 150000) n""",
    """INSERT INTO tasks (key, campaign_code, kind, due_at, provisional, created_at, done_at, outcome,
                          escalation_level, next_notice_at)
       SELECT 'bulk|' || n, :code, 'backfill', TIMESTAMPTZ '2019-12-20 09:00+00' + n % 500 * interval '1 hour', false,
              TIMESTAMPTZ '2019-11-28 00:00+00', CASE WHEN n % 4 = 0 THEN TIMESTAMPTZ '2019-11-30 00:00+00' END,
              CASE WHEN n % 4 = 0 THEN 'done' END, 0, TIMESTAMPTZ '2019-12-18 01:00+00' + n % 500 * interval '1 hour'
       FROM generate_series(1, 200000) n""",
    """INSERT INTO tasks (key, campaign_code, kind, due_at, provisional, created_at, escalation_level)
       SELECT 'exhausted|' || n, :code, 'backfill', TIMESTAMPTZ '2019-11-20 09:00+00', false,
              TIMESTAMPTZ '2019-11-01 00:00+00', 99
       FROM generate_series(1, 100000) n""",
    """INSERT INTO outbox (key, message_id, campaign_code, kind, recipient, template, context, created_at,
                           not_before, attempts, sent_at, state, rejections, unclear)
       SELECT 'bulk|' || n, '<bulk' || n || '@x.example>', :code, 'remind', 'a' || n % 300 || '@x.example', 'remind',
              '{}', TIMESTAMPTZ '2019-11-28 00:00+00', TIMESTAMPTZ '2019-11-28 00:00+00', 1,
              CASE WHEN n <= 99800 THEN TIMESTAMPTZ '2019-11-28 00:10+00' END,
              CASE WHEN n <= 99800 THEN '已发' ELSE '待发' END, 0, 0
       FROM generate_series(1, 100000) n""",
    """INSERT INTO pending_notices (campaign_code, task_id, level, stage, step, recipient, item, decided_at)
       SELECT 'open-2019', t.id, 9, 'overdue', 'responsible', 'officer' || t.id % 5000 || '@x.example', '{}',
              TIMESTAMPTZ '2019-12-03 01:00+00'
       FROM tasks t WHERE t.key LIKE 'bulk|%'""",
]


@pytest.fixture(scope="module")
def populated(templates):
    """The assigned seed campaign (forms sent 2019-12-03 09:00) with the bulk rows above; its engine."""
    from workflow.persistence.database import make_engine

    problem = _pg_available()
    if problem:
        pytest.fail(problem)  # a part missing is a failure, never a skip
    name = templates.pg_create("assigned")
    engine = make_engine(_pg_database_url(name))
    with engine.begin() as conn:
        for statement in POPULATE:
            conn.execute(text(statement), {"code": CODE})
    yield engine
    engine.dispose()
    templates.pg_drop(name)


def _uow(engine, now=NOW):
    from workflow.services.uow import UnitOfWork

    return UnitOfWork(engine, now=now, actor=SYSTEM, campaign=CODE)


class Captured:
    """Every statement an engine runs while open, with its parameters: the exact SQL the product sends."""

    def __init__(self, engine):
        self.engine, self.statements = engine, []

    def _grab(self, conn, cursor, statement, parameters, context, executemany):
        if not executemany and statement.lstrip().upper().startswith(("SELECT", "WITH", "UPDATE", "DELETE")):
            self.statements.append((statement, parameters))

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._grab)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._grab)


def _scans(engine, statement, parameters) -> list[str]:
    """The large tables the statement's plan reads whole (``Seq Scan``), EXPLAINed with its own parameters."""
    with engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()[0]["Plan"]
    found, nodes = [], [plan]
    while nodes:
        node = nodes.pop()
        nodes += node.get("Plans", [])
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in LARGE:
            found.append(node["Relation Name"])
    return found


def _rows_read(engine, statement, parameters) -> int:
    """The most rows one step of the statement's plan read: returned, or read and thrown away (by a filter, or by
    the recheck of a bitmap). EXPLAIN ANALYZE runs the statement: in a transaction rolled back."""
    with engine.connect() as conn, conn.begin() as transaction:
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).scalar()[0]["Plan"]
        transaction.rollback()
    most, nodes = 0, [plan]
    while nodes:
        node = nodes.pop()
        nodes += node.get("Plans", [])
        thrown = node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
        most = max(most, (node["Actual Rows"] + thrown) * node["Actual Loops"])
    return most


def _whole_table_reads(engine, captured: Captured, allowed: tuple[str, ...] = ()) -> list[str]:
    return [f"{' '.join(s.split())[:200]} → Seq Scan {', '.join(t)}" for s, p in captured.statements
            if (t := [x for x in _scans(engine, s, p) if x not in allowed])]


@pytest.fixture(scope="module")
def analysed(populated):
    """The statistics the product refreshes after its bulk writes: an import of enterprises, a draw, a sweep."""
    from workflow.persistence.statistics_refresh import DIRECTORY_TABLES, DRAW_TABLES, SWEEP_TABLES, \
        refresh_statistics

    for tables in (DIRECTORY_TABLES["enterprises"], DRAW_TABLES, SWEEP_TABLES):
        refresh_statistics(populated, tables)
    return populated


def test_the_draws_exclusion_window_reads_recent_visits_by_index(analysed):
    uow = _uow(analysed)
    with Captured(analysed) as captured, uow:
        sampling = uow.plan.sampling
        assert sampling.exclude_inspected_within_days  # the anti-join is in the query
        eligible = uow.directory.eligible(sampling, uow.plan.draw_at)
        assert uow.directory.eligible_count(sampling, uow.plan.draw_at) == len(eligible) > 10000
    assert len(captured.statements) >= 2
    assert _whole_table_reads(analysed, captured, allowed=("enterprises",)) == []  # the criteria read the directory


def test_the_sweep_claim_and_the_next_notice_read_open_tasks_by_index(analysed):
    uow = _uow(analysed)
    with Captured(analysed) as captured, uow:
        top = len(uow.plan.escalation.ladder) + 1
        due = uow.tasks.notice_due_ids(CODE, now=NOW, top=top)  # the due set read once, claimed by primary key
        uow.tasks.claim_notice_due(CODE, due[:1000], now=NOW, top=top)
        assert uow.tasks.next_notice_after(CODE, NOW) is not None
    assert len(captured.statements) >= 2  # with the campaign's chain head the unit of work takes
    assert _whole_table_reads(analysed, captured) == []


def test_the_outbox_claim_reads_unsent_rows_by_index(analysed):
    from workflow.persistence.outbox import OutboxRepository

    with Captured(analysed) as captured, analysed.connect() as conn, conn.begin() as transaction:
        claimed = OutboxRepository(conn).claim(now=NOW, worker="plans", limit=100)
        transaction.rollback()
    assert len(claimed) == 100
    assert _whole_table_reads(analysed, captured) == []


def test_the_sender_claims_on_from_where_it_stopped_by_index(analysed):
    """Claim after claim, each reads on along ``ix_outbox_campaign_unsent`` past the rows the run already holds."""
    from workflow.persistence.outbox import OutboxRepository

    with Captured(analysed) as captured, analysed.connect() as conn, conn.begin() as transaction:
        outbox, places = OutboxRepository(conn), {}
        first = outbox.claim(now=NOW, worker="plans", limit=150, after=places)
        second = outbox.claim(now=NOW, worker="plans", limit=150, after=places)
        transaction.rollback()
    assert len(first) == 150 and 0 < len(second) < 150 and not {r.id for r in first} & {r.id for r in second}
    assert places[CODE] is None, "the campaign has nothing more due in this run"
    assert _whole_table_reads(analysed, captured) == []


def test_the_mail_health_counts_by_index(analysed):
    """The board's and each tick's mail counts read the waiting rows and today's sent ones, never all 100,000."""
    from workflow.persistence.outbox import OutboxRepository

    with Captured(analysed) as captured, analysed.connect() as conn:
        health = OutboxRepository(conn).health(CODE, NOW.replace(hour=0))
    assert health["waiting"] >= 200 and health["sent_today"] == 0
    assert _whole_table_reads(analysed, captured) == []


def test_an_idle_tick_reads_no_large_table_whole(analysed):
    """Nor more than a handful of rows in any step: in particular none of the 100,000 open tasks whose ladder is
    exhausted, which every tick would read again for as long as the campaign runs."""
    from workflow.services.tick import advance

    advance(_uow(analysed))  # what was due at 10:00 is done
    with Captured(analysed) as captured:
        idle = advance(_uow(analysed, NOW.replace(minute=15)))
    assert (idle.swept.planned, idle.swept.notices, idle.forms) == (0, 0, None)
    assert captured.statements
    assert _whole_table_reads(analysed, captured) == []
    many = [f"{' '.join(s.split())[:200]} → {rows} rows" for s, p in captured.statements
            if "advisory" not in s and (rows := _rows_read(analysed, s, p)) > 1000]
    assert many == []


def test_a_digest_reads_its_own_held_notices_by_index(analysed):
    """A wave's digests (one per recipient and stage: thousands of officers) each read their own notices, never
    every notice the wave held: a read of all 200,000 per digest was the notices times the officers."""
    from workflow.persistence.pending_notices import PendingNotices

    with analysed.connect() as conn:
        held = PendingNotices(conn)
        groups = held.undigested_groups("open-2019")
        with Captured(analysed) as captured:
            rows = held.undigested("open-2019", *groups[len(groups) // 2])
    assert len(groups) >= 5000 and 0 < len(rows) <= 100
    [(statement, parameters)] = captured.statements
    assert _rows_read(analysed, statement, parameters) <= 100


def test_the_most_overdue_first_reads_only_the_tasks_it_shows(analysed):
    """The board and the morning report list the 50 most overdue tasks: read in order from the campaign's open tasks
    by due instant, not 100,000 overdue tasks sorted to keep 50."""
    from workflow.persistence.queries import ReportQueries

    with analysed.connect() as conn, Captured(analysed) as captured:
        first = ReportQueries(conn).overdue(CODE, NOW, first=50)
    assert len(first) == 50 and [r.due_at for r in first] == sorted(r.due_at for r in first)
    [(statement, parameters)] = captured.statements
    assert _rows_read(analysed, statement, parameters) <= 100


def test_campaign_status_counts_by_index(analysed):
    from workflow.services.campaigns import campaign_status

    with Captured(analysed) as captured:
        campaign_status(_uow(analysed))
    assert captured.statements
    # The status no longer counts the directory's census; the eligibility count (符合条件) still filters the directory.
    assert _whole_table_reads(analysed, captured, allowed=("enterprises",)) == []


def test_an_import_refreshes_the_planners_count(analysed, district, tmp_path):
    """Rows written behind the planner's back are counted again once ``ssj import`` has committed."""
    from tests.conftest import _runner

    with analysed.begin() as conn:  # 20,000 enterprises the statistics do not know of yet
        conn.execute(text("INSERT INTO enterprises (uscc, name, category, registered_capital, established_on, status,"
                          " in_latest_directory, created_at, updated_at) SELECT 'Q' || lpad(n::text, 17, '0'), 'q',"
                          " '内资企业', 1, DATE '2000-01-01', '存续', true, now(), now()"
                          " FROM generate_series(1, 20000) n"))
    result = _runner(analysed.url.render_as_string(hide_password=False), tmp_path)(
        "import", "enterprises", district["enterprises"], "--now", "2019-12-03T11:00")
    assert result.code == 0, result.err
    with analysed.connect() as conn:
        counted = conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'enterprises'")).scalar()
        rows = conn.execute(text("SELECT count(*) FROM enterprises")).scalar()
    assert rows > 220000 and abs(counted - rows) < 100, (counted, rows)


def _indexes(engine, statement, parameters) -> set[str]:
    """The indexes the statement's plan reads."""
    with engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()[0]["Plan"]
    found, nodes = set(), [plan]
    while nodes:
        node = nodes.pop()
        nodes += node.get("Plans", [])
        if "Index Name" in node:
            found.add(node["Index Name"])
    return found


def test_the_boards_overdue_work_counts_the_departments_own_tasks_by_index(analysed):
    """The board's overdue card counts a department's own tasks — at a province's first wave, 350,000 confirmations
    — over ix_tasks_open_owner, in the order the count needs, never the tasks' rows. (The rest — officers', teams',
    the office's — is read as the planner sees fit: here 100,000 of the office's, a third of the table, a scan.)"""
    from workflow.services.overdue import Owners, overdue_summary

    uow = _uow(analysed)
    with uow, Captured(analysed) as captured:
        summary = overdue_summary(uow, Owners(uow))
    assert summary.total >= 100_000
    [(statement, parameters)] = [(s, p) for s, p in captured.statements
                                 if " ".join(s.split()).startswith("SELECT tasks.department_code, count(*)")]
    assert "ix_tasks_open_owner" in _indexes(analysed, statement, parameters)
    assert _scans(analysed, statement, parameters) == []


def test_the_escalated_card_names_its_enterprises_by_key(analysed):
    """A wave a week unanswered: 60,000 confirmations of 30,000 enterprises at the top of their ladder. The board's
    escalated card counts the enterprises from the tasks and looks up the names it sorts by the directory's key —
    never reading the directory whole (200,000 enterprises here, 3,000,000 in a province: a second of the board) —
    and counts enterprises, not names: two of them sharing a name are two."""
    from workflow.persistence.queries import ReportQueries

    due = datetime(2019, 11, 29, 16, 0, tzinfo=timezone.utc)
    with analysed.connect() as conn, conn.begin() as transaction:
        conn.execute(text(
            """INSERT INTO tasks (key, campaign_code, inspection_id, kind, department_code, due_at, provisional,
                                  created_at, escalation_level)
               SELECT 'wave|' || d.code || '|' || i.id, 'open-2019', i.id, 'confirm', d.code, :due, false, :due, 9
               FROM inspections i CROSS JOIN (SELECT code FROM departments ORDER BY code LIMIT 2) d
               WHERE i.campaign_code = 'open-2019' AND i.id % 5 = 0"""), {"due": due})
        wave = conn.execute(text("SELECT e.uscc, e.name FROM inspections i JOIN enterprises e ON e.uscc = i.uscc "
                                 "WHERE i.campaign_code = 'open-2019' AND i.id % 5 = 0")).all()
        twins = [uscc for uscc, _ in wave[:2]]
        conn.execute(text("UPDATE enterprises SET name = '同名企业' WHERE uscc IN (:a, :b)"),
                     {"a": twins[0], "b": twins[1]})
        conn.exec_driver_sql("ANALYZE tasks")  # as the sweep that raised them refreshes the statistics
        with Captured(analysed) as captured:
            names, enterprises = ReportQueries(conn).escalated_enterprises("open-2019", 9, "confirm", due, None, 8)
        assert enterprises == len(wave) == 30_000, "every enterprise counted, the two of one name too"
        assert names == sorted({"同名企业"} | {name for uscc, name in wave if uscc not in twins})[:8], "by name"
        [(statement, parameters)] = captured.statements
        plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()[0]["Plan"]
        transaction.rollback()
    scanned, nodes = [], [plan]
    while nodes:
        node = nodes.pop()
        nodes += node.get("Plans", [])
        if node["Node Type"] == "Seq Scan":
            scanned.append(node.get("Relation Name"))
    assert "enterprises" not in scanned, scanned
