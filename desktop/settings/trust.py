"""The server's CA certificate in Settings ▸ Server: a school that runs its own certificate
authority (or a self-signed certificate) has the laptop trust that CA's file, as
``flourish login --ca-cert FILE`` does.

The path is checked on a background job as soon as it is chosen or typed
(:func:`sync.replication.client.http.check_ca_file`: the file exists and holds a readable
PEM certificate); a problem shows as one line under the field. The sign-in checks it again
and records it in the store (``server_ca``), where every later sync reads it.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.errors import describe
from desktop.core.tasks import TaskContext, TaskRunner

__all__ = ["CaCertField"]

PEM_FILTER = "Certificates (*.pem *.crt *.cer);;All files (*)"


class CaCertField(QWidget):
    """A path field, a "Choose…" button and a line saying whether the file is usable."""

    checked = Signal(str)  # the problem found ("" when the file is a usable certificate)

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.path = QLineEdit()
        self.path.setObjectName("caCertEdit")
        self.path.setAccessibleName("CA certificate file")
        self.path.setPlaceholderText("none: the system's trusted certificates")
        self.path.setToolTip(
            "Only when IT says your school's server uses its own certificate authority"
        )
        self.choose = QPushButton("Choose…")
        self.choose.setObjectName("caCertChoose")
        self.choose.setAccessibleName("Choose the CA certificate file")
        self.choose.clicked.connect(self._browse)
        self.status = QLabel("")
        self.status.setObjectName("caCertStatus")
        self.status.setAccessibleName("CA certificate check")
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.path, 1)
        row.addWidget(self.choose)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self.status.hide()  # shown with something to say: an empty line would squeeze the row
        self.path.editingFinished.connect(self.check)
        self._asked = 0  # the latest check's number: an older answer is ignored

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def text(self) -> str:
        return self.path.text().strip()

    def set_text(self, path: str) -> None:
        self.path.setText(path)
        self._say("")

    def _browse(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(
            self, "The school's CA certificate", self.text(), PEM_FILTER
        )
        if chosen:
            self.choose_file(chosen)

    def choose_file(self, path: str) -> None:
        """What choosing ``path`` in the file dialog does."""
        self.path.setText(path)
        self.check()

    def check(self) -> None:
        """Check the file on a background job; the answer shows under the field."""
        path = self.text()
        self._asked += 1
        asked = self._asked
        if not path:
            self._say("")
            self.checked.emit("")
            return

        def work(_tc: TaskContext) -> str:
            from sync.replication.client.http import check_ca_file

            return check_ca_file(path)

        def done(_resolved: str) -> None:
            if asked == self._asked:
                self._say("Certificate file OK: used when you sign in.")
                self.checked.emit("")

        def failed(exc: BaseException) -> None:
            if asked == self._asked:
                problem = describe(exc)[1]
                self._say(problem)
                self.checked.emit(problem)

        self.tasks.job(work, done, failed, name="ca-check")
