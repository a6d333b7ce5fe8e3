"""The program's version, from one place: ``pyproject.toml`` (``[project] version``).

Installed (editable or not), the package metadata carries it; a frozen bundle ships the
metadata too (see ``packaging/``); a bare source tree falls back to reading pyproject.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import metadata

from sync.paths import program_root

__all__ = ["version"]


@cache
def version() -> str:
    try:
        return metadata.version("flourish-desktop")
    except metadata.PackageNotFoundError:
        pyproject = program_root() / "pyproject.toml"
        with open(pyproject, "rb") as fh:
            return str(tomllib.load(fh)["project"]["version"])
