"""The one definition of the Flourish tables.

:func:`build` writes the tables of seeds 000/001 (reconciled as ``sql/README.md`` explains)
into a :class:`~sqlalchemy.MetaData`, either for the central PostgreSQL database
(``kind="central"``) or for the teacher's local SQLite mirror (``kind="local"``). The two
differ only where the engines must: regular expressions become GLOB patterns, JSONB becomes
JSON, and each side carries the sync bookkeeping only it needs. :data:`CENTRAL` and
:data:`LOCAL` are the two built schemas; Alembic migrations and the local store both come
from them, and tests prove the migrated database has no drift from :data:`CENTRAL`.

The tables live by area: :mod:`sync.model.school_tables` (the seven tables of seed 000),
:mod:`sync.model.sync_tables` (the sync bookkeeping), :mod:`sync.model.account_tables`
(the service's sign-in tables); the column helpers they share are in
:mod:`sync.model.columns`.

Sync bookkeeping on every synced table (see ``sync/README`` in ``sql/README.md``):

* ``sync_hlc`` — hybrid logical clock of the last write (milliseconds << 16 | counter); the
  timestamp of timestamp-wins.
* ``sync_origin`` — device number that wrote it (0 = the server itself); breaks HLC ties.
* ``sync_version`` — server change version from ``sync_version_seq`` (0 locally until the
  row has been seen on the server).
* central only: ``sync_txid`` (the writing transaction, ``xid8``: the commit-safe pull cursor)
  and ``modified_at`` (server wall clock of the last change).

Row identity is the primary key itself: the server's sequences stay below 10**9 and each
registered laptop creates ids in its own range ``device_no * 10**9 + n``, so rows born offline
never collide (see :mod:`sync.model.ids`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import MetaData, Table
from sqlalchemy.dialects import postgresql

from sync.model.columns import ID_RANGE, XID8, Dialect, Kind
from sync.model.school_tables import add_school_tables
from sync.model.sync_tables import add_sync_tables

__all__ = [
    "CENTRAL",
    "ID_RANGE",
    "LOCAL",
    "SEED_TABLES",
    "SYNCED_TABLES",
    "XID8",
    "Kind",
    "Schema",
    "build",
]

#: The seven tables of seed 000, in foreign-key order (parents first).
SEED_TABLES = (
    "teachers",
    "students",
    "data_entries",
    "assessments",
    "teacher_corrections",
    "skill_targets",
    "badges",
)
#: Tables whose rows travel between laptops and server.
SYNCED_TABLES = (*SEED_TABLES, "sync_conflicts")

# Let reflection (Alembic's drift check) recognise the type.
postgresql.base.ischema_names["xid8"] = XID8


@dataclass(frozen=True)
class Schema:
    """The tables of one store, by name."""

    metadata: MetaData
    kind: Kind
    teachers: Table
    students: Table
    data_entries: Table
    assessments: Table
    teacher_corrections: Table
    skill_targets: Table
    badges: Table
    sync_conflicts: Table

    def table(self, name: str) -> Table:
        return self.metadata.tables[name]


def build(kind: Kind) -> Schema:
    """Build the Flourish tables for ``kind`` into a fresh MetaData."""
    d = Dialect(kind)
    md = MetaData()
    add_school_tables(md, d)
    add_sync_tables(md, d)
    return Schema(metadata=md, kind=kind, **{name: md.tables[name] for name in SYNCED_TABLES})


CENTRAL = build("central")
LOCAL = build("local")
