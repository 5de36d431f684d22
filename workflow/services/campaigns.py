"""Storing a campaign and telling where it stands.

``create_campaign`` validates the file (``workflow.campaign_file``) and then the
references only the database can check: the departments and items it names must
be in the directories, and each item must belong to the department listing it.
The parsed plan is stored with the file's text; every later command reads it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from workflow.campaign_file import CampaignFileError, CampaignPlan
from workflow.completion import FINISHED, finished_note, finished_payload, is_finished
from workflow.draw import sample_size
from workflow.errors import UserError
from workflow.plan_checker import check_file
from workflow.services.mailbox_board import mailbox_lines
from workflow.services.calendar_files import calendar_fingerprint, calendar_snapshot
from workflow.services.identities import not_staff, require_staff
from workflow.simulation import SIMULATION_NOTE
from workflow.services.outbox import mail_problems


def reference_problems(uow, plan: CampaignPlan) -> list[tuple[str, str]]:
    """Directory references of a valid plan that the database does not know."""
    problems: list[tuple[str, str]] = []
    departments = uow.directory.departments()
    items = uow.directory.items()
    if plan.lead_department not in departments:
        problems.append(("campaign.lead_department", f"部门“{plan.lead_department}”不在部门名录中"))
    for i, dept in enumerate(plan.departments):
        if dept.code not in departments:
            problems.append((f"departments[{i}].code", f"部门“{dept.code}”不在部门名录中（请先导入部门名录）"))
            continue
        if not departments[dept.code].in_latest_directory:
            problems.append((f"departments[{i}].code", f"部门“{dept.code}”已不在最新名录中"))
        for item_code in dept.items:
            item = items.get(item_code)
            if item is None:
                problems.append((f"departments[{i}].items", f"抽查事项“{item_code}”不在抽查事项清单中（请先导入清单）"))
            elif item.department_code != dept.code:
                problems.append((f"departments[{i}].items",
                                 f"抽查事项“{item_code}”的检查主体是“{item.department_code}”，不是“{dept.code}”"))
            elif not item.in_latest_directory:
                problems.append((f"departments[{i}].items", f"抽查事项“{item_code}”已不在最新清单中"))
    return problems


def create_campaign(uow, source: str, path: str) -> CampaignPlan:
    """Store the campaign file ``source`` (read from ``path``), or refuse it with every problem's key path.

    A plan ``ssj campaign check`` finds an 错误 in (a year no calendar covers, a deadline outside
    the window …) is refused with the checker's own lines: what the checker calls wrong never starts."""
    checked = check_file(source, path)
    plan = checked.plan
    if checked.errors:
        lines = [f"{path}: {f.line()}" for f in checked.errors]
        raise UserError(lines[0], [*lines, f"方案检查有 {len(lines)} 个错误，未创建抽查任务（详见 ssj campaign check {path}）"])
    with uow:
        require_staff(uow, "创建抽查任务")
        strangers = not_staff(uow, plan.office_staff)
        if strangers:
            lines = [f"{path}: office_staff: “{e}”不在办公室人员名录中（由管理员用 ssj staff add 添加）" for e in strangers]
            raise UserError(lines[0], [*lines, "抽查任务的办公室工作人员须都在办公室人员名录中，未创建抽查任务"])
        if uow.campaigns.row(plan.code) is not None:
            raise UserError(f"{path}: campaign.code: 抽查任务“{plan.code}”已存在")
        problems = reference_problems(uow, plan)
        if problems:
            lines = CampaignFileError(problems).lines(path)
            raise UserError(lines[0], lines)
        uow.campaigns.add(plan, source=source, source_sha256=hashlib.sha256(source.encode("utf-8")).hexdigest(),
                          now=uow.now, actor=uow.actor, calendar_sha256=calendar_fingerprint(plan),
                          calendar_files=calendar_snapshot(plan))
    return plan


def campaign_codes(uow, codes: tuple[str, ...] = ()) -> list[str]:
    """The campaigns named, or every stored one; an unknown code or none at all is refused."""
    with uow:
        known = uow.campaigns.codes()
    unknown = sorted(set(codes) - set(known))
    if unknown:
        raise UserError(f"抽查任务不存在：{'、'.join(unknown)}")
    if not (codes or known):
        raise UserError("还没有抽查任务（用 ssj campaign create 创建）")
    return list(codes) or known


def served_codes(uow, codes: tuple[str, ...] = ()) -> list[str]:
    """What ``ssj serve`` / ``ssj deploy`` start with: the campaigns named (each must exist), or every stored one —
    possibly none yet: the serving loop picks up a campaign created later."""
    if codes:
        return campaign_codes(uow, codes)
    with uow:
        return uow.campaigns.codes()


@dataclass(frozen=True)
class Finished:
    """A campaign found finished by this call (said once: its audit row is written with it)."""

    code: str
    name: str
    note: str


@dataclass(frozen=True)
class Activity:
    """What the serving loop works on now: the active campaigns, and those that finished just now."""

    active: list[str]
    finished: list[Finished]


