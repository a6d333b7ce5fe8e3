"""The sync part of the status bar: state, progress, pending changes, conflicts.

Renders :class:`desktop.syncui.worker.SyncStatus`. A 20-second timer only re-renders the
relative times ("synced 3 min ago"); it never reads the database. GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from desktop.core.theme import sync_state_color
from desktop.syncui.worker import SyncState, SyncStatus

__all__ = ["SyncStatusWidget"]


class SyncStatusWidget(QWidget):
    """Permanent status-bar widget; ``conflicts_clicked`` opens the conflicts panel."""

    conflicts_clicked = Signal()
    sync_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status = SyncStatus()
        self.dot = QLabel("●")
        self.state_label = QLabel()
        self.state_label.setObjectName("syncState")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(self.fontMetrics().averageCharWidth() * 18)
        self.progress.setMaximumHeight(self.fontMetrics().height() + 2)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.pending_label = QLabel()
        self.pending_label.setObjectName("syncPending")
        self.conflicts_button = QPushButton()
        self.conflicts_button.setObjectName("syncConflicts")
        self.conflicts_button.setFlat(True)
        self.conflicts_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.conflicts_button.clicked.connect(self.conflicts_clicked)
        self.conflicts_button.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.dot)
        layout.addWidget(self.state_label)
        layout.addWidget(self.progress)
        layout.addWidget(_separator())
        layout.addWidget(self.pending_label)
        layout.addWidget(self.conflicts_button)
        self.ticker = QTimer(self)
        self.ticker.setInterval(20_000)
        self.ticker.timeout.connect(self.refresh_text)
        self.ticker.start()
        self.refresh_text()

    @property
    def pending_count(self) -> int:
        return self.status.pending

    def show_status(self, status: SyncStatus) -> None:
        self.status = status
        self.refresh_text()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            # light ↔ dark: the dot follows
            self.refresh_text()

    def refresh_text(self) -> None:
        s = self.status
        self.dot.setStyleSheet(f"color: {sync_state_color(s.state.value).name()}")
        self.state_label.setText(s.state_text())
        self.state_label.setToolTip(s.message or "")
        if s.state is SyncState.SYNCING:
            self.progress.show()
            total = s.progress[2] if s.progress else None
            done = s.progress[1] if s.progress else 0
            if total:
                self.progress.setRange(0, total)
                self.progress.setValue(min(done, total))
            else:
                self.progress.setRange(0, 0)  # busy indicator
        else:
            self.progress.hide()
        self.pending_label.setText(s.pending_text())
        if s.conflicts:
            noun = "conflict" if s.conflicts == 1 else "conflicts"
            self.conflicts_button.setText(f"⚠ {s.conflicts} {noun}")
            self.conflicts_button.show()
        else:
            self.conflicts_button.hide()


def _separator() -> QLabel:
    label = QLabel("·")
    label.setEnabled(False)
    return label
