"""Starting the desktop application: QApplication, appearance, the store, the main window.

:func:`run_app` is what ``flourish app`` and ``flourish demo`` call. The local store is
opened (and, for an old file, upgraded) on a worker thread while the event loop keeps
running; a first run without data asks what to open (:mod:`desktop.shell.firstrun`), and an
encrypted store whose key is not in the keyring asks for its passphrase
(:mod:`desktop.settings.passphrase`; *Quit* leaves).

A window that needs another store — another data folder chosen in Settings, or the same
store after a restore, encryption on or off, or a sign-out — emits ``switch_profile`` with
a :class:`~desktop.core.context.Reopen`: the app closes the window and the store, runs the
request's ``prepare`` on the closed file (:func:`prepare_store`, on a worker thread), and
opens the folder again in a fresh window (every view starts afresh), or shows the first-run
dialog when the store is gone (after a sign-out).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sync import paths

if TYPE_CHECKING:
    from desktop.core.context import Reopen

__all__ = [
    "open_context",
    "open_context_asking",
    "prepare_store",
    "resolve_data_dir",
    "run_app",
]


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path:
    """``--data-dir``, else ``$FLOURISH_DATA_DIR``, else the folder chosen in Settings,
    else the platform's user data folder."""
    if data_dir or os.environ.get(paths.DATA_DIR_ENV):
        return paths.data_dir(data_dir)
    from desktop.core.prefs import Prefs

    chosen = Prefs().data_dir
    return chosen if chosen is not None else paths.data_dir()


def _in_background(fn: Callable[[], object]) -> object:
    """Run ``fn`` on a worker thread while a local event loop keeps the GUI responsive;
    returns its value or the exception that stopped it (GUI thread)."""
    from PySide6.QtCore import QEventLoop

    from desktop.core.tasks import TaskContext, TaskRunner

    tasks = TaskRunner()
    loop = QEventLoop()
    outcome: dict[str, object] = {}

    def done(value: object) -> None:
        outcome["value"] = value
        loop.quit()

    def failed(exc: BaseException) -> None:
        outcome["value"] = exc
        loop.quit()

    def work(_tc: TaskContext) -> object:
        return fn()

    tasks.job(work, done, failed, name="app-background")
    loop.exec()
    tasks.shutdown()
    return outcome.get("value")


def open_context(db_path: Path, *, demo: bool = False, key: str | None = None) -> object:
    """Open the store and read its profile on a worker thread, keeping the GUI responsive.

    Returns an :class:`~desktop.core.context.AppContext`; a
    :class:`~desktop.settings.passphrase.KeyNeeded` when the store is encrypted and ``key``
    (or the keyring) does not open it; or the exception that stopped it.
    """
    from PySide6.QtCore import QEventLoop

    from desktop.core.context import AppContext, Profile, load_profile
    from desktop.core.tasks import TaskContext, TaskRunner
    from desktop.settings.passphrase import KeyNeeded, check_key
    from sync.store.local import LocalStore

    tasks = TaskRunner()
    loop = QEventLoop()
    outcome: dict[str, object] = {}

    def work(_tc: TaskContext) -> tuple[LocalStore, Profile] | KeyNeeded:
        if demo and not db_path.exists():  # the demo chosen on first run
            from sync.store.profiles import create_demo_store

            create_demo_store(db_path.parent, keep=True)
        needed = check_key(db_path, key)
        if needed is not None:
            return needed
        store = LocalStore.open(db_path, key=key)
        try:
            return store, load_profile(store)
        except BaseException:
            store.close()
            raise

    def done(result: tuple[LocalStore, Profile] | KeyNeeded) -> None:
        if isinstance(result, KeyNeeded):
            outcome["ctx"] = result
            tasks.shutdown()
        else:
            outcome["ctx"] = AppContext(store=result[0], profile=result[1], tasks=tasks)
        loop.quit()

    def failed(exc: BaseException) -> None:
        outcome["error"] = exc
        tasks.shutdown()
        loop.quit()

    tasks.job(work, done, failed, name="open-store")
    loop.exec()
    return outcome.get("ctx", outcome.get("error"))


def open_context_asking(
    db_path: Path, *, demo: bool = False, key: str | None = None, parent: Any = None
) -> object:
    """:func:`open_context`, asking for the passphrase of an encrypted store whose key is
    not available (again after a wrong one). None when the teacher chose Quit."""
    from desktop.settings.passphrase import KeyNeeded, PassphraseDialog

    while True:
        ctx = open_context(db_path, demo=demo, key=key)
        if not isinstance(ctx, KeyNeeded):
            return ctx
        dialog = PassphraseDialog(ctx.path, wrong=ctx.wrong, parent=parent)
        if not dialog.exec():
            return None
        key = dialog.value()
        dialog.passphrase.clear()


def prepare_store(request: Reopen) -> object:
    """Run ``request.prepare`` on the closed store file (worker thread, GUI responsive).

    Returns its sentence for the teacher (or None), or the exception that stopped it.
    """
    prepare = request.prepare
    if prepare is None:
        return None
    db = request.folder / paths.LOCAL_DB_NAME
    return _in_background(lambda: prepare(db))


