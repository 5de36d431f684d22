"""Column types that keep the database's values exact: instants in UTC, money in 万元 without float error."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Numeric
from sqlalchemy.types import TypeDecorator

from workflow.directory import plain_decimal


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime cannot be stored: give it a timezone")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Money(TypeDecorator):
    """A decimal amount in 万元, exact on PostgreSQL and on SQLite alike."""

    impl = Numeric(18, 6, asdecimal=False)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect) -> Any:
        if value is None:
            return None
        return value if dialect.name != "sqlite" else float(value)

    def process_result_value(self, value: Any, dialect) -> Decimal | None:
        if value is None:
            return None
        return plain_decimal(Decimal(repr(value)) if isinstance(value, float) else Decimal(value))
