"""The column helpers the table definitions share: how the two engines differ
(:class:`Dialect`), the sync bookkeeping columns every synced table carries, the external
id columns, and the few column shapes several tables repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import JSON, TypeEngine, UserDefinedType

__all__ = [
    "ID_RANGE",
    "XID8",
    "Dialect",
    "Kind",
    "created_now",
    "external_id",
    "in_list",
    "owning_teacher",
    "sync_columns",
    "sync_index",
]

Kind = Literal["central", "local"]

# Server-assigned ids stay below this bound; laptops use device_no * ID_RANGE + n.
ID_RANGE = 1_000_000_000


class XID8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id type (``xid8``)."""

    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        return "xid8"


def in_list(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


@dataclass(frozen=True)
class Dialect:
    kind: Kind

    @property
    def central(self) -> bool:
        return self.kind == "central"

    def json(self) -> TypeEngine[object]:
        return postgresql.JSONB() if self.central else JSON()

    def now(self) -> TextClause:
        return text("now()") if self.central else text("CURRENT_TIMESTAMP")

    def digits_id(self, column: str, prefix: str) -> str:
        """CHECK that ``column`` is ``prefix`` followed by three or more digits."""
        if self.central:
            return f"{column} ~ '^{prefix}[0-9]{{3,}}$'"
        start = len(prefix) + 1
        return (
            f"{column} GLOB '{prefix}[0-9][0-9][0-9]*' "
            f"AND substr({column}, {start}) NOT GLOB '*[^0-9]*'"
        )

    def email(self, column: str) -> str:
        if self.central:
            return f"{column} ~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{{2,}}$'"
        return (
            f"{column} GLOB '?*@?*.[A-Za-z][A-Za-z]*' AND {column} NOT GLOB '*[^A-Za-z0-9._%+@-]*'"
        )

    def fk(self, target: str, ondelete: str | None = None) -> ForeignKey:
        """A foreign key; locally ``ON UPDATE CASCADE`` lets a store renumber its offline
        rows once, when it first registers with a server (server keys never change)."""
        return ForeignKey(target, ondelete=ondelete, onupdate=None if self.central else "CASCADE")

    def trimmed_not_empty(self, column: str) -> str:
        return f"LENGTH(TRIM({column})) > 0"

    def serial_id(self) -> Column[int]:
        """An integer id: server ids from an identity below :data:`ID_RANGE`, laptop ids
        minted by :mod:`sync.model.ids`."""
        if self.central:
            return Column("id", BigInteger, Identity(maxvalue=ID_RANGE - 1), primary_key=True)
        # INTEGER PRIMARY KEY makes the id SQLite's 64-bit rowid (no extra index).
        return Column("id", Integer, primary_key=True, autoincrement=False)

    def student_ref(self) -> Column[str]:
        """``student_id``: the student the row is about (goes with the student)."""
        return Column("student_id", String(10), self.fk("students.id", "CASCADE"))

    def teacher_ref(self, name: str) -> Column[str]:
        """A teacher who did something to the row (``corrected_by``, ``granted_by`` …)."""
        return Column(name, String(10), self.fk("teachers.id"))


def sync_columns(d: Dialect) -> list[Column[object]]:
    cols: list[Column[object]] = [
        Column("sync_hlc", BigInteger, nullable=False, server_default=text("0")),
        Column("sync_origin", Integer, nullable=False, server_default=text("0")),
        Column("sync_version", BigInteger, nullable=False, server_default=text("0")),
    ]
    if d.central:
        cols += [
            Column("sync_txid", XID8(), nullable=False),
            Column(
                "modified_at",
                DateTime(timezone=True),
                nullable=False,
                server_default=text("now()"),
            ),
        ]
    return cols


def sync_index(name: str, d: Dialect) -> list[Index]:
    if d.central:
        return [Index(f"ix_{name}_sync_txid", "sync_txid", "sync_version")]
    return []


def external_id(table: str) -> list[Column[object] | Index]:
    """The id a school's own system gives the row (central migration 0006, local schema v3).

    ``external_source`` names the system (``oneroster``, ``clever``, ``sis``) and
    ``external_id`` is that system's id for the person (a OneRoster ``identifier`` or
    ``sourcedId``, a Clever ``sis_id``): a number, a UUID or a user name, unique per source.
    Appended after the sync columns, where adding columns to an existing table puts them.
    """
    return [
        Column("external_source", String(40)),
        Column("external_id", String(255)),
        Index(f"ux_{table}_external", "external_source", "external_id", unique=True),
    ]


def owning_teacher() -> Column[str]:
    """``teacher_id`` of a central-only row that goes with its teacher."""
    return Column(
        "teacher_id",
        String(10),
        ForeignKey("teachers.id", ondelete="CASCADE"),
        nullable=False,
    )


def created_now() -> Column[object]:
    """``created_at`` of a central-only table (server time, with the time zone)."""
    return Column("created_at", DateTime(timezone=True), server_default=text("now()"))
