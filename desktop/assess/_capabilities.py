"""What an endpoint can do, found out rather than assumed, and remembered per endpoint and model.

On first use of an (endpoint, model) pair — and whenever the settings dialog's "Test
connection" asks — :func:`probe` finds out:

* **the server**, from ``GET /v1/models`` (``owned_by``: ``llamacpp`` for llama.cpp's
  ``llama-server``, ``me`` for llama-cpp-python, ``vllm``, ``library`` for Ollama,
  ``organization_owner`` for LM Studio) and the server's own endpoints;
* **the context length** it runs the model with: llama.cpp ``GET /props``
  (``default_generation_settings.n_ctx``, per slot, and ``total_slots``); vLLM
  ``max_model_len`` in ``/v1/models``; Ollama ``POST /api/ps`` / ``/api/show``
  (``context_length`` of the loaded model, else ``num_ctx`` from the model's parameters,
  else Ollama's default 4,096 — Ollama silently cuts longer prompts, so its window is not the
  model's ``<arch>.context_length``); LM Studio ``GET /api/v0/models/{model}``
  (``loaded_context_length``, else ``max_context_length``). llama-cpp-python reports none:
  its first "maximum context length is N tokens" refusal teaches it (:func:`context_from_error`);
* **characters per token** of the model's own tokenizer, where the server tokenizes
  (llama.cpp ``POST /tokenize``, vLLM ``POST /tokenize``, llama-cpp-python
  ``POST /extras/tokenize/count``); else a safe 3 characters a token;
* **the output mode**, by trying each with a tiny request, best first: ``json_schema`` (a strict
  schema the server enforces), ``json_object_schema`` (JSON mode with the schema in
  ``response_format.schema``, which llama-cpp-python and llama.cpp turn into a grammar, so
  even a small model can only write the schema's shape), ``json_object`` (JSON mode; the
  schema goes in the prompt), ``tools`` (a forced function call), ``text`` (plain reply,
  parsed leniently). A mode counts only when the server accepts it *and* the reply has the
  promised shape (an old server may accept ``json_schema`` and ignore it; vLLM and Ollama
  accept ``json_object`` with a ``schema`` and ignore the schema: the probe's schema asks for
  a key its question does not, so only an enforced schema produces it).

The result is stored in the local store's ``sync_state`` under ``llm_caps:<endpoint>|<model>``
(JSON), and updated when a real call teaches more (a mode refused, a context length named, the
seconds a call takes). Nothing here imports Qt; everything blocks (call it off the GUI thread).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from desktop.assess._settings import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_TOKENS,
    DEFAULT_TIMEOUT_S,
    LOCAL_TIMEOUT_S,
    MIN_CONTEXT,
    AssessmentSettings,
)
from sync.store.local import LocalStore

__all__ = [
    "MODES",
    "SCHEMA_MODES",
    "Capabilities",
    "context_from_error",
    "effective",
    "load_capabilities",
    "probe",
    "save_capabilities",
    "unsupported_feature",
]

log = logging.getLogger("desktop.assess")

MODES = ("json_schema", "json_object_schema", "json_object", "tools", "text")
SCHEMA_MODES = frozenset({"json_schema", "json_object_schema"})  # the server enforces it
PROBE_VERSION = 2  # remembered capabilities of an older probe are found out again
SAFE_CHARS_PER_TOKEN = 3.0  # English on any tokenizer we know is above this
OLLAMA_DEFAULT_CTX = 4096
_KINDS = {
    "llamacpp": "llama.cpp",
    "me": "llama-cpp-python",
    "vllm": "vLLM",
    "library": "Ollama",
    "ollama": "Ollama",
    "organization_owner": "LM Studio",
}
_LOCAL_KINDS = {"llama.cpp", "llama-cpp-python", "vLLM", "Ollama", "LM Studio"}
_PROBE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["ok"],
    "properties": {"ok": {"type": "boolean"}},
}
# JSON mode with a schema: the question asks for {"ok": true}; only a server that enforces the
# schema makes the model write this key instead
_OBJECT_SCHEMA_PROBE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["schema_enforced"],
    "properties": {"schema_enforced": {"type": "string", "enum": ["yes"]}},
}
_PROBE_MESSAGES = [
    {"role": "system", "content": "You answer with JSON only."},
    {"role": "user", "content": 'Answer with exactly this JSON object: {"ok": true}'},
]


@dataclass(frozen=True)
class Capabilities:
    """What one endpoint and model support (all found; ``None`` where nothing was said)."""

    endpoint: str
    model: str
    kind: str = "unknown"  # llama.cpp, llama-cpp-python, vLLM, Ollama, LM Studio, OpenAI
    modes: tuple[str, ...] = MODES  # the usable ones, best first
    context_tokens: int | None = None
    slots: int | None = None
    chars_per_token: float | None = None  # measured with the model's tokenizer
    seconds_per_call: float | None = None  # running mean of successful calls
    cpu_only: bool | None = None
    stream_options: bool = True  # False: the server refused ``stream_options`` (usage)
    probed_at: str | None = None
    probe_version: int = 0
    notes: tuple[str, ...] = ()

    @property
    def mode(self) -> str:
        return self.modes[0] if self.modes else "text"

    @property
    def local(self) -> bool:
        return self.kind in _LOCAL_KINDS

    def without(self, mode: str, note: str) -> Capabilities:
        modes = tuple(m for m in self.modes if m != mode)
        return dataclasses.replace(self, modes=modes, notes=(*self.notes, note)[-6:])

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Capabilities | None:
        try:
            data = json.loads(text)
            data["modes"] = tuple(m for m in data.get("modes", MODES) if m in MODES)
            data["notes"] = tuple(data.get("notes", ()))
            names = {f.name for f in dataclasses.fields(cls)}
            return cls(**{k: v for k, v in data.items() if k in names})
        except (ValueError, TypeError, AttributeError):
            return None

    def describe(self) -> str:
        """One line for the teacher: server, mode, context, slots, speed."""
        parts = [f"{self.kind} server" if self.kind != "unknown" else "the endpoint"]
        parts.append(f"output mode {self.mode}" if self.modes else "no usable output mode")
        if self.context_tokens:
            parts.append(f"context {self.context_tokens:,} tokens")
        if self.slots:
            parts.append(f"{self.slots} parallel slot(s)")
        if self.seconds_per_call:
            parts.append(f"~{self.seconds_per_call:.0f} s per call")
        return ", ".join(parts)


def _key(settings: AssessmentSettings) -> str:
    return f"llm_caps:{settings.endpoint}|{settings.model}"


def load_capabilities(store: LocalStore, settings: AssessmentSettings) -> Capabilities | None:
    text = store.state(_key(settings))
    caps = None if text is None else Capabilities.from_json(text)
    return caps if caps is not None and caps.probe_version == PROBE_VERSION else None


def save_capabilities(store: LocalStore, settings: AssessmentSettings, caps: Capabilities) -> None:
    store.set_state({_key(settings): caps.to_json()})


# -- what error messages say -------------------------------------------------------------------

_CTX_PATTERNS = (
    re.compile(r"maximum context length is (\d+)"),  # llama-cpp-python, vLLM, OpenAI
    re.compile(r"available context size \((\d+) tokens?\)"),  # llama.cpp
    re.compile(r"['\"]n_ctx['\"]\s*:\s*(\d+)"),  # llama.cpp's error body
    re.compile(r"context window of (\d+)"),  # llama-cpp-python's raw ValueError
    re.compile(r"context length of only (\d+)"),  # LM Studio
)


def context_from_error(message: str) -> int | None:
    """The context length a "too long" refusal names, if it names one."""
    for pattern in _CTX_PATTERNS:
        found = pattern.search(message)
        if found:
            return int(found.group(1))
    return None


_UNSUPPORTED = (
    # (mode the message rules out, words that must all occur, lower-case)
    (
        "json_schema",
        ("json_schema",),
    ),  # llama-cpp-python / old llama.cpp: "must be ... json_object"
    ("json_schema", ("response_format", "schema")),
    ("json_object", ("json_object",)),
    ("json_object", ("response_format.type",)),  # LM Studio: "must be 'json_schema' or 'text'"
    ("json_object_schema", ("json_object",)),
    ("json_object_schema", ("response_format.type",)),
    ("json_object_schema", ("response_format.schema",)),  # OpenAI: "Unknown parameter: ..."
    ("tools", ("tool",)),  # vLLM: "auto" tool choice requires --enable-auto-tool-choice ...
    ("tools", ("function",)),
)


def unsupported_feature(mode: str, status: int, message: str) -> bool:
    """Whether an HTTP error says the request's output ``mode`` is not supported.

    Only 400, 422, 500 and 501 count, and only when the message names the feature: a plain
    500 stays a temporary failure.
    """
    if status not in (400, 422, 500, 501):
        return False
    low = message.lower()
    if mode == "json_schema" and "'text' or 'json_object'" in low:
        return True
    if mode in ("json_object", "json_object_schema") and "must be 'json_schema'" in low:
        return True
    return any(m == mode and all(w in low for w in words) for m, words in _UNSUPPORTED)


# -- probing ---------------------------------------------------------------------------------


def server_root(base_url: str) -> str:
    """``http://host:port`` of an OpenAI-compatible base URL ending in ``/v1``."""
    url = base_url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def _get(http: httpx.Client, url: str, **kw: Any) -> Any:
    try:
        response = http.request(kw.pop("method", "GET"), url, **kw)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _server_facts(http: httpx.Client, settings: AssessmentSettings, sample: str) -> dict[str, Any]:
    """Kind, context, slots, tokenizer ratio: whatever the server's own endpoints say."""
    facts: dict[str, Any] = {}
    base = settings.endpoint.rstrip("/")
    root = server_root(base)
    host = urlsplit(base).hostname or ""
    models = _get(http, f"{base}/models")
    entry: dict[str, Any] = {}
    if isinstance(models, dict) and isinstance(models.get("data"), list):
        cards = [m for m in models["data"] if isinstance(m, dict)]
        entry = next((m for m in cards if m.get("id") == settings.model), cards[0] if cards else {})
    owner = str(entry.get("owned_by", ""))
    facts["kind"] = _KINDS.get(owner, "OpenAI" if host.endswith("openai.com") else "unknown")
    facts["context_tokens"] = _int_or_none(entry.get("max_model_len"))  # vLLM
    props = _get(http, f"{root}/props")
    if isinstance(props, dict) and isinstance(props.get("default_generation_settings"), dict):
        facts["kind"] = "llama.cpp"
        gen = props["default_generation_settings"]
        facts["context_tokens"] = _int_or_none(gen.get("n_ctx")) or _int_or_none(props.get("n_ctx"))
        facts["slots"] = _int_or_none(props.get("total_slots"))
    if facts["kind"] in ("Ollama", "unknown"):
        _ollama(http, root, settings.model, facts)
    if facts["kind"] in ("LM Studio", "unknown"):
        card = _get(http, f"{root}/api/v0/models/{settings.model}")
        if isinstance(card, dict) and ("max_context_length" in card or "state" in card):
            facts["kind"] = "LM Studio"
            facts["context_tokens"] = _int_or_none(
                card.get("loaded_context_length")
            ) or _int_or_none(card.get("max_context_length"))
    facts["chars_per_token"] = _chars_per_token(http, facts["kind"], base, root, settings, sample)
    return facts


