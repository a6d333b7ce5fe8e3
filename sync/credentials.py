"""Secrets (server password, LLM API key): the OS keyring, never a file.

Secrets are stored with the ``keyring`` package under the service name ``Flourish`` and a
key such as ``server:<login>@<host>`` or ``openai:<base url>``. Where no keyring backend
exists (a headless Linux box without Secret Service), :func:`set_secret` reports that it
could not store the secret and callers fall back to an environment variable
(``FLOURISH_PASSWORD``, ``OPENAI_API_KEY``) or ask the user each session. Nothing here ever
writes a secret to the SQLite store, a settings file or a log.
"""

from __future__ import annotations

import logging
import os
from types import ModuleType

__all__ = [
    "SERVICE",
    "delete_secret",
    "get_secret",
    "keyring_available",
    "llm_key_name",
    "server_key_name",
    "set_secret",
]

SERVICE = "Flourish"
log = logging.getLogger(__name__)


def server_key_name(login: str, host: str) -> str:
    return f"server:{login}@{host}"


def llm_key_name(base_url: str | None) -> str:
    return f"openai:{base_url or 'default'}"


_NOT_A_KEYRING = ("fail", "null", "plaintext", "file", "keyrings.alt", "uncrypted")


def _keyring() -> ModuleType:
    """The ``keyring`` package, imported on first use (it costs start-up time otherwise)."""
    import keyring

    return keyring


def _errors() -> tuple[type[Exception], ...]:
    from keyring.errors import KeyringError, NoKeyringError

    return (KeyringError, NoKeyringError)


def _is_os_keyring(backend: object) -> bool:
    name = f"{type(backend).__module__}.{type(backend).__name__}".lower()
    if any(word in name for word in _NOT_A_KEYRING):
        return False  # a file in the home folder (keyrings.alt) is not the system keyring
    if getattr(backend, "priority", 1) <= 0:
        return False
    chained = getattr(backend, "backends", None)  # keyring's ChainerBackend
    if chained is not None:
        ordered = sorted(chained, key=lambda b: getattr(b, "priority", 0), reverse=True)
        return bool(ordered) and _is_os_keyring(ordered[0])
    return True


def keyring_available() -> bool:
    """True when the configured keyring backend is the operating system's keyring: never
    the 'fail' or 'null' backends, nor a file or plaintext one (keyrings.alt), which
    would write the secret base64-encoded into the home folder."""
    return _is_os_keyring(_keyring().get_keyring())


def get_secret(key: str, *, env: str | None = None) -> str | None:
    """The secret from the keyring, else from environment variable ``env``, else None."""
    value: str | None = None
    try:
        if keyring_available():
            found = _keyring().get_password(SERVICE, key)
            value = None if found is None else str(found)
    except _errors() as exc:
        log.info("keyring unavailable for %s: %s", key, type(exc).__name__)
    if value:
        return value
    if env and os.environ.get(env):
        return os.environ[env]
    return None


def set_secret(key: str, value: str) -> bool:
    """Store in the keyring; False (and nothing written anywhere) when there is none."""
    if not keyring_available():
        return False
    try:
        _keyring().set_password(SERVICE, key, value)
    except _errors() as exc:
        log.warning("could not store %s in the keyring: %s", key, type(exc).__name__)
        return False
    return True


def delete_secret(key: str) -> None:
    try:
        _keyring().delete_password(SERVICE, key)
    except _errors():
        pass
