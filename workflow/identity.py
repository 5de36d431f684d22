"""Who is acting: the office, a department's people, an officer (FORMATS.md: an email or a certificate number).

The office (the campaign's ``office_staff``, every one of them in the ``staff``
directory) may do everything and act on a department's or an officer's behalf
(recorded as such: ``OnBehalf``); a department's admin or contact acts only for
that department; an officer only for his team's enterprises. ``SYSTEM`` is the
product's own timeline (the tick): it may take the steps the campaign file
schedules, and no person can sign as it.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.campaign_plan import CampaignPlan
from workflow.errors import UserError

SYSTEM = "ssj"


@dataclass(frozen=True)
class OnBehalf:
    """An office staff member acting for a department (its code) or an officer (his certificate number), with the
    ground: a file received (its name and SHA-256) or a reason. Every audit row of the act carries it."""

    party: str
    evidence_name: str | None = None
    evidence_sha256: str | None = None
    reason: str | None = None

    def __post_init__(self):
        if (self.evidence_sha256 is None) == (self.reason is None):
            raise UserError("代为操作（--on-behalf-of）须给出 --evidence 文件 或 --reason 理由（二者选一）")

    def names(self, party: str) -> bool:
        return same_identity(self.party, party)

    def payload(self) -> dict:
        ground = ({"on_behalf_evidence": {"file": self.evidence_name, "sha256": self.evidence_sha256}}
                  if self.evidence_sha256 else {"on_behalf_reason": self.reason})
        return {"on_behalf_of": self.party, **ground}


def same_identity(a: str | None, b: str | None) -> bool:
    """Emails compare case-insensitively; certificate numbers exactly (they are digits)."""
    return bool(a and b) and a.strip().lower() == b.strip().lower()


def is_office_staff(plan: CampaignPlan, actor: str) -> bool:
    return any(same_identity(actor, who) for who in plan.office_staff)


def require_office(plan: CampaignPlan, actor: str, doing: str, *, system_may: bool = False) -> None:
    """Refuse anyone but the office (and, for scheduled steps, the tick)."""
    if is_office_staff(plan, actor) or (system_may and actor == SYSTEM):
        return
    raise UserError(f"只有领导小组办公室可以{doing}：“{actor}”不是抽查任务“{plan.code}”的办公室工作人员（office_staff）")


def is_team_member(actor: str, team: dict[str, str | None]) -> bool:
    """``team``: certificate number → the officer's email; the actor is either."""
    return any(same_identity(actor, cert) or same_identity(actor, email) for cert, email in team.items())
