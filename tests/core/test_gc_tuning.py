"""``core.runtime.tune_gc``: the long-running processes' collector thresholds.

Every ``pjgw`` command sets them before it runs (``gateway.cli.main.main``), to
``GC_THRESHOLDS`` or to what ``PJGW_GC_THRESHOLDS`` says; a malformed override is a
``ConfigError`` naming the variable, and the thresholds stay as they were. Each test
puts the test process's own thresholds back.
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import Iterator

import pytest

from core.errors import ConfigError
from core.runtime import GC_THRESHOLDS, GC_THRESHOLDS_ENV, tune_gc

cli = importlib.import_module("gateway.cli.main")  # the module (the package names its function)


@pytest.fixture(autouse=True)
def _restore_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_the_default_thresholds_are_set() -> None:
    gc.set_threshold(700, 10, 10)
    assert tune_gc({}) == GC_THRESHOLDS
    assert gc.get_threshold() == GC_THRESHOLDS == (50_000, 20, 100)


def test_the_environment_overrides_them() -> None:
    assert tune_gc({GC_THRESHOLDS_ENV: " 700, 10,10 "}) == (700, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)


@pytest.mark.parametrize(
    "text",
    ["700,10", "700,10,10,10", "a,10,10", "0,10,10", "-1,10,10", "700,10,1.5", ","],
    ids=["two", "four", "not-a-number", "zero-first", "negative", "fraction", "empty-items"],
)
def test_a_malformed_override_is_refused_and_changes_nothing(text: str) -> None:
    gc.set_threshold(123, 4, 5)
    with pytest.raises(
        ConfigError, match=rf"\] {GC_THRESHOLDS_ENV} is three non-negative integers"
    ):
        tune_gc({GC_THRESHOLDS_ENV: text})
    assert gc.get_threshold() == (123, 4, 5)


def test_every_pjgw_command_runs_with_them(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, int, int]] = []
    monkeypatch.delenv(GC_THRESHOLDS_ENV, raising=False)
    monkeypatch.setattr(cli, "app", lambda: seen.append(gc.get_threshold()))
    gc.set_threshold(700, 10, 10)
    cli.main()
    assert seen == [GC_THRESHOLDS]


def test_a_malformed_override_stops_a_command_before_it_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[bool] = []
    monkeypatch.setenv(GC_THRESHOLDS_ENV, "lots")
    monkeypatch.setattr(cli, "app", lambda: ran.append(True))
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert stopped.value.code == 2
    assert ran == []
    assert GC_THRESHOLDS_ENV in capsys.readouterr().out
