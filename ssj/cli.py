"""``ssj``: the command line, a thin shell over the services in ``workflow``.

Conventions (FORMATS.md): Chinese messages; ``--now`` on every command and
``--user`` on every command that changes something (both claimed only on a
simulation database: ``workflow.simulation``); files created 0600, folders 0700; results on stdout, messages
on stderr; ``--json`` prints exactly one JSON document; exit 0 success, 2 bad
input or a forbidden action, 1 a failed check or an internal failure. The
commands live by group in ``ssj/commands/``; this module runs them.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import click

from ssj import zh_click

zh_click.install()

from ssj.commands import cli, close_calls, current_call, err  # noqa: E402  (Click speaks Chinese before commands are declared)
from ssj.commands import answers, audit, campaign, directories, draws, mailbox, reports, staff, timeline  # noqa: E402,F401

__all__ = ["cli", "main", "run"]


def _prefect_defaults() -> None:
    """Prefect offline: no analytics, and its home in the project unless the user chose one."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_HOME", str(Path.cwd() / ".prefect"))


PRIVATE_UMASK = 0o077  # what the product creates (database, folders, outputs) is its owner's alone: 0600/0700


def run(args: list[str] | None = None) -> int:
    """Run ``ssj`` with ``args``; returns the exit code instead of exiting."""
    _prefect_defaults()
    umask = os.umask(PRIVATE_UMASK)
    try:
        result = cli.main(args=args, prog_name="ssj", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        err("已中止。")
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except Exception as exc:
        return failure(exc)
    finally:
        close_calls()
        os.umask(umask)


def failure(exc: Exception) -> int:
    """What a failed command tells whoever ran it (on stderr), and its exit code.

    The error classes are imported here, once something failed: ``ssj --help`` and a command that succeeds
    load only what they use (the database layer, the calendars, the import's rules)."""
    from calendars import CalendarCoverageError
    from workflow.errors import CannotComplete, UserError
    from workflow.importing import ImportRejected
    from workflow.persistence.database import CONNECTION_LOST, DatabaseNotReady, internal_failure

    if isinstance(exc, ImportRejected):
        for line in exc.lines():
            err(line)
        return 2
    if isinstance(exc, UserError):
        for line in exc.lines:
            err(line)
        return exc.exit_code
    if isinstance(exc, DatabaseNotReady):
        err(str(exc))
        return 1
    if isinstance(exc, CONNECTION_LOST):  # contention after the retries, the server gone mid-command, another refusal
        err(database_failure(exc))
        return 1
    if isinstance(exc, CalendarCoverageError):  # a year no calendar covers: the office adds the year's file (exit 1)
        err(f"无法完成：{exc}（格式见 README“Adding next year's file”）")
        return 1
    if isinstance(exc, CannotComplete):  # a full disk …: nothing half-done; run again once it is fixed
        err(str(exc))
        return exc.exit_code
    err(f"内部错误：{internal_failure(exc)}")  # an internal failure: say so in Chinese, keep the trace for engineers
    if os.environ.get("SSJ_DEBUG"):
        traceback.print_exc()
    return 1


def database_failure(exc: Exception) -> str:
    """What a failed database call means for whoever ran the command — only what is true.

    Only the timeline's own step (``ssj tick``) is done again by the next tick; any
    other command's work (an import, a draw, a publication) is the user's to run again.
    """
    from workflow.persistence.contention import connection_lost, contended
    from workflow.persistence.database import first_line

    call = current_call()
    tick = call is not None and call.scheduled
    partly = call is not None and call.committed()
    if contended(exc):
        if tick:
            return "数据库繁忙（并发冲突）：本次推进未全部完成，已完成的部分已保存；下一次定时推进会自动补上"
        if partly:
            return "数据库繁忙（并发冲突）：本次操作只完成了一部分（已完成的部分已保存），请重新运行该命令"
        return "数据库繁忙（并发冲突），本次操作未生效，请重新运行该命令"
    what = "数据库连接中断" if connection_lost(exc) else "数据库出错"
    then = "下一次定时推进会自动补上" if tick else "请在数据库恢复后重新运行该命令"
    return f"{what}：{first_line(exc)}。未完成的事务已回滚；{then}"


def main() -> None:
    sys.exit(run(sys.argv[1:]))
