"""The relayer's metrics without chains: RPC failures counted at the adapter seam, bounded
route labels, and one registry shared by the API and the relayer of one process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from prometheus_client.exposition import generate_latest

from core.errors import ChainRejected, ChainUnavailable, InvalidInput
from core.ids import ChainId
from gateway.app import create_app
from gateway.settings import Settings
from relayer.engine import Relayer, RouteStatus
from relayer.metered import MeteredAdapters
from relayer.metrics import RelayerMetrics
from tests.fixtures.relay import ROUTE, hub_store


class _Adapter:
    def __init__(self, error: BaseException | None) -> None:
        self.error = error

    async def finalized_height(self) -> int:
        if self.error is not None:
            raise self.error
        return 7

    def bridge(self) -> str:
        return "bridge"


def _rpc_errors(metrics: RelayerMetrics, chain: str, code: str) -> float | None:
    return metrics.registry.get_sample_value(
        "pjgw_relayer_rpc_errors_total", {"chain": chain, "code": code}
    )


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ChainUnavailable("node down"), "chain-unavailable"),
        (ChainRejected("nonce too low"), "chain-rejected"),
        (httpx.ConnectError("refused"), "transport"),
        (TimeoutError(), "transport"),
    ],
)
def test_a_failed_adapter_call_is_counted_by_chain_and_code_and_raised_unchanged(
    error: BaseException, code: str
) -> None:
    metrics = RelayerMetrics()
    chains = MeteredAdapters({ChainId("a"): _Adapter(error)}, metrics.rpc_error)  # type: ignore[dict-item]
    with pytest.raises(type(error)) as raised:
        asyncio.run(chains[ChainId("a")].finalized_height())
    assert raised.value is error
    assert _rpc_errors(metrics, "a", code) == 1.0


def test_answers_and_errors_that_are_not_rpc_failures_are_not_counted() -> None:
    metrics = RelayerMetrics()
    adapters = {ChainId("a"): _Adapter(None), ChainId("b"): _Adapter(InvalidInput("bad"))}
    chains = MeteredAdapters(adapters, metrics.rpc_error)  # type: ignore[arg-type]
    assert asyncio.run(chains[ChainId("a")].finalized_height()) == 7
    assert chains[ChainId("a")].bridge() == "bridge"  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput):
        asyncio.run(chains[ChainId("b")].finalized_height())
    assert "pjgw_relayer_rpc_errors_total{" not in generate_latest(metrics.registry).decode()
    adapters[ChainId("c")] = _Adapter(None)  # added at run time: seen through the view
    assert sorted(chains) == ["a", "b", "c"]


def test_route_state_is_exported_with_a_reason_from_a_fixed_set(tmp_path: Path) -> None:
    with hub_store(tmp_path / "hub.db") as store:
        relayer = Relayer(store, {}, worker_id="w1")
        relayer._status[ROUTE] = RouteStatus(ROUTE, "stopped", "light client frozen: fork", 1, 0.0)
        registry = relayer.metrics.registry
        assert registry.get_sample_value("pjgw_relayer_route_up", {"route": ROUTE}) == 0.0
        stopped = {
            reason: registry.get_sample_value(
                "pjgw_relayer_route_stopped", {"route": ROUTE, "reason": reason}
            )
            for reason in ("client_frozen", "unsupported", "error")
        }
        assert stopped == {"client_frozen": 1.0, "unsupported": 0.0, "error": 0.0}
        assert registry.get_sample_value("pjgw_relayer_backoff_queue") == 0.0
        assert registry.get_sample_value("pjgw_relayer_leases_held") == 0.0


def test_api_and_relayer_of_one_process_share_one_registry_without_duplicates(
    tmp_path: Path,
) -> None:
    with hub_store(tmp_path / "hub.db") as store:
        app = create_app(Settings(data_dir=tmp_path), store)
        registry = app.state.metrics.registry
        Relayer(store, {}, worker_id="w1", metrics=RelayerMetrics(registry), transfer_counts=False)
        Relayer(store, {}, worker_id="w2")  # another relayer, its own registry: no clash
        text = generate_latest(registry).decode()
        assert text.count("# TYPE pjgw_transfers gauge") == 1
        assert "# TYPE pjgw_relayer_route_up gauge" in text
        assert "# TYPE pjgw_http_requests_total counter" in text
