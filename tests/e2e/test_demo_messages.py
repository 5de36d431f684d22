"""The demo's mail as the officials who get it read it (issue 17, "Done when"), and their answers, which reach the
office by mail (issue 18, "Done when").

One ``ssj demo`` run is shared by the module (~90 s, more on a loaded machine: with
``make test`` already near its six minutes, the module runs in ``make stress``, as the
other whole-demo tests do). Every message the demo sent is read back from its
database's outbox (state 已发: when it went, to whom, in copy, its kind and context) and
rendered with the product's own templates, as the sender rendered it.
"""

from __future__ import annotations

import ast
import csv
import email
import email.policy
import json
import re
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from calendars import WorkdayCalendar
from tests.conftest import EXAMPLE_CAMPAIGN
from tests.e2e.test_command_line import run
from workflow.campaign_file import parse_campaign
from workflow.deadline_words import deadline_words
from workflow.files.email import render

pytestmark = [pytest.mark.slow, pytest.mark.stress]  # one whole demo shared by the module: make stress

PLAN = parse_campaign(EXAMPLE_CAMPAIGN.read_text(encoding="utf-8"))
OPENS, CLOSES = time(8, 30), time(17, 30)
# A deadline as the notice writes it: the end of a day, or a cutoff with its hour.
DEADLINE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日（星期[一二三四五六日]）(?:\d\d:\d\d)?前")
# A deadline as a program writes it: an ISO day (perhaps with its hour) given as a time limit.
ISO_DEADLINE = re.compile(r"\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2})?\s*(?:（北京时间）|前|到期|截止)")
# The deadlines the campaign fixes by date, and what the tasks that carry them are called in the mail.
COMMAND = re.compile(r"ssj [^）)\n]*")
FIXED = {"summary": "部门报送检查表、总结和统计表", "confirmation_report": "报送盖章的比对确认报告"}


@dataclass(frozen=True)
class Sent:
    """One message the demo sent, as its reader got it."""

    key: str
    kind: str  # the outbox's kind: the stage (remind, overdue, escalate, report, forms …)
    recipient: str
    cc: tuple[str, ...]
    created_at: datetime  # the run that queued it (UTC)
    sent_at: datetime  # UTC
    task_id: int | None
    subject: str
    body: str

    @property
    def text(self) -> str:
        return f"{self.subject}\n{self.body}"

    @property
    def readers(self) -> tuple[str, ...]:
        return (self.recipient, *self.cc)


@dataclass(frozen=True)
class Demo:
    out: Path
    stdout: str
    sent: list[Sent]
    waiting_due: int  # 待发 messages whose time had come by the demo's end
    tasks: dict[int, dict]  # id → kind, department_code, certificate_no
    notices: dict[int, list[tuple[datetime, str, str]]]  # task id → (queued at, stage, recipient), in order


def _utc(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc) if value else None


def _read(db: Path, stdout: str, out: Path) -> Demo:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT key, kind, recipient, cc, template, context, created_at, sent_at, task_id "
                            "FROM outbox WHERE state = '已发' ORDER BY sent_at, id").fetchall()
        waiting_due = conn.execute("SELECT count(*) FROM outbox WHERE state = '待发' AND not_before <= ?",
                                   ("2019-12-20 10:00:00",)).fetchone()[0]  # the demo ends at 18:00 Beijing time
        tasks = {r["id"]: dict(r) for r in conn.execute("SELECT id, kind, department_code, certificate_no FROM tasks")}
        # a digest names its tasks in pending_notices (digest_key: the message's key); a single notice, in task_id
        pending = conn.execute("SELECT task_id, stage, recipient, digest_key FROM pending_notices "
                               "WHERE digest_key IS NOT NULL").fetchall()
    sent = []
    for row in rows:
        context = json.loads(row["context"])
        context.pop("attachments", None)  # as the sender does: the files travel beside the context
        subject, body = render(row["template"], context)
        sent.append(Sent(row["key"], row["kind"], row["recipient"], tuple(row["cc"].split("; ")) if row["cc"] else (),
                         _utc(row["created_at"]), _utc(row["sent_at"]), row["task_id"], subject, body))
    by_key = {s.key: s for s in sent}
    notices: dict[int, list] = defaultdict(list)
    for s in sent:
        if s.task_id is not None:
            notices[s.task_id].append((s.created_at, s.kind, s.recipient))
    for p in pending:
        if p["digest_key"] in by_key:
            notices[p["task_id"]].append((by_key[p["digest_key"]].created_at, p["stage"], p["recipient"]))
    return Demo(out, stdout, sent, waiting_due, tasks, {k: sorted(set(v)) for k, v in notices.items()})


