"""The devnet node's Prometheus metrics, read from the node at scrape time.

``pjgw_devnet_height`` (the tip), ``pjgw_devnet_txs_committed_total``
(transactions included by this process since it started) and
``pjgw_devnet_mempool_size`` (accepted, not yet in a block), in a registry
per node, served on ``--metrics-port``. The node may import only ``core`` and
``proofs`` of ours; ``prometheus-client`` is a third-party library.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class NodeFigures(Protocol):
    """What the collector reads of a ``devnet.node.DevnetNode``."""

    txs_committed: int

    @property
    def height(self) -> int: ...

    @property
    def mempool(self) -> object: ...


class _NodeCollector(Collector):
    def __init__(self, node: NodeFigures) -> None:
        self._node = node

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        node = self._node
        yield GaugeMetricFamily("pjgw_devnet_height", "The node's tip height", value=node.height)
        yield CounterMetricFamily(
            "pjgw_devnet_txs_committed",
            "Transactions included in blocks by this node process",
            value=node.txs_committed,
        )
        yield GaugeMetricFamily(
            "pjgw_devnet_mempool_size",
            "Transactions accepted and waiting for a block",
            value=len(node.mempool),  # type: ignore[arg-type]
        )


def node_registry(node: NodeFigures) -> CollectorRegistry:
    """A registry of its own exporting ``node``'s figures."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(_NodeCollector(node))
    return registry


__all__ = ["node_registry"]
