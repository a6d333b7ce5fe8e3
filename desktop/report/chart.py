"""The level-over-time chart of the progress report, drawn with QPainter (vector, no widget).

One line per skill category: at each date with evidence, the average level of the
category's skills as the evidence so far shows them (each skill counts with the level of
its most recent evidence). The y axis names the four levels; the x axis shows months.
Each category has its own colour (Okabe-Ito, safe for colour-blind readers) *and* marker
shape, so the chart also reads when printed in black and white.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF

from desktop.report.data import HistoryPoint
from desktop.report.layout import Block, Metrics
from sync.model.vocab import LEVEL_RANK, LEVELS

__all__ = ["LevelChart", "category_series"]

COLOURS = {"SEL": "#0072B2", "EF": "#D55E00", "21st_Century": "#009E73"}
MARKERS = {"SEL": "circle", "EF": "square", "21st_Century": "triangle"}


def category_series(history: list[HistoryPoint]) -> dict[str, list[tuple[dt.date, float]]]:
    """Category -> [(date, mean level rank 1-4)], one point per date with evidence."""
    latest: dict[str, tuple[str, int]] = {}
    series: dict[str, list[tuple[dt.date, float]]] = {}
    days = sorted({h.day for h in history})
    by_day: dict[dt.date, list[HistoryPoint]] = {}
    for h in history:
        by_day.setdefault(h.day, []).append(h)
    for day in days:
        touched = set()
        for h in by_day[day]:
            latest[h.skill] = (h.category, LEVEL_RANK[h.level])
            touched.add(h.category)
        for category in touched:
            ranks = [r for c, r in latest.values() if c == category]
            series.setdefault(category, []).append((day, sum(ranks) / len(ranks)))
    return series


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    out, day = [], first.replace(day=1)
    while day <= last:
        out.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return out


@dataclass
class LevelChart(Block):
    history: list[HistoryPoint]
    categories: list[tuple[str, str]]
    points: float = 200.0  # height

    def height(self, m: Metrics, width: float) -> float:
        return m.pt(self.points)

    def paint(self, m: Metrics, p: QPainter, rect: QRectF) -> None:
        series = category_series(self.history)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        small = m.font(8)
        p.setFont(small)
        legend_h = m.pt(16)
        plot = rect.adjusted(m.pt(70), legend_h + m.pt(6), -m.pt(10), -m.pt(22))
        grid = QPen(QColor("#d0d7de"), m.pt(0.5))
        ink = QColor("#57606a")

        def y_of(rank: float) -> float:
            return plot.bottom() - (rank - 0.5) / len(LEVELS) * plot.height()

        for level in LEVELS:
            y = y_of(LEVEL_RANK[level])
            p.setPen(grid)
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            p.setPen(ink)
            label = QRectF(rect.left(), y - m.pt(6), m.pt(64), m.pt(12))
            p.drawText(
                label, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), level
            )
        p.setPen(QPen(ink, m.pt(0.8)))
        p.drawLine(plot.bottomLeft(), plot.bottomRight())
        p.drawLine(plot.bottomLeft(), plot.topLeft())
        days = [d for points in series.values() for d, _ in points]
        if not days:
            p.drawText(plot, int(Qt.AlignmentFlag.AlignCenter), "No evidence yet in this period")
            return
        first, last = min(days), max(days)
        months = _months(first, last)
        start = months[0]
        end = (last.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        span = max((end - start).days, 1)

        def x_of(day: dt.date) -> float:
            return plot.left() + (day - start).days / span * plot.width()

        for month in [*months, end]:
            x = x_of(month)
            p.setPen(grid)
            p.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
        p.setPen(ink)
        for month in months:
            cell = QRectF(
                x_of(month),
                plot.bottom() + m.pt(4),
                x_of(month + dt.timedelta(days=28)) - x_of(month),
                m.pt(12),
            )
            p.drawText(
                cell,
                int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop),
                month.strftime("%b %Y"),
            )
        x = rect.left() + m.pt(70)
        for cat_id, cat_name in self.categories:
            colour = QColor(COLOURS.get(cat_id, "#333333"))
            points = [QPointF(x_of(d), y_of(v)) for d, v in series.get(cat_id, [])]
            if len(points) > 1:
                p.setPen(QPen(colour, m.pt(1.6)))
                p.drawPolyline(QPolygonF(points))
            for pt in points:
                _marker(p, MARKERS.get(cat_id, "circle"), pt, m.pt(3.2), colour)
            _marker(
                p,
                MARKERS.get(cat_id, "circle"),
                QPointF(x + m.pt(5), rect.top() + legend_h / 2),
                m.pt(3.2),
                colour,
            )
            p.setPen(QColor("#1f2328"))
            name = cat_name if points else f"{cat_name} (no evidence)"
            box = QRectF(x + m.pt(12), rect.top(), m.pt(170), legend_h)
            p.drawText(box, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), name)
            x += m.pt(12) + p.fontMetrics().horizontalAdvance(name) + m.pt(18)


def _marker(p: QPainter, shape: str, at: QPointF, r: float, colour: QColor) -> None:
    p.setPen(QPen(QColor("#ffffff"), r * 0.35))
    p.setBrush(colour)
    if shape == "square":
        p.drawRect(QRectF(at.x() - r, at.y() - r, 2 * r, 2 * r))
    elif shape == "triangle":
        path = QPainterPath()
        path.moveTo(at.x(), at.y() - r * 1.2)
        path.lineTo(at.x() + r * 1.15, at.y() + r * 0.8)
        path.lineTo(at.x() - r * 1.15, at.y() + r * 0.8)
        path.closeSubpath()
        p.drawPath(path)
    else:
        p.drawEllipse(at, r, r)
    p.setBrush(Qt.BrushStyle.NoBrush)
