"""The evaluation script runs end to end (in CI against the fake server only)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.eval.evaluate import DEFAULT_DATA, main, quadratic_weighted_kappa
from tests.support.fake_openai import FakeOpenAI
from tests.test_assess_pipeline import fake_server  # noqa: F401  (the `fake` fixture)


def test_quadratic_weighted_kappa() -> None:
    assert quadratic_weighted_kappa([1, 2, 3, 4], [1, 2, 3, 4]) == 1.0
    assert quadratic_weighted_kappa([1, 2, 3, 4], [4, 3, 2, 1]) < 0
    # one level off on half of them: good but not perfect
    assert 0.5 < quadratic_weighted_kappa([1, 2, 3, 4, 1, 2, 3, 4], [1, 2, 3, 4, 2, 3, 4, 3]) < 1
    assert math.isnan(quadratic_weighted_kappa([], []))
    assert math.isnan(quadratic_weighted_kappa([2, 2], [2, 2]))  # no spread: undefined
    # worked by hand: sum(w * O) = 1/9, sum(w * E) = 7/9, so kappa = 1 - 1/7
    assert quadratic_weighted_kappa([1, 2, 3], [1, 2, 4]) == pytest.approx(6 / 7)


def test_evaluate_against_the_fake_server(
    fake: FakeOpenAI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "result.json"
    code = main(
        ["--base-url", fake.base_url, "--model", "fake-model", "--api-key", "k", "--out", str(out)]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    result = json.loads(out.read_text())
    labelled = json.loads(DEFAULT_DATA.read_text())["entries"]
    labels = sum(len(e["labels"]) for e in labelled)
    assert result["entries"] == len(labelled) == len(fake.requests) and result["labels"] == labels
    assert 12 <= len(labelled) <= 20
    assert 0 < result["covered"] <= labels and result["run"]["failed"] == 0
    for key in ("exact_agreement", "adjacent_agreement"):
        assert 0 <= result[key] <= 1
    assert (
        result["quadratic_weighted_kappa"] is None or -1 <= result["quadratic_weighted_kappa"] <= 1
    )
    assert "exact agreement" in printed and "quadratic weighted kappa" in printed
    print(printed)


def test_evaluate_offline_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--api-key", "k"]) == 1
    assert "no proposal matched" in capsys.readouterr().err
