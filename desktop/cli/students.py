"""``flourish add-student``: one student by hand (the first day, before any roster file)."""

from __future__ import annotations

import argparse

from sync import paths
from sync.store.local import LocalStore

__all__ = ["add_arguments", "cmd_add_student"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", required=True, help="the student's name")
    p.add_argument("--grade", required=True, metavar="G", help="6, 7 or 8")
    p.add_argument("--teacher", metavar="T001", help="default: this laptop's teacher")
    p.add_argument("--id", dest="student_id", metavar="S…", help="default: the next free id")


def cmd_add_student(args: argparse.Namespace) -> int:
    from sync.actions.students import add_student
    from sync.errors import FlourishError

    path = paths.local_db_path(args.data_dir)
    if not path.exists():
        raise FlourishError(
            f"no local store at {path}: run 'flourish login', or open the app once to "
            "start working on this laptop only"
        )
    with LocalStore.open(path, create=False) as store:
        s = add_student(
            store,
            name=args.name,
            grade=args.grade,
            teacher_id=args.teacher,
            student_id=args.student_id,
        ).value
    teacher = f", teacher {s.teacher_id}" if s.teacher_id else ""
    print(f"student {s.id} added: {s.name}, grade {s.grade}{teacher} (queued for sync)")
    return 0