def _ollama(http: httpx.Client, root: str, model: str, facts: dict[str, Any]) -> None:
    show = _get(http, f"{root}/api/show", method="POST", json={"model": model})
    if not isinstance(show, dict) or "model_info" not in show:
        return
    facts["kind"] = "Ollama"
    ctx: int | None = None
    params = str(show.get("parameters") or "")
    found = re.search(r"^num_ctx\s+(\d+)", params, re.M)
    if found:
        ctx = int(found.group(1))
    trained = next(
        (
            _int_or_none(v)
            for k, v in (show.get("model_info") or {}).items()
            if str(k).endswith(".context_length")
        ),
        None,
    )
    running = _get(http, f"{root}/api/ps")
    for loaded in (running or {}).get("models", []) if isinstance(running, dict) else []:
        if isinstance(loaded, dict) and loaded.get("name", "").split(":")[0] == model.split(":")[0]:
            ctx = _int_or_none(loaded.get("context_length")) or ctx
            if isinstance(loaded.get("size_vram"), int):
                facts["cpu_only"] = loaded["size_vram"] == 0
    ctx = ctx or OLLAMA_DEFAULT_CTX
    facts["context_tokens"] = min(ctx, trained) if trained else ctx


def _chars_per_token(
    http: httpx.Client,
    kind: str,
    base: str,
    root: str,
    settings: AssessmentSettings,
    sample: str,
) -> float | None:
    count: int | None = None
    if kind == "llama.cpp":
        got = _get(http, f"{root}/tokenize", method="POST", json={"content": sample})
        tokens = got.get("tokens") if isinstance(got, dict) else None
        count = len(tokens) if isinstance(tokens, list) else None
    elif kind in ("vLLM", "llama-cpp-python"):
        # the same count, asked by another path and field name
        path, field = (
            ("tokenize", "prompt") if kind == "vLLM" else ("extras/tokenize/count", "input")
        )
        body = {"model": settings.model, field: sample}
        got = _get(http, f"{root}/{path}", method="POST", json=body)
        count = _int_or_none(got.get("count")) if isinstance(got, dict) else None
    if not count:
        return None
    return round(len(sample) / count, 3)