@pytest.fixture(scope="module")
def demo(tmp_path_factory, prefect_api) -> Demo:
    """The whole demo, once for the module, against the session's Prefect server."""
    where = tmp_path_factory.mktemp("demo-messages")
    result = run("demo", "--out", where / "demo", cwd=where, env={"PREFECT_API_URL": prefect_api})
    assert result.returncode == 0, result.stderr
    return _read(where / "demo" / "ssj.db", result.stdout, where / "demo")


@pytest.fixture(scope="module")
def check() -> str:
    """What ``ssj campaign check`` prints for the example campaign."""
    result = run("campaign", "check", EXAMPLE_CAMPAIGN, cwd=EXAMPLE_CAMPAIGN.parent)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _shown(messages: list[Sent], n: int = 3) -> str:
    return "\n---\n".join(f"{m.sent_at:%Y-%m-%d %H:%M}Z {m.kind} → {m.recipient}\n{m.text}" for m in messages[:n])


def test_the_demo_sent_its_campaign_mail(demo):
    """The ground the other tests stand on: the demo sent mail of every stage, and left nothing due unsent."""
    kinds = Counter(m.kind for m in demo.sent)
    assert {"dispatch", "remind", "overdue", "escalate", "forms", "report"} <= set(kinds), kinds
    assert demo.waiting_due == 0, "the demo's timeline must send every message whose time has come"


def test_at_most_one_message_per_person_per_stage_per_run(demo):
    runs = Counter((m.created_at, m.recipient, m.kind) for m in demo.sent)
    repeated = {k: n for k, n in runs.items() if n > 1}
    worst = max(repeated.items(), key=lambda kv: kv[1], default=None)
    assert not repeated, (f"{len(repeated)} (run, recipient, stage) got several messages; the most: {worst[1]} "
                          f"{worst[0][2]} to {worst[0][1]} queued at {worst[0][0]:%Y-%m-%d %H:%M}Z")


def test_no_message_goes_outside_office_hours_or_on_a_day_off(demo):
    calendar = WorkdayCalendar.default(provisional=PLAN.provisional_calendar)
    outside = []
    for m in demo.sent:
        local = m.sent_at.astimezone(PLAN.tz)
        if not (calendar.is_workday(local.date()) and OPENS <= local.time() <= CLOSES):
            outside.append(m)
    assert not outside, f"{len(outside)} messages sent outside 08:30–17:30 on working days:\n{_shown(outside)}"


def test_every_deadline_is_written_as_the_notice_writes_it(demo):
    programmatic = [m for m in demo.sent if ISO_DEADLINE.search(m.text)]
    assert not programmatic, (f"{len(programmatic)} messages write a deadline as YYYY-MM-DD HH:MM, e.g. "
                              f"{ISO_DEADLINE.search(programmatic[0].text).group()!r}:\n{_shown(programmatic, 1)}")
    with_deadline = [m for m in demo.sent if m.kind in ("dispatch", "remind", "overdue", "escalate", "forms")]
    unworded = [m for m in with_deadline if not DEADLINE.search(m.text)]
    assert not unworded, f"{len(unworded)} notices name no deadline in the notice's words:\n{_shown(unworded, 1)}"


@pytest.fixture(scope="module")
def planned() -> dict:
    """``ssj campaign check --json``: each deadline's due instant as the campaign file fixes it."""
    result = run("campaign", "check", EXAMPLE_CAMPAIGN, "--json", cwd=EXAMPLE_CAMPAIGN.parent)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["deadlines"]


