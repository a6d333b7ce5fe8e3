"""Evidence import: files teachers have (and folders of them) become data entries, all in
one transaction of the local store.

**What is read** (:mod:`sync.io.evidencetext`): ``.txt``, ``.md``, Word ``.docx`` (body,
tables, text boxes, footnotes, endnotes; comments kept apart in the metadata; Strict Open
XML too), text-based ``.pdf``, and transcripts from recording tools — WebVTT ``.vtt``,
SubRip ``.srt``, and ``.csv``/``.xlsx`` tables of speaker and utterance columns.

**Which student, which type, which date** comes from the file's path (``README.md``,
"Data in and out", shows it to teachers), or from the caller (``--student``, ``--type``,
``--date`` on the command line, the dialog in the app), which overrides the path:

* folders: ``<student_id>/<entry_type>/<YYYY-MM-DD>[ title].txt``, e.g.
  ``S001/reflection_journal/2026-10-12 My goals.docx``;
* one name: ``S001_reflection_journal_2026-10-12[_title].txt``.

These documented shapes are read first and win: a type word inside the title stays part
of the title. Other names are searched: the file name first, then its folders from the
innermost out. A student id is an ``S`` and three or more digits; the entry type is one
of the seven seed types (spaces or hyphens for underscores are fine) or a short word for
one — ``journal``/``reflection``, ``observation``, ``parent``, ``feedback``,
``discussion``, ``tutoring``, ``presentation`` (a plural ``s`` too); the date is
``YYYY-MM-DD``, else the file's modification date. What is left of the file name is the
title (else a Markdown file's first heading, else the file name). A recording or
transcript table whose path names no type is a ``group_discussion_transcript``.

**Metadata** (JSON ``metadata`` of the entry): ``source_file`` (the name), ``title``,
``imported_from`` (the file type), ``date_from`` (``name`` or ``file date``), for the
three transcript types ``speakers`` (in order of first appearance) and ``turns``, and
what the file adds: ``timestamps`` (``[start, end]`` per turn of a recording),
``comments`` (a Word file's reviewers' remarks), ``pages`` (a PDF's).

**Refused**, with the reason per file: too large, binary or not decodable, empty, a PDF
without a text layer, an unknown student, no student or type in the path, a file type
other than these (given by name), text already imported for that student. The rule is
*all or nothing*: one refused file means nothing is imported, unless ``skip_bad`` is set,
which imports the good files in one transaction and lists the refused. Inside folders,
hidden files, Office lock files (``~$…``) and other file types are passed over (listed
as ignored).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, TypedDict, Unpack

from sqlalchemy import Connection

from sync.errors import ValidationError
from sync.io.evidencetext import EVIDENCE_SUFFIXES, TRANSCRIPT_SUFFIXES, read_evidence, speakers
from sync.model.crud import STUDENTS
from sync.model.records import DataEntry
from sync.model.vocab import ENTRY_TYPES
from sync.store.local import Change, LocalStore
from sync.store.state import TEACHER_ID

__all__ = [
    "EVIDENCE_SUFFIXES",
    "EvidenceFile",
    "EvidenceImport",
    "EvidencePlan",
    "EvidenceRefused",
    "Given",
    "NameInfo",
    "Refusal",
    "import_evidence",
    "parse_entry_type",
    "parse_name",
    "plan_evidence",
    "preview_evidence",
    "read_text",
]

_ALIASES = {
    "journal": "reflection_journal",
    "reflection": "reflection_journal",
    "observation": "teacher_observation_note",
    "parent": "parent_note",
    "feedback": "peer_feedback",
    "discussion": "group_discussion_transcript",
    "tutoring": "peer_tutoring_transcript",
    "presentation": "project_presentation_transcript",
}
_SEP = r"(?:^|(?<=[_\s.\-]))"
_END = r"(?=$|[_\s.\-])"
_STUDENT = re.compile(_SEP + r"([Ss][0-9]{3,})" + _END)
_DATE = re.compile(_SEP + r"([0-9]{4}-[0-9]{2}-[0-9]{2})" + _END)
_DOC_NAME = re.compile(
    r"^([Ss][0-9]{3,})[_\s\-]+(.+?)[_\s\-]+([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[_\s\-]+(.*))?$"
)
_DOC_STEM = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[_\s\-]+(.*))?$")
#: The type of a recording or transcript table whose path names none.
RECORDING_TYPE = "group_discussion_transcript"


@dataclass(frozen=True)
class Refusal:
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class EvidenceRefused(ValidationError):
    """Some files were refused and nothing was imported; :attr:`refusals` lists them."""

    def __init__(self, refusals: Sequence[Refusal]) -> None:
        self.refusals = list(refusals)
        n = len(self.refusals)
        head = f"{n} file{'s' if n != 1 else ''} refused; nothing was imported"
        super().__init__("\n".join([head, *(f"  {r}" for r in self.refusals)]))


@dataclass(frozen=True)
class EvidenceFile:
    """One file, read and ready to become a data entry."""

    path: Path
    student_id: str
    entry_type: str
    date: dt.date
    content: str
    metadata: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.metadata.get("title") or self.path.stem)


@dataclass(frozen=True)
class EvidencePlan:
    files: list[EvidenceFile] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{len(self.files)} file(s) to import"]
        if self.refused:
            parts.append(f"{len(self.refused)} refused")
        if self.ignored:
            parts.append(f"{len(self.ignored)} ignored (not an evidence file type)")
        return ", ".join(parts)


@dataclass(frozen=True)
class EvidenceImport:
    plan: EvidencePlan
    entries: list[DataEntry]
    changes: list[Change]

    def summary(self) -> str:
        text = f"imported {len(self.entries)} evidence file(s) (queued for sync)"
        if self.plan.refused:
            text += f"; {len(self.plan.refused)} refused, not imported"
        return text


# -- names -----------------------------------------------------------------------------------


def parse_entry_type(value: str) -> str | None:
    """A seed entry type from its name or a short word for it (``journal``); else None."""
    key = re.sub(r"[\s\-]+", "_", value.strip().lower())
    if key in ENTRY_TYPES:
        return key
    return _ALIASES.get(key) or _ALIASES.get(key.removesuffix("s"))


def _find_type(part: str) -> tuple[str, tuple[int, int]] | None:
    norm = re.sub(r"(?<=[a-z])[\s\-](?=[a-z])", "_", part.lower())
    for name in sorted(ENTRY_TYPES, key=len, reverse=True):
        m = re.search(_SEP + re.escape(name) + _END, norm)
        if m:
            return name, m.span()
    return None


def _find_alias(part: str) -> tuple[str, tuple[int, int]] | None:
    for m in re.finditer(r"[^_\s.\-]+", part.lower()):
        found = _ALIASES.get(m.group()) or _ALIASES.get(m.group().removesuffix("s"))
        if found:
            return found, m.span()
    return None


@dataclass(frozen=True)
class NameInfo:
    """What a file's path says: student, entry type, date, title (None: not said)."""

    student_id: str | None
    entry_type: str | None
    date: dt.date | None
    title: str
    bad_date: str | None = None  # looked like YYYY-MM-DD but is no date (2026-02-30)


