"""The people of the demo campaign: departments and officers who mostly act on time, and a few who do not.

Each act is what a person does at a simulated instant, through the same services
as the command line (answers, stamped reports, acknowledgements, visits,
back-fill, summaries; the office's draws, publication and reports). Who is late
is fixed, and every choice comes from one seeded random generator, so the demo
replays identically. Nothing here decides a rule: the services refuse what the
rules refuse.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from calendars import WorkdayCalendar
from workflow.campaign_file import CampaignPlan
from workflow.deadline_words import deadline_words, instant_words
from workflow.files.atomic import write_atomically
from workflow.services import lookups
from workflow.services.confirmations import record_answer
from workflow.services.documents import receive_document
from workflow.services.forms import acknowledge
from workflow.services.officer_draw import commit_match, run_match
from workflow.services.publication import publish
from workflow.services.reports import write_confirmation_report, write_statistics, write_summary_report
from workflow.services.results import record_result, record_visit, result_of, visit_of
from workflow.services.uow import UnitOfWork

# What each department finds itself concerned with (the others decline, with their reason).
CONCERNS = {"SW": (1.0, ""), "RS": (0.5, "该企业无劳动保障监察投诉举报记录，不列入本次检查"),
            "HB": (0.35, "该企业不属于排污许可重点管理单位"), "YJ": (0.3, "该企业不属于危险化学品等重点行业"),
            "XF": (0.4, "该企业不属于消防安全重点单位"), "TJ": (0.0, "")}
SILENT = "TJ"  # never answers its 比对确认: the office answers for it once the deadline has passed
LATE_REPORT = "TJ"  # returns its stamped confirmation report days late: the overdue notice climbs to the office
LATE_SUMMARY = "HB"  # sends its summary two working days late
OFFICER_WITNESS = "2019-12-02 10:00 执法人员公开抽取，见证人：区纪委监委派驻纪检组"


@dataclass(order=True)
class Act:
    """Something a person does at ``at``; ``tick_after`` when the office would not wait 15 minutes to see it."""

    at: datetime
    order: int
    label: str = field(compare=False)
    run: Callable[[datetime], str] = field(compare=False)
    tick_after: bool = field(compare=False, default=False)
    quiet: bool = field(compare=False, default=False)  # one of many alike: told as the day's count (``Done``)


@dataclass(frozen=True)
class Done:
    """Something a person finished, on time or late: the day's line counts them, the closing account sums them."""

    what: str  # 执法人员确认一企一表, 回填检查结果 …
    unit: str  # 人, 户, 个部门
    at: datetime
    who: str  # a name the office knows: the officer's, the enterprise's, the department's
    late: bool


@dataclass(frozen=True)
class Visited:
    """One enterprise visited: its day and the group (vehicle) of that day."""

    uscc: str
    day: date
    group: int


