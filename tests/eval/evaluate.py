"""How far do the pipeline's proposals agree with teachers? Run it against any endpoint.

    python -m tests.eval.evaluate --base-url URL --model M [--api-key KEY]
                                  [--data tests/eval/labelled.json] [--llm-confidence]
                                  [--concurrency N] [--timeout S] [--max-tokens N]
                                  [--limit N] [--skills S,...] [--json] [--out FILE]

It builds a throwaway local store from the labelled set (roster, teacher, evidence), runs
the real pipeline (:func:`desktop.assess.run_assessment`) against the endpoint, and compares
each labelled (entry, student, skill) with the proposal for it:

* **coverage** — share of labelled pairs the pipeline proposed at all;
* **exact agreement** — same level; **adjacent agreement** — at most one level apart;
* **quadratic weighted kappa** — agreement beyond chance on the ordinal scale
  (1 = perfect, 0 = chance, negative = worse than chance);

all over the covered pairs. The key comes from ``--api-key`` or ``OPENAI_API_KEY``. The
store is deleted afterwards; nothing is written anywhere else. Exit code 1 when the run
produced nothing to compare (offline, wrong key, ...).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from desktop.assess import AssessmentSettings, run_assessment
from sync import actions
from sync.model.crud import ASSESSMENTS
from sync.model.records import Student, Teacher
from sync.model.vocab import LEVEL_RANK, LEVELS
from sync.store.local import LocalStore

DEFAULT_DATA = Path(__file__).with_name("labelled.json")


def quadratic_weighted_kappa(a: Sequence[int], b: Sequence[int], k: int = len(LEVELS)) -> float:
    """Cohen's kappa with quadratic weights for ratings 1..k (NaN if undefined)."""
    n = len(a)
    if n == 0:
        return float("nan")
    observed = [[0.0] * k for _ in range(k)]
    for x, y in zip(a, b, strict=True):
        observed[x - 1][y - 1] += 1
    row = [sum(r) for r in observed]
    col = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    num = den = 0.0
    for i in range(k):
        for j in range(k):
            weight = (i - j) ** 2 / (k - 1) ** 2
            num += weight * observed[i][j]
            den += weight * row[i] * col[j] / n
    return float("nan") if den == 0 else 1 - num / den


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    for n, entry in enumerate(data["entries"]):
        for label in entry["labels"]:
            if label["level"] not in LEVEL_RANK:
                raise SystemExit(f"{path}: entries[{n}] has an unknown level {label['level']!r}")
    return data


def _build_store(store: LocalStore, data: dict[str, Any]) -> list[str]:
    teacher = data["teacher"]
    with store.write() as txn:
        txn.insert(Teacher(id=teacher["id"], name=teacher["name"], email=teacher.get("email")))
        for s in data["students"]:
            txn.insert(
                Student(id=s["id"], name=s["name"], grade=s["grade"], teacher_id=teacher["id"])
            )
    ids = []
    for n, entry in enumerate(data["entries"]):
        created = actions.add_entry(
            store,
            student_id=entry["student_id"],
            teacher_id=teacher["id"],
            entry_type=entry["type"],
            content=entry["text"],
            date=dt.date(2026, 9, 1) + dt.timedelta(days=n),
        ).value
        ids.append(str(created.id))
    return ids


