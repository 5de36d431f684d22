"""Who is acting: the office, a department's people, an officer (FORMATS.md: an email or a certificate number)."""

from __future__ import annotations

from workflow.campaign_file import CampaignPlan


def same_identity(a: str | None, b: str | None) -> bool:
    """Emails compare case-insensitively; certificate numbers exactly (they are digits)."""
    return bool(a and b) and a.strip().lower() == b.strip().lower()


def is_office_staff(plan: CampaignPlan, actor: str) -> bool:
    return any(same_identity(actor, who) for who in plan.office_staff)
