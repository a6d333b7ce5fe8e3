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

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.assess import _jobs
from desktop.assess._budget import Budget
from desktop.assess._calibration import band_counts
from desktop.assess._capabilities import (
    SAFE_CHARS_PER_TOKEN,
    SCHEMA_MODES,
    Capabilities,
    effective,
    load_capabilities,
    probe,
    save_capabilities,
)
from desktop.assess._client import Attempt, CallFailed, Cancelled, ContextExceeded, LLMClient
from desktop.assess._errors import AssessmentBusyError, AssessmentConfigError
from desktop.assess._prompts import Prompts, load_prompts, schema_text, system_message
from desktop.assess._redact import Redactor
from desktop.assess._request import NoRequest, Request, build_request
from desktop.assess._results import Exchange, store_results
from desktop.assess._settings import AssessmentSettings
from desktop.assess._skills import SkillMap, load_skill_map, resolve
from sync.model.crud import DATA_ENTRIES
from sync.model.curriculum import Curriculum, load_curriculum
from sync.store.local import LocalStore

__all__ = ["RunReport", "capabilities", "connection_report", "run_assessment", "waiting_text"]

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
    seconds: float = 0.0  # the run's wall time
    mode: str = ""  # the output mode the run ended with (json_schema, json_object, ...)


@dataclass
class _Outcome:
    status: str  # done, failed, waiting, skipped
    stored: int = 0
    dropped: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    reason: str | None = None
    seconds: float = 0.0  # wall time of this entry (its calls)


@dataclass
class _Run:
    store: LocalStore
    settings: AssessmentSettings
    curriculum: Curriculum
    prompts: Prompts
    redactor: Redactor
    client: LLMClient
    counts: dict[tuple[str, int], tuple[int, int]]
    cancel: threading.Event | None
    skill_map: SkillMap | None = None
    choice: tuple[str, ...] | None = None  # the teacher's choice of skills for this run
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
    if (settings.concurrency is not None and settings.concurrency < 1) or (
        settings.timeout_s is not None and settings.timeout_s <= 0
    ):
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


