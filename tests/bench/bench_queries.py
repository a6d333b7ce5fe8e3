"""Seed 001's five queries on a district-sized database: p50/p95 against their targets.

    .venv/bin/python -m tests.bench.bench_queries [--assessments 1000000] [--runs 200]

Starts its own PostgreSQL 15 (durable settings: fsync on), migrates an empty database,
loads 500 teachers, 15,000 students, 150,000 evidence entries, 1,000,000 assessments and
100,000 corrections with COPY, ANALYZEs, then times each query (warm cache, one connection,
varying the student for the per-student queries). Goal: p95 under a tenth of the target.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

import psycopg2

from sync.server.admin import migrate
from tests.support import seed_queries as Q
from tests.support.district import DistrictSize, generate
from tests.support.pgcluster import PgCluster


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assessments", type=int, default=1_000_000)
    parser.add_argument("--corrections", type=int, default=100_000)
    parser.add_argument("--students", type=int, default=15_000)
    parser.add_argument("--teachers", type=int, default=500)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    size = DistrictSize(
        teachers=args.teachers,
        students=args.students,
        entries=args.students * 10,
        assessments=args.assessments,
        corrections=args.corrections,
    )
    rng = random.Random(1)
    with PgCluster.started(durable=True) as pg:
        url = pg.create_database("district")
        migrate(url, "head")
        started = time.perf_counter()
        generate(pg.dsn("district"), size, progress=lambda m: print(f"  loaded {m}", flush=True))
        print(f"dataset: {size} in {time.perf_counter() - started:.1f} s")
        conn = psycopg2.connect(pg.dsn("district"))
        conn.autocommit = True
        cur = conn.cursor()
        results = []
        cases = [(q.name, q.sql, q.target_ms) for q in Q.ALL]
        cases.append(("review queue (app form of query 2)", Q.REVIEW_QUEUE, Q.Q2.target_ms))
        for name, sql, target in cases:
            timings = []
            for i in range(args.runs + 5):
                student = f"S{rng.randint(1, size.students):03d}"
                text = sql.replace("'S001'", f"'{student}'")
                t0 = time.perf_counter()
                cur.execute(text)
                cur.fetchall()
                if i >= 5:  # warm-up runs are not counted
                    timings.append((time.perf_counter() - t0) * 1000)
            row = {
                "query": name,
                "target_ms": target,
                "p50_ms": round(statistics.median(timings), 2),
                "p95_ms": round(percentile(timings, 95), 2),
                "goal_ms": target / 10,
            }
            row["meets_target"] = row["p95_ms"] <= target
            row["meets_goal"] = row["p95_ms"] <= target / 10
            results.append(row)
            verdict = (
                "ok" if row["meets_goal"] else "target only" if row["meets_target"] else "MISS"
            )
            print(
                f"{name:45s} p50 {row['p50_ms']:8.2f} ms  p95 {row['p95_ms']:8.2f} ms  "
                f"target {target:5.0f} ms  goal {target / 10:5.1f} ms  {verdict}"
            )
        conn.close()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