def _try_mode(client: Any, settings: AssessmentSettings, mode: str) -> tuple[bool, str]:
    """Send the tiny probe in ``mode``: (usable, why not)."""
    import openai

    kw: dict[str, Any] = {"model": settings.model, "messages": _PROBE_MESSAGES, "max_tokens": 40}
    if mode == "json_schema":
        kw["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "probe", "strict": True, "schema": _PROBE_SCHEMA},
        }
    elif mode == "json_object_schema":
        kw["response_format"] = {"type": "json_object", "schema": _OBJECT_SCHEMA_PROBE}
    elif mode == "json_object":
        kw["response_format"] = {"type": "json_object"}
    elif mode == "tools":
        kw["tools"] = [
            {"type": "function", "function": {"name": "probe", "parameters": _PROBE_SCHEMA}}
        ]
        kw["tool_choice"] = {"type": "function", "function": {"name": "probe"}}
    try:
        reply = client.chat.completions.create(temperature=0, **kw)
    except openai.APIStatusError as exc:
        return False, f"{mode}: HTTP {exc.status_code} {str(exc.message)[:200]}"
    choice = reply.choices[0] if reply.choices else None
    if choice is None:
        return False, f"{mode}: no choices in the reply"
    if mode == "text":
        return True, ""
    if mode == "tools":
        calls = choice.message.tool_calls or []
        text = calls[0].function.arguments if calls and hasattr(calls[0], "function") else ""
    else:
        text = choice.message.content or ""
    try:
        data = json.loads(text)
    except ValueError:
        return False, f"{mode}: accepted, but the reply was not the JSON asked for"
    if mode == "json_schema" and not (isinstance(data, dict) and isinstance(data.get("ok"), bool)):
        return False, f"{mode}: accepted, but the schema was not enforced"
    if mode == "json_object_schema" and data != {"schema_enforced": "yes"}:
        return False, f"{mode}: accepted, but the schema was not enforced"
    if not isinstance(data, dict):
        return False, f"{mode}: accepted, but the reply was not a JSON object"
    return True, ""


