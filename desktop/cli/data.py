"""The data in/out commands of ``flourish``: import, report, export, backup and restore.

Kept apart from :mod:`desktop.cli` (which imports this module only when one of these
commands runs) so the command table stays short. Each handler calls the same data-layer
function the app calls (:mod:`sync.io.roster`, :mod:`sync.io.evidence_import`,
:mod:`sync.io.export`, :mod:`sync.server.backup`, :mod:`sync.store.localbackup`,
:func:`desktop.report.render_report`) and prints what happened; errors propagate as
:class:`~sync.errors.FlourishError` for ``main`` to print (a refused roster prints every
problem, one per line, under its one-line summary).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from typing import Any

from sync import paths
from sync.errors import FlourishError

__all__ = [
    "BadUsage",
    "cmd_backup",
    "cmd_export",
    "cmd_import",
    "cmd_report",
    "cmd_restore",
    "cmd_server_backup",
    "cmd_server_restore",
]

_SHOWN = 20  # changes listed one by one before "... and N more"


class BadUsage(Exception):
    """Bad command-line usage; :mod:`desktop.cli` turns it into its UsageError (exit 2).

    (This module does not import :mod:`desktop.cli`: run as ``python -m desktop.cli`` that
    module is ``__main__``, and a second copy would have a different UsageError class.)
    """


def _open_store(args: argparse.Namespace, *, create: bool = False) -> Any:
    from sync.store.local import LocalStore

    path = paths.local_db_path(args.data_dir)
    if not path.exists() and not create:
        raise FlourishError(
            f"no local store at {path}: run 'flourish login' or 'flourish demo' first"
        )
    return LocalStore.open(path, create=create)


def _db_url(args: argparse.Namespace) -> str:
    url = args.db or os.environ.get("FLOURISH_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url:
        raise BadUsage("--db URL is required (or set FLOURISH_DATABASE_URL)")
    return str(url)


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise BadUsage(f"{option} must be a date like 2026-10-12, not {value!r}") from exc


def _import_roster(args: argparse.Namespace, store: Any) -> int:
    from sync.io.roster import import_roster, preview_roster

    preview = preview_roster(store, args.paths)
    print(preview.summary())
    for note in preview.notes:
        print(f"  {note}")
    changes = [c for c in preview.changes if c.kind != "unchanged"]
    for change in changes[:_SHOWN]:
        row = change.row
        if change.kind == "add":
            print(f"  add     {row.student_id}  {row.name}, grade {row.grade}, {row.teacher_id}")
        else:
            before = change.before
            assert before is not None
            what = ", ".join(
                f"{field} {getattr(before, field)!s} -> {getattr(row, field)!s}"
                if field != "teacher_id"
                else f"teacher {before.teacher_id} -> {row.teacher_id}"
                for field in change.changed_fields
            )
            print(f"  update  {row.student_id}  {what}")
    if len(changes) > _SHOWN:
        print(f"  ... and {len(changes) - _SHOWN} more")
    if args.dry_run:
        print("dry run: nothing was imported")
        return 0
    result = import_roster(store, args.paths)
    print(result.summary())
    return 0


def _import_evidence(args: argparse.Namespace, store: Any) -> int:
    from sync.io.evidence_import import import_evidence, preview_evidence

    options = {
        "student_id": args.student,
        "entry_type": args.type,
        "date": _date(args.date, "--date"),
    }
    if args.dry_run:
        plan = preview_evidence(store, args.paths, **options)
        for item in plan.files:
            print(f"  {item.student_id}  {item.entry_type}  {item.date}  {item.path}")
        for refusal in plan.refused:
            print(f"  refused: {refusal}")
        for path in plan.ignored:
            print(f"  ignored: {path}")
        print(f"{plan.summary()}; dry run: nothing was imported")
        return 0
    result = import_evidence(store, args.paths, skip_bad=args.skip_bad, **options)
    for entry, item in zip(result.entries, result.plan.files, strict=True):
        print(f"  {entry.id}  {entry.student_id}  {entry.type}  {entry.date}  {item.path}")
    for path in result.plan.ignored:
        print(f"  ignored: {path}")
    for refusal in result.plan.refused:
        print(f"flourish: refused: {refusal}", file=sys.stderr)
    print(result.summary())
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    if args.kind == "roster" and (args.student or args.type or args.date or args.skip_bad):
        raise BadUsage("--student, --type, --date and --skip-bad are for 'import evidence'")
    with _open_store(args) as store:
        if args.kind == "roster":
            return _import_roster(args, store)
        return _import_evidence(args, store)


def _ensure_gui_app() -> Any:
    """A QGuiApplication for offscreen drawing (offscreen when there is no display)."""
    if not os.environ.get("QT_QPA_PLATFORM") and sys.platform.startswith("linux"):
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtGui import QGuiApplication

    import desktop.shell.qtfix  # noqa: F401  (PySide6 refcount workaround, before Qt use)

    return QGuiApplication.instance() or QGuiApplication(["flourish"])


def cmd_report(args: argparse.Namespace) -> int:
    date_from = _date(args.date_from, "--from")
    date_to = _date(args.date_to, "--to")
    app = _ensure_gui_app()
    from desktop.report import render_report

    with _open_store(args) as store:
        pages = render_report(
            store,
            args.student,
            args.out,
            include_name=args.include_name,
            date_from=date_from,
            date_to=date_to,
        )
    del app
    names = "with the student's name" if args.include_name else "student named by id only"
    print(f"report written to {args.out} ({pages} page{'s' if pages != 1 else ''}, {names})")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from sync.io.export import export_csv

    with _open_store(args) as store:
        result = export_csv(store, args.out)
    print(result.summary())
    return 0


def cmd_server_backup(args: argparse.Namespace) -> int:
    from sync.server.backup import backup_server

    print(backup_server(_db_url(args), args.out).summary())
    return 0


def cmd_server_restore(args: argparse.Namespace) -> int:
    from sync.server.backup import restore_server

    if args.jobs < 1:
        raise BadUsage("--jobs must be 1 or more")
    print(restore_server(_db_url(args), args.infile, jobs=args.jobs).summary())
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from sync.store.localbackup import backup_local

    with _open_store(args) as store:
        info = backup_local(store, args.out)
    print(f"backup written to {args.out}: {info.summary()}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from sync.store.localbackup import restore_local

    with _open_store(args, create=True) as store:  # a new laptop may start from a backup
        result = restore_local(store, args.infile, force=args.force)
    print(result.summary())
    return 0