def _first_run(folder: Path, data_dir: object, prefs: Any) -> tuple[Path, bool, bool] | None:
    """The first-run dialog: (folder, demo, sign in next), or None to quit."""
    from desktop.shell.firstrun import FirstRunDialog

    dialog = FirstRunDialog(folder, paths.data_dir() / "Demo")
    if not dialog.exec() or dialog.choice is None:
        return None
    choice = dialog.choice
    if not choice.demo and not data_dir:
        prefs.data_dir = choice.folder
    folder = choice.folder
    if not choice.demo and choice.teacher_name:
        from desktop.shell.recovery import offer_recovery
        from sync.errors import StoreError
        from sync.store.profiles import create_local_profile

        while not (folder / paths.LOCAL_DB_NAME).exists():  # milliseconds, before any window
            try:
                create_local_profile(folder / paths.LOCAL_DB_NAME, teacher_name=choice.teacher_name)
            except StoreError as exc:  # a folder that cannot be created or written
                again = offer_recovery(exc, folder)
                if again is None:
                    return None
                folder = again
                if not data_dir:
                    prefs.data_dir = folder
    return folder, choice.demo, choice.sign_in


def _report_first_paint(window: object) -> None:
    """For the start-up benchmark: with ``FLOURISH_BENCH_T0`` (the launcher's
    ``time.time()``) set, print the seconds from launch to the first painted window, and
    the processor time the process used until then (all threads: what a busy machine
    does not inflate as much)."""
    started = os.environ.get("FLOURISH_BENCH_T0")
    if not started:
        return
    import time

    def report() -> None:
        print(f"first-paint-s {time.time() - float(started):.4f}", file=sys.stderr, flush=True)
        print(f"first-paint-cpu-s {time.process_time():.4f}", file=sys.stderr, flush=True)

    window.first_paint.connect(report)  # type: ignore[attr-defined]


def run_app(
    *,
    data_dir: str | os.PathLike[str] | None,
    demo: bool = False,
    quit_after_paint: bool = False,
) -> int:
    """Run the Qt event loop on the store in ``data_dir``; returns the exit code."""
    import gc

    collecting = gc.isenabled()
    gc.disable()  # as in desktop/cli/__init__.py: imports make no garbage
    try:
        from PySide6.QtGui import QGuiApplication, QIcon
        from PySide6.QtWidgets import QApplication, QMessageBox

        from desktop.core.context import AppContext, Reopen
        from desktop.core.errors import describe
        from desktop.core.prefs import Prefs
        from desktop.core.theme import Appearance, apply_appearance
        from desktop.shell.mainwindow import MainWindow
    finally:
        if collecting:
            gc.enable()

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
        chosen = _first_run(folder, data_dir, prefs)
        if chosen is None:
            return 0
        folder, demo, sign_in = chosen

    code = 0
    key: str | None = None
    notice: str | None = None
    error: BaseException | None = None
    while True:
        ctx = open_context_asking(folder / paths.LOCAL_DB_NAME, demo=demo, key=key)
        if ctx is None:  # Quit at the passphrase
            return 0
        if not isinstance(ctx, AppContext):
            from desktop.shell.recovery import is_recoverable, offer_recovery

            if isinstance(ctx, BaseException) and is_recoverable(ctx):
                again = offer_recovery(ctx, folder)
                if again is None:
                    return 1
                if again != folder:
                    prefs.data_dir = again
                folder, key = again, None
                if not (folder / paths.LOCAL_DB_NAME).exists():
                    chosen = _first_run(folder, data_dir, prefs)
                    if chosen is None:
                        return 0
                    folder, demo, sign_in = chosen
                continue
            title, text = describe(ctx if isinstance(ctx, BaseException) else RuntimeError(ctx))
            QMessageBox.critical(None, title, text)
            return 1
        window = MainWindow(ctx, prefs=prefs)
        switch: dict[str, Reopen] = {}

        def switch_to(
            to: Path | Reopen, window: MainWindow = window, switch: dict[str, Reopen] = switch
        ) -> None:
            switch["to"] = to if isinstance(to, Reopen) else Reopen(Path(to))
            window.really_close()

        window.switch_profile.connect(switch_to)
        window.show()
        if notice:
            window.show_notice(notice)
        if error is not None:
            window.errors.show(error)
        if sign_in:
            window.open_settings("server")
            sign_in = False
        if quit_after_paint or os.environ.get("FLOURISH_QUIT_AFTER_PAINT"):
            _report_first_paint(window)
            # closes unconditionally: no "changes not sent yet" question can hold it open
            window.first_paint.connect(window.really_close)
        try:
            code = int(app.exec())
        finally:
            window.shutdown()
            ctx.store.close()
        if "to" not in switch:
            return code
        request = switch["to"]
        folder, demo, key, notice, error = request.folder, False, request.key, request.notice, None
        outcome = prepare_store(request)
        if isinstance(outcome, BaseException):
            error = outcome
        elif isinstance(outcome, str):
            notice = outcome
        if request.prepare is not None and not (folder / paths.LOCAL_DB_NAME).exists():
            # signed out: the store is gone; start over as on a new laptop
            if notice:
                QMessageBox.information(None, "Flourish", notice)
            chosen = _first_run(folder, data_dir, prefs)
            if chosen is None:
                return 0
            (folder, demo, sign_in), key, notice = chosen, None, None
