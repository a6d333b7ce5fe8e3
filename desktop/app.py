"""Starting the desktop application: QApplication, appearance, the store, the main window.

:func:`run_app` is what ``flourish app`` and ``flourish demo`` call. The local store is
opened (and, for an old file, upgraded) on a worker thread while the event loop keeps
running; a first run without data asks what to open (:mod:`desktop.firstrun`). Choosing
another data folder in Settings closes the window and reopens the app there.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sync import paths

__all__ = ["open_context", "resolve_data_dir", "run_app"]


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path:
    """``--data-dir``, else ``$FLOURISH_DATA_DIR``, else the folder chosen in Settings,
    else the platform's user data folder."""
    if data_dir or os.environ.get(paths.DATA_DIR_ENV):
        return paths.data_dir(data_dir)
    from desktop.prefs import Prefs

    chosen = Prefs().data_dir
    return chosen if chosen is not None else paths.data_dir()


def open_context(db_path: Path, *, demo: bool = False) -> object:
    """Open the store and read its profile on a worker thread, keeping the GUI responsive.

    Returns an :class:`~desktop.context.AppContext`, or the exception that stopped it.
    """
    from PySide6.QtCore import QEventLoop

    from desktop.context import AppContext, Profile, load_profile
    from desktop.tasks import TaskContext, TaskRunner
    from sync.local import LocalStore

    tasks = TaskRunner()
    loop = QEventLoop()
    outcome: dict[str, object] = {}

    def work(_tc: TaskContext) -> tuple[LocalStore, Profile]:
        if demo and not db_path.exists():  # the demo chosen on first run
            from sync.profiles import create_demo_store

            create_demo_store(db_path.parent, keep=True)
        store = LocalStore.open(db_path)
        try:
            return store, load_profile(store)
        except BaseException:
            store.close()
            raise

    def done(result: tuple[LocalStore, Profile]) -> None:
        outcome["ctx"] = AppContext(store=result[0], profile=result[1], tasks=tasks)
        loop.quit()

    def failed(exc: BaseException) -> None:
        outcome["error"] = exc
        loop.quit()

    tasks.job(work, done, failed, name="open-store")
    loop.exec()
    return outcome.get("ctx", outcome.get("error"))


def _report_first_paint(window: object) -> None:
    """For the start-up benchmark: with ``FLOURISH_BENCH_T0`` (the launcher's
    ``time.time()``) set, print the seconds from launch to the first painted window."""
    started = os.environ.get("FLOURISH_BENCH_T0")
    if not started:
        return
    import time

    def report() -> None:
        print(f"first-paint-s {time.time() - float(started):.4f}", file=sys.stderr, flush=True)

    window.first_paint.connect(report)  # type: ignore[attr-defined]


def run_app(
    *,
    data_dir: str | os.PathLike[str] | None,
    demo: bool = False,
    quit_after_paint: bool = False,
) -> int:
    """Run the Qt event loop on the store in ``data_dir``; returns the exit code."""
    from PySide6.QtGui import QGuiApplication, QIcon
    from PySide6.QtWidgets import QApplication, QMessageBox

    from desktop.context import AppContext
    from desktop.errors import describe
    from desktop.mainwindow import MainWindow
    from desktop.prefs import Prefs
    from desktop.theme import Appearance, apply_appearance

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName(paths.APP_NAME)
    app.setOrganizationName(paths.APP_AUTHOR)
    app.setApplicationDisplayName("Flourish")
    app.setDesktopFileName("flourish")
    icon = QIcon(str(paths.resource_path("icons", "flourish.svg")))
    icon.addFile(str(paths.resource_path("icons", "flourish.png")))
    app.setWindowIcon(icon)
    prefs = Prefs()
    apply_appearance(prefs.appearance)

    def follow_system() -> None:
        if prefs.appearance is Appearance.SYSTEM:
            apply_appearance(Appearance.SYSTEM)

    QGuiApplication.styleHints().colorSchemeChanged.connect(follow_system)

    folder = Path(data_dir) if data_dir else resolve_data_dir(None)
    sign_in = False
    if not demo and not (folder / paths.LOCAL_DB_NAME).exists():
        from desktop.firstrun import FirstRunDialog

        dialog = FirstRunDialog(folder, paths.data_dir() / "Demo")
        if not dialog.exec() or dialog.choice is None:
            return 0
        folder, demo, sign_in = dialog.choice.folder, dialog.choice.demo, dialog.choice.sign_in
        if not demo and not data_dir:
            prefs.data_dir = folder
        if not demo and dialog.choice.teacher_name:
            from sync.profiles import create_local_profile

            db = folder / paths.LOCAL_DB_NAME
            if not db.exists():  # a few milliseconds, before any window exists
                create_local_profile(db, teacher_name=dialog.choice.teacher_name)

    code = 0
    while True:
        ctx = open_context(folder / paths.LOCAL_DB_NAME, demo=demo)
        if not isinstance(ctx, AppContext):
            title, text = describe(ctx if isinstance(ctx, BaseException) else RuntimeError(ctx))
            QMessageBox.critical(None, title, text)
            return 1
        window = MainWindow(ctx, prefs=prefs)
        switch: dict[str, Path] = {}

        def switch_to(
            path: Path, window: MainWindow = window, switch: dict[str, Path] = switch
        ) -> None:
            switch["to"] = path
            window.really_close()

        window.switch_profile.connect(switch_to)
        window.show()
        if sign_in:
            window.open_settings("server")
            sign_in = False
        if quit_after_paint or os.environ.get("FLOURISH_QUIT_AFTER_PAINT"):
            window.first_paint.connect(app.quit)
            _report_first_paint(window)
        try:
            code = int(app.exec())
        finally:
            window.shutdown()
            ctx.store.close()
        if "to" not in switch:
            return code
        folder, demo = switch["to"], False
