"""The one definition of the Flourish tables.

:func:`build` writes the tables of seeds 000/001 (reconciled as ``sql/README.md`` explains)
into a :class:`~sqlalchemy.MetaData`, either for the central PostgreSQL database
(``kind="central"``) or for the teacher's local SQLite mirror (``kind="local"``). The two
differ only where the engines must: regular expressions become GLOB patterns, JSONB becomes
JSON, and each side carries the sync bookkeeping only it needs. :data:`CENTRAL` and
:data:`LOCAL` are the two built schemas; Alembic migrations and the local store both come
from them, and tests prove the migrated database has no drift from :data:`CENTRAL`.

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
from typing import Literal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    Sequence,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import JSON, TypeEngine, UserDefinedType

from sync.model.account_tables import add_account_tables
from sync.model.vocab import BADGE_LEVEL, BADGE_TYPES, CATEGORIES, ENTRY_TYPES, LEVELS

__all__ = [
    "CENTRAL",
    "LOCAL",
    "SEED_TABLES",
    "SYNCED_TABLES",
    "Kind",
    "Schema",
    "XID8",
    "build",
]

Kind = Literal["central", "local"]

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

# Server-assigned ids stay below this bound; laptops use device_no * ID_RANGE + n.
ID_RANGE = 1_000_000_000


class XID8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id type (``xid8``)."""

    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        return "xid8"


# Let reflection (Alembic's drift check) recognise the type.
postgresql.base.ischema_names["xid8"] = XID8


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


@dataclass(frozen=True)
class _Dialect:
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


def _sync_columns(d: _Dialect) -> list[Column[object]]:
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


def _sync_index(name: str, d: _Dialect) -> list[Index]:
    if d.central:
        return [Index(f"ix_{name}_sync_txid", "sync_txid", "sync_version")]
    return []


