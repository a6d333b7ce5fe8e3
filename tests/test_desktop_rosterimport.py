"""The roster dialog with a school's export: every class with its fate, the skipped summary,
and a teacher choosing which of the file's classes are theirs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.classes.rosterimport import ImportRosterDialog
from desktop.shell.mainwindow import MainWindow
from sync.store.local import LocalStore
from tests.test_desktop_support import close_window, isolate_settings, open_window, wait_idle

SCHOOL = Path(__file__).parent / "fixtures" / "roster" / "oneroster11_school"


@pytest.fixture(autouse=True)
def _settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_settings(monkeypatch, tmp_path)


@pytest.fixture
def window(qtbot: QtBot, demo_store: LocalStore) -> Iterator[MainWindow]:
    # signed in as T001 (no sync is started: the dialog only reads the store)
    demo_store.set_state({"server_url": "postgresql://db.example/flourish", "teacher_id": "T001"})
    w = open_window(qtbot, demo_store, start_sync=False)
    yield w
    close_window(w)


def classes(dialog: ImportRosterDialog) -> list[tuple[str, object]]:
    model = dialog.class_model
    return [
        (
            model.index(r).data(),
            model.index(r).data(Qt.ItemDataRole.CheckStateRole),
        )
        for r in range(model.rowCount())
    ]


def test_a_signed_in_teacher_sees_why_classes_are_skipped_and_picks_hers(
    qtbot: QtBot, window: MainWindow
) -> None:
    dialog = window.import_roster([SCHOOL])
    assert isinstance(dialog, ImportRosterDialog)
    qtbot.waitUntil(lambda: dialog.plan is not None)
    assert dialog.class_panel.isVisible() and dialog.notes.isVisible()
    assert classes(dialog) == [
        ("Homeroom 7A — Maria Rodriguez (1001), 5 students → T001", None),
        ("Science 8 — Mark Thompson (T002), 2 students: skipped, a class of T002, not of the "
         "signed-in teacher (T001)", None),
        ("Algebra II — John Doe (1003), 3 students: skipped, teacher John Doe (1003) is not "
         "known to this store", None),
        ("Kindergarten Blue — Kim Blue (1004), 2 students: skipped, teacher Kim Blue (1004) "
         "is not known to this store", None),
        ("Art 6-8 — Maria Rodriguez (1001), 2 students → T001", None),
    ]  # fmt: skip
    notes = dialog.notes.text()
    assert "skipped 3 class(es)" in notes and "skipped 4 student(s) in grades outside 6–8" in notes
    assert dialog.changes.rowCount() == 5
    if os.environ.get("FLOURISH_SCREENSHOTS"):
        dialog.resize(1280, 720)
        qtbot.wait(50)
        dialog.grab().save(os.path.join(os.environ["FLOURISH_SCREENSHOTS"], "roster-skipped.png"))
    # the accessible names of the choice
    assert dialog.teacher_combo.accessibleName() == "Import the classes for"
    assert dialog.class_view.accessibleName() == "Classes in the file"
    assert [dialog.teacher_combo.itemData(i) for i in range(dialog.teacher_combo.count())] == [
        None,
        "T001",  # signed in: only her own name is offered
    ]
    dialog.teacher_combo.setCurrentIndex(1)
    dialog.teacher_combo.activated.emit(1)
    qtbot.waitUntil(lambda: dialog.class_model.checkable and dialog.plan is not None)
    checked = [state for _t, state in classes(dialog)]
    assert checked == [Qt.CheckState.Checked, Qt.CheckState.Unchecked, Qt.CheckState.Unchecked,
                       Qt.CheckState.Unchecked, Qt.CheckState.Checked]  # fmt: skip
    algebra = dialog.class_model.index(2)
    dialog.plan = None
    dialog.class_model.setData(algebra, Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)
    qtbot.waitUntil(lambda: dialog.plan is not None)
    assert dialog.selection.classes == ("2001", "2003", "2005")
    assert "Algebra II — John Doe (1003), 3 students → T001" in classes(dialog)[2][0]
    assert classes(dialog)[1][0].endswith("skipped, not chosen (a class of T002)")
    assert dialog.class_help.text() == "The checked classes join the class of Ms. Rodriguez (T001)."
    if os.environ.get("FLOURISH_SCREENSHOTS"):
        dialog.resize(1280, 720)
        qtbot.wait(50)
        dialog.grab().save(os.path.join(os.environ["FLOURISH_SCREENSHOTS"], "roster-classes.png"))
    dialog.import_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    wait_idle(qtbot, window)
    with window.ctx.store.read() as conn:
        t001 = conn.exec_driver_sql(
            "SELECT external_source, external_id FROM teachers WHERE id = 'T001'"
        ).one()
    assert tuple(t001) == ("oneroster", "1003")  # John Doe's classes are hers from now on
