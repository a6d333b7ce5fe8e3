"""Idle live-update connections held by one service process, and the live-update delay.

    .venv/bin/python -m tests.bench.bench_live [--connections 10000] [--teachers 1000]
        [--changes 50] [--timeout 60]

Starts its own PostgreSQL 15 and one ``flourish server serve`` process (TLS), seeds a
district (``--teachers``, a few students each) and gives every connection a real device
token (``--connections / --teachers`` laptops per teacher). Then:

1. **Memory per connection.** The service's resident memory (``VmRSS``) is read once it
   is warm (requests answered, 64 long polls answered, so its worker threads exist), then
   half of the connections open (TLS) and ask ``GET /v1/sync/wait?timeout=--timeout`` with
   their bearer token and ``Flourish-Version``, and are held open by the service: idle
   laptops waiting for a change, re-asking after each timeout as the app does. After
   ``--settle`` seconds the memory is read again; then the other half, and again. Reported:
   (all − warm) / connections, and the second half's increase / its connections (the
   marginal cost, free of one-time allocations).
2. **Live-update delay.** With every connection still waiting, ``--changes`` times one more
   laptop of a teacher (a teacher at a time, each a different one) pushes a correction
   through ``/v1/sync/push``; the delay is from that push leaving the laptop to each of the
   teacher's waiting connections getting ``{"changed": true}``: p50/p95/max over all of
   them (the p95 also from the push's answer, i.e. its commit: the fan-out alone).
   Target: p95 < 1 s.

The waiting laptops are plain asyncio streams speaking HTTP/1.1 (10,000 httpx clients
would cost the load generator, on the same cores, more than the service), and the open
file limit is raised to what the connections need (both processes).
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import shlex
import shutil
import ssl
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from sync.replication.protocol import VERSION_HEADER, app_version
from tests.bench.bench_district import SimLaptop, proposals_by_teacher
from tests.bench.servicebench import (
    Laptop,
    ServiceProcess,
    headers,
    load,
    percentile,
    raise_open_files,
    seed_district,
)
from tests.support.pgcluster import PgCluster


class Waiter:
    """One idle laptop: a TLS connection that keeps asking ``/v1/sync/wait``."""

    def __init__(
        self, lap: Laptop, port: int, context: ssl.SSLContext | None, timeout: int
    ) -> None:
        self.lap = lap
        self.port = port
        self.context = context
        self.request = (
            f"GET /v1/sync/wait?timeout={timeout} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {lap.token}\r\n"
            f"{VERSION_HEADER}: {app_version()}\r\n\r\n"
        ).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.changed_at: list[float] = []  # when each {"changed": true} arrived
        self.timeouts = 0
        self.errors: list[str] = []

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(
            "127.0.0.1", self.port, ssl=self.context
        )

    async def ask(self) -> bool:
        """One long poll on the open connection; True when it says changed."""
        assert self.reader is not None and self.writer is not None
        self.writer.write(self.request)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await self.reader.readexactly(length)
        if status != b"200":
            raise RuntimeError(f"HTTP {status.decode()}: {body[:200].decode(errors='replace')}")
        return bool(json.loads(body)["changed"])

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                if await self.ask():
                    self.changed_at.append(time.perf_counter())
                else:
                    self.timeouts += 1
            except (OSError, asyncio.IncompleteReadError, RuntimeError) as exc:
                self.errors.append(str(exc))
                if stop.is_set():
                    return
                await asyncio.sleep(1)
                try:
                    await self.connect()
                except OSError as again:
                    self.errors.append(str(again))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def drive(
    service: ServiceProcess, pg: PgCluster, fleet: list[Laptop], args: argparse.Namespace
) -> dict[str, Any]:
    context = service.ssl_context() if service.with_tls else None
    waiters = [
        Waiter(lap, service.port, context, args.timeout) for lap in fleet[: args.connections]
    ]
    pushers_fleet = fleet[args.connections :]  # one more laptop per teacher
    by_teacher = proposals_by_teacher(pg, "live")

    verify = service.ssl_context()
    async with httpx.AsyncClient(base_url=service.url, verify=verify, headers=headers()) as c:
        for _ in range(20):  # warm: the routes, the pool, the listener
            (await c.get("/readyz")).raise_for_status()
    # ... and the worker threads that check tokens: 64 one-second waits at once
    warm = [Waiter(lap, service.port, context, 1) for lap in pushers_fleet[:64]]
    await asyncio.gather(*(w.connect() for w in warm))
    await asyncio.gather(*(w.ask() for w in warm))
    for w in warm:
        w.close()
    await asyncio.sleep(1)
    before = service.rss_kib()
    print(f"service warm: RSS {before / 1024:.1f} MiB", flush=True)

    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    gate = asyncio.Semaphore(64)

    async def connect(w: Waiter) -> None:
        async with gate:
            await w.connect()

    async def hold(group: list[Waiter]) -> int:
        """Open ``group``'s connections, start their long polls; RSS once all wait."""
        t0 = time.monotonic()
        await asyncio.gather(*(connect(w) for w in group))
        tasks.extend(asyncio.create_task(w.run(stop)) for w in group)
        print(f"{len(group)} more connections open in {time.monotonic() - t0:.1f} s", flush=True)
        await asyncio.sleep(args.settle)  # every request in, authenticated and waiting
        return service.rss_kib()

    half = len(waiters) // 2
    at_half = await hold(waiters[:half])
    held = await hold(waiters[half:])
    errors = sum(len(w.errors) for w in waiters)
    per_connection = (held - before) * 1024 / len(waiters)
    marginal = (held - at_half) * 1024 / (len(waiters) - half)
    print(
        f"holding {len(waiters)} waiting connections: RSS {held / 1024:.1f} MiB "
        f"(+{(held - before) / 1024:.1f} MiB: {per_connection / 1024:.1f} KiB per connection; "
        f"from {half} to {len(waiters)}: {marginal / 1024:.1f} KiB per connection); "
        f"errors so far {errors}; {load()}",
        flush=True,
    )
    first = next((w.errors[0] for w in waiters if w.errors), None)
    if first is not None:
        print(f"  first error: {first}", flush=True)
        if "HTTP 404" in first:
            raise SystemExit("this service has no GET /v1/sync/wait (live updates)")

    # -- the delay: a change by one more laptop of a teacher wakes that teacher's waiters --
    delays: list[float] = []
    after_answer: list[float] = []  # from the push's answer (its commit) instead
    missed = 0
    teachers = sorted({w.lap.teacher_id for w in waiters})
    chosen = [teachers[k * len(teachers) // args.changes] for k in range(args.changes)]
    pushers: dict[str, SimLaptop] = {}
    for lap in pushers_fleet:
        if lap.teacher_id in chosen and lap.teacher_id not in pushers:
            client = httpx.AsyncClient(
                base_url=service.url,
                verify=verify,
                headers=headers(lap.token),
                timeout=httpx.Timeout(60.0),
            )
            pushers[lap.teacher_id] = SimLaptop(lap, client, by_teacher[lap.teacher_id])
    await asyncio.gather(*(p.start() for p in pushers.values()))
    for k in range(args.changes):
        teacher = chosen[k]
        pusher = pushers[teacher]
        mine = [w for w in waiters if w.lap.teacher_id == teacher]
        seen = [len(w.changed_at) for w in mine]
        sent = time.perf_counter()
        await pusher.push_one()
        answered = time.perf_counter()
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline and any(
            len(w.changed_at) == n for w, n in zip(mine, seen, strict=True)
        ):
            await asyncio.sleep(0.005)
        for w, n in zip(mine, seen, strict=True):
            if len(w.changed_at) > n:
                delays.append(w.changed_at[n] - sent)
                after_answer.append(max(0.0, w.changed_at[n] - answered))
            else:
                missed += 1
        await asyncio.sleep(args.pause)
    await asyncio.gather(*(p.client.aclose() for p in pushers.values()))
    stop.set()
    for w in waiters:
        w.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    result = {
        "connections": len(waiters),
        "rss_before_mib": round(before / 1024, 1),
        "rss_held_mib": round(held / 1024, 1),
        "rss_half_mib": round(at_half / 1024, 1),
        "bytes_per_connection": round(per_connection),
        "marginal_bytes_per_connection": round(marginal),
        "changes": args.changes,
        "woken": len(delays),
        "missed": missed,
        "delay_p50_ms": round(percentile(delays, 50) * 1000, 1),
        "delay_p95_ms": round(percentile(delays, 95) * 1000, 1),
        "delay_max_ms": round(max(delays, default=float("nan")) * 1000, 1),
        "after_push_answer_p95_ms": round(percentile(after_answer, 95) * 1000, 1),
        "errors": sum(len(w.errors) for w in waiters),
        "load": load(),
    }
    print(
        f"live-update delay over {len(delays)} woken connections ({args.changes} changes, "
        f"{missed} not woken within 10 s): p50 {result['delay_p50_ms']} ms, "
        f"p95 {result['delay_p95_ms']} ms, max {result['delay_max_ms']} ms (from the push's "
        f"answer: p95 {result['after_push_answer_p95_ms']} ms); {load()}",
        flush=True,
    )
    return result


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--teachers", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--timeout", type=int, default=60, help="the long poll's timeout (s)")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds before measuring")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds between changes")
    parser.add_argument("--pool-size", type=int, default=8)
    parser.add_argument(
        "--plain",
        action="store_true",
        help="the service without TLS (as behind a TLS proxy such as Caddy)",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if not 1 <= args.timeout <= 60:
        parser.error("--timeout: 1 to 60 seconds (what the service accepts)")
    if args.connections < args.teachers:
        parser.error("--connections must be at least --teachers")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    given = sys.argv[1:] if argv is None else argv
    command = shlex.join([".venv/bin/python", "-m", "tests.bench.bench_live", *given])
    print(f"$ {command}\n{load()}", flush=True)
    limit = raise_open_files(args.connections + 2048)
    if limit < args.connections + 256:
        raise SystemExit(f"the open file limit is {limit}: too low for {args.connections}")
    work = Path(tempfile.mkdtemp(prefix="flourish-bench-live-"))
    atexit.register(shutil.rmtree, work, True)  # TLS files and the service's log
    with PgCluster.started() as pg:
        # one more laptop per teacher (the last ones) makes the changes
        url, fleet = seed_district(
            pg,
            "live",
            teachers=args.teachers,
            students_per_teacher=2,
            assessments_per_student=10,
            laptops=args.connections + args.teachers,
        )
        service = ServiceProcess(
            url, work / "service", pool_size=args.pool_size, tls=not args.plain
        ).start()
        try:
            result = asyncio.run(drive(service, pg, fleet, args))
        finally:
            service.stop()
    if args.json:
        args.json.write_text(json.dumps({"command": command, **result}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
