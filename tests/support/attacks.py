"""A server with two teachers' laptops, and the tools of a teacher attacking another one:
their own database login, and their laptop's store written behind the app's back."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2

from tests.support.laptops import PASSWORD, Server, admin_rows
from tests.support.pgcluster import PgCluster
from tests.test_cli import flourish

#: Evidence of T002's student S003 (demo dataset) and of T001's student S001.
T002_ENTRY = "DE024"
T001_ENTRY = "DE001"


class Refused(Exception):
    """The database refused a statement (its SQLSTATE and message)."""

    def __init__(self, code: str | None, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class Attack:
    pg: PgCluster
    server: Server

    def sql(self, teacher: str, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
        """Run ``statement`` as ``teacher``'s own login (autocommit); raises :class:`Refused`."""
        conn = psycopg2.connect(
            self.pg.dsn(self.server.dbname, user=self.server.logins[teacher], password=PASSWORD)
        )
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(statement, params)
                return list(cur.fetchall()) if cur.description else []
        except psycopg2.Error as exc:
            raise Refused(exc.pgcode, (exc.pgerror or str(exc)).strip()) from exc
        finally:
            conn.close()

    def refused(self, teacher: str, statement: str, params: Any = None) -> Refused:
        """The refusal of ``statement`` as ``teacher`` (fails the test if it is accepted)."""
        try:
            rows = self.sql(teacher, statement, params)
        except Refused as refusal:
            return refusal
        raise AssertionError(f"accepted as {teacher}: {statement} -> {rows}")

    def admin(self, statement: str, **params: Any) -> list[tuple[Any, ...]]:
        return admin_rows(self.server.admin_url, statement, **params)

    def device_of(self, teacher: str) -> int:
        rows = self.admin(
            "SELECT min(device_no) FROM sync_devices WHERE teacher_id = :t", t=teacher
        )
        return int(rows[0][0])


# -- the laptop, written behind the app's back -----------------------------------------


def hlc_now() -> int:
    return int(time.time() * 1000) << 16


class CliLaptop:
    """A teacher's laptop driven through the real ``flourish`` command line."""

    def __init__(self, pg: PgCluster, server: Server, teacher: str, folder: Path) -> None:
        """Signs in through the server's running service; syncs with the token it shows."""
        self.folder = folder
        service = server.running()
        signed = flourish(
            "login", "--server", service.url, "--user", server.logins[teacher],
            "--ca-cert", str(service.tls.ca), data_dir=folder,
            env={"FLOURISH_PASSWORD": PASSWORD},
        )  # fmt: skip
        assert signed.returncode == 0, signed.stderr
        self.env = {"FLOURISH_TOKEN": signed.stdout.split("FLOURISH_TOKEN=", 1)[1].split()[0]}
        self.sync()

    @property
    def db(self) -> Path:
        return self.folder / "flourish.sqlite3"

    def state(self, key: str) -> str | None:
        with sqlite3.connect(self.db) as con:
            row = con.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @property
    def device_no(self) -> int:
        return int(self.state("device_no") or 0)

    def sync(self) -> str:
        """``flourish sync``; its output (a refused change makes it exit 1: held back)."""
        result = flourish("sync", data_dir=self.folder, env=self.env)
        assert result.returncode in (0, 1), result.stderr
        return result.stdout + result.stderr

    def queue(self, table: str, op: str, row: dict[str, Any]) -> None:
        """Put an operation straight into ``sync_operations`` (bypassing the app)."""
        stamp = hlc_now()
        row = dict(row, sync_hlc=stamp, sync_origin=self.device_no, sync_version=0)
        with sqlite3.connect(self.db) as con:
            con.execute(
                "INSERT INTO sync_operations (table_name, row_pk, op, payload, sync_hlc, "
                "student_id) VALUES (?, ?, ?, ?, ?, ?)",
                (table, str(row["id"]), op, json.dumps(row), stamp, row.get("student_id")),
            )

    def held_back(self) -> list[tuple[str, str, str]]:
        """Operations the server refused: (table, row_pk, reason)."""
        with sqlite3.connect(self.db) as con:
            return [
                (str(t), str(pk), str(reason))
                for t, pk, reason in con.execute(
                    "SELECT table_name, row_pk, last_error FROM sync_operations "
                    "WHERE status = 'quarantined' ORDER BY op_id"
                )
            ]

    def rows(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db) as con:
            return list(con.execute(statement, params))


def entry_row(entry_id: str, student: str, teacher: str | None) -> dict[str, Any]:
    return {
        "id": entry_id,
        "student_id": student,
        "teacher_id": teacher,
        "type": "parent_note",
        "date": "2026-11-02",
        "content": "queued by hand",
        "metadata": {},
        "created_at": "2026-11-02 10:00:00.000000",
    }


def assessment_row(assessment_id: int, entry_id: str, student: str) -> dict[str, Any]:
    return {
        "id": assessment_id,
        "data_entry_id": entry_id,
        "student_id": student,
        "skill_name": "Collaboration",
        "skill_category": "21st_Century",
        "level": "Developing",
        "confidence_score": 0.5,
        "justification": "x",
        "source_quote": "y",
        "data_point_count": 1,
        "rubric_version": "1.0",
        "corrected": 0,
        "created_at": "2026-11-02 10:00:00.000000",
        "updated_at": "2026-11-02 10:00:00.000000",
        "provenance": {},
    }


def student_row(student_id: str, teacher: str) -> dict[str, Any]:
    return {
        "id": student_id,
        "name": "Taken",
        "grade": 7,
        "teacher_id": teacher,
        "created_at": "2026-11-02 10:00:00.000000",
        "external_source": None,
        "external_id": None,
    }
