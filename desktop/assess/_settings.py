"""AI settings: where the endpoint is, which model, how confidence is computed, how many calls.

Resolution order for each setting: environment variable, then the store's ``sync_state``
(what the app's settings dialog saved), then the default.

=====================  ======================  ==============================  ==========
setting                environment             ``sync_state`` key              default
=====================  ======================  ==============================  ==========
base URL               ``OPENAI_BASE_URL``     ``llm_base_url``                OpenAI's
model                  ``OPENAI_MODEL``        ``llm_model``                   ``gpt-4o``
use model confidence   ``USE_LLM_CONFIDENCE``  ``use_llm_confidence``          ``false``
concurrent calls       —                       ``ai_concurrency``              4
API key                ``OPENAI_API_KEY``      never: the OS keyring only      —
=====================  ======================  ==============================  ==========

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
    "DEFAULT_MODEL",
    "MAX_CONCURRENCY",
    "AssessmentSettings",
    "load_settings",
    "save_settings",
]

DEFAULT_MODEL = "gpt-4o"
DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 16

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class AssessmentSettings:
    """Everything a run needs to reach the model. ``base_url=None`` means OpenAI itself."""

    base_url: str | None
    model: str
    api_key: str | None
    use_llm_confidence: bool
    concurrency: int = DEFAULT_CONCURRENCY
    timeout_s: float = 60.0

    def __repr__(self) -> str:  # never print the key
        key = "set" if self.api_key else "missing"
        return (
            f"AssessmentSettings(base_url={self.base_url!r}, model={self.model!r}, "
            f"api_key={key}, use_llm_confidence={self.use_llm_confidence}, "
            f"concurrency={self.concurrency}, timeout_s={self.timeout_s})"
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


def _concurrency(value: str | None) -> int:
    try:
        number = int(value) if value is not None else DEFAULT_CONCURRENCY
    except ValueError:
        number = DEFAULT_CONCURRENCY
    return max(1, min(MAX_CONCURRENCY, number))


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


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
        concurrency=_concurrency(store.state("ai_concurrency")),
    )


def save_settings(
    store: LocalStore,
    *,
    base_url: str | None,
    model: str,
    use_llm_confidence: bool,
    concurrency: int,
    api_key: str | None,
) -> bool:
    """Save the settings; the key goes to the OS keyring only.

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
            "ai_concurrency": str(_concurrency(str(concurrency))),
        }
    )
    if api_key is None:
        return True
    if not api_key.strip():
        delete_secret(llm_key_name(url))
        return True
    return set_secret(llm_key_name(url), api_key.strip())