def _budget(run: _Run) -> Budget | None:
    caps, settings = run.client.caps, run.settings
    context = settings.context_tokens or caps.context_tokens
    if not context:
        return None  # not known: a cloud model's context holds any request we build
    max_tokens = run.client.max_tokens
    if settings.context_tokens is None and caps.context_tokens:
        max_tokens = min(max_tokens, max(256, caps.context_tokens // 4))
        run.client.max_tokens = max_tokens
    return Budget(context, max_tokens, caps.chars_per_token or SAFE_CHARS_PER_TOKEN)


def _in_play(run: _Run, entry_type: str) -> tuple[tuple[str, ...] | None, str]:
    """The skills to ask about for an entry of this type, and why (for the job's reason)."""
    if run.choice is not None:
        return run.choice, f"the teacher's choice of {len(run.choice)} skill(s)"
    if run.skill_map is None:
        return None, ""
    skills = run.skill_map.skills_for(entry_type, run.curriculum)
    if len(skills) == len(run.curriculum.skills):
        return None, "all skills"
    return skills, f"the {len(skills)} skills likely in a {entry_type.replace('_', ' ')}"


def _request(run: _Run, entry_id: str) -> Request | NoRequest:
    with run.store.read() as conn:
        entry = DATA_ENTRIES.require(conn, entry_id)
        in_play, scope = _in_play(run, entry.type)
        return build_request(
            conn,
            entry,
            curriculum=run.curriculum,
            prompts=run.prompts,
            redactor=run.redactor,
            budget=_budget(run),
            in_play=in_play,
            scope=scope,
            schema_in_prompt=run.client.mode not in SCHEMA_MODES,
        )


def _assess(run: _Run, entry_id: str) -> _Outcome:
    if run.cancel is not None and run.cancel.is_set():
        _set_job(run, entry_id, "waiting", "the run was cancelled before this entry was sent")
        return _Outcome("waiting", reason="cancelled")
    if run.stopped.is_set():
        _set_job(run, entry_id, "waiting", run.stop_reason, retry_after_s=run.stop_retry_after)
        return _Outcome("waiting", reason=run.stop_reason)
    request = _request(run, entry_id)
    if isinstance(request, NoRequest):
        _set_job(run, entry_id, request.status, request.reason)
        return _Outcome(request.status, reason=request.reason)
    exchange = Exchange(request, use_model_confidence=run.settings.use_llm_confidence)
    try:
        try:
            exchange.converse(run.client, run.curriculum, run.prompts)
        except ContextExceeded as exc:
            # the server named (or we now know) a smaller context: rebuild to fit, once
            known = run.client.caps.context_tokens
            if exc.context_tokens is None and known is None:
                raise CallFailed(
                    f"the prompt is too long for the model's context ({exc.detail}); set the "
                    "context length in the AI settings (FLOURISH_AI_CONTEXT)",
                    status="failed",
                ) from None
            again = _request(run, entry_id)
            if isinstance(again, NoRequest):
                _record_failure(run, entry_id, exchange.attempts, again.status, again.reason)
                return _Outcome(again.status, reason=again.reason)
            attempts = exchange.attempts
            exchange = Exchange(again, use_model_confidence=run.settings.use_llm_confidence)
            exchange.attempts = attempts
            try:
                exchange.converse(run.client, run.curriculum, run.prompts)
            except ContextExceeded as second:
                raise CallFailed(
                    f"the prompt is still too long for the model's context ({second.detail})",
                    status="failed",
                ) from None
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
    clock = time.monotonic()
    try:
        outcome = _assess(run, entry_id)
        outcome.seconds = time.monotonic() - clock
        return outcome
    except Exception as exc:  # one broken entry must not end the run; its job says why
        log.exception("assessing %s failed", entry_id)
        reason = f"internal error: {type(exc).__name__}: {str(exc)[:200]}"
        try:
            _set_job(run, entry_id, "failed", reason, tried=True)
        except Exception:  # the store itself is broken: the run report still counts it
            log.exception("could not record the failure of %s", entry_id)
        return _Outcome("failed", reason=reason)


def capabilities(
    store: LocalStore,
    settings: AssessmentSettings,
    *,
    refresh: bool = False,
    cancel: threading.Event | None = None,
) -> Capabilities:
    """The endpoint's capabilities: remembered, else probed now (and remembered).

    A probe that cannot reach the endpoint (or is refused the key or model) returns plain
    defaults without remembering them: the run's first real call reports the problem.
    """
    caps = None if refresh else load_capabilities(store, settings)
    if caps is not None:
        return caps
    sample = system_message(load_prompts(), load_curriculum())
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["caps"] = probe(settings, sample=sample)
        except Exception as exc:  # offline, wrong key or model: the real call will say so
            box["error"] = exc

    worker = threading.Thread(target=work, name="flourish-ai-probe", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.05)
        if cancel is not None and cancel.is_set():
            return Capabilities(settings.endpoint, settings.model)  # abandoned
    if "caps" not in box:
        log.info("could not probe %s: %s", settings.endpoint, box.get("error"))
        return Capabilities(settings.endpoint, settings.model)
    found: Capabilities = box["caps"]
    save_capabilities(store, settings, found)
    log.info("endpoint %s: %s", settings.endpoint, found.describe())
    return found


def connection_report(store: LocalStore, settings: AssessmentSettings) -> str:
    """Probe the endpoint now ("Test connection") and describe what Flourish will do."""
    caps = capabilities(store, settings, refresh=True)
    if caps.probed_at is None:
        return (
            f"Cannot reach {settings.endpoint}, or it refused the API key or the model "
            f"{settings.model!r}: check the AI settings."
        )
    used = effective(settings, caps)
    lines = [
        f"{settings.endpoint}, model {settings.model}: {caps.describe()}.",
        f"Flourish will send {used.concurrency} call(s) at a time, wait up to "
        f"{used.timeout_s:g} s for each and allow {used.max_tokens:,} output tokens.",
    ]
    lines += [f"Not used: {note}" for note in caps.notes]
    return "\n".join(lines)


def waiting_text(caps: Capabilities) -> str:
    """What the app shows while a call is under way: "waiting for the model (…)"."""
    where = "CPU server" if caps.cpu_only else (f"{caps.kind} server" if caps.local else "")
    pace = f"~{caps.seconds_per_call:.0f} s per entry" if caps.seconds_per_call else ""
    inside = ", ".join(x for x in (where, pace) if x)
    return f"waiting for the model ({inside})" if inside else "waiting for the model"


def run_assessment(
    store: LocalStore,
    settings: AssessmentSettings,
    *,
    limit: int | None = None,
    entry_ids: Sequence[str] | None = None,
    cancel: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
    status: Callable[[str], None] | None = None,
    skills: Sequence[str] | None = None,
) -> RunReport:
    """Assess the evidence that is due (or ``entry_ids``), at most ``limit`` entries.

    ``skills``: the teacher's choice for this run (skill names, category ids or ``all``);
    ``None`` asks each entry about its type's likely skills (:mod:`desktop.assess._skills`).

    ``status`` (optional) receives one-line texts for the teacher, e.g. "waiting for the model
    (llama-cpp-python server, ~60 s per entry)"; like ``progress`` it runs on a worker thread.
    """
    _check(settings)
    started = time.monotonic()
    curriculum = load_curriculum()
    prompts = load_prompts()
    choice = None if skills is None else resolve(skills, curriculum, "the choice of skills")
    skill_map = load_skill_map(store, curriculum)
    lock = _run_lock(store.path)
    if not lock.acquire(blocking=False):
        raise AssessmentBusyError("an AI assessment run is already in progress on this store")
    try:
        with store.read() as conn:
            ids = _jobs.due_entries(
                conn,
                now=_jobs.utcnow(),
                limit=limit,
                entry_ids=entry_ids,
                versions=(settings.model, prompts.version, curriculum.rubric_version),
            )
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
        if status:
            status("finding out what the AI endpoint supports")
        caps = capabilities(store, settings, cancel=cancel)
        run_settings = effective(settings, caps)
        caps_lock = threading.Lock()

        def remember(new: Capabilities) -> None:
            with caps_lock:
                save_capabilities(store, settings, new)

        client = LLMClient(run_settings, cancel, caps, on_caps=remember)
        client.schema_prompt = lambda schema: schema_text(prompts, schema)
        with store.write() as txn:
            for entry_id in ids:
                _jobs.set_job(txn.conn, entry_id, "running", "being assessed")
        run = _Run(
            store=store,
            settings=run_settings,
            curriculum=curriculum,
            prompts=prompts,
            redactor=Redactor(students, teachers),
            client=client,
            counts=counts,
            cancel=cancel,
            skill_map=skill_map,
            choice=choice,
        )
        if status:
            status(waiting_text(caps))
        outcomes: list[_Outcome] = []
        try:
            with ThreadPoolExecutor(
                max_workers=run_settings.concurrency or 1, thread_name_prefix="flourish-assess"
            ) as pool:
                futures = [pool.submit(_safe_assess, run, entry_id) for entry_id in ids]
                for future in as_completed(futures):
                    outcomes.append(future.result())
                    if progress:
                        progress(len(outcomes), len(ids))
        finally:
            client.close()
        _learn_pace(store, settings, client.caps, outcomes)
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
        seconds=round(time.monotonic() - started, 1),
        mode=client.caps.mode if client.caps.modes else "none",
    )


def _learn_pace(
    store: LocalStore, settings: AssessmentSettings, caps: Capabilities, outcomes: list[_Outcome]
) -> None:
    """Remember the seconds an entry took (the app's "~60 s per entry")."""
    times = [o.seconds for o in outcomes if o.status == "done" and o.seconds]
    if not times:
        return
    mean = sum(times) / len(times)
    old = caps.seconds_per_call
    pace = round(mean if old is None else 0.5 * old + 0.5 * mean, 1)
    save_capabilities(store, settings, dataclasses.replace(caps, seconds_per_call=pace))
