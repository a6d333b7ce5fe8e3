"""SIGKILL the sync at random points of push and pull: nothing lost, nothing twice."""

from __future__ import annotations

import datetime as dt
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sync import actions
from sync.model.records import Assessment
from sync.store.local import LocalStore
from tests.support.compare import differences, local_slice, server_slice
from tests.support.laptops import Laptop, admin_rows, served

KILLS = 52


def make_offline_work(store: LocalStore, round_no: int, rng: random.Random) -> int:
    """Evidence written, assessed and corrected offline: returns the number of entries."""
    entries = 0
    for i in range(4):
        student = rng.choice(["S001", "S002"])
        entry = actions.add_entry(
            store,
            student_id=student,
            teacher_id="T001",
            entry_type="teacher_observation_note",
            content=f"Round {round_no} note {i}: {student} kept a careful log.",
            date=dt.date(2026, 11, 1) + dt.timedelta(days=round_no % 20),
        ).value
        entries += 1
        with store.write() as txn:
            for skill, category in (("Organization", "EF"), ("Collaboration", "21st_Century")):
                a = txn.insert(
                    Assessment(
                        data_entry_id=entry.id,
                        student_id=student,
                        skill_name=skill,
                        skill_category=category,
                        level="Developing",
                        confidence_score=round(rng.uniform(0.4, 0.95), 2),
                        justification="kept a careful log",
                        source_quote="kept a careful log",
                    )
                )
        actions.correct(
            store,
            assessment_id=a.id,
            teacher_id="T001",
            level=rng.randint(1, 4),
            notes=f"r{round_no}-{i}",
        )
    return entries


@pytest.mark.slow
def test_sync_survives_sigkill_at_random_points(
    pg_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The laptop under test syncs through a real service process, in a child process
    that is killed with SIGKILL at random moments of its push and pull."""
    server = served(pg_url, tmp_path / "service")
    request.addfinalizer(server.stop)
    rng = random.Random(20261122)
    lap = Laptop(server, "T001", tmp_path / "L1")
    token = lap.token
    rival = Laptop(server, "T001", tmp_path / "L2")
    lap.sync()
    rival.sync()
    folder = tmp_path / "L1"
    # Contested rows: the laptop under test decides first, its rival later and syncs first,
    # so each of these changes must lose exactly once, however often it is resent.
    with lap.store.read() as conn:
        contested = [
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT id FROM assessments WHERE corrected = 0 ORDER BY id LIMIT 10"
            ).all()
        ]
    for a in contested:
        actions.correct(lap.store, assessment_id=a, teacher_id="T001", level=1)
    time.sleep(0.01)
    for a in contested:
        actions.correct(rival.store, assessment_id=a, teacher_id="T001", level=4)
    rival.sync()
    rival.close()
    lap.close()

    made_entries = 0
    kills = attempts = 0
    phases: set[str] = set()  # where the kills landed (last progress line printed)
    from sync.store.local import LocalStore

    while kills < KILLS and attempts < 3 * KILLS:
        attempts += 1
        with LocalStore.open(folder / "flourish.sqlite3") as store:
            made_entries += make_offline_work(store, attempts, rng)
        # the server changes too, so that pulls have work while they are killed
        admin_rows(
            pg_url,
            "UPDATE assessments SET justification = justification || '.' WHERE student_id = :s",
            s=rng.choice(["S001", "S002"]),
        )
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.support.sync_child", str(folder), token, "2", "10"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        if attempts % 2:
            # at a random moment (which may be before the first progress line) ...
            time.sleep(rng.uniform(0.25, 1.2))
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
                kills += 1
                out, _err = child.communicate(timeout=60)
                lines = out.strip().splitlines()
                phases.add(lines[-1].split()[0] if lines else "start")  # push, pull or done
        else:
            # ... or a few milliseconds after the n-th progress line of a chosen phase
            target, skip = rng.choice(["push", "pull"]), rng.randint(0, 3)
            delay = rng.uniform(0, 0.02)
            assert child.stdout is not None
            for line in child.stdout:
                words = line.split()
                if words[:1] == [target]:
                    if skip == 0:
                        time.sleep(delay)
                        if child.poll() is None:
                            child.send_signal(signal.SIGKILL)
                            kills += 1
                            phases.add(target)
                        break
                    skip -= 1
            child.communicate(timeout=60)
        child.wait(timeout=60)
    assert kills >= KILLS, f"only {kills} runs were still going when killed"
    assert {"push", "pull"} <= phases, phases

    final = subprocess.run(
        [sys.executable, "-m", "tests.support.sync_child", str(folder), token],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert final.returncode == 0, final.stderr
    from sync.store.local import LocalStore

    with LocalStore.open(folder / "flourish.sqlite3") as store:
        with store.read() as conn:
            queued = conn.exec_driver_sql(
                "SELECT status, COUNT(*) FROM sync_operations GROUP BY status"
            ).all()
        assert queued == []
        assert differences(local_slice(store), server_slice(server.running().db_url, "T001")) == {}
        device = store.device_no
    on_server = admin_rows(
        pg_url, "SELECT COUNT(*) FROM data_entries WHERE id LIKE :p", p=f"DE{device}%"
    )
    assert on_server == [(made_entries,)]  # every offline entry arrived, none twice
    notes = admin_rows(
        pg_url,
        "SELECT teacher_notes, COUNT(*) FROM teacher_corrections "
        "WHERE teacher_notes LIKE 'r%' GROUP BY teacher_notes "
        "HAVING COUNT(*) > 1",
    )
    assert notes == []
    conflicts = admin_rows(pg_url, "SELECT kind, COUNT(*) FROM sync_conflicts GROUP BY kind")
    assert conflicts == [("natural_key", len(contested))]  # each loser logged exactly once
