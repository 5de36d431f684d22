"""The people of the demo campaign: departments and officers who mostly act on time, and a few who do not.

Departments and officers answer as they do in the seed: by replying to the message they
received (``ssj.demo_replies``: the filled list, the stamped report's scan, the summary, the
acknowledgement, the filled 一企一表), into the demo's office mailbox; the next tick reads the
mailbox and records each reply with the commands' rules (``workflow.services.mailbox``), and
``People.heard`` learns from the database what became of it. The office's own acts — the
draws, its answer for the silent department once the deadline has passed, the visits as the
groups report them, publication, reports — go through the services as the command line does.
Who is late is fixed, and every choice comes from one seeded random generator, so the demo
replays identically. Nothing here decides a rule: the product refuses what the rules refuse.
"""

from __future__ import annotations

import hashlib
import io
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from calendars import WorkdayCalendar
from workflow.campaign_file import CampaignPlan
from workflow.deadline_words import deadline_words, instant_words
from workflow.services import lookups
from ssj.demo_replies import OFFICE_MAILBOX, Inbox, ItemAnswer, Received, deliver, filled_form, filled_list, \
    items_of, reply, scanned_report
from workflow.identity import SYSTEM
from workflow.replies import ACK, FORMS, KIND_LABELS, LIST, REPORT, SUMMARY
from workflow.services.confirmations import record_answer  # the office's answer for the silent department only
from workflow.services.mailbox import RECORDED
from workflow.services.officer_draw import commit_match, run_match
from workflow.services.publication import publish
from workflow.services.reports import write_confirmation_report, write_statistics, write_summary_report
from workflow.services.results import record_visit, visit_of
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
    mails: bool = field(compare=False, default=False)  # a reply into the office mailbox: read at the next tick


@dataclass(frozen=True)
class Done:
    """Something a person finished, on time or late: the day's line counts them, the closing account sums them."""

    what: str  # 执法人员确认一企一表, 回填检查结果 …
    unit: str  # 人, 户, 个部门
    at: datetime
    who: str  # a name the office knows: the officer's, the enterprise's, the department's
    late: bool


@dataclass(frozen=True)
class Sent:
    """A reply in the office mailbox, waiting for a tick: who sent it, for what, and what each party's Done is."""

    message_id: str
    at: datetime  # when it arrived
    kind: str  # what it should be recorded as (``workflow.replies``)
    what: str  # the Done's
    unit: str
    by: str  # a name the office knows: the department's or the officer's
    parties: tuple[tuple[str, str], ...]  # (who, a text only his part of the answer has: his USCC, or "")
    late_line: Callable[[str], str] | None = None  # the closing account's line for a late party (its name)


@dataclass(frozen=True)
class Visited:
    """One enterprise visited: its day and the group (vehicle) of that day."""

    uscc: str
    day: date
    group: int


