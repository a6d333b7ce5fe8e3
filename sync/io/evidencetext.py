"""The text of one evidence file, whatever tool wrote it (used by :mod:`sync.io.evidence_import`).

* ``.txt``, ``.md`` — decoded like a roster (UTF-8 with or without a BOM, UTF-16 with a
  BOM, else Windows-1252);
* ``.docx`` — everything a reader sees (:mod:`sync.io.docxtext`): body, tables, text boxes,
  footnotes and endnotes, Strict Open XML too; comments go to the metadata as
  ``comments`` (reviewers' remarks, not the student's words);
* ``.vtt``, ``.srt``, and ``.csv``/``.xlsx`` transcript tables — speaker turns
  (:mod:`sync.io.transcripts`), each turn's ``[start, end]`` in the metadata as ``timestamps``;
* ``.pdf`` — the text layer of every page (pypdf). A PDF without one (a scan that was
  never OCRed) is refused with that reason.

:func:`read_evidence` returns the text and the metadata the file itself adds; ValueError
says why a file cannot be used (too large, empty, not the format its name says).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sync.actions import MAX_ENTRY_BYTES
from sync.io.rosterfiles import decode_text

__all__ = ["EVIDENCE_SUFFIXES", "TRANSCRIPT_SUFFIXES", "FileText", "read_evidence", "speakers"]

TRANSCRIPT_SUFFIXES = (".vtt", ".srt", ".csv", ".xlsx")
EVIDENCE_SUFFIXES = (".txt", ".md", ".docx", ".pdf", *TRANSCRIPT_SUFFIXES)
_MAX_FILE = 20 * MAX_ENTRY_BYTES  # a PDF or .docx holds far more bytes than its text
# "Ana: ...", "Mr. Lee: ...", "Sandy (?) purple shirt: ..." at the start of a line
_SPEAKER = re.compile(r"^\s*([A-Z][\w.'’ \-()?]{0,40}?)\s*:\s+\S")
_NOT_SPEAKERS = {"date", "time", "title", "topic", "note", "notes", "subject", "class", "unit"}


@dataclass
class FileText:
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    #: speakers and turns of a structured transcript (None: find them in the text)
    turns: tuple[list[str], int] | None = None


def speakers(text: str) -> tuple[list[str], int]:
    """Speakers (in order of first appearance) and turns of ``Name: words`` lines."""
    names: dict[str, None] = {}
    turns = 0
    for line in text.splitlines():
        m = _SPEAKER.match(line)
        if m and m.group(1).strip().lower() not in _NOT_SPEAKERS and len(m.group(1).split()) <= 5:
            names[m.group(1).strip()] = None
            turns += 1
    return list(names), turns


def _pdf(path: Path) -> FileText:
    import pypdf
    from pypdf.errors import PdfReadError

    try:
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted:
            raise ValueError("a password-protected PDF (save it without the password)")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        # positioned words come out tab-separated: one space between words of a line
        pages = [re.sub(r"[ \t]+", " ", page) for page in pages]
    except (PdfReadError, OSError, KeyError, TypeError) as exc:
        raise ValueError(f"not a readable PDF ({type(exc).__name__})") from exc
    text = "\n\n".join(p for p in pages if p)
    if not text.strip():
        raise ValueError(
            f"a PDF without a text layer ({len(pages)} page(s) of images, e.g. a scan): "
            "run it through OCR, or type the text"
        )
    return FileText(text, {"pages": len(pages)})


def _transcript(path: Path, suffix: str, data: bytes) -> FileText:
    from sync.io.transcripts import parse_srt, parse_table, parse_vtt, read_sheet

    if suffix == ".xlsx":
        transcript = parse_table(read_sheet(path, None))
    else:
        text, _encoding = decode_text(data)
        if suffix == ".vtt":
            transcript = parse_vtt(text)
        elif suffix == ".srt":
            transcript = parse_srt(text)
        else:
            transcript = parse_table(read_sheet(path, text))
    if not transcript.turns:
        raise ValueError("empty (no spoken words in it)")
    meta: dict[str, Any] = {}
    if any(start or end for start, end in transcript.times()):
        meta["timestamps"] = transcript.times()
    return FileText(transcript.text(), meta, (transcript.speakers, len(transcript.turns)))


def read_evidence(path: Path) -> FileText:
    """The text of ``path`` and what the file adds to the metadata (see the module doc)."""
    size = path.stat().st_size
    suffix = path.suffix.lower()
    limit = MAX_ENTRY_BYTES if suffix in (".txt", ".md", ".vtt", ".srt", ".csv") else _MAX_FILE
    if size > limit:
        raise ValueError(f"larger than {limit // 1_000_000} MB ({size / 1_000_000:.1f} MB)")
    if size == 0:
        raise ValueError("empty file")
    if suffix == ".docx":
        from sync.io.docxtext import read_docx

        doc = read_docx(path)
        got = FileText(doc.text)
        if doc.comments:
            got.metadata["comments"] = doc.comments
        if doc.strict:
            got.metadata["docx_format"] = "strict"
    elif suffix == ".pdf":
        got = _pdf(path)
    elif suffix in TRANSCRIPT_SUFFIXES:
        got = _transcript(path, suffix, path.read_bytes() if suffix != ".xlsx" else b"")
    elif suffix in (".txt", ".md"):
        got = FileText(decode_text(path.read_bytes())[0])
    else:
        raise ValueError(
            f"not an evidence file type ({suffix or 'no extension'}); "
            f"use {', '.join(EVIDENCE_SUFFIXES)}"
        )
    text = got.text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise ValueError("empty (no text in it)")
    if len(text.encode("utf-8")) > MAX_ENTRY_BYTES:
        raise ValueError("its text is larger than 1 MB")
    got.text = text
    return got
