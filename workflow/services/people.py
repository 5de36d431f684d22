"""Who is behind each ladder step of a task: the responsible people, the department's contact and leader, the office."""

from __future__ import annotations


class People:
    """Looked up once per batch (teams: the batch's inspections when given, else the campaign's)."""

    def __init__(self, uow, inspection_ids: list[int] | None = None):
        self.plan = uow.plan
        self.departments = uow.directory.departments()
        self.officers = uow.directory.officers()
        counted = uow.teams.counted(campaign_code=self.plan.code, inspection_ids=inspection_ids)
        self.teams = {iid: [cert for cert, _ in members] for iid, members in counted.items()}
        self.office = self.plan.office_mailboxes

    def departments_of(self, task) -> list[str]:
        if task.department_code:
            return [task.department_code]
        if task.certificate_no and task.certificate_no in self.officers:
            return [self.officers[task.certificate_no].department_code]
        return sorted({self.officers[c].department_code for c in self.teams.get(task.inspection_id, ())
                       if c in self.officers})

    def recipients(self, step: str, task) -> list[str]:
        """The addresses a notice to ``step`` about ``task`` goes to (each once)."""
        return list(dict.fromkeys(self._recipients(step, task)))

    def _recipients(self, step: str, task) -> list[str]:
        if step == "office":
            return self.office
        if step == "responsible":
            if task.certificate_no:
                officer = self.officers.get(task.certificate_no)
                return [officer.email] if officer and officer.email else []
            if task.kind == "backfill":
                return [self.officers[c].email for c in self.teams.get(task.inspection_id, ())
                        if c in self.officers and self.officers[c].email]
            if task.kind == "publish":
                return self.office
        field = "leader_email" if step == "department_leader" else "contact_email"
        return [getattr(self.departments[d], field) for d in self.departments_of(task)
                if d in self.departments and getattr(self.departments[d], field)]
