"""The ``flourish`` command: the desktop app and its scriptable commands.

It lives in ``desktop`` because it is the program's front door: ``flourish`` with no
command (or ``app``/``demo``) opens the Qt window, and every other command reaches the same
data-layer functions the window uses. Qt is imported only by the commands that show a
window, so headless commands (``sync``, ``status``, ``server ...``) run without a display.

Exit codes: 0 success, 1 failure (one-line reason on stderr), 2 bad usage.
The command names and options are a contract (see ``README.md``); keep them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sync import paths
from sync.errors import FlourishError

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], int]


def _version() -> str:
    from desktop.shell.version import version

    return version()


def _db_url(args: argparse.Namespace) -> str:
    url = args.db or os.environ.get("FLOURISH_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url:
        raise UsageError("--db URL is required (or set FLOURISH_DATABASE_URL)")
    return str(url)


class UsageError(Exception):
    """Bad command-line usage (exit code 2)."""


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str, ensure_ascii=False))


def _print_table(rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    if not rows:
        print("(none)")
        return
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    widths = [min(w, 60) for w in widths]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        print("  ".join(v[:w].ljust(w) for v, w in zip(row, widths, strict=True)))


# -- commands -------------------------------------------------------------------------


def cmd_app(args: argparse.Namespace) -> int:
    from desktop.shell.app import run_app

    return run_app(data_dir=args.data_dir, demo=False)


def cmd_demo(args: argparse.Namespace) -> int:
    from sync.store.local import LocalStore
    from sync.store.profiles import is_demo_store

    directory = args.data_dir or str(paths.data_dir() / "Demo")
    path = Path(directory).expanduser() / paths.LOCAL_DB_NAME
    if not (args.keep and path.exists() and is_demo_store(path)):
        from sync.store.profiles import create_demo_store  # loads the demo data (and alembic)

        path = create_demo_store(directory, keep=args.keep)
    if args.no_window:
        with LocalStore.open(path, create=False) as store, store.read() as conn:
            from sync.model.queries import count_pending_reviews, student_summaries

            students = len(student_summaries(conn))
            pending = count_pending_reviews(conn)
        print(f"demo store ready at {path}: {students} students, {pending} proposals to review")
        return 0
    from desktop.shell.app import run_app

    return run_app(data_dir=directory, demo=True, quit_after_paint=args.quit_after_paint)


def cmd_server_init(args: argparse.Namespace) -> int:
    from sync.server.admin import init_server

    result = init_server(_db_url(args), demo=args.demo)
    print(result.summary())
    return 0


def cmd_server_migrate(args: argparse.Namespace) -> int:
    from sync.server.admin import migrate, migration_sql

    if args.sql:
        sys.stdout.write(migration_sql(_db_url(args), args.to))
        return 0
    before, after = migrate(_db_url(args), args.to)
    if before == after:
        print(f"schema already at {after or 'base (empty)'}")
    else:
        print(f"schema {before or 'base (empty)'} -> {after or 'base (empty)'}")
    return 0


def _open_store(args: argparse.Namespace, *, create: bool = False) -> Any:
    from sync.store.local import LocalStore

    path = paths.local_db_path(args.data_dir)
    if not path.exists() and not create:
        raise FlourishError(
            f"no local store at {path}: run 'flourish login' or 'flourish demo' first"
        )
    return LocalStore.open(path, create=create)


def cmd_list(args: argparse.Namespace) -> int:
    from sync.model.queries import assessment_rows, conflict_rows, student_summaries

    with _open_store(args) as store, store.read() as conn:
        if args.what == "students":
            rows = [s.to_dict() for s in student_summaries(conn)]
            if args.student:
                rows = [r for r in rows if r["id"] == args.student]
            if args.pending:
                rows = [r for r in rows if r["pending"]]
            columns = ["id", "name", "grade", "teacher_id", "pending", "assessed"]
        elif args.what == "assessments":
            rows = assessment_rows(conn, student_id=args.student, pending=args.pending)
            columns = ["id", "student_id", "skill_name", "level", "confidence_score", "corrected"]
        else:
            rows = conflict_rows(conn, unresolved_only=args.pending)
            if args.student:
                rows = [r for r in rows if r["student_id"] == args.student]
            columns = ["id", "table_name", "row_pk", "kind", "reason", "resolution"]
    if args.json:
        _print_json(rows)
    else:
        _print_table(rows, columns)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from sync.replication.status import local_status

    status = local_status(args.data_dir)
    if args.json:
        _print_json(status)
    else:
        for key, value in status.items():
            print(f"{key:>22}: {value}")
    return 0


def _teacher(store: Any) -> str:
    teacher = store.state("teacher_id")
    if not teacher:
        raise FlourishError("no teacher is signed in on this laptop: run 'flourish login'")
    return str(teacher)


def cmd_correct(args: argparse.Namespace) -> int:
    from sync import actions

    with _open_store(args) as store:
        result = actions.correct(
            store,
            assessment_id=args.assessment,
            teacher_id=_teacher(store),
            level=args.level,
            justification=args.justification,
            notes=args.notes,
        )
    decision = result.value
    verb = "accepted" if decision.corrected_level == decision.original_level else "corrected"
    print(
        f"assessment {args.assessment} {verb}: {decision.original_level} -> "
        f"{decision.corrected_level} (queued for sync)"
    )
    return 0


def cmd_target(args: argparse.Namespace) -> int:
    from sync import actions

    with _open_store(args) as store:
        result = actions.assign_target(
            store,
            student_id=args.student,
            skill_name=args.skill,
            target_level=args.level,
            teacher_id=_teacher(store),
        )
    t = result.value
    print(
        f"target {t.id}: {t.student_id} {t.skill_name} "
        f"{t.starting_level or 'no evidence yet'} -> {t.target_level}"
    )
    return 0


def cmd_badge(args: argparse.Namespace) -> int:
    from sync import actions

    with _open_store(args) as store:
        result = actions.grant_badge(
            store,
            student_id=args.student,
            skill_name=args.skill,
            badge_type=args.type,
            teacher_id=_teacher(store),
        )
    b = result.value
    print(f"badge {b.id}: {b.badge_type} for {b.student_id} in {b.skill_name}")
    return 0


def _password(prompt: str) -> str:
    """FLOURISH_PASSWORD, else a prompt on a terminal, else one line of standard input."""
    if os.environ.get("FLOURISH_PASSWORD"):
        return os.environ["FLOURISH_PASSWORD"]
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(prompt)
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise UsageError("no password: set FLOURISH_PASSWORD or pass it on standard input")
    return line


def cmd_server_add_teacher(args: argparse.Namespace) -> int:
    from sync.server.admin import add_teacher

    result = add_teacher(
        _db_url(args),
        teacher_id=args.id,
        login=args.login,
        password=_password(f"password for {args.login}: "),
        name=args.name,
        email=args.email,
    )
    made = "created" if result.created_teacher else "found"
    role = "new login" if result.created_role else "login updated"
    print(f"teacher {result.teacher_id} {made}; {role} {result.login}")
    return 0


def cmd_login(args: argparse.Namespace) -> int:
    from sync.replication.login import login

    with _open_store(args, create=True) as store:
        result = login(
            store,
            server_url=args.server,
            user=args.user,
            password=_password(f"password for {args.user}: "),
        )
    where = (
        "password kept in the system keyring"
        if result.password_stored
        else "no system keyring here: set FLOURISH_PASSWORD when you sync"
    )
    moved = f"; {result.renumbered} offline row(s) queued for upload" if result.renumbered else ""
    print(f"signed in as teacher {result.teacher_id} (laptop {result.device_no}); {where}{moved}")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from sync.replication.engine import SyncEngine
    from sync.replication.status import queue_status

    if args.watch:
        return _sync_watch(args)
    with _open_store(args) as store:
        with SyncEngine.from_store(store) as engine:
            report = engine.sync_once()
        queue = queue_status(store)
    print(report.summary())
    if queue["pending"] or queue["quarantined"]:
        raise FlourishError(
            f"not fully synced: {queue['pending']} change(s) pending, "
            f"{queue['quarantined']} held back (see 'flourish status')"
        )
    return 0


def _cmd_assess(args: argparse.Namespace) -> int:
    from desktop.cli.assess import cmd_assess  # lazy: the AI client loads only when used

    return cmd_assess(args)


def _sync_watch(args: argparse.Namespace) -> int:
    """Keep syncing: after each change request, every two minutes, and with backoff when
    the server cannot be reached. Stops on Ctrl+C."""
    import time

    from sync.replication.worker import SyncLoop, SyncStatus

    def show(status: SyncStatus) -> None:
        if status.state == "syncing":
            return
        line = f"{time.strftime('%H:%M:%S')} {status.state}: {status.pending} pending"
        if status.conflicts:
            line += f", {status.conflicts} conflict(s)"
        if status.last_error and status.state != "idle":
            line += f" ({status.last_error})"
        if status.next_attempt_in_s is not None:
            line += f"; next try in {status.next_attempt_in_s:.0f} s"
        print(line, flush=True)

    with _open_store(args) as store:
        loop = SyncLoop(store, on_status=show)
        loop.start()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            loop.stop()
    return 0


def _data(name: str) -> Handler:
    """A handler from :mod:`desktop.cli.data` (import, report, export, backups), loaded lazily."""

    def handler(args: argparse.Namespace) -> int:
        from desktop.cli import data as cli_data

        command: Handler = getattr(cli_data, name)
        try:
            return command(args)
        except cli_data.BadUsage as exc:
            raise UsageError(str(exc)) from exc

    return handler


def _not_yet(name: str) -> Handler:
    def handler(_args: argparse.Namespace) -> int:
        raise FlourishError(f"'{name}' is not available yet in this version of Flourish")

    return handler


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
        p.set_defaults(handler=handler)
        return p

    add("app", cmd_app, "open the desktop app (the default)")

    p = add("demo", cmd_demo, "open the app on a fresh local demo dataset (no server needed)")
    p.add_argument("--no-window", action="store_true", help="only create the demo store")
    p.add_argument("--keep", action="store_true", help="reuse an existing demo store")
    p.add_argument("--quit-after-paint", action="store_true", help=argparse.SUPPRESS)

    server = sub.add_parser("server", help="central database administration (IT)")
    server_sub = server.add_subparsers(dest="server_command", metavar="SUBCOMMAND")
    server_sub.required = True

    def add_server(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = server_sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--db", metavar="URL", help="postgresql:// URL of an admin login")
        p.set_defaults(handler=handler)
        return p

    p = add_server("init", cmd_server_init, "create/upgrade the central schema and seed data")
    p.add_argument("--demo", action="store_true", help="also load the demo dataset")
    p = add_server("migrate", cmd_server_migrate, "move the central schema to a revision")
    p.add_argument("--to", default="head", metavar="REV", help="revision (head, base, 0001, ...)")
    p.add_argument("--sql", action="store_true", help="print the SQL instead of running it")
    p = add_server("add-teacher", cmd_server_add_teacher, "add a teacher login")
    p.add_argument("--id", required=True)
    p.add_argument("--name")
    p.add_argument("--email")
    p.add_argument("--login", required=True)
    p = add_server("backup", _data("cmd_server_backup"), "pg_dump the central database")
    p.add_argument("--out", required=True, metavar="FILE")
    p = add_server("restore", _data("cmd_server_restore"), "restore a backup")
    p.add_argument("--in", dest="infile", required=True, metavar="FILE")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="parallel (not atomic)")

    p = add("login", cmd_login, "store the server and login this laptop syncs with")
    p.add_argument("--server", required=True, metavar="URL")
    p.add_argument("--user", required=True, metavar="LOGIN")
    p = add("logout", cmd_logout, "sign out: wipe the local store once nothing is unsent")
    p.add_argument("--force", action="store_true", help="discard changes not yet sent")
    add("encrypt", cmd_encrypt, "encrypt the local store at rest (key in the system keyring)")
    add("decrypt", cmd_decrypt, "turn an encrypted local store back into a plain file")
    p = add("sync", cmd_sync, "push then pull once; exit 0 only if fully synced")
    p.add_argument("--watch", action="store_true", help="keep syncing, retrying with backoff")
    p = add("status", cmd_status, "pending changes, last sync, conflicts, server reachable")
    p.add_argument("--json", action="store_true")

    p = add("list", cmd_list, "list students, assessments or conflicts")
    p.add_argument("what", choices=["students", "assessments", "conflicts"])
    p.add_argument("--student", metavar="S")
    p.add_argument("--pending", action="store_true", help="only rows awaiting a decision")
    p.add_argument("--json", action="store_true")

    p = add("correct", cmd_correct, "record a teacher decision on an assessment")
    p.add_argument("assessment", metavar="ASSESSMENT", type=int)
    p.add_argument("--level", required=True)
    p.add_argument("--justification")
    p.add_argument("--notes")
    p = add("target", cmd_target, "set a skill target for a student")
    p.add_argument("student", metavar="STUDENT")
    p.add_argument("skill", metavar="SKILL")
    p.add_argument("--level", required=True)
    p = add("badge", cmd_badge, "grant a badge")
    p.add_argument("student", metavar="STUDENT")
    p.add_argument("skill", metavar="SKILL")
    p.add_argument("--type", required=True, choices=["bronze", "silver", "gold"])

    p = add("import", _data("cmd_import"), "import a roster CSV or evidence files")
    p.add_argument("kind", choices=["roster", "evidence"])
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--dry-run", action="store_true", help="only show what would change")
    p.add_argument("--student", metavar="S", help="evidence: the student (overrides names)")
    p.add_argument("--type", metavar="TYPE", help="evidence: the entry type")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="evidence: the date")
    p.add_argument("--skip-bad", action="store_true", help="evidence: import the good files")
    p = add("assess", _cmd_assess, "AI assessment of evidence awaiting it")
    p.add_argument("--limit", type=int, metavar="N")
    p.add_argument("--calibration", action="store_true")
    p = add("report", _data("cmd_report"), "parent-conference PDF for one student")
    p.add_argument("student", metavar="STUDENT")
    p.add_argument("--out", required=True, metavar="FILE.pdf")
    p.add_argument("--include-name", action="store_true", help="print the student's name")
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD")
    p = add("export", _data("cmd_export"), "export the teacher's data as CSV files")
    p.add_argument("--out", required=True, metavar="DIR")
    p = add("backup", _data("cmd_backup"), "back up this laptop's local store")
    p.add_argument("--out", required=True, metavar="FILE")
    p = add("restore", _data("cmd_restore"), "restore this laptop's store from a backup")
    p.add_argument("--in", dest="infile", required=True, metavar="FILE")
    p.add_argument("--force", action="store_true", help="even with unsynced changes")
    return parser


def _start_log(args: argparse.Namespace) -> logging.Logger:
    """Log to the data folder the command works on (never its arguments: they may hold
    a URL with a password)."""
    from sync.logs import setup_logging

    log = logging.getLogger("flourish.cli")
    if args.command == "demo" and not args.data_dir:
        folder = paths.data_dir() / "Demo"
    else:
        folder = paths.data_dir(args.data_dir)
    try:
        setup_logging(folder)
    except OSError as exc:  # a read-only data folder must not stop the command
        print(f"flourish: cannot write the log in {folder}: {exc}", file=sys.stderr)
    log.info(
        "command %s", " ".join(filter(None, [args.command, getattr(args, "server_command", None)]))
    )
    return log


def cmd_encrypt(args: argparse.Namespace) -> int:
    from sync.store.storefile import KEY_ENV, encrypt

    path = paths.local_db_path(args.data_dir)
    if not path.exists():
        raise FlourishError(f"no local store at {path}")
    passphrase = os.environ.get(KEY_ENV)
    encrypt(path, key=passphrase)
    where = (
        f"your passphrase ({KEY_ENV}) is needed to open it"
        if passphrase
        else "its key is kept in the system keyring"
    )
    print(f"the local store is now encrypted; {where}")
    return 0


def cmd_decrypt(args: argparse.Namespace) -> int:
    from sync.store.storefile import decrypt

    decrypt(paths.local_db_path(args.data_dir))
    print("the local store is no longer encrypted")
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    from sync.replication.login import sign_out

    discarded = sign_out(paths.local_db_path(args.data_dir), force=args.force)
    extra = f" ({discarded} unsent change(s) discarded)" if discarded else ""
    print(f"signed out: the local store, its backups and saved passwords are removed{extra}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.data_dir:
        args.data_dir = str(Path(args.data_dir).expanduser())
    handler: Handler = getattr(args, "handler", None) or cmd_app
    log = _start_log(args)
    try:
        return handler(args)
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"flourish: error: {exc}", file=sys.stderr)
        return 2
    except FlourishError as exc:
        log.warning("%s failed: %s", args.command or "app", exc)
        print(f"flourish: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("flourish: interrupted", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into `head` and friends
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
