"""The ``flourish`` parser and its dispatch: every subcommand names its handler function."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from desktop.cli import account, app, data, server, service, students, teaching
from desktop.cli._common import UsageError
from sync import paths
from sync.errors import FlourishError

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], int]


def _version() -> str:
    from desktop.core.version import version

    return version()


# -- commands -------------------------------------------------------------------------


def cmd_assess(args: argparse.Namespace) -> int:
    from desktop.cli.assess import cmd_assess as run  # the AI client loads only when used

    return run(args)


# -- parser -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flourish",
        description="Flourish Desktop: review AI skill assessments offline, sync when online.",
    )
    parser.add_argument("--version", action="version", version=f"flourish {_version()}")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help=f"where the local store lives (default: ${paths.DATA_DIR_ENV} or the "
        "platform's user data folder)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler, usage_of=p)
        return p

    add("app", app.cmd_app, "open the desktop app (the default)")

    p = add("demo", app.cmd_demo, "open the app on a fresh local demo dataset (no server needed)")
    p.add_argument("--no-window", action="store_true", help="only create the demo store")
    p.add_argument("--keep", action="store_true", help="reuse an existing demo store")
    p.add_argument("--quit-after-paint", action="store_true", help=argparse.SUPPRESS)

    server_parser = sub.add_parser("server", help="central database administration (IT)")
    server_sub = server_parser.add_subparsers(dest="server_command", metavar="SUBCOMMAND")
    server_sub.required = True

    def add_server(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = server_sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--db", metavar="URL", help="postgresql:// URL of an admin login")
        p.set_defaults(handler=handler, usage_of=p)
        return p

    p = add_server(
        "init", server.cmd_server_init, "create/upgrade the central schema and seed data"
    )
    p.add_argument("--demo", action="store_true", help="also load the demo dataset")
    p = add_server("migrate", server.cmd_server_migrate, "move the central schema to a revision")
    p.add_argument("--to", default="head", metavar="REV", help="revision (head, base, 0001, ...)")
    p.add_argument("--sql", action="store_true", help="print the SQL instead of running it")
    p = add_server(
        "add-teacher", server.cmd_server_add_teacher, "add a teacher or set their password"
    )
    p.add_argument("--id", required=True)
    p.add_argument("--name")
    p.add_argument("--email")
    p.add_argument("--login", required=True)
    # accepted for the scripts of the service's first stage; teachers never get one now
    p.add_argument("--no-database-login", action="store_true", help=argparse.SUPPRESS)
    p = add_server("serve", service.cmd_server_serve, "run the Flourish sync service")
    p.add_argument("--bind", default="127.0.0.1:8443", metavar="HOST:PORT")
    p.add_argument("--tls-cert", metavar="FILE", help="PEM certificate chain")
    p.add_argument("--tls-key", metavar="FILE", help="PEM private key")
    p.add_argument("--pool-size", type=int, default=8, metavar="N", help="database connections")
    p.add_argument(
        "--listen-db",
        metavar="URL",
        help="where live updates LISTEN (default: --db; give the database itself when --db "
        "is a transaction-mode pooler such as PgBouncer)",
    )
    p.add_argument(
        "--device-rate",
        type=float,
        default=20.0,
        metavar="N",
        help="requests a second per device, in this process (default 20)",
    )
    p.add_argument(
        "--device-burst",
        type=int,
        default=120,
        metavar="N",
        help="requests a device may send at once (default 120)",
    )
    p = add_server(
        "add-service-login",
        service.cmd_server_add_service_login,
        "create the database login the service runs as",
    )
    p.add_argument("--login", required=True)
    p = add_server("devices", service.cmd_server_devices, "list signed-in laptops")
    p.add_argument("--all", action="store_true", help="revoked ones too")
    p.add_argument("--json", action="store_true")
    p = add_server(
        "revoke-device", service.cmd_server_revoke_device, "sign a laptop (or a login) out"
    )
    p.add_argument("device", metavar="DEVICE", help="device id, or a login or teacher id: all")
    p = add_server("backup", server.cmd_server_backup, "pg_dump the central database")
    p.add_argument("--out", required=True, metavar="FILE")
    p = add_server("restore", server.cmd_server_restore, "restore a backup")
    p.add_argument("--in", dest="infile", required=True, metavar="FILE")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="parallel (not atomic)")

    p = add("login", account.cmd_login, "store the server and login this laptop syncs with")
    p.add_argument("--server", required=True, metavar="URL", help="https://HOST[:PORT]")
    p.add_argument("--user", required=True, metavar="LOGIN")
    p.add_argument("--ca-cert", metavar="FILE", help="trust this CA (the school's own)")
    p = add("logout", account.cmd_logout, "sign out: wipe the local store once nothing is unsent")
    p.add_argument("--force", action="store_true", help="discard changes not yet sent")
    add(
        "encrypt",
        account.cmd_encrypt,
        "encrypt the local store at rest (key in the system keyring)",
    )
    add("decrypt", account.cmd_decrypt, "turn an encrypted local store back into a plain file")
    p = add("sync", account.cmd_sync, "push then pull once; exit 0 only if fully synced")
    p.add_argument("--watch", action="store_true", help="keep syncing, retrying with backoff")
    p = add("status", account.cmd_status, "pending changes, last sync, conflicts, server reachable")
    p.add_argument("--json", action="store_true")

    p = add("list", teaching.cmd_list, "list students, assessments or conflicts")
    p.add_argument("what", choices=["students", "assessments", "conflicts"])
    p.add_argument("--student", metavar="S")
    p.add_argument("--pending", action="store_true", help="only rows awaiting a decision")
    p.add_argument("--json", action="store_true")

    p = add("correct", teaching.cmd_correct, "record a teacher decision on an assessment")
    p.add_argument("assessment", metavar="ASSESSMENT", type=int)
    p.add_argument("--level", required=True)
    p.add_argument("--justification")
    p.add_argument("--notes")
    p = add("target", teaching.cmd_target, "set a skill target for a student")
    p.add_argument("student", metavar="STUDENT")
    p.add_argument("skill", metavar="SKILL")
    p.add_argument("--level", required=True)
    p = add("badge", teaching.cmd_badge, "grant a badge")
    p.add_argument("student", metavar="STUDENT")
    p.add_argument("skill", metavar="SKILL")
    p.add_argument("--type", required=True, choices=["bronze", "silver", "gold"])

    p = add("add-student", students.cmd_add_student, "add one student (id assigned if not given)")
    students.add_arguments(p)
    p = add("import", data.cmd_import, "import a roster CSV or evidence files")
    p.add_argument("kind", choices=["roster", "evidence"])
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--dry-run", action="store_true", help="only show what would change")
    p.add_argument("--student", metavar="S", help="evidence: the student (overrides names)")
    p.add_argument("--type", metavar="TYPE", help="evidence: the entry type")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="evidence: the date")
    p.add_argument("--skip-bad", action="store_true", help="evidence: import the good files")
    p.add_argument("--teacher", metavar="T001", help="roster: the chosen classes join T001's")
    p.add_argument(
        "--classes", metavar="ID[,ID...]", help="roster: the classes to import (with --teacher)"
    )
    p = add("assess", cmd_assess, "AI assessment of evidence awaiting it")
    p.add_argument("--limit", type=int, metavar="N")
    p.add_argument(
        "--skills",
        metavar="SKILL[,SKILL...]",
        help="ask only about these skills (names, SEL/EF/21st_Century, or all); "
        "default: the skills likely in each entry's type",
    )
    p.add_argument(
        "--entry",
        action="append",
        metavar="ID",
        help="assess this entry (again), whatever its state; repeatable",
    )
    p.add_argument("--calibration", action="store_true")
    p.add_argument(
        "--test-connection",
        action="store_true",
        help="find out what the AI endpoint supports (output mode, context, slots) and exit",
    )
    p = add("report", data.cmd_report, "parent-conference PDF for one student")
    p.add_argument("student", metavar="STUDENT")
    p.add_argument("--out", required=True, metavar="FILE.pdf")
    p.add_argument("--include-name", action="store_true", help="print the student's name")
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD")
    p = add("export", data.cmd_export, "export the teacher's data as CSV files")
    p.add_argument("--out", required=True, metavar="DIR")
    p = add("backup", data.cmd_backup, "back up this laptop's local store")
    p.add_argument("--out", required=True, metavar="FILE")
    p = add("restore", data.cmd_restore, "restore this laptop's store from a backup")
    p.add_argument("--in", dest="infile", required=True, metavar="FILE")
    p.add_argument("--force", action="store_true", help="even with unsynced changes")
    add(
        "redownload",
        data.cmd_redownload,
        "download a fresh copy from the server (a damaged store too), keeping unsent changes",
    )
    return parser


def _start_log(args: argparse.Namespace) -> logging.Logger:
    """Log to the data folder the command works on (never its arguments: they may hold
    a URL with a password)."""
    from sync.logs import setup_logging

    log = logging.getLogger("flourish.cli")
    try:
        if args.command == "demo" and not args.data_dir:
            folder = paths.data_dir() / "Demo"
        else:
            folder = paths.data_dir(args.data_dir)
        setup_logging(folder)
    except (OSError, FlourishError):  # an unusable data folder must not stop the command:
        # the store's own error names the folder and the fix when the command needs it
        logging.getLogger().addHandler(logging.NullHandler())  # (no second line on stderr)
    log.info(
        "command %s", " ".join(filter(None, [args.command, getattr(args, "server_command", None)]))
    )
    return log


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.data_dir:
        args.data_dir = str(Path(args.data_dir).expanduser())
    handler: Handler = getattr(args, "handler", None) or app.cmd_app
    log = _start_log(args)
    try:
        return handler(args)
    except UsageError as exc:
        getattr(args, "usage_of", parser).print_usage(sys.stderr)
        print(f"flourish: error: {exc}", file=sys.stderr)
        return 2
    except FlourishError as exc:
        log.warning("%s failed: %s", args.command or "app", exc)
        print(f"flourish: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("flourish: interrupted", file=sys.stderr)
        return 1
    except Exception as exc:  # SQLite's "malformed": one line on the damage, not a traceback
        from sync.store.health import damage_from

        damaged = damage_from(paths.local_db_path(args.data_dir), exc)
        if damaged is None:
            raise
        log.warning("%s failed: %s", args.command or "app", damaged)
        print(f"flourish: {damaged}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into `head` and friends
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
