"""CSV export of the teacher's data in the local store (``flourish export --out DIR``).

One file per table — ``teachers.csv``, ``students.csv``, ``data_entries.csv``,
``assessments.csv``, ``teacher_corrections.csv``, ``skill_targets.csv``, ``badges.csv`` —
read in one snapshot of the store. Encoding UTF-8 (no BOM), RFC 4180 quoting, CRLF line
ends, a header row with the seed's column names in the order of the table definitions
(:mod:`sync.model.tables`), rows ordered by primary key. Values: empty for NULL, ``true``/
``false``, ISO dates and ``YYYY-MM-DD HH:MM:SS[.ffffff]`` times (UTC), JSON columns
(``metadata``, ``provenance``) as compact JSON text.

Left out on purpose: the sync bookkeeping columns (``sync_hlc``, ``sync_origin``,
``sync_version``), which mean nothing outside Flourish, and the local-only tables (the
queue, the conflict log, AI job records).

One deviation from the seed names: ``students.csv`` calls its first column
``student_id`` (not ``id``), so that it is a roster file — ``flourish import roster
students.csv`` reads it back unchanged (the roster import also accepts ``id``).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from sync.errors import ValidationError
from sync.model.tables import LOCAL, SEED_TABLES
from sync.store.local import LocalStore

__all__ = ["EXPORT_TABLES", "ExportResult", "export_columns", "export_csv"]

EXPORT_TABLES = SEED_TABLES
_SKIPPED = frozenset({"sync_hlc", "sync_origin", "sync_version"})
_RENAMED = {("students", "id"): "student_id"}


def export_columns(table: str) -> list[tuple[str, str]]:
    """(column in the store, header in the file) for ``table``, in file order."""
    return [
        (c.name, _RENAMED.get((table, c.name), c.name))
        for c in LOCAL.table(table).columns
        if c.name not in _SKIPPED
    ]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return str(value)


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    files: dict[str, tuple[Path, int]]  # table -> (file, rows)

    def summary(self) -> str:
        counts = ", ".join(f"{t} {n}" for t, (_p, n) in self.files.items())
        return f"exported {len(self.files)} CSV files to {self.folder} ({counts})"


def export_csv(store: LocalStore, out_dir: str | os.PathLike[str]) -> ExportResult:
    """Write one CSV per table into ``out_dir`` (created if missing; files replaced)."""
    folder = Path(out_dir).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ValidationError(f"{folder} is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, tuple[Path, int]] = {}
    with store.read() as conn:  # one snapshot for every file
        for table in EXPORT_TABLES:
            t = LOCAL.table(table)
            columns = export_columns(table)
            path = folder / f"{table}.csv"
            partial = folder / f".{table}.csv.partial"
            rows = 0
            try:
                with open(partial, "w", encoding="utf-8", newline="") as fh:
                    writer = csv.writer(fh)
                    writer.writerow([header for _name, header in columns])
                    stmt = select(*(t.c[name] for name, _h in columns)).order_by(t.c.id)
                    for row in conn.execute(stmt):
                        writer.writerow([_cell(v) for v in row])
                        rows += 1
                os.replace(partial, path)
            finally:
                partial.unlink(missing_ok=True)
            files[table] = (path, rows)
    return ExportResult(folder, files)
