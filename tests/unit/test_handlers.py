"""The handlers and the transition reactions on an in-memory unit of work (no database): the rules people meet."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from calendars import BEIJING
from tests.unit.fake_uow import FakeUnitOfWork, Store, team_member
from workflow.campaign_file import parse_campaign
from workflow.errors import UserError
from workflow.services.confirmations import record_answer
from workflow.services.forms import acknowledge
from workflow.services.inspections import start_inspections, withdraw
from workflow.services.results import record_result, record_visit, result_of, visit_of
from workflow.tasks import task_key

ROOT = Path(__file__).resolve().parents[2]
PLAN = parse_campaign((ROOT / "examples" / "luquan-2019-h2.toml").read_text(encoding="utf-8"))
CODE, CLERK = PLAN.code, "clerk@office.luquan.example"
USCC = "91130110MA0000000X"


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2019, month, day, hour, tzinfo=BEIJING)


def contact(dept: str) -> str:
    return f"contact@{dept.lower()}.luquan.example"


@pytest.fixture
def store() -> Store:
    """The seed campaign's departments, one enterprise, two officers; the enterprise drawn on 11-27 10:00."""
    s = Store()
    s.plans[CODE] = PLAN
    for d in PLAN.departments:
        s.departments[d.code] = SimpleNamespace(code=d.code, name=f"部门{d.code}", admin_email=f"admin@{d.code.lower()}.x",
                                                contact_email=contact(d.code), leader_email=f"leader@{d.code.lower()}.x")
    for cert, dept, valid in (("130110SJ001", "SJ", date(2025, 1, 1)), ("130110SW001", "SW", date(2019, 12, 9))):
        s.officers[cert] = SimpleNamespace(certificate_no=cert, department_code=dept, name=f"执法{cert[-3:]}",
                                           email=f"{cert}@x", certificate_valid_until=valid)
    s.enterprises[USCC] = SimpleNamespace(uscc=USCC, name="石家庄某某有限公司", address="鹿泉区")
    with FakeUnitOfWork(s, now=at(11, 27), actor=CLERK, campaign=CODE) as uow:
        start_inspections(uow, [USCC])
    return s


def acting(store: Store, when: datetime, actor: str = CLERK) -> FakeUnitOfWork:
    return FakeUnitOfWork(store, now=when, actor=actor, campaign=CODE)


def state(store: Store) -> str:
    [row] = store.inspections.values()
    return row["state"]


def answer_all(store: Store, inspecting=("SJ", "SW")) -> None:
    for d in PLAN.departments:
        record_answer(acting(store, at(11, 28), contact(d.code)), d.code, USCC, inspects=d.code in inspecting,
                      reason="" if d.code in inspecting else "不涉及")


def test_the_draw_opens_one_confirmation_per_department_due_two_working_days_later(store):
    confirms = [t for t in store.tasks.values() if t.kind == "confirm"]
    assert sorted(t.department_code for t in confirms) == sorted(PLAN.department_codes)
    assert {t.due_at for t in confirms} == {datetime(2019, 11, 30, tzinfo=BEIJING)}, "the end of Friday 11-29"
    assert [(e.action, e.to_state) for e in store.chains[f"campaign:{CODE}"]] == [("sampled", "sampled")]


def test_the_last_answer_confirms_and_each_answer_closes_its_own_task(store):
    answer_all(store)
    assert state(store) == "confirmed"
    assert all(t.outcome == "done" for t in store.tasks.values() if t.kind == "confirm")
    actions = [e.action for e in store.chains[f"campaign:{CODE}"]]
    assert actions.count("answer") == len(PLAN.departments) and actions[-1] == "confirm"


def test_nobody_inspecting_leaves_the_enterprise_for_the_office_to_withdraw(store):
    answer_all(store, inspecting=())
    assert state(store) == "sampled", "the confirm guard: at least one department inspects"


def test_the_office_answers_for_a_department_only_after_its_deadline(store):
    before = (dict(store.answers), len(store.chains[f"campaign:{CODE}"]))
    with pytest.raises(UserError) as caught:
        record_answer(acting(store, at(11, 29, 23)), "SW", USCC, inspects=True, reason="")
    assert "期限届满前须由该部门自行确认" in str(caught.value)
    assert (dict(store.answers), len(store.chains[f"campaign:{CODE}"])) == before, "refused: nothing changed"
    assert record_answer(acting(store, at(12, 2)), "SW", USCC, inspects=True, reason="") is True, "on its behalf"


def test_withdrawing_cancels_every_open_task_of_the_enterprise(store):
    withdraw(acting(store, at(11, 28)), USCC, reason="企业已注销")
    assert state(store) == "withdrawn"
    assert {t.outcome for t in store.tasks.values()} == {"cancelled"}


def assigned(store: Store) -> int:
    """Confirmed, with a team and forms, moved to 已分派 through the machine (the assign reaction runs)."""
    answer_all(store)
    [iid] = store.inspections
    store.team[iid] = [team_member(o) for o in store.officers.values()]
    store.forms.add(iid)
    with acting(store, at(12, 3)) as uow:
        uow.move(uow.inspections.get(CODE, USCC), "assign")
    return iid


def test_assigning_opens_each_officers_acknowledgement(store):
    assigned(store)
    acks = {t.certificate_no: t for t in store.tasks.values() if t.kind == "acknowledge"}
    assert set(acks) == set(store.officers)
    late = acknowledge(acting(store, at(12, 9), "130110SJ001"), "130110SJ001")
    assert late is True and acks["130110SJ001"].outcome == "done", "2 days after 12-03: due by the end of 12-05"


