"""Page layout for printed reports: blocks that are measured, placed on pages, painted.

A report is a list of :class:`Block` objects. :func:`paginate` places them top to bottom
and starts a new page whenever the next block does not fit, so **no block is ever split
across pages**: a table row, a chart, a quote is always whole. A block marked
``keep_with_next`` (a heading) moves to the next page together with the block after it;
a table row that starts a page repeats its table's header first.

Everything is measured and painted in device pixels of the paint device (a QPdfWriter);
:class:`Metrics` converts points. Painting uses QPainter only: no widgets, so this runs on
any thread once a QGuiApplication exists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPagedPaintDevice, QPainter, QPen

__all__ = [
    "Block",
    "Cell",
    "Metrics",
    "Placed",
    "Row",
    "Spacer",
    "Text",
    "paginate",
]

FAMILY = "DejaVu Sans"


class Metrics:
    """Fonts and units for one paint device."""

    def __init__(self, device: QPagedPaintDevice) -> None:
        self.device = device
        self.px_per_pt = device.logicalDpiY() / 72.0

    def pt(self, points: float) -> float:
        return points * self.px_per_pt

    def font(self, size: float, *, bold: bool = False, italic: bool = False) -> QFont:
        font = QFont(FAMILY)
        font.setPointSizeF(size)
        font.setBold(bold)
        font.setItalic(italic)
        font.setFeature(QFont.Tag("liga"), 0)  # "fi" stays two letters when copied
        return font

    def text_height(self, text: str, font: QFont, width: float) -> float:
        fm = QFontMetricsF(font, self.device)
        if not text:
            return fm.height()
        flags = int(Qt.TextFlag.TextWordWrap)
        return fm.boundingRect(QRectF(0, 0, max(width, 1.0), 1e7), flags, text).height()


class Block:
    """Something of a fixed height at a given width, painted whole on one page."""

    keep_with_next = False
    header: Block | None = None  # painted first when this block starts a page

    def height(self, m: Metrics, width: float) -> float:
        raise NotImplementedError

    def paint(self, m: Metrics, p: QPainter, rect: QRectF) -> None:
        raise NotImplementedError


@dataclass
class Spacer(Block):
    points: float

    def height(self, m: Metrics, width: float) -> float:
        return m.pt(self.points)

    def paint(self, m: Metrics, p: QPainter, rect: QRectF) -> None:
        return


@dataclass
class Text(Block):
    """A wrapped paragraph (a heading when ``keep_with_next``)."""

    text: str
    size: float = 10.0
    bold: bool = False
    italic: bool = False
    color: str = "#1f2328"
    before: float = 0.0  # points of space above
    after: float = 4.0
    keep_with_next: bool = False

    def _font(self, m: Metrics) -> QFont:
        return m.font(self.size, bold=self.bold, italic=self.italic)

    def height(self, m: Metrics, width: float) -> float:
        return m.pt(self.before + self.after) + m.text_height(self.text, self._font(m), width)

    def paint(self, m: Metrics, p: QPainter, rect: QRectF) -> None:
        p.setFont(self._font(m))
        p.setPen(QColor(self.color))
        body = rect.adjusted(0, m.pt(self.before), 0, -m.pt(self.after))
        p.drawText(body, int(Qt.TextFlag.TextWordWrap), self.text)


Painter = Callable[[Metrics, QPainter, QRectF], None]


@dataclass
class Cell:
    """One table cell: wrapped text, or a custom painter of a given height (points)."""

    text: str = ""
    size: float = 9.0
    bold: bool = False
    italic: bool = False
    color: str = "#1f2328"
    draw: Painter | None = None
    draw_height: float = 0.0


@dataclass
class Row(Block):
    """A table row; ``widths`` are fractions of the row. Never split across pages."""

    cells: Sequence[Cell]
    widths: Sequence[float]
    background: str | None = None
    rule: bool = True  # a thin line under the row
    pad: float = 3.5  # points
    header: Block | None = None
    keep_with_next: bool = False
    _cache: dict[float, float] = field(default_factory=dict)

    def _columns(self, m: Metrics, rect: QRectF) -> list[QRectF]:
        out, x = [], rect.left()
        for w in self.widths:
            out.append(QRectF(x, rect.top(), rect.width() * w, rect.height()))
            x += rect.width() * w
        return out

    def height(self, m: Metrics, width: float) -> float:
        if width not in self._cache:
            pad = m.pt(self.pad)
            tallest = 0.0
            for cell, w in zip(self.cells, self.widths, strict=True):
                inner = width * w - 2 * pad
                if cell.draw is not None:
                    h = m.pt(cell.draw_height)
                else:
                    font = m.font(cell.size, bold=cell.bold, italic=cell.italic)
                    h = m.text_height(cell.text, font, inner)
                tallest = max(tallest, h)
            self._cache[width] = tallest + 2 * pad
        return self._cache[width]

    def paint(self, m: Metrics, p: QPainter, rect: QRectF) -> None:
        if self.background:
            p.fillRect(rect, QColor(self.background))
        pad = m.pt(self.pad)
        for cell, col in zip(self.cells, self._columns(m, rect), strict=True):
            inner = col.adjusted(pad, pad, -pad, -pad)
            if cell.draw is not None:
                cell.draw(
                    m, p, QRectF(inner.left(), inner.top(), inner.width(), m.pt(cell.draw_height))
                )
                continue
            p.setFont(m.font(cell.size, bold=cell.bold, italic=cell.italic))
            p.setPen(QColor(cell.color))
            p.drawText(inner, int(Qt.TextFlag.TextWordWrap), cell.text)
        if self.rule:
            p.setPen(QPen(QColor("#d0d7de"), m.pt(0.5)))
            p.drawLine(rect.bottomLeft(), rect.bottomRight())


@dataclass(frozen=True)
class Placed:
    block: Block
    top: float
    height: float


def paginate(
    blocks: Sequence[Block], m: Metrics, width: float, page_height: float
) -> list[list[Placed]]:
    """Place ``blocks`` on pages (see the module docstring). Never returns an empty page."""
    pages: list[list[Placed]] = [[]]
    y = 0.0

    def place(block: Block) -> None:
        nonlocal y
        h = block.height(m, width)
        pages[-1].append(Placed(block, y, h))
        y += h

    i = 0
    while i < len(blocks):
        if y == 0.0 and pages[-1] == [] and isinstance(blocks[i], Spacer) and len(pages) > 1:
            i += 1  # no blank space at the top of a page
            continue
        group = [blocks[i]]
        while group[-1].keep_with_next and i + len(group) < len(blocks):
            group.append(blocks[i + len(group)])
        needed = sum(b.height(m, width) for b in group)
        if y > 0 and y + needed > page_height:
            pages.append([])
            y = 0.0
        if y == 0.0 and group[0].header is not None:
            place(group[0].header)
        for block in group:
            if y > 0 and y + block.height(m, width) > page_height:  # a group taller than a page
                pages.append([])
                y = 0.0
                if block.header is not None:
                    place(block.header)
            place(block)
        i += len(group)
    return [page for page in pages if page] or [[]]
