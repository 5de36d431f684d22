"""Who may act for a department or a team, checked against the directories (the rules: ``workflow.identity``)."""

from __future__ import annotations

from workflow.errors import NotFound, UserError
from workflow.identity import is_office_staff, is_team_member, same_identity
from workflow.inspection import Inspection


def department_actor(uow, department: str, doing: str):
    """The participating department's row, and whether the actor is its own admin or contact (else the office).

    Anyone else is refused: a department answers and submits for itself; the office may act for it.
    """
    plan = uow.plan
    dept = uow.directory.department(department)
    if dept is None or department not in plan.department_codes:
        raise NotFound(f"部门“{department}”没有参加抽查任务“{plan.code}”")
    own = any(same_identity(uow.actor, who) for who in (dept.admin_email, dept.contact_email))
    if not own and not is_office_staff(plan, uow.actor):
        raise UserError(f"“{uow.actor}”不是{dept.name}的管理员或联络人，也不是领导小组办公室的工作人员，不能{doing}")
    return dept, own


def require_team(uow, inspection: Inspection, doing: str) -> None:
    """An officer acts only for his own team's enterprises (by certificate number or email); the office for any."""
    if is_office_staff(uow.plan, uow.actor):
        return
    if not is_team_member(uow.actor, uow.teams.emails(inspection.id)):
        raise UserError(f"“{uow.actor}”不是企业 {inspection.uscc} 检查组的执法人员，也不是领导小组办公室的工作人员，"
                        f"不能{doing}")
