"""Reading roster files: the parsing helpers every roster format shares.

:mod:`sync.io.roster` (the simple CSV and the import itself), :mod:`sync.io.oneroster` and
:mod:`sync.io.clever` all read their CSV files through :func:`read_table` and report through
:class:`RosterProblem`; nothing here knows about a store.

* :func:`decode_text` — UTF-8 (BOM or not), UTF-16 with a BOM, else Windows-1252.
* :func:`read_table` — one CSV file: comma, semicolon or tab separated (from the header),
  CRLF, LF or CR-only line ends, a normalised header (lower case, ``_`` for spaces and
  hyphens) and ``(line, fields)`` rows with blank lines dropped.
* :class:`RosterProblems` — the refusal: it keeps every problem, and its message lists a
  screenful (:data:`SHOWN_PROBLEMS`) and the count of the rest.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sync.errors import ValidationError

__all__ = [
    "locate_files",
    "MAX_NAME",
    "SHOWN_PROBLEMS",
    "RosterProblem",
    "RosterProblems",
    "Table",
    "check_name",
    "decode_text",
    "norm",
    "read_table",
    "require_columns",
]

MAX_NAME = 100
#: Problems a refusal's message lists before "... and N more" (all stay in ``problems``).
SHOWN_PROBLEMS = 20


@dataclass(frozen=True, order=True)
class RosterProblem:
    """One thing wrong with a roster file; ``line`` is 1-based (None: the file itself)."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}, line {self.line}"
        return f"{where}: {self.message}"


class RosterProblems(ValidationError):
    """The roster was refused; :attr:`problems` lists every problem (nothing was written).

    The message names the files and the count, then lists the first
    :data:`SHOWN_PROBLEMS` problems and says how many more there are.
    """

    def __init__(self, problems: Sequence[RosterProblem]) -> None:
        self.problems = list(problems)
        files = sorted({p.file for p in self.problems})
        n = len(self.problems)
        head = f"{', '.join(files)}: {n} problem{'s' if n != 1 else ''}; nothing was imported"
        lines = [head, *(f"  {p}" for p in self.problems[:SHOWN_PROBLEMS])]
        if n > SHOWN_PROBLEMS:
            lines.append(f"  ... and {n - SHOWN_PROBLEMS} more")
        super().__init__("\n".join(lines))


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode file bytes: UTF-8 (BOM or not), UTF-16 with a BOM, else Windows-1252.

    Returns (text, encoding name); ValueError says why the bytes are not text.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as exc:
            raise ValueError(f"not valid UTF-16 text ({exc.reason})") from exc
    if b"\x00" in data:
        raise ValueError("binary file (it contains NUL bytes), not text")
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "UTF-8 with BOM"
        except UnicodeDecodeError as exc:
            raise ValueError(f"starts like UTF-8 but is not valid UTF-8 ({exc.reason})") from exc
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as exc:
        raise ValueError("neither UTF-8 nor Windows-1252 text") from exc


@dataclass
class Table:
    """A decoded CSV file: normalised header and (line, fields) rows."""

    name: str
    encoding: str
    header: list[str]
    rows: list[tuple[int, list[str]]]

    def records(self) -> list[tuple[int, dict[str, str]]]:
        """Rows as ``{column: value}`` (values stripped; a short row's missing cells empty)."""
        return [
            (
                line,
                {
                    h: (fields[i].strip() if i < len(fields) else "")
                    for i, h in enumerate(self.header)
                },
            )
            for line, fields in self.rows
        ]


def norm(column: str) -> str:
    """``Given Name`` -> ``given_name``; ``sourcedId`` -> ``sourcedid``."""
    return re.sub(r"[\s\-]+", "_", column.strip().lower())


def read_table(path: Path, problems: list[RosterProblem]) -> Table | None:
    """Read one CSV file; appends a problem and returns None when it cannot be read."""
    name = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        problems.append(RosterProblem(name, None, f"no such file: {path}"))
        return None
    except OSError as exc:
        problems.append(RosterProblem(name, None, f"cannot read the file ({exc.strerror})"))
        return None
    try:
        text, encoding = decode_text(data)
    except ValueError as exc:
        problems.append(RosterProblem(name, None, str(exc)))
        return None
    first = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    delimiter = ","
    if "," not in first and ";" in first:
        delimiter = ";"
    elif "," not in first and "\t" in first:
        delimiter = "\t"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    last = 0
    try:
        for fields in reader:
            line, last = last + 1, reader.line_num
            if not any(f.strip() for f in fields):
                continue  # blank line (or only separators)
            if header is None:
                header = [norm(f) for f in fields]
                seen = [h for i, h in enumerate(header) if h and h in header[:i]]
                for dup in dict.fromkeys(seen):
                    problems.append(RosterProblem(name, line, f"column {dup!r} appears twice"))
                continue
            rows.append((line, fields))
    except csv.Error as exc:
        problems.append(RosterProblem(name, reader.line_num, f"not readable as CSV ({exc})"))
        return None
    if header is None:
        problems.append(RosterProblem(name, None, "the file is empty"))
        return None
    return Table(name, encoding, header, rows)


def require_columns(
    table: Table, wanted: Sequence[str], problems: list[RosterProblem], *, shown: str = ""
) -> bool:
    """True when ``table`` has every column of ``wanted``; else one problem naming them."""
    missing = [c for c in wanted if c not in table.header]
    if missing:
        problems.append(
            RosterProblem(
                table.name,
                1,
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"(the header needs {shown or ','.join(wanted)})",
            )
        )
    return not missing


def check_name(name: str, bad: list[str]) -> None:
    """Append what is wrong with a student's name to ``bad``."""
    if not name:
        bad.append("name is empty")
    elif len(name) > MAX_NAME:
        bad.append(f"name is longer than {MAX_NAME} characters")


def locate_files(
    paths: Sequence[Path],
    problems: list[RosterProblem],
    *,
    system: str,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
) -> dict[str, Path]:
    """The files of ``system``'s roster among ``paths`` (files, or folders holding them),
    by lower-cased name. A file named that is none of them, and a required file missing,
    are appended to ``problems``; other files in a folder are passed over."""
    wanted = (*required, *optional)
    found: dict[str, Path] = {}
    for path in paths:
        for child in sorted(path.iterdir()) if path.is_dir() else [path]:
            if child.name.lower() in wanted:
                found.setdefault(child.name.lower(), child)
            elif not path.is_dir():
                problems.append(
                    RosterProblem(
                        child.name, None, f"not a {system} file (expected {', '.join(required)})"
                    )
                )
    missing = [name for name in required if name not in found]
    if missing:
        problems.append(
            RosterProblem(
                missing[0],
                None,
                f"missing: a {system} roster needs {', '.join(required)} together "
                f"(not found: {', '.join(missing)})",
            )
        )
    return found