def _documented(relative: PurePath) -> NameInfo | None:
    """The two documented shapes, read strictly (so a word in the title stays title)."""
    m = _DOC_NAME.match(relative.stem)
    if m:
        student, kind, day, title = m.groups()
    else:
        m = _DOC_STEM.match(relative.stem)
        folders = relative.parent.parts
        if not m or len(folders) < 2 or not _STUDENT.fullmatch(folders[-2]):
            return None
        student, kind, (day, title) = folders[-2], folders[-1], m.groups()
    entry_type = parse_entry_type(kind)
    if entry_type is None:
        return None
    try:
        date, bad = dt.date.fromisoformat(day), None
    except ValueError:
        date, bad = None, day
    title = re.sub(r"[\s_]+", " ", title or "").strip(" -_.")
    return NameInfo(student.upper(), entry_type, date, title, bad)


def parse_name(relative: PurePath) -> NameInfo:
    """Read the naming scheme from a path relative to the imported folder.

    The documented shapes (``S001_type_YYYY-MM-DD_title``, ``S001/type/YYYY-MM-DD title``)
    are read first and win; otherwise the student, type and date are looked for anywhere
    in the name and its folders."""
    documented = _documented(relative)
    if documented is not None:
        return documented
    parts = [relative.stem, *reversed(relative.parent.parts)]
    student = entry_type = bad_date = None
    date: dt.date | None = None
    stem_spans: list[tuple[int, int]] = []
    for i, part in enumerate(parts):
        if student is None and (m := _STUDENT.search(part)):
            student = m.group(1).upper()
            stem_spans += [m.span(1)] if i == 0 else []
        if date is None and bad_date is None and (m := _DATE.search(part)):
            try:
                date = dt.date.fromisoformat(m.group(1))
            except ValueError:
                bad_date = m.group(1)
            stem_spans += [m.span(1)] if i == 0 else []
    for finder in (_find_type, _find_alias):
        for i, part in enumerate(parts):
            found = finder(part)
            if found:
                entry_type = found[0]
                stem_spans += [found[1]] if i == 0 else []
                break
        if entry_type:
            break
    title = relative.stem
    for start, end in sorted(stem_spans, reverse=True):
        title = title[:start] + " " + title[end:]
    title = re.sub(r"[\s_]+", " ", title).strip(" -_.")
    return NameInfo(student, entry_type, date, title, bad_date)


