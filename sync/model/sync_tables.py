"""The sync bookkeeping tables, as :func:`sync.model.tables.build` adds them: the conflict
log (both sides, synced), the server's devices, tombstones, visibility changes, events,
logins, audit log, evidence shares and sign-in accounts, and the laptop's queue
(``sync_operations``), ``sync_state``, id counters and the AI pipeline's bookkeeping.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Sequence,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects import postgresql

from sync.model.account_tables import add_account_tables
from sync.model.columns import (
    XID8,
    Dialect,
    created_now,
    in_list,
    owning_teacher,
    sync_columns,
    sync_index,
)

__all__ = ["add_sync_tables"]


def _pulled_per_teacher(table: str) -> list[Index]:
    """The indexes of a bookkeeping table the pull reads by cursor and by teacher."""
    return [
        Index(f"ix_{table}_sync_txid", "sync_txid", "sync_version"),
        Index(f"ix_{table}_teacher", "teacher_id"),
    ]


def add_sync_tables(md: MetaData, d: Dialect) -> None:
    """Add the sync bookkeeping tables of ``d``'s side to ``md``: the conflict log on both
    sides; devices, tombstones, visibility, events, logins, audit, shares and accounts on
    the server; the queue, state, counters and the AI's bookkeeping on a laptop."""
    Table(
        "sync_conflicts",
        md,
        d.serial_id(),
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
        *sync_columns(d),
        CheckConstraint(
            in_list("kind", ("stale_write", "natural_key", "deleted_row", "human_decision")),
            name="chk_conflict_kind",
        ),
        CheckConstraint(
            f"resolution IS NULL OR {in_list('resolution', ('reapplied', 'dismissed'))}",
            name="chk_conflict_resolution",
        ),
        Index("ix_sync_conflicts_teacher", "teacher_id", "created_at"),
        *sync_index("sync_conflicts", d),
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
            *_pulled_per_teacher("sync_tombstones"),
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
            created_now(),
            CheckConstraint("kind IN ('grant', 'revoke')", name="chk_visibility_kind"),
            *_pulled_per_teacher("sync_visibility"),
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
            created_now(),
            Index("ix_sync_events_created", "created_at"),
        )
        # Which login is which teacher: row level security keys on session_user through
        # current_teacher_id(), never on a setting a session could choose for itself.
        Table(
            "teacher_logins",
            md,
            Column("login_role", Text, primary_key=True),
            owning_teacher(),
            created_now(),
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
