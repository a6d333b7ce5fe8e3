"""A first day without help, on the real window: an empty profile gets its students by
hand, the teacher assesses evidence without the AI, and a missing AI key is a setup step."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from desktop.classes.studentdialog import StudentDialog
from desktop.core.widgets import set_combo_value
from desktop.evidence.manual import ManualAssessDialog
from desktop.settings.dialog import SettingsDialog
from desktop.shell.mainwindow import STUDENT
from sync.store.local import LocalStore
from sync.store.profiles import create_local_profile
from tests.test_desktop_support import (
    close_window,
    isolate_settings,
    open_window,
    pending_ops,
    wait_idle,
)

Left = Qt.MouseButton.LeftButton


@pytest.fixture(autouse=True)
def _settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate_settings(monkeypatch, tmp_path)


@pytest.fixture
def empty(tmp_path: Path) -> LocalStore:
    path = create_local_profile(tmp_path / "me" / "flourish.sqlite3", teacher_name="Ms. Lee")
    return LocalStore.open(path, create=False)


def _save(qtbot: QtBot, dialog: StudentDialog | ManualAssessDialog) -> None:
    save = next(b for b in dialog.buttons.buttons() if "Save" in b.text())
    qtbot.mouseClick(save, Left)


def test_empty_profile_adds_edits_and_removes_a_student(qtbot: QtBot, empty: LocalStore) -> None:
    w = open_window(qtbot, empty)
    try:
        assert w.roster.model.rowCount() == 0
        w.menu_actions["new_evidence"].trigger()  # nothing to write about yet: add one first
        dialog = w.dialog
        assert isinstance(dialog, StudentDialog) and dialog.isVisible()
        qtbot.keyClicks(dialog.name, "Pat Quinn")
        dialog.grade.setCurrentIndex(1)  # grade 7
        _save(qtbot, dialog)
        qtbot.waitUntil(lambda: w.roster.model.rowCount() == 1)
        qtbot.waitUntil(lambda: w.student.student_id == "S001")
        assert w.tabs.currentIndex() == STUDENT
        # the roster's own button adds the second one, with the school's id
        qtbot.mouseClick(w.roster.add_button, Left)
        dialog = w.dialog
        assert isinstance(dialog, StudentDialog)
        qtbot.keyClicks(dialog.name, "Ana Ruiz")
        qtbot.keyClicks(dialog.student_id, "S120")
        _save(qtbot, dialog)
        qtbot.waitUntil(lambda: w.roster.model.rowCount() == 2)
        # a refused edit says why in the dialog and writes nothing
        edit = w.edit_student("S120")
        edit.name.clear()
        _save(qtbot, edit)
        qtbot.waitUntil(edit.error.isVisible)
        assert "name is empty" in edit.error.text()
        qtbot.keyClicks(edit.name, "Ana Ruiz-Lopez")
        _save(qtbot, edit)
        qtbot.waitUntil(lambda: not edit.isVisible())
        wait_idle(qtbot, w)
        assert w.roster.summary("S120").name == "Ana Ruiz-Lopez"  # type: ignore[union-attr]
        box = w.remove_student("S120")
        assert isinstance(box, QMessageBox)
        next(b for b in box.buttons() if b.text() == "Remove").click()
        qtbot.waitUntil(lambda: w.roster.model.rowCount() == 1)
        wait_idle(qtbot, w)
        ops = {pk: op for t, pk, op in pending_ops(empty) if t == "students"}
        assert ops == {"S001": "upsert", "S120": "delete"}
        assert w.errors.last is None
    finally:
        close_window(w)


def test_teacher_assesses_evidence_without_the_ai(qtbot: QtBot, demo_store: LocalStore) -> None:
    w = open_window(qtbot, demo_store)
    try:
        w.open_student("S001")
        timeline = w.student.timeline
        qtbot.waitUntil(lambda: timeline.model.rowCount() > 0)
        assert not timeline.assess_button.isEnabled()
        timeline.view.setCurrentIndex(timeline.model.index(0, 0))
        qtbot.waitUntil(lambda: bool(timeline.text.toPlainText()))
        qtbot.mouseClick(timeline.assess_button, Left)
        dialog = w.dialog
        assert isinstance(dialog, ManualAssessDialog)
        qtbot.waitUntil(lambda: bool(dialog.text.toPlainText()))
        _save(qtbot, dialog)  # nothing chosen yet
        assert dialog.error.text() == "Choose the skill the evidence shows."
        with demo_store.read() as conn:
            taken = {
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT skill_name FROM assessments WHERE data_entry_id = ? "
                    "AND student_id = 'S001'",
                    (dialog.entry_id,),
                )
            }
        skill = next(n for n in w.ctx.curriculum.skill_names if n not in taken)
        set_combo_value(dialog.skill_box, skill)
        dialog.levels.button(2).click()
        cursor = dialog.text.textCursor()  # the teacher drags over the first words
        cursor.setPosition(0)
        cursor.movePosition(QTextCursor.MoveOperation.NextWord, QTextCursor.MoveMode.KeepAnchor, 4)
        dialog.text.setTextCursor(cursor)
        quote = dialog.quote.text()
        assert quote and quote in " ".join(dialog.text.toPlainText().split())
        qtbot.keyClicks(dialog.justification, "Asks for help when stuck.")
        _save(qtbot, dialog)
        qtbot.waitUntil(lambda: not dialog.isVisible())
        wait_idle(qtbot, w)
        with demo_store.read() as conn:
            row = conn.exec_driver_sql(
                "SELECT a.level, a.source_quote, a.confidence_score, a.corrected, "
                "tc.corrected_by FROM assessments a JOIN teacher_corrections tc "
                "ON tc.assessment_id = a.id WHERE a.data_entry_id = ? AND a.skill_name = ?",
                (dialog.entry_id, skill),
            ).one()
        assert tuple(row) == ("Developing", quote, None, 1, "T001")
    finally:
        close_window(w)


def test_missing_ai_key_is_a_setup_step_with_a_way_to_settings(
    qtbot: QtBot, demo_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    w = open_window(qtbot, demo_store)
    try:
        w.ctx.tasks.write(lambda: None, lambda _r: None)  # (nothing else is running)
        w.assess_now()
        qtbot.waitUntil(lambda: isinstance(w.dialog, QMessageBox) and w.dialog.isVisible())
        box = w.dialog
        assert box.objectName() == "aiSetupBox"
        assert box.text() == "AI assessment is not set up on this laptop yet."
        assert "assess any piece of evidence yourself" in box.informativeText()
        assert w.errors.last is None  # a step, not an error
        settings = next(b for b in box.buttons() if b.text() == "Open Settings ▸ AI")
        assert isinstance(settings, QPushButton)
        settings.click()
        qtbot.waitUntil(lambda: isinstance(w.dialog, SettingsDialog))
        assert w.dialog.tabs.tabText(w.dialog.tabs.currentIndex()) == "AI"
        w.dialog.reject()
    finally:
        close_window(w)


def test_progress_report_asks_period_and_name_and_warns_about_unreviewed_levels(
    qtbot: QtBot, demo_store: LocalStore, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    from desktop.student.reportdialog import ReportDialog

    w = open_window(qtbot, demo_store)
    try:
        w.open_student("S001")
        qtbot.waitUntil(lambda: w.student.report_button.isEnabled())
        qtbot.mouseClick(w.student.report_button, Left)
        dialog = w.dialog
        assert isinstance(dialog, ReportDialog) and dialog.isVisible()
        qtbot.waitUntil(lambda: dialog.counts is not None)
        shown, unreviewed, _first = dialog.counts  # type: ignore[misc]
        assert unreviewed > 0
        assert dialog.warning.isVisible()
        assert dialog.warning.text().startswith(
            f"⚠ {unreviewed} of {shown} levels are AI proposals you have not reviewed."
        )
        out = tmp_path / "named report.pdf"
        dialog.path.setText(str(out))
        dialog.include_name.setChecked(True)
        dialog.whole.setChecked(False)
        _save(qtbot, dialog)  # type: ignore[arg-type]
        qtbot.waitUntil(out.exists, timeout=20_000)
        wait_idle(qtbot, w)
        text = " ".join(p.extract_text() for p in PdfReader(str(out)).pages)
        assert "Eva" in text  # the name, as asked
        assert "to" in text and dialog.date_to.date().toString("yyyy") in text
    finally:
        close_window(w)
