"""The Flourish service signs teachers in; teachers need no database login.

Adds ``teacher_accounts`` (argon2 password hashes set by ``flourish server add-teacher``)
and ``device_tokens`` (SHA-256 of each laptop's token; revocable by IT), the group role
``flourish_service`` (NOINHERIT member of flourish_teacher: a service login may switch a
request's transaction to the teacher role with ``SET LOCAL ROLE`` but holds no teacher
rights outside it), and a ``current_teacher_id()`` that, for a service login, reads the
teacher the service authenticated from the transaction-local ``flourish.teacher_id``.
Every policy keeps calling ``current_teacher_id()`` and is unchanged.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 06:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sync.sqlobjects import load

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Objects whose earlier version this revision replaces (re-created from it on downgrade).
REPLACED = {"functions/current_teacher_id": "0002"}
ROLES = "grants/service_role"  # with the migrating login's own rights (roles)
OBJECTS = (
    "grants/flourish_service",
    "functions/current_teacher_id",
    "policies/service_accounts",
    "grants/flourish_admin",
    "grants/ownership",
)


def upgrade() -> None:
    op.create_table(
        "teacher_accounts",
        sa.Column("login", sa.Text(), nullable=False),
        sa.Column("teacher_id", sa.String(length=10), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True
        ),
        sa.Column(
            "password_set_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(["teacher_id"], ["teachers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("login"),
    )
    op.create_index("ix_teacher_accounts_teacher", "teacher_accounts", ["teacher_id"])
    op.create_table(
        "device_tokens",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("teacher_id", sa.String(length=10), nullable=False),
        sa.Column("login", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("device_name", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["teacher_id"], ["teachers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_device_tokens_teacher", "device_tokens", ["teacher_id"])
    _with_login_rights(load(ROLES, as_of=revision).create)
    for name in OBJECTS:
        op.execute(load(name, as_of=revision).create)
    op.execute("SELECT audit_event('schema_upgrade', jsonb_build_object('to', '0007'))")


def downgrade() -> None:
    # Admin grants and ownership of the two tables go with them.
    for name in ("policies/service_accounts", "grants/flourish_service"):
        op.execute(load(name, as_of=revision).drop)
    for name, as_of in REPLACED.items():
        op.execute(load(name, as_of=as_of).create)
    _with_login_rights(load(ROLES, as_of=revision).drop)
    op.drop_index("ix_device_tokens_teacher", table_name="device_tokens")
    op.drop_table("device_tokens")
    op.drop_index("ix_teacher_accounts_teacher", table_name="teacher_accounts")
    op.drop_table("teacher_accounts")


def _with_login_rights(statement: str) -> None:
    """Run ``statement`` as the migrating login itself: migrations otherwise run as
    flourish_owner (sql/migrations/env.py), which may not create roles or grant them."""
    if op.get_context().as_sql:
        op.execute(statement)
        return
    current, session = op.get_bind().exec_driver_sql("SELECT current_user, session_user").one()
    if current == session:
        op.execute(statement)
        return
    op.execute("RESET ROLE")
    op.execute(statement)
    op.execute(f'SET LOCAL ROLE "{current}"')
