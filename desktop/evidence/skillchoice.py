"""The teacher's choice of skills for one AI assessment run.

By default each entry is asked about the skills its kind of evidence usually shows (see
:mod:`desktop.assess._skills`). "Assess new evidence for chosen skills…" opens this dialog
instead: a tree of the curriculum's categories and skills with check boxes; the run then asks
every awaiting entry about exactly the checked skills (``flourish assess --skills``).

GUI thread only; the curriculum is a small file read once (cached), so it is loaded here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sync.model.curriculum import load_curriculum

__all__ = ["SkillChoiceDialog"]

_CHECK = Qt.ItemDataRole.CheckStateRole


class SkillChoiceDialog(QDialog):
    """Check the skills to ask about; :meth:`chosen` lists them (curriculum order)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("skillChoiceDialog")
        self.setWindowTitle("Assess with AI: choose the skills")
        curriculum = load_curriculum()
        note = QLabel(
            "The AI will look in every entry that awaits assessment for the skills you check "
            "here, whatever kind of evidence it is. A short list makes each request smaller "
            "and quicker on a slow model server."
        )
        note.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setAccessibleName("Skills to assess")
        names = {c.id: c.name for c in curriculum.categories}
        for category, skills in curriculum.by_category().items():
            top = QTreeWidgetItem(self.tree, [names.get(category, category)])
            top.setFlags(
                top.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsAutoTristate
            )
            top.setCheckState(0, Qt.CheckState.Unchecked)
            for skill in skills:
                child = QTreeWidgetItem(top, [skill.name])
                child.setFlags(child.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                child.setCheckState(0, Qt.CheckState.Unchecked)
                child.setToolTip(0, skill.description)
                child.setData(0, Qt.ItemDataRole.UserRole, skill.name)
            top.setExpanded(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Assess")
        self.ok.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.tree.itemChanged.connect(lambda *_: self.ok.setEnabled(bool(self.chosen())))
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.buttons)
        self.resize(self.fontMetrics().averageCharWidth() * 60, self.fontMetrics().height() * 30)

    def skill_items(self) -> list[QTreeWidgetItem]:
        out: list[QTreeWidgetItem] = []
        for n in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(n)
            if top is None:
                continue
            for k in range(top.childCount()):
                child = top.child(k)
                if child is not None:
                    out.append(child)
        return out

    def chosen(self) -> list[str]:
        return [
            str(item.data(0, Qt.ItemDataRole.UserRole))
            for item in self.skill_items()
            if item.checkState(0) == Qt.CheckState.Checked
        ]