@pytest.mark.parametrize("name", sorted(FIXED))
def test_a_fixed_deadline_reads_in_the_mail_as_campaign_check_prints_it(demo, check, planned, name):
    """The summary's and the stamped report's deadlines are dates in the campaign file: every message about them
    (a notice of that task, or a digest's line naming it) gives the day ``campaign check`` gives, in the same words."""
    expected = deadline_words(datetime.fromisoformat(planned[name]["due"]), PLAN.tz)
    assert expected == {"summary": "2019年12月17日（星期二）前",  # the seed: 12月17日之前
                        "confirmation_report": "2019年12月2日（星期一）17:00前"}[name]
    label = FIXED[name]
    about = []
    for m in demo.sent:
        task = demo.tasks.get(m.task_id) if m.task_id is not None else None
        if task is not None and task["kind"] == name:
            about.append((m, m.text))
        elif task is None and label in m.text and m.kind != "answer":  # an answer quotes the reply's subject
            about.append((m, _section(m.body, label)))
    assert about, f"the demo sent nothing about {label}"
    wrong = [(m, sorted(set(DEADLINE.findall(text)) - {expected}) or "no deadline in the notice's words")
             for m, text in about if set(DEADLINE.findall(text)) != {expected}]
    assert not wrong, (f"{len(wrong)} of {len(about)} messages about {label} do not say {expected!r}; the first says "
                       f"{wrong[0][1]}:\n{_shown([wrong[0][0]], 1)}")
    [line] = [line for line in check.splitlines() if f"（{name}）" in line]
    assert expected in line, f"campaign check prints the {name} deadline otherwise: {line.strip()!r}"


def _section(body: str, label: str) -> str:
    """A digest's part about one kind of task: its heading line, its rows, up to what is to be done."""
    lines = body.splitlines()
    start = next(i for i, line in enumerate(lines) if label in line)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].strip().startswith(("办理方式", "应办事项"))),
               len(lines))
    return "\n".join(lines[start:end])


def test_no_command_line_in_mail_to_departments_and_officers(demo):
    office = set(PLAN.office_mailboxes)
    commands = [m for m in demo.sent if set(m.readers) - office and "ssj " in m.text]
    example = COMMAND.search(commands[0].text).group() if commands else ""
    assert not commands, (f"{len(commands)} messages to departments or officers tell them to run ssj, e.g. "
                          f"{example!r}:\n{_shown(commands, 1)}")


def test_every_message_names_the_campaigns_contact_person_and_phone(demo):
    assert (PLAN.contact.name, PLAN.contact.phone) == ("封勃", "82012463")  # the seed notice's
    unsigned = [m for m in demo.sent if PLAN.contact.name not in m.body or PLAN.contact.phone not in m.body]
    assert not unsigned, (f"{len(unsigned)} of {len(demo.sent)} messages do not name {PLAN.contact.name} "
                          f"{PLAN.contact.phone}: " + ", ".join(f"{k} {n}" for k, n in Counter(
                              m.kind for m in unsigned).most_common()) + f"\n{_shown(unsigned, 1)}")


def test_the_first_escalation_climbs_past_the_overdue_notices_reader(demo):
    """A department's task overdue and escalated: its first 【督办】 reaches someone the 【逾期】 did not."""
    climbed = []
    for task_id, notices in demo.notices.items():
        task = demo.tasks[task_id]
        if task["department_code"] is None or task["certificate_no"] is not None:
            continue
        overdue = [recipient for _, stage, recipient in notices if stage == "overdue"]
        escalations = [(at, recipient) for at, stage, recipient in notices if stage == "escalate"]
        if overdue and escalations:
            first = min(at for at, _ in escalations)
            climbed.append((task, set(overdue), {r for at, r in escalations if at == first}))
    assert climbed, "the demo escalated no department task"
    same = [(t, o, e) for t, o, e in climbed if e <= o]
    assert not same, (f"{len(same)} of {len(climbed)} department tasks' first escalation went to the overdue "
                      f"notice's reader again, e.g. {same[0][0]['kind']} of {same[0][0]['department_code']}: "
                      f"{sorted(same[0][2])}")


