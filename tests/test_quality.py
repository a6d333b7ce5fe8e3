"""Lint, format, types and layering are part of the suite, so CI runs them."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["sync", "desktop", "tests", "sql", "packaging"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_ruff_lint() -> None:
    result = run("ruff", "check", *SOURCES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = run("ruff", "format", "--check", *SOURCES)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contracts() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_sync_never_imports_qt_even_lazily() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+(PySide6|desktop)\b", re.M)
    offenders = [str(p) for p in (ROOT / "sync").rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_sync_state_keys_are_named_once() -> None:
    """Every ``sync_state`` key is a constant of ``sync/store/state.py``; nothing else in
    sync/ or desktop/ spells one as a bare string (a misspelt key would read as unset)."""
    from sync.store import state

    keys = {
        value
        for name, value in vars(state).items()
        if name.isupper() and isinstance(value, str) and name in state.__all__
    }
    alternatives = "|".join(sorted(keys))
    patterns = [
        rf"\bstates?\(\s*[\"']({alternatives})[\"']",
        rf"state\.get\(\s*[\"']({alternatives})[\"']",
        rf"set_state\(\s*\{{\s*[\"']({alternatives})[\"']",
        rf"sync_state[^;]{{0,120}}?key\s*=\s*'({alternatives})'",
        rf"sync_state[^;]{{0,60}}?VALUES\s*\(\s*'({alternatives})'",
        rf"sync_state[^;]{{0,60}}?key IN \([^)]*'({alternatives})'",
    ]
    found = []
    for folder in ("sync", "desktop"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "sync" / "store" / "state.py":
                continue
            text = path.read_text(encoding="utf-8")
            for pattern in patterns:
                for match in re.finditer(pattern, text):
                    line = text.count("\n", 0, match.start()) + 1
                    found.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0)}")
    assert found == [], "\n".join(found)


def test_only_the_queue_module_speaks_sql_to_the_queue() -> None:
    """Statements on ``sync_operations`` live in ``sync/store/queue.py`` (the capture
    triggers, which fill the queue, the local backup's sequence bookkeeping and the salvage
    of a damaged store's whole queue aside)."""
    allowed = {
        ROOT / "sync" / "store" / "queue.py",
        ROOT / "sync" / "store" / "capture.py",
        ROOT / "sync" / "store" / "localbackup.py",
        ROOT / "sync" / "replication" / "redownload.py",
        ROOT / "sync" / "model" / "tables.py",
    }
    statement = re.compile(
        r"(FROM|INTO|UPDATE|JOIN)\s+sync_operations\b|DELETE FROM sync_operations", re.I
    )
    found = [
        str(path.relative_to(ROOT))
        for folder in ("sync", "desktop")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path not in allowed and statement.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []


MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def _modules(*folders: str) -> list[Path]:
    return [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))]


def test_no_module_is_over_500_lines() -> None:
    """A module that outgrows this is split along a real seam, not squeezed."""
    too_long = [
        f"{path.relative_to(ROOT)}: {n} lines"
        for path in _modules("sync", "desktop")
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    ]
    assert not too_long, f"over {MAX_MODULE_LINES} lines: {too_long}"


def test_no_replication_function_is_over_80_lines() -> None:
    """Push and pull (sync/replication, its client/ included) stay in readable steps: no
    function or method runs over 80 lines, from its ``def`` to its last line."""
    too_long = []
    for path in _modules("sync/replication"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {n}")
    assert not too_long, f"functions over {MAX_FUNCTION_LINES} lines: {too_long}"
