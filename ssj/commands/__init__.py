"""What every command shares: the FORMATS.md options, the acting identity and instant, the unit of work, output.

A command parses its options, calls one handler of ``workflow.services`` with a
unit of work, and formats what the handler returns — no rule and no SQL here.
To add one: pick the group's module (``ssj/commands/<group>.py``), decorate a
function with ``@command(<group>, "name", changes=…, json_output=…)`` and have it
call ``act`` (a change, its refusal audited) or ``read`` (a question).
"""

from __future__ import annotations

import functools
import getpass
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from workflow.email_address import address_problem
from workflow.errors import UserError
from workflow.text_rules import control_character

if TYPE_CHECKING:
    from workflow.services.uow import UnitOfWork
# The database layer, the calendars and the services are imported by the command that runs, when it runs:
# ``ssj --help`` loads none of them, and each command only what it uses (``lazy``).

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
# The arguments and options many commands share, declared once.
CODE = click.argument("code", metavar="任务编号")
USCC = click.argument("uscc", metavar="统一社会信用代码",  # as people type it: spaces, full width, lower case
                      callback=lambda ctx, param, value: _normalised(value))
CERT = click.argument("cert", metavar="执法证号")


def parse_now(text: str | None, environ: dict[str, str] | None = None) -> datetime | None:
    """The instant claimed: ``--now``, else ``$SSJ_NOW``, else None (the machine's clock); no offset means Beijing
    time. Whether it may be claimed depends on the database (``workflow.simulation``)."""
    env = os.environ if environ is None else environ
    text = text or env.get("SSJ_NOW") or None
    if text is None:
        return None
    from calendars import BEIJING

    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"“{text}”不是 ISO 8601 时间（如 2019-11-27T09:00 或 2019-11-27T09:00+08:00）",
                                 param_hint="--now") from None
    if not 1900 <= value.year <= 2999:  # near year 1 or 9999 the date arithmetic overflows (内部错误)
        raise click.BadParameter(f"“{text}”的年份超出范围（1900–2999）", param_hint="--now")
    return value.replace(tzinfo=BEIJING) if value.tzinfo is None else value


def resolve_user(user: str | None) -> str:
    """The simulated actor (a simulation database): ``--user``, else ``$SSJ_USER``, else the login name."""
    from workflow.identity import SYSTEM

    who = (user or os.environ.get("SSJ_USER") or getpass.getuser()).strip()
    if who.lower() == SYSTEM:
        raise click.BadParameter(f"“{who}”是系统自身（定时推进）使用的身份，不能作为操作人", param_hint="--user")
    refused = control_character(who)
    if refused:
        raise click.BadParameter(refused, param_hint="--user")
    problem = "@" in who and address_problem(who)
    if problem:
        raise click.BadParameter(f"“{who}”不是有效的电子邮箱地址：{problem}", param_hint="--user")
    return who


def os_account() -> str:
    """The operating-system account running ``ssj``: its effective uid's login name (never an environment variable)."""
    import pwd

    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # a uid without a passwd entry (a container): the number itself
        return str(uid)


def on_behalf_option(party: str | None, evidence: str | None, reason: str | None):
    """``--on-behalf-of DEPT|CERT`` with ``--evidence FILE`` (its name and SHA-256 recorded) or ``--reason TEXT``."""
    import hashlib

    from workflow.identity import OnBehalf

    if party is None:
        if evidence is not None or reason is not None:
            raise UserError("--evidence 和 --reason 只与 --on-behalf-of 一起使用")
        return None
    if not party.strip():
        raise UserError("--on-behalf-of 须给出部门代码或执法证号")
    if reason is not None and not reason.strip():
        raise UserError("--reason 不能为空")
    digest = None
    if evidence is not None:
        try:
            digest = hashlib.sha256(Path(evidence).read_bytes()).hexdigest()
        except OSError as exc:
            raise UserError(f"--evidence {evidence}: 无法读取：{exc.strerror or exc}") from None
    return OnBehalf(party.strip(), Path(evidence).name if evidence is not None else None, digest,
                    reason.strip() if reason is not None else None)


# Options whose text may run over several lines; every other option and argument is one line (workflow.text_rules).
MULTI_LINE = frozenset({"reason", "on_behalf_reason", "decline", "finding", "note", "handling_note", "highlights",
                        "practices", "problems"})


def _refuse_control_characters(params: dict[str, Any]) -> None:
    """No argument brings a control character in: a NUL fails PostgreSQL, a CR/LF a mail header, a \\x0b an XLSX."""
    ctx = click.get_current_context()
    for name, value in params.items():
        for text in value if isinstance(value, tuple) else (value,):
            refused = isinstance(text, str) and control_character(text, multiline=name in MULTI_LINE)
            if refused:
                raise click.BadParameter(refused, ctx=ctx, param=next(p for p in ctx.command.params if p.name == name))


