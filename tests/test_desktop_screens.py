"""The screenshot script and the real start-up path, each in its own process (offscreen)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ("main", "review", "class", "student", "student-evidence", "conflicts")


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["FLOURISH_SETTINGS_FILE"] = str(tmp_path / "settings.ini")
    env["FLOURISH_DATA_DIR"] = str(tmp_path / "data")
    return env


def _distinct_colours(image: QImage, step: int = 7) -> int:
    colours = set()
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            colours.add(image.pixel(x, y))
    return len(colours)


@pytest.mark.slow
def test_screenshots_are_taken_non_blank_and_full_size(tmp_path: Path) -> None:
    out = tmp_path / "shots"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "packaging" / "screenshots.py"),
            str(out),
            "--size",
            "1280x800",
        ],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for theme in ("", "-dark"):
        for name in SHOTS:
            path = out / f"{name}{theme}.png"
            image = QImage(str(path))
            assert not image.isNull(), path
            assert (image.width(), image.height()) == (1280, 800), path
            assert _distinct_colours(image) > 40, f"{path} looks blank"
    light = QImage(str(out / "main.png")).pixelColor(5, 400).lightness()
    dark = QImage(str(out / "main-dark.png")).pixelColor(5, 400).lightness()
    assert light > 150 > 80 > dark  # the dark theme really is dark


def test_demo_opens_and_paints(tmp_path: Path) -> None:
    """``flourish demo --quit-after-paint``: the real start-up path, first paint, exit 0."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop.cli",
            "--data-dir",
            str(tmp_path / "demo"),
            "demo",
            "--quit-after-paint",
        ],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "demo" / "flourish.sqlite3").exists()
