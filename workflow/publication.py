"""What the public sees: the exchange record per enterprise and the notice's title (SPEC.md §1.8).

Only the enterprise and the results — never an officer's name, mobile or
certificate number, nor the legal representative's name or phone.
"""

from __future__ import annotations

from workflow.campaign_plan import CampaignPlan

EXCHANGE_KEYS = ("抽查计划编号", "抽查计划名称", "抽查任务编号", "抽查任务名称", "抽查类型", "检查机关", "企业名称",
                 "统一社会信用代码", "检查完成日期", "检查结果", "备注")
INSPECTION_TYPE = "部门联合双随机抽查"


def notice_title(plan: CampaignPlan) -> str:
    return f"{plan.office}{plan.window_from.year}年度第{plan.notice_no}号抽查任务检查结果公告"


def exchange_record(plan: CampaignPlan, *, enterprise: str, uscc: str, departments: list[str], finished: str,
                    results: list[str], remark: str = "") -> dict[str, str]:
    """One enterprise's line of the file for the national enterprise credit publicity system."""
    return dict(zip(EXCHANGE_KEYS, (plan.plan_no, plan.plan_name, plan.task_no, plan.name, INSPECTION_TYPE,
                                    "、".join(departments), enterprise, uscc, finished, "；".join(results), remark)))
