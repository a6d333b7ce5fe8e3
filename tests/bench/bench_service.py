"""Sync through the service next to the raw ceilings, measured in the same run.

    .venv/bin/python -m tests.bench.bench_service [--push 10000 100000] [--pull 50000] [--repeat 3]

Starts its own durable PostgreSQL 15 (fsync on) and, for each measurement, a fresh copy of
a seeded database with a ``flourish server serve`` process (TLS) in front of it; the
laptop is the real one (``LocalStore`` + ``SyncEngine`` signed in with ``flourish
login``'s code, a device token, httpx with the certificate verified). Measured:

* an initial pull of one teacher's slice (``--pull`` proposals with their evidence) vs.
  the ceiling: a PostgreSQL server-side cursor read as that teacher (row level security)
  into SQLite ``executemany`` (same rows and columns, one transaction, WAL,
  synchronous=FULL, no triggers);
* a push of ``--push`` queued corrections (each size given) vs. the ceiling: psycopg2
  ``execute_values``
  upserts of the same rows in the same batch size with the same triggers, from a device
  registered like a laptop's (its ids lie in its own range), one transaction per batch;
  ``--repeat`` times, ceiling and push taking turns, the median share counts;
* a one-change round trip (one correction, then push + pull, on the engine's warm HTTP
  connection): p50 and p95 of 50 rounds after 10 for warming up.

The service runs with its per-device rate limit lifted (one laptop syncing back to back
would otherwise measure the limit). Targets: pull and push >= 70 % of the ceiling; the
one-change round trip < 25 ms.
"""

from __future__ import annotations

import argparse
import atexit
import json
import random
import shlex
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg2
from psycopg2.extras import execute_values
from sqlalchemy import create_engine

from sync import actions
from sync.model.tables import LOCAL
from sync.replication.engine import SyncEngine
from sync.replication.login import login
from sync.replication.wire import exchanged_columns, select_list
from sync.server.admin import add_teacher, migrate
from sync.service.db import TEACHER_ROLE
from sync.store import hlc as hlclock
from sync.store.local import LocalStore, sqlite_of
from tests.bench.servicebench import ServiceProcess, load, percentile
from tests.support.district import DistrictSize, generate
from tests.support.pgcluster import PgCluster

UNLIMITED = ("--device-rate", "100000", "--device-burst", "100000")
PASSWORD = "bench-password-1"
LEVELS = ("Emerging", "Developing", "Proficient", "Advanced")


def act_as_teacher(cur: Any) -> None:
    """Switch the open transaction to teacher T001 the way the service does (the teacher
    has no database login): the ceilings run under the same row level security, column
    grants and triggers as the service's requests."""
    cur.execute(f"SET LOCAL ROLE {TEACHER_ROLE}")
    cur.execute("SELECT set_config('flourish.teacher_id', 'T001', true)")


def assessment_ids(pg: PgCluster, db: str, n: int) -> list[int]:
    """The first ``n`` proposals of teacher T001's students (read as the cluster's admin)."""
    conn = psycopg2.connect(pg.dsn(db))
    cur = conn.cursor()
    cur.execute(
        "SELECT a.id FROM assessments a JOIN students s ON s.id = a.student_id "
        "WHERE s.teacher_id = 'T001' ORDER BY a.id LIMIT %s",
        (n,),
    )
    ids = [r[0] for r in cur.fetchall()]
    conn.close()
    return ids


