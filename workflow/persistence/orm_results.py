"""The back-filled results: one row per item of an enterprise's 一企一表, and its codes and handlings as sets of
rows (never a comma string). Part of ``orm``'s metadata (imported at its end)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, ForeignKeyConstraint, Integer, String, Text

from workflow.persistence.declared import INSTANT, WHO, Base, counted


class ItemResultRow(Base):
    """The back-filled result of one item of one enterprise's 一企一表."""

    __tablename__ = "item_results"

    inspection_id = Column(ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True)
    item_code = Column(ForeignKey("inspection_items.code"), primary_key=True)
    finding = Column(Text)
    method = Column(String(200))
    handling_note = Column(Text)
    questions = Column(Integer, default=0, nullable=False)
    recorded_at = Column(INSTANT, nullable=False)
    recorded_by = Column(WHO, nullable=False)
    # What the statistics count it for, as ``ItemResult`` decides from its codes and handlings (migration 0014).
    problem = counted()
    orders_correction = counted()
    abnormal = counted()
    opens_case = counted()


def _of_an_item_result() -> tuple:
    """The key of a row of a set kept per item result (one row per member, never a comma string): its item
    result's, deleted with it."""
    return (ForeignKeyConstraint(["inspection_id", "item_code"],
                                 ["item_results.inspection_id", "item_results.item_code"], ondelete="CASCADE"),)


class ResultCode(Base):
    """One result code of an item."""

    __tablename__ = "result_codes"
    __table_args__ = _of_an_item_result()

    inspection_id = Column(Integer, primary_key=True)
    item_code = Column(String(64), primary_key=True)
    code = Column(String(1), primary_key=True)


class ResultHandling(Base):
    """One follow-up handling (后续处置, 1–7) of an item."""

    __tablename__ = "result_handlings"
    __table_args__ = _of_an_item_result()

    inspection_id = Column(Integer, primary_key=True)
    item_code = Column(String(64), primary_key=True)
    handling = Column(Integer, primary_key=True)
