"""``flourish assess [--limit N] [--skills S,...] [--entry ID ...]``, ``--calibration`` and
``--test-connection``.

``--skills`` is the teacher's choice of skills for this run (names, category ids or ``all``;
default: each entry type's likely skills, see :mod:`desktop.assess._skills`); ``--entry``
assesses the named entries whatever their state (a re-assessment adds only missing pairs).

Headless: the same :func:`~desktop.assess.run_assessment` the app's "Assess now" runs. The
run happens on a worker thread so that Ctrl-C cancels it cleanly (entries not finished stay
waiting). Exit 0 when every entry taken was assessed; 1 (with the first reason) when some
are still waiting or failed, or when the settings are unusable.

Imported by :mod:`desktop.cli.main` only when the command runs: the AI client is slow to
import.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from desktop.assess import (
    AssessmentError,
    RunReport,
    calibration,
    connection_report,
    load_settings,
    run_assessment,
    usage_summary,
)
from desktop.cli._common import open_store
from sync.store.local import LocalStore

__all__ = ["cmd_assess"]


def _print_calibration(store: LocalStore) -> None:
    with store.read() as conn:
        rows = calibration(conn)
        usage = usage_summary(conn)
    if not rows:
        print("no teacher decisions yet: calibration needs accepted or corrected proposals")
    else:
        print(f"{'skill':<28}  {'band':<9}  decided  accepted  rate  mean confidence")
        for r in rows:
            print(
                f"{r.skill_name:<28}  {r.band:<9}  {r.decided:>7}  {r.accepted:>8}  "
                f"{r.acceptance_rate:>4.2f}  {r.mean_confidence:>15.2f}"
            )
    for u in usage:
        print(
            f"AI usage, model {u.model}, prompt {u.prompt_version}: {u.calls} calls, "
            f"{u.tokens_in:,} tokens in, {u.tokens_out:,} tokens out"
        )


def _summary(report: RunReport) -> str:
    text = (
        f"{report.entries_done} entries assessed: {report.proposals_stored} proposals stored, "
        f"{report.proposals_dropped} dropped; {report.failed} failed, {report.waiting} waiting"
    )
    if report.skipped:
        text += f", {report.skipped} skipped"
    text += f"; tokens {report.tokens_in:,} in, {report.tokens_out:,} out"
    taken = report.entries_done + report.failed + report.waiting
    if taken and report.seconds:
        text += f"; {report.seconds / taken:.1f} s per entry, output mode {report.mode}"
    return text + (" (cancelled)" if report.cancelled else "")


def cmd_assess(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        if args.calibration:
            _print_calibration(store)
            return 0
        if getattr(args, "test_connection", False):
            print(connection_report(store, load_settings(store)))
            return 0
        if args.limit is not None and args.limit < 1:
            raise AssessmentError("--limit must be at least 1")
        skills = None if args.skills is None else args.skills.split(",")
        entries = getattr(args, "entry", None)
        settings = load_settings(store)
        cancel = threading.Event()
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["report"] = run_assessment(
                    store,
                    settings,
                    limit=args.limit,
                    cancel=cancel,
                    skills=skills,
                    entry_ids=entries,
                )
            except BaseException as exc:  # re-raised on the main thread below
                box["error"] = exc

        worker = threading.Thread(target=work, name="flourish-assess-cli")
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.2)
        except KeyboardInterrupt:
            cancel.set()
            print("flourish: cancelling the AI assessment...", file=sys.stderr)
            worker.join()
        if "error" in box:
            raise box["error"]
        report: RunReport = box["report"]
    if not (report.entries_done or report.failed or report.waiting or report.skipped):
        print("nothing to assess: no evidence is waiting for AI assessment")
        return 0
    print(_summary(report))
    if report.cancelled:
        raise AssessmentError("the AI assessment was cancelled; unfinished entries still wait")
    if report.failed or report.waiting:
        first = report.reasons[0] if report.reasons else "see the app's awaiting list"
        raise AssessmentError(
            f"{report.failed + report.waiting} entries not assessed yet (first reason: {first})"
        )
    return 0
