"""A PostgreSQL login of a teacher's own, for the tests that show the database guards itself.

Flourish gives teachers no database login (laptops sync through the service). The database
still maps a login listed in ``teacher_logins`` to its teacher, and its policies must hold
against such a session too: the guard tests (the security matrix, the attacks, a teacher
trying a backup) make one here, the way an administrator could by hand.
"""

from __future__ import annotations

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from sync.server.central import normalise_url


def teacher_database_login(admin_url: str, *, login: str, teacher_id: str, password: str) -> None:
    """Create (or reset) ``login`` as a member of ``flourish_teacher`` mapped to ``teacher_id``."""
    parsed = normalise_url(admin_url)
    conn = psycopg2.connect(
        host=parsed.host,
        port=parsed.port or 5432,
        dbname=parsed.database,
        user=parsed.username,
        password=parsed.password,
    )
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,))
            verb = "ALTER" if cur.fetchone() else "CREATE"
            verifier = psycopg2.extensions.encrypt_password(password, login, conn, "scram-sha-256")
            cur.execute(
                sql.SQL(verb + " ROLE {} WITH LOGIN PASSWORD %s").format(sql.Identifier(login)),
                (verifier,),
            )
            cur.execute(sql.SQL("GRANT flourish_teacher TO {}").format(sql.Identifier(login)))
            cur.execute(
                "INSERT INTO teacher_logins (login_role, teacher_id) VALUES (%s, %s) "
                "ON CONFLICT (login_role) DO UPDATE SET teacher_id = EXCLUDED.teacher_id",
                (login, teacher_id),
            )
        conn.commit()
    finally:
        conn.close()
