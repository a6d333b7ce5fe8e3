"""One small operation per teacher action: the write runs on the writer thread, the changes
are published on the bus, and the caller's callback runs on the GUI thread.

Each function mirrors one :mod:`sync.actions` function (keyword-only arguments, same
names); it never touches a widget from the background. Failures go to ``on_error`` when
given, otherwise to the task runner's ``error`` signal (the one place that shows errors).

Decisions on proposals return a :class:`sync.actions.Decision`: the stored correction and
the decision that existed before, which is what an undo puts back (:func:`restore_decision`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from desktop.core.context import AppContext
from desktop.core.tasks import Task
from sync import actions
from sync.model.records import Badge, Correction, DataEntry, SkillTarget

__all__ = [
    "add_entry",
    "assign_target",
    "complete_target",
    "decide",
    "delete_target",
    "grant_badge",
    "restore_decision",
    "run_action",
]

T = TypeVar("T")
OnError = Callable[[BaseException], Any] | None


def run_action(
    ctx: AppContext,
    fn: Callable[[], actions.Result[T]],
    *,
    source: str,
    on_done: Callable[[T], Any] | None = None,
    on_error: OnError = None,
    name: str = "action",
) -> Task[actions.Result[T]]:
    """Run ``fn`` on the writer thread; publish its changes; hand back its value."""

    def done(result: actions.Result[T]) -> None:
        ctx.bus.publish(result.changes, source=source)
        if on_done is not None:
            on_done(result.value)

    return ctx.tasks.write(fn, done, on_error, name=name)


def decide(
    ctx: AppContext,
    *,
    assessment_id: int,
    level: str | None,
    notes: str | None = None,
    justification: str | None = None,
    source: str = "review",
    remember: Callable[[Correction | None], None] | None = None,
    on_done: Callable[[actions.Decision], Any] | None = None,
    on_error: OnError = None,
) -> Task[Any]:
    """Accept (``level=None``) or correct a proposal: one local transaction
    (:func:`sync.actions.decide`), which returns the decision it replaced.

    ``remember`` is called **on the writer thread** with that previous decision once the
    write has committed, so that an undo queued right behind it (same thread, later) can
    read it; it must only store the value.
    """
    teacher = ctx.teacher_id or ""

    def work() -> actions.Result[actions.Decision]:
        result = actions.decide(
            ctx.store,
            assessment_id=assessment_id,
            teacher_id=teacher,
            level=level,
            justification=justification,
            notes=notes,
        )
        if remember is not None:
            remember(result.value.previous)
        return result

    return run_action(ctx, work, source=source, on_done=on_done, on_error=on_error, name="decide")


def restore_decision(
    ctx: AppContext,
    *,
    assessment_id: int,
    previous: Callable[[], Correction | None],
    skip: Callable[[], bool] | None = None,
    source: str = "review",
    on_done: Callable[[Correction | None], Any] | None = None,
    on_error: OnError = None,
) -> Task[Any]:
    """Undo: put back ``previous()`` (evaluated on the writer thread, after the decision).

    ``skip()`` (also evaluated there) returning True makes it a no-op: the decision being
    undone never reached the store.
    """

    def work() -> actions.Result[Correction | None]:
        if skip is not None and skip():
            return actions.Result(None, [])
        return actions.restore_decision(ctx.store, assessment_id=assessment_id, previous=previous())

    return run_action(ctx, work, source=source, on_done=on_done, on_error=on_error, name="undo")


def assign_target(
    ctx: AppContext,
    *,
    student_id: str,
    skill_name: str,
    target_level: str,
    starting_level: str | None = None,
    on_done: Callable[[SkillTarget], Any] | None = None,
    on_error: OnError = None,
) -> Task[Any]:
    def work() -> actions.Result[SkillTarget]:
        return actions.assign_target(
            ctx.store,
            student_id=student_id,
            skill_name=skill_name,
            target_level=target_level,
            starting_level=starting_level,
            teacher_id=ctx.teacher_id or "",
        )

    return run_action(ctx, work, source="targets", on_done=on_done, on_error=on_error)


def complete_target(
    ctx: AppContext,
    *,
    target_id: int,
    on_done: Callable[[SkillTarget], Any] | None = None,
    on_error: OnError = None,
) -> Task[Any]:
    return run_action(
        ctx,
        lambda: actions.complete_target(ctx.store, target_id=target_id),
        source="targets",
        on_done=on_done,
        on_error=on_error,
    )


def delete_target(
    ctx: AppContext,
    *,
    target_id: int,
    on_done: Callable[[None], Any] | None = None,
    on_error: OnError = None,
) -> Task[Any]:
    return run_action(
        ctx,
        lambda: actions.delete_target(ctx.store, target_id=target_id),
        source="targets",
        on_done=on_done,
        on_error=on_error,
    )


def grant_badge(
    ctx: AppContext,
    *,
    student_id: str,
    skill_name: str,
    badge_type: str,
    on_done: Callable[[Badge], Any] | None = None,
    on_error: OnError = None,
) -> Task[Any]:
    def work() -> actions.Result[Badge]:
        return actions.grant_badge(
            ctx.store,
            student_id=student_id,
            skill_name=skill_name,
            badge_type=badge_type,
            teacher_id=ctx.teacher_id or "",
        )

    return run_action(ctx, work, source="badges", on_done=on_done, on_error=on_error)


def add_entry(
    ctx: AppContext,
    *,
    student_id: str,
    entry_type: str,
    content: str,
    date: dt.date | None = None,
    metadata: dict[str, Any] | None = None,
    on_done: Callable[[DataEntry], Any] | None = None,
    on_error: OnError = None,
) -> Task[Any]:
    def work() -> actions.Result[DataEntry]:
        return actions.add_entry(
            ctx.store,
            student_id=student_id,
            teacher_id=ctx.teacher_id,
            entry_type=entry_type,
            content=content,
            date=date,
            metadata=metadata,
        )

    return run_action(ctx, work, source="evidence", on_done=on_done, on_error=on_error)
