"""The app's side of AI assessment: "Assess now", what awaits assessment, calibration.

The pipeline lives in :mod:`desktop.assess` (no Qt). Here it runs as a background job with
progress and cancel: settings are read there too (they touch the keyring), the GUI only
sees progress counts and the final report. When the package is missing (an older build),
the actions are disabled and new evidence simply shows "awaiting AI assessment".

GUI thread only; the functions passed to the task runner run on worker threads.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.core.context import AppContext, ChangeSet
from desktop.core.tasks import Task, TaskContext
from desktop.core.widgets import Column, RowTableModel

__all__ = ["AssessController", "CalibrationDialog", "count_awaiting"]


def count_awaiting(conn: Any) -> int:
    """Evidence entries waiting for AI assessment (worker thread).

    The same rule as :func:`desktop.assess.awaiting_entries` — no proposal yet and no
    finished or skipped job — counted in SQL, so the count at start-up does not import
    the AI package.
    """
    return int(
        conn.exec_driver_sql(
            "SELECT COUNT(*) FROM data_entries de "
            "LEFT JOIN assessment_jobs j ON j.data_entry_id = de.id "
            "WHERE NOT EXISTS (SELECT 1 FROM assessments a WHERE a.data_entry_id = de.id) "
            "AND (j.status IS NULL OR j.status NOT IN ('done', 'skipped'))"
        ).scalar_one()
    )


class AssessController(QObject):
    """Runs one assessment at a time; reports progress, the awaiting count and the end."""

    progress = Signal(int, int)  # entries done, total
    status = Signal(str)  # "waiting for the model (CPU server, ~60 s per entry)"; emitted
    # from the worker thread, delivered queued on the GUI thread
    running_changed = Signal(bool)
    finished = Signal(str)  # a one-line summary
    awaiting_changed = Signal(int)
    setup_needed = Signal(str)  # the AI is not set up (no key, no model): a setup step

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.task: Task[Any] | None = None
        self.awaiting = 0
        self._counting = False
        ctx.bus.changed.connect(self._changes)

    @property
    def running(self) -> bool:
        return self.task is not None

    def start(
        self,
        *,
        entry_ids: list[str] | None = None,
        limit: int | None = None,
        skills: list[str] | None = None,
    ) -> None:
        """Run in the background; ``skills`` is the teacher's choice (default: by entry type)."""
        if self.task is not None:
            return
        store = self.ctx.store

        def work(tc: TaskContext) -> Any:
            from desktop.assess import load_settings, run_assessment

            settings = load_settings(store)
            return run_assessment(
                store,
                settings,
                limit=limit,
                entry_ids=entry_ids,
                cancel=tc.cancel_event,
                progress=lambda done, total: tc.progress(done, total),
                status=self.status.emit,
                skills=skills,
            )

        self.task = self.ctx.tasks.job(
            work, self._done, self._failed, lambda d, t: self.progress.emit(d, t), name="assess"
        )
        self.running_changed.emit(True)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _done(self, report: Any) -> None:
        self.task = None
        self.running_changed.emit(False)
        self.ctx.bus.publish_everything(source="assess")
        stored = getattr(report, "proposals_stored", 0)
        done = getattr(report, "entries_done", 0)
        waiting = getattr(report, "waiting", 0)
        failed = getattr(report, "failed", 0)
        text = f"AI assessed {done} entries: {stored} new proposals"
        if getattr(report, "cancelled", False):
            text += " (cancelled)"
        if failed or waiting:
            text += f"; {failed} failed, {waiting} still waiting"
            reasons = getattr(report, "reasons", ())
            if reasons:
                text += f" ({reasons[0]})"
        self.finished.emit(text)

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self.running_changed.emit(False)
        self.refresh_awaiting()
        from desktop.assess._errors import AssessmentConfigError  # loaded by the job already

        if isinstance(exc, AssessmentConfigError):
            self.setup_needed.emit(str(exc))
            return
        self.ctx.tasks.error.emit(exc)

    def refresh_awaiting(self) -> None:
        if self._counting:
            return
        self._counting = True
        store = self.ctx.store

        def work() -> int:
            with store.read() as conn:
                return count_awaiting(conn)

        def done(n: int) -> None:
            self._counting = False
            self.awaiting = n
            self.awaiting_changed.emit(n)

        def failed(_exc: BaseException) -> None:
            self._counting = False

        self.ctx.tasks.read(work, done, failed, name="awaiting")

    def _changes(self, change: ChangeSet) -> None:
        if change.touches("data_entries", "assessments"):
            self.refresh_awaiting()


class CalibrationDialog(QDialog):
    """How often the teacher accepted the AI per skill and confidence band."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("calibrationDialog")
        self.setWindowTitle("AI calibration")
        self.ctx = ctx
        self.model: RowTableModel[Any] = RowTableModel(
            [
                Column("Skill", lambda r: r.skill_name),
                Column("Confidence band", lambda r: r.band),
                Column("Decided", lambda r: r.decided, align_right=True),
                Column("Accepted", lambda r: r.accepted, align_right=True),
                Column("Acceptance", lambda r: f"{r.acceptance_rate:.0%}", align_right=True),
                Column(
                    "AI's mean confidence", lambda r: f"{r.mean_confidence:.2f}", align_right=True
                ),
            ]
        )
        view = QTableView()
        view.setAccessibleName("Decisions per skill and confidence band")
        view.setModel(self.model)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.verticalHeader().hide()
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        view.horizontalHeader().setStretchLastSection(True)
        self.note = QLabel("Loading…")
        self.note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(view, 1)
        layout.addWidget(buttons)
        self.resize(self.fontMetrics().averageCharWidth() * 100, self.fontMetrics().height() * 30)
        store = ctx.store

        def work() -> list[Any]:
            from desktop.assess import calibration

            with store.read() as conn:
                return list(calibration(conn))

        ctx.tasks.read(work, self._loaded, self._failed, name="calibration")

    def _loaded(self, rows: list[Any]) -> None:
        self.model.set_rows(rows)
        self.note.setText(
            "A well-calibrated AI is accepted about as often as its confidence says. "
            + ("No decisions yet." if not rows else f"{len(rows)} skill and band combinations.")
        )

    def _failed(self, exc: BaseException) -> None:
        self.note.setText(f"Could not compute calibration: {exc}")
