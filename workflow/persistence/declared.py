"""How a table is declared here: as a class whose ``Column`` attributes are its columns (``Base``), with the
constraint names every migration relies on (``NAMING``) and the kinds of value many tables keep.

Plain SQLAlchemy Core: nothing is ever loaded as an object — the repositories read and write rows — and importing
the ORM and mapping the tables' classes cost every command about 0.15 s of start-up, a fifth of an idle
``ssj tick``.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Boolean, Column, MetaData, String, Table, false

from workflow.persistence.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base:
    """A table declared as a class: its ``Column`` attributes are the table's columns (the class's own in order,
    then each mixin's), ``__table_args__`` its constraints and indexes. The class then holds the table's columns
    (``Campaign.code`` is the column) and the table (``__table__``), and stands for the table in a statement
    (``select(Campaign)`` reads every column, ``insert(TaskRow)`` writes one)."""

    metadata = MetaData(naming_convention=NAMING)
    __tablename__: ClassVar[str]
    __table__: ClassVar[Table]
    __table_args__: ClassVar[tuple] = ()

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "__tablename__" not in vars(cls):
            return  # a mixin: its columns are copied into each table declared with it
        columns: dict[str, Column] = {}
        for owner in cls.__mro__:
            for name, value in vars(owner).items():
                if isinstance(value, Column) and name not in columns:
                    column = columns[name] = value if owner is cls else value._copy()  # a column has one table
                    column.name = column.key = name
        cls.__table__ = Table(cls.__tablename__, cls.metadata, *columns.values(), *cls.__table_args__)
        for column in cls.__table__.columns:
            setattr(cls, column.key, column)

    @classmethod
    def __clause_element__(cls) -> Table:
        """What SQLAlchemy reads when the class stands for its table in a statement."""
        return cls.__table__


# The kinds of value many tables keep, each declared once.
INSTANT = UTCDateTime()  # aware in, aware UTC out
WHO = String(254)  # an identity: an email or a certificate number (FORMATS.md)
DIGEST = String(64)  # a SHA-256, hex
PERSON_NAME = String(50)
EMAIL = String(254)
PHONE = String(40)


def counted() -> Column:
    """A statistics flag (``item_results``): what a result counts for, false unless set."""
    return Column(Boolean, nullable=False, default=False, server_default=false())