@dataclass
class Call:
    """What every command receives: the instant, the acting identity, the database.

    The instant and the actor depend on the database's kind (``workflow.simulation``): they are settled when the
    command first opens its database — on a simulation database as claimed (``--now``, ``--user``), on a real one
    the machine's clock and the operating-system account's staff email."""

    claimed_now: datetime | None
    claimed_user: str | None  # --user (None: $SSJ_USER or the login name, on a simulation database)
    url: str
    as_json: bool = False
    changes: bool = False  # the command changes something: refused on a read-only database
    scheduled: bool = False  # the timeline's own step (ssj tick): what it leaves undone, the next tick does
    person: bool = True  # a change by a person: on a real database the account must be office staff
    on_behalf: object = None  # workflow.identity.OnBehalf: acting for a department or an officer
    spoke: bool = False  # something was printed
    kind: object = None  # workflow.persistence.identities.DatabaseKind, once the database was opened
    _now: datetime | None = None
    _user: str | None = None
    _engines: list = field(default_factory=list)
    _uows: list = field(default_factory=list)

    def engine(self):
        if not self._engines:
            from workflow.persistence.database import DatabaseReadOnly, is_read_only, ready_engine

            self._engines.append(ready_engine(self.url))
            if self.changes and is_read_only(self._engines[0]):  # an auditor's copy: refused before anything
                raise DatabaseReadOnly(self.url)
            self._settle(self._engines[0])
        return self._engines[0]

    def _settle(self, engine) -> None:
        """The instant and the actor, by the database's kind (refused on a real one when claimed by a change)."""
        from calendars import BEIJING
        from workflow.persistence.identities import database_kind, person_of
        from workflow.simulation import acting_instant, refuse_claimed_actor

        self.kind = kind = database_kind(engine)
        self._now = acting_instant(self.claimed_now, lambda: datetime.now(BEIJING), simulation=kind.simulation,
                                   changes=self.changes)
        if kind.simulation:
            self._user = resolve_user(self.claimed_user)
            return
        if self.changes and self.person:
            if self.claimed_user is not None:
                refuse_claimed_actor(simulation=False, source="--user")
            if os.environ.get("SSJ_USER"):
                refuse_claimed_actor(simulation=False, source="环境变量 SSJ_USER（请取消设置）")
        account = os_account()
        self._user = person_of(engine, account)
        if self._user is None:
            if self.changes and self.person and not self.scheduled:
                raise UserError(f"这是正式数据库：操作系统账户“{account}”不在办公室人员名录中，不能作任何更改"
                                "（由初始化数据库的管理员用 ssj staff add 邮箱 --name 姓名 --os-account 账户 添加）")
            self._user = account

    @property
    def now(self) -> datetime:
        if self._now is None:
            self.engine()
        return self._now

    @property
    def user(self) -> str:
        if self._user is None:
            self.engine()
        return self._user

    def uow(self, code: str | None = None, *, actor: str | None = None, files_dir: Path | None = None,
            changes: bool = True) -> UnitOfWork:
        """A unit of work on the database, acting as the command's user (or ``actor``) at its instant."""
        from workflow.services.uow import UnitOfWork

        uow = UnitOfWork(self.engine(), now=self.now, actor=actor or self.user, campaign=code, files_dir=files_dir,
                         changes=changes, on_behalf=self.on_behalf if actor is None else None)
        self._uows.append(uow)
        return uow

    def committed(self) -> bool:
        """Whether any transaction of this command has committed (then it cannot simply be run again)."""
        return any(uow.commits for uow in self._uows)

    def untouched(self) -> bool:
        """Nothing committed, nothing printed, no transaction open: running the command again is safe."""
        return not self.committed() and not self.spoke and all(uow.conn is None for uow in self._uows)

    def close(self) -> None:
        for engine in self._engines:
            engine.dispose()
        self._engines.clear()


_calls: list[Call] = []  # the command running now, so ``run`` can close its database


