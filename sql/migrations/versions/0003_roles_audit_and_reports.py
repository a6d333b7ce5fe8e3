"""Roles, forced row level security, column-level grants, the audit log and report views.

Adds the group roles flourish_owner (owns every object; no login), flourish_admin (IT)
and flourish_auditor (reads the ``reports`` views only); hands every object to
flourish_owner; forces row level security on every table with student data or sync
bookkeeping (owner and IT see all rows through ``staff_all``); narrows teachers' inserts
and updates to the columns they may write; adds the append-only ``audit_log`` with
``audit_event()`` (sign-ins are logged by ``sync_register_device``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from sync.sqlobjects import load

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Objects whose 0002 version this revision replaces (re-created from 0002 on downgrade).
REPLACED = ("grants/flourish_teacher", "functions/sync_register_device")
OBJECTS = (
    "grants/roles",
    "functions/audit_event",
    "functions/audit_append_only",
    "triggers/audit_append_only",
    "functions/sync_register_device",
    "schemas/reports",
    "reports/student_progress_summary",
    "reports/effective_levels",
    "reports/latest_assessments",
    "grants/flourish_teacher",
    "grants/flourish_admin",
    "grants/flourish_auditor",
    "policies/staff",
    "grants/ownership",
)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("login_role", sa.Text(), server_default=sa.text("session_user"), nullable=False),
        sa.Column("teacher_id", sa.String(length=10), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column(
            "detail",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"], unique=False)
    op.execute(load("grants/flourish_teacher", as_of="0002").drop)
    for name in OBJECTS:
        op.execute(load(name, as_of=revision).create)
    op.execute("SELECT audit_event('schema_upgrade', jsonb_build_object('to', '0003'))")


def downgrade() -> None:
    for name in reversed(OBJECTS):
        op.execute(load(name, as_of=revision).drop)
    for name in REPLACED:
        op.execute(load(name, as_of="0002").create)
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
