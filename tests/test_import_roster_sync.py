"""External ids travel: a roster imported on one laptop reaches the teacher's other laptop
and the server with its external ids, and importing it there again changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.io.roster import Selection, import_roster, preview_roster
from tests.support.laptops import Laptop, Server, admin_rows, served

SET = Path(__file__).parent / "fixtures" / "roster" / "oneroster12_school"


@pytest.fixture
def laptops(pg_url: str, tmp_path: Path) -> Iterator[tuple[Server, Laptop, Laptop]]:
    server = served(pg_url, tmp_path / "service")
    one, two = Laptop(server, "T001", tmp_path / "L1"), Laptop(server, "T001", tmp_path / "L2")
    yield server, one, two
    one.close()
    two.close()
    server.stop()


def test_external_ids_sync_and_a_second_laptop_matches_them(
    laptops: tuple[Server, Laptop, Laptop],
) -> None:
    server, one, two = laptops
    one.sync()
    two.sync()
    # Signed in, the laptop does not see teachers' e-mails: the teacher chooses the classes.
    plain = preview_roster(one.store, [SET])
    assert plain.changes == ()  # nothing to import is no error: the classes say why
    assert [c.reason for c in plain.classes] == [
        "teacher Maria Rodriguez (mrodriguez) is not known to this store",
        "teacher John Doe (john.doe) is not known to this store",
    ]
    choice = Selection("T001", ("C50", "C51"))
    result = import_roster(one.store, [SET], selection=choice)
    device = one.device_no
    added = [(c.row.student_id, c.row.external_id) for c in result.preview.changes]
    assert added == [
        (f"S{device}00001", "mmichel.jones"),
        (f"S{device}00002", "ana.lima"),
        (f"S{device}00003", "dee.rao"),
    ]
    one.sync()
    rows = admin_rows(
        server.admin_url,
        "SELECT id, teacher_id, external_source, external_id FROM students "
        "WHERE external_id IS NOT NULL ORDER BY id",
    )
    assert rows == [(sid, "T001", "oneroster", ext) for sid, ext in added]
    teacher = admin_rows(
        server.admin_url, "SELECT external_source, external_id FROM teachers WHERE id = 'T001'"
    )
    assert teacher == [("oneroster", "mrodriguez")]
    two.sync()
    again = preview_roster(two.store, [SET], selection=choice)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    # the teacher's external id came along: her class now matches without a choice
    assert [c.teacher_id for c in preview_roster(two.store, [SET]).classes] == ["T001", None]
