"""What a teacher does from the command line: ``list``, ``correct``, ``target``, ``badge``
(the same :mod:`sync.actions` functions the app calls)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from desktop.cli._common import open_store, print_json, print_table, teacher_of

if TYPE_CHECKING:
    from sync.actions import Result

T = TypeVar("T")

__all__ = ["cmd_badge", "cmd_correct", "cmd_list", "cmd_target"]


def cmd_list(args: argparse.Namespace) -> int:
    from sync.model.queries import assessment_rows, conflict_rows, student_summaries

    with open_store(args) as store, store.read() as conn:
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
        print_json(rows)
    else:
        print_table(rows, columns)
    return 0


def cmd_correct(args: argparse.Namespace) -> int:
    from sync import actions

    with open_store(args) as store:
        result = actions.correct(
            store,
            assessment_id=args.assessment,
            teacher_id=teacher_of(store),
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


def _for_student_skill(
    args: argparse.Namespace, action: Callable[..., Result[T]], **fields: Any
) -> T:
    """Run ``action`` (``assign_target``, ``grant_badge``) for ``--student`` and ``--skill``
    as the store's teacher; its new row."""
    with open_store(args) as store:
        result = action(
            store,
            student_id=args.student,
            skill_name=args.skill,
            teacher_id=teacher_of(store),
            **fields,
        )
    return result.value


def cmd_target(args: argparse.Namespace) -> int:
    from sync import actions

    t = _for_student_skill(args, actions.assign_target, target_level=args.level)
    print(
        f"target {t.id}: {t.student_id} {t.skill_name} "
        f"{t.starting_level or 'no evidence yet'} -> {t.target_level}"
    )
    return 0


def cmd_badge(args: argparse.Namespace) -> int:
    from sync import actions

    b = _for_student_skill(args, actions.grant_badge, badge_type=args.type)
    print(f"badge {b.id}: {b.badge_type} for {b.student_id} in {b.skill_name}")
    return 0
