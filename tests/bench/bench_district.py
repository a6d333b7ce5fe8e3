"""A district on one machine: thousands of laptops syncing through one service process.

    .venv/bin/python -m tests.bench.bench_district [--teachers 1000] [--students 30]
        [--laptops 2000] [--intervals 180 60 20] [--duration 90] [--pool-size 8]

Starts its own PostgreSQL 15 (the suite's throwaway cluster), seeds a district with COPY
(``--teachers`` × ``--students`` students, ``--assessments`` proposals per student), gives
every laptop a real device token (two laptops per teacher by default) and starts one
``flourish server serve`` process (TLS, ``--pool-size``). Then every laptop is an httpx
``AsyncClient`` of its own speaking the laptop's protocol exactly as
``sync/replication/client`` does, one sync at a time:

* at the start, ``/v1/sync/register`` and ``/v1/sync/pull/window``: the laptop is up to
  date (its pull cursor is the window's bound);
* each sync: ``GET /v1/sync/hello``, ``POST /v1/sync/push`` with one new correction of one
  of its teacher's proposals (the two laptops of a teacher take turns, so they never
  correct the same one), ``POST /v1/sync/pull/window``, then one ``/v1/sync/pull/page``
  per step (tombstones, each table, visibility; more when a page comes back full) from its
  cursor: the other laptop's corrections arrive here.

Each phase lets every laptop sync once per interval (first one at a random moment of the
first interval, so the load is even), for ``--duration`` seconds, and reports the syncs
completed per second, their latency (p50/p95/max, the whole sync: 13 requests on one
connection, reconnecting with a TLS handshake when the service closed it while idle) and
the most backends of the service's login seen in ``pg_stat_activity`` (sampled every
0.1 s) next to the pool's bound (``--pool-size`` plus SQLAlchemy's overflow of 4).
Target: p95 < 100 ms. The load generator shares the machine's cores with the service and
PostgreSQL; its own CPU time is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import random
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg2

from sync.replication.wire import PULL_STEPS as STEPS
from sync.replication.wire import exchanged_columns
from sync.service.db import DbSettings
from tests.bench.servicebench import (
    BackendSampler,
    Laptop,
    ServiceProcess,
    headers,
    load,
    percentile,
    pg_cpu_seconds,
    raise_open_files,
    seed_district,
)
from tests.support.pgcluster import PgCluster

PAGE = 5000  # the laptop's page size (SyncEngine.page_size)
LEVELS = ("Emerging", "Developing", "Proficient", "Advanced")


class SimLaptop:
    """One laptop's state: its connection, device number, pull cursor and proposals."""

    def __init__(self, lap: Laptop, client: httpx.AsyncClient, proposals: list[int]) -> None:
        self.lap = lap
        self.client = client
        self.proposals = proposals
        self.device_no = 0
        self.cursor = "0"
        self.seq = 0
        self.errors = 0

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        answer = await self.client.request(method, path, json=body)
        if answer.status_code >= 300:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:200]}")
        return answer.json()

    async def start(self) -> None:
        answer = await self.call(
            "POST",
            "/v1/sync/register",
            {"device_uuid": str(_uuid(self.lap.token)), "hostname": "bench"},
        )
        self.device_no = int(answer["device_no"])
        self.cursor = str((await self.call("POST", "/v1/sync/pull/window", {}))["hi"])

    def correction(self) -> dict[str, Any]:
        self.seq += 1
        assessment = self.proposals[(self.seq - 1) % len(self.proposals)]
        row_id = self.device_no * 10**9 + self.seq
        hlc = (int(time.time() * 1000) << 16) + self.seq
        row = {
            "id": row_id,
            "assessment_id": assessment,
            "original_level": "Developing",
            "corrected_level": LEVELS[self.seq % 4],
            "original_justification": "because of the evidence",
            "corrected_justification": f"seen in class, round {self.seq}",
            "teacher_notes": None,
            "corrected_by": self.lap.teacher_id,
            "corrected_at": time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime()),
            "use_as_example": 1,
            "sync_hlc": hlc,
            "sync_origin": self.device_no,
            "sync_version": 0,
        }
        return {
            "op_id": self.seq,
            "table": "teacher_corrections",
            "row_pk": str(row_id),
            "op": "upsert",
            "payload": json.dumps(row, separators=(",", ":")),
            "sync_hlc": hlc,
        }

    async def push_one(self) -> None:
        """Push one new correction; it must be applied."""
        body = {
            "device_no": self.device_no,
            "client_now_ms": int(time.time() * 1000),
            "ops": [self.correction()],
        }
        answer = await self.call("POST", "/v1/sync/push", body)
        status = answer["results"][0]["status"]
        if status != "applied":
            raise RuntimeError(f"push: {status} {answer['results'][0]}")

    async def sync(self) -> int:
        """One incremental sync, as the laptop's engine runs it; rows pulled."""
        await self.call("GET", "/v1/sync/hello")
        await self.push_one()
        hi = str((await self.call("POST", "/v1/sync/pull/window", {}))["hi"])
        pulled = 0
        if int(hi) > int(self.cursor):
            for step in STEPS:
                after = ("0", 0)
                while True:
                    page = {
                        "step": step,
                        "lo": self.cursor,
                        "hi": hi,
                        "after_txid": after[0],
                        "after_version": after[1],
                        "limit": PAGE,
                    }
                    rows = (await self.call("POST", "/v1/sync/pull/page", page))["rows"]
                    pulled += len(rows)
                    if len(rows) < PAGE:
                        break
                    after = _after(step, rows[-1])
            self.cursor = hi
        return pulled


