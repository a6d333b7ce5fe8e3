"""The run: pick the entries due, ask the model about each, validate, store, account.

Threading: :func:`run_assessment` blocks its caller (the app runs it on a worker thread, the
CLI on the main thread) and fans the entries out to a :class:`ThreadPoolExecutor` with
``settings.concurrency`` workers. Each worker reads through :meth:`LocalStore.read`, calls
the model, and writes the entry's proposals, its ``llm_calls`` rows and its job row in one
:meth:`LocalStore.write` transaction (the store serialises writers). ``progress(done,
total)`` is called on the caller's thread. One run per store at a time in this process
(:class:`AssessmentBusyError` otherwise); across processes the ``running`` job status keeps
two runs off the same entry.

Human over machine: proposals are only ever *inserted* (through the sync capture path,
``txn.insert``), and only for (entry, student, skill) triples without one — checked again
inside the write transaction, so a proposal that arrived meanwhile (a pull, another run)
still wins. Existing assessments and teacher decisions are never touched.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from desktop.assess import _jobs
from desktop.assess._calibration import band_counts
from desktop.assess._client import Attempt, CallFailed, Cancelled, LLMClient
from desktop.assess._errors import AssessmentBusyError, AssessmentConfigError
from desktop.assess._prompts import Prompts, load_prompts, system_message
from desktop.assess._redact import Redactor
from desktop.assess._request import NoRequest, build_request
from desktop.assess._results import Exchange, store_results
from desktop.assess._settings import AssessmentSettings
from sync.model.crud import DATA_ENTRIES
from sync.model.curriculum import Curriculum, load_curriculum
from sync.store.local import LocalStore

__all__ = ["RunReport", "run_assessment"]

log = logging.getLogger("desktop.assess")
_RUNS: dict[str, threading.Lock] = {}
_RUNS_GUARD = threading.Lock()


@dataclass(frozen=True)
class RunReport:
    """What a run did. Each entry taken counts in exactly one of ``entries_done``,
    ``failed``, ``waiting`` and ``skipped``.

    ``entries_done``: its reply was used, or nothing was left to ask; ``failed``: the
    endpoint rejected it or its replies were unusable; ``waiting``: offline, timeout, rate
    limit, refusal or cancel — it will be tried again; ``skipped`` (added after the
    agreed fields): nothing can be sent (too long, no roster student). ``proposals_dropped``
    counts invalid proposals that were not stored; tokens are summed over every call.
    ``reasons`` holds the distinct reasons of waiting and failed entries.
    """

    entries_done: int
    proposals_stored: int
    proposals_dropped: int
    failed: int
    waiting: int
    cancelled: bool
    tokens_in: int
    tokens_out: int
    skipped: int = 0
    reasons: tuple[str, ...] = ()  # distinct reasons of waiting/failed entries


@dataclass
class _Outcome:
    status: str  # done, failed, waiting, skipped
    stored: int = 0
    dropped: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    reason: str | None = None


@dataclass
class _Run:
    store: LocalStore
    settings: AssessmentSettings
    curriculum: Curriculum
    prompts: Prompts
    system_text: str
    redactor: Redactor
    client: LLMClient
    counts: dict[tuple[str, int], tuple[int, int]]
    cancel: threading.Event | None
    stopped: threading.Event = field(default_factory=threading.Event)
    stop_reason: str = ""
    stop_retry_after: float | None = None


def _run_lock(path: Path) -> threading.Lock:
    with _RUNS_GUARD:
        return _RUNS.setdefault(str(path.resolve()), threading.Lock())


def _check(settings: AssessmentSettings) -> None:
    if not settings.model.strip():
        raise AssessmentConfigError("no AI model is configured (set OPENAI_MODEL)")
    if settings.base_url is None and not settings.api_key:
        raise AssessmentConfigError(
            "no API key for the OpenAI endpoint: set OPENAI_API_KEY or save a key in the "
            "app's AI settings (or set OPENAI_BASE_URL to a local endpoint)"
        )
    if settings.concurrency < 1 or settings.timeout_s <= 0:
        raise AssessmentConfigError("concurrency must be at least 1 and the timeout positive")


def _set_job(run: _Run, entry_id: str, status: str, reason: str, **kw: object) -> None:
    with run.store.write() as txn:
        _jobs.set_job(txn.conn, entry_id, status, reason, **kw)  # type: ignore[arg-type]


def _record_failure(
    run: _Run, entry_id: str, attempts: list[Attempt], status: str, reason: str, **kw: object
) -> None:
    with run.store.write() as txn:
        _jobs.record_calls(
            txn.conn,
            entry_id,
            attempts,
            model=run.settings.model,
            prompt_version=run.prompts.version,
            rubric_version=run.curriculum.rubric_version,
        )
        _jobs.set_job(txn.conn, entry_id, status, reason, **kw)  # type: ignore[arg-type]


def _assess(run: _Run, entry_id: str) -> _Outcome:
    if run.cancel is not None and run.cancel.is_set():
        _set_job(run, entry_id, "waiting", "the run was cancelled before this entry was sent")
        return _Outcome("waiting", reason="cancelled")
    if run.stopped.is_set():
        _set_job(run, entry_id, "waiting", run.stop_reason, retry_after_s=run.stop_retry_after)
        return _Outcome("waiting", reason=run.stop_reason)
    with run.store.read() as conn:
        entry = DATA_ENTRIES.require(conn, entry_id)
        request = build_request(
            conn,
            entry,
            curriculum=run.curriculum,
            prompts=run.prompts,
            system_text=run.system_text,
            redactor=run.redactor,
        )
    if isinstance(request, NoRequest):
        _set_job(run, entry_id, request.status, request.reason)
        return _Outcome(request.status, reason=request.reason)
    exchange = Exchange(request)
    try:
        exchange.converse(run.client, run.curriculum, run.prompts)
    except Cancelled:
        reason = "the run was cancelled while the model was answering"
        _record_failure(run, entry_id, exchange.attempts, "waiting", reason)
        return _Outcome("waiting", reason="cancelled")
    except CallFailed as exc:
        if exc.stop_run and not run.stopped.is_set():
            run.stop_reason, run.stop_retry_after = exc.reason, exc.retry_after_s
            run.stopped.set()
        _record_failure(
            run,
            entry_id,
            exchange.attempts,
            exc.status,
            exc.reason,
            tried=not exc.stop_run,
            retry_after_s=exc.retry_after_s,
        )
        return _Outcome(
            exc.status,
            tokens_in=exchange.tokens_in,
            tokens_out=exchange.tokens_out,
            reason=exc.reason,
        )
    status, stored, dropped, reason = store_results(
        run.store,
        exchange,
        settings=run.settings,
        curriculum=run.curriculum,
        prompts=run.prompts,
        redactor=run.redactor,
        counts=run.counts,
    )
    return _Outcome(status, stored, dropped, exchange.tokens_in, exchange.tokens_out, reason)


def _safe_assess(run: _Run, entry_id: str) -> _Outcome:
    try:
        return _assess(run, entry_id)
    except Exception as exc:  # one broken entry must not end the run; its job says why
        log.exception("assessing %s failed", entry_id)
        reason = f"internal error: {type(exc).__name__}: {str(exc)[:200]}"
        try:
            _set_job(run, entry_id, "failed", reason, tried=True)
        except Exception:  # the store itself is broken: the run report still counts it
            log.exception("could not record the failure of %s", entry_id)
        return _Outcome("failed", reason=reason)


def run_assessment(
    store: LocalStore,
    settings: AssessmentSettings,
    *,
    limit: int | None = None,
    entry_ids: Sequence[str] | None = None,
    cancel: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunReport:
    """Assess the evidence that is due (or ``entry_ids``), at most ``limit`` entries."""
    _check(settings)
    curriculum = load_curriculum()
    prompts = load_prompts()
    lock = _run_lock(store.path)
    if not lock.acquire(blocking=False):
        raise AssessmentBusyError("an AI assessment run is already in progress on this store")
    try:
        with store.read() as conn:
            ids = _jobs.due_entries(conn, now=_jobs.utcnow(), limit=limit, entry_ids=entry_ids)
            students = [
                (str(i), str(n)) for i, n in conn.exec_driver_sql("SELECT id, name FROM students")
            ]
            teachers = [
                (str(i), str(n)) for i, n in conn.exec_driver_sql("SELECT id, name FROM teachers")
            ]
            counts = band_counts(conn)
        if progress:
            progress(0, len(ids))
        if not ids:
            return RunReport(0, 0, 0, 0, 0, bool(cancel and cancel.is_set()), 0, 0)
        client = LLMClient(settings, cancel)
        with store.write() as txn:
            for entry_id in ids:
                _jobs.set_job(txn.conn, entry_id, "running", "being assessed")
        run = _Run(
            store=store,
            settings=settings,
            curriculum=curriculum,
            prompts=prompts,
            system_text=system_message(prompts, curriculum),
            redactor=Redactor(students, teachers),
            client=client,
            counts=counts,
            cancel=cancel,
        )
        outcomes: list[_Outcome] = []
        try:
            with ThreadPoolExecutor(
                max_workers=settings.concurrency, thread_name_prefix="flourish-assess"
            ) as pool:
                futures = [pool.submit(_safe_assess, run, entry_id) for entry_id in ids]
                for future in as_completed(futures):
                    outcomes.append(future.result())
                    if progress:
                        progress(len(outcomes), len(ids))
        finally:
            client.close()
    finally:
        lock.release()
    reasons = tuple(
        dict.fromkeys(o.reason for o in outcomes if o.status in ("waiting", "failed") and o.reason)
    )
    return RunReport(
        entries_done=sum(o.status == "done" for o in outcomes),
        proposals_stored=sum(o.stored for o in outcomes),
        proposals_dropped=sum(o.dropped for o in outcomes),
        failed=sum(o.status == "failed" for o in outcomes),
        waiting=sum(o.status == "waiting" for o in outcomes),
        cancelled=bool(cancel and cancel.is_set()),
        tokens_in=sum(o.tokens_in for o in outcomes),
        tokens_out=sum(o.tokens_out for o in outcomes),
        skipped=sum(o.status == "skipped" for o in outcomes),
        reasons=reasons,
    )