def test_the_account_tells_the_whole_story(demo):
    """The demo's account as the office's head reads it: visits, acknowledgements and back-fills, on time and late;
    the sweep is a 期限检查, never a 巡查 (a patrol)."""
    out = demo.stdout
    assert "巡查" not in out
    assert "期限检查：" in out
    assert re.search(r"实地核查：2019年12月9日（星期一）至2019年12月13日（星期五），5 个工作日，27 户，出动检查组 \d+ 组次", out)
    assert re.search(r"16:30  实地核查：\d+ 户，\d+ 个检查组", out), "each visiting day in the timeline"
    assert re.search(r"执法人员确认一企一表：\d+ 人，按期 \d+ 人，逾期 1 人：\S+", out)
    assert re.search(r"回填检查结果：27 户，按期 \d+ 户，逾期 \d+ 户：", out)
    assert re.search(r"回填检查结果：\d+ 户，均按期", out), "a day's back-fills on time"
    assert "   2019年12月2日（星期一）\n" in out, "the timeline's days in the notice's words"
    assert not re.search(r"(?<![\d-])\d{2}-\d{2} \d{2}:\d{2}", out.split("\n6.")[1]), "no MM-DD HH:MM in the timeline"
    assert "发件箱：没有待发的邮件" in out


def test_demo_reports_the_district_it_built(demo):
    """What the demo built and wrote besides its mail: the district, the draw, the forms, the reports, the
    publication (moved here from test_command_line to share this module's one run)."""
    stdout, folder = demo.stdout, demo.out
    assert (folder / "ssj.db").exists()
    assert sorted(p.name for p in (folder / "名录").iterdir()) == [
        "departments.csv", "enterprises.csv", "items.csv", "officers.csv"]
    with open(folder / "名录" / "enterprises.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    expected = sum(1 for r in rows if r["主体类别"] == "内资企业" and r["登记状态"] in ("存续", "在业")
                   and r["注册资本（万元）"] and 500 <= Decimal(r["注册资本（万元）"]) <= 1000
                   and date.fromisoformat(r["成立日期"]) <= date(2019, 11, 27))
    assert f"2019年11月27日（星期三）前成立）：{expected} 户" in stdout
    assert f"：{-(-expected // 100)} 户" in stdout  # 1%, rounded up
    assert "导入企业：30000 行" in stdout
    sample = -(-expected // 100)
    draw = json.loads((folder / "draw.json").read_text(encoding="utf-8"))
    assert draw["campaign"] == "luquan-2019-h2" and draw["sample_size"] == len(draw["sampled"]) == sample
    assert draw["algorithm"] == "ssj-draw-v2" and [p["party"] for p in draw["parties"]] == [
        "区市场监管局", "区纪委监委派驻纪检监察组"], "both parties committed and revealed"
    assert len(list((folder / "一企一表").glob("*.xlsx"))) == len(list((folder / "一企一表").glob("*.docx"))) == sample
    assert len(list((folder / "派发").glob("*第1轮.xlsx"))) == 7, "one list per participating department"

    reports = {p.name for p in (folder / "报表").iterdir()}
    assert {"抽查情况统计表.xlsx", "比对确认情况表.xlsx", "工作总结.xlsx"} <= reports
    daily = sorted(r for r in reports if r.startswith("逾期部门报告_"))
    assert "逾期部门报告_2019-12-02.xlsx" in daily and "逾期部门报告_2019-12-20.xlsx" in daily
    assert "逾期部门报告_2019-11-30.xlsx" not in daily and "逾期部门报告_2019-12-01.xlsx" not in daily, "weekend"
    overdue = openpyxl.load_workbook(folder / "报表" / "逾期部门报告_2019-12-05.xlsx").worksheets[0]
    assert "鹿泉区统计局" in [c for row in overdue.iter_rows(values_only=True) for c in row]
    stats = openpyxl.load_workbook(folder / "报表" / "抽查情况统计表.xlsx")["抽查情况统计表"]
    assert stats["A5"].value == "合计" and stats["B5"].value == sample

    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in sorted((folder / "邮件").glob("*.eml"))]
    subjects = [str(m["Subject"]) for m in mails]
    for prefix in ("【派发】", "【提醒】", "【逾期】", "【督办】", "【执法人员抽取】", "【待公布】", "【一企一表】", "【逾期报告】"):
        assert any(s.startswith(prefix) for s in subjects), prefix
    assert any(s.startswith("【督办】") and m["To"] == "1qqj2463@163.com" for s, m in zip(subjects, mails)), \
        "at least one escalation climbed to the office"
    ids = [m["Message-ID"] for m in mails]
    assert len(ids) == len(set(ids)), "every message delivered once"
    assert any(part.get_filename() == "逾期部门报告_2019-12-05.xlsx" for m in mails for part in m.iter_attachments())

    public = "".join(p.read_text(encoding="utf-8-sig") for p in (folder / "公示").iterdir())
    [exchange] = list((folder / "公示").glob("*.jsonl"))
    assert len(exchange.read_text(encoding="utf-8").splitlines()) == sample
    with open(folder / "名录" / "officers.csv", encoding="utf-8-sig") as fh:
        for officer in csv.DictReader(fh):
            assert officer["姓名"] not in public and officer["执法证号"] not in public
    assert "审计链：全部完整" in stdout and "督办到领导小组办公室" in stdout
    assert "数据表与审计记录一致" in stdout, "the whole campaign's tables replayed from its trail"


