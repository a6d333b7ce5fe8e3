"""Level history of one skill over time (QtCharts).

The line is the effective level (the teacher's where they decided, else the AI's) at each
piece of evidence; hollow points mark the AI's proposals where the teacher changed them;
a dashed line marks the active target, if any.
The y axis names the four levels. Colours come from the application palette, so the
chart reads in light and dark schemes. GUI thread only.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCharts import (
    QCategoryAxis,
    QChart,
    QChartView,
    QDateTimeAxis,
    QLineSeries,
    QScatterSeries,
)
from PySide6.QtCore import QDate, QDateTime, QMargins, Qt, QTime
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QWidget

from desktop.core.theme import is_dark, level_colors
from desktop.student.data import HistoryPoint
from sync.model.vocab import LEVEL_RANK, LEVELS

__all__ = ["LevelHistoryChart"]


def _qdt(day: dt.date, hour: int = 0) -> QDateTime:
    return QDateTime(QDate(day.year, day.month, day.day), QTime(hour, 0))


def _msecs(day: dt.date) -> float:
    return float(_qdt(day, 12).toMSecsSinceEpoch())


class LevelHistoryChart(QChartView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("levelChart")
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(self.fontMetrics().height() * 11)
        self.points: list[HistoryPoint] = []
        self.show_history("", [])

    def show_history(
        self, skill: str, points: list[HistoryPoint], *, target: str | None = None
    ) -> None:
        self.points = points
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.WindowText)
        grid = pal.color(QPalette.ColorRole.Mid)
        chart = QChart()
        chart.setBackgroundBrush(pal.color(QPalette.ColorRole.Base))
        chart.setBackgroundRoundness(0)
        chart.setMargins(QMargins(4, 4, 4, 4))
        chart.legend().setVisible(bool(points))
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        chart.legend().setLabelColor(text)
        chart.setTitleBrush(text)
        if not skill:
            chart.setTitle("Select a skill to see its history")
        elif not points:
            chart.setTitle(f"{skill}: no evidence yet")
        else:
            chart.setTitle(f"{skill}: level over time")
        y_axis = QCategoryAxis()
        y_axis.setRange(0.5, 4.5)
        y_axis.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
        for rank, level in enumerate(LEVELS, start=1):
            y_axis.append(level, rank)
        y_axis.setLabelsColor(text)
        y_axis.setGridLineColor(grid)
        x_axis = QDateTimeAxis()
        x_axis.setFormat("d MMM")
        x_axis.setLabelsColor(text)
        x_axis.setGridLineColor(grid)
        if points:
            first, last = points[0].when, points[-1].when
            if first == last:
                first, last = first - dt.timedelta(days=3), last + dt.timedelta(days=3)
            pad = max(dt.timedelta(days=2), (last - first) / 20)
            x_axis.setRange(_qdt(first - pad), _qdt(last + pad))
            x_axis.setTickCount(min(8, max(3, len({p.when for p in points}) + 1)))
        else:
            today = dt.date.today()
            x_axis.setRange(_qdt(today - dt.timedelta(days=30)), _qdt(today))
        chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        if points:
            line = QLineSeries()
            line.setName("effective level")
            color = QColor("#74c476") if is_dark(pal) else level_colors("Advanced")[0]
            line.setPen(QPen(color, 2.5))
            line.setPointsVisible(True)
            for p in points:
                line.append(_msecs(p.when), LEVEL_RANK[p.effective_level])
            chart.addSeries(line)
            line.attachAxis(x_axis)
            line.attachAxis(y_axis)
            changed = [p for p in points if p.reviewed and p.ai_level != p.effective_level]
            if changed:
                ai = QScatterSeries()
                ai.setName("AI proposal you corrected")
                ai.setMarkerSize(10)
                ai.setColor(pal.color(QPalette.ColorRole.Base))
                ai.setBorderColor(QColor("#c77800"))
                for p in changed:
                    ai.append(_msecs(p.when), LEVEL_RANK[p.ai_level])
                chart.addSeries(ai)
                ai.attachAxis(x_axis)
                ai.attachAxis(y_axis)
            if target is not None:
                goal = QLineSeries()
                goal.setName(f"target: {target}")
                pen = QPen(pal.color(QPalette.ColorRole.Highlight), 1.5, Qt.PenStyle.DashLine)
                goal.setPen(pen)
                start, end = x_axis.min(), x_axis.max()
                goal.append(float(start.toMSecsSinceEpoch()), LEVEL_RANK[target])
                goal.append(float(end.toMSecsSinceEpoch()), LEVEL_RANK[target])
                chart.addSeries(goal)
                goal.attachAxis(x_axis)
                goal.attachAxis(y_axis)
        old = self.chart()
        self.setChart(chart)
        if old is not None:
            old.deleteLater()
