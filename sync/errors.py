"""The exception tree of the data layer.

Every error the data layer raises on purpose is a :class:`FlourishError`, and its class says
what the caller can do about it::

    FlourishError
    ├── ValidationError        bad input; the message says what and where; nothing was written
    ├── NotFoundError          the row does not exist (or is not visible to this teacher)
    ├── ConflictError          a uniqueness rule blocks the write (one active target, ...)
    ├── StoreError             the local store cannot be used (corrupt, locked, too new)
    ├── SchemaVersionError     client and server schema versions do not fit: update required
    └── ServerError            talking to the central database failed
        ├── TransientError     worth retrying later: unreachable, timeout, connection dropped
        ├── AuthError          login or password rejected, or permission denied
        └── ConfigurationError wrong URL, database missing, TLS not verifiable

The CLI prints ``str(error)`` as its one-line reason; the desktop shows it in one place.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ConfigurationError",
    "ConflictError",
    "FlourishError",
    "NotFoundError",
    "SchemaVersionError",
    "ServerError",
    "StoreError",
    "TransientError",
    "ValidationError",
]


class FlourishError(Exception):
    """Base of every error the data layer raises deliberately."""


class ValidationError(FlourishError):
    """Input was rejected before anything was written."""


class NotFoundError(FlourishError):
    """The requested row does not exist or is not visible."""


class ConflictError(FlourishError):
    """A uniqueness rule of the schema blocks the write."""


class StoreError(FlourishError):
    """The local store cannot be opened or used."""


class SchemaVersionError(FlourishError):
    """Client and server (or local file) schema versions are incompatible."""


class ServerError(FlourishError):
    """Talking to the central database failed."""


class TransientError(ServerError):
    """A failure that may go away on its own: retry later with backoff."""


class AuthError(ServerError):
    """Authentication failed or the role lacks a privilege."""


class ConfigurationError(ServerError):
    """The connection settings are wrong (URL, database name, TLS)."""
