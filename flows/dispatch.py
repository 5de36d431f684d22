"""The dispatchers ``ssj serve`` and ``ssj deploy`` schedule: one flow per schedule that covers every active campaign.

At each run the dispatcher asks which campaigns are active (a ``workflow`` service: a campaign
created since the last run is in, a finished one is said once and left out) and runs the
campaign's own flow for each as a subflow named for the office (``<code> 期限检查 <MM-DD HH:MM>``,
``<code> 逾期日报 <YYYY-MM-DD>``, Beijing time) and tagged with the campaign's code. One
campaign's failure does not stop the others; the dispatcher then ends Failed naming them.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger, runtime, tags, task
from prefect.states import Failed

from calendars import BEIJING
from flows.common import database, flow_now
from flows.daily_report import daily_overdue_report
from flows.events import TICK_RAN, campaign_resource, emit
from flows.pruning import REPORT_FLOWS, prune_old_runs
from flows.tick import campaign_tick
from workflow.identity import SYSTEM
from workflow.persistence.database import database_url
from workflow.services.campaigns import active_campaigns
from workflow.services.uow import UnitOfWork

CAMPAIGN_FINISHED = "ssj.campaign.finished"  # said once per campaign, by the dispatcher that found it finished
ALL = "全部进行中的抽查任务"


def tick_run_name(code: str, when: datetime) -> str:
    """A campaign's tick run as the office reads it in the run list (Beijing time): ``<code> 期限检查 <MM-DD HH:MM>``."""
    return f"{code} 期限检查 {when.astimezone(BEIJING):%m-%d %H:%M}"


def report_run_name(code: str, when: datetime) -> str:
    """A campaign's daily report run: ``<code> 逾期日报 <YYYY-MM-DD>`` (Beijing date)."""
    return f"{code} 逾期日报 {when.astimezone(BEIJING):%Y-%m-%d}"


def _scope(codes: list[str] | None) -> str:
    return "、".join(codes) if codes else ALL


def _run_name(what: str, pattern: str):
    """The dispatcher run's own name: what, when (Beijing time, the simulated instant when one is given), for whom."""
    def name() -> str:
        parameters = runtime.flow_run.parameters or {}
        when = flow_now(parameters.get("now"))
        return f"{what} {when:{pattern}}（{_scope(parameters.get('codes'))}）"
    return name


@task(name="列出进行中的抽查任务")
def list_active(url: str, when: datetime, codes: list[str] | None) -> list[str]:
    """The active campaigns; one that finished is announced here, once (log line and event)."""
    with database(url) as engine:
        activity = active_campaigns(UnitOfWork(engine, now=when, actor=SYSTEM), codes or ())
    logger = get_run_logger()
    for done in activity.finished:
        logger.info("%s", done.note)
        emit(CAMPAIGN_FINISHED, campaign_resource(done.code, done.name), payload={"说明": done.note}, occurred=when)
    if not activity.active:
        logger.info("没有需要推进的抽查任务（%s）", _scope(codes))
    return activity.active


def _escaped(name: str) -> str:
    """A fixed run name: Prefect formats ``flow_run_name`` with the parameters, so braces are doubled."""
    return name.replace("{", "{{").replace("}", "}}")


def run_for_campaign(subflow, code: str, name: str, **parameters):
    """One campaign's flow run as the office finds it on the board: named ``name``, tagged with the code; its state."""
    with tags(code, "ssj"):
        return subflow.with_options(flow_run_name=_escaped(name))(code=code, return_state=True, **parameters)


def _each(codes: list[str], subflow, run_name, **parameters) -> tuple[list[str], list[str]]:
    """Run ``subflow`` for each campaign, tagged with its code; (succeeded, failed). A failure stops nothing."""
    logger = get_run_logger()
    done, failed = [], []
    for code in codes:
        try:
            state = run_for_campaign(subflow, code, run_name(code), **parameters)
            ok = not (state.is_failed() or state.is_crashed() or state.is_cancelled())
            message = state.message
        except Exception as exc:  # the subflow could not even start: the others still run
            ok, message = False, f"{type(exc).__name__}: {exc}"
        (done if ok else failed).append(code)
        if not ok:
            logger.error("抽查任务 %s 未能完成：%s", code, message or "见该子流程的日志")
    return done, failed


@flow(name="ssj-tick", flow_run_name=_run_name("期限检查", "%m-%d %H:%M"),
      description="期限检查调度（每 15 分钟，北京时间整刻）：逐个推进进行中的抽查任务（子流程“<任务编号> 期限检查 <时间>”），"
                  "已完成的任务不再推进；最后清理旧的运行记录。")
def tick_all(codes: list[str] | None = None, mail: bool = True, now: str | None = None, url: str | None = None,
             keep_days: int = 7, keep_failed_days: int = 30):
    """``codes``: only these campaigns (``ssj serve CODE…``), none = every active one; ``mail=False``: --no-mail;
    ``now``: a simulated instant (tests, the demo). Old runs of the tick are pruned at the end."""
    url = url or database_url()
    when = flow_now(now, url)
    active = list_active(url, when, codes)
    stamp = when.astimezone(BEIJING)
    done, failed = _each(active, campaign_tick, lambda code: tick_run_name(code, when), now=now, url=url, mail=mail)
    emit(TICK_RAN, {"prefect.resource.id": "ssj.tick", "prefect.resource.name": "期限检查调度"},
         payload={"推进": done, "失败": failed, "时间": f"{stamp:%Y-%m-%d %H:%M}"})
    prune_old_runs(keep_days, keep_failed_days)
    if failed:
        return Failed(message=f"期限检查未完成的抽查任务 {len(failed)} 个：{'、'.join(failed)}（详见各自的子流程）")
    return {"ticked": done, "failed": failed}


@flow(name="ssj-daily-report", flow_run_name=_run_name("逾期日报", "%Y-%m-%d"),
      description="逾期日报调度（每天 08:30，北京时间；非工作日由各任务的工作日历跳过）：逐个生成进行中的抽查任务的逾期部门报告"
                  "（子流程“<任务编号> 逾期日报 <日期>”）。")
def daily_report_all(codes: list[str] | None = None, mail: bool = True, now: str | None = None,
                     url: str | None = None, keep_days: int = 90, keep_failed_days: int = 180):
    """Each campaign's report file goes to its own folder (``<SSJ_FILES_DIR>/<code>/报表/``), never the working
    directory: two campaigns' reports of one day never overwrite each other."""
    url = url or database_url()
    when = flow_now(now, url)
    active = list_active(url, when, codes)
    done, failed = _each(active, daily_overdue_report, lambda code: report_run_name(code, when),
                         now=now, url=url, mail=mail)
    prune_old_runs(keep_days, keep_failed_days, REPORT_FLOWS)
    if failed:
        return Failed(message=f"逾期日报未完成的抽查任务 {len(failed)} 个：{'、'.join(failed)}（详见各自的子流程）")
    return {"reported": done, "failed": failed}