class People:
    """The campaign's simulated actors, writing through the services."""

    def __init__(self, engine, plan: CampaignPlan, out: Path, seed: int, calendar: WorkdayCalendar):
        self.engine, self.plan, self.out, self.calendar = engine, plan, out, calendar
        self.rng = random.Random(seed)
        self.seed = seed
        self.clerk = plan.office_staff[-1]
        departments = lookups.department_contacts(self.uow(plan.draw_at, self.clerk))
        self.contacts = {code: email for code, (_, email) in departments.items()}
        self.names = {code: name for code, (name, _) in departments.items()}
        self.late: list[str] = []  # what the late actors did, for the closing summary
        self.done: list[Done] = []  # every person's act that can be on time or late
        self.visited: list[Visited] = []
        self.planned = planned_deadlines_words(plan, calendar)

    def uow(self, now: datetime, actor: str) -> UnitOfWork:
        """The unit of work a person's act runs in (the campaign's folder is the demo's output folder)."""
        return UnitOfWork(self.engine, now=now, actor=actor, campaign=self.plan.code, files_dir=self.out)

    def at(self, day: date | str, hhmm: str = "09:00") -> datetime:
        day = date.fromisoformat(day) if isinstance(day, str) else day
        return datetime.combine(day, time.fromisoformat(hhmm), self.plan.tz)

    # --- after the public draw -------------------------------------------------

    def answers(self, sampled: list[str]) -> list[Act]:
        """Every department but one answers within its two working days; the office answers for the silent one."""
        acts = []
        for n, dept in enumerate(d.code for d in self.plan.departments):
            if dept == SILENT:
                continue
            share, reason = CONCERNS.get(dept, (1.0, ""))
            choices = {u: dept == self.plan.lead_department or self.rng.random() < share for u in sampled}
            when = self.at("2019-11-28" if n % 3 else "2019-11-29", f"{10 + n:02d}:{self.rng.randint(0, 59):02d}")
            acts.append(Act(when, 0, f"{self.names[dept]}答复比对确认", self._answer(dept, choices, reason)))
        acts.append(Act(self.at("2019-12-02", "08:30"), 0, "办公室代区统计局确认",
                        self._office_closes_confirmation(sampled), tick_after=True))  # the tick asks for commitments
        return acts

    def _answer(self, dept: str, choices: dict[str, bool], reason: str) -> Callable[[datetime], str]:
        def run(now: datetime) -> str:
            for uscc, inspects in choices.items():
                record_answer(self.uow(now, self.contacts[dept]), dept, uscc, inspects=inspects,
                              reason="" if inspects else reason)
            self.done.append(Done("答复比对确认", "个部门", now, self.names[dept], False))
            return f"检查 {sum(choices.values())} 户，不检查 {len(choices) - sum(choices.values())} 户"
        return run

    def _office_closes_confirmation(self, sampled: list[str]) -> Callable[[datetime], str]:
        def run(now: datetime) -> str:
            for uscc in sampled:
                record_answer(self.uow(now, self.clerk), SILENT, uscc, inspects=False,
                              reason="统计调查不在本次联合抽查范围（电话确认）")
            self.late.append(f"{self.names[SILENT]}未答复比对确认，期限届满后由办公室代为确认 {len(sampled)} 户")
            self.done.append(Done("答复比对确认", "个部门", now, f"{self.names[SILENT]}（未答复，办公室代为确认）", True))
            return f"代为确认 {len(sampled)} 户；比对确认结束，系统请办公室收集各参与方的执法人员抽取承诺值"
        return run

    def officer_draw(self) -> list[Act]:
        """The officer draw by the campaign's draw parties (ssj-match-v2): each makes its own secret on its own
        device (as ``ssj draw secret``) and hands the office only its commitment; at the public draw each reveals."""
        secrets = {party: hashlib.sha256(f"ssj-demo-match-{self.seed}-{party}".encode()).hexdigest()  # the demo replays
                   for party in self.plan.draw_parties}

        def commit(now: datetime) -> str:
            given = [f"{party}={hashlib.sha256(bytes.fromhex(s)).hexdigest()}" for party, s in secrets.items()]
            record = commit_match(self.uow(now, self.clerk), commitments=given)
            return "；".join(f"{p['party']} {p['commitment'][:16]}…" for p in record.parties)

        def run(now: datetime) -> str:
            run_match(self.uow(now, self.clerk), reveals=[f"{p}={s}" for p, s in secrets.items()], witness=OFFICER_WITNESS)
            teams = lookups.teams(self.uow(now, self.clerk))
            people = sum(1 for team in teams.values() for m in team if not m["specialist"])
            return (f"{'、'.join(secrets)}当场公开密钥；{len(teams)} 个检查组，{people} 人次"
                    f"（ssj-match-v2，见证文本“{OFFICER_WITNESS}”）")
        return [Act(self.at("2019-12-02", "09:00"), 0, "各参与方交来执法人员抽取承诺值，办公室记录（ssj match commit）",
                    commit),
                Act(self.at("2019-12-02", "10:00"), 0, "执法人员公开抽取", run, tick_after=True)]

    def confirmation_reports(self) -> list[Act]:
        """The office issues the confirmation report; each department returns it stamped — one of them days late."""
        report = self.out / "报表" / "比对确认情况表.xlsx"

        def issue(now: datetime) -> str:
            write_confirmation_report(self.uow(now, self.clerk), report)
            return str(report)

        acts = [Act(self.at("2019-12-02", "11:00"), 0, "生成比对确认情况表（检查对象、执法人员及手机）", issue)]
        for n, dept in enumerate(d.code for d in self.plan.departments):
            day, hhmm = ("2019-12-06", "09:30") if dept == LATE_REPORT else ("2019-12-02", f"{14 + n % 3:02d}:{10 * n:02d}")
            acts.append(Act(self.at(day, hhmm), 1, f"{self.names[dept]}报送盖章的比对确认报告",
                            self._return_report(dept, report)))
        return acts

    def _return_report(self, dept: str, report: Path) -> Callable[[datetime], str]:
        def run(now: datetime) -> str:
            stamped = self.out / "收文" / f"{dept}-比对确认报告（已盖章）.xlsx"
            stamped.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(stamped, lambda handle: handle.write(Path(report).read_bytes()))
            return self._submit(now, dept, "confirmation_report", stamped, "报送盖章的比对确认报告")
        return run

    def _submit(self, now: datetime, dept: str, kind: str, path: Path, what: str) -> str:
        """A department sends the office a file; a late one is listed at the end."""
        late = receive_document(self.uow(now, self.contacts[dept]), kind, dept, path)
        self.done.append(Done(what, "个部门", now, self.names[dept], bool(late)))
        if late:
            self.late.append(f"{self.names[dept]}{instant_words(now, self.plan.tz)}才{what}"
                             f"（期限{self.planned.get(kind, '')}）")
        return "逾期报送" if late else "按期报送"

    # --- after the forms are dispatched ---------------------------------------

    def acknowledgements(self) -> list[Act]:
        """Officers acknowledge their 一企一表 the next morning; one of them only after the overdue notice."""
        acts = []
        for n, (cert, name) in enumerate(self._officers()):
            when = self.at("2019-12-05", "11:00") if n == 4 else self.at("2019-12-03", f"{9 + n % 8:02d}:{n % 60:02d}")
            acts.append(Act(when, 0, "执法人员确认一企一表", self._acknowledge(cert, name), quiet=True))
        return acts

    def _acknowledge(self, cert: str, name: str) -> Callable[[datetime], str]:
        def run(now: datetime) -> str:
            late = acknowledge(self.uow(now, cert), cert)
            self.done.append(Done("执法人员确认一企一表", "人", now, name, bool(late)))
            if late:
                self.late.append(f"执法人员{name}（执法证号 {cert}）{instant_words(now, self.plan.tz)}才确认一企一表")
            return "逾期确认" if late else "已确认"
        return run

    def _officers(self) -> list[tuple[str, str]]:
        """(certificate number, name) of every officer on a team."""
        teams = lookups.teams(self.uow(self.plan.draw_at, self.clerk))
        return sorted({(m["certificate_no"], m["name"]) for team in teams.values() for m in team
                       if not m["specialist"]})

    def visits(self) -> list[Act]:
        """Each day's groups visit their enterprises (one act a day); each team back-fills within 1–3 working days,
        one group takes nine."""
        planned = lookups.planned_visits(self.uow(self.plan.draw_at, self.clerk))
        teams = lookups.teams(self.uow(self.plan.draw_at, self.clerk))
        names = lookups.enterprise_names(self.uow(self.plan.draw_at, self.clerk), [uscc for uscc, _, _ in planned])
        acts, days = [], {}
        first_day, first_group = planned[0][1], planned[0][2]
        for uscc, day, group in planned:
            team = [m["certificate_no"] for m in teams[uscc] if not m["specialist"]]
            days.setdefault(day, []).append((uscc, group, team))
            slow = (day, group) == (first_day, first_group)
            filled = self.calendar.add_workdays(day, 9 if slow else self.rng.choice([1, 1, 2, 3]))
            acts.append(Act(self.at(filled, "10:00"), 1, "回填检查结果", self._backfill(uscc, names.get(uscc, uscc), team[0]),
                            quiet=True))
        for day, visits in days.items():
            acts.append(Act(self.at(day, "16:30"), 0, "实地核查", self._visit_day(day, visits), tick_after=True))
        return acts

    def _visit_day(self, day: date, visits: list[tuple[str, int, list[str]]]) -> Callable[[datetime], str]:
        def run(now: datetime) -> str:
            signatures: Counter = Counter()
            for uscc, group, team in visits:
                signature = self.rng.choice(["签字", "签字", "盖章", "盖章", "拒绝签字"])
                note = "法定代表人拒绝在记录表上签字，已如实记录" if signature == "拒绝签字" else ""
                record_visit(self.uow(now, team[0]), uscc, visit_of(day, team, signature, note))
                signatures[signature] += 1
                self.visited.append(Visited(uscc, day, group))
            groups = len({group for _, group, _ in visits})
            return (f"{len(visits)} 户，{groups} 个检查组；企业"
                    + "、".join(f"{s} {signatures[s]} 户" for s in ("签字", "盖章", "拒绝签字") if signatures[s])
                    + ("（拒绝签字的已如实记录）" if signatures["拒绝签字"] else ""))
        return run

    def _backfill(self, uscc: str, name: str, officer: str) -> Callable[[datetime], str]:
        def run(now: datetime) -> str:
            items, due = lookups.backfill_due(self.uow(now, officer), uscc)
            problems = 0
            for k, item in enumerate(items):
                roll = self.rng.random()
                if roll < 0.75:
                    result = result_of(item, "1", method="实地核查", questions=self.rng.choice([0, 0, 1, 2]) if k == 0 else 0)
                elif roll < 0.88:
                    result = result_of(item, "E", method="实地核查", finding="现场发现问题，已当场责令改正", handling=[2])
                elif roll < 0.95:
                    result = result_of(item, "A,B", method="信息比对", finding="未按规定公示年度报告", handling=[3])
                else:
                    result = result_of(item, "A,D", method="实地核查", finding="涉嫌违反其他市场监管规定", handling=[4])
                problems += result.has_problem
                recorded = record_result(self.uow(now, officer), uscc, result)
            self.done.append(Done("回填检查结果", "户", now, name, bool(recorded.late)))
            if recorded.late:  # the last item's answer: the back-fill closed late
                self.late.append(f"{name}的检查结果{instant_words(now, self.plan.tz)}才回填"
                                 f"（期限{deadline_words(due, self.plan.tz)}）")
            return f"{len(items)} 项，发现问题 {problems} 项"
        return run

    # --- the close of the campaign ---------------------------------------------

    def summaries(self) -> list[Act]:
        acts = []
        for n, dept in enumerate(d.code for d in self.plan.departments):
            day = "2019-12-19" if dept == LATE_SUMMARY else "2019-12-16" if n % 2 else "2019-12-17"
            acts.append(Act(self.at(day, f"{9 + n:02d}:30"), 0, f"{self.names[dept]}报送工作总结", self._summary(dept)))
        return acts

    def _summary(self, dept: str) -> Callable[[datetime], str]:
        def run(now: datetime) -> str:
            from docx import Document

            path = self.out / "收文" / f"{dept}-工作总结.docx"
            path.parent.mkdir(parents=True, exist_ok=True)
            doc = Document()
            doc.add_heading(f"{self.names[dept]}关于{self.plan.name}的工作总结", level=1)
            for heading, text in (("亮点", "按期完成比对确认和实地核查，检查记录当场填写。"),
                                  ("经验做法", "联络人逐户电话联系企业，合理安排检查路线。"),
                                  ("存在问题", "部分企业法定代表人不在场，需二次联系。")):
                doc.add_paragraph(heading)
                doc.add_paragraph(text)
            write_atomically(path, doc.save)
            return self._submit(now, dept, "summary", path, "报送工作总结")
        return run

    def publication(self) -> list[Act]:
        def run(now: datetime) -> str:
            report = publish(self.uow(now, self.clerk), self.out / "公示")
            return f"公示 {report.published} 户：" + "、".join(p.name for p in report.files)

        def reports(now: datetime) -> str:
            folder = self.out / "报表"
            write_statistics(self.uow(now, self.clerk), folder / "抽查情况统计表.xlsx")
            write_confirmation_report(self.uow(now, self.clerk), folder / "比对确认情况表.xlsx")
            write_summary_report(self.uow(now, self.clerk), folder / "工作总结.xlsx")
            return "抽查情况统计表、比对确认情况表、工作总结"

        return [Act(self.at("2019-12-20", "15:00"), 0, "公示检查结果", run, tick_after=True),
                Act(self.at("2019-12-20", "17:00"), 0, "生成报表", reports)]



def planned_deadlines_words(plan: CampaignPlan, calendar: WorkdayCalendar) -> dict[str, str]:
    """Each deadline the plan fixes, in the notice's words (those that hang on an event are left out)."""
    from workflow.plan_checker import planned_deadlines

    return {name: deadline_words(planned.at, plan.tz, provisional=planned.provisional)
            for name, planned in planned_deadlines(plan, calendar).items()}
