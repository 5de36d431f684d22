"""Who is behind each ladder step of a task: the responsible people, the department's contact and leader, the office.

The responsible people are those who do the work: an officer for his acknowledgement,
the team's officers for a back-fill, the office for the publication, the department's
administrator (管理员, who does the 比对确认 in the seed) for a confirmation, and the
department's contact for what the department reports (the stamped confirmation
report, the summary). A step whose people are the step before's, or nobody, is
skipped (``skipped``): every escalation reaches someone new and higher.
"""

from __future__ import annotations

from dataclasses import dataclass

OFFICE_NAME = "领导小组办公室"
ROLE_OF_STEP = {"department_contact": "联络人", "department_leader": "分管领导"}


@dataclass(frozen=True)
class Person:
    """A recipient as a letter addresses him: his name and role where the directory knows them."""

    email: str
    name: str = ""
    role: str = ""  # 管理员, 联络人, 分管领导, 执法人员 …
    organisation: str = ""  # his department's name, or the office



def _mailbox(email: str) -> str:
    """Addresses typed in other capitals are one mailbox (as ``identity.same_identity`` compares them)."""
    return email.strip().lower()


class People:
    """Looked up once per batch (teams: the batch's inspections when given, else the campaign's)."""

    def __init__(self, uow, inspection_ids: list[int] | None = None, directory: tuple[dict, dict] | None = None):
        """``directory``: the departments and officers by code, when the caller has read them already (a sweep
        reads them once, not for each of its batches)."""
        self.plan = uow.plan
        self.departments, self.officers = directory or (uow.directory.departments(), uow.directory.officers())
        counted = uow.teams.counted(campaign_code=self.plan.code, inspection_ids=inspection_ids)
        self.teams = {iid: [cert for cert, _ in members] for iid, members in counted.items()}
        self.office = self.plan.office_mailboxes
        self._found: dict[tuple, list[Person]] = {}  # tasks share their people by the thousand: looked up once
        self._skipped: dict[tuple, frozenset[str]] = {}

    @staticmethod
    def _whose(task) -> tuple:
        """What decides a task's people: its kind, department, officer, and for a back-fill its team."""
        return task.kind, task.department_code, task.certificate_no, \
            task.inspection_id if task.kind == "backfill" else None

    def departments_of(self, task) -> list[str]:
        if task.department_code:
            return [task.department_code]
        if task.certificate_no and task.certificate_no in self.officers:
            return [self.officers[task.certificate_no].department_code]
        return sorted({self.officers[c].department_code for c in self.teams.get(task.inspection_id, ())
                       if c in self.officers})

    def recipients(self, step: str, task) -> list[str]:
        """The addresses a notice to ``step`` about ``task`` goes to (each once)."""
        return [p.email for p in self.at_step(step, task)]

    def at_step(self, step: str, task) -> list[Person]:
        """The people a notice to ``step`` about ``task`` reaches (each address once)."""
        key = (step, *self._whose(task))
        if key not in self._found:
            found: dict[str, Person] = {}
            for person in self._at_step(step, task):
                if person is not None and person.email and _mailbox(person.email) not in found:
                    found[_mailbox(person.email)] = person
            self._found[key] = list(found.values())
        return self._found[key]

    def skipped(self, task) -> frozenset[str]:
        """The escalation steps ``task`` passes over: nobody there, or the same people as the step before."""
        key = self._whose(task)
        if key not in self._skipped:
            self._skipped[key] = self._passed_over(task)
        return self._skipped[key]

    def _passed_over(self, task) -> frozenset[str]:
        ladder = self.plan.escalation.ladder
        before = {_mailbox(e) for e in self.recipients(ladder[0], task)}
        skip = set()
        for step in ladder[1:]:
            now = {_mailbox(e) for e in self.recipients(step, task)}
            if not now or now <= before:
                skip.add(step)
                continue
            before = now
        return frozenset(skip)

    def office_people(self) -> list[Person]:
        return [Person(e, "", "", OFFICE_NAME) for e in self.office]

    def _department_person(self, code: str, role: str) -> Person | None:
        dep = self.departments.get(code)
        if dep is None:
            return None
        email, name = {"管理员": (dep.admin_email, dep.admin_name), "联络人": (dep.contact_email, dep.contact_name),
                       "分管领导": (dep.leader_email, dep.leader_name)}[role]
        return Person(email, name or "", role, dep.name) if email else None

    def _officer(self, cert: str) -> Person | None:
        officer = self.officers.get(cert)
        if officer is None or not officer.email:
            return None
        department = self.departments.get(officer.department_code)
        return Person(officer.email, officer.name, "执法人员", department.name if department else "")

    def _at_step(self, step: str, task) -> list[Person | None]:
        if step == "office":
            return self.office_people()
        office_work = task.kind == "publish"  # the office publishes: nobody in a department answers for it
        if step == "responsible":
            if task.certificate_no:
                return [self._officer(task.certificate_no)]
            if task.kind == "backfill":
                return [self._officer(c) for c in self.teams.get(task.inspection_id, ())]
            if office_work:
                return self.office_people()
            first, fallback = ("管理员", "联络人") if task.kind == "confirm" else ("联络人", "管理员")
            return [self._department_person(d, first) or self._department_person(d, fallback)
                    for d in self.departments_of(task)]
        if office_work:
            return []
        return [self._department_person(d, ROLE_OF_STEP.get(step, "联络人")) for d in self.departments_of(task)]
