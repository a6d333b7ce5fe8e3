"""How the app words dates, times, untitled evidence and conflicts.

Dates in the locale's format (ISO without a locale, never ``7 12 2026``); times local, to
the minute or second, never microseconds; an untitled entry named by its first words,
never ``DE001``; the conflicts panel marks only differences the teacher can read.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, QLocale
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.core.wording import date_format, entry_title, format_date, format_time
from desktop.shell.mainwindow import CONFLICTS, MainWindow
from desktop.student.data import load_student
from desktop.syncui.conflicts import ComparisonModel
from sync import actions
from sync.store.local import LocalStore
from tests.test_desktop_support import close_window, insert_conflict, isolate_settings, open_window


@pytest.fixture(autouse=True)
def _settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate_settings(monkeypatch, tmp_path)


@pytest.fixture
def locale() -> Iterator[None]:
    before = QLocale()
    yield
    QLocale.setDefault(before)


def test_dates_follow_the_locale(qapp: QApplication, locale: None) -> None:
    QLocale.setDefault(QLocale(QLocale.Language.C))
    assert format_date("2026-12-07") == "2026-12-07"  # not "7 12 2026"
    QLocale.setDefault(QLocale("en_US"))
    assert format_date(dt.date(2026, 12, 7)) == "12/7/26"
    QLocale.setDefault(QLocale("en_GB"))
    assert format_date("2026-12-07 10:00:00") == "07/12/2026"
    assert date_format() == "dd/MM/yyyy"
    assert format_date("not a date") == "not a date"


def test_times_are_local_without_microseconds(qapp: QApplication, locale: None) -> None:
    QLocale.setDefault(QLocale(QLocale.Language.C))
    stamp = "2026-12-07 14:03:11.123456"
    local = dt.datetime(2026, 12, 7, 14, 3, 11, tzinfo=dt.UTC).astimezone()
    assert format_time(stamp) == local.strftime("%Y-%m-%d %H:%M")
    assert format_time(stamp, seconds=True) == local.strftime("%Y-%m-%d %H:%M:%S")
    assert format_time("2026-12-07T14:03:11.123456+00:00", seconds=True) == local.strftime(
        "%Y-%m-%d %H:%M:%S"
    )


def test_the_date_fields_use_the_locale_format(
    qtbot: QtBot, demo_store: LocalStore, locale: None
) -> None:
    QLocale.setDefault(QLocale(QLocale.Language.C))
    w = open_window(qtbot, demo_store, start_sync=False)
    try:
        w.new_evidence()
        dialog = w.dialog
        dialog.date.setDate(QDate(2026, 12, 7))
        assert dialog.date.text() == "2026-12-07"
        dialog.reject()
    finally:
        close_window(w)


def test_untitled_evidence_is_named_by_its_first_words(
    qtbot: QtBot, demo_store: LocalStore
) -> None:
    entry = actions.add_entry(
        demo_store,
        student_id="S001",
        teacher_id="T001",
        entry_type="parent_note",
        content="Pat explained the fractions homework to her little brother at dinner tonight.",
    ).value
    with demo_store.read() as conn:
        titles = {e.id: e.title for e in load_student(conn, "S001").entries}
    assert titles[entry.id] == "“Pat explained the fractions homework to her little…”"
    assert not any(t.startswith("DE") and t[2:].isdigit() for t in titles.values())
    assert entry_title(None, "", "parent_note") == "Parent note"


def test_the_review_queue_names_untitled_evidence_by_kind_and_date(
    qtbot: QtBot, demo_store: LocalStore, locale: None
) -> None:
    QLocale.setDefault(QLocale(QLocale.Language.C))
    with demo_store.apply_remote() as conn:  # every entry untitled
        conn.exec_driver_sql("UPDATE data_entries SET metadata = json_remove(metadata, '$.title')")
    w = open_window(qtbot, demo_store, start_sync=False)
    try:
        w.toggle_by_document(True)
        model = w.review.model
        qtbot.waitUntil(lambda: model.complete and model.rowCount() > 0)
        column = model.columns.index("Evidence")
        shown = [model.index(r, column).data() for r in range(min(model.rowCount(), 30))]
        labels = [s for s in shown if s]
        assert labels and not any("DE0" in s for s in labels), labels
        assert all(s.split(", ")[-1][:4] == "2026" for s in labels), labels
        header = w.review.evidence.header.text()
        assert "DE0" not in header and "“" in header  # the entry's first words
    finally:
        close_window(w)
    assert entry_title("  Lab report ", "whatever") == "Lab report"


def test_conflicts_show_local_times_and_no_false_difference(
    qtbot: QtBot, demo_store: LocalStore
) -> None:
    insert_conflict(demo_store, assessment_id=2)  # the laptop's 1 and the server's true
    with demo_store.apply_remote() as conn:  # and the same moment written two ways
        row = conn.exec_driver_sql("SELECT losing_row, winning_row FROM sync_conflicts").one()
        losing, winning = json.loads(row[0]), json.loads(row[1])
        losing.update(use_as_example=1, corrected_at="2026-10-02 09:00:00.123456")
        winning.update(use_as_example=True, corrected_at="2026-10-02T09:00:00.123456+00:00")
        conn.exec_driver_sql(
            "UPDATE sync_conflicts SET losing_row = ?, winning_row = ?",
            (json.dumps(losing), json.dumps(winning)),
        )
    w: MainWindow = open_window(qtbot, demo_store)
    try:
        w.show_tab(CONFLICTS)
        panel = w.conflicts
        qtbot.waitUntil(lambda: panel.model.rowCount() == 1 and panel.compare.rowCount() > 0)
        fields = {r[0]: (r[1], r[2], r[3]) for r in panel.compare.rows}
        assert fields["Use as example"] == ("yes", "yes", False)
        assert fields["Corrected at"][2] is False
        when = dt.datetime(2026, 10, 2, 9, 0, tzinfo=dt.UTC).astimezone()
        assert fields["Corrected at"][0] == format_time(when, seconds=True)
        cells = [c for r in panel.compare.rows for c in r[1:3]]
        assert not any(".123456" in c or "T09:" in c for c in cells)
        listed = panel.model.index(0, 0).data()
        assert listed == format_time("2026-10-02 09:05:00") and ":00." not in listed
        assert fields["Corrected level"][2] is True  # a real difference still shows
        teacher = w.ctx.profile.teacher_name
        assert teacher and fields["Corrected by"] == (teacher, teacher, False)  # not "T001"
    finally:
        close_window(w)


def test_the_comparison_reads_booleans_alike_whatever_sent_them() -> None:
    model = ComparisonModel()
    model.set_versions({"use_as_example": 0}, {"use_as_example": False}, "teacher_corrections")
    assert model.rows == [("Use as example", "no", "no", False)]
    model.set_versions({"use_as_example": 1}, {"use_as_example": False}, "teacher_corrections")
    assert model.rows == [("Use as example", "yes", "no", True)]
