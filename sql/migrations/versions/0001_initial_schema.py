"""Initial schema: seed 000's seven tables with seed 001's rules, sync bookkeeping, objects.

Built from :data:`sync.model.tables.CENTRAL` by autogenerate and frozen here; the replaceable
objects (functions, triggers, views) come from ``sql/objects/`` (see ``sql/README.md``).

Revision ID: 0001
Revises:
Create Date: 2026-11-22 03:05:18.261048
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from sync.model.tables import XID8
from sync.sqlobjects import load

# Frozen list of the objects this revision creates (creation order).
OBJECTS = (
    "functions/server_hlc",
    "functions/mark_assessment_corrected",
    "functions/unmark_assessment_corrected",
    "functions/sync_stamp",
    "functions/sync_tombstone",
    "functions/sync_forget_tombstone",
    "functions/sync_student_visibility",
    "triggers/trigger_mark_corrected",
    "triggers/trigger_unmark_corrected",
    "triggers/trigger_student_visibility",
    "triggers/sync_triggers",
    "views/latest_assessments",
    "views/student_progress_summary",
    "views/effective_levels",
)
revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE sync_version_seq")
    op.execute("CREATE SEQUENCE data_entries_id_seq MAXVALUE 999999999")
    op.create_table(
        "flourish_meta",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "sync_conflicts",
        sa.Column(
            "id", sa.BigInteger(), sa.Identity(always=False, maxvalue=999999999), nullable=False
        ),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_pk", sa.String(length=40), nullable=False),
        sa.Column("student_id", sa.String(length=10), nullable=True),
        sa.Column("teacher_id", sa.String(length=10), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("losing_row", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("losing_hlc", sa.BigInteger(), nullable=False),
        sa.Column("losing_origin", sa.Integer(), nullable=False),
        sa.Column("winning_row", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("winning_hlc", sa.BigInteger(), nullable=True),
        sa.Column("winning_origin", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("now()"), nullable=True),
        sa.Column("resolution", sa.String(length=20), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("sync_hlc", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_origin", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_version", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_txid", XID8(), nullable=False),
        sa.Column(
            "modified_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('stale_write', 'natural_key', 'deleted_row', 'human_decision')",
            name="chk_conflict_kind",
        ),
        sa.CheckConstraint(
            "resolution IS NULL OR resolution IN ('reapplied', 'dismissed')",
            name="chk_conflict_resolution",
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_sync_conflicts_sync_txid", "sync_conflicts", ["sync_txid", "sync_version"], unique=False
    )
    op.create_index(
        "ix_sync_conflicts_teacher", "sync_conflicts", ["teacher_id", "created_at"], unique=False
    )
    op.create_table(
        "sync_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("device_no", sa.Integer(), nullable=True),
        sa.Column("teacher_id", sa.String(length=10), nullable=True),
        sa.Column("login_role", sa.Text(), server_default=sa.text("session_user"), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column(
            "detail",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sync_events_created", "sync_events", ["created_at"], unique=False)
    op.create_table(
        "sync_tombstones",
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_pk", sa.String(length=40), nullable=False),
        sa.Column("student_id", sa.String(length=10), nullable=True),
        sa.Column("teacher_id", sa.String(length=10), nullable=True),
        sa.Column("sync_hlc", sa.BigInteger(), nullable=False),
        sa.Column("sync_origin", sa.Integer(), nullable=False),
        sa.Column("sync_version", sa.BigInteger(), nullable=False),
        sa.Column("sync_txid", XID8(), nullable=False),
        sa.Column(
            "deleted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.PrimaryKeyConstraint("table_name", "row_pk", name="sync_tombstones_pkey"),
    )
    op.create_index(
        "ix_sync_tombstones_sync_txid",
        "sync_tombstones",
        ["sync_txid", "sync_version"],
        unique=False,
    )
    op.create_index("ix_sync_tombstones_teacher", "sync_tombstones", ["teacher_id"], unique=False)
    op.create_table(
        "sync_visibility",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("teacher_id", sa.String(length=10), nullable=False),
        sa.Column("student_id", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("sync_version", sa.BigInteger(), nullable=False),
        sa.Column("sync_txid", XID8(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.CheckConstraint("kind IN ('grant', 'revoke')", name="chk_visibility_kind"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_sync_visibility_sync_txid",
        "sync_visibility",
        ["sync_txid", "sync_version"],
        unique=False,
    )
    op.create_index("ix_sync_visibility_teacher", "sync_visibility", ["teacher_id"], unique=False)
    op.create_table(
        "teachers",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("now()"), nullable=True),
        sa.Column("sync_hlc", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_origin", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_version", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_txid", XID8(), nullable=False),
        sa.Column(
            "modified_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "email ~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$'", name="chk_email_format"
        ),
        sa.CheckConstraint("id ~ '^T[0-9]{3,}$'", name="chk_teacher_id"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email", name="teachers_email_key"),
    )
    op.create_index(
        "ix_teachers_sync_txid", "teachers", ["sync_txid", "sync_version"], unique=False
    )
    op.create_table(
        "students",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.String(length=10), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("now()"), nullable=True),
        sa.Column("sync_hlc", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_origin", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_version", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_txid", XID8(), nullable=False),
        sa.Column(
            "modified_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("id ~ '^S[0-9]{3,}$'", name="chk_student_id"),
        sa.CheckConstraint("grade BETWEEN 6 AND 8", name="chk_grade_range"),
        sa.ForeignKeyConstraint(["teacher_id"], ["teachers.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("idx_students_teacher", "students", ["teacher_id"], unique=False)
    op.create_index(
        "ix_students_sync_txid", "students", ["sync_txid", "sync_version"], unique=False
    )
    op.create_table(
        "sync_devices",
        sa.Column("device_no", sa.Integer(), sa.Identity(always=False, minvalue=1), nullable=False),
        sa.Column("device_uuid", sa.UUID(as_uuid=False), nullable=False),
        sa.Column("teacher_id", sa.String(length=10), nullable=True),
        sa.Column("login_role", sa.Text(), nullable=False),
        sa.Column("hostname", sa.Text(), nullable=True),
        sa.Column("client_version", sa.Text(), nullable=True),
        sa.Column(
            "registered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=True,
        ),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_op_seq", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["teachers.id"],
        ),
        sa.PrimaryKeyConstraint("device_no"),
        sa.UniqueConstraint("device_uuid"),
    )
    op.create_table(
        "badges",
        sa.Column(
            "id", sa.BigInteger(), sa.Identity(always=False, maxvalue=999999999), nullable=False
        ),
        sa.Column("student_id", sa.String(length=10), nullable=True),
        sa.Column("skill_name", sa.String(length=100), nullable=False),
        sa.Column("skill_category", sa.String(length=50), nullable=False),
        sa.Column("level_achieved", sa.String(length=20), nullable=False),
        sa.Column("badge_type", sa.String(length=20), nullable=False),
        sa.Column("granted_by", sa.String(length=10), nullable=True),
        sa.Column("earned_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("now()"), nullable=True),
        sa.Column("sync_hlc", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_origin", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_version", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_txid", XID8(), nullable=False),
        sa.Column(
            "modified_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "NOT (badge_type IN ('bronze', 'silver', 'gold')) OR (badge_type = 'bronze' AND level_achieved = 'Developing') OR (badge_type = 'silver' AND level_achieved = 'Proficient') OR (badge_type = 'gold' AND level_achieved = 'Advanced')",
            name="chk_badge_level",
        ),
        sa.CheckConstraint("badge_type IN ('bronze', 'silver', 'gold')", name="chk_badge_type"),
        sa.CheckConstraint(
            "skill_category IN ('SEL', 'EF', '21st_Century')", name="chk_badge_category"
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"],
            ["teachers.id"],
        ),
        sa.ForeignKeyConstraint(["student_id"], ["students.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "student_id",
            "skill_name",
            "level_achieved",
            name="badges_student_id_skill_name_level_achieved_key",
        ),
    )
    op.create_index(
        "idx_badges_earned_date", "badges", [sa.literal_column("earned_date DESC")], unique=False
    )
    op.create_index("idx_badges_student", "badges", ["student_id"], unique=False)
    op.create_index("ix_badges_sync_txid", "badges", ["sync_txid", "sync_version"], unique=False)
    op.create_table(
        "data_entries",
        sa.Column(
            "id",
            sa.String(length=20),
            server_default=sa.text("'DE' || lpad(nextval('data_entries_id_seq')::text, 3, '0')"),
            nullable=False,
        ),
        sa.Column("student_id", sa.String(length=10), nullable=True),
        sa.Column("teacher_id", sa.String(length=10), nullable=True),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("now()"), nullable=True),
        sa.Column("sync_hlc", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_origin", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_version", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_txid", XID8(), nullable=False),
        sa.Column(
            "modified_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("id ~ '^DE[0-9]{3,}$'", name="chk_data_entry_id"),
        sa.CheckConstraint(
            "type IN ('group_discussion_transcript', 'peer_tutoring_transcript', 'project_presentation_transcript', 'reflection_journal', 'peer_feedback', 'teacher_observation_note', 'parent_note')",
            name="chk_data_type",
        ),
        sa.CheckConstraint("LENGTH(TRIM(content)) > 0", name="chk_content_not_empty"),
        sa.ForeignKeyConstraint(["student_id"], ["students.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["teacher_id"], ["teachers.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("idx_data_entries_date", "data_entries", ["date"], unique=False)
    op.create_index(
        "idx_data_entries_metadata",
        "data_entries",
        ["metadata"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "idx_data_entries_student_date", "data_entries", ["student_id", "date"], unique=False
    )
    op.create_index("idx_data_entries_teacher", "data_entries", ["teacher_id"], unique=False)
    op.create_index("idx_data_entries_type", "data_entries", ["type"], unique=False)
    op.create_index(
        "ix_data_entries_sync_txid", "data_entries", ["sync_txid", "sync_version"], unique=False
    )
    op.create_table(
        "skill_targets",
        sa.Column(
            "id", sa.BigInteger(), sa.Identity(always=False, maxvalue=999999999), nullable=False
        ),
        sa.Column("student_id", sa.String(length=10), nullable=True),
        sa.Column("skill_name", sa.String(length=100), nullable=False),
        sa.Column("starting_level", sa.String(length=20), nullable=True),
        sa.Column("target_level", sa.String(length=20), nullable=True),
        sa.Column("assigned_by", sa.String(length=10), nullable=True),
        sa.Column("assigned_at", sa.DateTime(), server_default=sa.text("now()"), nullable=True),
        sa.Column("completed", sa.Boolean(), server_default=sa.text("FALSE"), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("sync_hlc", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_origin", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_version", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_txid", XID8(), nullable=False),
        sa.Column(
            "modified_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "starting_level IS NULL OR starting_level IN ('Emerging', 'Developing', 'Proficient', 'Advanced')",
            name="chk_starting_level",
        ),
        sa.CheckConstraint(
            "target_level IS NULL OR target_level IN ('Emerging', 'Developing', 'Proficient', 'Advanced')",
            name="chk_target_level",
        ),
        sa.CheckConstraint(
            "(completed = FALSE AND completed_at IS NULL) OR (completed = TRUE AND completed_at IS NOT NULL)",
            name="chk_completion_logic",
        ),
        sa.ForeignKeyConstraint(
            ["assigned_by"],
            ["teachers.id"],
        ),
        sa.ForeignKeyConstraint(["student_id"], ["students.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "idx_targets_active",
        "skill_targets",
        ["student_id", "skill_name"],
        unique=True,
        postgresql_where=sa.text("completed = FALSE"),
        sqlite_where=sa.text("completed = 0"),
    )
    op.create_index("idx_targets_student", "skill_targets", ["student_id"], unique=False)
    op.create_index(
        "idx_targets_student_active",
        "skill_targets",
        ["student_id", "completed"],
        unique=False,
        postgresql_where=sa.text("completed = FALSE"),
        sqlite_where=sa.text("completed = 0"),
    )
    op.create_index(
        "ix_skill_targets_sync_txid", "skill_targets", ["sync_txid", "sync_version"], unique=False
    )
    op.create_table(
        "assessments",
        sa.Column(
            "id", sa.BigInteger(), sa.Identity(always=False, maxvalue=999999999), nullable=False
        ),
        sa.Column("data_entry_id", sa.String(length=20), nullable=True),
        sa.Column("student_id", sa.String(length=10), nullable=True),
        sa.Column("skill_name", sa.String(length=100), nullable=False),
        sa.Column("skill_category", sa.String(length=50), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column(
            "confidence_score", sa.Numeric(precision=3, scale=2, asdecimal=False), nullable=True
        ),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("source_quote", sa.Text(), nullable=False),
        sa.Column("data_point_count", sa.Integer(), server_default=sa.text("1"), nullable=True),
        sa.Column(
            "rubric_version", sa.String(length=10), server_default=sa.text("'1.0'"), nullable=True
        ),
        sa.Column("corrected", sa.Boolean(), server_default=sa.text("FALSE"), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("now()"), nullable=True),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.text("now()"), nullable=True),
        sa.Column(
            "provenance",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=True,
        ),
        sa.Column("sync_hlc", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_origin", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_version", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_txid", XID8(), nullable=False),
        sa.Column(
            "modified_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "level IN ('Emerging', 'Developing', 'Proficient', 'Advanced')", name="chk_level"
        ),
        sa.CheckConstraint(
            "skill_category IN ('SEL', 'EF', '21st_Century')", name="chk_skill_category"
        ),
        sa.CheckConstraint(
            "confidence_score BETWEEN 0 AND 1", name="assessments_confidence_score_check"
        ),
        sa.CheckConstraint("data_point_count > 0", name="chk_data_point_count"),
        sa.ForeignKeyConstraint(["data_entry_id"], ["data_entries.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["student_id"], ["students.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "idx_assessments_confidence",
        "assessments",
        ["confidence_score"],
        unique=False,
        postgresql_where=sa.text("confidence_score < 0.8"),
        sqlite_where=sa.text("confidence_score < 0.8"),
    )
    op.create_index(
        "idx_assessments_created",
        "assessments",
        [sa.literal_column("created_at DESC")],
        unique=False,
    )
    op.create_index("idx_assessments_data_entry", "assessments", ["data_entry_id"], unique=False)
    op.create_index("idx_assessments_level", "assessments", ["level"], unique=False)
    op.create_index(
        "idx_assessments_pending",
        "assessments",
        ["student_id", "created_at"],
        unique=False,
        postgresql_where=sa.text("corrected = FALSE"),
        sqlite_where=sa.text("corrected = 0"),
    )
    op.create_index(
        "idx_assessments_student_skill", "assessments", ["student_id", "skill_name"], unique=False
    )
    op.create_index(
        "ix_assessments_sync_txid", "assessments", ["sync_txid", "sync_version"], unique=False
    )
    op.create_table(
        "teacher_corrections",
        sa.Column(
            "id", sa.BigInteger(), sa.Identity(always=False, maxvalue=999999999), nullable=False
        ),
        sa.Column("assessment_id", sa.BigInteger(), nullable=True),
        sa.Column("original_level", sa.String(length=20), nullable=False),
        sa.Column("corrected_level", sa.String(length=20), nullable=False),
        sa.Column("original_justification", sa.Text(), nullable=True),
        sa.Column("corrected_justification", sa.Text(), nullable=True),
        sa.Column("teacher_notes", sa.Text(), nullable=True),
        sa.Column("corrected_by", sa.String(length=10), nullable=True),
        sa.Column("corrected_at", sa.DateTime(), server_default=sa.text("now()"), nullable=True),
        sa.Column("use_as_example", sa.Boolean(), server_default=sa.text("TRUE"), nullable=False),
        sa.Column("sync_hlc", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_origin", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_version", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("sync_txid", XID8(), nullable=False),
        sa.Column(
            "modified_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "corrected_level IN ('Emerging', 'Developing', 'Proficient', 'Advanced')",
            name="chk_corrected_level",
        ),
        sa.CheckConstraint(
            "original_level IN ('Emerging', 'Developing', 'Proficient', 'Advanced')",
            name="chk_original_level",
        ),
        sa.CheckConstraint(
            "original_level != corrected_level OR original_justification != corrected_justification",
            name="chk_levels_different",
        ),
        sa.ForeignKeyConstraint(["assessment_id"], ["assessments.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["corrected_by"],
            ["teachers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("assessment_id", name="teacher_corrections_assessment_id_key"),
    )
    op.create_index(
        "idx_corrections_assessment", "teacher_corrections", ["assessment_id"], unique=False
    )
    op.create_index(
        "idx_corrections_corrected_by", "teacher_corrections", ["corrected_by"], unique=False
    )
    op.create_index(
        "idx_corrections_created",
        "teacher_corrections",
        [sa.literal_column("corrected_at DESC")],
        unique=False,
        postgresql_where=sa.text("teacher_notes IS NOT NULL"),
    )
    op.create_index(
        "idx_corrections_date",
        "teacher_corrections",
        [sa.literal_column("corrected_at DESC")],
        unique=False,
    )
    op.create_index(
        "idx_corrections_teacher", "teacher_corrections", ["corrected_by"], unique=False
    )
    op.create_index(
        "ix_teacher_corrections_sync_txid",
        "teacher_corrections",
        ["sync_txid", "sync_version"],
        unique=False,
    )
    op.execute("ALTER SEQUENCE data_entries_id_seq OWNED BY data_entries.id")
    for name in OBJECTS:
        op.execute(load(name, as_of=revision).create)
    op.execute("INSERT INTO flourish_meta (key, value) VALUES ('sync_protocol', '1')")


def downgrade() -> None:
    for name in reversed(OBJECTS):
        op.execute(load(name, as_of=revision).drop)
    op.drop_index("ix_teacher_corrections_sync_txid", table_name="teacher_corrections")
    op.drop_index("idx_corrections_teacher", table_name="teacher_corrections")
    op.drop_index("idx_corrections_date", table_name="teacher_corrections")
    op.drop_index("idx_corrections_created", table_name="teacher_corrections")
    op.drop_index("idx_corrections_corrected_by", table_name="teacher_corrections")
    op.drop_index("idx_corrections_assessment", table_name="teacher_corrections")
    op.drop_table("teacher_corrections")
    op.drop_index("ix_assessments_sync_txid", table_name="assessments")
    op.drop_index("idx_assessments_student_skill", table_name="assessments")
    op.drop_index(
        "idx_assessments_pending",
        table_name="assessments",
        postgresql_where=sa.text("corrected = FALSE"),
        sqlite_where=sa.text("corrected = 0"),
    )
    op.drop_index("idx_assessments_level", table_name="assessments")
    op.drop_index("idx_assessments_data_entry", table_name="assessments")
    op.drop_index("idx_assessments_created", table_name="assessments")
    op.drop_index(
        "idx_assessments_confidence",
        table_name="assessments",
        postgresql_where=sa.text("confidence_score < 0.8"),
        sqlite_where=sa.text("confidence_score < 0.8"),
    )
    op.drop_table("assessments")
    op.drop_index("ix_skill_targets_sync_txid", table_name="skill_targets")
    op.drop_index(
        "idx_targets_student_active",
        table_name="skill_targets",
        postgresql_where=sa.text("completed = FALSE"),
        sqlite_where=sa.text("completed = 0"),
    )
    op.drop_index("idx_targets_student", table_name="skill_targets")
    op.drop_index(
        "idx_targets_active",
        table_name="skill_targets",
        postgresql_where=sa.text("completed = FALSE"),
        sqlite_where=sa.text("completed = 0"),
    )
    op.drop_table("skill_targets")
    op.drop_index("ix_data_entries_sync_txid", table_name="data_entries")
    op.drop_index("idx_data_entries_type", table_name="data_entries")
    op.drop_index("idx_data_entries_teacher", table_name="data_entries")
    op.drop_index("idx_data_entries_student_date", table_name="data_entries")
    op.drop_index("idx_data_entries_metadata", table_name="data_entries", postgresql_using="gin")
    op.drop_index("idx_data_entries_date", table_name="data_entries")
    op.drop_table("data_entries")
    op.drop_index("ix_badges_sync_txid", table_name="badges")
    op.drop_index("idx_badges_student", table_name="badges")
    op.drop_index("idx_badges_earned_date", table_name="badges")
    op.drop_table("badges")
    op.drop_table("sync_devices")
    op.drop_index("ix_students_sync_txid", table_name="students")
    op.drop_index("idx_students_teacher", table_name="students")
    op.drop_table("students")
    op.drop_index("ix_teachers_sync_txid", table_name="teachers")
    op.drop_table("teachers")
    op.drop_index("ix_sync_visibility_teacher", table_name="sync_visibility")
    op.drop_index("ix_sync_visibility_sync_txid", table_name="sync_visibility")
    op.drop_table("sync_visibility")
    op.drop_index("ix_sync_tombstones_teacher", table_name="sync_tombstones")
    op.drop_index("ix_sync_tombstones_sync_txid", table_name="sync_tombstones")
    op.drop_table("sync_tombstones")
    op.drop_index("ix_sync_events_created", table_name="sync_events")
    op.drop_table("sync_events")
    op.drop_index("ix_sync_conflicts_teacher", table_name="sync_conflicts")
    op.drop_index("ix_sync_conflicts_sync_txid", table_name="sync_conflicts")
    op.drop_table("sync_conflicts")
    op.drop_table("flourish_meta")
    op.execute("DROP SEQUENCE IF EXISTS sync_version_seq")
