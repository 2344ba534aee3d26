"""The monitoring files as the tests read them: alert rules, their unit tests, the dashboard.

``rule_metric_names`` and ``dashboard_metric_names`` are the metric names the
PromQL of ``deploy/prometheus/alerts.yml`` and ``deploy/grafana/pujiang-gateway.json``
refer to, as exposed sample names (``_bucket``/``_count``/``_sum`` and
``_total`` kept as written). ``exported_metric_names`` builds every process's
registry in this process (API, relayer, notary, devnet node) with one series
each, so the fast tests can compare without starting anything; the end-to-end
test (``tests/e2e/test_observability.py``) compares with real scrapes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

REPO_ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = REPO_ROOT / "deploy" / "prometheus"
ALERTS = PROMETHEUS / "alerts.yml"
ALERT_TESTS = PROMETHEUS / "alerts_test.yml"
SCRAPE_CONFIG = PROMETHEUS / "prometheus.yml"
DASHBOARD = REPO_ROOT / "deploy" / "grafana" / "pujiang-gateway.json"

PENDING: dict[str, str] = {}
"""Names the rules and dashboard use that no process exports yet, with the issue that adds them."""

_NAME = re.compile(r"\b(pjgw_[a-z0-9_]+)\b")


def alert_rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(ALERTS.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def rule_metric_names() -> set[str]:
    return {name for rule in alert_rules() for name in _NAME.findall(rule["expr"])}


def dashboard_metric_names() -> set[str]:
    doc = json.loads(DASHBOARD.read_text())
    return {
        name
        for panel in doc["panels"]
        for target in panel.get("targets", [])
        for name in _NAME.findall(target["expr"])
    }


_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}


def exposed_names(text: str) -> set[str]:
    """The sample names an exposition offers a query: those of its samples, and those its
    families declare (a labelled counter with no series yet still has ``<name>_total``)."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names |= {s.name for s in family.samples}
        names |= {family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",))}
    return names


def sample_names(registry: CollectorRegistry) -> set[str]:
    return exposed_names(generate_latest(registry).decode())


def exported_metric_names() -> set[str]:
    """Every sample name the four kinds of process export (one series per labelled family)."""
    return {name for registry in process_registries() for name in sample_names(registry)}


def process_registries() -> list[CollectorRegistry]:
    """The registries of the API, a relayer, a notary and a devnet node, one series each."""
    from gateway.routers.metrics import ApiMetrics
    from notary.metrics import NotaryMetrics
    from relayer.metrics import RelayerMetrics

    api = ApiMetrics(lambda: _CountingStore())
    api.requests.labels("GET", "/healthz", "200").inc()
    api.latency.labels("GET", "/healthz").observe(0.01)

    relayer = RelayerMetrics()
    relayer.observe_step(_state(), "moved", 0.1)
    relayer.transitions.labels("completed").inc()
    relayer.rpc_error("chain-a", "chain-unavailable")
    for gauge in (
        relayer.finalized_height,
        relayer.cursor_height,
        relayer.watching,
        relayer.client_height,
        relayer.client_expiry,
        relayer.client_period,
        relayer.client_frozen,
    ):
        gauge.labels("chain-a").set(1)
    relayer.client_refreshes.labels("chain-a").inc()
    relayer.quorum_wait.labels("route-a").observe(1.0)
    relayer.breaker_trips.labels("route-a", "conservation").inc()
    relayer.breaker_tripped.labels("route-a", "conservation").set(1)
    relayer.conservation_deficit.labels("route-a", "upj").set(0)
    relayer.delivery_failure_ratio.labels("route-a").set(0)
    relayer.watch(_RelayerState())

    notary = NotaryMetrics()
    notary.attested("delivery", 0.1)
    notary.refused("delivery", "event-not-found", 0.1)
    notary.last_poll.set(1)
    notary.watch_signed_log(lambda: 1)
    from devnet.metrics import node_registry

    return [api.registry, relayer.registry, notary.registry, node_registry(_Node())]


def _state() -> Any:
    from core.states import TransferState

    return TransferState.PROVEN


class _CountingStore:
    def counts_by_state(self) -> dict[Any, int]:
        from core.states import TransferState

        return dict.fromkeys(TransferState, 0)


class _QueueStore(_CountingStore):
    def work_queue(self, worker: str, now: float) -> tuple[int, int]:
        return 0, 0


class _RelayerState:
    worker_id = "w"

    @staticmethod
    def clock() -> float:
        return 0.0

    @property
    def sync_store(self) -> object:
        return _QueueStore()

    def route_states(self) -> dict[str, str]:
        return {"route-a": "running"}


class _Node:
    height = 1
    txs_committed = 0
    mempool: tuple[object, ...] = ()
