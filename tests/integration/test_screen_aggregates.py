"""The counts the statistics, the summary and the board read, kept by every write the campaign went through (the
draw, the answers, the officer draw, the forms, a withdrawal, visits and results), equal a recount of its rows,
and say the same on PostgreSQL, where the per-day progress is one GROUP BY in the campaign's time zone, as on
SQLite, where the instants are read and counted (issue 19)."""

from __future__ import annotations

import pytest

from tests.conftest import _pg_available, _pg_database_url
from tests.integration.conftest import CODE


def _figures(url: str):
    from workflow.campaign_counts import reached_by_day, statistics_rows
    from workflow.persistence.counts import contents, stored, tally
    from workflow.persistence.database import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            kept = stored(conn, CODE)
            assert kept is not None, "the campaign's writers kept its counts"
            assert kept == tally(conn, code=CODE)[CODE], "kept as the rows changed: equal to a recount"
            departments = [(code, code) for code in ("SJ", "SW", "RS", "HB", "YJ", "XF", "TJ")]
            return (reached_by_day(kept),
                    [(row.label, row.cells()) for row in statistics_rows(kept, departments, contents(conn))])
    finally:
        engine.dispose()


def test_progress_by_day_and_statistics_agree_on_both_engines(templates, tmp_path):
    problem = _pg_available()
    if problem:
        pytest.fail(problem)  # a part missing is a failure, never a skip
    on_sqlite = _figures(templates.sqlite_copy("reported", tmp_path / "reported.db"))
    name = templates.pg_create("reported")
    try:
        on_postgres = _figures(_pg_database_url(name))
    finally:
        templates.pg_drop(name)
    days, table = on_sqlite
    assert days  # every drawn enterprise was sampled on some day
    assert table[0][1][0] > 0  # the total row counts the drawn enterprises
    assert table[0][1][5] > 0 and table[0][1][6] > 0, "the back-filled problems are counted"
    assert on_postgres == on_sqlite
