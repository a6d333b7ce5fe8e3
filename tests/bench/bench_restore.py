"""Recovery time: back up and restore a district-sized central database with the CLI.

    .venv/bin/python -m tests.bench.bench_restore [--assessments 1000000] [--jobs 2]
                                                  [--json FILE]

Starts its own PostgreSQL 15 (durable settings: fsync on), migrates an empty database and
loads 500 teachers, 15,000 students, 150,000 evidence entries, 1,000,000 assessments and
100,000 corrections with COPY (``tests/support/district.py``). Then it times, as IT would
run them, ``flourish server backup`` and ``flourish server restore`` three ways: into a
new database (created by the restore), into the existing database (``--clean``, the
database replaced in one transaction), and with ``--jobs N`` (parallel, not atomic). After
each restore it compares every table's row count with the source. Target (seed 004,
DB-06): restore under 5 minutes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import psycopg2

from sync.server.admin import migrate
from tests.support.district import DistrictSize, generate
from tests.support.pgcluster import PgCluster

TABLES = ("teachers", "students", "data_entries", "assessments", "teacher_corrections")


def flourish(*args: str) -> float:
    """Run ``flourish ARGS``; returns the wall time in seconds (exits on failure)."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "desktop.cli", *args], capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"flourish {' '.join(args[:2])} failed: {result.stderr.strip()}")
    print(f"  {result.stdout.strip()}", flush=True)
    return elapsed


def counts(dsn: str) -> dict[str, int]:
    conn = psycopg2.connect(dsn)
    try:
        cur = conn.cursor()
        out = {}
        for table in TABLES:
            cur.execute(f"SELECT count(*) FROM {table}")
            out[table] = int(cur.fetchone()[0])
        return out
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assessments", type=int, default=1_000_000)
    parser.add_argument("--students", type=int, default=15_000)
    parser.add_argument("--jobs", type=int, default=2, help="for the parallel restore")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    size = DistrictSize(
        students=args.students,
        entries=args.students * 10,
        assessments=args.assessments,
        corrections=args.assessments // 10,
    )
    results: dict[str, object] = {"size": size.__dict__}
    with PgCluster.started(durable=True) as pg, TemporaryDirectory() as tmp:
        url = pg.create_database("district")
        migrate(url, "head")
        started = time.perf_counter()
        generate(pg.dsn("district"), size, progress=lambda m: print(f"  loaded {m}", flush=True))
        print(f"dataset: {size} in {time.perf_counter() - started:.1f} s", flush=True)
        source = counts(pg.dsn("district"))
        dump = Path(tmp) / "district.dump"
        results["backup_s"] = round(
            flourish("server", "backup", "--db", url, "--out", str(dump)), 1
        )
        results["backup_mb"] = round(dump.stat().st_size / 1_000_000, 1)
        runs = {
            "restore_new_db_s": (pg.url("restored"), "restored", []),
            "restore_replace_existing_s": (url, "district", []),
            f"restore_parallel_jobs{args.jobs}_s": (
                pg.url("restored_parallel"),
                "restored_parallel",
                ["--jobs", str(args.jobs)],
            ),
        }
        for label, (target, name, extra) in runs.items():
            seconds = flourish("server", "restore", "--db", target, "--in", str(dump), *extra)
            restored = counts(pg.dsn(name))
            if restored != source:
                sys.exit(f"{label}: row counts differ: {restored} != {source}")
            results[label] = round(seconds, 1)
            print(f"{label}: {seconds:.1f} s (rows match)", flush=True)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
