"""The student view: header, badge shelf, 17-skill grid, level history chart, evidence
timeline and targets.

Everything is read in one background query (:func:`desktop.student.data.load_student`)
when a student is shown and again when a change touches their rows. GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from desktop.core.context import AppContext, ChangeSet
from desktop.core.marks import UNREVIEWED_LEGEND
from desktop.student.badges import BadgeModel, GrantBadgeDialog, shelf_view
from desktop.student.chart import LevelHistoryChart
from desktop.student.data import StudentData, load_student
from desktop.student.skills import LevelDelegate, SkillTreeModel
from desktop.student.targets import AssignTargetDialog, TargetsWidget
from desktop.student.timeline import EvidenceTimeline

__all__ = ["StudentPanel"]

_TABLES = (
    "students",
    "assessments",
    "teacher_corrections",
    "skill_targets",
    "badges",
    "data_entries",
)


class StudentPanel(QWidget):
    review_requested = Signal(str)  # student id
    add_evidence_requested = Signal(str)
    reassess_requested = Signal(str)  # an evidence entry id
    import_evidence_requested = Signal(str)
    report_requested = Signal(str)
    assess_requested = Signal(str, str)  # entry id, student id

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("studentPanel")
        self.ctx = ctx
        self.student_id: str | None = None
        self.data: StudentData | None = None
        self.skill: str | None = None
        self._loading = False
        self._dirty = False
        self.dialog: AssignTargetDialog | GrantBadgeDialog | None = None

        self.title = QLabel("Choose a student on the left")
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.subtitle = QLabel("")
        self.subtitle.setWordWrap(True)
        self.review_button = QPushButton("Review proposals")
        self.target_button = QPushButton("Assign target…")
        self.badge_button = QPushButton("Grant badge…")
        self.report_button = QPushButton("Progress report…")
        self.report_button.setToolTip("A PDF for the parent conference")
        self.report_button.clicked.connect(
            lambda: self.student_id and self.report_requested.emit(self.student_id)
        )
        self.review_button.clicked.connect(
            lambda: self.student_id and self.review_requested.emit(self.student_id)
        )
        self.target_button.clicked.connect(lambda: self.open_assign_target())
        self.badge_button.clicked.connect(self.open_grant_badge)
        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        header.addLayout(titles, 1)
        for b in (self.review_button, self.target_button, self.badge_button, self.report_button):
            b.setEnabled(False)
            header.addWidget(b)

        self.badges = BadgeModel()
        self.shelf = shelf_view(self.badges, icon=36, placeholder="No badges granted yet")
        self.shelf.setObjectName("badgeShelf")
        self.shelf.setAccessibleName("Badges granted")
        self.shelf_label = QLabel("Badges")
        self.suggest_label = QLabel("")
        self.suggest_label.setObjectName("badgeSuggestions")
        self.suggest_label.setTextFormat(Qt.TextFormat.RichText)
        self.suggest_label.linkActivated.connect(lambda _link: self.open_grant_badge())
        shelf_row = QHBoxLayout()
        shelf_col = QVBoxLayout()
        shelf_col.addWidget(self.shelf_label)
        shelf_col.addWidget(self.suggest_label)
        shelf_col.addStretch(1)
        shelf_row.addLayout(shelf_col)
        shelf_row.addWidget(self.shelf, 1)

        self.skills = SkillTreeModel(ctx.curriculum)
        self.tree = QTreeView()
        self.tree.setObjectName("skillTree")
        self.tree.setAccessibleName("Skills and levels")
        self.tree.setModel(self.skills)
        self.tree.setItemDelegate(LevelDelegate(1, self.tree))
        self.tree.setUniformRowHeights(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.selectionModel().currentChanged.connect(self._skill_clicked)

        self.chart = LevelHistoryChart()
        self.timeline = EvidenceTimeline(ctx)
        self.timeline.add_requested.connect(
            lambda: self.student_id and self.add_evidence_requested.emit(self.student_id)
        )
        self.timeline.import_requested.connect(
            lambda: self.student_id and self.import_evidence_requested.emit(self.student_id)
        )
        self.timeline.assess_requested.connect(
            lambda entry: self.student_id and self.assess_requested.emit(entry, self.student_id)
        )
        self.timeline.reassess_requested.connect(self.reassess_requested)
        self.targets = TargetsWidget(ctx)
        self.targets.assign_requested.connect(lambda: self.open_assign_target())
        self.tabs = QTabWidget()
        self.tabs.addTab(self.timeline, "Evidence")
        self.tabs.addTab(self.targets, "Targets")
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.chart)
        right.addWidget(self.tabs)
        right.setStretchFactor(0, 2)
        right.setStretchFactor(1, 3)
        line = self.fontMetrics().height()
        right.setSizes([line * 14, line * 22])  # the evidence list gets the room (1280x720)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("studentSplitter")
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        fm = self.fontMetrics()  # the skill names whole, then the chart (1280x720 first)
        longest = max(fm.horizontalAdvance(n) for n in ctx.curriculum.skill_names)
        tree_width = longest + fm.horizontalAdvance("Developing Evidence Advanced") + 90
        self.splitter.setSizes([tree_width, fm.averageCharWidth() * 100])

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addLayout(shelf_row)
        layout.addWidget(self.splitter, 1)
        ctx.bus.changed.connect(self._changes)

    # -- loading -----------------------------------------------------------------------
    def show_student(self, student_id: str) -> None:
        if student_id != self.student_id:
            self.skill = None
        self.student_id = student_id
        self.refresh()

    def refresh(self) -> None:
        if self.student_id is None:
            return
        if self._loading:
            self._dirty = True
            return
        self._loading = True
        store, sid = self.ctx.store, self.student_id

        def work() -> StudentData:
            with store.read() as conn:
                return load_student(conn, sid)

        self.ctx.tasks.read(work, self._loaded, self._failed, name="student")

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        from sync.errors import NotFoundError

        if isinstance(exc, NotFoundError):  # the student was removed: nobody to show
            self.student_id = None
            self.data = None
            self.title.setText("Choose a student on the left")
            self.subtitle.setText("")
            for b in (self.review_button, self.target_button, self.badge_button):
                b.setEnabled(False)
            self.report_button.setEnabled(False)
            return
        self.ctx.tasks.error.emit(exc)

    def _loaded(self, data: StudentData) -> None:
        self._loading = False
        if self._dirty or data.id != self.student_id:
            self._dirty = False
            self.refresh()
            if data.id != self.student_id:
                return
        self.data = data
        self.title.setText(data.name)
        reviewed = sum(1 for s in data.skills if s.effective_level)
        self.subtitle.setText(
            f"Grade {data.grade} · {data.id} · evidence in {reviewed} of {len(data.skills)} "
            f"skills · {data.pending} proposals to review"
            + (f" · {UNREVIEWED_LEGEND}" if any(not k.reviewed for k in data.skills) else "")
        )
        for b in (self.review_button, self.target_button, self.badge_button, self.report_button):
            b.setEnabled(True)
        self.review_button.setText(f"Review {data.pending} proposals" if data.pending else "Review")
        self.badges.set_items(data.badges)
        self.shelf_label.setText(f"Badges ({len(data.badges)})")
        n = len(data.suggestions)
        link = self.palette().color(QPalette.ColorRole.Link).name()  # the theme's, also dark
        self.suggest_label.setText(
            f'<a href="grant" style="color:{link}">{n} earned by confirmed levels, not '
            "granted yet…</a>"
            if n
            else ""
        )
        self.skills.set_student(data)
        self.tree.expandAll()
        self.timeline.set_entries(data.entries)
        self.targets.set_targets(data.targets)
        if self.skill is None and any(s.evidence for s in data.skills):
            self.skill = max(data.skills, key=lambda s: s.evidence).skill_name
        if self.skill is not None:
            index = self.skills.index_of(self.skill)
            self.tree.selectionModel().setCurrentIndex(
                index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
        self._show_chart()

    def _changes(self, change: ChangeSet) -> None:
        if self.student_id is not None and change.touches(*_TABLES):
            self.refresh()

    # -- interaction -------------------------------------------------------------------
    def _skill_clicked(self, current: QModelIndex, _previous: QModelIndex) -> None:
        skill = self.skills.skill_at(current)
        if skill is not None and skill != self.skill:
            self.skill = skill
            self._show_chart()

    def _show_chart(self) -> None:
        if self.data is None:
            return
        skill = self.skill or ""
        target = next(
            (
                t.target_level
                for t in self.data.targets
                if t.skill_name == skill and not t.completed
            ),
            None,
        )
        self.chart.show_history(skill, self.data.history.get(skill, []), target=target)

    def open_assign_target(self, skill: str | None = None) -> AssignTargetDialog | None:
        if self.data is None:
            return None
        dialog = AssignTargetDialog(self.ctx, self.data, skill=skill or self.skill, parent=self)
        self.dialog = dialog
        dialog.open()
        return dialog

    def open_grant_badge(self) -> GrantBadgeDialog | None:
        if self.data is None:
            return None
        dialog = GrantBadgeDialog(self.ctx, self.data, parent=self)
        self.dialog = dialog
        dialog.open()
        return dialog
