"""The ER diagram in sql/README.md shows every table and foreign key of the model."""

from __future__ import annotations

import re

from sync.model.tables import CENTRAL
from sync.paths import sql_path


def _mermaid() -> str:
    text = sql_path("README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```mermaid\n(.*?)```", text, re.S)
    assert blocks, "sql/README.md has no mermaid block"
    return next(b for b in blocks if "erDiagram" in b)


def test_every_table_is_an_entity() -> None:
    entities = set(re.findall(r"^\s{4}(\w+) \{", _mermaid(), re.M))
    assert set(CENTRAL.metadata.tables) - entities == set()


def test_every_foreign_key_is_a_relationship() -> None:
    pairs = {
        frozenset((a, b)) for a, b in re.findall(r"^\s*(\w+) \S+--\S+ (\w+) :", _mermaid(), re.M)
    }
    missing = []
    for table in CENTRAL.metadata.tables.values():
        for fk in table.foreign_keys:
            pair = frozenset((table.name, fk.column.table.name))
            if pair not in pairs:
                missing.append(f"{table.name}.{fk.parent.name} -> {fk.column.table.name}")
    assert missing == []


def test_every_column_of_the_seed_tables_is_shown() -> None:
    diagram = _mermaid()
    for name in (
        "teachers",
        "students",
        "data_entries",
        "assessments",
        "teacher_corrections",
        "skill_targets",
        "badges",
    ):
        block = re.search(rf"^\s{{4}}{name} \{{(.*?)\}}", diagram, re.M | re.S)
        assert block, name
        shown = set(re.findall(r"^\s+\w+ (\w+)", block.group(1), re.M))
        columns = {
            c.name
            for c in CENTRAL.table(name).columns
            if not c.name.startswith("sync_") and c.name != "modified_at"
        }
        assert columns - shown == set(), name
