"""Teacher logins, device registration and row level security.

Adds ``teacher_logins`` (login role -> teacher), ``current_teacher_id()`` keyed on
``session_user``, ``sync_register_device()``, the ``flourish_teacher`` group role with its
grants, and one row level security policy set per table. The tombstone functions become
SECURITY DEFINER (teachers cannot write tombstones directly) and a pushed delete passes its
own stamp in ``flourish.delete_stamp``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sync.sqlobjects import load

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Objects this revision (re)creates, in creation order.
REPLACED = (
    "functions/sync_tombstone",
    "functions/sync_forget_tombstone",
    "functions/mark_assessment_corrected",
    "functions/unmark_assessment_corrected",
)
OBJECTS = (
    "functions/current_teacher_id",
    "functions/own_student_ids",
    "functions/sync_register_device",
    *REPLACED,
    "grants/flourish_teacher",
    "policies/teachers",
    "policies/students",
    "policies/data_entries",
    "policies/assessments",
    "policies/teacher_corrections",
    "policies/skill_targets",
    "policies/badges",
    "policies/sync_conflicts",
    "policies/sync_tombstones",
    "policies/sync_visibility",
    "policies/sync_devices",
    "policies/sync_events",
)


def upgrade() -> None:
    op.create_table(
        "teacher_logins",
        sa.Column("login_role", sa.Text(), nullable=False),
        sa.Column("teacher_id", sa.String(length=10), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.ForeignKeyConstraint(["teacher_id"], ["teachers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("login_role"),
    )
    op.create_index("ix_teacher_logins_teacher", "teacher_logins", ["teacher_id"], unique=False)
    for name in OBJECTS:
        op.execute(load(name, as_of=revision).create)
    op.execute("UPDATE flourish_meta SET value = '2' WHERE key = 'sync_protocol'")


def downgrade() -> None:
    for name in reversed(OBJECTS):
        if name not in REPLACED:
            op.execute(load(name, as_of=revision).drop)
    for name in REPLACED:
        op.execute(load(name, as_of="0001").create)
    op.drop_index("ix_teacher_logins_teacher", table_name="teacher_logins")
    op.drop_table("teacher_logins")
    op.execute("UPDATE flourish_meta SET value = '1' WHERE key = 'sync_protocol'")
