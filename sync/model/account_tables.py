"""The central server's sign-in tables (the Flourish service's, never on a laptop).

* ``teacher_accounts`` — one per teacher login: the argon2 hash of the password that
  ``flourish server add-teacher`` set. Teachers have no database login; the service checks
  the password and hands out a device token.
* ``device_tokens`` — one per signed-in laptop: only the SHA-256 of the random token is
  kept, so a copy of the table signs nobody in. IT lists and revokes them
  (``flourish server devices`` / ``revoke-device``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    LargeBinary,
    MetaData,
    Text,
    text,
)
from sqlalchemy import Table as _Table

from sync.model.columns import created_now, owning_teacher

__all__ = ["add_account_tables"]


def add_account_tables(md: MetaData) -> None:
    _Table(
        "teacher_accounts",
        md,
        Column("login", Text, primary_key=True),
        owning_teacher(),
        Column("password_hash", Text, nullable=False),
        created_now(),
        Column("password_set_at", DateTime(timezone=True), server_default=text("now()")),
        Index("ix_teacher_accounts_teacher", "teacher_id"),
    )
    _Table(
        "device_tokens",
        md,
        Column("id", BigInteger, Identity(), primary_key=True),
        owning_teacher(),
        Column("login", Text, nullable=False),
        Column("token_hash", LargeBinary, nullable=False, unique=True),
        Column("device_name", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        Column("expires_at", DateTime(timezone=True), nullable=False),
        Column("last_used_at", DateTime(timezone=True)),
        Column("revoked_at", DateTime(timezone=True)),
        Index("ix_device_tokens_teacher", "teacher_id"),
    )
