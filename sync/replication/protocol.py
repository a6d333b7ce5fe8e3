"""What a laptop and the service agree on: header names, versions, error bodies.

Every ``/v1`` request carries ``Flourish-Version: X.Y.Z`` (the laptop program's version).
A client older than :data:`MIN_CLIENT_VERSION` (or one that sends no version: everything
before the service existed) gets ``426`` with "update Flourish to X" and nothing changes.
Errors are always JSON ``{"error": one line a person can act on, "code": machine word}``.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import metadata
from typing import Annotated

from pydantic import AfterValidator

from sync.paths import program_root

__all__ = [
    "MIN_CLIENT_VERSION",
    "PlainText",
    "SYNC_PROTOCOL",
    "VERSION_HEADER",
    "app_version",
    "parse_version",
]

VERSION_HEADER = "Flourish-Version"
#: Version of the sync contract (``flourish_meta.sync_protocol`` in the database): the
#: service refuses a database at another one, the laptop a service at another one.
SYNC_PROTOCOL = 2
#: The oldest laptop program this service speaks to.
MIN_CLIENT_VERSION = "0.1.0"

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: str) -> str:
    """Text PostgreSQL can store: no NUL character, no unpaired UTF-16 surrogate (a JSON
    body may carry both as escapes; neither is a character of UTF-8 text)."""
    found = _UNSTORABLE.search(value)
    if found is not None:
        what = "a NUL character" if found.group() == "\x00" else "an unpaired surrogate"
        raise ValueError(f"text must not contain {what} (at position {found.start()})")
    return value


#: A string field of a request: refused with 422 when it is not storable text.
PlainText = Annotated[str, AfterValidator(storable)]

_VERSION = re.compile(r"^(\d{1,6})\.(\d{1,6})\.(\d{1,6})(?:[.+-][0-9A-Za-z.+-]{0,40})?$")


def parse_version(value: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) of ``X.Y.Z`` (a suffix such as ``.dev1`` is ignored)."""
    m = _VERSION.match(value.strip())
    if m is None:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


@cache
def app_version() -> str:
    """This program's version (package metadata, else pyproject.toml)."""
    try:
        return metadata.version("flourish-desktop")
    except metadata.PackageNotFoundError:
        with open(program_root() / "pyproject.toml", "rb") as fh:
            return str(tomllib.load(fh)["project"]["version"])
