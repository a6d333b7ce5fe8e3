"""Generate a district-sized central dataset fast, with COPY.

Used by the query benchmark (``tests/bench/bench_queries.py``) and, at a smaller size, by
the test that checks seed 001's queries use their indexes. Rows are written with triggers
off (``session_replication_role = replica``) and their sync bookkeeping filled in directly,
as a bulk restore would; the database must be at the newest migration and empty.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg2

from sync.model.curriculum import load_curriculum
from sync.model.vocab import ENTRY_TYPES, LEVELS

WORDS = (
    "group project plan shared idea listened asked explained checked notes deadline "
    "calm frustrated proud tried again helped partner evidence because question model "
    "draft revised schedule finished started organised remembered changed strategy"
).split()


@dataclass(frozen=True)
class DistrictSize:
    teachers: int = 500
    students: int = 15_000
    entries: int = 150_000
    assessments: int = 1_000_000
    corrections: int = 100_000
    # Share of proposals below 0.8 confidence. The seed's partial index on
    # confidence_score < 0.8 presumes low confidence is the minority; a calibrated model
    # is mostly confident, so the default keeps it at one in five.
    low_confidence_share: float = 0.2


def _copy(
    cur: Any, table: str, columns: list[str], rows: Iterator[tuple[Any, ...]], chunk: int = 100_000
) -> int:
    total = 0
    while True:
        buf = io.StringIO()
        n = 0
        for row in rows:
            buf.write("\t".join("\\N" if v is None else str(v) for v in row))
            buf.write("\n")
            n += 1
            if n >= chunk:
                break
        if n == 0:
            return total
        buf.seek(0)
        cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buf)
        total += n
        if n < chunk:
            return total


SYNC_COLS = ["sync_hlc", "sync_origin", "sync_version", "sync_txid"]


def generate(
    dsn: str,
    size: DistrictSize,
    *,
    seed: int = 7,
    progress: Callable[[str], None] = lambda _m: None,
) -> None:
    rng = random.Random(seed)
    skills = [(s.name, s.category) for s in load_curriculum().skills]
    conn = psycopg2.connect(dsn)
    try:
        cur = conn.cursor()
        cur.execute("SET session_replication_role = replica")
        cur.execute("SELECT pg_current_xact_id()::text")
        txid = cur.fetchone()[0]
        version = iter(range(1, 10**9))
        hlc = 117_000_000_000_000_000

        def sync() -> tuple[Any, ...]:
            return (hlc, 0, next(version), txid)

        teacher_ids = [f"T{n:03d}" for n in range(1, size.teachers + 1)]
        _copy(
            cur,
            "teachers",
            ["id", "name", "email", *SYNC_COLS],
            (
                (t, f"Teacher {t}", f"{t.lower()}@district.example.edu", *sync())
                for t in teacher_ids
            ),
        )
        progress("teachers")
        student_teacher = {
            f"S{n:03d}": teacher_ids[(n - 1) % len(teacher_ids)]
            for n in range(1, size.students + 1)
        }
        _copy(
            cur,
            "students",
            ["id", "name", "grade", "teacher_id", *SYNC_COLS],
            (
                (s, f"Student {s}", 6 + i % 3, t, *sync())
                for i, (s, t) in enumerate(student_teacher.items())
            ),
        )
        progress("students")
        students = list(student_teacher)
        entry_student: list[str] = []

        def entries() -> Iterator[tuple[Any, ...]]:
            for n in range(1, size.entries + 1):
                s = students[(n - 1) % len(students)]
                entry_student.append(s)
                text = " ".join(rng.choice(WORDS) for _ in range(40))
                day = f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}"
                yield (
                    f"DE{n:03d}",
                    s,
                    student_teacher[s],
                    rng.choice(ENTRY_TYPES),
                    day,
                    text,
                    f'{{"source_file": "f{n}.txt"}}',
                    *sync(),
                )

        _copy(
            cur,
            "data_entries",
            ["id", "student_id", "teacher_id", "type", "date", "content", "metadata", *SYNC_COLS],
            entries(),
        )
        progress("data_entries")
        corrected = set(rng.sample(range(1, size.assessments + 1), size.corrections))

        def confidence() -> float:
            if rng.random() < size.low_confidence_share:
                return rng.uniform(0.40, 0.79)
            return rng.uniform(0.80, 0.99)

        def assessments() -> Iterator[tuple[Any, ...]]:
            for n in range(1, size.assessments + 1):
                e = rng.randrange(len(entry_student))
                skill, category = rng.choice(skills)
                when = (
                    f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d} "
                    f"{rng.randint(7, 17):02d}:{rng.randint(0, 59):02d}:00"
                )
                yield (
                    n,
                    f"DE{e + 1:03d}",
                    entry_student[e],
                    skill,
                    category,
                    rng.choice(LEVELS),
                    f"{confidence():.2f}",
                    "because of the evidence",
                    " ".join(rng.choice(WORDS) for _ in range(8)),
                    "t" if n in corrected else "f",
                    when,
                    when,
                    *sync(),
                )

        _copy(
            cur,
            "assessments",
            [
                "id",
                "data_entry_id",
                "student_id",
                "skill_name",
                "skill_category",
                "level",
                "confidence_score",
                "justification",
                "source_quote",
                "corrected",
                "created_at",
                "updated_at",
                *SYNC_COLS,
            ],
            assessments(),
        )
        progress("assessments")

        def corrections() -> Iterator[tuple[Any, ...]]:
            for n, a in enumerate(sorted(corrected), start=1):
                original, new = rng.choice(LEVELS), rng.choice(LEVELS)
                notes = "teacher saw more in class" if rng.random() < 0.5 else None
                when = f"2026-11-{rng.randint(1, 20):02d} {rng.randint(7, 17):02d}:00:00"
                yield (
                    n,
                    a,
                    original,
                    new,
                    "ai said so",
                    f"teacher says {new}",
                    notes,
                    teacher_ids[n % len(teacher_ids)],
                    when,
                    *sync(),
                )

        _copy(
            cur,
            "teacher_corrections",
            [
                "id",
                "assessment_id",
                "original_level",
                "corrected_level",
                "original_justification",
                "corrected_justification",
                "teacher_notes",
                "corrected_by",
                "corrected_at",
                *SYNC_COLS,
            ],
            corrections(),
        )
        progress("teacher_corrections")
        cur.execute("SELECT setval('sync_version_seq', %s)", (next(version),))
        conn.commit()
        conn.autocommit = True
        cur.execute("ANALYZE")
        progress("analyze")
    finally:
        conn.close()