def _after(step: str, last: list[Any]) -> tuple[str, int]:
    """The keyset position after a full page (as the laptop's pull computes it)."""
    if step in ("tombstones", "visibility"):
        return str(last[-2]), int(last[-1])
    return str(last[-1]), int(last[exchanged_columns(step).index("sync_version")])


def _uuid(token: str) -> Any:
    import uuid

    return uuid.uuid5(uuid.NAMESPACE_URL, token)


def proposals_by_teacher(pg: PgCluster, db: str) -> dict[str, list[int]]:
    conn = psycopg2.connect(pg.dsn(db))
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT s.teacher_id, a.id FROM assessments a "
                "JOIN students s ON s.id = a.student_id ORDER BY a.id"
            )
            found: dict[str, list[int]] = {}
            for teacher, assessment in cur:
                found.setdefault(teacher, []).append(assessment)
            return found
    finally:
        conn.close()


async def phase(
    laptops: list[SimLaptop], interval: float, duration: float
) -> tuple[list[float], int, int, int, float]:
    """Every laptop syncs once per ``interval`` for ``duration`` s: latencies, rows, errors,
    syncs cut by a closed keep-alive connection and the seconds the phase took."""
    latencies: list[float] = []
    rows = 0
    errors = 0
    dropped = 0
    started = time.monotonic()
    end = started + duration

    async def run(lap: SimLaptop) -> None:
        nonlocal rows, errors, dropped
        due = started + random.uniform(0, interval)
        while due < end:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            t0 = time.perf_counter()
            try:
                rows += await lap.sync()
                latencies.append(time.perf_counter() - t0)
            except httpx.RemoteProtocolError:
                # the service closed an idle keep-alive connection (after 5 s) just as
                # the next request went out on it: the laptop's next sync retries
                dropped += 1
            except (httpx.HTTPError, RuntimeError) as exc:
                errors += 1
                if errors <= 5:
                    print(f"  sync error: {exc!r}", file=sys.stderr)
            due += interval

    await asyncio.gather(*(run(lap) for lap in laptops))
    return latencies, rows, errors, dropped, time.monotonic() - started