def queue_corrections(store: LocalStore, ids: list[int]) -> None:
    """N corrections written through the capture triggers (one local transaction)."""
    device = store.device_no
    base = hlclock.from_millis(hlclock.now_millis())
    rows = [
        (
            device * 10**9 + n,
            a,
            "Developing",
            LEVELS[n % 4],
            "ai",
            f"teacher {n}",
            "bench note" if n % 2 else None,
            "T001",
            "2026-11-20 10:00:00.000000",
            1,
            base + n,
            device,
            0,
        )
        for n, a in enumerate(ids, start=1)
    ]
    with store.write() as txn:
        sqlite_of(txn.conn).executemany(
            "INSERT INTO teacher_corrections (id, assessment_id, original_level, corrected_level,"
            " original_justification, corrected_justification, teacher_notes, corrected_by,"
            " corrected_at, use_as_example, sync_hlc, sync_origin, sync_version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def pull_ceiling(pg: PgCluster, db: str, folder: Path) -> tuple[float, int]:
    """Rows per second (and rows) of the teacher's slice read straight from PostgreSQL as
    that teacher into a fresh SQLite file: the pull's ceiling."""
    target = folder / "ceiling.sqlite3"
    engine = create_engine(f"sqlite:///{target}")
    LOCAL.metadata.create_all(engine)
    engine.dispose()
    db_local = sqlite3.connect(target, isolation_level=None)
    db_local.execute("PRAGMA journal_mode=WAL")
    db_local.execute("PRAGMA synchronous=FULL")
    db_local.execute("PRAGMA foreign_keys=ON")  # as in the real store
    conn = psycopg2.connect(pg.dsn(db))
    conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
    started = time.perf_counter()
    total = 0
    act_as_teacher(conn.cursor())
    db_local.execute("BEGIN")
    for table in ("teachers", "students", "data_entries", "assessments"):
        cols = exchanged_columns(table)
        cur = conn.cursor(name=f"c_{table}")
        cur.itersize = 5000
        cur.execute(f"SELECT {select_list(table)} FROM {table}")
        insert = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        while True:
            rows = cur.fetchmany(5000)
            if not rows:
                break
            db_local.executemany(insert, rows)
            total += len(rows)
        cur.close()
    db_local.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    db_local.close()
    return total / seconds, total


def push_ceiling(pg: PgCluster, db: str, ids: list[int], batch: int) -> float:
    """``execute_values`` upserts of the same corrections as the teacher (the same triggers
    and policies), one transaction per batch, from a device registered like a laptop's."""
    conn = psycopg2.connect(pg.dsn(db))
    cur = conn.cursor()
    act_as_teacher(cur)
    cur.execute("SELECT sync_register_device(gen_random_uuid(), 'ceiling', 'bench')")
    device = int(cur.fetchone()[0])
    conn.commit()
    cols = (
        "id",
        "assessment_id",
        "original_level",
        "corrected_level",
        "original_justification",
        "corrected_justification",
        "teacher_notes",
        "corrected_by",
        "corrected_at",
        "use_as_example",
        "sync_hlc",
        "sync_origin",
    )
    base = hlclock.from_millis(hlclock.now_millis())
    rows = [
        (
            device * 10**9 + n,
            a,
            "Developing",
            LEVELS[n % 4],
            "ai",
            f"teacher {n}",
            "bench note" if n % 2 else None,
            "T001",
            "2026-11-20 10:00:00",
            True,
            base + n,
            device,
        )
        for n, a in enumerate(ids, start=1)
    ]
    sql = (
        f"INSERT INTO teacher_corrections ({', '.join(cols)}) VALUES %s ON CONFLICT (id) "
        "DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in cols[1:])
    )
    started = time.perf_counter()
    for i in range(0, len(rows), batch):
        act_as_teacher(cur)
        execute_values(cur, sql, rows[i : i + batch], page_size=batch)
        conn.commit()
    seconds = time.perf_counter() - started
    conn.close()
    return len(rows) / seconds


def laptop(service: ServiceProcess, folder: Path) -> tuple[LocalStore, SyncEngine]:
    folder.mkdir(parents=True, exist_ok=True)
    store = LocalStore.open(folder / "flourish.sqlite3")
    result = login(
        store,
        server_url=service.url,
        user="t001_bench",
        password=PASSWORD,
        remember=False,
        ca_file=str(service.tls.ca),
    )
    return store, SyncEngine.from_store(store, password=result.token)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--push", type=int, nargs="+", default=[10_000], help="queued corrections (sizes)"
    )
    parser.add_argument("--pull", type=int, default=50_000, help="proposals in the slice")
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="push runs (median)")
    parser.add_argument("--rounds", type=int, default=50, help="one-change round trips")
    parser.add_argument("--pool-size", type=int, default=8)
    parser.add_argument("--json", type=Path)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    given = sys.argv[1:] if argv is None else argv
    command = shlex.join([".venv/bin/python", "-m", "tests.bench.bench_service", *given])
    print(f"$ {command}\n{load()}", flush=True)
    results: dict[str, Any] = {"command": command}
    work = Path(tempfile.mkdtemp(prefix="flourish-bench-service-"))
    atexit.register(shutil.rmtree, work, True)  # TLS files and the service's log
    with PgCluster.started(durable=True) as pg:

        def template(name: str, assessments: int) -> str:
            url = pg.create_database(name)
            migrate(url, "head")
            generate(
                pg.dsn(name),
                DistrictSize(
                    teachers=1,
                    students=30,
                    entries=assessments // 10,
                    assessments=assessments,
                    corrections=0,
                ),
            )
            add_teacher(url, teacher_id="T001", login="t001_bench", password=PASSWORD)
            pg.admin_execute(f'ALTER DATABASE "{name}" IS_TEMPLATE true')
            return name

        def clone(name: str, tpl: str) -> str:
            pg.create_database(name, template=tpl)
            return name

        def serve(db: str) -> ServiceProcess:
            # One laptop syncing as fast as it can is not a laptop's pattern: the per-device
            # rate limit (20 requests a second) would measure itself, so it is lifted here.
            return ServiceProcess(
                pg.url(db), work / db, pool_size=args.pool_size, extra=UNLIMITED
            ).start()

        pull_tpl = template("bench_pull_tpl", args.pull)
        push_tpl = template("bench_push_tpl", max(args.push))

        # -- initial pull -----------------------------------------------------------------
        db = clone("bench_pull", pull_tpl)
        ceiling, ceiling_rows = pull_ceiling(pg, db, work)
        service = serve(db)
        try:
            store, engine = laptop(service, work / "pull")
            started = time.perf_counter()
            report = engine.pull()
            seconds = time.perf_counter() - started
            engine.close()
            store.close()
        finally:
            service.stop()
        rows = report.pull.rows
        results["pull"] = {
            "rows": rows,
            "seconds": round(seconds, 2),
            "rows_per_s": round(rows / seconds),
            "ceiling_rows_per_s": round(ceiling),
            "ceiling_rows": ceiling_rows,
            "share": round(rows / seconds / ceiling, 3),
        }
        print(
            f"initial pull {rows} rows through the service: {rows / seconds:,.0f} rows/s; "
            f"ceiling {ceiling:,.0f} rows/s ({ceiling_rows} rows); "
            f"{rows / seconds / ceiling:.0%} of it",
            flush=True,
        )

        def measure_push(n: int) -> dict[str, Any]:
            """``n`` queued corrections pushed through the service vs. the ceiling."""
            ids = assessment_ids(pg, push_tpl, n)
            runs = []
            for k in range(args.repeat):
                top = push_ceiling(pg, clone(f"bench_ceiling_{n}_{k}", push_tpl), ids, args.batch)
                db = clone(f"bench_push_{n}_{k}", push_tpl)
                service = serve(db)
                try:
                    store, engine = laptop(service, work / f"push{n}_{k}")
                    engine.batch_size = args.batch
                    engine.pull()  # the laptop holds the proposals it corrects
                    queue_corrections(store, ids)
                    started = time.perf_counter()
                    pushed = engine.push()
                    seconds = time.perf_counter() - started
                    if pushed.pushed != n:
                        raise SystemExit(f"pushed {pushed.pushed} of {n}: {pushed}")
                    engine.close()
                    store.close()
                finally:
                    service.stop()
                pg.drop_database(db)
                pg.drop_database(f"bench_ceiling_{n}_{k}")
                rate = n / seconds
                runs.append((rate / top, rate, top, seconds))
                print(
                    f"  push run {k + 1}: {rate:,.0f} rows/s, ceiling {top:,.0f} rows/s", flush=True
                )
            share, rate, top, seconds = sorted(runs)[len(runs) // 2]
            result = {
                "rows": n,
                "seconds": round(seconds, 2),
                "rows_per_s": round(rate),
                "ceiling_rows_per_s": round(top),
                "share": round(share, 3),
                "shares": [round(r[0], 3) for r in runs],
            }
            print(
                f"push {n} corrections through the service: {rate:,.0f} rows/s; ceiling "
                f"{top:,.0f} rows/s; {share:.0%} of it (median of "
                + ", ".join(f"{r[0]:.0%}" for r in runs)
                + ")",
                flush=True,
            )
            return result

        # -- push ---------------------------------------------------------------------------
        # The disk's commit latency swings from run to run on a shared machine: each size is
        # measured --repeat times, ceiling and push taking turns, and the median share counts.
        for n in args.push:
            results[f"push_{n}"] = measure_push(n)

        # -- one change, warm connection ----------------------------------------------------
        db = clone("bench_one", pull_tpl)
        service = serve(db)
        try:
            store, engine = laptop(service, work / "one")
            engine.sync_once()
            # count the requests of each round on the engine's own (warm) connection
            http = engine._service.http if engine._service else None
            assert http is not None, "the engine syncs through the service"
            sent: list[int] = [0]
            http.event_hooks["request"].append(lambda _request: sent.__setitem__(0, sent[0] + 1))
            ids = assessment_ids(pg, db, args.rounds + 10)
            rng = random.Random(3)
            timings = []
            for i, a in enumerate(ids):
                actions.correct(store, assessment_id=a, teacher_id="T001", level=rng.randint(1, 4))
                if i == 10:
                    sent[0] = 0
                started = time.perf_counter()
                done = engine.sync_once()
                if done.pushed != 1:
                    raise SystemExit(f"the round trip pushed {done.pushed}, not 1: {done}")
                if i >= 10:
                    timings.append((time.perf_counter() - started) * 1000)
            requests = sent[0] / len(timings)
            # the floor of one request on the same connection: /healthz touches no database
            floor = []
            for _ in range(60):
                started = time.perf_counter()
                http.get("/healthz").raise_for_status()
                floor.append((time.perf_counter() - started) * 1000)
            engine.close()
            store.close()
        finally:
            service.stop()
        results["round_trip_ms"] = {
            "p50": round(statistics.median(timings), 1),
            "p95": round(percentile(timings, 95), 1),
            "rounds": len(timings),
            "requests_per_round": round(requests, 1),
            "healthz_p50": round(statistics.median(floor[10:]), 1),
        }
        print(
            f"one-change round trip (push + pull, warm connection, {len(timings)} rounds): "
            f"p50 {statistics.median(timings):.1f} ms, p95 {percentile(timings, 95):.1f} ms; "
            f"{requests:.1f} requests each; GET /healthz on the same connection "
            f"p50 {statistics.median(floor[10:]):.1f} ms",
            flush=True,
        )
    results["load"] = load()
    print(load())
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
