"""pytest plugin of the adapter conformance kit: ``--pjgw-chain``, the marker, a summary.

Load it with ``-p adapters.testing.plugin``, from a ``conftest.py``, or (once
the project declares it) through the ``pytest11`` entry point. It adds:

* ``--pjgw-chain CONFIG``: a TOML or JSON file naming a live chain to run the
  kit against (see ``ChainConfig``); the fixture ``pjgw_chain_config`` gives it
  to tests (``None`` when the option is absent);
* the ``pjgw_conformance`` marker the kit's checks carry;
* at the end of the run, a readable table of every check per adapter: which
  passed, failed or were skipped, with the one-line contract each one checks.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from adapters.testing import MARKER
from core.errors import ConfigError

OPTION = "--pjgw-chain"
REPORTER = "pjgw-conformance-reporter"


@dataclass(frozen=True)
class ChainConfig:
    """A live chain for the kit, as written in the ``--pjgw-chain`` file::

        family = "pujiang"                      # an adapter family in the registry
        target = "adapters.pujiang.conformance:target_from_config"  # optional
        [options]                               # the adapter's own settings
        url = "http://127.0.0.1:26650"
        chain_id = "pujiang-devnet"
        [target_options]                        # what the target needs (keys to trigger with)

    ``target`` defaults to ``<family's adapter package>.conformance:target_from_config``.
    """

    family: str
    options: dict[str, Any] = field(repr=False)  # may hold keys: never printed
    target: str | None = None
    target_options: dict[str, Any] = field(default_factory=dict, repr=False)
    path: Path | None = None


def load_chain_config(path: Path) -> ChainConfig:
    """Parse a ``--pjgw-chain`` file (``.toml`` or ``.json``); ``ConfigError`` when malformed."""
    try:
        text = path.read_text()
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (OSError, ValueError) as err:
        raise ConfigError(f"{OPTION} {path}: {err}") from err
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("family"), str)
        or not isinstance(data.get("options"), dict)
    ):
        raise ConfigError(f"{OPTION} {path}: needs `family` and an `[options]` table")
    return ChainConfig(
        family=data["family"],
        options=data["options"],
        target=data.get("target"),
        target_options=data.get("target_options", {}),
        path=path,
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pjgw", "Pujiang Gateway adapter conformance kit")
    group.addoption(
        OPTION,
        dest="pjgw_chain",
        metavar="CONFIG",
        default=None,
        help="TOML/JSON file naming a live chain (family, options) to run the kit against",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}: a check of the adapter conformance kit (adapters.testing)"
    )
    if not config.pluginmanager.has_plugin(REPORTER):
        config.pluginmanager.register(ConformanceReporter(), REPORTER)


@pytest.fixture(scope="session")
def pjgw_chain_config(request: pytest.FixtureRequest) -> ChainConfig | None:
    """The chain named by ``--pjgw-chain``, or None when the option was not given."""
    value = request.config.getoption("pjgw_chain", default=None)
    return load_chain_config(Path(value)) if value else None


# --- the summary -------------------------------------------------------------------------


@dataclass
class CheckResult:
    suite: str  # the subclass: one adapter / chain
    check: str  # the test method
    contract: str  # first line of its docstring
    outcome: str = "not run"
    message: str = ""


class ConformanceReporter:
    """Collects the outcome of every marked check and prints them at the end of the run."""

    def __init__(self) -> None:
        self.results: dict[str, CheckResult] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:  # after deselection (-k, -m)
            if item.get_closest_marker(MARKER) is None or not isinstance(item, pytest.Function):
                continue
            doc = (item.function.__doc__ or "").strip().splitlines()
            suite = item.cls.__name__ if item.cls is not None else item.module.__name__
            self.results[item.nodeid] = CheckResult(suite, item.originalname, doc[0] if doc else "")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = self.results.get(report.nodeid)
        if result is None:
            return
        if report.failed:
            result.outcome = "FAILED" if report.when == "call" else f"ERROR ({report.when})"
            result.message = _short(report)
        elif report.skipped and result.outcome == "not run":
            result.outcome = "skipped"
            result.message = _short(report)
        elif report.when == "call" and report.passed and result.outcome == "not run":
            result.outcome = "passed"

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.results:
            return
        by_suite: dict[str, list[CheckResult]] = {}
        for result in self.results.values():
            by_suite.setdefault(result.suite, []).append(result)
        tr = terminalreporter
        tr.section("pjgw adapter conformance")
        for suite, checks in by_suite.items():
            passed = sum(r.outcome == "passed" for r in checks)
            tr.write_line(f"{suite}: {passed}/{len(checks)} checks passed")
            for r in checks:
                mark = _MARKS.get(r.outcome, "FAIL")
                tr.write_line(
                    f"  [{mark}] {r.check}: {r.contract}", red=mark == "FAIL", green=mark == "ok"
                )
                if r.message and mark != "ok":
                    tr.write_line(f"         {r.outcome}: {r.message}")


_MARKS = {"passed": "ok", "skipped": "skip", "not run": "----"}


def _short(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message).splitlines()[0][:160]
    if isinstance(report.longrepr, tuple):  # a skip: (path, line, reason)
        return str(report.longrepr[2])[:160]
    return str(report.longrepr).splitlines()[-1][:160] if report.longrepr else ""
