"""Roster import speed: a 10,000-student CSV into a demo store, through the capture path.

    .venv/bin/python -m tests.bench.bench_roster [--students 10000] [--runs 3]

Each run imports into a fresh copy of a demo store (one transaction, every row queued for
sync) and reports the wall time; the median counts.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sync.io.roster import import_roster
from sync.store.local import LocalStore
from sync.store.profiles import create_demo_store


def write_roster(path: Path, n: int) -> Path:
    lines = ["student_id,name,grade,teacher_id"]
    lines += [f'S{i:05d},"Student {i}, Jr.",{6 + i % 3},T00{1 + i % 2}' for i in range(1, n + 1)]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        roster = write_roster(Path(tmp) / "roster.csv", args.students)
        for run in range(args.runs):
            path = create_demo_store(Path(tmp) / f"run{run}")
            with LocalStore.open(path, create=False) as store:
                started = time.perf_counter()
                result = import_roster(store, [roster])
                times.append(time.perf_counter() - started)
            assert result.preview.added == args.students
    print(
        f"{args.students} students: median {statistics.median(times):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in times)})"
    )


if __name__ == "__main__":
    main()
