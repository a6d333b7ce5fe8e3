"""Print what a ``flourish assess`` run did, from the store: ``python -m tests.e2e.numbers``.

Entries assessed, proposals stored, dropped (and why), seconds and tokens per entry, output
mode — read from ``assessment_jobs``, ``llm_calls`` and ``assessments`` (used by
``tests/e2e/local_llama.sh``).
"""

from __future__ import annotations

import argparse
import re

from desktop.assess import load_settings
from desktop.assess._capabilities import load_capabilities
from sync import paths
from sync.store.local import LocalStore


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.numbers")
    parser.add_argument("--data-dir", required=True)
    args = parser.parse_args()
    with LocalStore.open(paths.local_db_path(args.data_dir), create=False) as store:
        caps = load_capabilities(store, load_settings(store))
        with store.read() as conn:
            jobs = conn.exec_driver_sql(
                "SELECT data_entry_id, status, reason FROM assessment_jobs ORDER BY 1"
            ).all()
            calls = conn.exec_driver_sql(
                "SELECT data_entry_id, COUNT(*), SUM(duration_ms), SUM(tokens_in), "
                "SUM(tokens_out), GROUP_CONCAT(outcome) FROM llm_calls GROUP BY 1 ORDER BY 1"
            ).all()
            stored = conn.exec_driver_sql(
                "SELECT COUNT(*) FROM assessments WHERE json_extract(provenance, '$.model') "
                "IS NOT NULL AND data_entry_id IN (SELECT data_entry_id FROM llm_calls)"
            ).scalar_one()
    print(f"endpoint: {caps.describe() if caps else 'not probed'}")
    done = [j for j in jobs if j[1] == "done"]
    print(f"entries: {len(jobs)} taken, {len(done)} assessed; proposals stored: {stored}")
    dropped = 0
    for entry_id, status, reason in jobs:
        found = re.search(r"(\d+) dropped", reason or "")
        dropped += int(found.group(1)) if found else 0
        print(f"  {entry_id}: {status}: {(reason or '')[:300]}")
    print(f"proposals dropped: {dropped}")
    for entry_id, n, ms, tin, tout, outcomes in calls:
        print(
            f"  {entry_id}: {n} call(s) ({outcomes}), {ms / 1000:.1f} s, "
            f"{tin:,} tokens in, {tout:,} out"
        )
    if calls:
        k = len(calls)
        seconds = sum(c[2] for c in calls) / 1000 / k
        tokens_in, tokens_out = sum(c[3] for c in calls) / k, sum(c[4] for c in calls) / k
        print(f"per entry: {seconds:.1f} s, {tokens_in:,.0f} tokens in, {tokens_out:,.0f} out")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
