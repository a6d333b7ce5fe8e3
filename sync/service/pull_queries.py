"""The server half of the pull: each step's page query and the rows fetched outside pages.

The service runs these in a request's transaction, switched to the teacher
(:mod:`sync.service.sync_api`), so row level security decides what a page holds; the
laptop's half (:mod:`sync.replication.client.pull`) asks for them step by step and writes
them into SQLite.

**The cursor.** Every server write records its transaction id (``sync_txid``, ``xid8``).
A pull's window ends at ``hi = pg_snapshot_xmin(pg_current_snapshot())`` taken when it
starts: every transaction below ``hi`` has finished, so rows with ``lo <= sync_txid < hi``
are final. Rows of transactions still running (or that committed out of order) have ids
``>= hi`` and wait for the next pull — nothing is skipped, which a plain "version > last
seen" cursor cannot promise (tests/test_sync_faults.py shows the difference).

**Pages** are keyset pages on ``(sync_txid, sync_version)`` within the window. Each page is
its own server transaction: a row changed meanwhile moves to a later transaction id (at
or above ``hi``) and arrives with the next pull.
"""

from __future__ import annotations

from typing import Any

from psycopg2 import sql

from sync.replication.wire import PULL_STEPS, exchanged_columns, select_list

__all__ = ["FETCH_WHERE", "fetch_rows", "page_rows", "pages", "step_query", "window_hi"]


def step_query(step: str) -> str:
    """The page query of one step, with ``lo <= sync_txid < hi``, keyset after
    ``(txid, version)`` and a limit (five ``%s`` parameters, in that order).

    The text form of sync_txid is named ``txid``: an output column called ``sync_txid``
    would be what ORDER BY sorts by, as text ("10000000" < "9999999"), and the keyset
    would then skip rows whenever a page crosses a power of ten.
    """
    if step not in PULL_STEPS:
        raise ValueError(f"not a pull step: {step!r}")
    window = (
        "sync_txid >= %s::xid8 AND sync_txid < %s::xid8 "
        "AND (sync_txid, sync_version) > (%s::xid8, %s::bigint) "
        "ORDER BY sync_txid, sync_version LIMIT %s::integer"
    )
    if step == "tombstones":
        return (
            "SELECT table_name, row_pk, sync_hlc, sync_txid::text AS txid, sync_version "
            f"FROM sync_tombstones WHERE {window}"
        )
    if step == "visibility":
        return (
            "SELECT kind, student_id, 0, sync_txid::text AS txid, sync_version "
            f"FROM sync_visibility WHERE {window}"
        )
    return f'SELECT {select_list(step)}, sync_txid::text AS txid FROM "{step}" WHERE {window}'


def window_hi(cur: Any) -> str:
    """The upper bound of a new pull window (see the module docstring)."""
    cur.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
    return str(cur.fetchone()[0])


def page_rows(
    cur: Any, step: str, lo: str, hi: str, after: tuple[str, int], limit: int
) -> list[tuple[Any, ...]]:
    """One page of ``step`` in the window ``lo <= sync_txid < hi``, after ``after``."""
    cur.execute(step_query(step), (lo, hi, after[0], after[1], limit))
    return list(cur.fetchall())


def pages(
    cur: Any, lo: str, hi: str, step: str, after: tuple[str, int], budget: int
) -> tuple[list[tuple[str, list[tuple[Any, ...]]]], tuple[str, tuple[str, int]] | None]:
    """Pages of every step from ``step`` after ``after`` on, in step order, up to ``budget``
    rows in all: the pages that have rows, and where the next call starts (None: the
    window is done). The same keyset pages as :func:`page_rows`, asked for in one request:
    a step's page that fills what is left of the budget ends the answer there, exactly
    where a full page of its own would have ended."""
    index = PULL_STEPS.index(step)
    found: list[tuple[str, list[tuple[Any, ...]]]] = []
    while index < len(PULL_STEPS):
        step = PULL_STEPS[index]
        rows = page_rows(cur, step, lo, hi, after, budget)
        if rows:
            found.append((step, rows))
        if len(rows) == budget:
            last = rows[-1]
            txid = last[-2] if step in ("tombstones", "visibility") else last[-1]
            return found, (step, (str(txid), _version_of(step, last)))
        budget -= len(rows)
        index, after = index + 1, ("0", 0)
    return found, None


def _version_of(step: str, row: tuple[Any, ...]) -> int:
    if step in ("tombstones", "visibility"):
        return int(row[-1])
    return int(row[exchanged_columns(step).index("sync_version")])


#: The rows a pull may fetch outside its pages: a missing parent by id, a student's slice.
FETCH_WHERE = {
    "id": "id = %s",
    "student_id": "student_id = %s",
    "student_corrections": "assessment_id IN (SELECT id FROM assessments WHERE student_id = %s)",
}


def fetch_rows(cur: Any, table: str, by: str, value: str) -> list[tuple[Any, ...]]:
    cur.execute(
        sql.SQL("SELECT {cols} FROM {t} WHERE " + FETCH_WHERE[by]).format(
            cols=sql.SQL(select_list(table)), t=sql.Identifier(table)
        ),
        (value,),
    )
    return list(cur.fetchall())
