"""The back-filled results: one row per item of an enterprise's 一企一表, and its codes and handlings as sets of
rows (never a comma string). Part of ``orm``'s metadata (imported at its end)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from workflow.persistence.orm import Base, Counted, Instant, Who


class ItemResultRow(Base):
    """The back-filled result of one item of one enterprise's 一企一表."""

    __tablename__ = "item_results"

    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True)
    item_code: Mapped[str] = mapped_column(ForeignKey("inspection_items.code"), primary_key=True)
    finding: Mapped[str | None] = mapped_column(Text)
    method: Mapped[str | None] = mapped_column(String(200))
    handling_note: Mapped[str | None] = mapped_column(Text)
    questions: Mapped[int] = mapped_column(Integer, default=0)
    recorded_at: Mapped[Instant]
    recorded_by: Mapped[Who]
    # What the statistics count it for, as ``ItemResult`` decides from its codes and handlings (migration 0014).
    problem: Mapped[Counted]
    orders_correction: Mapped[Counted]
    abnormal: Mapped[Counted]
    opens_case: Mapped[Counted]


class _MemberOfAnItemResult:
    """A row of a set kept per item result: one row per member, never a comma string."""

    @declared_attr.directive
    def __table_args__(cls) -> tuple:
        return (ForeignKeyConstraint(["inspection_id", "item_code"],
                                     ["item_results.inspection_id", "item_results.item_code"], ondelete="CASCADE"),)

    inspection_id: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-2)
    item_code: Mapped[str] = mapped_column(String(64), primary_key=True, sort_order=-1)


class ResultCode(_MemberOfAnItemResult, Base):
    """One result code of an item."""

    __tablename__ = "result_codes"
    code: Mapped[str] = mapped_column(String(1), primary_key=True)


class ResultHandling(_MemberOfAnItemResult, Base):
    """One follow-up handling (后续处置, 1–7) of an item."""

    __tablename__ = "result_handlings"
    handling: Mapped[int] = mapped_column(Integer, primary_key=True)
