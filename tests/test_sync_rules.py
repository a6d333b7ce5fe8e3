"""One source for each per-table sync rule (:mod:`sync.model.rules`), checked against the
real stores: capture, wire, push and pull must agree with it and with the databases."""

from __future__ import annotations

import psycopg2
import pytest

from sync import actions
from sync.model import rules
from sync.model.records import Assessment
from sync.model.tables import SYNCED_TABLES
from sync.replication import push_rows
from sync.replication.wire import exchanged_columns, settable_columns
from sync.store.local import LocalStore


def _queued(store: LocalStore) -> list[tuple[str, str, str | None]]:
    with store.read() as conn:
        return [
            (r[0], r[1], r[2])
            for r in conn.exec_driver_sql(
                "SELECT table_name, row_pk, student_id FROM sync_operations ORDER BY op_id"
            )
        ]


def test_derived_and_touched_columns_are_treated_alike_by_capture_and_wire(
    demo_store: LocalStore,
) -> None:
    """``assessments.corrected`` is derived (never sent), ``updated_at`` is touched by the
    same triggers (sent with the row, but changing it alone is no change): capture, wire and
    push's same-content check all follow the one rule (capture once ignored ``updated_at``
    while the wire format did not know the rule existed)."""
    for table in SYNCED_TABLES:
        settable = set(settable_columns(table))
        assert not settable & rules.derived_columns(table), table
        assert not set(exchanged_columns(table)) & rules.hidden_columns(table), table
        assert rules.derived_columns(table) <= rules.untracked_columns(table)
    assert "updated_at" in settable_columns("assessments")
    with demo_store.write() as txn:
        txn.conn.exec_driver_sql(
            "UPDATE assessments SET updated_at = '2030-01-01 00:00:00' WHERE id = 1"
        )
    assert _queued(demo_store) == []  # a touched column alone is not a change
    with demo_store.write() as txn:
        txn.update(Assessment, 1, confidence_score=0.51)
    assert [(t, pk) for t, pk, _ in _queued(demo_store)] == [("assessments", "1")]
    row = {"confidence_score": 0.51, "corrected": True, "updated_at": "x", "level": "Emerging"}
    other = {**row, "corrected": False, "updated_at": "y"}
    assert push_rows.same_content("assessments", row, other)
    assert not push_rows.same_content("assessments", row, {**other, "level": "Advanced"})


def test_the_owning_student_is_the_same_in_capture_and_push(demo_store: LocalStore) -> None:
    result = actions.accept(demo_store, assessment_id=3, teacher_id="T001")
    with demo_store.read() as conn:
        student = conn.exec_driver_sql("SELECT student_id FROM assessments WHERE id = 3").scalar()
    [(table, pk, captured)] = _queued(demo_store)
    assert (table, pk, captured) == ("teacher_corrections", str(result.value.id), student)
    assert rules.owner_path("teacher_corrections") == rules.OwnerPath(
        "teacher_corrections", via="assessment_id", parent="assessments"
    )
    assert rules.owner_path("teachers") is None
    assert rules.owner_path("students") == rules.OwnerPath("students", column="id")


def test_rules_match_the_central_database(pg_url: str) -> None:
    """Natural keys, parents and the synced tables (whose list is also written out in
    sql/objects/triggers/sync_triggers.sql) are what PostgreSQL itself enforces."""
    with psycopg2.connect(pg_url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT DISTINCT event_object_table FROM information_schema.triggers "
            "WHERE trigger_name = 'sync_stamp'"
        )
        assert {r[0] for r in cur.fetchall()} == set(SYNCED_TABLES)
        cur.execute(
            """
            SELECT ic.relname::text, i.indisunique,
                   array(SELECT a.attname::text FROM unnest(i.indkey) k
                         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k),
                   pg_get_expr(i.indpred, t.oid), t.relname::text
            FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_class ic ON ic.oid = i.indexrelid
            WHERE i.indisunique AND NOT i.indisprimary AND t.relname = ANY(%s)
            """,
            (list(SYNCED_TABLES),),
        )
        unique = {(table, tuple(cols), pred) for _name, _u, cols, pred, table in cur.fetchall()}
        cur.execute(
            """
            SELECT cl.relname::text, a.attname::text, ref.relname::text
            FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid
            JOIN pg_class ref ON ref.oid = c.confrelid
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'f' AND cl.relname = ANY(%s) AND ref.relname = ANY(%s)
            """,
            (list(SYNCED_TABLES), list(SYNCED_TABLES)),
        )
        foreign = {(t, col, ref) for t, col, ref in cur.fetchall() if t != ref}
    for key in rules.NATURAL_KEYS.values():
        pred = key.condition(central=True)
        expected = None if pred is None else f"({pred.replace('FALSE', 'false')})"
        assert (key.table, key.columns, expected) in unique, key
    travelling = {(t, cols, p) for t, cols, p in unique if not set(cols) & rules.hidden_columns(t)}
    assert travelling == {
        (
            k.table,
            k.columns,
            None
            if k.condition(central=True) is None
            else f"({k.condition(central=True).replace('FALSE', 'false')})",
        )  # type: ignore[union-attr]
        for k in rules.NATURAL_KEYS.values()
    }
    assert foreign == {(t, col, parent) for t, ps in rules.PARENTS.items() for col, parent in ps}


@pytest.mark.parametrize(
    ("row", "holds"),
    [
        ({"student_id": "S001", "skill_name": "Creativity", "completed": False}, True),
        ({"student_id": "S001", "skill_name": "Creativity", "completed": 0}, True),
        ({"student_id": "S001", "skill_name": "Creativity", "completed": True}, False),
        ({"student_id": None, "skill_name": "Creativity", "completed": False}, False),
    ],
)
def test_only_active_targets_hold_the_natural_key(row: dict[str, object], holds: bool) -> None:
    assert (rules.NATURAL_KEYS["skill_targets"].key(row) is not None) is holds
