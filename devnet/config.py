"""The devnet node's options, each bounded, parsed once from the command line.

The chain-defining options (chain id, validator count, hash profile, accounts,
notaries, seed) are read only when the data directory is new: they go into its
genesis, and a restart takes them from there. Giving a different value on a
restart is an error rather than a silent new chain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import ConfigError
from core.ids import ChainId

MAX_VALIDATORS = 128
"""This one process signs for every validator; 128 keeps a block's signing under a second."""
MAX_ACCOUNTS = 1000
MAX_NOTARIES = 32
MIN_BLOCK_TIME = 0.05
MAX_BLOCK_TIME = 60.0
MAX_REQUEST_SECONDS = 600.0

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$")


def parse_duration(text: str) -> float:
    """Seconds from ``"1s"``, ``"250ms"`` or ``"2"`` (seconds)."""
    match = _DURATION.match(text)
    if not match:
        raise ConfigError(f"duration {text!r} is not like '1s', '500ms' or '2'")
    value = float(match.group(1))
    return value / 1000 if match.group(2) == "ms" else value


@dataclass(frozen=True)
class NodeConfig:
    """Everything a node needs; ``block_time=None`` means blocks only on demand.

    ``instant``: no timer; every accepted transaction is committed in a block of
    its own before ``submit`` returns, and ``POST /v1/blocks`` makes a block now.
    With ``block_time=None`` and ``instant=False`` (the in-process test mode) blocks
    come only from ``DevnetNode.produce_block()``.
    """

    data_dir: Path
    chain_id: str = "pujiang-devnet"
    validators: int = 4
    block_time: float | None = 1.0
    instant: bool = False
    hash_profile: str = "sha256"
    account_scheme: str = "ed25519"
    """``ed25519`` (``--crypto standard``) or ``sm2`` (``--crypto gm``, with ``sm3``)."""
    accounts: int = 4
    notaries: int = 3
    notary_threshold: int = 2
    faults: bool = False
    seed: bytes | None = None
    max_block_txs: int = 5000
    max_block_bytes: int = 8 * 1024 * 1024
    mempool_size: int = 50_000
    request_seconds: float = 10.0
    """A request's head, and then its body, must each arrive within this (else 408)."""
    explicit: frozenset[str] = field(default_factory=frozenset)
    """Names of the chain-defining options the operator gave (checked against genesis)."""

    def __post_init__(self) -> None:
        ChainId(self.chain_id)
        if not 1 <= self.validators <= MAX_VALIDATORS:
            raise ConfigError(f"--validators must be 1..{MAX_VALIDATORS}, not {self.validators}")
        if self.block_time is not None and not (
            MIN_BLOCK_TIME <= self.block_time <= MAX_BLOCK_TIME
        ):
            raise ConfigError(
                f"--block-time must be {MIN_BLOCK_TIME}s..{MAX_BLOCK_TIME:.0f}s, "
                f"not {self.block_time}s"
            )
        if not 0 < self.request_seconds <= MAX_REQUEST_SECONDS:
            raise ConfigError(
                f"--request-timeout must be over 0 and at most {MAX_REQUEST_SECONDS:.0f}s"
            )
        if self.hash_profile not in ("sha256", "sm3"):
            raise ConfigError(f"--hash must be sha256 or sm3, not {self.hash_profile!r}")
        if self.account_scheme not in ("ed25519", "sm2"):
            raise ConfigError(f"account scheme must be ed25519 or sm2, not {self.account_scheme!r}")
        if (self.hash_profile, self.account_scheme) == ("sha256", "sm2"):
            raise ConfigError("SM2 accounts come with SM3 hashes (--crypto gm), not sha256")
        if not 1 <= self.accounts <= MAX_ACCOUNTS:
            raise ConfigError(f"--accounts must be 1..{MAX_ACCOUNTS}, not {self.accounts}")
        if not 1 <= self.notaries <= MAX_NOTARIES:
            raise ConfigError(f"--notaries must be 1..{MAX_NOTARIES}, not {self.notaries}")
        if not self.notaries // 2 + 1 <= self.notary_threshold <= self.notaries:
            raise ConfigError(
                f"--notary-threshold must be a majority of the {self.notaries} notaries "
                f"and at most all of them, not {self.notary_threshold}"
            )
        if self.seed is not None and len(self.seed) < 32:
            raise ConfigError("--seed must be at least 32 bytes (64 hex digits)")
        if not 1 <= self.max_block_txs <= 100_000:
            raise ConfigError("max_block_txs must be 1..100000")
        if not 1 <= self.mempool_size <= 1_000_000:
            raise ConfigError("mempool_size must be 1..1000000")

    @property
    def db_path(self) -> Path:
        return self.data_dir / "chain.sqlite"
