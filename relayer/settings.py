"""The relayer engine's knobs, each bounded with a safe default (pydantic-settings).

Read from keyword arguments or ``PJGW_RELAYER_*`` environment variables.
Checkpoints are the operator's out-of-band trust anchors for a chain's light
client; a chain without one is anchored on first use (TOFU, see
``docs/relayer.md``).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.batches import MAX_BATCH_SIZE

_HASH = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")

BREAKERS = ("conservation", "client_frozen", "failure_rate")
"""The circuit breakers a route has (``relayer/breakers.py``, ``docs/supervision.md``)."""


class Checkpoint(BaseModel):
    """A header the operator trusts: its height and hash, taken from outside the node."""

    model_config = {"frozen": True, "extra": "forbid"}

    height: int = Field(ge=0, le=2**63 - 1)
    hash: str = Field(description="32-byte block hash, hex")

    @field_validator("hash")
    @classmethod
    def _hash(cls, value: str) -> str:
        if not _HASH.fullmatch(value):
            raise ValueError("a checkpoint hash is 32 bytes of hex")
        return value.lower().removeprefix("0x")

    @property
    def hash_bytes(self) -> bytes:
        return bytes.fromhex(self.hash)


class ClientParams(BaseModel):
    """Light-client parameters of a chain whose family has none in its adapter settings."""

    model_config = {"frozen": True, "extra": "forbid"}

    trusting_period: int = Field(14 * 24 * 3600, ge=60, le=365 * 24 * 3600, description="s")
    max_clock_drift: int = Field(15, ge=0, le=3600, description="seconds")


class RelayerSettings(BaseSettings):
    """How much work one pass does, how long leases last and how retries back off."""

    model_config = SettingsConfigDict(env_prefix="PJGW_RELAYER_", extra="forbid", frozen=True)

    # source scanning
    chunk_size: int = Field(500, ge=1, le=10_000, description="heights per events() call")
    max_chunks_per_pass: int = Field(20, ge=1, le=10_000, description="chunks per route and pass")
    start_height: int = Field(
        1,
        ge=0,
        description="first height scanned when a route has no "
        "cursor and no 'start_height' route setting",
    )

    watch_lease_seconds: float = Field(
        10.0,
        gt=0,
        le=600,
        description="how long one process holds a source chain's watch (renewed each pass; "
        "another process takes over this long after the holder stops renewing)",
    )

    # work distribution
    lease_seconds: float = Field(60.0, gt=0, le=3600)
    claim_limit: int = Field(
        256, ge=1, le=10_000, description="transfers leased per pass (a full batch: 256)"
    )
    steps_per_claim: int = Field(8, ge=1, le=32, description="steps one lease may take")
    route_workers: int = Field(
        2,
        ge=1,
        le=16,
        description="passes over one route's transfers run at once in this process (each "
        "leases its own; a pass waiting on a proof or the store leaves the next one working)",
    )
    concurrency: int = Field(16, ge=1, le=1_000, description="transfers stepped at once")
    poll_interval: float = Field(1.0, gt=0, le=600, description="seconds between passes")

    # retries (exponential backoff with full jitter)
    backoff_base: float = Field(1.0, gt=0, le=600, description="seconds, doubled per attempt")
    backoff_cap: float = Field(300.0, gt=0, le=86_400, description="longest retryable wait")
    config_backoff: float = Field(600.0, gt=0, le=86_400, description="wait after config errors")
    wait_interval: float = Field(2.0, ge=0, le=3600, description="re-check of a waiting step")
    hold_recheck: float = Field(
        300.0, gt=0, le=86_400, description="seconds between looks at a held transfer's timeout"
    )

    # batching
    batch_size: int = Field(50, ge=1, le=1_000, description="deliveries per submit_many")
    attestation: Literal["batch", "packet"] = Field(
        "batch",
        description="batch: one notary statement per batch of packets (issue #15); "
        "packet: one certificate per packet",
    )
    batch_max: int = Field(MAX_BATCH_SIZE, ge=1, le=MAX_BATCH_SIZE, description="packets a batch")
    batch_poll: float = Field(
        0.25, gt=0, le=600, description="seconds between two looks at a waiting batch"
    )
    batch_linger: float = Field(
        0.0, ge=0, le=60, description="seconds a partial batch waits for more packets"
    )

    # committee rotations (relayer/rotation.py)
    rotation_hold_grace: float = Field(
        5.0,
        ge=0,
        le=3600,
        description="seconds a rotation's attestation hold stands before the drain is "
        "measured (longer than one relayer pass)",
    )

    # light clients
    checkpoints: dict[str, Checkpoint] = Field(default_factory=dict, description="chain -> anchor")
    clients: dict[str, ClientParams] = Field(default_factory=dict, description="chain -> params")
    max_backfill: int = Field(
        1024,
        ge=0,
        le=100_000,
        description="heights verified downwards from the lowest trusted state (parent-hash chain)",
    )
    max_consensus_states: int = Field(256, ge=2, le=100_000, description="kept per chain")
    client_refresh_interval: float = Field(
        30.0,
        gt=0,
        le=86_400,
        description="seconds between checks that refresh a light client with a third of its "
        "trusting period left",
    )

    # circuit breakers (relayer/breakers.py; docs/supervision.md "Circuit breakers")
    breakers: tuple[str, ...] = Field(
        BREAKERS, description="the breakers checked (a subset of " + ", ".join(BREAKERS) + ")"
    )
    breaker_interval: float = Field(
        30.0, gt=0, le=3600, description="seconds between two checks of every route"
    )
    breaker_conservation_tolerance: int = Field(
        0,
        ge=0,
        le=2**256 - 1,
        description="deficit (vouchers + in flight - escrow, base units) tolerated",
    )
    breaker_failure_rate: float = Field(
        0.5, gt=0, le=1, description="failed share of the recent deliveries that trips"
    )
    breaker_failure_window: int = Field(
        20, ge=1, le=10_000, description="recent deliveries judged (the sliding window)"
    )
    breaker_failure_min: int = Field(
        5, ge=1, le=10_000, description="deliveries the window needs before it judges"
    )
    breaker_failure_minutes: float = Field(
        15.0, gt=0, le=7 * 24 * 60, description="age limit of a delivery in the window"
    )

    @field_validator("breakers")
    @classmethod
    def _breakers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [b for b in value if b not in BREAKERS]
        if unknown:
            raise ValueError(f"unknown breaker {unknown[0]!r} (known: {', '.join(BREAKERS)})")
        if len(set(value)) != len(value):
            raise ValueError("a breaker is named twice")
        return value

    @model_validator(mode="after")
    def _window(self) -> RelayerSettings:
        if self.breaker_failure_min > self.breaker_failure_window:
            raise ValueError(
                "breaker_failure_min must not exceed breaker_failure_window "
                f"({self.breaker_failure_min} > {self.breaker_failure_window})"
            )
        return self

    # metrics (relayer/metrics.py; docs/operator-guide.md)
    metrics_port: int = Field(
        0, ge=0, le=65535, description="Prometheus port of a relayer process (0: none)"
    )
    metrics_host: str = Field("127.0.0.1", description="address the metrics port binds")

    def client_params(self, chain_id: str) -> ClientParams:
        return self.clients.get(chain_id) or ClientParams()
