"""``flourish server ...``: IT's commands for the central database."""

from __future__ import annotations

import argparse
import sys

from desktop.cli._common import UsageError, db_url, password

__all__ = [
    "cmd_server_add_teacher",
    "cmd_server_backup",
    "cmd_server_init",
    "cmd_server_migrate",
    "cmd_server_restore",
]


def cmd_server_init(args: argparse.Namespace) -> int:
    from sync.server.admin import init_server

    result = init_server(db_url(args), demo=args.demo)
    print(result.summary())
    return 0


def cmd_server_migrate(args: argparse.Namespace) -> int:
    from sync.server.admin import migrate, migration_sql

    if args.sql:
        sys.stdout.write(migration_sql(db_url(args), args.to))
        return 0
    before, after = migrate(db_url(args), args.to)
    if before == after:
        print(f"schema already at {after or 'base (empty)'}")
    else:
        print(f"schema {before or 'base (empty)'} -> {after or 'base (empty)'}")
    return 0


def cmd_server_add_teacher(args: argparse.Namespace) -> int:
    from sync.server.admin import add_teacher

    result = add_teacher(
        db_url(args),
        teacher_id=args.id,
        login=args.login,
        password=password(f"password for {args.login}: "),
        name=args.name,
        email=args.email,
    )
    made = "created" if result.created_teacher else "found"
    new = "new login" if result.created_account else "login updated"
    print(
        f"teacher {result.teacher_id} {made}; {new} {result.login} "
        "(password for the Flourish service; no database login)"
    )
    return 0


def cmd_server_backup(args: argparse.Namespace) -> int:
    from sync.server.backup import backup_server

    print(backup_server(db_url(args), args.out).summary())
    return 0


def cmd_server_restore(args: argparse.Namespace) -> int:
    from sync.server.backup import restore_server

    if args.jobs < 1:
        raise UsageError("--jobs must be 1 or more")
    print(restore_server(db_url(args), args.infile, jobs=args.jobs).summary())
    return 0
