"""The two halves of the review screen and the inline correction editor.

* :class:`ProposalPane` — skill, proposed level with its rubric descriptor, confidence,
  the AI's justification and the past corrections it was shown as examples.
* :class:`EvidencePane` — the evidence text once, with the proposal's quote highlighted
  in place (and, in document mode, the quotes of the document's other proposals in a
  lighter tone). Highlights are extra selections: the text itself is never modified.
* :class:`CorrectionEditor` — level 1–4 pre-filled, optional notes and justification;
  Enter confirms, Esc cancels.

GUI thread only; these widgets only display what they are given.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.theme import highlight_color, level_colors
from desktop.core.wording import entry_title, format_date
from desktop.review.data import ReviewItem, find_quote
from desktop.review.model import RowState
from sync.model.vocab import LEVEL_RANK, LEVELS

__all__ = ["CorrectionEditor", "EvidencePane", "ProposalPane", "level_chip"]

_ENTRY = {
    "group_discussion_transcript": "Group discussion transcript",
    "peer_tutoring_transcript": "Peer tutoring transcript",
    "project_presentation_transcript": "Project presentation transcript",
    "reflection_journal": "Reflection journal",
    "peer_feedback": "Peer feedback",
    "teacher_observation_note": "Teacher observation note",
    "parent_note": "Parent note",
}


def entry_label(kind: str | None) -> str:
    return _ENTRY.get(kind or "", (kind or "").replace("_", " "))


def level_chip(level: str) -> str:
    """An HTML chip for a level, coloured like the heat map."""
    try:
        bg, fg = level_colors(level)
    except KeyError:
        return escape(level)
    return (
        f'<span style="background-color:{bg.name()}; color:{fg.name()}; font-weight:600">'
        f"&nbsp;{LEVEL_RANK[level]} · {escape(level)}&nbsp;</span>"
    )


class ProposalPane(QTextBrowser):
    """The AI's proposal for the current item (rich text, read-only)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("proposalPane")
        self.setOpenLinks(False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.show_item(None, None)

    def show_item(
        self, item: ReviewItem | None, state: RowState | None, *, loading: bool = False
    ) -> None:
        if item is None:
            self.setHtml(
                "<p><i>Loading…</i></p>"
                if loading
                else "<h3>Nothing to review</h3><p>Every proposal matching the filters has a "
                "decision. New evidence shows up here once the AI has assessed it.</p>"
            )
            return
        r = item.row
        conf = "—" if r.confidence is None else f"{r.confidence:.2f}"
        parts = [
            f"<h2 style='margin-bottom:2px'>{escape(r.student_name)} · {escape(r.skill_name)}</h2>",
            f"<p style='margin-top:0'>{escape(r.skill_category.replace('_', ' '))}"
            f" &nbsp;·&nbsp; proposal #{r.id}</p>",
            f"<p>AI proposes {level_chip(r.level)} &nbsp; confidence <b>{conf}</b></p>",
        ]
        if item.descriptor:
            parts.append(f"<p><b>Rubric, {escape(r.level)}:</b> {escape(item.descriptor)}</p>")
        parts.append(f"<p><b>AI's justification:</b> {escape(item.justification)}</p>")
        parts.append(f"<p><b>Quote:</b> <i>“{escape(item.source_quote)}”</i></p>")
        parts.append(self._decision_html(item, state))
        parts.append(self._examples_html(item))
        self.setHtml("".join(parts))

    @staticmethod
    def _decision_html(item: ReviewItem, state: RowState | None) -> str:
        if state is not None and state.kind in ("accepted", "corrected"):
            what = (
                "accepted"
                if state.kind == "accepted"
                else f"corrected to {level_chip(state.level or '')}"
            )
            saving = " (saving…)" if state.saving else ""
            return f"<p><b>Your decision:</b> {what}{saving}</p>"
        if state is not None and state.kind == "skipped":
            return "<p><b>Your decision:</b> skipped for now</p>"
        d = item.decision
        if d is not None and (state is None or state.kind != "open"):
            verb = "accepted" if d.corrected_level == d.original_level else "corrected to"
            level = "" if verb == "accepted" else level_chip(d.corrected_level)
            notes = f" — “{escape(d.teacher_notes)}”" if d.teacher_notes else ""
            return f"<p><b>Decided earlier:</b> {verb} {level}{notes}</p>"
        return ""

    @staticmethod
    def _examples_html(item: ReviewItem) -> str:
        if not item.examples:
            source = item.provenance.get("model")
            if source:
                return (
                    "<p><i>The AI was shown no past corrections as examples "
                    f"for this proposal (model: {escape(str(source))}).</i></p>"
                )
            return ""
        rows = []
        for ex in item.examples:
            notes = f" — “{escape(ex.notes)}”" if ex.notes else ""
            rows.append(
                f"<li>{escape(ex.skill_name)}: {escape(ex.original_level)} → "
                f"{escape(ex.corrected_level)}{notes}</li>"
            )
        n = len(item.examples)
        return (
            f"<p><b>Past corrections the AI used as examples ({n}):</b></p>"
            f"<ul style='margin-top:0'>{''.join(rows)}</ul>"
        )


def _u16(text: str, index: int) -> int:
    """A Python string index as a Qt (UTF-16) position."""
    return len(text[:index].encode("utf-16-le")) // 2


class EvidencePane(QWidget):
    """The evidence document with quotes highlighted in place."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.text = QPlainTextEdit()
        self.text.setObjectName("evidenceText")
        self.text.setReadOnly(True)
        self.text.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.text, 1)
        self.entry_id: str | None = None
        self.quote_span: tuple[int, int] | None = None

    def show_item(self, item: ReviewItem | None, *, by_document: bool) -> None:
        if item is None:
            self.entry_id = None
            self.header.setText("")
            self.text.setPlainText("")
            self.quote_span = None
            return
        r = item.row
        title = entry_title(item.entry_metadata.get("title"), item.content, r.entry_type)
        n = len(item.siblings) + 1
        supports = f" · supports {n} proposals" if n > 1 else ""
        self.header.setText(
            f"<b>{escape(str(title))}</b> — {escape(entry_label(r.entry_type))}, "
            f"{escape(format_date(r.entry_date))}{supports}"
        )
        if r.data_entry_id != self.entry_id or self.text.toPlainText() != item.content:
            self.text.setPlainText(item.content)
            self.entry_id = r.data_entry_id
        self._highlight(item, by_document=by_document)

    def _highlight(self, item: ReviewItem, *, by_document: bool) -> None:
        content = item.content
        selections: list[QTextEdit.ExtraSelection] = []
        if by_document:
            for sib in item.siblings:
                span = find_quote(content, sib.quote)
                if span is not None:
                    selections.append(self._selection(content, span, strong=False))
        span = find_quote(content, item.source_quote)
        self.quote_span = span
        if span is not None:
            main = self._selection(content, span, strong=True)
            selections.append(main)
            cursor = QTextCursor(self.text.document())
            cursor.setPosition(_u16(content, span[0]))
            self.text.setTextCursor(cursor)
            self.text.centerCursor()
        self.text.setExtraSelections(selections)

    def _selection(
        self, content: str, span: tuple[int, int], *, strong: bool
    ) -> QTextEdit.ExtraSelection:
        sel = QTextEdit.ExtraSelection()
        cursor = QTextCursor(self.text.document())
        cursor.setPosition(_u16(content, span[0]))
        cursor.setPosition(_u16(content, span[1]), QTextCursor.MoveMode.KeepAnchor)
        fmt = QTextCharFormat()
        fmt.setBackground(highlight_color(strong=strong, palette=self.palette()))
        fmt.setForeground(self.palette().text().color())
        if strong:
            fmt.setFontUnderline(True)
        sel.cursor = cursor
        sel.format = fmt
        return sel

    def highlighted_text(self) -> str:
        """The text under the main highlight (tests and accessibility)."""
        for sel in self.text.extraSelections():
            if sel.format.fontUnderline():
                return sel.cursor.selectedText().replace("\u2029", "\n")
        return ""


class _Line(QLineEdit):
    """A line edit that hands Esc to the editor and keeps Enter to itself.

    (QLineEdit passes Enter on to its parent after ``returnPressed``; the review panel
    would take that as a second decision.)
    """

    escape = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.escape.emit()
            event.accept()
            return
        super().keyPressEvent(event)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()


class CorrectionEditor(QFrame):
    """Inline editor for a decision: level 1–4, notes, justification; Enter confirms."""

    confirmed = Signal(str, str, str)  # level, notes, justification
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("correctionEditor")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "QToolButton:checked { background: palette(highlight); "
            "color: palette(highlighted-text); font-weight: 600; }"
        )
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        levels = QHBoxLayout()
        levels.addWidget(QLabel("Level:"))
        for rank, level in enumerate(LEVELS, start=1):
            button = QToolButton()
            button.setText(f"{rank} {level}")
            button.setCheckable(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            self.group.addButton(button, rank)
            levels.addWidget(button)
        levels.addStretch(1)
        self.notes = _Line()
        self.notes.setObjectName("notesEdit")
        self.notes.setPlaceholderText("Notes for yourself and the AI (optional)")
        self.justification = _Line()
        self.justification.setObjectName("justificationEdit")
        self.justification.setPlaceholderText("Your justification (optional)")
        save = QPushButton("Save  ⏎")
        save.setDefault(True)
        cancel = QPushButton("Cancel  Esc")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(save)
        layout = QVBoxLayout(self)
        layout.addLayout(levels)
        layout.addWidget(self.notes)
        layout.addWidget(self.justification)
        layout.addLayout(buttons)
        for line in (self.notes, self.justification):
            line.returnPressed.connect(self.confirm)
            line.escape.connect(self.cancel)
        save.clicked.connect(self.confirm)
        cancel.clicked.connect(self.cancel)
        self.hide()

    @property
    def level(self) -> str:
        rank = self.group.checkedId()
        return LEVELS[rank - 1] if 1 <= rank <= 4 else LEVELS[0]

    def open_for(self, level: str, *, notes: str = "") -> None:
        button = self.group.button(LEVEL_RANK.get(level, 1))
        if button is not None:
            button.setChecked(True)
        self.notes.setText(notes)
        self.justification.clear()
        self.show()
        self.notes.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def confirm(self) -> None:
        if self.isVisible():
            self.hide()
            self.confirmed.emit(
                self.level,
                self.notes.text().strip(),
                self.justification.text().strip(),
            )

    def cancel(self) -> None:
        if self.isVisible():
            self.hide()
            self.cancelled.emit()
