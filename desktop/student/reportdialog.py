""" "Progress report…": what goes into the PDF before it is written — the period, whether
the student's name is printed, where to save it — and a warning when levels in it are AI
proposals the teacher has not reviewed ("14 of 17 levels are AI proposals you have not
reviewed"), with a way to review them first. The counts are read in the background; the
PDF is written by the main window's background job. GUI thread only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.context import AppContext
from desktop.core.widgets import dialog_buttons, error_label
from desktop.core.wording import date_format

__all__ = ["ReportDialog", "ReportRequest", "level_counts"]


class ReportRequest:
    """What the teacher asked for."""

    def __init__(
        self,
        student_id: str,
        path: Path,
        include_name: bool,
        date_from: dt.date | None,
        date_to: dt.date | None,
    ) -> None:
        self.student_id, self.path, self.include_name = student_id, path, include_name
        self.date_from, self.date_to = date_from, date_to


def level_counts(conn: object, student_id: str) -> tuple[int, int, dt.date | None]:
    """(levels shown, of them not reviewed, the earliest evidence date) — worker thread."""
    exec_sql = conn.exec_driver_sql  # type: ignore[attr-defined]
    shown, unreviewed = exec_sql(
        "SELECT count(*), coalesce(sum(CASE WHEN reviewed THEN 0 ELSE 1 END), 0) "
        "FROM effective_levels WHERE student_id = ?",
        (student_id,),
    ).one()
    first = exec_sql(
        "SELECT min(date) FROM data_entries WHERE student_id = ?", (student_id,)
    ).scalar()
    return int(shown), int(unreviewed), dt.date.fromisoformat(str(first)[:10]) if first else None


class ReportDialog(QDialog):
    """Options for one student's report; emits ``requested(ReportRequest)`` on Save."""

    requested = Signal(object)
    review_requested = Signal(str)

    def __init__(self, ctx: AppContext, student_id: str, *, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reportDialog")
        self.setWindowTitle("Progress report")
        self.ctx = ctx
        self.student_id = student_id
        self.whole = QCheckBox("All evidence so far")
        self.whole.setChecked(True)
        today = QDate.currentDate()
        self.date_from = QDateEdit(today.addMonths(-3))
        self.date_to = QDateEdit(today)
        for edit, name in ((self.date_from, "Period from"), (self.date_to, "Period to")):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat(date_format())
            edit.setAccessibleName(name)
            edit.setEnabled(False)
        self.whole.toggled.connect(lambda on: self._period(not on))
        period = QHBoxLayout()
        period.addWidget(self.whole)
        period.addWidget(QLabel("or from"))
        period.addWidget(self.date_from)
        period.addWidget(QLabel("to"))
        period.addWidget(self.date_to)
        period.addStretch(1)
        self.include_name = QCheckBox("Print the student's name (otherwise the report uses the id)")
        self.path = QLineEdit(str(Path.home() / f"{student_id}-progress-report.pdf"))
        self.path.setAccessibleName("Save the PDF as")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        where = QHBoxLayout()
        where.addWidget(self.path, 1)
        where.addWidget(browse)
        self.warning = QLabel("")
        self.warning.setObjectName("reportWarning")
        self.warning.setWordWrap(True)
        self.warning.hide()
        self.review = QPushButton("Review them first")
        self.review.hide()
        self.review.clicked.connect(self._review)
        self.error = error_label()
        form = QFormLayout()
        form.addRow("Period", period)
        form.addRow("", self.include_name)
        form.addRow("Save as", where)
        self.buttons = dialog_buttons(self, self.submit)
        warn_row = QHBoxLayout()
        warn_row.addWidget(self.warning, 1)
        warn_row.addWidget(self.review)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(warn_row)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 80)
        self.counts: tuple[int, int, dt.date | None] | None = None
        store = ctx.store

        def work() -> tuple[int, int, dt.date | None]:
            with store.read() as conn:
                return level_counts(conn, student_id)

        ctx.tasks.read(work, self._counted, name="report-counts")

    def _period(self, on: bool) -> None:
        self.date_from.setEnabled(on)
        self.date_to.setEnabled(on)

    def _counted(self, counts: tuple[int, int, dt.date | None]) -> None:
        self.counts = counts
        shown, unreviewed, first = counts
        if first is not None:
            self.date_from.setDate(QDate(first.year, first.month, first.day))
        if unreviewed:
            self.warning.setText(
                f"⚠ {unreviewed} of {shown} levels are AI proposals you have not reviewed. "
                "The report marks them, but parents may read them as your judgement."
            )
            self.warning.show()
            self.review.show()

    def _review(self) -> None:
        self.review_requested.emit(self.student_id)
        self.reject()

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save progress report", self.path.text(), "PDF (*.pdf)"
        )
        if path:
            self.path.setText(path)

    def submit(self) -> None:
        text = self.path.text().strip()
        if not text:
            self.error.setText("Choose where to save the PDF.")
            self.error.show()
            return
        date_from = date_to = None
        if not self.whole.isChecked():
            date_from = self.date_from.date().toPython()
            date_to = self.date_to.date().toPython()
            if date_from > date_to:  # type: ignore[operator]
                self.error.setText("The period ends before it starts.")
                self.error.show()
                return
        self.requested.emit(
            ReportRequest(
                self.student_id,
                Path(text).expanduser(),
                self.include_name.isChecked(),
                date_from,  # type: ignore[arg-type]
                date_to,  # type: ignore[arg-type]
            )
        )
        self.accept()