# --- the answers came by mail (issue 18) -----------------------------------------------------------------------

ACTORS = Path(__file__).resolve().parents[2] / "ssj" / "demo_actors.py"
# What a department or an officer does by replying; none of it may be a direct call in the demo's actors.
BY_MAIL_ONLY = ("import_answers", "acknowledge", "import_filled_form", "record_result", "receive_document")


def _db(demo: Demo, query: str, *args) -> list[sqlite3.Row]:
    with sqlite3.connect(demo.out / "ssj.db") as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(query, args).fetchall()


def test_every_answer_of_departments_and_officers_was_recorded_from_a_reply_in_the_office_mailbox(demo):
    """Each department's list (but the silent one's, which the office gave), stamped report and summary, each
    officer's acknowledgement and each enterprise's form: a reply in the mailbox, recorded (已记录), filed."""
    inbound = _db(demo, "SELECT kind, party, outcome, folder, sender, files FROM inbound_messages")
    assert inbound, "the demo's office mailbox was never read"
    unrecorded = [(r["kind"], r["party"], r["outcome"]) for r in inbound if r["outcome"] != "已记录"]
    assert not unrecorded, f"{len(unrecorded)} replies were not recorded: {unrecorded[:5]}"
    assert {r["folder"] for r in inbound} == {"已处理"}
    got = defaultdict(set)
    for r in inbound:
        got[r["kind"]].add(r["party"])
    departments = {d.code for d in PLAN.departments}
    assert got["confirm_list"] == departments - {"TJ"}, "every department but the silent one answered by mail"
    assert got["confirmation_report"] == got["summary"] == departments
    teams = {r["certificate_no"] for r in _db(demo, "SELECT DISTINCT certificate_no FROM team_members "
                                                     "WHERE NOT specialist AND released_at IS NULL")}
    assert teams and got["acknowledge"] == teams, "every officer acknowledged by replying"
    forms = [json.loads(r["files"]) for r in inbound if r["kind"] == "forms"]
    returned = {f["name"].split("-")[0] for files in forms for f in files}
    sampled = {r["uscc"] for r in _db(demo, "SELECT uscc FROM inspections")}
    assert returned == sampled, "every enterprise's 一企一表 came back filled, attached to a reply"


