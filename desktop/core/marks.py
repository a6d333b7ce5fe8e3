"""How a level the teacher has not reviewed is marked — the same everywhere (Student tab,
class heat map, PDF report): a small triangle in the top-right corner of the level's
chip or cell, and the words :data:`UNREVIEWED` wherever there is room for words (legends,
tooltips, screen-reader text, the report). Colour alone never carries it.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPolygonF

__all__ = ["UNREVIEWED", "UNREVIEWED_LEGEND", "UNREVIEWED_MARK", "draw_unreviewed_corner"]

UNREVIEWED = "AI proposal, not reviewed yet"
UNREVIEWED_MARK = "◥"
UNREVIEWED_LEGEND = f"{UNREVIEWED_MARK} {UNREVIEWED}"


def draw_unreviewed_corner(painter: QPainter, rect: QRectF, color: QColor, size: float) -> None:
    """The corner triangle in ``rect``'s top-right corner, in ``color`` (the text colour)."""
    corner = QPolygonF(
        [
            QPointF(rect.right() - size, rect.top()),
            QPointF(rect.right(), rect.top()),
            QPointF(rect.right(), rect.top() + size),
        ]
    )
    painter.save()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawPolygon(corner)
    painter.restore()
