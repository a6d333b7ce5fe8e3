"""Starting the desktop application: QApplication, the store, the main window."""

from __future__ import annotations

import os
import sys

from sync import paths

__all__ = ["run_app"]


def run_app(*, data_dir: str | None, demo: bool = False, quit_after_paint: bool = False) -> int:
    """Run the Qt event loop on the store in ``data_dir``; returns the exit code."""
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from desktop.mainwindow import MainWindow
    from sync.local import LocalStore

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName(paths.APP_NAME)
    app.setOrganizationName(paths.APP_AUTHOR)
    app.setWindowIcon(QIcon(str(paths.resource_path("icons", "flourish.png"))))
    store = LocalStore.open(paths.local_db_path(data_dir))
    window = MainWindow(store, demo=demo)
    window.show()
    if quit_after_paint or os.environ.get("FLOURISH_QUIT_AFTER_PAINT"):
        window.first_paint.connect(lambda: QTimer.singleShot(0, app.quit))
    try:
        return int(app.exec())
    finally:
        window.shutdown()
        store.close()