def test_the_audit_rows_of_the_answers_name_the_message_they_came_in(demo):
    """Every act a reply stands for is audited with ``via_mail`` (Message-ID, sender, file); the only answers
    without one are the office's own, for the silent department after its deadline."""
    rows = _db(demo, "SELECT action, actor, payload FROM audit_events WHERE action IN "
                     "('answer', 'confirmation_report', 'summary', 'acknowledge', 'result', 'report')")
    direct = [(r["action"], r["actor"]) for r in rows if "via_mail" not in json.loads(r["payload"])]
    assert {a for a, _ in direct} <= {"answer"}, f"acts not from the mailbox: {Counter(direct)}"
    assert {actor for _, actor in direct} == {PLAN.office_staff[-1]}, "only the office answers directly"
    assert all(json.loads(r["payload"])["department"] == "TJ" for r in rows
               if r["action"] == "answer" and "via_mail" not in json.loads(r["payload"]))
    for r in rows:
        via = json.loads(r["payload"]).get("via_mail")
        if via is not None:
            assert via["sender"] == r["actor"] or r["action"] in ("acknowledge", "result", "report"), via
            assert via["message_id"].startswith("<") and via["message_id"].endswith(">")


def test_each_reply_was_answered_to_its_sender_in_the_office_name(demo):
    """The 【已登记】 answers: one per recorded reply, to the address that sent it, saying what was recorded."""
    answers = [m for m in demo.sent if m.kind == "answer"]
    senders = Counter(r["sender"] for r in _db(demo, "SELECT sender FROM inbound_messages"))
    assert Counter(m.recipient for m in answers) == senders
    assert all(m.subject.startswith("【已登记】") for m in answers)
    lists = [m for m in answers if m.subject.startswith("【已登记】比对确认清单")]
    assert len(lists) == 6 and all(re.search(r"共 \d+ 户，检查 \d+ 户，不检查 \d+ 户", m.body) for m in lists)
    late = [m for m in answers if "（已逾期）" in m.body or "回填已逾期" in m.body]
    assert len(late) >= 4, "the late actors' answers say they were late (report, summary, acknowledgement, forms)"


def test_the_demos_actors_make_no_call_a_reply_stands_for(demo):
    """A cheap guard: departments and officers act by mail only. ``record_answer`` is called once, in the office's
    own act of answering for the silent department (with the clerk as actor)."""
    tree = ast.parse(ACTORS.read_text(encoding="utf-8"))
    calls = defaultdict(list)  # the function called → (the module's function or class method it is in, the call)
    methods = [f for node in tree.body for f in (node.body if isinstance(node, ast.ClassDef) else [node])
               if isinstance(f, ast.FunctionDef)]
    for function in methods:
        for node in ast.walk(function):
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                calls[name].append((function.name, ast.unparse(node)))
    for name in BY_MAIL_ONLY:
        assert not calls[name], f"demo_actors calls {name}: {calls[name]}"
    answering = {(outer, call) for outer, call in calls["record_answer"]}
    assert {outer for outer, _ in answering} == {"_office_closes_confirmation"}
    assert all("self.clerk" in call for _, call in answering), answering


def test_the_account_says_which_answers_came_in_by_mail(demo):
    out = demo.stdout
    assert re.search(r"回复邮件：比对确认清单（共 27 户，检查 \d+ 户，不检查 \d+ 户）→ 已登记", out)
    assert re.search(r"鹿泉区统计局回复邮件：盖章的比对确认报告（.*（已逾期））→ 已登记", out)
    assert re.search(r"登记执法人员的回复邮件：确认收到一企一表 49 封", out)
    line = next(line for line in out.splitlines() if "经邮件登记" in line)
    assert re.search(r"比对确认清单 6 份、盖章的比对确认报告 7 份、部门总结 7 份、一企一表（检查结果） 27 份、"
                     r"确认收到一企一表 \d+ 人", line), line


def test_a_reply_is_as_late_as_its_arrival_not_as_the_tick_that_read_it(demo):
    """鹿泉区消防救援大队 replies with its stamped report at 16:50, ten minutes before the 17:00 deadline; the tick
    reads it at 17:00. It came on time: its answer must not say 已逾期, nor the account list it as late."""
    [answer] = [m for m in demo.sent if m.kind == "answer" and m.recipient == "contact@xf.luquan.example"
                and m.subject.startswith("【已登记】盖章的比对确认报告")]
    assert "16:50发来" in answer.body
    assert "已逾期" not in answer.body, answer.body
    assert "报送盖章的比对确认报告：7 个部门，按期 6 个部门，逾期 1 个部门：鹿泉区统计局" in demo.stdout
