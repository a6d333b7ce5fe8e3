"""Roster import: a corpus of good and bad files, exact problem lists, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import sync.io.roster as roster_module
from sync.io.roster import (
    RosterProblem,
    RosterProblems,
    decode_text,
    import_roster,
    preview_roster,
)
from sync.store.local import LocalStore
from tests.test_cli import flourish

CORPUS = Path(__file__).parent / "fixtures" / "roster"
KNOWN = "is not known to this store (known: T001, T002)"


def students(store: LocalStore) -> dict[str, tuple[str, int, str | None]]:
    with store.read() as conn:
        rows = conn.exec_driver_sql("SELECT id, name, grade, teacher_id FROM students").all()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def queued(store: LocalStore) -> dict[str, dict[str, Any]]:
    """Pending student operations: row id -> payload."""
    with store.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT row_pk, op, payload, status FROM sync_operations WHERE table_name = 'students'"
        ).all()
    assert all(op == "upsert" and status == "pending" for _pk, op, _p, status in rows)
    return {pk: json.loads(payload) for pk, _op, payload, _s in rows}


def snapshot(store: LocalStore) -> tuple[object, ...]:
    rows = students(store)
    with store.read() as conn:
        return (
            rows,
            tuple(conn.exec_driver_sql("SELECT COUNT(*), MAX(op_id) FROM sync_operations").one()),
            conn.exec_driver_sql("SELECT value FROM sync_state WHERE key = 'hlc'").scalar(),
        )


GOOD = {
    "good_utf8.csv": (
        "UTF-8",
        {
            "S101": ("Amara Okafor", 6, "T001"),
            "S102": ("Ben Carter", 7, "T001"),
            "S103": ("Chloé Dubois", 8, "T002"),
        },
    ),
    "good_bom_crlf.csv": (
        "UTF-8 with BOM",
        {"S201": ("Dmitri Ivanov", 6, "T001"), "S202": ("Élodie Martin", 7, "T002")},
    ),
    "good_cp1252.csv": (
        "Windows-1252",
        {
            "S301": ("José Núñez", 7, "T001"),
            "S302": ("Zoë O’Brien", 8, "T001"),
            "S303": ("François Müller", 6, "T002"),
        },
    ),
    "good_quoted_commas.csv": (
        "UTF-8",
        {
            "S401": ("Smith, Ann", 7, "T001"),
            "S402": ('Lee, Jordan "JJ"', 6, "T002"),
            "S403": ("Park, Min-jun", 8, "T001"),
        },
    ),
    "good_reordered_extra.csv": (
        "UTF-8",
        {"S501": ("Ines Costa", 7, "T002"), "S502": ("Kai Müller", 8, "T001")},
    ),
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_good_file_previews_then_imports_every_row(demo_store: LocalStore, name: str) -> None:
    encoding, expected = GOOD[name]
    before = snapshot(demo_store)
    preview = preview_roster(demo_store, [CORPUS / name])
    assert snapshot(demo_store) == before  # a preview writes nothing
    assert preview.format == "Roster CSV" and preview.encodings == {name: encoding}
    assert [c.kind for c in preview.changes] == ["add"] * len(expected)
    result = import_roster(demo_store, [CORPUS / name])
    assert (result.preview.added, result.preview.updated) == (len(expected), 0)
    now = students(demo_store)
    assert {k: now[k] for k in expected} == expected
    ops = queued(demo_store)  # every new student waits in the sync queue
    assert set(ops) == set(expected)
    for sid, (sname, grade, teacher) in expected.items():
        assert (ops[sid]["name"], ops[sid]["grade"], ops[sid]["teacher_id"]) == (
            sname,
            grade,
            teacher,
        )
        assert ops[sid]["sync_hlc"] > 0
    assert sorted(c.pk for c in result.changes) == sorted(expected)


def test_existing_students_are_updated_and_counted(demo_store: LocalStore) -> None:
    result = import_roster(demo_store, [CORPUS / "good_updates.csv"])
    p = result.preview
    assert (p.added, p.updated, p.unchanged) == (1, 1, 1)
    assert "1 added, 1 updated, 1 unchanged" in result.summary()
    update = next(c for c in p.changes if c.kind == "update")
    assert update.changed_fields == ("name", "grade")
    now = students(demo_store)
    assert now["S001"] == ("Eva Rossi", 8, "T001")
    assert now["S002"] == ("Lucas", 7, "T001")  # unchanged, not rewritten
    assert set(queued(demo_store)) == {"S001", "S101"}
    again = import_roster(demo_store, [CORPUS / "good_updates.csv"])
    assert (again.preview.added, again.preview.updated, again.preview.unchanged) == (0, 0, 3)


BAD: dict[str, list[str]] = {
    "bad_missing_columns.csv": [
        "line 1: missing columns grade, teacher_id "
        "(the header needs student_id,name,grade,teacher_id)"
    ],
    "bad_duplicate_ids.csv": [
        "line 4: student id S701 appears twice (first on line 2)",
        "line 5: student id S702 appears twice (first on line 3)",
    ],
    "bad_unknown_teacher.csv": [
        f"line 3: teacher 'T009' {KNOWN}",
        "line 4: teacher id is empty",
    ],
    "bad_grades.csv": [
        "line 2: grade '5' must be 6, 7 or 8",
        "line 3: grade '9' must be 6, 7 or 8",
        "line 4: grade 'seven' must be 6, 7 or 8",
        "line 5: grade is empty",
        "line 6: grade '7.5' must be 6, 7 or 8",
    ],
    "bad_ids.csv": [  # ids not of Flourish's shape are the school's own ids (external)
        "line 6: student id is empty",
        "line 7: name is empty",
    ],
    "bad_unquoted_comma.csv": [
        "line 2: 5 fields, but the header has 4 (a comma inside a value needs quotes)"
    ],
    "bad_mixed.csv": [  # BOM + CRLF, several problems on one line
        "line 4: grade '10' must be 6, 7 or 8",
        f"line 4: teacher 'T003' {KNOWN}",
        "line 5: student id S121 appears twice (first on line 2)",
    ],
    "bad_binary.csv": ["binary file (it contains NUL bytes), not text"],
    "bad_empty.csv": ["the file is empty"],
    "bad_header_only.csv": ["no students in the file"],
}


def _where(problem: RosterProblem) -> str:
    return problem.message if problem.line is None else f"line {problem.line}: {problem.message}"


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_lists_every_problem_and_imports_nothing(
    demo_store: LocalStore, name: str
) -> None:
    before = snapshot(demo_store)
    for attempt in (preview_roster, import_roster):
        with pytest.raises(RosterProblems) as caught:
            attempt(demo_store, [CORPUS / name])
        assert [_where(p) for p in caught.value.problems] == BAD[name]
        assert all(p.file == name for p in caught.value.problems)
        message = str(caught.value)
        assert message.splitlines()[0].endswith("nothing was imported")
        assert len(message.splitlines()) == 1 + len(BAD[name])
    assert snapshot(demo_store) == before


def test_duplicates_across_files_given_together(demo_store: LocalStore) -> None:
    with pytest.raises(RosterProblems) as caught:
        import_roster(demo_store, [CORPUS / "good_utf8.csv", CORPUS / "good_updates.csv"])
    assert [str(p) for p in caught.value.problems] == [
        "good_updates.csv, line 4: student id S101 appears twice (first on line 2 of good_utf8.csv)"
    ]


def test_missing_file_is_a_problem(demo_store: LocalStore, tmp_path: Path) -> None:
    with pytest.raises(RosterProblems, match="no such file"):
        preview_roster(demo_store, [tmp_path / "nope.csv"])


def test_a_signed_in_laptop_imports_only_its_own_students(demo_store: LocalStore) -> None:
    demo_store.set_state({"server_url": "postgresql://db.example/flourish"})
    with pytest.raises(RosterProblems) as caught:
        preview_roster(demo_store, [CORPUS / "good_utf8.csv"])
    assert [str(p) for p in caught.value.problems] == [
        "good_utf8.csv, line 4: teacher T002 is not the teacher signed in on this laptop "
        "(T001); the server accepts only your own students"
    ]
    preview = preview_roster(demo_store, [CORPUS / "oneroster"])
    assert [c.row.student_id for c in preview.changes] == ["S601", "S602"]
    assert "Homeroom 8B (a class of T002, not of the signed-in teacher (T001))" in preview.notes[0]


def test_oneroster_folder_and_files_given_together(demo_store: LocalStore) -> None:
    folder = CORPUS / "oneroster"
    files = [folder / "enrollments.csv", folder / "users.csv", folder / "classes.csv"]
    for paths in ([folder], files):
        preview = preview_roster(demo_store, paths)
        assert preview.format == "OneRoster 1.1"
        assert [(c.kind, c.row.student_id, c.row.name, c.row.grade, c.row.teacher_id)
                for c in preview.changes] == [
            ("add", "S601", "Nora Kim", 7, "T001"),
            ("add", "S602", "Omar Haddad, Jr.", 7, "T001"),
            ("add", "S603", "Priya Shah", 8, "T002"),
        ]  # fmt: skip
        assert preview.notes == (
            "skipped 1 class(es): PE 6-8 (teacher Pat Coach (T009) is not known to this store)",
            "skipped 1 disabled user(s)",
            "skipped 1 student(s) not enrolled in an imported class",
        )
        assert preview.encodings["users.csv"] == "UTF-8 with BOM"
    result = import_roster(demo_store, [folder])
    assert result.preview.added == 3
    assert students(demo_store)["S602"] == ("Omar Haddad, Jr.", 7, "T001")
    assert set(queued(demo_store)) == {"S601", "S602", "S603"}


def test_oneroster_problems_are_listed_with_file_and_line(demo_store: LocalStore) -> None:
    before = snapshot(demo_store)
    with pytest.raises(RosterProblems) as caught:
        import_roster(demo_store, [CORPUS / "oneroster_bad"])
    assert [str(p) for p in caught.value.problems] == [
        "users.csv, line 5: student S601 is in classes of several teachers (T001, T002); "
        "Flourish gives each student one teacher",
        "enrollments.csv, line 13: class 'c-9z' is not in classes.csv",
    ]
    assert snapshot(demo_store) == before


def test_oneroster_needs_all_three_files(demo_store: LocalStore) -> None:
    with pytest.raises(RosterProblems) as caught:
        preview_roster(demo_store, [CORPUS / "oneroster" / "users.csv"])
    assert [str(p) for p in caught.value.problems] == [
        "enrollments.csv: missing: a OneRoster roster needs users.csv, enrollments.csv, "
        "classes.csv together (not found: enrollments.csv, classes.csv)"
    ]


def test_decoding_rules() -> None:
    assert decode_text("Zoë".encode()) == ("Zoë", "UTF-8")
    assert decode_text(b"\xef\xbb\xbfZo\xc3\xab") == ("Zoë", "UTF-8 with BOM")
    assert decode_text(b"Zo\xeb \x93q\x94") == ("Zoë “q”", "Windows-1252")
    assert decode_text("Zoë".encode("utf-16")) == ("Zoë", "UTF-16")
    with pytest.raises(ValueError, match="NUL"):
        decode_text(b"a\x00b")
    with pytest.raises(ValueError, match="neither UTF-8 nor Windows-1252"):
        decode_text(b"caf\x81")  # 0x81 is undefined in Windows-1252


def _big_roster(path: Path, n: int, *, bad_last: bool = False) -> Path:
    lines = ["student_id,name,grade,teacher_id"]
    lines += [f'S{i:05d},"Student {i}, Jr.",{6 + i % 3},T00{1 + i % 2}' for i in range(1, n + 1)]
    if bad_last:
        lines[-1] = f"S{n:05d},Last One,9,T001"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_ten_thousand_rows_import_all_or_nothing(demo_store: LocalStore, tmp_path: Path) -> None:
    bad = _big_roster(tmp_path / "bad.csv", 10_000, bad_last=True)
    before = snapshot(demo_store)
    with pytest.raises(RosterProblems) as caught:
        import_roster(demo_store, [bad])
    assert [str(p) for p in caught.value.problems] == [
        "bad.csv, line 10001: grade '9' must be 6, 7 or 8"
    ]
    assert snapshot(demo_store) == before
    good = _big_roster(tmp_path / "big.csv", 10_000)
    result = import_roster(demo_store, [good])
    assert result.preview.added == 10_000
    assert len(students(demo_store)) == 10_004
    assert len(queued(demo_store)) == 10_000


def test_a_failure_while_writing_leaves_nothing_behind(
    demo_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = roster_module._write

    def write_then_fail(txn: Any, preview: Any) -> None:
        real(txn, preview)
        raise OSError("disk full")

    monkeypatch.setattr(roster_module, "_write", write_then_fail)
    before = snapshot(demo_store)
    with pytest.raises(OSError, match="disk full"):
        import_roster(demo_store, [CORPUS / "good_utf8.csv"])
    assert snapshot(demo_store) == before


def test_cli_dry_run_then_import_then_a_bad_file(demo_store: LocalStore) -> None:
    data_dir = demo_store.path.parent
    demo_store.close()
    dry = flourish("import", "roster", str(CORPUS / "good_updates.csv"), "--dry-run",
                   data_dir=data_dir)  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert "1 to add, 1 to update, 1 unchanged" in dry.stdout
    assert "update  S001  name Eva -> Eva Rossi, grade 7 -> 8" in dry.stdout
    assert "dry run: nothing was imported" in dry.stdout
    done = flourish("import", "roster", str(CORPUS / "good_updates.csv"), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "imported: 1 added, 1 updated, 1 unchanged (queued for sync)" in done.stdout
    bad = flourish("import", "roster", str(CORPUS / "bad_mixed.csv"), data_dir=data_dir)
    assert bad.returncode == 1
    lines = bad.stderr.splitlines()
    assert lines[0] == "flourish: bad_mixed.csv: 3 problems; nothing was imported"
    assert lines[1] == "  bad_mixed.csv, line 4: grade '10' must be 6, 7 or 8"
    assert len(lines) == 4 and "Traceback" not in bad.stderr


# -- school-wide exports: OneRoster 1.1 / 1.2, Clever (tests/fixtures/roster/make_school_sets.py)

SCHOOL_SETS = {
    "oneroster11_school": (
        "OneRoster 1.1",
        [
            ("S005", "Amara Okafor", 7, "T001", "oneroster", "738733110"),
            ("S006", "Ben Carter", 7, "T001", "oneroster", "738733111"),
            ("S007", "Chloé Dubois", 7, "T001", "oneroster", "3003"),  # sourcedId: no identifier
            ("S008", "Dmitri Ivanov", 7, "T001", "oneroster", "738733113"),
            ("S009", "Élodie Martin", 8, "T002", "oneroster", "738733114"),
            ("S010", "Farah Haddad", 8, "T002", "oneroster", "738733115"),
            ("S011", "Gus Lee", 6, "T001", "oneroster", "738733116"),
        ],
        (
            "external ids: identifier for 11 user(s), sourcedId for 4 (their identifier is empty)",
            "skipped 2 class(es): Algebra II (teacher John Doe (1003) is not known to this "
            "store); Kindergarten Blue (teacher Kim Blue (1004) is not known to this store)",
            "skipped 4 student(s) in grades outside 6–8",
            "skipped 1 disabled user(s)",
        ),
    ),
    "oneroster12_school": (
        "OneRoster 1.2",
        [
            ("S005", "Michel Jones", 7, "T001", "oneroster", "mmichel.jones"),
            ("S006", "Ana Lima", 6, "T001", "oneroster", "ana.lima"),
        ],
        (
            "skipped 1 class(es): Chemistry 9 (teacher John Doe (john.doe) is not known to "
            "this store)",
            "skipped 2 student(s) in grades outside 6–8",
            "skipped 1 student(s) not enrolled in an imported class",
        ),
    ),
    "clever_school": (
        "Clever",
        [
            ("S005", "Linh Nguyen", 7, "T002", "clever", "510001"),
            ("S006", "Chidi Okoro", 8, "T002", "clever", "510002"),
            ("S007", "Seo-yeon Park", 6, "T002", "clever", "s-03"),  # no Student_number
        ],
        (
            "skipped 1 class(es): PE - Coach - 5 (teacher Pat Coach (88001) is not known to "
            "this store)",
            "skipped 2 student(s) in grades outside 6–8",
        ),
    ),
}


def externals(store: LocalStore) -> dict[str, tuple[object, ...]]:
    with store.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT id, name, grade, teacher_id, external_source, external_id FROM students "
            "WHERE external_id IS NOT NULL"
        ).all()
    return {r[0]: tuple(r[1:]) for r in rows}


@pytest.mark.parametrize("name", sorted(SCHOOL_SETS))
def test_a_school_export_imports_what_is_in_scope_and_says_what_it_skipped(
    demo_store: LocalStore, name: str
) -> None:
    fmt, expected, notes = SCHOOL_SETS[name]
    preview = preview_roster(demo_store, [CORPUS / name])
    assert preview.format == fmt
    assert preview.notes == notes
    assert [
        (c.kind, c.row.student_id, c.row.name, c.row.grade, c.row.teacher_id,
         c.row.external_source, c.row.external_id)
        for c in preview.changes
    ] == [("add", *row) for row in expected]  # fmt: skip
    result = import_roster(demo_store, [CORPUS / name])
    assert result.preview.added == len(expected)
    assert externals(demo_store) == {sid: tuple(rest) for sid, *rest in expected}
    assert set(queued(demo_store)) == {sid for sid, *_ in expected}
    assert {pk: p["external_id"] for pk, p in queued(demo_store).items()} == {
        sid: ext for sid, *_r, ext in expected
    }
    # the same export again changes nothing
    again = import_roster(demo_store, [CORPUS / name])
    assert (again.preview.added, again.preview.updated) == (0, 0)
    assert again.preview.unchanged == len(expected) and again.changes == []


def test_a_student_moved_to_another_class_updates_exactly_that_student(
    demo_store: LocalStore,
) -> None:
    import_roster(demo_store, [CORPUS / "oneroster11_school"])
    before = externals(demo_store)
    preview = preview_roster(demo_store, [CORPUS / "oneroster11_moved"])
    assert [
        (c.row.student_id, c.changed_fields) for c in preview.changes if c.kind != "unchanged"
    ] == [("S005", ("teacher_id",))]
    result = import_roster(demo_store, [CORPUS / "oneroster11_moved"])
    assert (result.preview.added, result.preview.updated, result.preview.unchanged) == (0, 1, 6)
    after = externals(demo_store)
    assert after["S005"] == ("Amara Okafor", 7, "T002", "oneroster", "738733110")
    assert {k: v for k, v in after.items() if k != "S005"} == {
        k: v for k, v in before.items() if k != "S005"
    }


def test_a_delta_set_is_refused_with_its_reason(demo_store: LocalStore) -> None:
    before = snapshot(demo_store)
    with pytest.raises(RosterProblems) as caught:
        import_roster(demo_store, [CORPUS / "oneroster11_delta"])
    delta = (
        "is a delta (incremental) set: it holds only the changes since an earlier export; "
        "Flourish imports bulk (full) sets — export a bulk set"
    )
    assert [str(p) for p in caught.value.problems] == [
        f"manifest.csv, line 11: enrollments.csv {delta}",
        f"manifest.csv, line 16: users.csv {delta}",
    ]
    assert snapshot(demo_store) == before


def test_a_folder_that_is_no_roster_is_named_as_such(demo_store: LocalStore) -> None:
    with pytest.raises(RosterProblems) as caught:
        preview_roster(demo_store, [CORPUS.parent / "evidence"])
    assert [str(p) for p in caught.value.problems] == [
        "evidence: not a roster folder: it holds neither OneRoster files (users.csv, "
        "enrollments.csv, classes.csv) nor Clever files (students.csv, teachers.csv, "
        "sections.csv, enrollments.csv)"
    ]


def test_a_signed_in_teacher_gets_their_classes_and_is_told_why_not_the_others(
    demo_store: LocalStore,
) -> None:
    demo_store.set_state({"server_url": "postgresql://db.example/flourish"})
    preview = preview_roster(demo_store, [CORPUS / "oneroster11_school"])
    assert {c.row.teacher_id for c in preview.changes} == {"T001"}
    assert [(c.title, c.teacher_id, c.reason) for c in preview.classes] == [
        ("Homeroom 7A", "T001", ""),
        ("Science 8", None, "a class of T002, not of the signed-in teacher (T001)"),
        ("Algebra II", None, "teacher John Doe (1003) is not known to this store"),
        ("Kindergarten Blue", None, "teacher Kim Blue (1004) is not known to this store"),
        ("Art 6-8", "T001", ""),
    ]


def test_a_teacher_chooses_classes_of_an_unknown_teacher_and_is_matched_next_time(
    demo_store: LocalStore,
) -> None:
    from sync.io.roster import Selection

    demo_store.set_state({"server_url": "postgresql://db.example/flourish"})
    choice = Selection(teacher="T001", classes=("C51",))  # a classCode works as an id
    preview = preview_roster(demo_store, [CORPUS / "oneroster12_school"], selection=choice)
    assert [(c.row.name, c.row.teacher_id) for c in preview.changes] == [("Dee Rao", "T001")]
    assert preview.teacher_links == (("T001", "oneroster", "john.doe"),)
    import_roster(demo_store, [CORPUS / "oneroster12_school"], selection=choice)
    with demo_store.read() as conn:
        row = conn.exec_driver_sql(
            "SELECT external_source, external_id FROM teachers WHERE id = 'T001'"
        ).one()
    assert tuple(row) == ("oneroster", "john.doe")
    # without a choice, john.doe's class now goes to T001 by its external id
    plain = preview_roster(demo_store, [CORPUS / "oneroster12_school"])
    assert [(c.title, c.teacher_id) for c in plain.classes] == [
        ("Humanities 6-7", "T001"),
        ("Chemistry 9", "T001"),
    ]
    with pytest.raises(RosterProblems, match="T002 is not the teacher signed in"):
        preview_roster(demo_store, [CORPUS / "oneroster12_school"], selection=Selection("T002"))
    with pytest.raises(RosterProblems, match="class 'nope' is not in the file's classes"):
        preview_roster(
            demo_store,
            [CORPUS / "oneroster12_school"],
            selection=Selection("T001", ("nope",)),
        )


def test_sis_numbers_in_a_simple_csv_get_flourish_ids(
    demo_store: LocalStore, tmp_path: Path
) -> None:
    path = tmp_path / "sis.csv"
    path.write_text(
        "student_id,name,grade,teacher_id\n738733110,Amara Okafor,7,T001\n"
        "mmichel.jones,Michel Jones,8,T001\nS777,Seven Sevens,6,T001\n",
        encoding="utf-8",
    )
    result = import_roster(demo_store, [path])
    assert [(c.row.student_id, c.row.external_source, c.row.external_id)
            for c in result.preview.changes] == [
        ("S005", "sis", "738733110"), ("S006", "sis", "mmichel.jones"), ("S777", None, None)
    ]  # fmt: skip
    assert import_roster(demo_store, [path]).preview.unchanged == 3


def test_a_screenful_of_problems_and_the_count_of_the_rest(
    demo_store: LocalStore, tmp_path: Path
) -> None:
    path = tmp_path / "many.csv"
    path.write_text(
        "student_id,name,grade,teacher_id\n"
        + "".join(f"S{100 + n},Kid,9,T001\n" for n in range(30)),
        encoding="utf-8",
    )
    with pytest.raises(RosterProblems) as caught:
        preview_roster(demo_store, [path])
    assert len(caught.value.problems) == 30
    lines = str(caught.value).splitlines()
    assert len(lines) == 1 + 20 + 1 and lines[-1] == "  ... and 10 more"


def test_the_export_reads_back_with_its_external_ids(
    demo_store: LocalStore, tmp_path: Path
) -> None:
    from sync.io.export import export_csv

    import_roster(demo_store, [CORPUS / "clever_school"])
    export_csv(demo_store, tmp_path / "out")
    text = (tmp_path / "out" / "students.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0].endswith("external_source,external_id")
    back = preview_roster(demo_store, [tmp_path / "out" / "students.csv"])
    assert (back.added, back.updated, back.unchanged) == (0, 0, 7)


def test_cli_teacher_and_classes_choose_what_joins_a_class(demo_store: LocalStore) -> None:
    data_dir = demo_store.path.parent
    demo_store.close()
    school = str(CORPUS / "oneroster11_school")
    dry = flourish("import", "roster", school, "--teacher", "T002", "--classes", "2002,ART",
                   "--dry-run", data_dir=data_dir)  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines()[0].endswith("4 students; 4 to add, 0 to update, 0 unchanged")
    # Art's teacher is T001's by e-mail: no external id is recorded on T002 for her
    assert "from now on" not in dry.stdout
    assert "  add     S005  Ben Carter, grade 7, T002" in dry.stdout
    assert "dry run: nothing was imported" in dry.stdout
    usage = flourish("import", "roster", school, "--classes", "2002", data_dir=data_dir)
    assert usage.returncode == 2 and "--classes needs --teacher" in usage.stderr
    refused = flourish("import", "roster", school, "--teacher", "T009", data_dir=data_dir)
    assert refused.returncode == 1
    assert "--teacher: teacher T009 is not known to this store" in refused.stderr