def command(group: click.Group, name: str, *, changes: bool = False, json_output: bool = False,
            scheduled: bool = False, person: bool = True, for_party: bool = False, **kwargs):
    """Register a command with the FORMATS.md options and pass it a ``Call``.

    ``changes``: it changes something (``--user`` on a simulation database; on a real one the account must be
    office staff unless ``person`` is False); ``for_party``: a department's or an officer's act, which office staff
    may do for them (``--on-behalf-of`` with ``--evidence`` or ``--reason``).
    A command that lost a deadlock (or a serialisation failure) before it committed
    or printed anything is run again, a bounded number of times (``contention.retried``)."""

    def decorate(fn: Callable[..., Any]):
        @functools.wraps(fn)
        def wrapper(now: str | None, user: str | None = None, as_json: bool = False, on_behalf_of: str | None = None,
                    evidence: str | None = None, on_behalf_reason: str | None = None, **params):
            from workflow.persistence.contention import retried
            from workflow.persistence.database import database_url

            _refuse_control_characters(params)
            if on_behalf_of is not None or on_behalf_reason is not None:
                _refuse_control_characters({"on_behalf_of": on_behalf_of, "on_behalf_reason": on_behalf_reason})
            call = Call(claimed_now=parse_now(now), claimed_user=user, url=database_url(),
                        as_json=as_json, changes=changes, scheduled=scheduled, person=person and not scheduled,
                        on_behalf=on_behalf_option(on_behalf_of, evidence, on_behalf_reason))
            _calls.append(call)
            return retried(lambda: fn(call, **params), redo_safe=call.untouched)

        decorated = click.option("--now", metavar="ISO8601",
                                 help="当前时间（默认 $SSJ_NOW，否则为系统时钟；不带时区按北京时间）：查询可用于任何数据库，"
                                      "变更只用于模拟数据库")(wrapper)
        if changes:
            decorated = click.option("--user", metavar="身份",
                                     help="模拟数据库上的操作人：电子邮箱或执法证号（默认 $SSJ_USER，否则为操作系统用户）；"
                                          "正式数据库上操作人是运行 ssj 的操作系统账户，不能指定")(decorated)
        if for_party:
            decorated = click.option("--reason", "on_behalf_reason", metavar="理由",
                                     help="代为操作的理由（与 --evidence 二选一）")(decorated)
            decorated = click.option("--evidence", metavar="文件",
                                     help="代为操作的依据文件（记录文件名和 SHA-256；与 --reason 二选一）")(decorated)
            decorated = click.option("--on-behalf-of", "on_behalf_of", metavar="部门代码|执法证号",
                                     help="办公室工作人员代部门或执法人员操作（记录为谁代谁操作）")(decorated)
        if json_output:
            decorated = click.option("--json", "as_json", is_flag=True,
                                     help="以 JSON 输出结果（标准输出只有一个 JSON 文档）")(decorated)
        return group.command(name, context_settings=CONTEXT, **kwargs)(decorated)

    return decorate


def group(parent: click.Group, name: str, help_: str, cls: type[click.Group] | None = None) -> click.Group:
    """A group of commands (``ssj draw …``) under ``parent``."""
    def callback() -> None:
        pass
    return parent.group(name, cls=cls, context_settings=CONTEXT, help=help_)(callback)


def current_call() -> Call | None:
    """The command running now (None before its options were parsed)."""
    return _calls[-1] if _calls else None


def close_calls() -> None:
    while _calls:
        _calls.pop().close()


def act(call: Call, code: str | None, what: str, handler: Callable[[UnitOfWork], Any], *, uscc: str | None = None,
        files_dir: Path | None = None) -> Any:
    """A change by the command's user: ``handler(uow)``; a refusal is rolled back, audited on its own, re-raised."""
    from workflow.services.uow import refusals_audited

    uow = call.uow(code, files_dir=files_dir)
    with refusals_audited(uow, what, uscc):
        return handler(uow)


def read(call: Call, code: str | None, handler: Callable[[UnitOfWork], Any]) -> Any:
    """A question: ``handler(uow)`` in a unit of work that changes nothing (and so takes no lock)."""
    return handler(call.uow(code, changes=False))


def lazy(module: str, name: str) -> Callable:
    """A handler imported when first called: ``ssj --help`` and every command start without loading them all."""
    def call(*args, **kwargs):
        import importlib

        return getattr(importlib.import_module(module), name)(*args, **kwargs)
    return call


def _spoken() -> None:
    if _calls:
        _calls[-1].spoke = True


def out(text: str = "") -> None:
    _spoken()
    click.echo(text)


def err(text: str) -> None:
    _spoken()
    click.echo(text, err=True)


def emit_json(document: Any) -> None:
    _spoken()
    click.echo(json.dumps(document, ensure_ascii=False, indent=2, default=str))


def report_checks(checks) -> None:
    """A verification's checks, then 一致 (exit 0) or 不一致 naming what disagrees (exit 1)."""
    for c in checks:
        out(f"{c.subject}：{'一致' if c.ok else '不一致'}（{c.detail}）")
    if all(c.ok for c in checks):
        out("一致")
        return
    out("不一致：" + "、".join(c.subject for c in checks if not c.ok))
    raise click.exceptions.Exit(1)


def _normalised(uscc: str) -> str:
    from workflow.uscc import normalise

    return normalise(uscc)


def team_member(reason_help: str):
    """The arguments of an act on one officer of one enterprise's team (任务编号 统一社会信用代码 执法证号 --reason)."""
    def decorate(fn):
        reason = click.option("--reason", required=True, metavar="理由", help=reason_help)
        return CODE(USCC(CERT(reason(fn))))
    return decorate


@click.group(context_settings=CONTEXT, help="双随机、一公开 跨部门联合抽查：抽取、派发、期限、结果、公示。")
def cli() -> None:
    pass