def active_campaigns(uow, codes: tuple[str, ...] | list[str] | None = ()) -> Activity:
    """The campaigns to tick and report on at ``uow.now``: every stored one (or those of ``codes`` that exist) not
    finished. One found finished now gets its ``campaign_finished`` audit row, under its chain head, so two serving
    processes say it once between them; it is left out from then on, whatever changes later."""
    with uow:
        known = uow.campaigns.codes()
        done = uow.campaigns.finished_codes()
    wanted = set(codes or known)
    active: list[str] = []
    finished: list[Finished] = []
    for code in (c for c in known if c in wanted and c not in done):
        uow.use(code)
        with uow:  # holds the campaign's chain head: nothing of it moves while the rule reads it
            facts = uow.campaigns.completion_facts(code)
            if not is_finished(facts):
                active.append(code)
                continue
            if code in uow.campaigns.finished_codes():  # another serving process said it just now
                continue
            uow.record(FINISHED, payload=finished_payload(facts))
            finished.append(Finished(code, uow.plan.name, finished_note(code, uow.plan.name, facts)))
    return Activity(active, finished)


@dataclass(frozen=True)
class DirectoryNumbers:
    enterprises: int
    not_in_latest: int
    by_category_status: dict[str, dict[str, int]]
    eligible: int
    expected_sample: int


def directory_numbers(uow, plan: CampaignPlan) -> DirectoryNumbers:
    """What the directory holds, and how much of it the campaign's criteria select."""
    with uow:
        total, not_latest, table = uow.directory.census()
    return DirectoryNumbers(total, not_latest, table, *eligible_numbers(uow, plan))


def eligible_numbers(uow, plan: CampaignPlan) -> tuple[int, int]:
    """How many enterprises the campaign's criteria select now, and the sample it would draw of them — without
    the whole directory's census, which a status screen never shows (a province counts millions)."""
    with uow:
        eligible = uow.directory.eligible_count(plan.sampling, plan.draw_at)
    s = plan.sampling
    return eligible, sample_size(eligible, s.ratio, s.rounding, s.minimum) if eligible else 0


def redraw_note(uow) -> str:
    """How every report marks a re-drawn campaign ("" when it was drawn once)."""
    rounds = uow.draws.redraws(uow.plan.code)
    if not rounds:
        return ""
    return "本任务经重新抽取（" + "；".join(f"第 {n} 轮：{reason}" for n, reason in rounds) + "）"


def report_note(uow) -> str:
    """The board's line under its title: 模拟 on a simulation database, a re-drawn campaign."""
    return "；".join(filter(None, [simulation_mark(uow).strip(), redraw_note(uow)]))


def simulation_mark(uow) -> str:
    """What starts the first line under every report's title on a simulation database ("" on a real one)."""
    return f"{SIMULATION_NOTE}　" if uow.simulation else ""


def draw_summary(uow) -> dict[str, Any] | None:
    """The enterprise draw as people should see it — a re-drawn campaign shows every round."""
    rounds = uow.draws.rounds(uow.plan.code)
    if not rounds:
        return None
    last, tz = rounds[-1], uow.plan.tz
    return {
        "round": last.round,
        "committed_at": last.committed_at.astimezone(tz).isoformat(),
        "commitment": last.commitment,  # ssj-draw-v1; v2: each party's in "parties"
        "parties": [{"party": p["party"], "commitment": p["commitment"]} for p in last.parties or ()] or None,
        "snapshot_sha256": last.snapshot_sha256,
        "eligible": last.eligible,
        "run_at": last.run_at.astimezone(tz).isoformat() if last.run_at else None,
        "sample_size": last.result["sample_size"] if last.result else None,
        "redraws": [{"round": r.round, "reason": r.redraw_reason, "at": r.committed_at.astimezone(tz).isoformat()}
                    for r in rounds if r.round > 1],
    }


def campaign_status(uow) -> dict[str, Any]:
    """The campaign's plan and progress (``ssj campaign status``)."""
    with uow:
        plan = uow.plan
        row = uow.campaigns.row(plan.code)
        departments = uow.directory.department_names()
        draw = draw_summary(uow)
        # Planning numbers until the draw is committed; then the draw's own (``draw.eligible``): the sample is
        # fixed, and counting a province's directory again would be most of the screen's time.
        eligible, expected = eligible_numbers(uow, plan) if draw is None else (None, None)
        counts = uow.campaigns.state_counts(plan.code)
        simulation = uow.simulation
    mail = mail_problems(uow)
    mailbox = [line.replace("**", "") for line in mailbox_lines(uow, plan.tz) if line]
    return {
        "code": plan.code,
        "simulation": simulation,  # a simulation database (ssj init --simulation): its status says 模拟
        "name": plan.name,
        "document_no": plan.document_no,
        "office": plan.office,
        "lead_department": plan.lead_department,
        "window": [plan.window_from.isoformat(), plan.window_to.isoformat()],
        "draw_at": plan.draw_at.isoformat(),
        "departments": [
            {"code": d.code, "name": departments.get(d.code, d.code), "items": list(d.items)} for d in plan.departments
        ],
        "deadlines": {name: spec.describe() for name, spec in plan.deadlines.items()},
        "sampling": {
            "eligible_now": eligible,
            "expected_sample_size": expected,
            "ratio": plan.sampling.ratio_text,
            "rounding": plan.sampling.rounding,
        },
        "draw": draw,
        "inspections": counts,
        "mail_problems": mail,
        "mailbox": mailbox,  # the office mailbox: the last pass, the replies recorded, those waiting for a person
        "created_at": row.created_at.isoformat(),
        "created_by": row.created_by,
    }
