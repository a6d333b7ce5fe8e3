"""Teacher passwords and device tokens, as the server keeps them.

Passwords are argon2id hashes (argon2-cffi's defaults: memory-hard, salted, tunable).
A device token is 32 random bytes shown once to the laptop; the server keeps only its
SHA-256 (the token is random, so a fast hash is enough: there is nothing to guess), so a
copy of ``device_tokens`` signs nobody in. These functions take an open connection; the
caller owns the transaction.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, text

from sync.errors import AuthError, ValidationError

__all__ = [
    "TOKEN_LIFETIME",
    "TOKEN_PREFIX",
    "Device",
    "Identity",
    "SignInRequired",
    "authenticate",
    "hash_password",
    "issue_token",
    "list_devices",
    "revoke_device",
    "set_password",
    "token_hash",
]

TOKEN_PREFIX = "flt_"
TOKEN_LIFETIME = timedelta(days=180)
_TOKEN = re.compile(r"^flt_[A-Za-z0-9_-]{43}$")
_HASHER = PasswordHasher()
# Verified against when the login is unknown, so that a wrong login costs as long as a
# wrong password and timing does not tell which logins exist.
_DUMMY_HASH = _HASHER.hash("flourish: no such login")

SIGNED_OUT = "signed out by your school's IT: sign in again"
EXPIRED = "your sign-in has expired: sign in again"
UNKNOWN = "not signed in (unknown device token): sign in again"
WRONG_PASSWORD = "sign-in rejected: wrong login or password"


class SignInRequired(AuthError):
    """The request's credentials sign nobody in (HTTP 401); the message says what to do."""


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ValidationError("the password must have at least 8 characters")
    return _HASHER.hash(password)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def set_password(conn: Connection, *, login: str, teacher_id: str, password: str) -> bool:
    """Create or update a teacher's account; True if it is new."""
    created = (
        conn.execute(text("SELECT 1 FROM teacher_accounts WHERE login = :l"), {"l": login}).first()
        is None
    )
    conn.execute(
        text(
            "INSERT INTO teacher_accounts (login, teacher_id, password_hash) "
            "VALUES (:l, :t, :h) ON CONFLICT (login) DO UPDATE SET "
            "teacher_id = EXCLUDED.teacher_id, password_hash = EXCLUDED.password_hash, "
            "password_set_at = now()"
        ),
        {"l": login, "t": teacher_id, "h": hash_password(password)},
    )
    return created


@dataclass(frozen=True)
class Identity:
    """Who a request speaks for: the teacher and the device token it presented."""

    teacher_id: str
    login: str
    token_id: int


def issue_token(
    conn: Connection, *, login: str, password: str, device_name: str
) -> tuple[str, Identity]:
    """Check the password; a new device token (shown only now) and whom it stands for."""
    row = conn.execute(
        text("SELECT teacher_id, password_hash FROM teacher_accounts WHERE login = :l"),
        {"l": login},
    ).first()
    stored = row.password_hash if row is not None else _DUMMY_HASH
    try:
        _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise SignInRequired(WRONG_PASSWORD) from None
    if row is None:
        raise SignInRequired(WRONG_PASSWORD)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = conn.execute(
        text(
            "INSERT INTO device_tokens (teacher_id, login, token_hash, device_name, expires_at)"
            " VALUES (:t, :l, :h, :d, now() + :life) RETURNING id"
        ),
        {
            "t": row.teacher_id,
            "l": login,
            "h": token_hash(token),
            "d": device_name,
            "life": TOKEN_LIFETIME,
        },
    ).scalar_one()
    return token, Identity(row.teacher_id, login, int(token_id))


def authenticate(conn: Connection, token: str) -> Identity:
    """The identity a bearer token stands for; AuthError with the reason otherwise."""
    if not _TOKEN.match(token):
        raise SignInRequired(UNKNOWN)
    row = conn.execute(
        text(
            "SELECT id, teacher_id, login, revoked_at IS NOT NULL AS revoked, "
            "expires_at <= now() AS expired FROM device_tokens WHERE token_hash = :h"
        ),
        {"h": token_hash(token)},
    ).first()
    if row is None:
        raise SignInRequired(UNKNOWN)
    if row.revoked:
        raise SignInRequired(SIGNED_OUT)
    if row.expired:
        raise SignInRequired(EXPIRED)
    conn.execute(
        text(
            "UPDATE device_tokens SET last_used_at = now() WHERE id = :i "
            "AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')"
        ),
        {"i": row.id},
    )
    return Identity(row.teacher_id, row.login, int(row.id))


@dataclass(frozen=True)
class Device:
    id: int
    teacher_id: str
    login: str
    device_name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    revoked_at: datetime | None


def list_devices(conn: Connection, *, include_revoked: bool = False) -> list[Device]:
    where = "" if include_revoked else "WHERE revoked_at IS NULL"
    rows = conn.execute(
        text(
            "SELECT id, teacher_id, login, device_name, created_at, last_used_at, expires_at, "
            f"revoked_at FROM device_tokens {where} ORDER BY teacher_id, id"
        )
    )
    return [Device(**r._mapping) for r in rows]


def revoke_device(conn: Connection, device: int | str) -> list[int]:
    """Revoke one token by id, or every token of a login or teacher id; the ids revoked."""
    params: dict[str, object]
    if isinstance(device, int) or str(device).isdigit():
        where, params = "id = :d", {"d": int(device)}
    else:
        where, params = "(login = :d OR teacher_id = :d)", {"d": str(device)}
    ids = conn.execute(
        text(
            f"UPDATE device_tokens SET revoked_at = now() WHERE {where} "
            "AND revoked_at IS NULL RETURNING id"
        ),
        params,
    ).scalars()
    revoked = sorted(int(i) for i in ids)
    if not revoked:
        known = conn.execute(text(f"SELECT count(*) FROM device_tokens WHERE {where}"), params)
        if not known.scalar_one():
            raise ValidationError(f"no device {device!s}: see 'flourish server devices'")
    return revoked
