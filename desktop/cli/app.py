"""``flourish app`` and ``flourish demo``: the windows (Qt is imported only here, lazily)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sync import paths

__all__ = ["cmd_app", "cmd_demo"]


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
