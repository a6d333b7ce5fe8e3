"""The service benchmarks are scripts, not tests (they take minutes and the whole
machine); these checks only keep them from rotting: each imports and reads its options."""

from __future__ import annotations

import importlib

import pytest

DEFAULTS = {
    "bench_district": {"teachers": 1000, "students": 30, "laptops": 2000},
    "bench_service": {"push": [10_000], "pull": 50_000, "repeat": 3},
    "bench_live": {"connections": 10_000, "teachers": 1000, "timeout": 60},
}


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_bench_script_imports_and_parses_its_options(name: str) -> None:
    module = importlib.import_module(f"tests.bench.{name}")
    args = module.parse([])
    for option, value in DEFAULTS[name].items():
        assert getattr(args, option) == value
    with pytest.raises(SystemExit) as exc:
        module.parse(["--no-such-option"])
    assert exc.value.code == 2


def test_bench_service_takes_several_push_sizes() -> None:
    module = importlib.import_module("tests.bench.bench_service")
    assert module.parse(["--push", "10000", "100000"]).push == [10_000, 100_000]


def test_bench_live_refuses_a_timeout_the_service_would_refuse() -> None:
    module = importlib.import_module("tests.bench.bench_live")
    with pytest.raises(SystemExit):
        module.parse(["--timeout", "61"])