def _external_id(table: str) -> list[Column[object] | Index]:
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
    d = _Dialect(kind)
    md = MetaData()
    levels = _in("{col}", LEVELS)

    def level_check(col: str, name: str) -> CheckConstraint:
        return CheckConstraint(levels.format(col=col), name=name)

    teachers = Table(
        "teachers",
        md,
        Column("id", String(10), primary_key=True),
        Column("name", String(100), nullable=False),
        # Teachers' logins may not read it (column grants), so it never travels.
        Column("email", String(255), info={"sync": "hidden"}),
        Column("created_at", DateTime, server_default=d.now()),
        *_sync_columns(d),
        UniqueConstraint("email", name="teachers_email_key"),
        CheckConstraint(d.digits_id("id", "T"), name="chk_teacher_id"),
        CheckConstraint(d.email("email"), name="chk_email_format"),
        *_sync_index("teachers", d),
        *_external_id("teachers"),
    )

    students = Table(
        "students",
        md,
        Column("id", String(10), primary_key=True),
        Column("name", String(100), nullable=False),
        Column("grade", Integer, nullable=False),
        Column(
            "teacher_id",
            String(10),
            d.fk("teachers.id", "RESTRICT"),
        ),
        Column("created_at", DateTime, server_default=d.now()),
        *_sync_columns(d),
        CheckConstraint(d.digits_id("id", "S"), name="chk_student_id"),
        CheckConstraint("grade BETWEEN 6 AND 8", name="chk_grade_range"),
        Index("idx_students_teacher", "teacher_id"),
        *_sync_index("students", d),
        *_external_id("students"),
    )

    if d.central:
        # Text ids need an explicit sequence; laptops use DE<device_no * 10**9 + n>.
        Sequence("data_entries_id_seq", maxvalue=ID_RANGE - 1, metadata=md)
    de_default = (
        text("'DE' || lpad(nextval('data_entries_id_seq')::text, 3, '0')") if d.central else None
    )
    data_entries = Table(
        "data_entries",
        md,
        Column("id", String(20), primary_key=True, server_default=de_default),
        Column(
            "student_id",
            String(10),
            d.fk("students.id", "CASCADE"),
        ),
        Column(
            "teacher_id",
            String(10),
            d.fk("teachers.id", "SET NULL"),
        ),
        Column("type", String(50), nullable=False),
        Column("date", Date, nullable=False),
        Column("content", Text, nullable=False),
        Column("metadata", d.json(), server_default=text("'{}'")),
        Column("created_at", DateTime, server_default=d.now()),
        *_sync_columns(d),
        CheckConstraint(d.digits_id("id", "DE"), name="chk_data_entry_id"),
        CheckConstraint(_in("type", ENTRY_TYPES), name="chk_data_type"),
        CheckConstraint(d.trimmed_not_empty("content"), name="chk_content_not_empty"),
        Index("idx_data_entries_student_date", "student_id", "date"),
        Index("idx_data_entries_type", "type"),
        Index("idx_data_entries_date", "date"),
        Index("idx_data_entries_teacher", "teacher_id"),
        *(
            [Index("idx_data_entries_metadata", "metadata", postgresql_using="gin")]
            if d.central
            else []
        ),
        *_sync_index("data_entries", d),
    )

    def serial_id(table: str) -> Column[int]:
        if d.central:
            return Column("id", BigInteger, Identity(maxvalue=ID_RANGE - 1), primary_key=True)
        # INTEGER PRIMARY KEY makes the id SQLite's 64-bit rowid (no extra index).
        return Column("id", Integer, primary_key=True, autoincrement=False)

    assessments = Table(
        "assessments",
        md,
        serial_id("assessments"),
        Column(
            "data_entry_id",
            String(20),
            d.fk("data_entries.id", "CASCADE"),
        ),
        Column(
            "student_id",
            String(10),
            d.fk("students.id", "CASCADE"),
        ),
        Column("skill_name", String(100), nullable=False),
        Column("skill_category", String(50), nullable=False),
        Column("level", String(20), nullable=False),
        Column("confidence_score", Numeric(3, 2, asdecimal=False)),
        Column("justification", Text, nullable=False),
        Column("source_quote", Text, nullable=False),
        Column("data_point_count", Integer, server_default=text("1")),
        Column("rubric_version", String(10), server_default=text("'1.0'")),
        # Derived from teacher_corrections by the trigger on both sides: never sent.
        Column(
            "corrected",
            Boolean,
            server_default=text("FALSE" if d.central else "0"),
            info={"sync": "derived"},
        ),
        Column("created_at", DateTime, server_default=d.now()),
        # Touched by the same triggers: travels with the row, but alone is no change.
        Column("updated_at", DateTime, server_default=d.now(), info={"sync": "touched"}),
        Column("provenance", d.json(), server_default=text("'{}'")),
        *_sync_columns(d),
        CheckConstraint(
            "confidence_score BETWEEN 0 AND 1", name="assessments_confidence_score_check"
        ),
        CheckConstraint(_in("skill_category", CATEGORIES), name="chk_skill_category"),
        level_check("level", "chk_level"),
        CheckConstraint("data_point_count > 0", name="chk_data_point_count"),
        Index("idx_assessments_student_skill", "student_id", "skill_name"),
        Index("idx_assessments_level", "level"),
        Index("idx_assessments_data_entry", "data_entry_id"),
        Index(
            "idx_assessments_pending",
            "student_id",
            "created_at",
            postgresql_where=text("corrected = FALSE"),
            sqlite_where=text("corrected = 0"),
        ),
        Index(
            "idx_assessments_confidence",
            # central: also the second key of the review queue's ORDER BY (migration 0004)
            *(
                ("confidence_score", text("created_at DESC"))
                if d.central
                else ("confidence_score",)
            ),
            postgresql_where=text("confidence_score < 0.8"),
            sqlite_where=text("confidence_score < 0.8"),
        ),
        Index("idx_assessments_created", text("created_at DESC")),
        *_sync_index("assessments", d),
    )

    teacher_corrections = Table(
        "teacher_corrections",
        md,
        serial_id("teacher_corrections"),
        Column(
            "assessment_id",
            BigInteger,
            d.fk("assessments.id", "CASCADE"),
        ),
        Column("original_level", String(20), nullable=False),
        Column("corrected_level", String(20), nullable=False),
        Column("original_justification", Text),
        Column("corrected_justification", Text),
        Column("teacher_notes", Text),
        Column(
            "corrected_by",
            String(10),
            d.fk("teachers.id"),
        ),
        Column("corrected_at", DateTime, server_default=d.now()),
        Column(
            "use_as_example",
            Boolean,
            nullable=False,
            server_default=text("TRUE" if d.central else "1"),
        ),
        *_sync_columns(d),
        level_check("original_level", "chk_original_level"),
        level_check("corrected_level", "chk_corrected_level"),
        CheckConstraint(
            "original_level != corrected_level"
            " OR original_justification != corrected_justification",
            name="chk_levels_different",
        ),
        UniqueConstraint("assessment_id", name="teacher_corrections_assessment_id_key"),
        Index("idx_corrections_corrected_by", "corrected_by"),
        Index("idx_corrections_assessment", "assessment_id"),
        Index("idx_corrections_date", text("corrected_at DESC")),
        Index("idx_corrections_teacher", "corrected_by"),
        # Seed 001's few-shot index, narrowed to the few-shot predicate (seed 001 query 4):
        # otherwise it would duplicate idx_corrections_date exactly (sql/README.md).
        Index(
            "idx_corrections_created",
            text("corrected_at DESC"),
            postgresql_where=text("teacher_notes IS NOT NULL"),
            sqlite_where=text("teacher_notes IS NOT NULL"),
        ),
        *_sync_index("teacher_corrections", d),
    )

    false = "FALSE" if d.central else "0"
    true = "TRUE" if d.central else "1"
    skill_targets = Table(
        "skill_targets",
        md,
        serial_id("skill_targets"),
        Column(
            "student_id",
            String(10),
            d.fk("students.id", "CASCADE"),
        ),
        Column("skill_name", String(100), nullable=False),
        Column("starting_level", String(20)),
        Column("target_level", String(20)),
        Column(
            "assigned_by",
            String(10),
            d.fk("teachers.id"),
        ),
        Column("assigned_at", DateTime, server_default=d.now()),
        Column("completed", Boolean, nullable=False, server_default=text(false)),
        Column("completed_at", DateTime),
        *_sync_columns(d),
        CheckConstraint(
            f"(completed = {false} AND completed_at IS NULL) OR "
            f"(completed = {true} AND completed_at IS NOT NULL)",
            name="chk_completion_logic",
        ),
        CheckConstraint(
            f"starting_level IS NULL OR {_in('starting_level', LEVELS)}",
            name="chk_starting_level",
        ),
        CheckConstraint(
            f"target_level IS NULL OR {_in('target_level', LEVELS)}", name="chk_target_level"
        ),
        Index("idx_targets_student", "student_id"),
        # Seed 000 declared UNIQUE (student_id, skill_name, completed); the intent is one
        # *active* target per skill, which this partial unique index says (sql/README.md).
        Index(
            "idx_targets_active",
            "student_id",
            "skill_name",
            unique=True,
            postgresql_where=text("completed = FALSE"),
            sqlite_where=text("completed = 0"),
        ),
        Index(
            "idx_targets_student_active",
            "student_id",
            "completed",
            postgresql_where=text("completed = FALSE"),
            sqlite_where=text("completed = 0"),
        ),
        *_sync_index("skill_targets", d),
    )

    badge_pairs = " OR ".join(
        f"(badge_type = '{badge}' AND level_achieved = '{level}')"
        for badge, level in BADGE_LEVEL.items()
    )
    badges = Table(
        "badges",
        md,
        serial_id("badges"),
        Column(
            "student_id",
            String(10),
            d.fk("students.id", "CASCADE"),
        ),
        Column("skill_name", String(100), nullable=False),
        Column("skill_category", String(50), nullable=False),
        Column("level_achieved", String(20), nullable=False),
        Column("badge_type", String(20), nullable=False),
        Column(
            "granted_by",
            String(10),
            d.fk("teachers.id"),
        ),
        Column("earned_date", Date, nullable=False),
        Column("created_at", DateTime, server_default=d.now()),
        *_sync_columns(d),
        UniqueConstraint(
            "student_id",
            "skill_name",
            "level_achieved",
            name="badges_student_id_skill_name_level_achieved_key",
        ),
        CheckConstraint(_in("skill_category", CATEGORIES), name="chk_badge_category"),
        CheckConstraint(_in("badge_type", BADGE_TYPES), name="chk_badge_type"),
        # Checked only for known badge types, so an unknown type reports chk_badge_type.
        CheckConstraint(
            f"NOT ({_in('badge_type', BADGE_TYPES)}) OR {badge_pairs}", name="chk_badge_level"
        ),
        Index("idx_badges_student", "student_id"),
        Index("idx_badges_earned_date", text("earned_date DESC")),
        *_sync_index("badges", d),
    )

    sync_conflicts = _sync_tables(md, d)

    return Schema(
        metadata=md,
        kind=kind,
        teachers=teachers,
        students=students,
        data_entries=data_entries,
        assessments=assessments,
        teacher_corrections=teacher_corrections,
        skill_targets=skill_targets,
        badges=badges,
        sync_conflicts=sync_conflicts,
    )


