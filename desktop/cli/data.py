"""The data in/out commands of ``flourish``: import, report, export, backup and restore.

Each handler calls the same data-layer
function the app calls (:mod:`sync.io.roster`, :mod:`sync.io.evidence_import`,
:mod:`sync.io.export`, :mod:`sync.server.backup`, :mod:`sync.store.localbackup`,
:func:`desktop.report.render_report`) and prints what happened; errors propagate as
:class:`~sync.errors.FlourishError` for ``main`` to print (a refused roster prints every
problem, one per line, under its one-line summary).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from desktop.cli._common import UsageError, open_store, parse_date
from sync.errors import FlourishError

__all__ = [
    "cmd_backup",
    "cmd_export",
    "cmd_import",
    "cmd_report",
    "cmd_restore",
]

_SHOWN = 20  # changes listed one by one before "... and N more"


def _selection(args: argparse.Namespace) -> Any:
    from sync.io.roster import Selection

    if args.classes is not None and args.teacher is None:
        raise UsageError("--classes needs --teacher (the teacher whose class they join)")
    classes = None
    if args.classes is not None:
        classes = tuple(c.strip() for c in args.classes.split(",") if c.strip())
    return Selection(teacher=args.teacher, classes=classes)


def _out_file(value: str, what: str) -> Path:
    """An output file whose folder exists (nothing is created on the way)."""
    out = Path(value).expanduser()
    if not out.parent.is_dir():
        raise FlourishError(
            f"cannot write the {what} to {out}: the folder {out.parent} does not exist"
        )
    return out


def _import_roster(args: argparse.Namespace, store: Any) -> int:
    from sync.io.roster import import_roster, preview_roster

    selection = _selection(args)
    preview = preview_roster(store, args.paths, selection=selection)
    print(preview.summary())
    for note in preview.notes:
        print(f"  {note}")
    for teacher, source, external in preview.teacher_links:
        print(f"  {teacher} is {source} {external} from now on")
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
    result = import_roster(store, args.paths, selection=selection)
    print(result.summary())
    return 0


def _import_evidence(args: argparse.Namespace, store: Any) -> int:
    from sync.io.evidence_import import Given, import_evidence, preview_evidence

    options = Given(
        student_id=args.student, entry_type=args.type, date=parse_date(args.date, "--date")
    )
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
        raise UsageError("--student, --type, --date and --skip-bad are for 'import evidence'")
    if args.kind == "evidence" and (args.teacher or args.classes):
        raise UsageError("--teacher and --classes are for 'import roster'")
    with open_store(args) as store:
        if args.kind == "roster":
            return _import_roster(args, store)
        return _import_evidence(args, store)


def _ensure_gui_app() -> Any:
    """A QGuiApplication for offscreen drawing (offscreen when there is no display)."""
    if not os.environ.get("QT_QPA_PLATFORM") and sys.platform.startswith("linux"):
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtGui import QGuiApplication

    import desktop.core.qtfix  # noqa: F401  (PySide6 refcount workaround, before Qt use)

    return QGuiApplication.instance() or QGuiApplication(["flourish"])


def cmd_report(args: argparse.Namespace) -> int:
    date_from = parse_date(args.date_from, "--from")
    date_to = parse_date(args.date_to, "--to")
    _out_file(args.out, "report")
    app = _ensure_gui_app()
    from desktop.report import render_report

    with open_store(args) as store:
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

    with open_store(args) as store:
        result = export_csv(store, args.out)
    print(result.summary())
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from sync.store.localbackup import backup_local

    _out_file(args.out, "backup")
    with open_store(args) as store:
        info = backup_local(store, args.out)
    print(f"backup written to {args.out}: {info.summary()}")
    return 0


def cmd_redownload(args: argparse.Namespace) -> int:
    from sync import paths
    from sync.replication.redownload import redownload

    result = redownload(paths.local_db_path(args.data_dir))
    print(result.summary())
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from sync.store.localbackup import restore_local

    with open_store(args, create=True) as store:  # a new laptop may start from a backup
        result = restore_local(store, args.infile, force=args.force)
    print(result.summary())
    return 0
