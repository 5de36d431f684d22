"""A tick's notices as Prefect events: one each in an ordinary tick, one per group in a wave (flows/events.py)."""

from datetime import datetime, timezone

from flows.events import ESCALATED_TO_OFFICE, NOTICE_EVENTS, sweep_events

NOW = datetime(2019, 12, 2, 8, 0, tzinfo=timezone.utc)
NAMES = {"SJ": "鹿泉区市场监督管理局", "SW": "国家税务总局石家庄市鹿泉区税务局"}


def _notice(n: int, department: str, step: str = "department", kind: str = "confirm") -> dict:
    return {"task": f"t{n}", "stage": "overdue", "step": step, "level": 2, "recipients": ["a@x.example"],
            "task_id": n, "kind": kind, "uscc": f"91130110{n:010d}", "departments": [department],
            "enterprise": f"企业{n}", "due": datetime(2019, 11, 29, 8 + n % 3, 0, tzinfo=timezone.utc),
            "provisional": False, "campaign_name": "联合抽查", "department_names": NAMES}


def test_an_ordinary_tick_announces_each_notice_with_its_enterprise():
    events = sweep_events("c", NOW, [], [], [_notice(n, "SJ") for n in range(3)])
    assert [e["payload"]["企业"] for e in events] == ["企业0", "企业1", "企业2"]
    assert all(e["resource"]["prefect.resource.id"].startswith("ssj.inspection.c.") for e in events)


def test_a_wave_is_announced_per_department_kind_and_step_with_how_many():
    wave = ([_notice(n, "SJ") for n in range(900)] + [_notice(n, "SW") for n in range(900, 1500)]
            + [_notice(n, "SW", step="office") for n in range(1500, 1520)])
    assert len(wave) > NOTICE_EVENTS
    events = sweep_events("c", NOW, [], [], wave)
    notices = [e for e in events if e["event"] == "ssj.task.overdue"]
    assert sorted(e["payload"]["项数"] for e in notices) == [20, 600, 900]
    assert sum(e["payload"]["项数"] for e in notices) == len(wave), "every notice counted once"
    sj = next(e for e in notices if e["payload"]["部门"] == NAMES["SJ"])
    assert sj["resource"] == {"prefect.resource.id": "ssj.department.SJ", "prefect.resource.name": NAMES["SJ"]}
    assert sj["payload"]["企业"] == "900 户" and sj["payload"]["截止"] == "2019年11月29日（星期五）16:00前", "the earliest"
    assert "本次共 1520 项通知" in sj["payload"]["说明"]
    [office] = [e for e in events if e["event"] == ESCALATED_TO_OFFICE]
    assert office["payload"]["项数"] == 20 and office["related"][0]["prefect.resource.id"] == "ssj.department.SW"
    assert all(all(ord(k[0]) > 127 for k in e["payload"]) for e in events), "Chinese labels"
