"""The rules of the house that code review alone would let slip."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
               ("time", "time"), ("time", "time_ns"), ("pendulum", "now"), ("pendulum", "today")}
MACHINE_CLOCK = ROOT / "workflow" / "services" / "machine_clock.py"
DOMAIN = sorted(p for p in (ROOT / "workflow").glob("*.py")) + sorted((ROOT / "calendars").glob("*.py"))
FRAMEWORKS = ("sqlalchemy", "alembic", "prefect", "click", "openpyxl", "docx")


def _calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            yield node.func.value.id, node.func.attr, node.lineno


@pytest.mark.parametrize("path", sorted((ROOT / "workflow").rglob("*.py")) + sorted((ROOT / "calendars").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_in_the_domain_or_calendars_reads_the_wall_clock(path):
    """Time is injected (``now``): that is what lets the demo replay and the tests cross deadlines. The one
    exception stamps audit rows' ``written_at`` — the machine's real clock, on purpose — and nothing else."""
    found = [f"{path.name}:{line} {a}.{b}()" for a, b, line in _calls(path) if (a, b) in CLOCK_CALLS]
    assert not found or path == MACHINE_CLOCK


def test_the_machine_clock_only_stamps_written_instants():
    """Only the unit of work takes it (as its default ``clock``), and only the audit log calls that clock."""
    users = [p.relative_to(ROOT).as_posix() for p in (ROOT / "workflow").rglob("*.py")
             if "machine_clock" in p.read_text(encoding="utf-8") and p != MACHINE_CLOCK]
    assert users == ["workflow/services/uow.py"]


@pytest.mark.parametrize("path", DOMAIN, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_domain_imports_no_framework(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not [m for m in imported if m.split(".")[0] in FRAMEWORKS]


SHELLS = sorted((ROOT / "ssj").rglob("*.py")) + sorted((ROOT / "flows").rglob("*.py"))
SQL = re.compile(r"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b|(?<![.\w])(select|insert|update|delete|text)\(")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return found | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


@pytest.mark.parametrize("path", SHELLS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_command_line_the_demo_and_the_flows_hold_no_sql(path):
    """They parse, call a handler and format: the database is the repositories' (through a unit of work)."""
    assert not [m for m in _imports(path) if m.split(".")[0] == "sqlalchemy"]
    assert not SQL.search(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", sorted((ROOT / "workflow" / "services").glob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_handler_opens_a_connection_of_its_own(path):
    """Every handler works in the unit of work it is given; only the unit of work holds the engine."""
    text = path.read_text(encoding="utf-8")
    if path.name == "uow.py":
        return
    assert not [m for m in _imports(path) if m.split(".")[0] == "sqlalchemy"]
    assert not re.search(r"\b(engine|conn)\.(connect|begin|execute)\(", text)
