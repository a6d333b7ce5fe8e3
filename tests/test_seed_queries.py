"""Seed 001's five query patterns run unchanged, give the right answers, use their indexes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import psycopg2
import pytest
from sqlalchemy import Connection, text

from sync.server.admin import migrate
from sync.server.central import create_engine_for
from tests.support import seed_queries as Q
from tests.support.dataset import load_fixture
from tests.support.district import DistrictSize, generate
from tests.support.pgcluster import PgCluster


@pytest.fixture
def conn(pg_url: str) -> Iterator[Connection]:
    engine = create_engine_for(pg_url)
    with engine.connect() as c:
        load_fixture(c)
        yield c
    engine.dispose()


def run(conn: Connection, query: Q.SeedQuery) -> list[tuple[object, ...]]:
    return [tuple(r) for r in conn.exec_driver_sql(query.sql).all()]


def test_q1_skill_progression(conn: Connection) -> None:
    rows = run(conn, Q.Q1)
    assert [(r[0], r[1], r[2], float(r[3])) for r in rows] == [  # type: ignore[arg-type]
        ("Self-Awareness", "Proficient", dt.date(2026, 10, 1), 0.91),
        ("Self-Awareness", "Developing", dt.date(2026, 9, 1), 0.62),
    ]


def test_q2_low_confidence_queue(conn: Connection) -> None:
    rows = run(conn, Q.Q2)
    assert [(r[0], r[2], float(r[5])) for r in rows] == [  # type: ignore[arg-type]
        (6, "Eva", 0.55),
        (5, "Pat", 0.70),
    ]


def test_q3_skill_trends(conn: Connection) -> None:
    rows = run(conn, Q.Q3)
    assert [(r[0], r[1].date(), r[2], r[3], r[4]) for r in rows] == [  # type: ignore[union-attr]
        ("Collaboration", dt.date(2026, 9, 28), 1, "Emerging", 1),
        ("Self-Awareness", dt.date(2026, 8, 31), 2, "Developing", 1),
        ("Self-Awareness", dt.date(2026, 9, 28), 3, "Proficient", 1),
        ("Self-Management", dt.date(2026, 8, 31), 3, "Proficient", 1),
    ]


def test_q4_few_shot_corrections(conn: Connection) -> None:
    rows = run(conn, Q.Q4)
    assert len(rows) == 1
    skill, category, level, justification, quote, notes, content = rows[0]
    assert (skill, category, level, notes) == (
        "Collaboration",
        "21st_Century",
        "Developing",
        "Eva led once prompted",
    )
    assert justification == "She organised the group."
    assert quote in str(content)


def test_q5_badge_query(conn: Connection) -> None:
    rows = run(conn, Q.Q5)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("Self-Awareness", "Proficient", dt.datetime(2026, 10, 1, 10, 0)),
        ("Self-Management", "Proficient", dt.datetime(2026, 9, 1, 10, 5)),
    ]


def _plan_values(plan: object, key: str) -> set[str]:
    """Every value of ``key`` in an EXPLAIN (FORMAT JSON) plan tree."""
    found: set[str] = set()
    if isinstance(plan, dict):
        if key in plan:
            found.add(str(plan[key]))
        for value in plan.values():
            found |= _plan_values(value, key)
    elif isinstance(plan, list):
        for item in plan:
            found |= _plan_values(item, key)
    return found


def _indexes_in(plan: object) -> set[str]:
    return _plan_values(plan, "Index Name")


def _explain(dsn: str, query: str) -> object:
    conn = psycopg2.connect(dsn)
    try:
        cur = conn.cursor()
        cur.execute("EXPLAIN (FORMAT JSON) " + query)
        return cur.fetchone()[0]
    finally:
        conn.close()


@pytest.fixture(scope="module")
def district_dsn(pg: PgCluster) -> Iterator[str]:
    name = "district_explain"
    url = pg.create_database(name)
    migrate(url, "head")
    dsn = pg.dsn(name)
    generate(
        dsn,
        DistrictSize(
            teachers=100, students=3000, entries=20_000, assessments=150_000, corrections=15_000
        ),
    )
    yield dsn
    pg.drop_database(name)


@pytest.mark.parametrize("query", Q.ALL, ids=[f"q{q.number}" for q in Q.ALL])
def test_each_query_uses_its_index_on_a_large_dataset(
    district_dsn: str, query: Q.SeedQuery
) -> None:
    plan = _explain(district_dsn, query.sql)
    used = _indexes_in(plan)
    assert query.index in used, f"query {query.number} used {used or 'no index'}:\n" + json.dumps(
        plan, indent=1
    )


def test_the_review_queue_reads_its_order_from_the_index(district_dsn: str) -> None:
    """Query 2's rows (NOT EXISTS form) stop after LIMIT 20 index entries: no sort at all,
    which needs both ORDER BY keys in idx_assessments_confidence (migration 0004)."""
    plan = _explain(district_dsn, Q.REVIEW_QUEUE)
    assert "idx_assessments_confidence" in _indexes_in(plan)
    sorts = {"Sort", "Incremental Sort"} & _plan_values(plan, "Node Type")
    assert not sorts, json.dumps(plan, indent=1)


def test_seed_queries_are_verbatim() -> None:
    # Guard against "fixing" a query to make a test pass: they are seed 001's text.
    assert "WHERE tc.id IS NULL  -- Not yet corrected" in Q.Q2.sql
    assert "MODE() WITHIN GROUP (ORDER BY level_numeric)" in Q.Q3.sql
    assert all(text(q.sql) is not None for q in Q.ALL)
