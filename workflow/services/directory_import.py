"""``ssj import``: load a directory file into the database, all or nothing.

The file is streamed once, each row checked; the rows go in inside the unit of
work's one transaction (``persistence.directory_writer``), which commits only if
no row had a problem.
"""

from __future__ import annotations

from workflow.directory import DIRECTORIES
from workflow.files.tabular import FileProblem, open_table
from workflow.importing import ImportRejected, Problem, Problems, read_header
from workflow.persistence.directory_writer import ImportReport, load_directory


def import_directory(uow, kind: str, path: str, *, full: bool) -> ImportReport:
    directory = DIRECTORIES[kind]
    problems = Problems(path)
    warnings: list[str] = []
    try:
        with open_table(path, directory.looks_like_header) as table:
            plan = read_header(directory, table.header, path, problems, warnings)
            with uow:
                report = load_directory(uow.conn, directory, plan, table, problems, full=full, now=uow.now,
                                        user=uow.actor)
                if problems:
                    raise ImportRejected(problems, warnings)  # rolls the batches written so far back
    except FileProblem as exc:
        problems.add(Problem(None, 0, None, str(exc)))
        raise ImportRejected(problems, warnings) from None
    report.warnings = warnings
    return report
