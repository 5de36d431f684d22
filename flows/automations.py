"""The automations an office needs, kept on the Prefect server by ``ssj serve`` and ``ssj deploy``.

Each is found by its name and updated, never created twice. What each does (Prefect's
open-source server's own actions):

- always: run the ``ssj-alert/告警`` deployment, whose run is named ``告警：<what>``, ends
  Failed (red on the dashboard's home page) and publishes the ``ssj-alerts`` artifact; when no
  process serves it (the very case of "no tick for an hour" with ``ssj serve`` down) the run
  still shows, as Late;
- when the office names a robot webhook in ``SSJ_ALERT_WEBHOOK`` (钉钉 / 企业微信 group robot, any
  URL taking ``{"msgtype": "text", "text": {"content": …}}``): also send a notification there,
  through a custom-webhook notification block the server calls itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from prefect import flow, get_run_logger, runtime
from prefect.artifacts import create_markdown_artifact
from prefect.states import Failed

from calendars import BEIJING
from flows.events import ESCALATED_TO_OFFICE, MAIL_FAILING_FOR_AN_HOUR, MAILBOX_UNREADABLE, TICK_RAN

WEBHOOK_ENV = "SSJ_ALERT_WEBHOOK"
WEBHOOK_BLOCK = "ssj-alert-webhook"
ALERT_FLOW, ALERT_DEPLOYMENT = "ssj-alert", "告警"
TAG = "ssj"


@flow(name=ALERT_FLOW, flow_run_name=lambda: f"告警：{(runtime.flow_run.parameters or {}).get('title', '')}",
      description="抽查任务告警（由自动化触发）：在看板上留下一条失败的运行和“ssj-alerts”报告，提醒办公室处理。")
def alert(title: str, detail: str = ""):
    """Left visible on purpose: a Failed run on the home page, the newest alert in the ``ssj-alerts`` artifact."""
    at = datetime.now(BEIJING)
    get_run_logger().warning("告警：%s。%s", title, detail)
    create_markdown_artifact(key="ssj-alerts", markdown=f"## 告警：{title}\n\n{detail}\n\n时间：{at:%Y-%m-%d %H:%M}",
                             description=f"告警：{title}（{at:%m-%d %H:%M}）")
    return Failed(message=f"告警：{title}。{detail}")


@dataclass(frozen=True)
class Wanted:
    name: str
    description: str
    title: str
    detail: str  # a Jinja template the server renders with the triggering event
    expect: str
    proactive: bool = False


WANTED = (
    Wanted("抽查任务：通知已升级到领导小组办公室",
           "一项通知逐级升级到领导小组办公室（事件 ssj.notice.escalated-to-office）：办公室需要直接督办。",
           "通知已升级到办公室", "{{ event.resource.name }}",
           ESCALATED_TO_OFFICE),
    Wanted("抽查任务：邮件发送失败超过一小时",
           "最早一封未发出的邮件已失败一小时以上（事件 ssj.mail.failing-for-an-hour）：检查邮件服务器设置（SSJ_SMTP_HOST 等）。",
           "邮件发送失败超过一小时", "{{ event.resource.name }}",
           MAIL_FAILING_FOR_AN_HOUR),
    Wanted("抽查任务：办公室邮箱无法读取",
           "期限检查未能读取办公室邮箱（事件 ssj.mailbox.unreadable）：各部门和执法人员的回复留在邮箱中未登记，"
           "检查收件服务器设置（SSJ_IMAP_HOST 等）。",
           "办公室邮箱无法读取", "{{ event.resource.name }}：{{ event.payload.error }}",
           MAILBOX_UNREADABLE),
    Wanted("抽查任务：期限检查一小时未完成",
           "一小时内没有一次期限检查完成（缺少事件 ssj.tick.ran）：ssj serve 或工作进程可能已停止，或数据库无法连接。",
           "期限检查一小时未完成", "一小时内没有完成任何一次期限检查：请检查 ssj serve（或 prefect worker）是否在运行。",
           TICK_RAN, proactive=True),
)


def _notification_block(url: str) -> UUID:
    """The office's robot webhook as a notification block (saved under one name, overwritten)."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    block = CustomWebhookNotificationBlock(name="抽查任务告警", url=url, method="POST",
                                           json_data={"msgtype": "text", "text": {"content": "{{subject}}\n{{body}}"}})
    return block.save(WEBHOOK_BLOCK, overwrite=True)


def _automation(wanted: Wanted, alert_deployment_id: UUID, block_id: UUID | None):
    from prefect.events.actions import RunDeployment, SendNotification
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    trigger = EventTrigger(expect={wanted.expect}, posture=Posture.Proactive if wanted.proactive else Posture.Reactive,
                           threshold=1, within=3600 if wanted.proactive else 0)
    actions = [RunDeployment(source="selected", deployment_id=alert_deployment_id,
                             parameters={"title": wanted.title, "detail": wanted.detail})]
    if block_id is not None:
        actions.append(SendNotification(block_document_id=block_id, subject=f"抽查任务告警：{wanted.title}",
                                        body=wanted.detail))
    return AutomationCore(name=wanted.name, description=wanted.description, enabled=True, tags=[TAG],
                          trigger=trigger, actions=actions)


def ensure_automations(alert_deployment_id: UUID, environ=os.environ) -> list[tuple[str, str]]:
    """Create or update each automation by name (a duplicate left by anything else is removed);
    (name, "已创建" | "已更新") for each."""
    from prefect.client.orchestration import get_client

    webhook = (environ.get(WEBHOOK_ENV) or "").strip()
    block_id = _notification_block(webhook) if webhook else None
    done = []
    with get_client(sync_client=True) as client:
        for wanted in WANTED:
            automation = _automation(wanted, alert_deployment_id, block_id)
            existing = client.read_automations_by_name(wanted.name)
            if existing:
                first, *extra = sorted(existing, key=lambda a: str(a.id))
                client.update_automation(first.id, automation)
                for duplicate in extra:
                    client.delete_automation(duplicate.id)
                done.append((wanted.name, "已更新"))
            else:
                client.create_automation(automation)
                done.append((wanted.name, "已创建"))
    return done
