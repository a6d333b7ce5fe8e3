"""Student view, targets, badges, evidence entry and the class heat map on real stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from desktop.classes.classview import LevelRole
from desktop.core.widgets import set_combo_value
from desktop.evidence.panel import ImportEvidenceDialog, NewEvidenceDialog
from desktop.shell.mainwindow import STUDENT, MainWindow
from desktop.student.targets import AssignTargetDialog
from sync import actions
from sync.store.local import LocalStore
from tests.test_desktop_support import (
    TEACHER,
    assert_status_matches_queue,
    close_window,
    isolate_settings,
    open_window,
    pending_ops,
    wait_idle,
)


@pytest.fixture
def window(
    qtbot: QtBot, demo_store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MainWindow]:
    isolate_settings(monkeypatch, tmp_path)
    w = open_window(qtbot, demo_store)
    yield w
    close_window(w)


def show_student(qtbot: QtBot, w: MainWindow, student_id: str) -> None:
    w.open_student(student_id)
    qtbot.waitUntil(lambda: w.student.data is not None and w.student.data.id == student_id)
    wait_idle(qtbot, w)
    assert w.tabs.currentIndex() == STUDENT


def rows(store: LocalStore, sql: str) -> list[tuple[object, ...]]:
    with store.read() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(sql)]


def test_student_view_shows_grid_chart_timeline(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    show_student(qtbot, w, "S001")
    panel = w.student
    assert panel.title.text() == "Eva"
    data = panel.data
    assert data is not None
    assert len(data.skills) == 17
    tree = panel.skills
    assert tree.rowCount() == 3  # SEL, EF, 21st century
    assert sum(tree.rowCount(tree.index(i, 0)) for i in range(3)) == 17
    # the chart shows the selected skill's history: one point per proposal
    assert panel.skill is not None
    series = panel.chart.chart().series()
    assert series and series[0].count() == len(data.history[panel.skill])
    # the timeline lists every entry; the new one awaits AI assessment
    statuses = {e.id: e.status for e in data.entries}
    assert statuses["DE008"] == "awaiting AI assessment"
    assert any(s.endswith("proposals") or s.endswith("proposal") for s in statuses.values())
    panel.timeline.type_box.setCurrentIndex(
        panel.timeline.type_box.findData("reflection_journal", Qt.ItemDataRole.UserRole)
    )
    assert all(e.type == "reflection_journal" for e in panel.timeline.model.rows)
    panel.timeline.view.selectRow(0)
    qtbot.waitUntil(lambda: panel.timeline.text.toPlainText() != "")


def test_assign_target_then_rule_blocks_a_second(qtbot: QtBot, window: MainWindow) -> None:
    w, store = window, window.ctx.store
    show_student(qtbot, w, "S001")
    dialog = w.student.open_assign_target("Time Management")
    assert isinstance(dialog, AssignTargetDialog)
    assert dialog.start_label.text() == "Developing"  # the current effective level
    set_combo_value(dialog.level_box, "Advanced")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    wait_idle(qtbot, w)
    target = rows(
        store,
        "SELECT id, skill_name, starting_level, target_level, assigned_by, completed "
        "FROM skill_targets",
    )
    assert target == [(target[0][0], "Time Management", "Developing", "Advanced", TEACHER, 0)]
    assert ("skill_targets", str(target[0][0]), "upsert") in pending_ops(store)
    assert [t.skill_name for t in w.student.targets.model.rows] == ["Time Management"]
    # the schema's rule: one active target per skill — shown in the dialog, which stays open
    again = w.student.open_assign_target("Time Management")
    assert again is not None
    again.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: again.error.isVisible())
    assert "already has an active target" in again.error.text()
    assert again.isVisible()
    again.reject()
    # complete it from the list
    w.student.tabs.setCurrentWidget(w.student.targets)
    w.student.targets.view.selectRow(0)
    w.student.targets.complete.click()
    wait_idle(qtbot, w)
    assert rows(store, "SELECT completed FROM skill_targets") == [(1,)]
    assert_status_matches_queue(qtbot, w)


def test_grant_suggested_badge_then_rule_blocks_a_duplicate(
    qtbot: QtBot, window: MainWindow
) -> None:
    w, store = window, window.ctx.store
    with store.read() as conn:
        aid = conn.exec_driver_sql(
            "SELECT id FROM assessments WHERE student_id = 'S001' AND level != 'Emerging'"
        ).scalar()
    actions.accept(store, assessment_id=int(aid), teacher_id=TEACHER)
    show_student(qtbot, w, "S001")
    qtbot.waitUntil(lambda: w.student.data is not None and bool(w.student.data.suggestions))
    data = w.student.data
    assert data is not None and data.suggestions
    assert "earned by confirmed levels" in w.student.suggest_label.text()
    first = data.suggestions[0]
    dialog = w.student.open_grant_badge()
    assert dialog is not None
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    wait_idle(qtbot, w)
    badges = rows(
        store, "SELECT id, skill_name, badge_type, level_achieved, granted_by FROM badges"
    )
    assert [b[1:] for b in badges] == [(first.skill_name, first.badge_type, first.level, TEACHER)]
    assert ("badges", str(badges[0][0]), "upsert") in pending_ops(store)
    assert w.student.badges.rowCount() == 1
    assert w.student.data is not None and first not in w.student.data.suggestions
    again = w.student.open_grant_badge()
    assert again is not None
    set_combo_value(again.skill_box, first.skill_name)
    set_combo_value(again.type_box, first.badge_type)
    again.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: again.error.isVisible())
    assert "already has the" in again.error.text()
    again.reject()
    assert len(rows(store, "SELECT id FROM badges")) == 1
    assert_status_matches_queue(qtbot, w)


def test_new_observation_awaits_ai_assessment(qtbot: QtBot, window: MainWindow) -> None:
    w, store = window, window.ctx.store
    show_student(qtbot, w, "S002")
    w.new_evidence("S002")
    dialog = w.dialog
    assert isinstance(dialog, NewEvidenceDialog)
    dialog.title_edit.setText("Lab partner check-in")
    qtbot.keyClicks(dialog.text, "Lucas explained the plan to his partner and waited his turn.")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    wait_idle(qtbot, w)
    new = rows(
        store,
        "SELECT id, type, json_extract(metadata, '$.title') FROM data_entries "
        "WHERE student_id = 'S002' ORDER BY created_at DESC LIMIT 1",
    )[0]
    assert new[1:] == ("teacher_observation_note", "Lab partner check-in")
    assert ("data_entries", new[0], "upsert") in pending_ops(store)
    data = w.student.data
    assert data is not None
    entry = next(e for e in data.entries if e.id == new[0])
    assert entry.status == "awaiting AI assessment"
    assert_status_matches_queue(qtbot, w)


def test_empty_evidence_is_refused_in_the_dialog(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    w.new_evidence("S002")
    dialog = w.dialog
    assert isinstance(dialog, NewEvidenceDialog)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    qtbot.waitUntil(lambda: dialog.error.isVisible())
    assert "empty" in dialog.error.text()
    dialog.reject()


def test_import_text_files(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    """Files named the documented way become entries; a refused file blocks the import
    unless the teacher chooses to skip it."""
    w, store = window, window.ctx.store
    for n in range(3):
        (tmp_path / f"S004_journal_2026-10-0{n + 1}_week {n}.txt").write_text(
            f"Week {n}: I asked for help when I was stuck.\n", encoding="utf-8"
        )
    (tmp_path / "S999_journal_2026-10-05.txt").write_text("Nobody.\n", encoding="utf-8")
    w.import_evidence()
    dialog = w.dialog
    assert isinstance(dialog, ImportEvidenceDialog)
    dialog.paths = [tmp_path]
    dialog.preview()
    qtbot.waitUntil(lambda: dialog.plan is not None)
    lines = dialog.file_lines.stringList()
    assert sum(line.startswith("✓") for line in lines) == 3
    assert any(line.startswith("✗ S999") and "not in this store" in line for line in lines)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()  # all or nothing, unless refused files are skipped
    dialog.skip_bad.setChecked(True)
    assert ok.isEnabled()
    ok.click()
    qtbot.waitUntil(lambda: dialog.imported == 3)
    wait_idle(qtbot, w)
    rows_ = rows(
        store,
        "SELECT type, date, json_extract(metadata, '$.source_file') FROM data_entries "
        "WHERE student_id = 'S004' AND json_extract(metadata, '$.imported_from') = 'txt' "
        "ORDER BY date",
    )
    assert [(t, d) for t, d, _f in rows_] == [
        ("reflection_journal", f"2026-10-0{n + 1}") for n in range(3)
    ]
    assert sum(1 for t, _pk, _op in pending_ops(store) if t == "data_entries") == 3
    qtbot.waitUntil(lambda: w.awaiting_label.text().startswith("7 entries"))
    assert_status_matches_queue(qtbot, w)


def test_class_heat_map_tells_no_evidence_from_emerging(
    qtbot: QtBot, demo_store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_settings(monkeypatch, tmp_path)
    with demo_store.apply_remote() as conn:
        conn.exec_driver_sql(
            "INSERT INTO students (id, name, grade, teacher_id) VALUES ('S005', 'Ana', 6, 'T001')"
        )
    actions.correct(demo_store, assessment_id=1, teacher_id=TEACHER, level=1)
    w = open_window(qtbot, demo_store)
    try:
        w.show_tab(1)
        qtbot.waitUntil(lambda: w.class_panel.loaded_once)
        model = w.class_panel.model
        assert model.rowCount() == 5 and model.columnCount() == 17
        ana = next(i for i in range(5) if model.student_at(i) == "S005")
        cells = [model.index(ana, c) for c in range(17)]
        assert all(model.data(c, LevelRole) is None for c in cells)
        assert {model.data(c) for c in cells} == {"–"}
        eva = next(i for i in range(5) if model.student_at(i) == "S001")
        skill_col = next(i for i, s in enumerate(model.skills) if s.name == "Self-Awareness")
        index = model.index(eva, skill_col)
        assert model.data(index, LevelRole) == "Emerging" and model.data(index) == "1"
        assert "reviewed by you" in model.data(index, Qt.ItemDataRole.ToolTipRole)
        # click-through opens the student
        w.class_panel.view.clicked.emit(model.index(ana, 0))
        qtbot.waitUntil(lambda: w.student.data is not None and w.student.data.id == "S005")
        assert w.tabs.currentIndex() == STUDENT
        assert w.student.data.skills[0].effective_level is None
    finally:
        close_window(w)


def test_roster_counts_follow_decisions(qtbot: QtBot, window: MainWindow) -> None:
    w = window
    before = {s.id: s.pending for s in w.roster.model.students}
    aid = w.review.model.id_at(w.review.controller.row)
    row = w.review.model.cached_row(w.review.controller.row)
    assert aid is not None and row is not None
    qtbot.keyClick(w.review.table, Qt.Key.Key_A)
    qtbot.waitUntil(
        lambda: (
            {s.id: s.pending for s in w.roster.model.students}[row.student_id]
            == before[row.student_id] - 1
        )
    )


def test_assess_now_runs_in_the_background_and_fills_the_queue(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.fake_openai import FakeOpenAI

    w = window
    qtbot.waitUntil(lambda: w.awaiting_label.text().startswith("4 entries"))
    before = w.review.model.rowCount()
    with FakeOpenAI() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        monkeypatch.setenv("OPENAI_MODEL", "fake-model")
        ticks: list[int] = []
        timer = QTimer()
        timer.timeout.connect(lambda: ticks.append(1))
        timer.start(10)
        w.menu_actions["assess"].trigger()
        assert w.assess.running and w.jobs.isVisible()
        qtbot.waitUntil(lambda: not w.assess.running, timeout=30_000)
        timer.stop()
        assert ticks  # the event loop ran while the model was being called
    qtbot.waitUntil(lambda: w.awaiting_label.text() == "")
    qtbot.waitUntil(lambda: w.review.model.complete and w.review.model.rowCount() > before)
    with w.ctx.store.read() as conn:
        assessed = conn.exec_driver_sql(
            "SELECT COUNT(DISTINCT data_entry_id) FROM assessments "
            "WHERE data_entry_id IN ('DE008', 'DE016', 'DE024', 'DE032')"
        ).scalar_one()
    assert assessed == 4
    assert "new proposals" in w.statusBar().currentMessage()
    assert_status_matches_queue(qtbot, w)


def test_calibration_table_reads_teacher_decisions(qtbot: QtBot, window: MainWindow) -> None:
    from desktop.evidence.assessing import CalibrationDialog

    w = window
    for _ in range(6):
        qtbot.keyClick(w.review.table, Qt.Key.Key_A)
    qtbot.keyClick(w.review.table, Qt.Key.Key_1)
    qtbot.keyClick(w.review.editor.notes, Qt.Key.Key_Return)
    wait_idle(qtbot, w)
    w.menu_actions["calibration"].trigger()
    dialog = w.dialog
    assert isinstance(dialog, CalibrationDialog)
    qtbot.waitUntil(lambda: dialog.model.rowCount() > 0, timeout=10_000)
    decided = sum(r.decided for r in dialog.model.rows)
    accepted = sum(r.accepted for r in dialog.model.rows)
    assert (decided, accepted) == (7, 6)
    dialog.reject()


def test_progress_report_is_written_in_the_background(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    w = window
    out = tmp_path / "eva.pdf"
    w.write_report("S001", out)
    assert w.jobs.isVisible()
    qtbot.waitUntil(lambda: "Report saved" in w.statusBar().currentMessage(), timeout=30_000)
    assert out.read_bytes().startswith(b"%PDF")
    assert not w.jobs.isVisible()
