"""A pull's cost no longer grows with the district: corrections are scoped per teacher.

The ``teacher_corrections`` policy was ``EXISTS (SELECT 1 FROM assessments a WHERE a.id =
assessment_id)``; for a pull page the planner turned it into a hashed subplan that read
every assessment of the district through the assessments policy (about 120 ms per pull
with 30,000 students). It now reads the teacher's own assessment ids once per statement
(``own_assessment_ids()``, SECURITY DEFINER like ``own_student_ids()``). The rows it lets
through are the same. No table or index changes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from sync.sqlobjects import load

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Objects whose earlier version this revision replaces: name -> the revision whose
# version a downgrade restores.
REPLACED = {"policies/teacher_corrections": "0002"}
ADDED = ("functions/own_assessment_ids",)


def upgrade() -> None:
    for name in ADDED:
        op.execute(load(name, as_of=revision).create)
    for name, older in REPLACED.items():
        op.execute(load(name, as_of=older).drop)  # policies cannot be replaced in place
        op.execute(load(name, as_of=revision).create)
    # New functions belong to flourish_owner (see 0008).
    op.execute(load("grants/ownership", as_of=revision).create)
    op.execute("SELECT audit_event('schema_upgrade', jsonb_build_object('to', '0009'))")


def downgrade() -> None:
    for name, older in REPLACED.items():
        op.execute(load(name, as_of=revision).drop)
        op.execute(load(name, as_of=older).create)
    for name in reversed(ADDED):
        op.execute(load(name, as_of=revision).drop)
