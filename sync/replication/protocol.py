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

from sync.paths import program_root

__all__ = [
    "MIN_CLIENT_VERSION",
    "VERSION_HEADER",
    "app_version",
    "parse_version",
]

VERSION_HEADER = "Flourish-Version"
#: The oldest laptop program this service speaks to.
MIN_CLIENT_VERSION = "0.1.0"

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
