"""CSV export: one file per table, seed column names in a stable order, a roster round trip."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from sync import actions
from sync.errors import ValidationError
from sync.io.export import EXPORT_TABLES, export_columns, export_csv
from sync.io.roster import import_roster
from sync.model.records import Teacher
from sync.model.tables import LOCAL
from sync.store.local import LocalStore
from tests.test_cli import flourish

HEADERS = {
    "teachers": "id,name,email,created_at,external_source,external_id",
    "students": "student_id,name,grade,teacher_id,created_at,external_source,external_id",
    "data_entries": "id,student_id,teacher_id,type,date,content,metadata,created_at",
    "assessments": "id,data_entry_id,student_id,skill_name,skill_category,level,"
    "confidence_score,justification,source_quote,data_point_count,rubric_version,corrected,"
    "created_at,updated_at,provenance",
    "teacher_corrections": "id,assessment_id,original_level,corrected_level,"
    "original_justification,corrected_justification,teacher_notes,corrected_by,corrected_at,"
    "use_as_example",
    "skill_targets": "id,student_id,skill_name,starting_level,target_level,assigned_by,"
    "assigned_at,completed,completed_at",
    "badges": "id,student_id,skill_name,skill_category,level_achieved,badge_type,granted_by,"
    "earned_date,created_at",
}


def read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_one_file_per_table_with_the_seed_columns_in_order(
    demo_store: LocalStore, tmp_path: Path
) -> None:
    actions.correct(demo_store, assessment_id=1, teacher_id="T001", level="Advanced")
    actions.assign_target(
        demo_store,
        student_id="S001",
        skill_name="Time Management",
        target_level="Advanced",
        teacher_id="T001",
    )
    actions.grant_badge(
        demo_store,
        student_id="S002",
        skill_name="Creativity",
        badge_type="bronze",
        teacher_id="T001",
    )
    result = export_csv(demo_store, tmp_path / "out")
    assert list(result.files) == list(EXPORT_TABLES)
    assert {t: n for t, (_p, n) in result.files.items()} == {
        "teachers": 2,
        "students": 4,
        "data_entries": 32,
        "assessments": 125,
        "teacher_corrections": 1,
        "skill_targets": 1,
        "badges": 1,
    }
    for table, expected in HEADERS.items():
        raw = (tmp_path / "out" / f"{table}.csv").read_bytes()
        assert raw.decode("utf-8").split("\r\n", 1)[0] == expected
        assert not raw.startswith(b"\xef\xbb\xbf")  # UTF-8 without a BOM
        assert "sync_" not in expected
        columns = [c.name for c in LOCAL.table(table).columns if not c.name.startswith("sync_")]
        assert [name for name, _h in export_columns(table)] == columns
    assessments = read(tmp_path / "out" / "assessments.csv")
    assert [a["id"] for a in assessments] == [str(n) for n in range(1, 126)]  # by key
    first = assessments[0]
    assert first["corrected"] == "true" and assessments[1]["corrected"] == "false"
    assert json.loads(first["provenance"]) == {"model": "demo", "prompt_version": "demo"}
    entry = read(tmp_path / "out" / "data_entries.csv")[0]
    assert json.loads(entry["metadata"])["source_file"] == "entries/DE001.txt"
    assert "\n" in entry["content"]  # multi-line text survives quoting
    correction = read(tmp_path / "out" / "teacher_corrections.csv")[0]
    assert (correction["corrected_level"], correction["use_as_example"]) == ("Advanced", "true")
    target = read(tmp_path / "out" / "skill_targets.csv")[0]
    assert (target["completed"], target["completed_at"]) == ("false", "")


def test_students_csv_round_trips_through_the_roster_import(
    demo_store: LocalStore, store: LocalStore, tmp_path: Path
) -> None:
    import_roster(demo_store, [Path(__file__).parent / "fixtures/roster/good_cp1252.csv"])
    export_csv(demo_store, tmp_path / "out")
    again = import_roster(demo_store, [tmp_path / "out" / "students.csv"])
    assert (again.preview.added, again.preview.updated, again.preview.unchanged) == (0, 0, 7)
    with store.write() as txn:  # a fresh store that knows the teachers (from teachers.csv)
        for t in read(tmp_path / "out" / "teachers.csv"):
            txn.insert(Teacher(id=t["id"], name=t["name"], email=t["email"] or None))
    fresh = import_roster(store, [tmp_path / "out" / "students.csv"])
    assert fresh.preview.added == 7

    def roster(s: LocalStore) -> list[tuple[object, ...]]:
        with s.read() as conn:
            return [
                tuple(r)
                for r in conn.exec_driver_sql(
                    "SELECT id, name, grade, teacher_id FROM students ORDER BY id"
                )
            ]

    assert roster(store) == roster(demo_store)
    assert ("S302", "Zoë O’Brien", 8, "T001") in roster(store)


def test_export_refuses_a_file_as_the_folder(demo_store: LocalStore, tmp_path: Path) -> None:
    target = tmp_path / "a-file"
    target.write_text("x")
    with pytest.raises(ValidationError, match="is a file, not a folder"):
        export_csv(demo_store, target)


def test_cli_export(demo_store: LocalStore, tmp_path: Path) -> None:
    data_dir = demo_store.path.parent
    demo_store.close()
    result = flourish("export", "--out", str(tmp_path / "csv"), data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert "exported 7 CSV files" in result.stdout and "assessments 125" in result.stdout
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == sorted(
        f"{t}.csv" for t in EXPORT_TABLES
    )
