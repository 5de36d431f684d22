"""Every email reads as a letter from the office: a greeting by name, what to do in words, deadlines as the notice
writes them, and the office's signature block with the campaign's contact person and phone."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from types import SimpleNamespace

import pytest

from calendars import BEIJING, Deadline
from tests.unit.fake_uow import FakeUnitOfWork, Store, _Directory, team_member
from tests.unit.test_handlers import PLAN, USCC
from workflow.deadline_words import deadline_words, instant_words
from workflow.files.email import _TEMPLATES, render
from workflow.letter import group_greeting, signature
from workflow.services.dispatch import queue_dispatch
from workflow.services.reactions import mail_forms

CODE = PLAN.code
OFFICE_ONLY = {"draw_pending", "match_commitments", "match_committed", "overdue_report"}  # may name commands
LEAD_OWNS = {"task_notice", "notice_digest"}  # the deadline notices: written elsewhere
SIGNED = ("封勃", "82012463", "区市场监管局203", "1qqj2463@163.com", "根据石鹿双随机办〔2019〕11号")


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2019, month, day, hour, tzinfo=BEIJING)


class _WithItems(_Directory):
    def items(self):
        return {"SJ-01": SimpleNamespace(name="食品生产经营检查")}


class _Office(FakeUnitOfWork):
    """The fake unit of work with the item list the dispatch names, and a folder for its files."""

    def __init__(self, store, files_dir, now):
        super().__init__(store, now=now, actor="clerk@office.luquan.example", campaign=CODE)
        self._files_dir = files_dir

    def _begin(self) -> None:
        super()._begin()
        self.directory = _WithItems(self.store)


@pytest.fixture
def store() -> Store:
    s = Store()
    s.plans[CODE] = PLAN
    for d in PLAN.departments:
        s.departments[d.code] = SimpleNamespace(
            code=d.code, name=f"区{d.code}局", admin_name=f"王{d.code}" if d.code != "SW" else None,
            admin_email=f"admin@{d.code.lower()}.x" if d.code != "SW" else None,
            contact_name=f"李{d.code}", contact_email=f"contact@{d.code.lower()}.x", leader_email=None)
    s.officers["130110SJ001"] = SimpleNamespace(certificate_no="130110SJ001", department_code="SJ", name="张执法",
                                                email="zhang@x", mobile="13800000001",
                                                certificate_valid_until=date(2025, 1, 1))
    s.enterprises[USCC] = SimpleNamespace(uscc=USCC, name="石家庄某某有限公司", address="鹿泉区获鹿镇1号")
    return s


def rendered(mail) -> tuple[str, str]:
    """The message as sent: its context went through the outbox's JSON."""
    return render(mail.template, json.loads(json.dumps(mail.context, ensure_ascii=False)))


def assert_a_letter(body: str, template: str) -> None:
    assert re.match(r"^\S+(同志：您好！|：您好！|同志：)\n", body), "it opens with a greeting"
    assert all(fact in body for fact in SIGNED), "the office's signature block"
    assert "《石鹿" not in body, "a document number takes no 书名号"
    assert "00:00" not in body and "（北京时间）" not in body, "a day ends with the day, not the next midnight"
    if template not in OFFICE_ONLY:
        assert "ssj " not in body, "no command to someone who cannot run it"


def test_the_dispatch_goes_to_the_administrator_with_the_contact_in_copy(store, tmp_path):
    with _Office(store, tmp_path, at(11, 27)) as uow:
        queue_dispatch(uow, [USCC], round_=1)
    mails = {m.recipient: m for m in store.outbox.values()}
    sj = mails["admin@sj.x"]
    assert sj.cc == ("contact@sj.x",)
    subject, body = rendered(sj)
    assert subject.endswith("请于2019年11月29日（星期五）前完成比对确认（1 户）")
    assert body.startswith("区SJ局管理员王SJ同志：您好！\n")
    assert "请于2019年11月29日（星期五）前完成比对确认：在附件清单「是否检查」列填写后回复本邮件" in body
    assert "根据石鹿双随机办〔2019〕11号，" in body and "2019年11月27日（星期三）10:00" in body
    assert "抄送贵单位联络人李SJ" in body
    assert_a_letter(body, "dispatch")
    no_admin = mails["contact@sw.x"]  # a department without an administrator: its contact, alone
    assert no_admin.cc == () and rendered(no_admin)[1].startswith("区SW局联络人李SW同志：您好！\n")
    assert "抄送" not in rendered(no_admin)[1]


def test_the_officers_mail_says_in_words_when_to_acknowledge_and_how_to_return_the_forms(store, tmp_path):
    with _Office(store, tmp_path, at(11, 28)) as uow:
        [inspection] = uow.inspections.add(CODE, [USCC], ["SJ"], uow.now)
    store.inspections[inspection.id]["state"] = "assigned"
    store.team[inspection.id] = [team_member(store.officers["130110SJ001"])]
    store.schedule[inspection.id] = (date(2019, 12, 9), 1)
    with _Office(store, tmp_path, at(12, 2)) as uow:
        mail_forms(uow, [inspection], None, Deadline(at(12, 5, 0), False))
    [mail] = [m for m in store.outbox.values() if m.template == "forms_dispatch"]
    _, body = rendered(mail)
    assert body.startswith("张执法同志：您好！\n")
    assert ("- 2019年12月9日（星期一），第 1 组：石家庄某某有限公司（统一社会信用代码 91130110MA0000000X），鹿泉区获鹿镇1号；"
            "检查结果请于2019年12月16日（星期一）前回填") in body, "the visit and its back-fill deadline"
    assert "请于2019年12月4日（星期三）前回复本邮件确认收到" in body
    assert "请于实地核查后将填好的一企一表（Excel 表）回复本邮件" in body
    assert "回复即可，无需登录任何系统" in body
    assert_a_letter(body, "forms_dispatch")