async def drive(
    service: ServiceProcess,
    pg: PgCluster,
    db: str,
    fleet: list[Laptop],
    args: argparse.Namespace,
) -> list[dict[str, Any]]:
    context = service.ssl_context()
    by_teacher = proposals_by_teacher(pg, db)
    laptops: list[SimLaptop] = []
    turn: dict[str, int] = {}
    per_teacher = max(1, args.laptops // args.teachers)
    for lap in fleet:
        k = turn.get(lap.teacher_id, 0)
        turn[lap.teacher_id] = k + 1
        own = by_teacher[lap.teacher_id][k::per_teacher]  # laptops of a teacher take turns
        client = httpx.AsyncClient(
            base_url=service.url,
            verify=context,
            headers=headers(lap.token),
            timeout=httpx.Timeout(60.0, connect=30.0),
            limits=httpx.Limits(max_connections=1),
        )
        laptops.append(SimLaptop(lap, client, own))
    t0 = time.monotonic()
    gate = asyncio.Semaphore(32)

    async def start(lap: SimLaptop) -> None:
        async with gate:
            await lap.start()

    await asyncio.gather(*(start(lap) for lap in laptops))
    print(f"{len(laptops)} laptops registered and up to date in {time.monotonic() - t0:.1f} s")
    results = []
    limit = args.pool_size + DbSettings(url="").max_overflow
    for interval in args.intervals:
        cpu0 = time.process_time()
        svc0 = service.cpu_seconds()
        pg0 = pg_cpu_seconds(pg)
        with BackendSampler(pg, service.login) as sampler:
            latencies, rows, errors, dropped, seconds = await phase(
                laptops, interval, args.duration
            )
        syncs = max(1, len(latencies))
        svc_cpu = service.cpu_seconds() - svc0
        pg_cpu = pg_cpu_seconds(pg) - pg0
        gen_cpu = time.process_time() - cpu0
        result = {
            "laptops": len(laptops),
            "interval_s": interval,
            "offered_syncs_per_s": round(len(laptops) / interval, 1),
            "syncs": len(latencies),
            "syncs_per_s": round(len(latencies) / seconds, 1),
            "errors": errors,
            "cut_by_keep_alive_close": dropped,
            "rows_pulled": rows,
            "p50_ms": round(percentile(latencies, 50) * 1000, 1),
            "p95_ms": round(percentile(latencies, 95) * 1000, 1),
            "max_ms": round(max(latencies, default=float("nan")) * 1000, 1),
            "max_backends": sampler.max_backends,
            "max_active_backends": sampler.max_active,
            "pool_size": args.pool_size,
            "pool_bound": limit,
            "service_cpu_s": round(svc_cpu, 1),
            "postgres_cpu_s": round(pg_cpu, 1),
            "load_generator_cpu_s": round(gen_cpu, 1),
            "cpu_ms_per_sync": {
                "service": round(svc_cpu / syncs * 1000, 1),
                "postgres": round(pg_cpu / syncs * 1000, 1),
                "load_generator": round(gen_cpu / syncs * 1000, 1),
            },
            "seconds": round(seconds, 1),
            "load": load(),
        }
        results.append(result)
        print(
            f"every {interval:g} s: {result['syncs_per_s']} syncs/s "
            f"(offered {result['offered_syncs_per_s']}), p50 {result['p50_ms']} ms, "
            f"p95 {result['p95_ms']} ms, max {result['max_ms']} ms, errors {errors}, "
            f"cut by a keep-alive close {dropped}; "
            f"backends max {sampler.max_backends} (active {sampler.max_active}) vs pool "
            f"{args.pool_size} (+overflow: {limit}); CPU per sync: service "
            f"{svc_cpu / syncs * 1000:.1f} ms, PostgreSQL {pg_cpu / syncs * 1000:.1f} ms, "
            f"load generator {gen_cpu / syncs * 1000:.1f} ms; {load()}",
            flush=True,
        )
    await asyncio.gather(*(lap.client.aclose() for lap in laptops))
    return results


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--teachers", type=int, default=1000)
    parser.add_argument("--students", type=int, default=30, help="students per teacher")
    parser.add_argument("--assessments", type=int, default=10, help="proposals per student")
    parser.add_argument("--laptops", type=int, default=2000)
    parser.add_argument(
        "--intervals",
        type=float,
        nargs="+",
        default=[180.0, 60.0, 20.0],
        help="seconds between one laptop's syncs, one phase each",
    )
    parser.add_argument("--duration", type=float, default=90.0, help="seconds per phase")
    parser.add_argument("--pool-size", type=int, default=8)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.laptops < args.teachers:
        parser.error("--laptops must be at least --teachers (every teacher has a laptop)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    given = sys.argv[1:] if argv is None else argv
    command = shlex.join([".venv/bin/python", "-m", "tests.bench.bench_district", *given])
    print(f"$ {command}\n{load()}", flush=True)
    raise_open_files(args.laptops + 1024)
    work = Path(tempfile.mkdtemp(prefix="flourish-bench-district-"))
    atexit.register(shutil.rmtree, work, True)  # TLS files and the service's log
    with PgCluster.started(settings=["max_connections = 300"]) as pg:
        t0 = time.monotonic()
        url, fleet = seed_district(
            pg,
            "district",
            teachers=args.teachers,
            students_per_teacher=args.students,
            assessments_per_student=args.assessments,
            laptops=args.laptops,
        )
        print(
            f"seeded {args.teachers} teachers, {args.teachers * args.students} students, "
            f"{args.teachers * args.students * args.assessments} proposals, "
            f"{len(fleet)} device tokens in {time.monotonic() - t0:.1f} s",
            flush=True,
        )
        service = ServiceProcess(url, work / "service", pool_size=args.pool_size).start()
        try:
            results = asyncio.run(drive(service, pg, "district", fleet, args))
        finally:
            service.stop()
    if args.json:
        args.json.write_text(json.dumps({"command": command, "phases": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
