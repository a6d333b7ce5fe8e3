"""First run: no Flourish data in the data folder yet — pick what to open.

Choices: create the teacher's own profile in the default folder (then sign in to the
school's server from Settings, or just work locally: the profile carries the teacher's
name, and signing in later keeps everything made before), use another folder, or open the
demo class. The dialog only decides; the caller creates or opens the store off the GUI thread.
GUI thread only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

__all__ = ["FirstRunChoice", "FirstRunDialog"]


@dataclass(frozen=True)
class FirstRunChoice:
    folder: Path
    demo: bool = False
    sign_in: bool = False
    #: the teacher's name for a new profile (it works without a server from the start)
    teacher_name: str | None = None


class FirstRunDialog(QDialog):
    def __init__(self, folder: Path, demo_folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("firstRunDialog")
        self.setWindowTitle("Welcome to Flourish")
        self.folder = folder
        self.demo_folder = demo_folder
        self.choice: FirstRunChoice | None = None
        intro = QLabel(
            "<h2>Welcome to Flourish</h2><p>Flourish keeps your class's evidence and your "
            "decisions on this laptop and works without a network. If your school runs a "
            "Flourish server, sign in once and your changes sync whenever you are online.</p>"
        )
        intro.setWordWrap(True)
        self.where = QLabel(f"Your data folder: <code>{folder}</code>")
        self.where.setWordWrap(True)
        self.name = QLineEdit()
        self.name.setObjectName("teacherName")
        self.name.setPlaceholderText("Your name, as your students know it (e.g. Ms. Rodriguez)")
        self.problem = QLabel("")
        self.problem.setObjectName("firstRunProblem")
        self.sign_in = QCheckBox("Sign in to my school's server next")
        self.sign_in.setChecked(True)
        create = QPushButton("Create my profile")
        create.setDefault(True)
        other = QPushButton("Use another folder…")
        demo = QPushButton("Try the demo class")
        quit_ = QPushButton("Quit")
        create.clicked.connect(self._create)
        other.clicked.connect(self._other)
        demo.clicked.connect(self._demo)
        quit_.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(quit_)
        buttons.addStretch(1)
        buttons.addWidget(demo)
        buttons.addWidget(other)
        buttons.addWidget(create)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.where)
        layout.addWidget(self.name)
        layout.addWidget(self.problem)
        layout.addWidget(self.sign_in)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.resize(self.fontMetrics().averageCharWidth() * 80, self.fontMetrics().height() * 16)

    def _named(self) -> str | None:
        name = self.name.text().strip()
        if not name:
            self.problem.setText("Please enter your name first.")
            self.name.setFocus()
            return None
        return name

    def _create(self) -> None:
        name = self._named()
        if name is not None:
            self.choice = FirstRunChoice(
                self.folder, sign_in=self.sign_in.isChecked(), teacher_name=name
            )
            self.accept()

    def _other(self) -> None:
        name = self._named()
        if name is None:
            return
        folder = QFileDialog.getExistingDirectory(self, "Flourish data folder", str(self.folder))
        if folder:
            self.choice = FirstRunChoice(
                Path(folder), sign_in=self.sign_in.isChecked(), teacher_name=name
            )
            self.accept()

    def _demo(self) -> None:
        self.choice = FirstRunChoice(self.demo_folder, demo=True)
        self.accept()
