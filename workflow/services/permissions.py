"""Who may act for a department, an officer or a team, checked against the directories (the rules: ``workflow.identity``).

A department's admin or contact, or an officer, acts for himself. An office
staff member acts for one of them explicitly (``--on-behalf-of`` with evidence
or a reason, ``uow.on_behalf``): recorded as who did it for whom, it stands for
the party's own act (its deadlines, not the office's). On a simulation database
the office may still act for a party without naming it, as before (recorded as
done on its behalf); on a real database that is refused — the only way is
explicit.
"""

from __future__ import annotations

from workflow.errors import NotFound, UserError
from workflow.identity import is_office_staff, is_team_member, same_identity
from workflow.inspection import Inspection


def acting_for(uow, party: str, own: bool, doing: str, refusal: str) -> tuple[bool, bool]:
    """Whether the actor may act for ``party`` (a department code or a certificate number): (on behalf, explicit).

    ``own``: the actor is the party (or its people); ``refusal``: what to say to someone who is neither the party
    nor the office. An explicit ``on_behalf`` must name this party and be made by a person of the staff directory."""
    on_behalf = uow.on_behalf
    if on_behalf is not None:
        if not on_behalf.names(party):
            raise UserError(f"--on-behalf-of {on_behalf.party}：本操作是{party}的，不是{on_behalf.party}的（不能{doing}）")
        if uow.staff.member(uow.actor) is None:
            raise UserError(f"只有办公室人员名录中的工作人员可以代为操作（--on-behalf-of）：“{uow.actor}”不在名录中")
        return True, True
    if own:
        return False, False
    if not is_office_staff(uow.plan, uow.actor):
        raise UserError(refusal)
    if not uow.simulation:
        raise UserError(f"办公室工作人员“{uow.actor}”代{party}{doing.removeprefix('代为')}，须明示：--on-behalf-of {party} "
                        "并用 --evidence 文件 或 --reason 理由 说明依据")
    return True, False


def department_actor(uow, department: str, doing: str):
    """The participating department's row, and whether the actor is its own admin or contact (else the office).

    Anyone else is refused: a department answers and submits for itself; the office may act for it
    (``acting_for``)."""
    plan = uow.plan
    dept = uow.directory.department(department)
    if dept is None or department not in plan.department_codes:
        raise NotFound(f"部门“{department}”没有参加抽查任务“{plan.code}”")
    own = any(same_identity(uow.actor, who) for who in (dept.admin_email, dept.contact_email))
    on_behalf, _ = acting_for(uow, department, own, doing,
                              f"“{uow.actor}”不是{dept.name}的管理员或联络人，也不是领导小组办公室的工作人员，不能{doing}")
    return dept, not on_behalf


def officer_actor(uow, certificate_no: str, doing: str) -> bool:
    """An officer acts for himself; the office for him (``acting_for``). Returns whether on his behalf."""
    own = same_identity(uow.actor, certificate_no)
    on_behalf, _ = acting_for(uow, certificate_no, own, doing,
                              f"“{uow.actor}”不是执法人员 {certificate_no} 本人，也不是领导小组办公室的工作人员")
    return on_behalf


def require_team(uow, inspection: Inspection, doing: str) -> None:
    """An officer acts only for his own team's enterprises (by certificate number or email); the office for any
    (on a real database naming the team's officer it acts for)."""
    team = uow.teams.emails(inspection.id)
    if uow.on_behalf is not None and not any(uow.on_behalf.names(cert) for cert in team):
        raise UserError(f"--on-behalf-of {uow.on_behalf.party}：不是企业 {inspection.uscc} 检查组的执法人员，不能代为{doing}")
    party = uow.on_behalf.party if uow.on_behalf is not None else f"企业 {inspection.uscc} 的检查组"
    acting_for(uow, party, is_team_member(uow.actor, team), doing,
               f"“{uow.actor}”不是企业 {inspection.uscc} 检查组的执法人员，也不是领导小组办公室的工作人员，不能{doing}")
