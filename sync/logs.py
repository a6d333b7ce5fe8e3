"""The program's log file: ``<data dir>/logs/flourish.log``, owner-only, rotated.

IT reads it when something goes wrong. Nothing secret may reach it: the code never logs
passwords or keys, and :class:`Redact` masks anything that looks like one anyway (a
password in a database URL, ``password=...``, an OpenAI-style API key).
"""

from __future__ import annotations

import logging
import os
import re
from logging.handlers import RotatingFileHandler
from pathlib import Path

__all__ = ["Redact", "log_path", "setup_logging"]

_PATTERNS = (
    (re.compile(r"(://[^:/@\s]+:)[^@\s]+@"), r"\1***@"),
    (re.compile(r"(?i)(password|passwd|pwd|api[_-]?key|secret|token)(\s*[=:]\s*)\S+"), r"\1\2***"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"), "sk-***"),
)


class Redact(logging.Filter):
    """Masks secrets in every record that passes (message and arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        record.msg, record.args = text, None
        return True


def log_path(data_dir: Path) -> Path:
    return data_dir / "logs" / "flourish.log"


def setup_logging(data_dir: Path, *, level: int = logging.INFO) -> Path:
    """Send the program's log to ``<data dir>/logs/flourish.log`` (idempotent)."""
    path = log_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "baseFilename", None) == str(path):
            return path
    handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=5, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(Redact())
    root.addHandler(handler)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
    return path