def evaluate(
    settings: AssessmentSettings,
    data_path: Path = DEFAULT_DATA,
    limit: int | None = None,
    skills: list[str] | None = None,
) -> dict[str, Any]:
    """Run the pipeline on the labelled set (its first ``limit`` entries) and return the
    agreement figures. ``skills``: as ``flourish assess --skills`` (default: each entry
    type's likely skills, so a label outside its type's list counts as not covered)."""
    data = _load(data_path)
    if limit is not None:
        data["entries"] = data["entries"][:limit]
    with tempfile.TemporaryDirectory(prefix="flourish-eval-") as folder:
        with LocalStore.open(Path(folder) / "eval.sqlite3") as store:
            ids = _build_store(store, data)
            report = run_assessment(store, settings, entry_ids=ids, skills=skills)
            with store.read() as conn:
                proposals = {
                    (a.data_entry_id, a.student_id, a.skill_name): a.level
                    for a in ASSESSMENTS.list(conn)
                }
    teacher_levels: list[int] = []
    ai_levels: list[int] = []
    labels = 0
    for entry_id, entry in zip(ids, data["entries"], strict=True):
        for label in entry["labels"]:
            labels += 1
            proposed = proposals.get((entry_id, label["student_id"], label["skill"]))
            if proposed is not None:
                teacher_levels.append(LEVEL_RANK[label["level"]])
                ai_levels.append(LEVEL_RANK[proposed])
    covered = len(teacher_levels)
    pairs = list(zip(teacher_levels, ai_levels, strict=True))
    kappa = quadratic_weighted_kappa(teacher_levels, ai_levels)
    return {
        "model": settings.model,
        "endpoint": settings.endpoint,
        "entries": len(ids),
        "labels": labels,
        "covered": covered,
        "coverage": round(covered / labels, 3) if labels else 0.0,
        "exact_agreement": round(sum(t == a for t, a in pairs) / covered, 3) if covered else None,
        "adjacent_agreement": (
            round(sum(abs(t - a) <= 1 for t, a in pairs) / covered, 3) if covered else None
        ),
        "quadratic_weighted_kappa": None if kappa != kappa else round(kappa, 3),
        "proposals": len(proposals),
        "unlabelled_proposals": len(proposals) - covered,
        "run": {
            "entries_done": report.entries_done,
            "failed": report.failed,
            "waiting": report.waiting,
            "dropped": report.proposals_dropped,
            "tokens_in": report.tokens_in,
            "tokens_out": report.tokens_out,
            "seconds": report.seconds,
            "mode": report.mode,
            "reasons": list(report.reasons),
        },
    }


def _text(result: dict[str, Any]) -> str:
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value * 100:.1f} %"

    kappa = result["quadratic_weighted_kappa"]
    run = result["run"]
    return "\n".join(
        [
            f"model {result['model']} at {result['endpoint']}",
            f"entries {result['entries']}, labelled pairs {result['labels']}, "
            f"proposed {result['covered']} (coverage {pct(result['coverage'])}), "
            f"unlabelled proposals {result['unlabelled_proposals']}",
            f"exact agreement     {pct(result['exact_agreement'])}",
            f"adjacent agreement  {pct(result['adjacent_agreement'])}",
            f"quadratic weighted kappa  {'n/a' if kappa is None else f'{kappa:.3f}'}",
            f"run: {run['entries_done']} done, {run['failed']} failed, {run['waiting']} waiting, "
            f"{run['dropped']} proposals dropped; tokens {run['tokens_in']:,} in, "
            f"{run['tokens_out']:,} out; output mode {run['mode']}; "
            f"{run['seconds'] / max(1, result['entries']):.1f} s per entry",
            *(f"  not assessed: {why}" for why in run["reasons"][:3]),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.eval.evaluate", description=__doc__)
    parser.add_argument("--base-url", required=True, help="OpenAI-compatible endpoint URL")
    parser.add_argument("--model", required=True)
    parser.add_argument("--api-key", help="default: $OPENAI_API_KEY")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="labelled set (JSON)")
    parser.add_argument("--llm-confidence", action="store_true", help="use the model's figure")
    parser.add_argument("--concurrency", type=int, help="default: from the server")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="default: from the server")
    parser.add_argument("--max-tokens", type=int, help="output limit; default: from the server")
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N entries")
    parser.add_argument("--skills", help="as flourish assess --skills (default: by entry type)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--out", type=Path, help="also write the JSON result to this file")
    args = parser.parse_args(argv)
    settings = AssessmentSettings(
        base_url=args.base_url.rstrip("/"),
        model=args.model,
        api_key=args.api_key or os.environ.get("OPENAI_API_KEY"),
        use_llm_confidence=args.llm_confidence,
        concurrency=args.concurrency,
        timeout_s=args.timeout,
        max_tokens=args.max_tokens,
    )
    skills = args.skills.split(",") if args.skills else None
    result = evaluate(settings, args.data, args.limit, skills)
    print(json.dumps(result, indent=2) if args.json else _text(result))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if not result["covered"]:
        print("evaluate: no proposal matched a labelled pair", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
