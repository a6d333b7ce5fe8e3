"""Alembic environment for the central Flourish schema.

Run through ``flourish server migrate`` / ``flourish server init`` (which hand over an open
connection in ``config.attributes["connection"]``), or offline to print the SQL:
``flourish server migrate --db URL --sql``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from sync.model.tables import CENTRAL

config = context.config
target_metadata = CENTRAL.metadata


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        version_table="alembic_version",
        **kwargs,
    )


def run_offline() -> None:
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _as_owner(connection: Connection) -> None:
    """Create new objects as flourish_owner once a database has been handed to it (0003)."""
    ready = connection.exec_driver_sql(
        "SELECT to_regclass('public.teachers') IS NOT NULL "
        "AND (SELECT pg_get_userbyid(relowner) FROM pg_class "
        "     WHERE oid = to_regclass('public.teachers')) = 'flourish_owner' "
        "AND pg_has_role(current_user, 'flourish_owner', 'MEMBER')"
    ).scalar()
    if ready:
        connection.exec_driver_sql("SET LOCAL ROLE flourish_owner")


def run_online(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        _as_owner(connection)
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    conn = config.attributes.get("connection")
    if conn is None:
        from sync.server.central import create_engine_for

        engine = create_engine_for(config.get_main_option("sqlalchemy.url") or "")
        with engine.connect() as fresh:
            run_online(fresh)
            fresh.commit()
    else:
        run_online(conn)
