"""Transcripts from recording tools: WebVTT (``.vtt``), SubRip (``.srt``) and spreadsheets.

Zoom, Teams, Meet and Otter export a recorded discussion as captions with speaker names.
Each file becomes speaker turns — consecutive cues of one speaker are one turn — written
as ``Name: words`` lines (the shape of a typed transcript), with each turn's start and end
time kept apart for the entry's metadata.

* **WebVTT** (W3C WebVTT): a ``WEBVTT`` first line; cues of an optional identifier, a
  timing line ``00:01.000 --> 00:04.000`` (hours optional) and payload lines. The
  speaker is the voice span's annotation (``<v Ana>``, ``<v.loud Ana>``), else a
  ``Name: words`` payload (Zoom, Otter). ``NOTE``, ``STYLE`` and ``REGION`` blocks are
  skipped, other tags (``<c>``, ``<i>``, inline timestamps) dropped, entities decoded.
* **SubRip**: numbered blocks with ``00:00:01,000 --> 00:00:04,000`` and text; the speaker
  is a ``Name: words`` or ``[Name] words`` line (a cue without one continues its speaker).
* **Spreadsheets** (``.csv``, ``.xlsx``): a header row naming a speaker column (``speaker``,
  ``name``, ``participant`` …) and a words column (``utterance``, ``text``, ``transcript``
  …), optionally a time column (``start``, ``time``, ``timestamp`` …).
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Transcript", "Turn", "parse_srt", "parse_table", "parse_vtt", "read_sheet"]

_TIMING = re.compile(
    r"^\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})"
)
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_TAG = re.compile(r"<[^>]*>")
# "Ana:", "Mr. Lee:", "Sandy (?) purple shirt:" - a label before a colon, not a time or URL
_LABEL = re.compile(r"^\s*([A-Z][\w.'’\- ()?]{0,40}?)\s*:\s+(\S.*)$")
_BRACKET = re.compile(r"^\s*\[([^\]]{1,60})\]\s*(\S.*)$")
_SPEAKER_COLUMNS = ("speaker", "speaker_name", "name", "participant", "who", "person", "user")
_TEXT_COLUMNS = ("utterance", "text", "transcript", "words", "content", "message", "said",
                 "comment", "caption")  # fmt: skip
_TIME_COLUMNS = ("start", "start_time", "time", "timestamp", "begin", "start_timestamp")


@dataclass
class Turn:
    speaker: str
    words: str
    start: str = ""
    end: str = ""


@dataclass
class Transcript:
    turns: list[Turn] = field(default_factory=list)

    def add(self, speaker: str, words: str, start: str = "", end: str = "") -> None:
        words = " ".join(words.split())
        if not words:
            return
        last = self.turns[-1] if self.turns else None
        if last is not None and (not speaker or speaker == last.speaker):
            last.words += " " + words
            last.end = end or last.end
        else:
            self.turns.append(Turn(speaker, words, start, end))

    @property
    def speakers(self) -> list[str]:
        return list(dict.fromkeys(t.speaker for t in self.turns if t.speaker))

    def text(self) -> str:
        return "\n".join(f"{t.speaker}: {t.words}" if t.speaker else t.words for t in self.turns)

    def times(self) -> list[list[str]]:
        return [[t.start, t.end] for t in self.turns]


def _label(line: str) -> tuple[str, str]:
    """(speaker, words) of a caption line; no speaker when it has no label."""
    for pattern in (_LABEL, _BRACKET):
        m = pattern.match(line)
        if m and len(m.group(1).split()) <= 5 and m.group(1).lower() not in ("http", "https"):
            return m.group(1).strip(), m.group(2)
    return "", line


def _blocks(text: str) -> Iterable[list[str]]:
    block: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.strip():
            block.append(line)
        elif block:
            yield block
            block = []
    if block:
        yield block


def parse_vtt(text: str) -> Transcript:
    """A WebVTT file's cues as turns; ValueError when it is not WebVTT."""
    body = text.lstrip("\ufeff")
    if not re.match(r"WEBVTT(?:[ \t].*)?(?:\n|\r|$)", body):
        raise ValueError("not a WebVTT file (its first line is not WEBVTT)")
    out = Transcript()
    for block in list(_blocks(body))[1:]:
        if re.match(r"(NOTE|STYLE|REGION)\b", block[0]):
            continue
        timing_at = next((i for i, ln in enumerate(block[:2]) if _TIMING.match(ln)), None)
        if timing_at is None:
            continue
        m = _TIMING.match(block[timing_at])
        assert m is not None
        payload = " ".join(block[timing_at + 1 :])
        voice = _VOICE.search(payload)
        words = html.unescape(_TAG.sub("", payload)).strip()
        speaker = voice.group(1).strip() if voice else ""
        if not speaker:
            speaker, words = _label(words)
        out.add(speaker, words, m.group(1), m.group(2))
    return out


def parse_srt(text: str) -> Transcript:
    """A SubRip file's blocks as turns; ValueError when it has no SubRip timing lines."""
    out = Transcript()
    found = False
    for block in _blocks(text.lstrip("\ufeff")):
        timing_at = next((i for i, ln in enumerate(block[:2]) if _TIMING.match(ln)), None)
        if timing_at is None:
            continue
        found = True
        m = _TIMING.match(block[timing_at])
        assert m is not None
        for line in block[timing_at + 1 :]:
            speaker, words = _label(html.unescape(_TAG.sub("", line)).lstrip("- "))
            out.add(speaker, words, m.group(1), m.group(2))
    if not found:
        raise ValueError("not a SubRip (.srt) file: no '00:00:01,000 --> 00:00:04,000' lines")
    return out


def _pick(header: list[str], names: tuple[str, ...]) -> int | None:
    normal = [re.sub(r"[\s\-]+", "_", h.strip().lower()) for h in header]
    return next((normal.index(n) for n in names if n in normal), None)


def parse_table(rows: list[list[str]]) -> Transcript:
    """Rows of a spreadsheet (first: the header) as turns; ValueError without the columns."""
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise ValueError("empty (no rows in it)")
    header = rows[0]
    who, said = _pick(header, _SPEAKER_COLUMNS), _pick(header, _TEXT_COLUMNS)
    if who is None or said is None:
        shown = ", ".join(h for h in header if h.strip()) or "none"
        raise ValueError(
            "not a transcript table: the first row needs a speaker column and a text column "
            f"(such as speaker, utterance); found: {shown}"
        )
    when = _pick(header, _TIME_COLUMNS)

    def cell(row: list[str], i: int | None) -> str:
        return row[i].strip() if i is not None and i < len(row) else ""

    out = Transcript()
    for row in rows[1:]:
        out.add(cell(row, who), cell(row, said), cell(row, when))
    return out


def read_sheet(path: Path, text: str | None) -> list[list[str]]:
    """The rows of a ``.csv`` (``text`` decoded by the caller) or the first sheet of an
    ``.xlsx`` as strings."""
    if text is not None:
        first = text.split("\n", 1)[0]
        delimiter = ";" if "," not in first and ";" in first else ","
        delimiter = "\t" if "," not in first and "\t" in first else delimiter
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zip, XML and key errors alike
        raise ValueError(f"not a readable .xlsx file ({type(exc).__name__})") from exc
    try:
        sheet = book.worksheets[0]
        return [
            ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
        ]
    finally:
        book.close()
