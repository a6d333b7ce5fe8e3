"""External ids: the id a school's own system gives each student and teacher.

``students`` and ``teachers`` gain ``external_source`` (the system: ``oneroster``,
``clever``, ``sis``) and ``external_id`` (its id for the person: a number, a UUID or a user
name), unique per source. Flourish's own ids (``S001``, ``T001``) stay as they are; the
roster import matches returning students by their external id and gives new ones a Flourish
id. Both columns sync: a teacher's login may read and write them on students (the grant
lists the table's columns when it is applied, so it is applied again here) and read them
on teachers, where only the teacher's own row may change (``policies/teachers``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sync.sqlobjects import load

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("teachers", "students")
# Re-created here; its earlier text is kept under objects/_history/0003/.
GRANTS = "grants/flourish_teacher"
# Its drop revokes the teacher role's rights on every table, so the grants kept in files of
# their own (0005's evidence_shares) are given again after it, both ways.
OWN_GRANTS = ("grants/evidence_shares",)


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("external_source", sa.String(length=40), nullable=True))
        op.add_column(table, sa.Column("external_id", sa.String(length=255), nullable=True))
        op.create_index(
            f"ux_{table}_external", table, ["external_source", "external_id"], unique=True
        )
    op.execute(load(GRANTS, as_of="0003").drop)
    op.execute(load(GRANTS, as_of=revision).create)
    for name in OWN_GRANTS:
        op.execute(load(name, as_of="0005").create)


def downgrade() -> None:
    op.execute(load(GRANTS, as_of=revision).drop)
    for table in reversed(TABLES):
        op.drop_index(f"ux_{table}_external", table_name=table)
        op.drop_column(table, "external_id")
        op.drop_column(table, "external_source")
    op.execute(load(GRANTS, as_of="0003").create)
    for name in OWN_GRANTS:
        op.execute(load(name, as_of="0005").create)
