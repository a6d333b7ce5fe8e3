"""IT's side of the service: teachers' passwords, the service's login, devices.

``flourish server add-teacher`` sets the teacher's password for the service
(:func:`sync.server.accounts.set_password`); ``add-service-login`` creates the one
database login the service runs as (a member of ``flourish_service``, owning nothing);
``devices`` and ``revoke-device`` list and revoke laptops' tokens. All run with IT's URL.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg2.extensions
from psycopg2 import sql as psql
from sqlalchemy import text

from sync.errors import ValidationError
from sync.server import accounts
from sync.server.admin import _admin_connection, audit

__all__ = ["add_service_login", "devices", "revoke_device"]

_LOGIN_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def add_service_login(url: str, *, login: str, password: str) -> bool:
    """Create (or re-password) the service's database login; True if it is new."""
    if not _LOGIN_NAME.match(login):
        raise ValidationError(
            f"login {login!r}: use lower-case letters, digits and _ (at most 63, not a digit first)"
        )
    if len(password) < 12:
        raise ValidationError("the service's password must have at least 12 characters")
    with _admin_connection(url) as conn, conn.begin():
        created = not conn.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": login}
        ).first()
        raw: Any = conn.connection.dbapi_connection
        # a SCRAM verifier made by libpq here: the plain password never reaches the server
        verifier = psycopg2.extensions.encrypt_password(password, login, raw, "scram-sha-256")
        with raw.cursor() as cur:
            verb = "CREATE" if created else "ALTER"
            cur.execute(
                psql.SQL(
                    verb + " ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %s"
                ).format(psql.Identifier(login)),
                (verifier,),
            )
            cur.execute(psql.SQL("GRANT flourish_service TO {}").format(psql.Identifier(login)))
        audit(conn, "add_service_login", login=login, created=created)
    return created


def devices(url: str, *, include_revoked: bool = False) -> list[accounts.Device]:
    with _admin_connection(url) as conn, conn.begin():
        return accounts.list_devices(conn, include_revoked=include_revoked)


def revoke_device(url: str, device: str) -> list[int]:
    """Revoke a device token (by id) or all of a login's or teacher's; the ids revoked."""
    with _admin_connection(url) as conn, conn.begin():
        revoked = accounts.revoke_device(conn, device)
        audit(conn, "revoke_device", device=device, revoked=revoked)
    return revoked