def _sync_tables(md: MetaData, d: _Dialect) -> Table:
    """Sync bookkeeping tables; returns the conflict log (present on both sides)."""
    conflicts = Table(
        "sync_conflicts",
        md,
        (
            Column("id", BigInteger, Identity(maxvalue=ID_RANGE - 1), primary_key=True)
            if d.central
            else Column("id", Integer, primary_key=True, autoincrement=False)
        ),
        Column("table_name", String(40), nullable=False),
        Column("row_pk", String(40), nullable=False),
        Column("student_id", String(10)),
        Column("teacher_id", String(10)),
        Column("kind", String(30), nullable=False),
        Column("reason", Text, nullable=False),
        Column("losing_row", d.json(), nullable=False),
        Column("losing_hlc", BigInteger, nullable=False),
        Column("losing_origin", Integer, nullable=False),
        Column("winning_row", d.json()),
        Column("winning_hlc", BigInteger),
        Column("winning_origin", Integer),
        Column("created_at", DateTime, server_default=d.now()),
        Column("resolution", String(20)),
        Column("resolved_at", DateTime),
        *_sync_columns(d),
        CheckConstraint(
            _in("kind", ("stale_write", "natural_key", "deleted_row", "human_decision")),
            name="chk_conflict_kind",
        ),
        CheckConstraint(
            f"resolution IS NULL OR {_in('resolution', ('reapplied', 'dismissed'))}",
            name="chk_conflict_resolution",
        ),
        Index("ix_sync_conflicts_teacher", "teacher_id", "created_at"),
        *_sync_index("sync_conflicts", d),
    )

    if d.central:
        Sequence("sync_version_seq", metadata=md)
        Table(
            "sync_devices",
            md,
            Column("device_no", Integer, Identity(minvalue=1), primary_key=True),
            Column("device_uuid", postgresql.UUID(as_uuid=False), nullable=False, unique=True),
            Column("teacher_id", String(10), d.fk("teachers.id")),
            Column("login_role", Text, nullable=False),
            Column("hostname", Text),
            Column("client_version", Text),
            Column("registered_at", DateTime(timezone=True), server_default=text("now()")),
            Column("last_seen_at", DateTime(timezone=True)),
            Column("last_op_seq", BigInteger, nullable=False, server_default=text("0")),
        )
        Table(
            "sync_tombstones",
            md,
            Column("table_name", String(40), nullable=False),
            Column("row_pk", String(40), nullable=False),
            Column("student_id", String(10)),
            Column("teacher_id", String(10)),
            Column("sync_hlc", BigInteger, nullable=False),
            Column("sync_origin", Integer, nullable=False),
            Column("sync_version", BigInteger, nullable=False),
            Column("sync_txid", XID8(), nullable=False),
            Column("deleted_at", DateTime(timezone=True), server_default=text("now()")),
            PrimaryKeyConstraint("table_name", "row_pk", name="sync_tombstones_pkey"),
            Index("ix_sync_tombstones_sync_txid", "sync_txid", "sync_version"),
            Index("ix_sync_tombstones_teacher", "teacher_id"),
        )
        Table(
            "sync_visibility",
            md,
            Column("id", BigInteger, Identity(), primary_key=True),
            Column("teacher_id", String(10), nullable=False),
            Column("student_id", String(10), nullable=False),
            Column("kind", String(10), nullable=False),
            Column("sync_version", BigInteger, nullable=False),
            Column("sync_txid", XID8(), nullable=False),
            Column("created_at", DateTime(timezone=True), server_default=text("now()")),
            CheckConstraint("kind IN ('grant', 'revoke')", name="chk_visibility_kind"),
            Index("ix_sync_visibility_sync_txid", "sync_txid", "sync_version"),
            Index("ix_sync_visibility_teacher", "teacher_id"),
        )
        Table(
            "sync_events",
            md,
            Column("id", BigInteger, Identity(), primary_key=True),
            Column("device_no", Integer),
            Column("teacher_id", String(10)),
            Column("login_role", Text, server_default=text("session_user")),
            Column("kind", String(40), nullable=False),
            Column("detail", postgresql.JSONB(), nullable=False, server_default=text("'{}'")),
            Column("created_at", DateTime(timezone=True), server_default=text("now()")),
            Index("ix_sync_events_created", "created_at"),
        )
        # Which login is which teacher: row level security keys on session_user through
        # current_teacher_id(), never on a setting a session could choose for itself.
        Table(
            "teacher_logins",
            md,
            Column("login_role", Text, primary_key=True),
            Column(
                "teacher_id",
                String(10),
                ForeignKey("teachers.id", ondelete="CASCADE"),
                nullable=False,
            ),
            Column("created_at", DateTime(timezone=True), server_default=text("now()")),
            Index("ix_teacher_logins_teacher", "teacher_id"),
        )
        # Append-only record of sign-ins and administrative actions (audit_event()).
        Table(
            "audit_log",
            md,
            Column("id", BigInteger, Identity(), primary_key=True),
            Column("at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
            Column("login_role", Text, nullable=False, server_default=text("session_user")),
            Column("teacher_id", String(10)),
            Column("action", String(40), nullable=False),
            Column("detail", postgresql.JSONB(), nullable=False, server_default=text("'{}'")),
            Index("ix_audit_log_at", "at"),
        )
        # Shared evidence (migration 0005): "this entry may support proposals for that
        # student", granted by the entry's owner or IT; the only way another teacher
        # reads an entry (policies/data_entries) or rests an assessment on it.
        Table(
            "evidence_shares",
            md,
            Column(
                "data_entry_id",
                String(20),
                ForeignKey("data_entries.id", ondelete="CASCADE"),
                primary_key=True,
            ),
            Column(
                "student_id",
                String(10),
                ForeignKey("students.id", ondelete="CASCADE"),
                primary_key=True,
            ),
            Column("granted_by", String(10), ForeignKey("teachers.id", ondelete="SET NULL")),
            Column(
                "granted_at",
                DateTime(timezone=True),
                nullable=False,
                server_default=text("now()"),
            ),
            Index("ix_evidence_shares_student", "student_id"),
        )
        add_account_tables(md)  # the service's sign-in tables
        Table(
            "flourish_meta",
            md,
            Column("key", String(40), primary_key=True),
            Column("value", Text, nullable=False),
        )
    else:
        Table(
            "sync_operations",
            md,
            Column("op_id", Integer, primary_key=True, autoincrement=True),
            Column("table_name", String(40), nullable=False),
            Column("row_pk", String(40), nullable=False),
            Column("op", String(10), nullable=False),
            Column("payload", Text, nullable=False),
            Column("sync_hlc", BigInteger, nullable=False),
            Column("student_id", String(10)),
            Column("created_at", DateTime, server_default=text("CURRENT_TIMESTAMP")),
            Column("status", String(12), nullable=False, server_default=text("'pending'")),
            Column("attempts", Integer, nullable=False, server_default=text("0")),
            Column("last_error", Text),
            CheckConstraint("op IN ('upsert', 'delete')", name="chk_op"),
            CheckConstraint("status IN ('pending', 'quarantined')", name="chk_op_status"),
            Index("ix_sync_operations_status", "status", "op_id"),
            Index("ix_sync_operations_row", "table_name", "row_pk"),
            sqlite_autoincrement=True,
        )
        Table(
            "sync_state",
            md,
            Column("key", String(40), primary_key=True),
            Column("value", Text, nullable=False),
        )
        Table(
            "local_counters",
            md,
            Column("table_name", String(40), primary_key=True),
            Column("last_n", BigInteger, nullable=False),
        )
        # The AI pipeline's local bookkeeping (local schema v2); not synced.
        Table(
            "assessment_jobs",
            md,
            Column(
                "data_entry_id",
                String(20),
                d.fk("data_entries.id", "CASCADE"),
                primary_key=True,
            ),
            Column("status", String(12), nullable=False),
            Column("reason", Text),
            Column("attempts", Integer, nullable=False, server_default=text("0")),
            Column("next_attempt_at", DateTime),
            Column("updated_at", DateTime, server_default=text("CURRENT_TIMESTAMP")),
            CheckConstraint(
                "status IN ('waiting', 'running', 'done', 'failed', 'skipped')",
                name="chk_job_status",
            ),
            Index("ix_assessment_jobs_status", "status"),
        )
        Table(
            "llm_calls",
            md,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("data_entry_id", String(20)),
            Column("started_at", DateTime, nullable=False),
            Column("duration_ms", Integer),
            Column("model", String(100)),
            Column("prompt_version", String(20)),
            Column("rubric_version", String(10)),
            Column("tokens_in", Integer),
            Column("tokens_out", Integer),
            Column("outcome", String(20), nullable=False),
            Column("detail", Text),
            Index("ix_llm_calls_started", "started_at"),
            sqlite_autoincrement=True,
        )
        Table(
            "sync_apply_guard",
            md,
            Column("id", Integer, primary_key=True),
            Column("applying", Integer, nullable=False, server_default=text("0")),
            CheckConstraint("id = 1", name="chk_single_row"),
        )
    return conflicts


CENTRAL = build("central")
LOCAL = build("local")