# -- reading -------------------------------------------------------------------------------


def read_text(path: Path) -> str:
    """The text of an evidence file; ValueError says why it cannot be used."""
    return read_evidence(path).text


def _md_title(text: str) -> str | None:
    m = re.search(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M)
    return m.group(1) if m else None


def _walk(paths: Sequence[Path], plan: EvidencePlan) -> list[tuple[Path, PurePath]]:
    """(file, path relative to its imported folder) for every candidate file."""
    out: list[tuple[Path, PurePath]] = []
    for given in paths:
        if given.is_dir():
            for root, dirs, names in os.walk(given):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    path = Path(root) / name
                    if name.startswith((".", "~$")):
                        continue
                    if path.suffix.lower() not in EVIDENCE_SUFFIXES:
                        plan.ignored.append(path)
                        continue
                    out.append((path, path.relative_to(given)))
        elif given.exists():
            out.append((given, PurePath(given.name)))
        else:
            plan.refused.append(Refusal(given, "no such file or folder"))
    return out


def plan_evidence(
    paths: Sequence[str | os.PathLike[str]],
    *,
    student_id: str | None = None,
    entry_type: str | None = None,
    date: dt.date | None = None,
    known_students: frozenset[str] | None = None,
) -> EvidencePlan:
    """Read and check every file (nothing written); refusals carry their reasons."""
    chosen_type = None
    if entry_type is not None:
        chosen_type = parse_entry_type(entry_type)
        if chosen_type is None:
            raise ValidationError(
                f"unknown entry type {entry_type!r}; use one of {', '.join(ENTRY_TYPES)}"
            )
    plan = EvidencePlan()
    for path, relative in _walk([Path(p) for p in paths], plan):
        name = parse_name(relative)
        student = (student_id or name.student_id or "").strip().upper() or None
        kind = chosen_type or name.entry_type
        when = date or name.date
        if name.bad_date and date is None:
            plan.refused.append(Refusal(path, f"{name.bad_date} in its name is not a date"))
            continue
        if student is None:
            plan.refused.append(Refusal(path, "no student id (S001) in its name or folders"))
            continue
        recording = kind is None and path.suffix.lower() in TRANSCRIPT_SUFFIXES
        kind = RECORDING_TYPE if recording else kind
        if kind is None:
            plan.refused.append(Refusal(path, "no entry type in its name or folders"))
            continue
        if known_students is not None and student not in known_students:
            plan.refused.append(Refusal(path, f"student {student} is not in this store"))
            continue
        try:
            got = read_evidence(path)
        except (ValueError, OSError) as exc:
            plan.refused.append(Refusal(path, str(exc)))
            continue
        content = got.text
        metadata: dict[str, Any] = {
            "source_file": path.name,
            "title": name.title
            or (_md_title(content) if path.suffix.lower() == ".md" else None)
            or path.stem,
            "imported_from": path.suffix.lower().lstrip("."),
            "date_from": "chosen" if date else ("name" if name.date else "file date"),
            **got.metadata,
        }
        if recording:
            metadata["type_from"] = "recording (no type in its name)"
        if got.turns is not None:
            metadata["speakers"], metadata["turns"] = got.turns
        elif kind.endswith("_transcript"):
            metadata["speakers"], metadata["turns"] = speakers(content)
        if when is None:
            when = dt.date.fromtimestamp(path.stat().st_mtime)
        plan.files.append(EvidenceFile(path, student, kind, when, content, metadata))
    return plan


