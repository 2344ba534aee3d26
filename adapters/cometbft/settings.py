"""The settings of one CometBFT chain, validated by the CometBFT adapter itself.

The hub keeps chain options opaque; this model checks them once, at load
time, with explicit bounds. The trust level is written as a fraction string
(``"1/3"``, ``"2/3"``) because that is how CometBFT configures it
(``trust_level`` in ``config.toml``) and because a float would round.
"""

from __future__ import annotations

from fractions import Fraction

from pydantic import BaseModel, ConfigDict, Field, field_validator

from proofs.cometbft import CometClientState, TrustOptions
from proofs.cometbft.types import MAX_CHAIN_ID_LENGTH, NS_PER_SECOND
from proofs.cometbft.verifier import DEFAULT_TRUST_LEVEL


class CometBftSettings(BaseModel):
    """One CometBFT chain: where its RPC is and how far its light client trusts it."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    chain_id: str = Field(
        min_length=1,
        max_length=MAX_CHAIN_ID_LENGTH,
        description="the CometBFT chain id (header.chain_id), also the hub's ChainId",
    )
    rpc_url: str = Field(description="CometBFT RPC endpoint (http or https), e.g. :26657")

    # light client
    trusting_period: int = Field(
        14 * 24 * 3600, ge=1, le=365 * 24 * 3600, description="seconds (< unbonding period)"
    )
    trust_level: str = Field("1/3", description="fraction in [1/3, 1] for skipping verification")
    max_clock_drift: int = Field(10, ge=0, le=3600, description="seconds (CometBFT default 10)")

    # RPC
    timeout: float = Field(10.0, gt=0, le=300, description="seconds per RPC request")
    validators_per_page: int = Field(100, ge=1, le=100, description="CometBFT caps it at 100")
    max_validator_pages: int = Field(100, ge=1, le=10_000, description="bound on one set's pages")
    max_event_range: int = Field(1_000, ge=1, le=100_000, description="blocks per events() call")

    # IBC
    ibc_store: str = Field("ibc", min_length=1, description="store key of the IBC module")

    @field_validator("rpc_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("rpc_url must be http:// or https://")
        return value.rstrip("/")

    @field_validator("trust_level")
    @classmethod
    def _fraction(cls, value: str) -> str:
        try:
            level = Fraction(value)
        except (ValueError, ZeroDivisionError) as err:
            raise ValueError("trust_level must be a fraction such as '1/3'") from err
        if not DEFAULT_TRUST_LEVEL <= level <= 1:
            raise ValueError("trust_level must be within [1/3, 1]")
        return value

    def trust_options(self) -> TrustOptions:
        return TrustOptions(
            trusting_period_ns=self.trusting_period * NS_PER_SECOND,
            max_clock_drift_ns=self.max_clock_drift * NS_PER_SECOND,
            trust_level=Fraction(self.trust_level),
        )

    def client_state(self) -> CometClientState:
        """The light client's parameters for this chain (unfrozen)."""
        return CometClientState(chain_id=self.chain_id, options=self.trust_options())
