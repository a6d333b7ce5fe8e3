"""Bundle budget: size of the packaged app and its cold start, next to running from source.

    packaging/build.sh                                 # first: dist/flourish/
    .venv/bin/python -m tests.bench.bench_bundle [--runs 5]

* **size**: ``dist/flourish/`` on disk (``du``), its file count, the ``.tar.gz`` archive and,
  when built (``build.sh --onefile``), ``dist/flourish-onefile``.
* **cold start**: ``flourish demo --keep --quit-after-paint`` (offscreen) on one demo store,
  from launching the process to the first painted main window (the app prints that time
  when ``FLOURISH_BENCH_T0`` holds the launch time) and to process exit; median of
  ``--runs`` runs after one warm-up run, for the frozen program and for
  ``.venv/bin/flourish`` (the same code from source, bytecode cached as in an install),
  taking turns; then the one-file program, if built, on its own.
* **headless start**: ``flourish --version`` to exit, the floor of every command.

A script, not a test: the results go to ``packaging/README.md`` and the README by hand
(also written to ``tests/bench/results/bundle.json``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FROZEN = ROOT / "dist" / "flourish" / "flourish"
ONEFILE = ROOT / "dist" / "flourish-onefile"
SOURCE = ROOT / ".venv" / "bin" / "flourish"


def du_mb(path: Path) -> float:
    """Disk usage in MiB, as ``du -s`` counts it."""
    out = subprocess.run(["du", "-sk", str(path)], check=True, capture_output=True, text=True)
    return int(out.stdout.split()[0]) / 1024


def sizes() -> dict[str, float | int]:
    result: dict[str, float | int] = {
        "bundle_mb": round(du_mb(FROZEN.parent), 1),
        "bundle_files": sum(
            1 for p in FROZEN.parent.rglob("*") if p.is_file() and not p.is_symlink()
        ),
    }
    for archive in sorted((ROOT / "dist").glob("flourish-*.tar.gz")):
        result["archive_mb"] = round(archive.stat().st_size / 2**20, 1)
    if ONEFILE.exists():
        result["onefile_mb"] = round(ONEFILE.stat().st_size / 2**20, 1)
    return result


def _env(folder: Path) -> dict[str, str]:
    """A clean environment: no PYTHONPATH or data-dir overrides, a throwaway HOME."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(folder / "home"),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
        "FLOURISH_SETTINGS_FILE": str(folder / "settings.ini"),
    }


def cold_start(programs: dict[str, Path], store: Path, runs: int) -> dict[str, dict[str, float]]:
    """First paint and round trip of ``PROGRAM demo --keep --quit-after-paint``.

    The programs take turns run by run, so that a busy machine slows them alike."""
    env = _env(store.parent)
    paints: dict[str, list[float]] = {name: [] for name in programs}
    trips: dict[str, list[float]] = {name: [] for name in programs}

    def cmd(program: Path) -> list[str]:
        return [str(program), "--data-dir", str(store), "demo", "--keep", "--quit-after-paint"]

    for program in programs.values():  # warm-up: the OS file cache, Qt's font cache
        subprocess.run(cmd(program), env=env, check=True, capture_output=True, timeout=120)
    for _ in range(runs):
        for name, program in programs.items():
            env["FLOURISH_BENCH_T0"] = repr(time.time())
            start = time.perf_counter()
            done = subprocess.run(cmd(program), env=env, check=True, capture_output=True, text=True)
            trips[name].append(time.perf_counter() - start)
            line = next(x for x in done.stderr.splitlines() if x.startswith("first-paint-s "))
            paints[name].append(float(line.split()[1]))
    return {
        name: {
            "first_paint_median_s": round(statistics.median(paints[name]), 3),
            "first_paint_best_s": round(min(paints[name]), 3),
            "round_trip_median_s": round(statistics.median(trips[name]), 3),
        }
        for name in programs
    }


def headless_start(program: Path, folder: Path, runs: int) -> float:
    env = _env(folder)
    subprocess.run([str(program), "--version"], env=env, check=True, capture_output=True)
    trips = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([str(program), "--version"], env=env, check=True, capture_output=True)
        trips.append(time.perf_counter() - start)
    return round(statistics.median(trips), 3)


def run(folder: Path, runs: int) -> None:
    """Measure into ``folder`` (a throwaway demo store and HOME); print and save."""
    store = folder / "demo"
    env = _env(folder)
    make_demo = [str(SOURCE), "--data-dir", str(store), "demo", "--no-window"]
    subprocess.run(make_demo, env=env, check=True, capture_output=True)
    programs = {"frozen": FROZEN, "source": SOURCE}
    results: dict[str, object] = {"size": sizes(), "runs": runs}
    starts = cold_start(programs, store, runs)
    if ONEFILE.exists():  # on its own: it unpacks ~180 MB per launch, slowing neighbours
        programs["onefile"] = ONEFILE
        starts.update(cold_start({"onefile": ONEFILE}, store, runs))
    for name, program in programs.items():
        results[name] = {**starts[name], "version_median_s": headless_start(program, folder, 5)}
        print(f"{name:8} {results[name]}", flush=True)
    print(f"size     {results['size']}")
    out = ROOT / "tests" / "bench" / "results" / "bundle.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not FROZEN.exists():
        sys.exit(f"no {FROZEN}: run packaging/build.sh first")
    with tempfile.TemporaryDirectory(prefix="flourish-bench-bundle-") as tmp:
        run(Path(tmp), args.runs)


if __name__ == "__main__":
    main()
