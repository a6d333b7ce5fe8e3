"""Live updates: committed changes are announced to the Flourish service.

Adds ``sync_notify()`` and, on every table a laptop pulls (plus ``sync_tombstones``,
``sync_visibility`` and ``evidence_shares``), statement-level triggers that send
``NOTIFY flourish_changes`` with the id of each teacher who can see a changed row (``*``
for a ``teachers`` row). The service's one listener per process wakes that teacher's
waiting laptops (``GET /v1/sync/wait``). No table, grant or policy changes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from sync.sqlobjects import load

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OBJECTS = ("functions/sync_notify", "triggers/sync_notify")


def upgrade() -> None:
    for name in OBJECTS:
        op.execute(load(name, as_of=revision).create)
    # The function belongs to flourish_owner like every object (its SECURITY DEFINER
    # lookups must see every row); a first installation runs as IT's own login up to here.
    op.execute(load("grants/ownership", as_of=revision).create)
    op.execute("SELECT audit_event('schema_upgrade', jsonb_build_object('to', '0008'))")


def downgrade() -> None:
    for name in reversed(OBJECTS):
        op.execute(load(name, as_of=revision).drop)
