"""Screenshots of the desktop app on the demo dataset, in light and dark.

    xvfb-run -a .venv/bin/python packaging/screenshots.py [OUT_DIR] [--theme light|dark|both]
        [--size WIDTHxHEIGHT ...]

(``QT_QPA_PLATFORM=offscreen`` works too; the test suite uses it.) Builds a fresh demo
store in a temporary folder, makes it look used — a few decisions, a target, a badge, a
conflict pulled from "another laptop" — opens the real main window and saves:

    main.png        the main window as it opens (review queue, roster, status bar)
    review.png      the review queue by evidence document, correction editor open
    class.png       the class heat map
    student.png     the student view with the level-history chart
    student-evidence.png  the student's evidence list with an entry open
    conflicts.png   the conflicts panel, both versions side by side
    dialog-*.png    every dialog: settings (each tab), new evidence, import evidence,
                    import roster, add student, assess yourself, progress report, assign
                    target, grant badge, AI calibration, keyboard shortcuts

Dark variants get a ``-dark`` suffix. Window shots are WIDTHxHEIGHT: by default 1280x720
and 1366x768, the two small laptop screens Flourish is laid out for (:data:`SIZES`); shots
at any size but the first get a ``-WIDTHxHEIGHT`` suffix. Text cut short on screen (an
ellipsis where the full text would fit, a label or button narrower than its text) is
printed as a warning, for the views and the dialogs; :func:`elided` is what the test suite
checks, at both sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = ((1280, 720), (1366, 768))
SHOTS = ("main", "review", "class", "student", "student-evidence", "conflicts")
DIALOGS = (
    "settings-server",
    "settings-ai",
    "settings-profile",
    "settings-appearance",
    "settings-privacy",
    "new-evidence",
    "import-evidence",
    "import-roster",
    "add-student",
    "assess-yourself",
    "progress-report",
    "assign-target",
    "grant-badge",
    "calibration",
    "shortcuts",
)


def elided(root: object) -> list[str]:
    """Text under ``root`` (a visible widget) that is cut short on screen."""
    from PySide6.QtCore import QModelIndex, Qt
    from PySide6.QtGui import QFontMetrics
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QDialog,
        QHeaderView,
        QLabel,
        QTabBar,
        QTableView,
        QWidget,
    )

    assert isinstance(root, QWidget)
    found: list[str] = []
    for w in [root, *root.findChildren(QWidget)]:
        if not w.isVisible() or w.objectName().startswith("qt_"):
            continue
        fm = w.fontMetrics()
        if isinstance(w, QLabel) and not w.wordWrap() and w.text() and w.pixmap().isNull():
            text = w.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
            if w.textFormat() != Qt.TextFormat.PlainText and "<" in text:
                continue  # rich text lays itself out
            if fm.horizontalAdvance(text) > w.contentsRect().width() + 1:
                found.append(f"label {text!r} ({w.width()} px)")
        elif isinstance(w, QAbstractButton) and w.text():
            if w.sizeHint().width() > w.width() + 1:
                found.append(f"button {w.text()!r} ({w.width()} of {w.sizeHint().width()} px)")
        elif isinstance(w, QTabBar):
            for i in range(w.count()):
                if w.tabRect(i).width() + 1 < w.tabSizeHint(i).width():
                    found.append(f"tab {w.tabText(i)!r}")
        elif isinstance(w, QAbstractItemView) and not isinstance(w, QHeaderView):
            model = w.model()
            if model is None:
                continue
            top = QModelIndex()
            try:
                columns = model.columnCount(top)
            except (TypeError, RuntimeError):  # a list model keeps columnCount private
                columns = 1
            for row in range(min(model.rowCount(top), 40)):
                for col in range(columns):
                    index = model.index(row, col)
                    text = index.data(Qt.ItemDataRole.DisplayRole)
                    rect = w.visualRect(index)
                    if not isinstance(text, str) or not text or rect.isEmpty():
                        continue
                    if not w.viewport().rect().intersects(rect):
                        continue
                    wraps = callable(getattr(w, "wordWrap", None)) and w.wordWrap()
                    words = text.split() if wraps else [text]  # wrapped: each word must fit
                    if max(fm.horizontalAdvance(word) for word in words) + 4 <= rect.width():
                        continue
                    stretched = isinstance(w, QTableView) and (
                        w.horizontalHeader().sectionResizeMode(col)
                        == QHeaderView.ResizeMode.Stretch
                    )
                    if stretched and index.data(Qt.ItemDataRole.ToolTipRole) == text:
                        continue  # the column takes what is left; the whole text on hover
                    found.append(f"cell {text!r} in {w.objectName() or type(w).__name__}")
        if isinstance(w, QDialog) and w.windowTitle():
            title = QFontMetrics(w.font()).horizontalAdvance(w.windowTitle())
            if title + 160 > w.width():  # a window manager's title bar keeps ~160 px
                found.append(f"dialog title {w.windowTitle()!r} ({w.width()} px)")
    return found


def _prepare_store(folder: Path) -> Path:
    from sync import actions
    from sync.store.local import LocalStore
    from sync.store.profiles import create_demo_store

    path = create_demo_store(folder)
    with LocalStore.open(path) as store:
        for aid, level in ((80, None), (34, 3), (67, None), (96, 2), (5, None)):
            if level is None:
                actions.accept(store, assessment_id=aid, teacher_id="T001")
            else:
                actions.correct(
                    store,
                    assessment_id=aid,
                    teacher_id="T001",
                    level=level,
                    notes="Seen in the group work on Tuesday",
                )
        actions.assign_target(
            store,
            student_id="S001",
            skill_name="Self-Management",
            target_level="Advanced",
            teacher_id="T001",
        )
        actions.grant_badge(
            store,
            student_id="S001",
            skill_name="Organization",
            badge_type="bronze",
            teacher_id="T001",
        )
        actions.grant_badge(
            store,
            student_id="S001",
            skill_name="Metacognition",
            badge_type="gold",
            teacher_id="T001",
        )
        _add_conflict(store)
        _add_new_student(store)
    return path


def _add_new_student(store: object) -> None:
    """A student who joined late: one observation so far, most skills without evidence."""
    from sync import actions
    from sync.store.local import LocalStore

    assert isinstance(store, LocalStore)
    with store.apply_remote() as conn:
        conn.exec_driver_sql(
            "INSERT INTO students (id, name, grade, teacher_id) VALUES ('S005', 'Sam', 7, 'T001')"
        )
    entry = actions.add_entry(
        store,
        student_id="S005",
        teacher_id="T001",
        entry_type="teacher_observation_note",
        content="Sam joined the class this week and asked to sit with the robotics group.",
        metadata={"title": "First week"},
    ).value
    with store.apply_remote() as conn:
        conn.exec_driver_sql(
            "INSERT INTO assessments (id, data_entry_id, student_id, skill_name, skill_category,"
            " level, confidence_score, justification, source_quote, created_at) VALUES"
            " (1001, ?, 'S005', 'Self-Awareness', 'SEL', 'Emerging', 0.62, ?, ?, ?)",
            (
                entry.id,
                "Sam names a preference but not yet how it helps him learn.",
                "asked to sit with the robotics group",
                "2026-11-01 10:00:00.000000",
            ),
        )


def _add_conflict(store: object) -> None:
    """A decision made on another laptop won over this one; the loser is logged."""
    from sync.store.local import LocalStore

    assert isinstance(store, LocalStore)
    with store.read() as conn:
        level, justification, student, skill = conn.exec_driver_sql(
            "SELECT level, justification, student_id, skill_name FROM assessments WHERE id = 12"
        ).one()
    base = {
        "assessment_id": 12,
        "original_level": level,
        "original_justification": justification,
        "corrected_by": "T001",
        "use_as_example": True,
    }
    winning = dict(
        base,
        id=2_000_000_001,
        corrected_level="Advanced",
        corrected_justification=f"{skill}: planned the whole build in three steps.",
        teacher_notes="From the classroom laptop",
        corrected_at="2026-10-02 09:00:00",
    )
    losing = dict(
        base,
        id=1_000_000_001,
        corrected_level="Developing",
        corrected_justification="Still needed reminders for every step.",
        teacher_notes="From my laptop at home",
        corrected_at="2026-10-01 20:10:00",
    )
    with store.apply_remote() as conn:
        conn.exec_driver_sql(
            "INSERT INTO teacher_corrections (id, assessment_id, original_level, corrected_level,"
            " original_justification, corrected_justification, teacher_notes, corrected_by,"
            " corrected_at, use_as_example, sync_hlc, sync_origin, sync_version)"
            " VALUES (:id, :assessment_id, :original_level, :corrected_level,"
            " :original_justification, :corrected_justification, :teacher_notes, :corrected_by,"
            " :corrected_at, 1, 1000, 2, 10)",
            winning,
        )
        conn.exec_driver_sql(
            "INSERT INTO sync_conflicts (table_name, row_pk, student_id, teacher_id, kind,"
            " reason, losing_row, losing_hlc, losing_origin, winning_row, winning_hlc,"
            " winning_origin, created_at, sync_hlc, sync_origin, sync_version)"
            " VALUES ('teacher_corrections', ?, ?, 'T001', 'natural_key', ?, ?, 900, 1,"
            " ?, 1000, 2, '2026-10-02 09:05:00', 1001, 0, 11)",
            (
                str(losing["id"]),
                student,
                "Two decisions on one proposal: the one from device 2 (2 Oct 09:00) is newer.",
                json.dumps(losing),
                json.dumps(winning),
            ),
        )


def _wait(app: object, condition: Callable[[], bool], timeout: float = 15.0) -> None:
    from PySide6.QtWidgets import QApplication

    assert isinstance(app, QApplication)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents()
        if condition():
            break
        time.sleep(0.01)
    settle = time.monotonic() + 0.3
    while time.monotonic() < settle:  # let the last repaints land
        app.processEvents()
        time.sleep(0.01)


def open_dialog(window: object, name: str) -> object:
    """Open one of :data:`DIALOGS` on ``window`` (a MainWindow) and return it."""
    from desktop.shell.mainwindow import MainWindow

    assert isinstance(window, MainWindow)
    w = window
    if name.startswith("settings-"):
        return w.open_settings(name.removeprefix("settings-"))
    openers = {
        "new-evidence": lambda: (w.new_evidence("S001"), w.dialog)[1],
        "import-evidence": lambda: (w.import_evidence("S001"), w.dialog)[1],
        "import-roster": lambda: w.import_roster(),
        "add-student": lambda: w.add_student(),
        "assess-yourself": lambda: w.assess_yourself("DE001", "S001"),
        "progress-report": lambda: w.export_report("S001"),
        "assign-target": lambda: w.student.open_assign_target(),
        "grant-badge": lambda: w.student.open_grant_badge(),
        "calibration": lambda: (w.show_calibration(), w.dialog)[1],
        "shortcuts": lambda: (w.show_shortcuts(), w.dialog)[1],
    }
    return openers[name]()


def take(out: Path, *, dark: bool, size: tuple[int, int], tag: str = "") -> list[Path]:
    """Every view and dialog at ``size``; file names end in ``tag`` (and ``-dark``)."""
    from PySide6.QtWidgets import QApplication

    import desktop.core.qtfix  # noqa: F401
    from desktop.core.context import AppContext
    from desktop.core.prefs import Prefs
    from desktop.core.theme import Appearance, apply_appearance
    from desktop.shell.mainwindow import CLASS, CONFLICTS, REVIEW, MainWindow
    from sync.store.local import LocalStore

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    apply_appearance(Appearance.DARK if dark else Appearance.LIGHT)
    suffix = tag + ("-dark" if dark else "")
    saved: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="flourish-shots-") as tmp:
        os.environ["FLOURISH_SETTINGS_FILE"] = str(Path(tmp) / "settings.ini")
        store = LocalStore.open(_prepare_store(Path(tmp) / "demo"))
        ctx = AppContext.create(store)
        window = MainWindow(ctx, prefs=Prefs(), start_sync=True)
        window.resize(*size)
        window.show()
        idle = ctx.tasks

        def shot(name: str) -> None:
            path = out / f"{name}{suffix}.png"
            window.grab().save(str(path))
            saved.append(path)
            for problem in elided(window):
                print(f"warning: {path.name}: {problem}", file=sys.stderr)

        try:
            _wait(app, lambda: window.review.controller.item is not None and idle.idle)
            shot("main")
            window.toggle_by_document(True)
            _wait(app, lambda: window.review.model.complete and idle.idle)
            window.review.open_editor("Proficient")
            window.review.editor.notes.setText("Explains the tape diagram to Mia unprompted")
            _wait(app, lambda: idle.idle)
            shot("review")
            window.review.editor.cancel()
            window.show_tab(CLASS)
            _wait(app, lambda: window.class_panel.loaded_once and idle.idle)
            shot("class")
            window.open_student("S001")
            _wait(app, lambda: window.student.data is not None and idle.idle)
            window.student.tabs.setCurrentWidget(window.student.targets)
            _wait(app, lambda: idle.idle)
            shot("student")
            window.student.tabs.setCurrentWidget(window.student.timeline)
            _wait(app, lambda: window.student.timeline.model.rowCount() > 0 and idle.idle)
            window.student.timeline.view.selectRow(0)
            _wait(app, lambda: idle.idle)
            shot("student-evidence")
            window.show_tab(CONFLICTS)
            _wait(app, lambda: window.conflicts.model.rowCount() > 0 and idle.idle)
            shot("conflicts")
            window.show_tab(REVIEW)
            _wait(app, lambda: idle.idle)
            for name in DIALOGS:
                dialog = open_dialog(window, name)
                _wait(app, lambda d=dialog: d.isVisible() and idle.idle)
                path = out / f"dialog-{name}{suffix}.png"
                dialog.grab().save(str(path))
                saved.append(path)
                for problem in elided(dialog):
                    print(f"warning: {path.name}: {problem}", file=sys.stderr)
                dialog.close()
                _wait(app, lambda: idle.idle)
        finally:
            window.really_close()
            window.shutdown()
            store.close()
            app.processEvents()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="screenshots", help="output folder")
    parser.add_argument("--theme", choices=("light", "dark", "both"), default="both")
    parser.add_argument(
        "--size",
        action="append",
        help="window size, WIDTHxHEIGHT (repeat for several; default 1280x720 and 1366x768)",
    )
    args = parser.parse_args(argv)
    try:
        sizes = [
            (int(w), int(h)) for w, h in (s.lower().split("x") for s in args.size or [])
        ] or list(SIZES)
    except ValueError:
        parser.error(f"--size: WIDTHxHEIGHT, as in 1366x768 (got {args.size})")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    themes = {"light": [False], "dark": [True], "both": [False, True]}[args.theme]
    for n, (width, height) in enumerate(sizes):
        tag = "" if n == 0 else f"-{width}x{height}"
        for dark in themes:
            for path in take(out, dark=dark, size=(width, height), tag=tag):
                print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
