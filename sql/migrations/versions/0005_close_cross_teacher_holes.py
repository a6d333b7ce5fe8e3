"""Close the ways a teacher could read, hide or destroy another teacher's data.

Row level security alone left gaps, closed here in the database so that they hold for any
client (see sql/README.md, "Attacks we test"):

* shared evidence becomes an explicit grant, ``evidence_shares`` (entry -> student), that
  only the entry's owner or IT can make; the ``data_entries`` shared-read policy reads it
  instead of trusting any assessment the reader wrote. Links made before this revision
  are kept as shares granted by nobody (``granted_by`` NULL) for IT to review;
* ``guard_teacher_write()`` (BEFORE INSERT OR UPDATE): authors are the signed-in teacher,
  new ids lie in the teacher's own laptops' ranges (or were handed out by the server),
  ids whose deletion is addressed to another teacher stay theirs, assessments rest on
  the teacher's own or shared evidence;
* ``guard_teacher_delete()`` (BEFORE DELETE): a teacher's delete never cascades into
  another teacher's rows;
* tombstones are forgotten only for their own teacher; rows deleted with their student
  are addressed to that student's teacher;
* ``sync_stamp``, ``server_hlc`` and ``sync_student_visibility`` get a pinned search_path
  and schema-qualified names (``sync_stamp`` and the visibility trigger run as the owner);
* ``sync_register_device`` caps host name and version lengths and laptops per teacher.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 06:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sync.sqlobjects import load

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Objects whose earlier version this revision replaces: name -> the revision whose
# version a downgrade restores.
REPLACED = {
    "functions/server_hlc": "0001",
    "functions/sync_stamp": "0001",
    "functions/sync_student_visibility": "0001",
    "functions/sync_tombstone": "0002",
    "functions/sync_forget_tombstone": "0002",
    "functions/sync_register_device": "0003",
    "policies/data_entries": "0002",
}
# New objects, in creation order (after the replaced functions: the data_entries policy
# calls shared_entry_ids()).
ADDED = (
    "functions/owns_entry",
    "functions/shared_entry_ids",
    "functions/guard_teacher_write",
    "functions/guard_teacher_delete",
    "functions/evidence_share_stamp",
    "triggers/guard_triggers",
    "grants/evidence_shares",
    "policies/evidence_shares",
)
_BEFORE_POLICY = ("functions/owns_entry", "functions/shared_entry_ids")

# Cross-teacher links that exist already: kept, as shares granted by nobody.
_BACKFILL = """
INSERT INTO evidence_shares (data_entry_id, student_id, granted_by)
SELECT DISTINCT a.data_entry_id, a.student_id, NULL
FROM assessments a
JOIN data_entries d ON d.id = a.data_entry_id
JOIN students es ON es.id = d.student_id
JOIN students s ON s.id = a.student_id
WHERE es.teacher_id IS DISTINCT FROM s.teacher_id
ON CONFLICT DO NOTHING
"""


# A first installation runs every revision as the installing login (the database is
# handed to flourish_owner by 0003): hand this revision's new objects over too.
_HAND_OVER = """
DO $$
BEGIN
    IF current_user <> 'flourish_owner' THEN
        ALTER TABLE evidence_shares OWNER TO flourish_owner;
        ALTER FUNCTION owns_entry(varchar) OWNER TO flourish_owner;
        ALTER FUNCTION shared_entry_ids() OWNER TO flourish_owner;
        ALTER FUNCTION guard_teacher_write() OWNER TO flourish_owner;
        ALTER FUNCTION guard_teacher_delete() OWNER TO flourish_owner;
        ALTER FUNCTION evidence_share_stamp() OWNER TO flourish_owner;
    END IF;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "evidence_shares",
        sa.Column("data_entry_id", sa.String(length=20), nullable=False),
        sa.Column("student_id", sa.String(length=10), nullable=False),
        sa.Column("granted_by", sa.String(length=10), nullable=True),
        sa.Column(
            "granted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["data_entry_id"], ["data_entries.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["granted_by"], ["teachers.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["student_id"], ["students.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("data_entry_id", "student_id"),
    )
    op.create_index("ix_evidence_shares_student", "evidence_shares", ["student_id"], unique=False)
    for name in _BEFORE_POLICY:
        op.execute(load(name, as_of=revision).create)
    for name, older in REPLACED.items():
        if name.startswith("policies/"):  # policies cannot be replaced in place
            op.execute(load(name, as_of=older).drop)
        op.execute(load(name, as_of=revision).create)
    for name in ADDED:
        if name not in _BEFORE_POLICY:
            op.execute(load(name, as_of=revision).create)
    op.execute(_HAND_OVER)
    op.execute(_BACKFILL)
    op.execute(
        "SELECT audit_event('schema_upgrade', jsonb_build_object('to', '0005', "
        "'evidence_shares_kept', (SELECT count(*) FROM evidence_shares)))"
    )


def downgrade() -> None:
    for name in reversed(ADDED):
        if name not in _BEFORE_POLICY:
            op.execute(load(name, as_of=revision).drop)
    for name, older in REPLACED.items():
        if name.startswith("policies/"):
            op.execute(load(name, as_of=revision).drop)
        op.execute(load(name, as_of=older).create)
    for name in reversed(_BEFORE_POLICY):
        op.execute(load(name, as_of=revision).drop)
    op.drop_index("ix_evidence_shares_student", table_name="evidence_shares")
    op.drop_table("evidence_shares")
