"""When the data file cannot be opened: say what is wrong plainly and offer what can be done.

* A **damaged** store (:class:`sync.store.health.StoreDamagedError`): restore the newest
  automatic backup (the damaged file is kept beside it as ``*.damaged-<time>``, never
  deleted), download the data again from the server keeping the unsent changes that can
  still be read (:mod:`sync.replication.redownload`, on a worker thread; it says what was
  kept and what could not be read), or choose another data folder.
* A data folder that **cannot be created or written**: choose another folder.

:func:`offer_recovery` runs before the main window exists (a modal box is fine there) and
returns the folder to try next, or None to quit. GUI thread only.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from desktop.core.wording import format_time
from sync.errors import StoreError
from sync.store.health import StoreDamagedError

__all__ = ["offer_recovery", "restore_automatic_backup"]


def restore_automatic_backup(store_path: Path, backup: Path) -> Path:
    """Put ``backup`` in place of the damaged store; returns where the damaged file went."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    kept = store_path.with_name(f"{store_path.name}.damaged-{stamp}")
    store_path.rename(kept)
    for suffix in ("-wal", "-shm"):
        side = store_path.with_name(store_path.name + suffix)
        if side.exists():
            side.rename(kept.with_name(kept.name + suffix))
    shutil.copy2(backup, store_path)
    store_path.chmod(0o600)
    return kept


def _saved(file: Path) -> str:
    return format_time(dt.datetime.fromtimestamp(file.stat().st_mtime, dt.UTC))


def _choose_folder(parent: QWidget | None) -> Path | None:
    folder = QFileDialog.getExistingDirectory(parent, "Choose a folder for Flourish's data")
    return Path(folder) if folder else None


def offer_recovery(
    error: BaseException, folder: Path, *, parent: QWidget | None = None
) -> Path | None:
    """Show what went wrong with the store in ``folder`` and what can be done (see above)."""
    box = QMessageBox(parent)
    box.setObjectName("recoveryBox")
    box.setIcon(QMessageBox.Icon.Warning)
    restore = download = None
    if isinstance(error, StoreDamagedError):
        box.setWindowTitle("The data file is damaged")
        box.setText("Flourish's data file on this laptop is damaged and cannot be opened.")
        info = (
            "Nothing has been changed or deleted. "
            + (
                f"The newest automatic backup is from {_saved(error.backups[0])}; "
                "restoring it keeps the damaged file beside it. Changes made since that "
                "backup are lost on this laptop, but whatever reached the server comes "
                "back with the next sync."
                if error.backups
                else "There is no automatic backup."
            )
            + (
                " A laptop signed in to a server can download its data again: the changes "
                "not sent yet that can still be read are kept and sent."
            )
        )
        box.setInformativeText(info)
        box.setDetailedText(str(error))
        if error.backups:
            restore = box.addButton(
                "Restore the automatic backup", QMessageBox.ButtonRole.AcceptRole
            )
        download = box.addButton(
            "Download again from the server", QMessageBox.ButtonRole.ActionRole
        )
    else:
        box.setWindowTitle("Flourish cannot use its data folder")
        box.setText(f"Flourish cannot use the data folder {folder}.")
        box.setInformativeText(
            str(error) if isinstance(error, StoreError) else f"{type(error).__name__}: {error}"
        )
    other = box.addButton("Choose another folder…", QMessageBox.ButtonRole.ActionRole)
    box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    clicked = box.clickedButton()
    if restore is not None and clicked is restore and isinstance(error, StoreDamagedError):
        restore_automatic_backup(error.path, error.backups[0])
        return folder
    if download is not None and clicked is download and isinstance(error, StoreDamagedError):
        return _download_again(error, folder, parent)
    if clicked is other:
        return _choose_folder(parent)
    return None


def _download_again(error: StoreDamagedError, folder: Path, parent: QWidget | None) -> Path | None:
    """Download a fresh copy in place of the damaged file; say what was kept, or why not
    (and offer the choices again)."""
    from desktop.core.errors import describe
    from desktop.dataio.dialogs import fresh_copy
    from desktop.shell.app import _in_background

    outcome = _in_background(lambda: fresh_copy(error.path))
    if isinstance(outcome, BaseException):
        title, text = describe(outcome)
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=parent)
        box.setInformativeText("Nothing was changed.")
    else:
        box = QMessageBox(QMessageBox.Icon.Information, "Flourish", str(outcome), parent=parent)
    box.setObjectName("downloadOutcome")
    box.exec()
    if isinstance(outcome, BaseException):
        return offer_recovery(error, folder, parent=parent)
    return folder


def is_recoverable(error: object) -> bool:
    """A damaged store or an unusable data folder (what :func:`offer_recovery` handles)."""
    return isinstance(error, StoreDamagedError) or (
        isinstance(error, StoreError) and "cannot be used" in str(error)
    )
