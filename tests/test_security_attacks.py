"""Attacks by one teacher on another's data, as the attacker's own database login.

T002 attacks T001 on a server made like ``flourish server init --demo`` with both teachers
added and each with a synced laptop. One test per hole and weak spot in sql/README.md
("Attacks we test"); tests/test_security_attacks_laptop.py makes the same attacks through
a tampered laptop store and ``flourish sync``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.attacks import T001_ENTRY, T002_ENTRY, Attack
from tests.support.laptops import Laptop, served
from tests.support.pgcluster import PgCluster

NOT_ALLOWED = "42501"  # insufficient_privilege
ASSESSMENT = (
    "INSERT INTO assessments (data_entry_id, student_id, skill_name, skill_category, level, "
    "justification, source_quote) VALUES (%s, %s, 'Collaboration', '21st_Century', "
    "'Developing', 'x', 'y')"
)


@pytest.fixture
def attack(pg: PgCluster, pg_url: str, tmp_path: Path) -> Iterator[Attack]:
    server = served(pg_url, tmp_path / "service")
    for teacher in ("T001", "T002"):
        lap = Laptop(server, teacher, tmp_path / teacher)
        lap.sync()
        lap.close()
    yield Attack(pg, server)
    server.stop()


# -- 1. reading another teacher's evidence ------------------------------------------------


def test_an_assessment_of_ones_own_cannot_open_another_teachers_evidence(attack: Attack) -> None:
    refusal = attack.refused("T002", ASSESSMENT, (T001_ENTRY, "S003"))
    assert refusal.code == NOT_ALLOWED
    assert attack.sql("T002", "SELECT * FROM data_entries WHERE id = %s", (T001_ENTRY,)) == []
    # the harvest in one statement: all of T001's demo evidence
    harvest = attack.refused(
        "T002",
        "INSERT INTO assessments (data_entry_id, student_id, skill_name, skill_category, "
        "level, justification, source_quote) SELECT 'DE' || lpad(n::text, 3, '0'), 'S003', "
        "'Collaboration', '21st_Century', 'Developing', 'x', 'y' FROM generate_series(1, 16) n",
    )
    assert harvest.code == NOT_ALLOWED
    visible = attack.sql("T002", "SELECT count(*) FROM data_entries d WHERE d.id <= 'DE016'")
    assert visible == [(0,)]  # none of T001's 16 demo entries


def test_shared_evidence_is_granted_by_its_owner_never_by_the_reader(attack: Attack) -> None:
    # the reader cannot grant itself another teacher's entry, nor sign a grant
    assert attack.refused(
        "T002", "INSERT INTO evidence_shares (data_entry_id, student_id) VALUES (%s, 'S003')",
        (T001_ENTRY,),
    ).code == NOT_ALLOWED  # fmt: skip
    assert attack.sql("T002", "SELECT count(*) FROM evidence_shares") == [(0,)]
    # the owner shares a group transcript with T002's student; T002 may now rest a proposal
    # on it and read it (read only)
    attack.sql(
        "T001",
        "INSERT INTO evidence_shares (data_entry_id, student_id) VALUES (%s, 'S003')",
        (T001_ENTRY,),
    )
    assert attack.admin("SELECT granted_by FROM evidence_shares") == [("T001",)]
    attack.sql("T002", ASSESSMENT, (T001_ENTRY, "S003"))
    assert attack.sql("T002", "SELECT id FROM data_entries WHERE id = %s", (T001_ENTRY,)) == [
        (T001_ENTRY,)
    ]
    assert (
        attack.sql("T002", "UPDATE data_entries SET content = 'x' WHERE id = %s", (T001_ENTRY,))
        == []
    )
    assert attack.admin("SELECT content <> 'x' FROM data_entries WHERE id = :i", i=T001_ENTRY) == [
        (True,)
    ]
    # a share for one student opens nothing for the teacher's other students
    assert attack.refused("T002", ASSESSMENT, (T001_ENTRY, "S004")).code == NOT_ALLOWED
    # and shares are not the reader's to remove
    assert attack.refused("T002", "DELETE FROM evidence_shares").code == NOT_ALLOWED


# -- 2. signing as another teacher ------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO data_entries (id, student_id, teacher_id, type, date, content) "
        "VALUES ('DE{own}', 'S003', 'T001', 'parent_note', '2026-11-01', 'x')",
        "UPDATE data_entries SET teacher_id = 'T001' WHERE id = 'DE024'",
        "INSERT INTO skill_targets (student_id, skill_name, assigned_by) "
        "VALUES ('S003', 'Creativity', 'T001')",
        "INSERT INTO badges (student_id, skill_name, skill_category, level_achieved, badge_type, "
        "granted_by, earned_date) VALUES ('S003', 'Creativity', '21st_Century', 'Developing', "
        "'bronze', 'T001', '2026-11-01')",
        "INSERT INTO teacher_corrections (assessment_id, original_level, corrected_level, "
        "corrected_by) SELECT min(id), 'Proficient', 'Emerging', 'T001' FROM assessments",
    ],
)
def test_a_teacher_cannot_sign_as_another_teacher(attack: Attack, statement: str) -> None:
    statement = statement.replace("{own}", str(attack.device_of("T002") * 10**9 + 1))
    assert attack.refused("T002", statement).code == NOT_ALLOWED
    # signing as oneself (or leaving the author out) works
    attack.sql("T002", statement.replace("'T001'", "'T002'"))


# -- 3. taking another teacher's id range -----------------------------------------------------


def test_a_teacher_mints_ids_only_in_its_own_laptops_ranges(attack: Attack) -> None:
    t001 = attack.device_of("T001")
    t002 = attack.device_of("T002")
    entry = "INSERT INTO data_entries (id, student_id, type, date, content) VALUES (%s, 'S003', 'parent_note', '2026-11-01', 'x')"  # noqa: E501
    for squatted in (f"DE{t001 * 10**9 + 1}", f"DE{106 * 10**9 + 1}", "DE999999999"):
        assert attack.refused("T002", entry, (squatted,)).code == NOT_ALLOWED, squatted
    assert attack.refused(
        "T002",
        "INSERT INTO skill_targets (id, student_id, skill_name) VALUES (%s, 'S003', 'Creativity')",
        (t001 * 10**9 + 7,),
    ).code == NOT_ALLOWED  # fmt: skip
    # its own laptop's range, and the server's numbering through the default, work
    attack.sql("T002", entry, (f"DE{t002 * 10**9 + 900}",))
    attack.sql(
        "T002", "INSERT INTO skill_targets (student_id, skill_name) VALUES ('S003', 'Creativity')"
    )
    # and T001's laptop still gets its next row onto the server
    attack.sql("T001", entry.replace("'S003'", "'S001'"), (f"DE{t001 * 10**9 + 1}",))


# -- 4. stealing deletions ----------------------------------------------------------------------


def test_a_deletion_stays_addressed_to_its_teacher(attack: Attack) -> None:
    t001 = attack.device_of("T001")
    entry = f"DE{t001 * 10**9 + 501}"
    attack.sql(
        "T001",
        "INSERT INTO students (id, name, grade, teacher_id) VALUES ('S902', 'Lee', 7, 'T001')",
    )  # noqa: E501
    attack.sql(
        "T001",
        "INSERT INTO data_entries (id, student_id, type, date, content) "
        "VALUES (%s, 'S001', 'parent_note', '2026-11-01', 'x')",
        (entry,),
    )
    attack.sql("T001", "DELETE FROM data_entries WHERE id = %s", (entry,))
    attack.sql("T001", "DELETE FROM students WHERE id = 'S902'")
    # T002 takes the ids for itself (to delete them again and re-address the tombstones)
    assert attack.refused(
        "T002",
        "INSERT INTO students (id, name, grade, teacher_id) VALUES ('S902', 'x', 7, 'T002')",
    ).code == NOT_ALLOWED  # fmt: skip
    assert attack.refused(
        "T002",
        "INSERT INTO data_entries (id, student_id, type, date, content) "
        "VALUES (%s, 'S003', 'parent_note', '2026-11-01', 'x')",
        (entry,),
    ).code == NOT_ALLOWED  # fmt: skip
    attack.sql("T002", "DELETE FROM students WHERE id = 'S902'")
    attack.sql("T002", "DELETE FROM data_entries WHERE id = %s", (entry,))
    tombstones = attack.admin(
        "SELECT table_name, row_pk, teacher_id FROM sync_tombstones "
        "WHERE row_pk IN ('S902', :e) ORDER BY 1",
        e=entry,
    )
    assert tombstones == [("data_entries", entry, "T001"), ("students", "S902", "T001")]
    # IT re-enrolling the id for T002 does not take the old deletion from T001 either
    attack.admin(
        "INSERT INTO students (id, name, grade, teacher_id) VALUES ('S902', 'y', 7, 'T002')"
    )
    assert attack.admin("SELECT teacher_id FROM sync_tombstones WHERE row_pk = 'S902'") == [
        ("T001",)
    ]


# -- 5. cascades across teachers ----------------------------------------------------------------


def test_a_teachers_delete_never_cascades_into_another_teachers_rows(attack: Attack) -> None:
    # IT rests a proposal for T001's student on T002's group transcript, T001 decides on it
    attack.admin(ASSESSMENT.replace("%s", ":e", 1).replace("%s", "'S001'", 1), e=T002_ENTRY)
    (assessment,) = attack.admin(
        "SELECT id FROM assessments WHERE data_entry_id = :e AND student_id = 'S001'", e=T002_ENTRY
    )[0]  # noqa: E501
    attack.sql(
        "T001",
        "INSERT INTO teacher_corrections (assessment_id, original_level, corrected_level) "
        "VALUES (%s, 'Developing', 'Proficient')",
        (assessment,),
    )
    for statement in (
        f"DELETE FROM data_entries WHERE id = '{T002_ENTRY}'",
        "DELETE FROM students WHERE id = 'S003'",
    ):
        refusal = attack.refused("T002", statement)
        assert refusal.code == NOT_ALLOWED and "another teacher" in refusal.message
    assert attack.admin("SELECT count(*) FROM assessments WHERE id = :a", a=assessment) == [(1,)]
    assert attack.admin(
        "SELECT count(*) FROM teacher_corrections WHERE assessment_id = :a", a=assessment
    ) == [(1,)]
    assert attack.admin("SELECT count(*) FROM data_entries WHERE id = :e", e=T002_ENTRY) == [(1,)]
    # once T001's proposal is gone, T002 deletes its own evidence
    attack.sql("T001", "DELETE FROM assessments WHERE id = %s", (assessment,))
    attack.sql("T002", f"DELETE FROM data_entries WHERE id = '{T002_ENTRY}'")


# -- 6. a forged server version -----------------------------------------------------------------


def test_a_temporary_sequence_cannot_forge_the_server_version(attack: Attack) -> None:
    rows = attack.sql(
        "T002",
        "CREATE TEMP SEQUENCE sync_version_seq START 4242424242; "
        "UPDATE students SET name = name || '' WHERE id = 'S003' RETURNING sync_version",
    )
    assert rows and rows[0][0] < 4242424242


def test_every_function_has_a_pinned_search_path(attack: Attack) -> None:
    unpinned = attack.admin(
        "SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace "
        "AND NOT EXISTS (SELECT 1 FROM unnest(coalesce(p.proconfig, '{}')) c "
        "WHERE c LIKE 'search_path=%') ORDER BY 1"
    )
    assert unpinned == []


# -- weak spots --------------------------------------------------------------------------------


def test_device_registration_is_capped(attack: Attack) -> None:
    long_name = attack.refused(
        "T002", "SELECT sync_register_device(%s, %s, 'v')", (str(uuid.uuid4()), "h" * 20_000)
    )
    assert "host name too long" in long_name.message
    assert (
        "too long"
        in attack.refused(
            "T002", "SELECT sync_register_device(%s, 'h', %s)", (str(uuid.uuid4()), "v" * 65)
        ).message
    )
    audit_before = attack.admin("SELECT count(*) FROM audit_log")[0][0]
    flood = attack.refused(
        "T002",
        "SELECT sync_register_device(gen_random_uuid(), 'h', 'v') FROM generate_series(1, 100)",
    )
    assert "already has 20 laptops" in flood.message
    assert attack.admin("SELECT count(*) FROM audit_log")[0][0] == audit_before
    # one at a time, up to the cap
    added = 0
    while True:
        try:
            attack.sql("T002", "SELECT sync_register_device(gen_random_uuid(), 'h', 'v')")
        except Exception:
            break
        added += 1
    assert attack.admin("SELECT count(*) FROM sync_devices WHERE teacher_id = 'T002'") == [(20,)]
    assert added < 20


def test_a_hidden_evidence_id_answers_like_a_missing_one(attack: Attack) -> None:
    hidden = attack.refused("T002", ASSESSMENT, (T001_ENTRY, "S003"))
    missing = attack.refused("T002", ASSESSMENT, ("DE0999", "S003"))
    assert hidden.code == missing.code == NOT_ALLOWED
    assert hidden.message.replace(T001_ENTRY, "?") == missing.message.replace("DE0999", "?")
