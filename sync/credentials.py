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

import keyring
from keyring.errors import KeyringError, NoKeyringError

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


def keyring_available() -> bool:
    """True when a real keyring backend (not the 'fail' or 'null' one) is configured."""
    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}".lower()
    return not ("fail" in name or "null" in name or getattr(backend, "priority", 1) <= 0)


def get_secret(key: str, *, env: str | None = None) -> str | None:
    """The secret from the keyring, else from environment variable ``env``, else None."""
    try:
        value = keyring.get_password(SERVICE, key)
    except (KeyringError, NoKeyringError) as exc:
        log.info("keyring unavailable for %s: %s", key, type(exc).__name__)
        value = None
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
        keyring.set_password(SERVICE, key, value)
    except (KeyringError, NoKeyringError) as exc:
        log.warning("could not store %s in the keyring: %s", key, type(exc).__name__)
        return False
    return True


def delete_secret(key: str) -> None:
    try:
        keyring.delete_password(SERVICE, key)
    except (KeyringError, NoKeyringError):
        pass
