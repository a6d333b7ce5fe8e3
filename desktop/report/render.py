"""The parent-conference PDF: :func:`render_report` (``flourish report``, the app's report).

Qt's own PDF output (QPdfWriter + QPainter), offline, vector text and graphics, fonts
embedded. What it holds, in order: the student (name only with ``include_name``), grade,
teacher and period; what the four levels mean; the 17 skills by category with their
effective levels ("no evidence yet" where there is none, and a note on levels the
teacher has not reviewed); the level-over-time chart; targets with progress; badges
(the art of ``resources/badges``); a few evidence quotes. Pages break only between whole
blocks (see :mod:`desktop.report.layout`); every page has a footer with "Page n of N".

Threading: needs a QGuiApplication to exist (the CLI creates one; the app has one) but
creates no widget, so the app can call it from a worker thread.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPageSize, QPainter, QPdfWriter, QPen
from PySide6.QtSvg import QSvgRenderer

import desktop.core.qtfix  # noqa: F401  (PySide6 6.12.0 refcount workaround, before any Qt use)
from desktop.core.marks import UNREVIEWED, draw_unreviewed_corner
from desktop.core.theme import level_colors
from desktop.report.chart import LevelChart
from desktop.report.data import ReportData, load_report_data
from desktop.report.layout import Block, Cell, Metrics, Row, Text, paginate
from sync.errors import StoreError, ValidationError
from sync.model.curriculum import load_curriculum
from sync.model.vocab import LEVELS
from sync.paths import resource_path
from sync.store.local import LocalStore

__all__ = ["build_blocks", "render_report"]

DPI = 300
MARGIN = 54.0  # points (0.75 in)
FOOTER = 24.0
HEAD_BG = "#f3f4f6"
_PAGE_SIZES = {"letter": QPageSize.PageSizeId.Letter, "a4": QPageSize.PageSizeId.A4}


def _when(day: dt.date) -> str:
    return f"{day.strftime('%b')} {day.day}, {day.year}"


def _entry_type(value: str | None) -> str:
    return (value or "evidence").replace("_", " ")


def _pill(level: str | None, reviewed: bool) -> Cell:
    def draw(m: Metrics, p: QPainter, rect: QRectF) -> None:
        pill = QRectF(rect.left(), rect.top(), min(rect.width(), m.pt(74)), m.pt(15))
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setFont(m.font(8.5, bold=level is not None))
        if level is None:
            p.setPen(QPen(QColor("#8c959f"), m.pt(0.6), Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(pill, m.pt(7), m.pt(7))
            p.setPen(QColor("#57606a"))
            p.drawText(pill, int(Qt.AlignmentFlag.AlignCenter), "no evidence yet")
            return
        bg, fg = level_colors(level)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(bg)
        p.drawRoundedRect(pill, m.pt(7), m.pt(7))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(fg)
        p.drawText(pill, int(Qt.AlignmentFlag.AlignCenter), level)
        if not reviewed:  # the app's mark: a corner triangle, and the same words
            draw_unreviewed_corner(p, pill, fg, m.pt(5))
            p.setFont(m.font(7, italic=True))
            p.setPen(QColor("#57606a"))
            note = QRectF(rect.left(), pill.bottom() + m.pt(2), rect.width(), m.pt(10))
            p.drawText(note, int(Qt.AlignmentFlag.AlignLeft), UNREVIEWED)

    return Cell(draw=draw, draw_height=27 if level and not reviewed else 15)


def _bar(fraction: float) -> Cell:
    def draw(m: Metrics, p: QPainter, rect: QRectF) -> None:
        track = QRectF(rect.left(), rect.top() + m.pt(3), rect.width() - m.pt(30), m.pt(8))
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#e5e7eb"))
        p.drawRoundedRect(track, m.pt(4), m.pt(4))
        if fraction > 0:
            p.setBrush(QColor("#41ab5d"))
            p.drawRoundedRect(
                QRectF(
                    track.topLeft(),
                    track.size().scaled(
                        track.width() * fraction,
                        track.height(),
                        Qt.AspectRatioMode.IgnoreAspectRatio,
                    ),
                ),
                m.pt(4),
                m.pt(4),
            )
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QColor("#1f2328"))
        p.setFont(m.font(8))
        label = QRectF(track.right() + m.pt(4), rect.top(), m.pt(28), m.pt(14))
        p.drawText(
            label,
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            f"{fraction:.0%}",
        )

    return Cell(draw=draw, draw_height=14)


def _badge_cell(badge_type: str, caption: str) -> Cell:
    def draw(m: Metrics, p: QPainter, rect: QRectF) -> None:
        art = resource_path("badges", f"{badge_type}.svg")
        icon = QRectF(rect.left(), rect.top(), m.pt(34), m.pt(34))
        if art.exists():
            QSvgRenderer(str(art)).render(p, icon)
        p.setPen(QColor("#1f2328"))
        p.setFont(m.font(8))
        text = QRectF(
            icon.right() + m.pt(5), rect.top(), rect.width() - icon.width() - m.pt(5), m.pt(36)
        )
        p.drawText(text, int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignVCenter), caption)

    return Cell(draw=draw, draw_height=36)


class _Quote(Block):
    """A quote with a coloured bar down its left side and its source under it."""

    def __init__(self, text: str, attribution: str) -> None:
        self.text = f"“{text}”"
        self.attribution = f"— {attribution}"

    def _parts(self, m: Metrics, width: float) -> tuple[float, float, float]:
        inner = width - m.pt(14)
        quote = m.text_height(self.text, m.font(9.5, italic=True), inner)
        source = m.text_height(self.attribution, m.font(8), inner)
        return inner, quote, source

    def height(self, m: Metrics, width: float) -> float:
        _inner, quote, source = self._parts(m, width)
        return quote + source + m.pt(14)

    def paint(self, m: Metrics, p: QPainter, rect: QRectF) -> None:
        inner, quote, source = self._parts(m, rect.width())
        bar = QRectF(rect.left(), rect.top() + m.pt(2), m.pt(2.5), quote + source + m.pt(4))
        p.fillRect(bar, QColor("#41ab5d"))
        x = rect.left() + m.pt(14)
        top = rect.top() + m.pt(2)
        p.setFont(m.font(9.5, italic=True))
        p.setPen(QColor("#24292f"))
        p.drawText(QRectF(x, top, inner, quote), int(Qt.TextFlag.TextWordWrap), self.text)
        p.setFont(m.font(8))
        p.setPen(QColor("#57606a"))
        box = QRectF(x, top + quote + m.pt(2), inner, source)
        p.drawText(box, int(Qt.TextFlag.TextWordWrap), self.attribution)


def build_blocks(data: ReportData) -> list[Block]:
    """The report as a list of blocks (in order)."""
    curriculum = load_curriculum()
    period = (
        "all evidence to date"
        if data.date_from is None and data.date_to is None
        else f"{_when(data.date_from) if data.date_from else 'the start'} to "
        f"{_when(data.date_to) if data.date_to else 'today'}"
    )
    facts = [f"Grade {data.grade}"]
    if data.teacher_name:
        facts.append(f"Teacher: {data.teacher_name}")
    facts += [f"Period: {period}", f"Prepared {_when(data.generated)}"]
    pending = sum(1 for s in data.skills if s.level and not s.reviewed)
    blocks: list[Block] = [
        Text("Flourish progress report", size=9, color="#57606a", after=2),
        Text(data.display_name, size=20, bold=True, after=4),
        Text("  ·  ".join(facts), size=9.5, color="#424a53", after=10),
        Text(
            f"This report shows how the student is growing in {len(data.skills)} skills. "
            f"{data.assessed} of them have classroom evidence ({data.entries} pieces of "
            "evidence in this period); each level is the one the teacher confirmed, or the "
            "latest AI proposal where the teacher has not reviewed it yet"
            + (f" ({pending} marked “{UNREVIEWED}”)." if pending else "."),
            size=9.5,
            after=8,
        ),
    ]
    legend_widths = [0.2, 0.8]
    legend_head = Row(
        [Cell("Level", bold=True), Cell("What it means", bold=True)], legend_widths, HEAD_BG
    )
    blocks.append(Text("The four levels", size=12, bold=True, before=4, keep_with_next=True))
    for level in LEVELS:
        blocks.append(
            Row(
                [_pill(level, True), Cell(curriculum.level_summaries[level])],
                legend_widths,
                header=legend_head,
            )
        )
    widths = [0.24, 0.18, 0.11, 0.47]
    head = Row(
        [
            Cell("Skill", bold=True),
            Cell("Level", bold=True),
            Cell("Evidence", bold=True),
            Cell("What this level looks like", bold=True),
        ],
        widths,
        HEAD_BG,
    )
    head.keep_with_next = True
    blocks += [Text("Skills", size=14, bold=True, before=12, keep_with_next=True), head]
    for cat_id, cat_name in data.categories:
        blocks.append(
            Text(
                cat_name,
                size=11,
                bold=True,
                color="#0b3d2e",
                before=6,
                after=3,
                keep_with_next=True,
            )
        )
        rows = [s for s in data.skills if s.category == cat_id]
        for skill in rows:
            blocks.append(
                Row(
                    [
                        Cell(skill.name, bold=True),
                        _pill(skill.level, skill.reviewed),
                        Cell(str(skill.evidence) if skill.evidence else "—"),
                        Cell(
                            skill.descriptor or "No evidence for this skill yet.",
                            size=8,
                            color="#424a53",
                        ),
                    ],
                    widths,
                    header=head,
                )
            )
    blocks += [
        Text("Growth over time", size=14, bold=True, before=12, keep_with_next=True),
        Text(
            "Average level of each skill area as the evidence so far shows it "
            "(each skill counts with its most recent evidence).",
            size=8.5,
            color="#57606a",
            keep_with_next=True,
        ),
        LevelChart(data.history, data.categories),
        Text("Targets", size=14, bold=True, before=12, keep_with_next=True),
    ]
    if data.targets:
        t_widths = [0.26, 0.14, 0.14, 0.14, 0.18, 0.14]
        t_head = Row(
            [
                Cell(h, bold=True)
                for h in ("Skill", "Started at", "Target", "Now", "Progress", "Status")
            ],
            t_widths,
            HEAD_BG,
        )
        t_head.keep_with_next = True  # a heading never ends a page alone
        blocks.append(t_head)
        for t in data.targets:
            status = (
                f"reached {_when(t.completed_on)}" if t.completed and t.completed_on else "active"
            )
            blocks.append(
                Row(
                    [
                        Cell(t.skill, bold=True),
                        Cell(t.starting_level or "no evidence"),
                        Cell(t.target_level),
                        Cell(t.current_level or "no evidence"),
                        _bar(t.progress),
                        Cell(status),
                    ],
                    t_widths,
                    header=t_head,
                )
            )
    else:
        blocks.append(Text("No targets have been set yet.", size=9.5, color="#57606a"))
    blocks.append(Text("Badges", size=14, bold=True, before=12, keep_with_next=True))
    if data.badges:
        per_row = 3
        for i in range(0, len(data.badges), per_row):
            chunk = data.badges[i : i + per_row]
            cells = [
                _badge_cell(
                    b.badge_type,
                    f"{b.skill}\n{b.badge_type.title()} · {b.level}\n{_when(b.earned)}",
                )
                for b in chunk
            ]
            cells += [Cell("") for _ in range(per_row - len(chunk))]
            blocks.append(Row(cells, [1 / per_row] * per_row, rule=False))
    else:
        blocks.append(Text("No badges yet.", size=9.5, color="#57606a"))
    blocks.append(
        Text("In the student's own words", size=14, bold=True, before=12, keep_with_next=True)
    )
    if data.quotes:
        for q in data.quotes:
            # the level lives in the skills table only: one wording per skill
            source = f"{q.skill} · {_entry_type(q.entry_type)}, {_when(q.day)}"
            blocks.append(_Quote(q.text, source))
    else:
        blocks.append(Text("No evidence quotes in this period.", size=9.5, color="#57606a"))
    return blocks


def _footer(m: Metrics, p: QPainter, rect: QRectF, data: ReportData, page: int, pages: int) -> None:
    p.setPen(QPen(QColor("#d0d7de"), m.pt(0.5)))
    p.drawLine(rect.topLeft(), rect.topRight())
    p.setFont(m.font(7.5))
    p.setPen(QColor("#57606a"))
    left = (
        f"Flourish progress report · {data.display_name} · confidential: for the student's family"
    )
    p.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom), left)
    p.drawText(
        rect,
        int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom),
        f"Page {page} of {pages}",
    )


def render_report(
    store: LocalStore,
    student_id: str,
    out_path: str | os.PathLike[str],
    *,
    include_name: bool = False,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    page_size: str = "letter",
) -> int:
    """Write the student's progress report PDF to ``out_path``; returns the page count.

    Raises NotFoundError (no such student), ValidationError (bad period or page size),
    StoreError (no QGuiApplication, or the file cannot be written).
    """
    if QGuiApplication.instance() is None:
        raise StoreError("render_report needs a QGuiApplication (create one first)")
    if date_from and date_to and date_from > date_to:
        raise ValidationError(f"the period starts ({date_from}) after it ends ({date_to})")
    size = _PAGE_SIZES.get(page_size.lower())
    if size is None:
        raise ValidationError(f"page size must be one of {', '.join(_PAGE_SIZES)}")
    with store.read() as conn:
        data = load_report_data(
            conn, student_id, include_name=include_name, date_from=date_from, date_to=date_to
        )
    target = Path(out_path).expanduser()
    partial = target.with_name(f".{target.name}.partial")
    try:
        pages = _write(data, partial, size)
        os.replace(partial, target)
    except OSError as exc:
        raise StoreError(f"cannot write the report to {target}: {exc.strerror or exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return pages


def _write(data: ReportData, path: Path, size: QPageSize.PageSizeId) -> int:
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(size))
    writer.setPageMargins(QMarginsF(0, 0, 0, 0))
    writer.setResolution(DPI)
    writer.setTitle(f"Progress report: {data.display_name}")
    writer.setCreator("Flourish")
    m = Metrics(writer)
    full = QRectF(0, 0, writer.width(), writer.height())
    body = full.adjusted(m.pt(MARGIN), m.pt(MARGIN), -m.pt(MARGIN), -m.pt(MARGIN + FOOTER))
    pages = paginate(build_blocks(data), m, body.width(), body.height())
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(f"cannot open {path} for writing")
    try:
        for number, page in enumerate(pages, start=1):
            if number > 1:
                writer.newPage()
            for placed in page:
                rect = QRectF(body.left(), body.top() + placed.top, body.width(), placed.height)
                placed.block.paint(m, painter, rect)
            footer = QRectF(body.left(), body.bottom() + m.pt(8), body.width(), m.pt(FOOTER - 8))
            _footer(m, painter, footer, data, number, len(pages))
    finally:
        painter.end()
    return len(pages)
