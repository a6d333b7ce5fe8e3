"""Printed reports: the parent-conference progress report PDF.

:func:`render_report` is the one entry point (``flourish report`` and the app call it);
:func:`load_report_data` reads what it shows without Qt. Qt is used for drawing only
(QPdfWriter, QPainter, QSvgRenderer): no widgets, so the app may run it off the GUI thread.
"""

from __future__ import annotations

from desktop.report.data import ReportData, load_report_data
from desktop.report.render import render_report

__all__ = ["ReportData", "load_report_data", "render_report"]
