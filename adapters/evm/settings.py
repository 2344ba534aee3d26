"""The settings of one EVM chain, validated by the EVM adapter itself.

The hub keeps chain options opaque; this model is where they get checked,
once, at load time. Every bound is explicit with a safe default, and the
signer key is a ``SecretStr``: it never appears in a repr, a log line or a
validation error. Built directly (``EvmChainSettings(chain=..., rpc_url=...)``)
or from ``PJGW_EVM_*`` environment variables for a single-chain setup.
"""

from __future__ import annotations

import re
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import InvalidInput
from core.ids import ChainId
from proofs.evm.bft import BftFinality, BftVariant
from proofs.evm.client import EvmClientState, EvmLightClient
from proofs.evm.finality import ConfirmationDepth, FinalityPolicy
from proofs.htlc.timing import ChainTiming

GWEI = 10**9
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


PLAINTEXT_SETTING_REFUSED = (
    "{name} is a plaintext key: set insecure_plaintext_key = true (development only) or keep "
    "the key in the keystore or an HSM (docs/operator-guide.md, key management)"
)


class EvmChainSettings(BaseSettings):
    """One EVM chain: where it is, what is deployed on it, and how far to trust it."""

    model_config = SettingsConfigDict(
        env_prefix="PJGW_EVM_", extra="forbid", frozen=True, hide_input_in_errors=True
    )

    # identity and endpoint
    chain: str = Field(description="the hub's ChainId of this chain, e.g. 'anvil-31337'")
    rpc_url: str = Field(description="JSON-RPC endpoint (http or https)")
    evm_chain_id: int = Field(ge=1, le=2**63 - 1, description="EIP-155 chain id")

    # contracts (lower-case hex); None when the route type does not use it
    bridge_address: str | None = None
    htlc_address: str | None = None
    start_height: int = Field(0, ge=0, description="first block to scan (the deployment block)")

    # finality and light client
    finality: Literal["confirmations", "qbft", "ibft2"] = "confirmations"
    confirmations: int = Field(12, ge=0, le=10_000)
    trusting_period: int = Field(7 * 24 * 3600, ge=60, le=365 * 24 * 3600, description="seconds")
    max_clock_drift: int = Field(15, ge=0, le=3600, description="seconds")
    max_header_segment: int = Field(1024, ge=1, le=100_000, description="headers per update")
    block_time: float = Field(12.0, gt=0, le=3600, description="seconds per block (HTLC timing)")

    # scanning
    log_range: int = Field(2_000, ge=1, le=100_000, description="blocks per eth_getLogs")
    max_reorg_depth: int = Field(64, ge=1, le=10_000, description="deepest reorg rewound")
    header_batch: int = Field(256, ge=1, le=1_000, description="headers per JSON-RPC batch")

    # fees and gas
    max_fee_per_gas_cap: int = Field(200 * GWEI, ge=1, description="refuse to send above (wei)")
    max_priority_fee_cap: int = Field(5 * GWEI, ge=0, description="tip ceiling (wei)")
    default_priority_fee: int = Field(GWEI, ge=0, description="tip when the node suggests none")
    base_fee_multiplier: int = Field(2, ge=1, le=10, description="max fee = base fee × this + tip")
    gas_limit_multiplier: float = Field(1.25, ge=1.0, le=3.0, description="margin on estimates")
    max_gas_per_tx: int = Field(10_000_000, ge=21_000, le=2**63 - 1)
    fee_quote_ttl: float = Field(1.0, ge=0.0, le=60.0, description="seconds a fee quote is reused")

    # network bounds
    rpc_timeout: float = Field(10.0, gt=0, le=300, description="seconds per request")
    batch_timeout: float = Field(60.0, gt=0, le=600, description="seconds per batch request")
    read_retries: int = Field(3, ge=0, le=10, description="extra attempts of idempotent reads")
    retry_backoff: float = Field(0.2, ge=0, le=30, description="seconds, doubled per attempt")
    max_connections: int = Field(20, ge=1, le=1_000)
    rpc_batching: bool = Field(True, description="JSON-RPC batches (off for nodes without)")
    receipt_poll_interval: float = Field(0.05, gt=0, le=60, description="wait_receipt polling")
    receipt_timeout: float = Field(120.0, gt=0, le=3_600, description="wait_receipt bound")

    # the accounts that send transactions (the signer pool); none for a read-only adapter
    signer_key: SecretStr | None = Field(None, repr=False)
    signers: tuple[str, ...] = Field(
        (),
        max_length=64,
        description="the signer pool: keystore:<file> or pkcs11:<RFC 7512 URI> references "
        "(file:<path> only with insecure_plaintext_key); see docs/operator-guide.md",
    )
    insecure_plaintext_key: bool = Field(
        False,
        description="allow plaintext keys (signer_key, file: signer references): development "
        "only; without it a signer_key is refused at start",
    )
    replace_after: float = Field(
        30.0, gt=0, le=3_600, description="seconds before an unmined transaction is replaced"
    )
    fee_bump_percent: float = Field(
        12.5, ge=10, le=100, description="raise of both fees in a replacement (nodes want >= 10)"
    )
    balance_alarm_wei: int = Field(10**17, ge=0, description="alarm below this balance (wei)")
    balance_check_interval: float = Field(
        15.0, gt=0, le=3_600, description="seconds between balance reads and stuck-tx checks"
    )

    # the notary committee the bridge trusts, as configured (BridgeEndpoint.committee)
    committee_threshold: int = Field(0, ge=0, le=100, description="signatures a certificate needs")
    committee: tuple[str, ...] = Field((), max_length=100, description="member addresses")
    committee_epoch: int = Field(
        1, ge=1, lt=2**64, description="epoch of that committee (batch statements name it)"
    )

    @field_validator("chain")
    @classmethod
    def _chain_id(cls, value: str) -> str:
        try:
            return str(ChainId(value))
        except InvalidInput as err:
            raise ValueError(err.message) from None

    @field_validator("rpc_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or len(value) > 2_000:
            raise ValueError("rpc_url must be an http:// or https:// URL")
        return value

    @field_validator("bridge_address", "htlc_address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _ADDRESS.fullmatch(value):
            raise ValueError("a contract address is 0x followed by 40 hex digits")
        return value.lower()

    @field_validator("committee")
    @classmethod
    def _members(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not all(_ADDRESS.fullmatch(m) for m in value):
            raise ValueError("a committee member is 0x followed by 40 hex digits")
        return tuple(m.lower() for m in value)

    @field_validator("signer_key", mode="after")
    @classmethod
    def _key(cls, value: SecretStr | None) -> SecretStr | None:
        # Only the shape is checked; the message never quotes the value.
        if value is not None and not _KEY.fullmatch(value.get_secret_value()):
            raise ValueError("signer_key must be 32 bytes of hex (the value is not shown)")
        return value

    @model_validator(mode="after")
    def _plaintext_gated(self) -> Self:
        # The message names the setting, never the value.
        if self.signer_key is not None and not self.insecure_plaintext_key:
            raise ValueError(PLAINTEXT_SETTING_REFUSED.format(name="signer_key"))
        return self

    @model_validator(mode="after")
    def _fees(self) -> Self:
        if self.max_priority_fee_cap > self.max_fee_per_gas_cap:
            raise ValueError("max_priority_fee_cap cannot exceed max_fee_per_gas_cap")
        if self.default_priority_fee > self.max_priority_fee_cap:
            raise ValueError("default_priority_fee cannot exceed max_priority_fee_cap")
        return self

    @property
    def chain_id(self) -> ChainId:
        return ChainId(self.chain)

    def finality_policy(self) -> FinalityPolicy:
        """The policy the light client (and ``finalized_height``) follow."""
        if self.finality == "qbft":
            return BftFinality(BftVariant.QBFT)
        if self.finality == "ibft2":
            return BftFinality(BftVariant.IBFT2)
        return ConfirmationDepth(self.confirmations)

    def chain_timing(self) -> ChainTiming:
        """This chain's figures for the HTLC timelock rules (``proofs.htlc.timing``):
        finality after ``confirmations`` blocks, or one block on QBFT/IBFT 2.0."""
        depth = self.confirmations if self.finality == "confirmations" else 0
        return ChainTiming(self.block_time, depth, float(self.max_clock_drift))

    def light_client(self) -> EvmLightClient:
        return EvmLightClient(self.finality_policy())

    def client_state(self) -> EvmClientState:
        """The light client's parameters for this chain (persisted by the caller)."""
        return EvmClientState(
            chain_id=self.chain_id,
            trusting_period=self.trusting_period,
            max_clock_drift=self.max_clock_drift,
            max_headers=self.max_header_segment,
        )
