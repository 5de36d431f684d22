"""How the flows are served: one set of deployments for every campaign (``ssj serve``, ``ssj deploy``).

- ``ssj-tick/期限检查``: the tick dispatcher on ``*/15 * * * *`` Beijing time (09:00, 09:15 …), plus one run
  when ``ssj serve`` starts;
- ``ssj-daily-report/逾期日报``: the daily report dispatcher at 08:30 Beijing time (each campaign's
  calendar skips non-working days);
- ``ssj-alert/告警``: no schedule; the automations run it (``flows/automations.py``).

Each dispatcher lists the active campaigns when it runs, so a campaign created while serving is
ticked by the next run, without a restart. The entrypoints are module paths of the installed
package (``flows.dispatch.tick_all``): a worker on another machine needs the package, not this
checkout. ``ssj serve`` never pauses the schedules when it stops, and a start re-activates them.
"""

from __future__ import annotations

import contextlib
import io
from uuid import UUID

from flows.automations import ALERT_DEPLOYMENT, alert, ensure_automations
from flows.dispatch import daily_report_all, tick_all

TICK, DAILY = "期限检查", "逾期日报"
TICK_CRON, DAILY_CRON, TIMEZONE = "*/15 * * * *", "30 8 * * *", "Asia/Shanghai"
FLOWS = {TICK: tick_all, DAILY: daily_report_all, ALERT_DEPLOYMENT: alert}
TAGS = ["ssj"]


def schedules() -> dict[str, object]:
    """Per dispatcher, its schedule in Beijing time: the tick on the quarter hours, the daily report at 08:30."""
    from prefect.schedules import Cron

    return {TICK: Cron(TICK_CRON, timezone=TIMEZONE), DAILY: Cron(DAILY_CRON, timezone=TIMEZONE)}


def parameters(codes: list[str], mail: bool) -> dict:
    """The dispatchers' parameters: ``codes`` (none: every active campaign), ``mail`` (False: --no-mail)."""
    return {"codes": list(codes), "mail": mail}


def deployments(codes: list[str] | tuple[str, ...] = (), mail: bool = True) -> list:
    """The deployments, as module-path entrypoints of the installed package; never paused."""
    from prefect.deployments.runner import EntrypointType

    when = schedules()
    built = []
    for name, flow_ in FLOWS.items():
        built.append(flow_.to_deployment(
            name=name, schedule=when.get(name), paused=False, tags=TAGS,
            parameters=parameters(list(codes), mail) if name in when else {},
            entrypoint_type=EntrypointType.MODULE_PATH, description=flow_.description))
    return built


def prefect_server() -> str:
    """The Prefect server ``ssj serve`` / ``ssj deploy`` register with: its dashboard's URL. Refused without
    ``PREFECT_API_URL`` (a temporary in-process API runs no scheduler and no automations: the schedules would never
    fire); a server that does not answer is said in Chinese, with what to check."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL

    from workflow.errors import CannotComplete, UserError

    url = PREFECT_API_URL.value()
    if not url:
        raise UserError("未设置 PREFECT_API_URL：ssj serve 和 ssj deploy 需要常驻的 Prefect 服务器（由它按日程创建运行、执行自动化）。"
                        "请先运行 prefect server start，再设置 export PREFECT_API_URL=http://127.0.0.1:4200/api")
    from prefect.exceptions import PrefectHTTPStatusError

    with get_client(sync_client=True) as client:
        problem = client.api_healthcheck()
        if problem is None:  # /health answers anyone; the rest of the API wants the auth string when one is set
            try:
                client.read_flows(limit=1)
            except PrefectHTTPStatusError as exc:
                if exc.response.status_code in (401, 403):
                    raise UserError(f"Prefect 服务器 {url} 拒绝了请求（{exc.response.status_code}）：请设置与服务器的 "
                                    "PREFECT_SERVER_API_AUTH_STRING 相同的 PREFECT_API_AUTH_STRING（格式 用户名:口令）。")
                problem = exc
    if problem is not None:
        raise CannotComplete(f"无法连接 Prefect 服务器 {url}（{type(problem).__name__}）：请确认 prefect server start 正在运行、"
                             "PREFECT_API_URL 正确；服务器设置了 PREFECT_SERVER_API_AUTH_STRING 时，"
                             "这里须设置相同的 PREFECT_API_AUTH_STRING。")
    return PREFECT_UI_URL.value() or url.removesuffix("/api")


def full_name(deployment) -> str:
    return f"{deployment.flow_name}/{deployment.name}"


def _alert_id(ids: dict[str, UUID]) -> UUID:
    return ids[ALERT_DEPLOYMENT]


def serve_all(codes: list[str], mail: bool, say=print) -> None:
    """``ssj serve``: register the deployments (re-activating them), the automations, one tick now, then serve
    until stopped — leaving the schedules active (``pause_on_shutdown=False``)."""
    from prefect import serve
    from prefect.client.orchestration import get_client

    served = deployments(codes, mail)
    ids = {d.name: d.apply() for d in served}
    for name, what in ensure_automations(_alert_id(ids)):
        say(f"自动化“{name}”{what}")
    with get_client(sync_client=True) as client:  # the tick at start-up (the cron's first is up to 15 minutes off)
        client.create_flow_run_from_deployment(ids[TICK], tags=TAGS)
    serve(*served, pause_on_shutdown=False, print_starting_message=False)


def ensure_pool(pool: str) -> bool:
    """The work pool, created (type process) when missing; whether it was created. A pool that cannot be created
    is refused in Chinese, with the command that creates it."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound

    from workflow.errors import UserError

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
            return False
        except ObjectNotFound:
            pass
        try:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
        except Exception as exc:
            raise UserError(f"工作池“{pool}”不存在，且无法创建（{exc}）；请先运行：prefect work-pool create {pool} --type process")
    return True


def deploy_to_pool(codes: list[str], pool: str, mail: bool, say=print) -> list[str]:
    """``ssj deploy``: the same deployments on a work pool, run by ``prefect worker start`` processes wherever the
    package is installed; the pool created when missing, the automations kept; returns the deployments' names."""
    from prefect import deploy

    if ensure_pool(pool):
        say(f"已创建工作池 {pool}（类型 process）")
    built = deployments(codes, mail)
    with contextlib.redirect_stdout(io.StringIO()):  # Prefect's English tables; ssj says it in Chinese
        ids = deploy(*built, work_pool_name=pool, build=False, push=False, print_next_steps_message=False,
                     ignore_warnings=True)
    by_name = dict(zip((d.name for d in built), ids))
    for name, what in ensure_automations(_alert_id(by_name)):
        say(f"自动化“{name}”{what}")
    return [full_name(d) for d in built]
