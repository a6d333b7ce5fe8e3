"""How dates, times and untitled evidence read in the app.

* **Dates** follow the locale's short date format (:class:`QLocale`): ``12/7/26`` in the
  United States, ``07/12/2026`` in Britain, ``07.12.26`` in Germany. Without a locale
  (``C``/``POSIX``, where Qt would print ``7 12 2026``) dates read as ISO ``2026-12-07``,
  which no reader misreads. :func:`date_format` is also what the date fields display.
* **Times** are the teacher's local time, to the minute (or the second), never microseconds
  (:func:`format_time`): a stored UTC timestamp ``2026-12-07 14:03:11.123456`` reads
  ``12/7/26 9:03 AM`` in New York, ``2026-12-07 15:03`` in Paris without a locale.
* **Untitled evidence** is never called by its id (``DE001``): :func:`entry_title` uses
  its first words, or its kind.

GUI thread or not: QLocale is reentrant.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, QDateTime, QLocale, QTime, QTimeZone

__all__ = ["date_format", "entry_title", "format_date", "format_time", "parse_day"]

_ISO = "yyyy-MM-dd"


def _locale() -> QLocale:
    return QLocale()


def date_format() -> str:
    """The locale's short date format (ISO without a locale), as a Qt format string."""
    locale = _locale()
    if locale.language() == QLocale.Language.C:
        return _ISO
    return locale.dateFormat(QLocale.FormatType.ShortFormat)


def _time_format() -> str:
    locale = _locale()
    if locale.language() == QLocale.Language.C:
        return "HH:mm"
    return locale.timeFormat(QLocale.FormatType.ShortFormat)


def parse_day(value: object) -> dt.date | None:
    """A date from a ``date``, a ``datetime`` or the ISO text the store keeps; None if empty
    or not a date."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def format_date(value: object) -> str:
    """``value`` (date, datetime or ISO text) in the locale's date format; text that is not
    a date is shown as it is."""
    day = parse_day(value)
    if day is None:
        return "" if value is None else str(value)
    return _locale().toString(QDate(day.year, day.month, day.day), date_format())


def _as_utc(value: object) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).strip().replace(" ", "T", 1))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def format_time(value: object, *, seconds: bool = False) -> str:
    """A stored timestamp (UTC unless it says otherwise) as local date and time, to the
    minute (``seconds``: to the second); never microseconds."""
    if value is None or value == "":
        return ""
    moment = _as_utc(value)
    if moment is None:
        return str(value)
    offset = moment.utcoffset() or dt.timedelta(0)
    utc = QDateTime(
        QDate(moment.year, moment.month, moment.day),
        QTime(moment.hour, moment.minute, moment.second),
        QTimeZone(int(offset.total_seconds())),
    )
    local = utc.toLocalTime()
    clock = _time_format()
    if seconds and ":ss" not in clock:
        clock = clock.replace("mm", "mm:ss", 1)
    return _locale().toString(local, f"{date_format()} {clock}")


def entry_title(title: object, content: object = None, kind: str | None = None) -> str:
    """What to call a piece of evidence: its title, else its first words, else its kind."""
    if title and str(title).strip():
        return str(title).strip()
    words = " ".join(str(content or "").split()).split(" ")
    if words and words[0]:
        head = " ".join(words[:8])
        return f"“{head}…”" if len(words) > 8 else f"“{head}”"
    return (kind or "evidence").replace("_", " ").capitalize()
