"""The command-line contract: names, exit codes, JSON shapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sync.server.admin import head_revision

COMMANDS = [
    "app",
    "demo",
    "server",
    "login",
    "sync",
    "status",
    "list",
    "correct",
    "target",
    "badge",
    "import",
    "assess",
    "report",
    "export",
]


def flourish(
    *args: str,
    data_dir: Path | None = None,
    env: dict[str, str] | None = None,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "desktop.cli"]
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run(
        cmd + list(args),
        capture_output=True,
        text=True,
        env=full_env,
        input=input_text,
        timeout=120,
    )


def test_help_lists_every_command() -> None:
    result = flourish("--help")
    assert result.returncode == 0
    for name in COMMANDS:
        assert f"    {name}" in result.stdout, name
    server = flourish("server", "--help")
    for name in ("init", "migrate", "add-teacher", "backup", "restore"):
        assert name in server.stdout


def test_version() -> None:
    result = flourish("--version")
    assert result.returncode == 0 and result.stdout.startswith("flourish 0.")


def test_bad_usage_exits_2() -> None:
    result = flourish("list", "nonsense")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_server_commands_need_a_database() -> None:
    result = flourish("server", "init")
    assert result.returncode == 2 and "--db URL is required" in result.stderr


def test_demo_then_list_and_status(tmp_path: Path) -> None:
    made = flourish("demo", "--no-window", data_dir=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "4 students" in made.stdout
    students = json.loads(flourish("list", "students", "--json", data_dir=tmp_path).stdout)
    assert {s["id"] for s in students} == {"S001", "S002", "S003", "S004"}
    assert all(s["pending"] > 0 for s in students)
    pending = json.loads(
        flourish(
            "list", "assessments", "--pending", "--student", "S002", "--json", data_dir=tmp_path
        ).stdout
    )
    assert pending and {a["student_id"] for a in pending} == {"S002"}
    confidences = [a["confidence_score"] for a in pending]
    assert confidences == sorted(confidences)  # lowest confidence first
    for key in ("id", "student_id", "skill_name", "level", "corrected", "source_quote"):
        assert key in pending[0]
    status = json.loads(flourish("status", "--json", data_dir=tmp_path).stdout)
    for key in ("pending", "last_sync", "conflicts", "server_reachable"):
        assert key in status
    assert status["pending"] == 0 and status["profile"] == "demo"
    conflicts = flourish("list", "conflicts", "--json", data_dir=tmp_path)
    assert conflicts.returncode == 0 and json.loads(conflicts.stdout) == []


def test_target_and_badge_record_for_the_student_and_skill(tmp_path: Path) -> None:
    assert flourish("demo", "--no-window", data_dir=tmp_path).returncode == 0
    target = flourish("target", "S001", "Self-Awareness", "--level", "Advanced", data_dir=tmp_path)
    assert target.returncode == 0, target.stderr
    assert target.stdout.startswith("target ") and "S001 Self-Awareness" in target.stdout
    assert target.stdout.rstrip().endswith("-> Advanced")
    badge = flourish("badge", "S001", "Self-Awareness", "--type", "bronze", data_dir=tmp_path)
    assert badge.returncode == 0, badge.stderr
    assert "bronze for S001 in Self-Awareness" in badge.stdout
    again = flourish("badge", "S001", "Self-Awareness", "--type", "bronze", data_dir=tmp_path)
    assert again.returncode != 0 and "already has the bronze badge" in again.stderr
    status = json.loads(flourish("status", "--json", data_dir=tmp_path).stdout)
    assert status["pending"] == 2  # the target and the badge, queued for sync


def test_demo_refuses_a_teachers_own_store(tmp_path: Path) -> None:
    from sync.store.local import LocalStore

    LocalStore.open(tmp_path / "flourish.sqlite3").close()
    result = flourish("demo", "--no-window", data_dir=tmp_path)
    assert result.returncode == 1
    assert "holds a teacher's own Flourish data" in result.stderr
    assert result.stderr.count("\n") == 1


def test_list_without_a_store_fails_with_a_reason(tmp_path: Path) -> None:
    result = flourish("list", "students", data_dir=tmp_path)
    assert result.returncode == 1
    assert "no local store" in result.stderr and "Traceback" not in result.stderr


def test_server_init_twice_and_migrate_to_base(empty_pg_url: str) -> None:
    first = flourish("server", "init", "--db", empty_pg_url, "--demo")
    assert first.returncode == 0, first.stderr
    assert f"-> {head_revision()}" in first.stdout
    second = flourish("server", "init", "--db", empty_pg_url)
    assert second.returncode == 0
    assert "already at" in second.stdout and "0 seed rows" in second.stdout
    down = flourish("server", "migrate", "--db", empty_pg_url, "--to", "base")
    assert down.returncode == 0 and "base (empty)" in down.stdout
    up = flourish("server", "migrate", "--db", empty_pg_url)
    assert up.returncode == 0 and head_revision() in up.stdout


def test_migrate_to_an_unknown_revision(pg_url: str) -> None:
    result = flourish("server", "migrate", "--db", pg_url, "--to", "9999")
    assert result.returncode == 1 and "unknown revision '9999'" in result.stderr


def test_migrate_sql_prints_the_script(pg_url: str) -> None:
    result = flourish("server", "migrate", "--db", pg_url, "--sql")
    assert result.returncode == 0
    assert "CREATE TABLE teachers" in result.stdout
    assert "CREATE OR REPLACE FUNCTION mark_assessment_corrected" in result.stdout


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://u:p@127.0.0.1:1/db", "server unreachable"),
        ("mysql://u@h/db", "must be PostgreSQL"),
    ],
)
def test_server_errors_are_one_line(url: str, reason: str) -> None:
    result = flourish("server", "init", "--db", url)
    assert result.returncode == 1
    assert reason in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_database_url_from_the_environment(pg_url: str) -> None:
    result = flourish("server", "migrate", env={"FLOURISH_DATABASE_URL": pg_url})
    assert result.returncode == 0 and "already at" in result.stdout


def test_demo_window_opens_and_quits_after_first_paint(tmp_path: Path) -> None:
    result = flourish(
        "demo", "--quit-after-paint", data_dir=tmp_path, env={"QT_QPA_PLATFORM": "offscreen"}
    )
    assert result.returncode == 0, result.stderr


def test_quit_after_paint_is_not_held_open_by_unsent_changes(tmp_path: Path) -> None:
    from sync import actions
    from sync.paths import LOCAL_DB_NAME
    from sync.replication.status import queue_status
    from sync.store.local import LocalStore

    assert flourish("demo", "--no-window", data_dir=tmp_path).returncode == 0
    with LocalStore.open(tmp_path / LOCAL_DB_NAME, create=False) as store:
        actions.accept(store, assessment_id=1, teacher_id="T001")
        assert queue_status(store)["pending"] > 0
    result = flourish(
        "demo",
        "--keep",
        "--quit-after-paint",
        data_dir=tmp_path,
        env={"QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 0, result.stderr
