"""AI settings: where the endpoint is, which model, how confidence is computed, how many calls.

Resolution order for each setting: environment variable, then the store's ``sync_state``
(what the app's settings dialog saved), then the default.

=====================  ==========================  ======================  ==============
setting                environment                 ``sync_state`` key      default
=====================  ==========================  ======================  ==============
base URL               ``OPENAI_BASE_URL``         ``llm_base_url``        OpenAI's
model                  ``OPENAI_MODEL``            ``llm_model``           ``gpt-4o``
use model confidence   ``USE_LLM_CONFIDENCE``      ``use_llm_confidence``  ``false``
concurrent calls       ``FLOURISH_AI_CONCURRENCY``  ``ai_concurrency``      from the server
timeout per call (s)   ``FLOURISH_AI_TIMEOUT``     ``ai_timeout_s``        from the server
output limit (tokens)  ``FLOURISH_AI_MAX_TOKENS``  ``ai_max_tokens``       from the server
context (tokens)       ``FLOURISH_AI_CONTEXT``     ``ai_context_tokens``   from the server
API key                ``OPENAI_API_KEY``          never: the OS keyring   —
=====================  ==========================  ======================  ==============

"From the server" means: left ``None`` here and filled in by
:func:`desktop.assess._capabilities.effective` from what the endpoint reported (one call at a
time against a server that has one slot, a longer timeout for a local server, the context
length the server runs with).

The API key is a secret: it lives in the OS keyring under ``openai:<base url>``
(:func:`sync.credentials.llm_key_name`) or in the environment, never in the store, a file or
a log. :func:`save_settings` returns ``False`` when no keyring can hold it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sync.credentials import delete_secret, get_secret, llm_key_name, set_secret
from sync.store.local import LocalStore

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_TIMEOUT_S",
    "DEFAULT_MODEL",
    "MAX_CONCURRENCY",
    "AssessmentSettings",
    "load_settings",
    "save_settings",
]

DEFAULT_MODEL = "gpt-4o"
DEFAULT_CONCURRENCY = 4  # a cloud endpoint; a local server gets its own slot count
DEFAULT_TIMEOUT_S = 60.0  # a cloud endpoint; a local server gets LOCAL_TIMEOUT_S
LOCAL_TIMEOUT_S = 300.0
DEFAULT_MAX_TOKENS = 2048  # output limit sent with every call (a reply is ~100 per proposal)
MAX_CONCURRENCY = 16
MAX_TIMEOUT_S = 3600.0
MIN_CONTEXT = 1024

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class AssessmentSettings:
    """Everything a run needs to reach the model. ``base_url=None`` means OpenAI itself."""

    base_url: str | None
    model: str
    api_key: str | None
    use_llm_confidence: bool
    concurrency: int | None = None  # None: from the server
    timeout_s: float | None = None
    max_tokens: int | None = None
    context_tokens: int | None = None

    def __repr__(self) -> str:  # never print the key
        key = "set" if self.api_key else "missing"
        return (
            f"AssessmentSettings(base_url={self.base_url!r}, model={self.model!r}, "
            f"api_key={key}, use_llm_confidence={self.use_llm_confidence}, "
            f"concurrency={self.concurrency}, timeout_s={self.timeout_s}, "
            f"max_tokens={self.max_tokens}, context_tokens={self.context_tokens})"
        )

    @property
    def endpoint(self) -> str:
        return self.base_url or "https://api.openai.com/v1"


def _flag(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return default


def _number(value: str | None, low: float, high: float) -> float | None:
    """A number within [low, high] (clamped), or None when unset, empty, 0 or unreadable."""
    if value is None or not value.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if number != number or number <= 0:  # NaN, 0 or negative: "from the server"
        return None
    return max(low, min(high, number))


def _int(value: str | None, low: int, high: int) -> int | None:
    number = _number(value, low, high)
    return None if number is None else int(number)


def _concurrency(value: str | None) -> int | None:
    return _int(value, 1, MAX_CONCURRENCY)


def _pick(env: str, store: LocalStore, key: str) -> str | None:
    value = os.environ.get(env)
    return value if value is not None and value.strip() else store.state(key)


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _text(value: float | None) -> str | None:
    return None if value is None else f"{value:g}"


def load_settings(store: LocalStore) -> AssessmentSettings:
    """The effective settings: environment over the store's saved values over defaults."""
    base_url = _clean(os.environ.get("OPENAI_BASE_URL")) or _clean(store.state("llm_base_url"))
    base_url = base_url.rstrip("/") if base_url else None
    model = (
        _clean(os.environ.get("OPENAI_MODEL")) or _clean(store.state("llm_model")) or DEFAULT_MODEL
    )
    env_flag = os.environ.get("USE_LLM_CONFIDENCE")
    use_llm = _flag(env_flag if env_flag is not None else store.state("use_llm_confidence"), False)
    api_key = _clean(os.environ.get("OPENAI_API_KEY")) or get_secret(
        llm_key_name(base_url), env="OPENAI_API_KEY"
    )
    return AssessmentSettings(
        base_url=base_url,
        model=model,
        api_key=api_key,
        use_llm_confidence=use_llm,
        concurrency=_concurrency(_pick("FLOURISH_AI_CONCURRENCY", store, "ai_concurrency")),
        timeout_s=_number(_pick("FLOURISH_AI_TIMEOUT", store, "ai_timeout_s"), 1, MAX_TIMEOUT_S),
        max_tokens=_int(_pick("FLOURISH_AI_MAX_TOKENS", store, "ai_max_tokens"), 64, 65_536),
        context_tokens=_int(
            _pick("FLOURISH_AI_CONTEXT", store, "ai_context_tokens"), MIN_CONTEXT, 10_000_000
        ),
    )


def save_settings(
    store: LocalStore,
    *,
    base_url: str | None,
    model: str,
    use_llm_confidence: bool,
    concurrency: int | None,
    api_key: str | None,
    timeout_s: float | None = None,
    max_tokens: int | None = None,
) -> bool:
    """Save the settings; the key goes to the OS keyring only.

    ``concurrency``, ``timeout_s``, ``max_tokens``: ``None`` or 0 means "from the server".
    ``api_key=None`` leaves a stored key as it is; ``""`` deletes it. Returns ``False`` when a
    key was given but no keyring could hold it (the other settings are saved regardless, and
    the key is not written anywhere else: use ``OPENAI_API_KEY`` instead).
    """
    url = _clean(base_url)
    url = url.rstrip("/") if url else None
    store.set_state(
        {
            "llm_base_url": url,
            "llm_model": _clean(model) or DEFAULT_MODEL,
            "use_llm_confidence": "true" if use_llm_confidence else "false",
            "ai_concurrency": _text(_concurrency(str(concurrency or 0))),
            "ai_timeout_s": _text(_number(str(timeout_s or 0), 1, MAX_TIMEOUT_S)),
            "ai_max_tokens": _text(_int(str(max_tokens or 0), 64, 65_536)),
        }
    )
    if api_key is None:
        return True
    if not api_key.strip():
        delete_secret(llm_key_name(url))
        return True
    return set_secret(llm_key_name(url), api_key.strip())