def test_a_visit_with_an_expired_certificate_is_refused_and_changes_nothing(store):
    assigned(store)
    visit = visit_of(date(2019, 12, 10), ["130110SJ001", "130110SW001"], "签字", "")
    snapshot = (state(store), dict(store.visits), dict(store.tasks))
    with pytest.raises(UserError) as caught:
        record_visit(acting(store, at(12, 10, 17), "130110SJ001"), USCC, visit)
    assert "执法证在核查当日已过期：执法001（130110SW001，有效期至 2019-12-09）" in caught.value.lines[1]
    assert (state(store), dict(store.visits), dict(store.tasks)) == snapshot


def test_the_visit_starts_the_back_fill_and_disclosure_clocks_and_the_last_result_stops_one(store):
    iid = assigned(store)
    store.officers["130110SW001"].certificate_valid_until = date(2025, 1, 1)
    store.team[iid] = [team_member(o) for o in store.officers.values()]
    record_visit(acting(store, at(12, 10, 17), "130110SJ001"),
                 USCC, visit_of(date(2019, 12, 10), ["130110SJ001", "130110SW001"], "盖章", ""))
    assert state(store) == "inspected"
    backfill = store.tasks[task_key("backfill", CODE, inspection_id=iid)]
    disclosure = store.tasks[task_key("publish", CODE, inspection_id=iid)]
    assert backfill.due_at == datetime(2019, 12, 18, tzinfo=BEIJING), "5 working days after Tue 12-10: end of 12-17"
    assert disclosure.due_at == datetime(2020, 1, 9, tzinfo=BEIJING), "20 working days (01-01 is not one): end of 01-08"
    items = [i for d in PLAN.departments if d.code in ("SJ", "SW") for i in d.items]
    for n, item in enumerate(items):
        recorded = record_result(acting(store, at(12, 19), "130110SW001"), USCC, result_of(item, "1"))
        assert recorded.reported == (n == len(items) - 1)
    assert recorded.late is True, "back-filled on 12-19, due by the end of 12-17"
    assert state(store) == "reported"
    assert (backfill.outcome, backfill.done_at) == ("done", at(12, 19))
    assert disclosure.done_at is None, "publication closes the disclosure clock, not the back-fill"
    chain = store.chains[f"campaign:{CODE}"]
    assert [e.action for e in chain if e.action in ("visit", "inspect", "report")] == ["visit", "inspect", "report"]
    assert chain[-1].at.astimezone(timezone.utc) == at(12, 19).astimezone(timezone.utc)


def test_assigning_several_enterprises_mails_each_officer_once_with_all_of_them(store):
    """The 已分派 reaction sees the whole move: an officer on two teams gets one mail listing both, with both forms."""
    other = "91130110MA00000011"
    store.enterprises[other] = SimpleNamespace(uscc=other, name="鹿泉某某商贸有限公司", address="鹿泉区")
    with acting(store, at(11, 27)) as uow:
        start_inspections(uow, [other])
    answer_all(store)
    for d in PLAN.departments:
        record_answer(acting(store, at(11, 28), contact(d.code)), d.code, other, inspects=d.code == "SJ",
                      reason="" if d.code == "SJ" else "不涉及")
    sj, sw = store.officers["130110SJ001"], store.officers["130110SW001"]
    ids = {row["uscc"]: iid for iid, row in store.inspections.items()}
    store.team[ids[USCC]] = [team_member(sj), team_member(sw)]
    store.team[ids[other]] = [team_member(sj), team_member(sw)]
    for n, iid in enumerate(ids.values()):
        store.forms.add(iid)
        store.schedule[iid] = (date(2019, 12, 9 + n), 1)
    with acting(store, at(12, 3)) as uow:
        moved, refused = uow.move_many(uow.inspections.in_campaign(CODE, state="confirmed"), "assign")
    assert len(moved) == 2 and not refused
    mails = [m for m in store.outbox.values() if m.kind == "forms"]
    assert sorted(m.recipient for m in mails) == ["130110SJ001@x", "130110SW001@x"], "one mail per officer"
    for mail in mails:
        assert [v["uscc"] for v in mail.context["visits"]] == [USCC, other], "both enterprises, in visiting order"
        assert len(store.outbox_files[mail.key]) == 4, "each enterprise's 一企一表 as XLSX and DOCX, stored with it"


def test_a_substitute_alone_is_asked_and_mailed(store):
    from workflow.services.reactions import dispatch_to_officers

    iid = assigned(store)
    store.schedule[iid] = (date(2019, 12, 10), 1)
    newcomer = SimpleNamespace(certificate_no="130110SW002", department_code="SW", name="执法002", email="sw2@x",
                               certificate_valid_until=date(2025, 1, 1))
    store.officers[newcomer.certificate_no] = newcomer
    store.team[iid] = [team_member(store.officers["130110SJ001"]), team_member(newcomer)]
    before = {k for k, m in store.outbox.items() if m.kind == "forms"}
    with acting(store, at(12, 4)) as uow:
        dispatch_to_officers(uow, [uow.inspections.get(CODE, USCC)], only={"130110SW002"})
    new = [m for k, m in store.outbox.items() if m.kind == "forms" and k not in before]
    assert [m.recipient for m in new] == ["sw2@x"], "only the substitute, not the rest of the team again"
    assert store.tasks[task_key("acknowledge", CODE, certificate_no="130110SW002")].done_at is None