def contexts() -> dict[str, dict]:
    """A realistic context for each template the office's own services queue (as the services build them)."""
    plan, tz = PLAN, PLAN.tz
    letter = {"greeting": group_greeting(), "signature": signature(plan), "campaign_name": plan.name,
              "campaign_code": plan.code}
    return {
        "deadline_moved": {**letter, "greeting": "区SJ局联络人李SJ同志：您好！", "rows": [
            {"task": "部门比对确认", "enterprise": "石家庄某某有限公司", "provisional": True,
             "before": deadline_words(at(11, 30, 0), tz), "after": deadline_words(at(12, 3, 0), tz, provisional=True)},
            {"task": "报送盖章的比对确认报告", "enterprise": "", "provisional": False,
             "before": deadline_words(at(12, 2, 17), tz), "after": deadline_words(at(12, 3, 17), tz)}]},
        "draw_pending": {**letter, "draw_at": instant_words(plan.draw_at, tz), "now": instant_words(at(11, 28, 9), tz)},
        "match_commitments": {**letter, "at": instant_words(at(11, 29, 15), tz), "parties": list(plan.draw_parties),
                              "confirmed": 12},
        "match_committed": {**letter, "at": instant_words(at(12, 2, 9), tz), "algorithm": "ssj-match-v2",
                            "snapshot_sha256": "ab" * 32, "officers": 40,
                            "parties": [{"party": p, "commitment": "cd" * 32} for p in plan.draw_parties]},
        "overdue_report": {**letter, "day": "2019年12月2日（星期一）", "count": 3, "at": instant_words(at(12, 2, 8), tz),
                           "attachment_name": "逾期部门报告_2019-12-02.xlsx", "mail_problems": "",
                           "departments": [{"name": "区SJ局", "tasks": 3, "worst": 1}], "joint": ""},
        "mail_answer": {**letter, "greeting": "区SJ局管理员王管理同志：您好！", "recorded": False, "what": "比对确认清单",
                        "their_subject": "回复：【派发】…", "received": instant_words(at(11, 28, 10), tz),
                        "lines": ["SJ-比对确认.xlsx:3: 不检查理由: 不检查的须说明理由"], "notes": [], "late": False,
                        "in_reply_to": "<a@b>"},
    }


@pytest.mark.parametrize("template", sorted(contexts()))
def test_every_office_letter_greets_and_signs(template):
    subject, body = render(template, contexts()[template])
    assert "\n" not in subject.strip()
    assert_a_letter(body, template)


def test_every_template_but_the_deadline_notices_is_covered_here():
    templates = {name.split(".")[0] for name in _TEMPLATES} - LEAD_OWNS
    assert templates == set(contexts()) | {"dispatch", "forms_dispatch"}


def test_a_moved_deadline_lists_every_task_with_the_old_and_the_new_day():
    _, body = render("deadline_moved", contexts()["deadline_moved"])
    assert "事项｜企业｜原截止｜新截止" in body
    assert "部门比对确认｜石家庄某某有限公司｜2019年11月29日（星期五）前｜2019年12月2日（星期一）前（暂定）" in body
    assert "报送盖章的比对确认报告｜—｜2019年12月2日（星期一）17:00前｜2019年12月3日（星期二）17:00前" in body
    assert "标“暂定”的期限" in body


def test_the_answer_to_a_reply_says_what_was_recorded_or_every_problem_and_what_to_do():
    refused = contexts()["mail_answer"]
    subject, body = render("mail_answer", refused)
    assert subject == f"【未登记】比对确认清单：{PLAN.name}"
    assert "未能登记，系统未作任何记录" in body and "SJ-比对确认.xlsx:3: 不检查理由" in body
    assert "再次回复本邮件" in body and "不是您本人发出的" in body
    subject, body = render("mail_answer", {**refused, "recorded": True, "late": True,
                                           "lines": ["SJ-比对确认.xlsx：共 27 户，检查 15 户，不检查 12 户"]})
    assert subject.startswith("【已登记】") and "检查 15 户，不检查 12 户" in body
    assert "已超过期限" in body and "无需再做其他操作" in body


def test_a_refused_file_that_was_not_the_senders_to_send_goes_to_the_office_not_back_for_correction():
    _, body = render("mail_answer", {**contexts()["mail_answer"], "suspect": True,
                                     "lines": ["附件是部门 TJ 的比对确认清单，发件人 admin@sw.x 不是该部门的管理员或联络人，未作记录"]})
    assert "已转领导小组办公室人工处理" in body and "再次回复本邮件" not in body