class People:
    """The campaign's simulated actors: departments and officers reply by mail, the office acts through the services."""

    def __init__(self, engine, plan: CampaignPlan, out: Path, seed: int, calendar: WorkdayCalendar):
        self.engine, self.plan, self.out, self.calendar = engine, plan, out, calendar
        self.rng = random.Random(seed)
        self.seed = seed
        self.clerk = plan.office_staff[-1]
        with self.uow(plan.draw_at, self.clerk) as uow:
            self.departments = uow.directory.departments()
            self.officer_rows = uow.directory.officers()
        self.names = {code: row.name for code, row in self.departments.items()}
        self.inbox = Inbox(out / "邮件")  # what the local SMTP server received: each person's mail
        self.mailbox = out / OFFICE_MAILBOX
        self.waiting: list[Sent] = []  # replies delivered, not yet read by a tick
        self.late: list[str] = []  # what the late actors did, for the closing summary
        self.done: list[Done] = []  # every person's act that can be on time or late
        self.visited: list[Visited] = []
        self.visits_of: dict[str, tuple[date, list[str], str, str]] = {}  # USCC → the visit as the group wrote it
        self.planned = planned_deadlines_words(plan, calendar)

    def uow(self, now: datetime, actor: str) -> UnitOfWork:
        """The unit of work an office act runs in (the campaign's folder is the demo's output folder)."""
        return UnitOfWork(self.engine, now=now, actor=actor, campaign=self.plan.code, files_dir=self.out)

    def at(self, day: date | str, hhmm: str = "09:00") -> datetime:
        day = date.fromisoformat(day) if isinstance(day, str) else day
        return datetime.combine(day, time.fromisoformat(hhmm), self.plan.tz)

    # --- replying ------------------------------------------------------------------

    def _mail(self, reader: str, prefix: str, *, naming: str = "") -> Received:
        found = self.inbox.newest(reader, prefix, naming=naming)
        if found is None:  # the demo's story needs it: a missing message is a broken demo, said plainly
            raise RuntimeError(f"演示：{reader} 没有收到主题以“{prefix}”开头的邮件" + (f"（提到“{naming}”）" if naming else ""))
        return found

    def _send(self, original: Received, now: datetime, *, sender: str, name: str, text: str,
              files: dict[str, bytes] | None = None, **sent) -> str:
        """Reply to ``original`` into the office mailbox, arrived at ``now``; remembered until a tick reads it."""
        raw = reply(original, sender=sender, name=name, text=text, at=now, files=files)
        message_id = deliver(self.mailbox, raw, now)
        self.waiting.append(Sent(message_id, now, **sent))
        return message_id

    def heard(self, now: datetime) -> tuple[list[str], Counter]:
        """After a tick: what became of the replies it read (from the database), each party's ``Done`` and late
        line; for the account, a line per department's reply and the officers' recorded replies counted by kind
        (many alike: the day's account sums them)."""
        with UnitOfWork(self.engine, now=now, actor=SYSTEM, changes=False) as uow:
            rows = {s.message_id: uow.mailbox.handled(s.message_id) for s in self.waiting}
        lines, officers = [], Counter()
        still = []
        for sent in self.waiting:
            row = rows[sent.message_id]
            if row is None:
                still.append(sent)
                continue
            recorded = row.outcome == RECORDED and row.kind == sent.kind
            for who, mark in sent.parties:
                part = next((line for line in row.detail.splitlines() if mark and mark in line), row.detail)
                late = recorded and ("回填已逾期" in part if sent.kind == FORMS else "已逾期" in part)
                if recorded:
                    self.done.append(Done(sent.what, sent.unit, sent.at, who, late))
                if late and sent.late_line is not None:
                    self.late.append(sent.late_line(who))
            what = KIND_LABELS.get(row.kind or sent.kind, "来信")
            if sent.kind in (ACK, FORMS) and recorded:
                officers[what] += len(sent.parties) if sent.kind == FORMS else 1
                continue
            said = "；".join(line.split("：", 1)[-1] for line in row.detail.splitlines())
            lines.append(f"{sent.by}回复邮件：{what}（{said}）→ {'已登记' if recorded else row.outcome}")
        self.waiting = still
        return lines, officers

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
            acts.append(Act(when, 0, f"{self.names[dept]}答复比对确认", self._answer(dept, choices, reason), mails=True))
        acts.append(Act(self.at("2019-12-02", "08:30"), 0, "办公室代区统计局确认",
                        self._office_closes_confirmation(sampled), tick_after=True))  # the tick asks for commitments
        return acts

    def _answer(self, dept: str, choices: dict[str, bool], reason: str) -> Callable[[datetime], str]:
        """The administrator opens the list attached to his 【派发】, fills 是否检查 and 不检查理由, replies with it."""
        def run(now: datetime) -> str:
            row = self.departments[dept]
            dispatch = self._mail(row.admin_email, "【派发】")
            (name, content), = ((n, c) for n, c in dispatch.files.items() if n.endswith(".xlsx"))
            filled = filled_list(content, {u: (yes, "" if yes else reason) for u, yes in choices.items()})
            self._send(dispatch, now, sender=row.admin_email, name=row.admin_name or row.name,
                       text=f"领导小组办公室：\n\n{row.name}的比对确认清单已填好，见附件，请查收。\n\n{row.name} {row.admin_name or ''}",
                       files={name: filled}, kind=LIST, what="答复比对确认", unit="个部门", by=self.names[dept],
                       parties=((self.names[dept], ""),))
            return f"回复【派发】邮件，附填好的清单“{name}”"
        return run

    def _office_closes_confirmation(self, sampled: list[str]) -> Callable[[datetime], str]:
        """The office's own act, once the deadline has passed: it answers for the silent department."""
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
        """The office issues the confirmation report; each department's contact prints it, has it stamped, scans it
        and replies with the scan — one of them days late, answering the overdue notice he got."""
        report = self.out / "报表" / "比对确认情况表.xlsx"

        def issue(now: datetime) -> str:
            write_confirmation_report(self.uow(now, self.clerk), report)
            return str(report)

        acts = [Act(self.at("2019-12-02", "11:00"), 0, "生成比对确认情况表（检查对象、执法人员及手机）", issue)]
        for n, dept in enumerate(d.code for d in self.plan.departments):
            day, hhmm = ("2019-12-06", "09:30") if dept == LATE_REPORT else ("2019-12-02", f"{14 + n % 3:02d}:{10 * n:02d}")
            acts.append(Act(self.at(day, hhmm), 1, f"{self.names[dept]}报送盖章的比对确认报告",
                            self._return_report(dept), mails=True))
        return acts

    def _return_report(self, dept: str) -> Callable[[datetime], str]:
        def run(now: datetime) -> str:
            name = f"{self.names[dept]}比对确认报告（盖章）.pdf"
            scan = scanned_report(f"{self.plan.code} {dept} 比对确认报告", self.names[dept])
            return self._file(now, dept, REPORT, "报送盖章的比对确认报告", {name: scan},
                              "我单位的比对确认报告已盖章，扫描件见附件，请查收。")
        return run

    def _file(self, now: datetime, dept: str, kind: str, what: str, files: dict[str, bytes], text: str) -> str:
        """The department's contact replies with ``files``: to the newest notice he got about ``kind``
        (a late one answers the chasing) or else to the 【派发】 he was copied on."""
        row = self.departments[dept]
        label = {REPORT: "盖章的比对确认报告", SUMMARY: "总结"}[kind]
        notices = [m for m in (self.inbox.newest(row.contact_email, p, naming=label) for p in ("【督办】", "【逾期】"))
                   if m is not None]
        original = max(notices, key=lambda m: m.date) if notices else self._mail(row.contact_email, "【派发】")
        self._send(original, now, sender=row.contact_email, name=row.contact_name or row.name,
                   text=f"领导小组办公室：\n\n{text}\n\n{row.name} {row.contact_name or ''}", files=files, kind=kind,
                   what=what, unit="个部门", by=self.names[dept], parties=((self.names[dept], ""),),
                   late_line=lambda who, at=now, k=kind, w=what: (f"{who}{instant_words(at, self.plan.tz)}才{w}"
                                                                  f"（期限{self.planned.get(k, '')}）"))
        (name,) = files
        return f"回复{original.subject[:original.subject.index('】') + 1]}邮件，附“{name}”"

    # --- after the forms are dispatched ---------------------------------------

    def acknowledgements(self) -> list[Act]:
        """Officers acknowledge their 一企一表 the next morning by replying to it; one of them only after the overdue
        notice."""
        acts = []
        for n, (cert, name) in enumerate(self._officers()):
            # in four waves (09:00, 11:00, 13:00, 15:00, each within its quarter hour): officers answer between
            # errands, and each wave is read by one quarter-hour tick, not one tick per officer
            when = self.at("2019-12-05", "11:00") if n == 4 else \
                self.at("2019-12-03", f"{9 + 2 * (n % 4):02d}:{n % 15:02d}")
            acts.append(Act(when, 0, "执法人员确认一企一表", self._acknowledge(cert, name), quiet=True, mails=True))
        return acts

    def _acknowledge(self, cert: str, name: str) -> Callable[[datetime], str]:
        def run(now: datetime) -> str:
            address = self.officer_rows[cert].email
            forms = self._mail(address, "【一企一表】")
            self._send(forms, now, sender=address, name=name, text="收到，按时参加实地核查。", kind=ACK,
                       what="执法人员确认一企一表", unit="人", by=name, parties=((name, ""),),
                       late_line=lambda who, at=now: (f"执法人员{who}（执法证号 {cert}）"
                                                      f"{instant_words(at, self.plan.tz)}才确认一企一表"))
            return "回复【一企一表】邮件确认收到"
        return run

    def _officers(self) -> list[tuple[str, str]]:
        """(certificate number, name) of every officer on a team."""
        teams = lookups.teams(self.uow(self.plan.draw_at, self.clerk))
        return sorted({(m["certificate_no"], m["name"]) for team in teams.values() for m in team
                       if not m["specialist"]})

    def visits(self) -> list[Act]:
        """Each day's groups visit their enterprises (one act a day); the team's first officer back-fills within 1–3
        working days, one group takes nine — one reply with the forms he filled that morning."""
        planned = lookups.planned_visits(self.uow(self.plan.draw_at, self.clerk))
        teams = lookups.teams(self.uow(self.plan.draw_at, self.clerk))
        names = lookups.enterprise_names(self.uow(self.plan.draw_at, self.clerk), [uscc for uscc, _, _ in planned])
        acts, days, fills = [], {}, {}
        first_day, first_group = planned[0][1], planned[0][2]
        for uscc, day, group in planned:
            team = [m["certificate_no"] for m in teams[uscc] if not m["specialist"]]
            days.setdefault(day, []).append((uscc, group, team))
            slow = (day, group) == (first_day, first_group)
            filled = self.calendar.add_workdays(day, 9 if slow else self.rng.choice([1, 1, 2, 3]))
            fills.setdefault((filled, team[0]), []).append((uscc, names.get(uscc, uscc)))
        for (filled, officer), enterprises in fills.items():
            acts.append(Act(self.at(filled, "10:00"), 1, "回填检查结果", self._backfill(officer, enterprises), quiet=True,
                            mails=True))
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
                self.visits_of[uscc] = (day, team, signature, note)
                signatures[signature] += 1
                self.visited.append(Visited(uscc, day, group))
            groups = len({group for _, group, _ in visits})
            return (f"{len(visits)} 户，{groups} 个检查组；企业"
                    + "、".join(f"{s} {signatures[s]} 户" for s in ("签字", "盖章", "拒绝签字") if signatures[s])
                    + ("（拒绝签字的已如实记录）" if signatures["拒绝签字"] else ""))
        return run

    def _backfill(self, officer: str, enterprises: list[tuple[str, str]]) -> Callable[[datetime], str]:
        """The officer fills each enterprise's 一企一表 attached to his 【一企一表】 mail and replies with them."""
        def run(now: datetime) -> str:
            row = self.officer_rows[officer]
            forms = self._mail(row.email, "【一企一表】")
            files, problems, items = {}, 0, 0
            for uscc, _ in enterprises:
                (name, content), = ((n, c) for n, c in forms.files.items()
                                    if n.startswith(uscc) and n.endswith(".xlsx"))
                answers = {}
                for code in items_of(content):
                    roll = self.rng.random()
                    if roll < 0.75:
                        answers[code] = ItemAnswer("实地核查", "1")
                    elif roll < 0.88:
                        answers[code] = ItemAnswer("实地核查", "E", "现场发现问题，已当场责令改正", "2")
                    elif roll < 0.95:
                        answers[code] = ItemAnswer("信息比对", "A、B", "未按规定公示年度报告", "3")
                    else:
                        answers[code] = ItemAnswer("实地核查", "A、D", "涉嫌违反其他市场监管规定", "4")
                    problems += roll >= 0.75
                day, team, signature, note = self.visits_of[uscc]
                files[name] = filled_form(content, day=f"{day:%Y-%m-%d}", officers=team, signature=signature, note=note,
                                          questions=self.rng.choice([0, 0, 1, 2]), items=answers)
                items += len(answers)
            due = {uscc: lookups.backfill_due(self.uow(now, self.clerk), uscc)[1] for uscc, _ in enterprises}
            by_name = {name: uscc for uscc, name in enterprises}
            self._send(forms, now, sender=row.email, name=row.name, text=f"一企一表已填好，共 {len(files)} 户，见附件。",
                       files=files, kind=FORMS, what="回填检查结果", unit="户", by=row.name,
                       parties=tuple((name, uscc) for uscc, name in enterprises),
                       late_line=lambda who, at=now: (f"{who}的检查结果{instant_words(at, self.plan.tz)}才回填"
                                                      f"（期限{deadline_words(due[by_name[who]], self.plan.tz)}）"))
            return f"{len(files)} 户，{items} 项，发现问题 {problems} 项"
        return run

    # --- the close of the campaign ---------------------------------------------

    def summaries(self) -> list[Act]:
        acts = []
        for n, dept in enumerate(d.code for d in self.plan.departments):
            day = "2019-12-19" if dept == LATE_SUMMARY else "2019-12-16" if n % 2 else "2019-12-17"
            acts.append(Act(self.at(day, f"{9 + n:02d}:30"), 0, f"{self.names[dept]}报送工作总结", self._summary(dept),
                            mails=True))
        return acts

    def _summary(self, dept: str) -> Callable[[datetime], str]:
        def run(now: datetime) -> str:
            from docx import Document

            doc = Document()
            doc.add_heading(f"{self.names[dept]}关于{self.plan.name}的工作总结", level=1)
            for heading, text in (("亮点", "按期完成比对确认和实地核查，检查记录当场填写。"),
                                  ("经验做法", "联络人逐户电话联系企业，合理安排检查路线。"),
                                  ("存在问题", "部分企业法定代表人不在场，需二次联系。")):
                doc.add_paragraph(heading)
                doc.add_paragraph(text)
            content = io.BytesIO()
            doc.save(content)
            return self._file(now, dept, SUMMARY, "报送工作总结", {f"{self.names[dept]}工作总结.docx": content.getvalue()},
                              "我单位本次联合抽查工作总结见附件，请审阅。")
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
