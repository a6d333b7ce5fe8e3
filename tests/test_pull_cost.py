"""A pull's page queries read the teacher's own rows, not the district's (migration 0009).

Run exactly as the service runs them: one transaction switched to the teacher
(``SET LOCAL ROLE flourish_teacher`` and ``flourish.teacher_id``), in a seeded district
where other teachers' corrections fill the pull's window.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest

from sync.server.admin import migrate
from sync.service.pull_queries import step_query
from tests.support.district import DistrictSize, generate
from tests.support.pgcluster import PgCluster

TEACHERS, STUDENTS, PER_STUDENT = 100, 3000, 10


@pytest.fixture(scope="module")
def district(pg: PgCluster) -> Iterator[tuple[str, str]]:
    """The district's DSN and the window's lower bound before 300 corrections by every
    teacher (one transaction each, as pushes are)."""
    url = pg.create_database("district_pull_cost")
    migrate(url, "head")
    dsn = pg.dsn("district_pull_cost")
    size = DistrictSize(
        teachers=TEACHERS,
        students=STUDENTS,
        entries=STUDENTS * 2,
        assessments=STUDENTS * PER_STUDENT,
        corrections=0,
    )
    generate(dsn, size)
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        cur = conn.cursor()
        cur.execute("ANALYZE")
        cur.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
        lo = cur.fetchone()[0]
        cur.execute(
            "SELECT a.id, s.teacher_id FROM assessments a JOIN students s ON s.id = a.student_id"
            " ORDER BY a.id % 97, a.id LIMIT 300"
        )
        for n, (assessment, teacher) in enumerate(cur.fetchall()):
            cur.execute(
                "INSERT INTO teacher_corrections (id, assessment_id, original_level, "
                "corrected_level, corrected_by, corrected_at, sync_hlc, sync_origin, "
                "sync_version) VALUES (%s, %s, 'Developing', 'Proficient', %s, now(), %s, 0, 0)",
                (10**12 + n, assessment, teacher, 118_000_000_000_000_000 + n),
            )
        cur.execute("ANALYZE teacher_corrections")
    finally:
        conn.close()
    yield dsn, lo


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _rows_read(dsn: str, step: str, lo: str, teacher: str) -> tuple[dict[str, int], int]:
    """Rows each table's scans read (kept + filtered out) for one page, and rows returned."""
    conn = psycopg2.connect(dsn)
    try:
        cur = conn.cursor()
        cur.execute("SET LOCAL ROLE flourish_teacher")
        cur.execute("SELECT set_config('flourish.teacher_id', %s, true)", (teacher,))
        cur.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
        hi = cur.fetchone()[0]
        cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + step_query(step), (lo, hi, "0", 0, 5000))
        plan = cur.fetchone()[0][0]["Plan"]
        conn.rollback()
    finally:
        conn.close()
    read: dict[str, int] = {}
    for node in _nodes(plan):
        table = node.get("Relation Name")
        if table:
            rows = (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node[
                "Actual Loops"
            ]
            read[table] = read.get(table, 0) + rows
    return read, plan["Actual Rows"]


def test_a_corrections_page_reads_only_the_teachers_assessments(
    district: tuple[str, str],
) -> None:
    dsn, lo = district
    read, returned = _rows_read(dsn, "teacher_corrections", lo, "T001")
    own = STUDENTS // TEACHERS * PER_STUDENT
    assert returned >= 1, read  # T001's own corrections are in the window
    # The teacher's assessments once (a hashed set), not the district's 30,000.
    assert read.get("assessments", 0) <= own, json.dumps(read)
    # The window itself holds 300 corrections of every teacher: read at most once.
    assert read.get("teacher_corrections", 0) <= 300, json.dumps(read)
