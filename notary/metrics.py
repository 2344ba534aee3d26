"""A notary process's Prometheus metrics, in a registry of its own per ``Notary``.

Attestations by kind, refusals by reason (the refusal's error ``code``: a
fixed set, ``core.errors`` and ``notary.errors``), verification time (a
work item from the request to the signature or refusal), the signed log's
size (statements, read at scrape time), and when the notary last polled the
hub and last attested (the "notary silent" alert compares them with the
hub's backlog). Tests make many notaries in one process: each has its own
registry, so nothing is registered twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

VERIFY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class NotaryMetrics:
    """The instruments ``Notary`` and ``run_notary`` update; ``registry`` is scraped."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.attestations = Counter(
            "pjgw_notary_attestations",
            "Statements signed (or the stored signature returned again), by kind",
            ("kind",),
            registry=r,
        )
        self.refusals = Counter(
            "pjgw_notary_refusals",
            "Work items refused, by the refusal's error code",
            ("reason",),
            registry=r,
        )
        self.verify_seconds = Histogram(
            "pjgw_notary_verification_duration_seconds",
            "Time to verify a work item and sign it or refuse it, by kind",
            ("kind",),
            buckets=VERIFY_BUCKETS,
            registry=r,
        )
        self.last_poll = Gauge(
            "pjgw_notary_last_poll_timestamp_seconds",
            "Unix time of the notary's last successful fetch of work",
            registry=r,
        )
        self.last_attestation = Gauge(
            "pjgw_notary_last_attestation_timestamp_seconds",
            "Unix time of the notary's last attestation",
            registry=r,
        )

        for kind in ("delivery", "nondelivery"):  # a silent notary shows 0, not nothing
            self.attestations.labels(kind)

    def watch_signed_log(self, statements: Callable[[], int]) -> None:
        """Export the signed log's statement count, read at scrape time."""
        self.registry.register(_SignedLogSize(statements))

    def attested(self, kind: str, seconds: float, now: float | None = None) -> None:
        self.attestations.labels(kind).inc()
        self.verify_seconds.labels(kind).observe(seconds)
        self.last_attestation.set(time.time() if now is None else now)

    def refused(self, kind: str, code: str, seconds: float) -> None:
        self.refusals.labels(code).inc()
        self.verify_seconds.labels(kind).observe(seconds)


class _SignedLogSize(Collector):
    def __init__(self, statements: Callable[[], int]) -> None:
        self._statements = statements

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "pjgw_notary_signed_log_statements",
            "Statements in the notary's signed log (its record against equivocation)",
            value=float(self._statements()),
        )


__all__ = ["NotaryMetrics"]