def _check_store(conn: Connection, plan: EvidencePlan) -> EvidencePlan:
    """Refuse files whose text the student already has (imported twice, or twice now)."""
    keep: list[EvidenceFile] = []
    refused = list(plan.refused)
    seen: dict[tuple[str, str], Path] = {}
    for item in plan.files:
        row = conn.exec_driver_sql(
            "SELECT id FROM data_entries WHERE student_id = ? AND content = ?",
            (item.student_id, item.content),
        ).first()
        twin = seen.setdefault((item.student_id, item.content), item.path)
        if row is not None:
            refused.append(Refusal(item.path, f"already imported for {item.student_id} ({row[0]})"))
        elif twin != item.path:
            refused.append(Refusal(item.path, f"the same text as {twin.name}"))
        else:
            keep.append(item)
    refused.sort(key=lambda r: str(r.path))
    return EvidencePlan(keep, refused, plan.ignored)


def _known(conn: Connection) -> frozenset[str]:
    return frozenset(s.id for s in STUDENTS.list(conn))


class Given(TypedDict, total=False):
    """What the teacher says of every file at once (otherwise each file's name says it)."""

    student_id: str | None
    entry_type: str | None
    date: dt.date | None


def _checked_plan(
    conn: Connection, paths: Sequence[str | os.PathLike[str]], given: Given
) -> EvidencePlan:
    plan = plan_evidence(paths, **given, known_students=_known(conn))
    return _check_store(conn, plan)


def preview_evidence(
    store: LocalStore, paths: Sequence[str | os.PathLike[str]], **given: Unpack[Given]
) -> EvidencePlan:
    """What :func:`import_evidence` would import and refuse (nothing written)."""
    with store.read() as conn:
        return _checked_plan(conn, paths, given)


def import_evidence(
    store: LocalStore,
    paths: Sequence[str | os.PathLike[str]],
    *,
    teacher_id: str | None = None,
    skip_bad: bool = False,
    **given: Unpack[Given],
) -> EvidenceImport:
    """Import the files in one transaction: all of them, or (``skip_bad``) the good ones.

    ``teacher_id`` defaults to the teacher signed in on this store, else the student's.
    Raises :class:`EvidenceRefused` when a file is refused and ``skip_bad`` is not set.
    """
    with store.write() as txn:
        plan = _checked_plan(txn.conn, paths, given)
        if plan.refused and not skip_bad:
            raise EvidenceRefused(plan.refused)
        if not plan.files:
            raise ValidationError(f"no evidence files to import ({', '.join(EVIDENCE_SUFFIXES)})")
        signed_in = txn.conn.exec_driver_sql(
            "SELECT value FROM sync_state WHERE key = ?", (TEACHER_ID,)
        ).scalar()
        entries = []
        for item in plan.files:
            owner = (
                teacher_id or signed_in or STUDENTS.require(txn.conn, item.student_id).teacher_id
            )
            entries.append(
                txn.insert(
                    DataEntry(
                        student_id=item.student_id,
                        teacher_id=owner,
                        type=item.entry_type,
                        date=item.date,
                        content=item.content,
                        metadata=item.metadata,
                    )
                )
            )
        return EvidenceImport(plan, entries, list(txn.changes))
