"""The options of one Pujiang chain, validated by the adapter (the core keeps them opaque).

Every bound is explicit with a safe default. The relayer key is a ``SecretStr``:
it prints as ``**********`` in reprs, logs and validation errors, and is only
unwrapped at the moment a transaction is signed (``actions.TxSigner``).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import ConfigError, InvalidInput
from core.ids import ChainId
from proofs.htlc.timing import ChainTiming

EVENTS_RANGE_BOUND = 1000
"""The node API answers ``/v1/events`` for at most this many heights and events at a time."""

_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
SEED_PATTERN = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
"""An account seed in hex (32 bytes), with or without ``0x``."""


class PujiangSettings(BaseSettings):
    """How to reach one Pujiang subchain node and how hard to try.

    Read from keyword arguments (the hub's chain registry) or ``PJGW_PUJIANG_*``
    environment variables; ``from_options`` turns validation failures into
    ``ConfigError`` without echoing any input (a secret must never reach a log).
    """

    model_config = SettingsConfigDict(env_prefix="PJGW_PUJIANG_", extra="forbid", frozen=True)

    url: str = Field(description="Base URL of the node's HTTP API, e.g. http://127.0.0.1:26650")
    chain_id: str = Field(description="The chain id the node must serve (checked on status)")
    hash_profile: Literal["sha256", "sm3"] = "sha256"
    account_scheme: Literal["ed25519", "sm2"] = Field(
        "ed25519",
        description="How the chain's accounts sign (its genesis): sm2 on a gm chain (with sm3)",
    )
    timeout: float = Field(10.0, gt=0, le=300, description="Seconds for one HTTP exchange")
    connect_timeout: float = Field(5.0, gt=0, le=60)
    retry_attempts: int = Field(
        3, ge=1, le=10, description="Attempts per idempotent request, the first one included"
    )
    retry_backoff: float = Field(0.2, ge=0, le=10, description="First retry delay, seconds")
    retry_backoff_max: float = Field(5.0, ge=0, le=60, description="Cap of one retry delay")
    range_size: int = Field(
        EVENTS_RANGE_BOUND,
        ge=1,
        le=EVENTS_RANGE_BOUND,
        description="Heights per /v1/events request (the API allows at most 1000)",
    )
    page_limit: int = Field(EVENTS_RANGE_BOUND, ge=1, le=EVENTS_RANGE_BOUND)
    max_connections: int = Field(10, ge=1, le=200)
    relayer_key: SecretStr | None = Field(
        None,
        description="32-byte seed (hex) of the account that signs bridge_recv/bridge_timeout: "
        "an Ed25519 seed, or the SM2 key seed of proofs.pujiang.accounts on a gm chain",
    )
    relayer_signer: str | None = Field(
        None,
        max_length=2_000,
        description="the relayer account as a signer reference instead of relayer_key: "
        "keystore:<file> (a pjgw-aead-v1 file of the account's seed) or file:<path> with "
        "insecure_plaintext_key; see docs/operator-guide.md, key management",
    )
    insecure_plaintext_key: bool = Field(
        False,
        description="allow plaintext keys (relayer_key, a file: relayer_signer): development "
        "only; without it a relayer_key is refused at start",
    )
    # the notary committee the bridge module trusts, as configured (BridgeEndpoint.committee)
    committee_threshold: int = Field(0, ge=0, le=256, description="signatures a certificate needs")
    committee: tuple[str, ...] = Field((), max_length=256, description="member 0x addresses")
    committee_epoch: int = Field(
        1, ge=1, lt=2**64, description="epoch of that committee (batch statements name it)"
    )
    # HTLC timing (proofs.htlc.timing): BFT finality, so a transaction is final in one block
    block_time: float = Field(1.0, gt=0, le=3600, description="seconds per block")
    max_clock_drift: float = Field(2.0, ge=0, le=3600, description="block time vs true time, s")

    @field_validator("committee")
    @classmethod
    def _check_committee(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not all(re.fullmatch(r"0x[0-9a-fA-F]{40}", m) for m in value):
            raise ValueError("a committee member is 0x followed by 40 hex digits")
        return tuple(m.lower() for m in value)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not _URL.fullmatch(value):
            raise ValueError("url must be http(s)://host[:port][/path]")
        return value.rstrip("/")

    @field_validator("chain_id")
    @classmethod
    def _check_chain_id(cls, value: str) -> str:
        try:
            return str(ChainId(value))
        except InvalidInput as err:
            raise ValueError(err.message) from None

    @field_validator("relayer_key")
    @classmethod
    def _check_relayer_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not SEED_PATTERN.fullmatch(value.get_secret_value()):
            raise ValueError("relayer_key must be a 32-byte seed in hex")
        return value

    @model_validator(mode="after")
    def _plaintext_gated(self) -> PujiangSettings:
        # The message names the setting, never the value.
        if self.relayer_key is not None and not self.insecure_plaintext_key:
            raise ValueError(
                "relayer_key is a plaintext key: set insecure_plaintext_key = true (development "
                "only) or name a keystore file with relayer_signer (docs/operator-guide.md, "
                "key management)"
            )
        return self

    def chain_timing(self) -> ChainTiming:
        """This chain's figures for the HTLC timelock rules: final in the including block."""
        return ChainTiming(self.block_time, 0, self.max_clock_drift)

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> PujiangSettings:
        """Validate a chain's options; ``ConfigError`` lists the bad fields, never their values."""
        try:
            return cls(**options)
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}"
                for e in err.errors(include_input=False, include_url=False)
            )
            # ``from None``: the pydantic error carries the inputs, the relayer key among them,
            # and a chained traceback in a log would print it.
            raise ConfigError(f"invalid Pujiang chain options: {problems}") from None

    @property
    def relayer_seed(self) -> bytes | None:
        """The relayer's 32 seed bytes (unwrapped only when signing)."""
        if self.relayer_key is None:
            return None
        text = self.relayer_key.get_secret_value()
        return bytes.fromhex(text.removeprefix("0x"))
