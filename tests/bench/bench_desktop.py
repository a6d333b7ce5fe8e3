"""Desktop benchmarks: cold start, opening a 50k review queue, keypress to next item.

    .venv/bin/python -m tests.bench.bench_desktop [--pending 50000] [--decisions 200]

* **cold start**: ``flourish demo --keep --quit-after-paint`` in a subprocess (offscreen),
  from launching the process to the first painted main window (and to process exit);
  median of 5 runs after one warm-up run, with bytecode caching on as in an install. The
  processor time the process used until the first paint is reported too: on a shared,
  busy machine it is the steadier figure.
* **queue open**: a store with ``--pending`` uncorrected assessments (generated with
  ``store.apply_remote()`` and bulk inserts: 400 students, one evidence text per 10
  proposals), from asking the review panel to load until the first item's proposal and
  evidence text are on screen; median of 5.
* **keypress**: ``--decisions`` decisions by keyboard (A, 1-4 + Enter, S) on that queue,
  from the key press until the next item is displayed; median and p95.

Targets: start < 1.0 s, queue open < 300 ms, keypress < 30 ms p95. A script, not a test:
the results go to the README by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from sync.model.curriculum import load_curriculum  # noqa: E402
from sync.model.vocab import ENTRY_TYPES, LEVELS  # noqa: E402
from sync.store.local import LocalStore  # noqa: E402
from sync.store.profiles import create_demo_store  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
WORDS = (
    "we talked about the plan and then I tried again because the first idea did not work "
    "so the group listened and shared what everyone noticed before we decided together"
).split()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def make_big_store(path: Path, *, pending: int, students: int = 400, seed: int = 7) -> Path:
    """A local store with ``pending`` uncorrected assessments (bulk, not captured)."""
    rnd = random.Random(seed)
    skills = load_curriculum().skills
    path.parent.mkdir(parents=True, exist_ok=True)
    with LocalStore.open(path) as store, store.apply_remote() as conn:
        conn.exec_driver_sql(
            "INSERT OR IGNORE INTO teachers (id, name, email) VALUES "
            "('T001', 'Ms. Rodriguez', 't001@example.org')"
        )
        conn.exec_driver_sql(
            "INSERT INTO students (id, name, grade, teacher_id) VALUES (?, ?, ?, 'T001')",
            [(f"S{n:04d}", f"Student {n:04d}", 6 + n % 3) for n in range(1, students + 1)],
        )
        n_entries = max(1, pending // 10)
        entries = []
        texts = []
        for n in range(1, n_entries + 1):
            body = " ".join(rnd.choice(WORDS) for _ in range(300))
            texts.append(body)
            entries.append(
                (
                    f"DE{n:06d}",
                    f"S{rnd.randint(1, students):04d}",
                    "T001",
                    rnd.choice(ENTRY_TYPES),
                    f"2026-{rnd.randint(9, 12):02d}-{rnd.randint(1, 28):02d}",
                    body,
                    json.dumps({"title": f"Evidence {n}"}),
                )
            )
        conn.exec_driver_sql(
            "INSERT INTO data_entries (id, student_id, teacher_id, type, date, content, metadata)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            entries,
        )
        rows = []
        for n in range(1, pending + 1):
            e = rnd.randrange(n_entries)
            skill = rnd.choice(skills)
            start = rnd.randrange(0, 1200)
            rows.append(
                (
                    n,
                    entries[e][0],
                    entries[e][1] if rnd.random() < 0.7 else f"S{rnd.randint(1, students):04d}",
                    skill.name,
                    skill.category,
                    rnd.choice(LEVELS),
                    round(rnd.uniform(0.3, 0.99), 2),
                    "The evidence shows the student " + " ".join(rnd.sample(WORDS, 12)) + ".",
                    texts[e][start : start + 80].strip() or texts[e][:80],
                    f"2026-10-{rnd.randint(1, 28):02d} 10:00:00.000000",
                )
            )
        conn.exec_driver_sql(
            "INSERT INTO assessments (id, data_entry_id, student_id, skill_name, skill_category,"
            " level, confidence_score, justification, source_quote, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.exec_driver_sql(
            "INSERT OR REPLACE INTO sync_state (key, value) VALUES ('teacher_id', 'T001')"
        )
    with LocalStore.open(path) as store, store.engine.connect() as c:
        c.exec_driver_sql("ANALYZE")
    return path


def _wait(app: object, condition: object, timeout: float = 30.0) -> float:
    """Process events until ``condition()``; returns the seconds it took."""
    from PySide6.QtWidgets import QApplication

    assert isinstance(app, QApplication) and callable(condition)
    start = time.perf_counter()
    while not condition():
        app.processEvents()
        if time.perf_counter() - start > timeout:
            raise TimeoutError("condition not reached")
    return time.perf_counter() - start


def args_pending(path: Path) -> int:
    with LocalStore.open(path) as store, store.read() as conn:
        return int(
            conn.exec_driver_sql(
                "SELECT COUNT(*) FROM assessments WHERE corrected = 0"
            ).scalar_one()
        )


def bench_cold_start(runs: int) -> dict[str, float]:
    """``flourish demo --keep --quit-after-paint`` in a fresh process.

    ``first_paint``: from launching the process to the first painted main window (the app
    prints it when ``FLOURISH_BENCH_T0`` holds the launch time); ``round_trip``: launch to
    process exit, which adds shutting down.
    """
    folder = Path(tempfile.mkdtemp(prefix="flourish-bench-demo-"))
    create_demo_store(folder)
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    env["FLOURISH_SETTINGS_FILE"] = str(folder / "settings.ini")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed app has its .pyc files
    cmd = [
        sys.executable,
        "-m",
        "desktop.cli",
        "--data-dir",
        str(folder),
        "demo",
        "--keep",
        "--quit-after-paint",
    ]
    subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True)  # warm the OS cache
    paints, cpus, trips = [], [], []
    for _ in range(runs):
        env["FLOURISH_BENCH_T0"] = repr(time.time())
        start = time.perf_counter()
        done = subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True, text=True)
        trips.append(time.perf_counter() - start)
        line = next(x for x in done.stderr.splitlines() if x.startswith("first-paint-s "))
        paints.append(float(line.split()[1]))
        cpu = next(x for x in done.stderr.splitlines() if x.startswith("first-paint-cpu-s "))
        cpus.append(float(cpu.split()[1]))
    return {
        "first_paint_median_s": statistics.median(paints),
        "first_paint_best_s": min(paints),
        "first_paint_cpu_median_s": statistics.median(cpus),
        "round_trip_median_s": statistics.median(trips),
    }


def bench_queue(path: Path, *, opens: int, decisions: int) -> dict[str, float]:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    import desktop.core.qtfix  # noqa: F401
    from desktop.core.context import AppContext
    from desktop.core.prefs import Prefs
    from desktop.review.panel import ReviewPanel
    from desktop.shell.mainwindow import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    os.environ["FLOURISH_SETTINGS_FILE"] = str(path.parent / "settings.ini")
    store = LocalStore.open(path)
    ctx = AppContext.create(store)
    window = MainWindow(ctx, prefs=Prefs(), start_sync=False)
    window.resize(1400, 900)
    window.show()
    panel = window.review
    _wait(app, lambda: ctx.tasks.idle and panel.controller.item is not None)
    first_item, full_list = [], []
    for _ in range(opens):  # a fresh review panel each time: the teacher opens the queue
        fresh = ReviewPanel(ctx)
        fresh.resize(1200, 800)
        fresh.show()
        start = time.perf_counter()
        fresh.start()
        first_item.append(
            _wait(
                app,
                lambda fresh=fresh: (
                    fresh.controller.item is not None
                    and fresh.evidence.text.toPlainText() == fresh.controller.item.content
                ),
            )
        )
        _wait(app, lambda fresh=fresh: fresh.model.complete and not fresh.model.loading)
        full_list.append(time.perf_counter() - start)
        _wait(app, lambda: ctx.tasks.idle)
        rows = fresh.model.rowCount()
        fresh.close()
        fresh.deleteLater()
    assert rows == args_pending(path), rows
    keys = [Qt.Key.Key_A, Qt.Key.Key_A, Qt.Key.Key_S, "correct", Qt.Key.Key_Return]
    latencies = []
    for n in range(decisions):
        key = keys[n % len(keys)]
        before = panel.controller.row
        if key == "correct":
            QTest.keyClick(panel.table, Qt.Key.Key_2)
            start = time.perf_counter()
            QTest.keyClick(panel.editor.notes, Qt.Key.Key_Return)
        else:
            start = time.perf_counter()
            QTest.keyClick(panel.table, key)
        _wait(
            app,
            lambda before=before: (
                panel.controller.row != before
                and panel.controller.item is not None
                and panel.evidence.text.toPlainText() == panel.controller.item.content
            ),
        )
        latencies.append(time.perf_counter() - start)
        _wait(app, lambda: ctx.tasks.idle)  # a person reads before the next key
    with store.read() as conn:
        decided = conn.exec_driver_sql("SELECT COUNT(*) FROM teacher_corrections").scalar_one()
    window.really_close()
    window.shutdown()
    store.close()
    return {
        "rows": float(panel.model.rowCount()),
        "first_item_median_ms": statistics.median(first_item) * 1000,
        "first_item_max_ms": max(first_item) * 1000,
        "full_list_median_ms": statistics.median(full_list) * 1000,
        "keypress_median_ms": statistics.median(latencies) * 1000,
        "keypress_p95_ms": percentile(latencies, 95) * 1000,
        "keypress_max_ms": max(latencies) * 1000,
        "decisions_stored": float(decided),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=50_000)
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, object] = {"cold_start": bench_cold_start(args.runs)}
    print("cold start:", json.dumps(results["cold_start"]), flush=True)
    folder = Path(tempfile.mkdtemp(prefix="flourish-bench-queue-"))
    started = time.perf_counter()
    path = make_big_store(folder / "flourish.sqlite3", pending=args.pending)
    print(f"generated {args.pending} pending proposals in {time.perf_counter() - started:.1f} s")
    results["queue"] = bench_queue(path, opens=args.runs, decisions=args.decisions)
    print("queue:", json.dumps(results["queue"], indent=2))
    out = ROOT / "tests" / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "desktop.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