def probe(
    settings: AssessmentSettings, *, sample: str, timeout_s: float | None = None
) -> Capabilities:
    """Find out what the endpoint supports (a few small requests; blocks).

    Raises ``openai.APIConnectionError`` / ``openai.APIStatusError`` (401/403/404) when the
    endpoint cannot be reached or refuses the key or model: the caller reports that.
    """
    import openai

    timeout = timeout_s or settings.timeout_s or LOCAL_TIMEOUT_S
    headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
    with httpx.Client(timeout=min(timeout, 30.0), headers=headers) as http:
        facts = _server_facts(http, settings, sample)
    client = openai.OpenAI(
        base_url=settings.base_url,
        api_key=settings.api_key or "not-needed",
        max_retries=0,
        timeout=timeout,
    )
    modes: list[str] = []
    notes: list[str] = []
    seconds: list[float] = []
    try:
        for mode in MODES:
            clock = time.monotonic()
            try:
                usable, why = _try_mode(client, settings, mode)
            except openai.APIStatusError as exc:
                if exc.status_code in (401, 403, 404):
                    raise
                usable, why = False, f"{mode}: HTTP {exc.status_code}"
            if usable:  # the best mode that works; the weaker ones stay as fall-backs
                seconds.append(time.monotonic() - clock)  # a refusal is quick: not the pace
                modes = list(MODES[MODES.index(mode) :])
                break
            notes.append(why)
    finally:
        client.close()
    if not modes:
        modes = ["text"]  # plain text is the last resort: parsed leniently
    return Capabilities(
        endpoint=settings.endpoint,
        model=settings.model,
        kind=facts.get("kind", "unknown"),
        modes=tuple(modes),
        context_tokens=facts.get("context_tokens"),
        slots=facts.get("slots"),
        chars_per_token=facts.get("chars_per_token"),
        seconds_per_call=round(seconds[0], 1) if seconds else None,
        cpu_only=facts.get("cpu_only"),
        probed_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        probe_version=PROBE_VERSION,
        notes=tuple(notes),
    )


def effective(settings: AssessmentSettings, caps: Capabilities | None) -> AssessmentSettings:
    """The settings with every "from the server" value filled in."""
    local = caps is not None and caps.local
    context = settings.context_tokens or (caps.context_tokens if caps else None)
    if caps is None or not caps.local:
        concurrency = settings.concurrency or DEFAULT_CONCURRENCY
    else:  # a local server answers as many at once as it has slots (one when it does not say)
        concurrency = settings.concurrency or caps.slots or 1
    timeout = settings.timeout_s or (LOCAL_TIMEOUT_S if local else DEFAULT_TIMEOUT_S)
    max_tokens = settings.max_tokens or DEFAULT_MAX_TOKENS
    if context:
        context = max(MIN_CONTEXT, context)
        max_tokens = min(max_tokens, max(256, context // 4))  # leave room for the prompt
    return dataclasses.replace(
        settings,
        concurrency=concurrency,
        timeout_s=timeout,
        max_tokens=max_tokens,
        context_tokens=context,
    )
