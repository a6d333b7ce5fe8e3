"""AI assessment: evidence in, grounded rubric proposals out, learning from corrections.

This is not a Qt package. It lives inside ``desktop`` because its callers do — the
``flourish assess`` command (:mod:`desktop.cli.assess`) and the desktop app's "Assess
now" — and it is neither data layer (``sync`` never talks to the AI endpoint) nor a
top-level package of its own (the layout allows none). It never imports PySide6: an
import-linter contract in ``pyproject.toml`` enforces that.

The pipeline, one evidence entry at a time (see the private modules for each step):

1. pick the entries due (:func:`awaiting_entries` lists what waits, and why);
2. build one request per entry covering all its students and the skills in play that they
   lack a proposal for — the entry type's likely skills or the teacher's choice
   (``_skills``) — with names replaced by placeholders and the evidence in a delimited data
   section of the user message (``_request``, ``_redact``, ``_prompts``, ``_fewshot``);
3. find out once what the endpoint supports — output mode, context length, slots, tokenizer
   — and remember it per endpoint and model (``_capabilities``); build the request to fit
   the model's context (``_budget``);
4. call the model through the ``openai`` client in the best output mode the endpoint has
   (strict JSON schema, JSON mode with a schema, JSON mode, tool call, plain text), always
   with an output limit, streamed, with retries, timeouts, cancellation that closes the
   stream, and bounded concurrency (``_client``, ``_transport``, ``_stream``);
5. validate the reply locally and ground every quote in the entry's text; repair once
   (``_validate``, ``_ground``, ``_results``);
6. compute and calibrate confidence (``_confidence``, ``_calibration``) and insert the
   proposals through the sync capture path, with provenance (model, prompt and rubric
   versions, call, tokens, few-shot examples used).

Threading: :func:`run_assessment` blocks; call it off the GUI thread. Its ``progress``
callback runs on the calling thread; ``cancel`` may be set from any thread. Every other
function here takes a connection from :meth:`LocalStore.read` and is quick.

Errors: see :mod:`desktop.assess._errors` (all are :class:`sync.errors.FlourishError`).
"""

from __future__ import annotations

from desktop.assess._calibration import (
    BANDS,
    CalibrationRow,
    UsageRow,
    calibration,
    examples_used,
    usage_summary,
)
from desktop.assess._errors import (
    AssessmentBusyError,
    AssessmentConfigError,
    AssessmentError,
    PromptError,
)
from desktop.assess._jobs import AwaitingEntry, awaiting_entries
from desktop.assess._pipeline import RunReport, connection_report, run_assessment
from desktop.assess._prompts import load_prompts
from desktop.assess._settings import AssessmentSettings, load_settings, save_settings

__all__ = [
    "BANDS",
    "AssessmentBusyError",
    "AssessmentConfigError",
    "AssessmentError",
    "AssessmentSettings",
    "AwaitingEntry",
    "CalibrationRow",
    "PromptError",
    "RunReport",
    "UsageRow",
    "awaiting_entries",
    "calibration",
    "connection_report",
    "examples_used",
    "load_prompts",
    "load_settings",
    "run_assessment",
    "save_settings",
    "usage_summary",
]
