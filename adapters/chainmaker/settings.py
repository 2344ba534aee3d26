"""The settings of one ChainMaker chain, validated by the ChainMaker adapter itself.

ChainMaker nodes speak gRPC with messages only its SDKs build; the adapter reads
the JSON a gateway/SDK bridge serves over HTTP instead (``BlockInfo`` as the SDK
and the explorer export it), so ``rpc_url`` names that bridge, not the node's
gRPC port. The trust (validators, org CAs, pinned certificates) comes from a
trust file in ``docs/trust`` format, never from the node.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.errors import ConfigError, InvalidInput
from proofs.chainmaker.identity import ChainTrust, compute_chain_trust


class ChainMakerSettings(BaseModel):
    """One ChainMaker chain: where its block bridge is and what its light client trusts."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    chain_id: str = Field(
        min_length=1, max_length=63, description="ChainMaker chain id (header.chain_id)"
    )
    rpc_url: str = Field(description="HTTP(S) base URL of the gateway/SDK bridge serving JSON")
    trust_file: str = Field(
        min_length=1, description="path of the trust file (docs/trust format: validators, CAs)"
    )
    trusting_period: int = Field(
        7 * 24 * 3600, ge=1, le=365 * 24 * 3600, description="seconds a verified block is trusted"
    )
    max_clock_drift: int = Field(10, ge=0, le=3600, description="seconds")
    timeout: float = Field(10.0, gt=0, le=300, description="seconds per HTTP request")
    max_event_range: int = Field(1_000, ge=1, le=100_000, description="blocks per events() call")
    bridge_contract: str | None = Field(
        None,
        min_length=1,
        description="name of the hub's bridge contract on the chain (none deployed yet)",
    )

    @field_validator("rpc_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("rpc_url must be http:// or https://")
        return value.rstrip("/")

    def load_trusts(self) -> dict[int, ChainTrust]:
        """``config_height -> trust`` from the trust file (``ConfigError`` when unusable)."""
        try:
            doc = json.loads(Path(self.trust_file).read_text())
            return compute_trusts(doc, self.chain_id)
        except (OSError, ValueError, InvalidInput) as err:
            raise ConfigError(f"ChainMaker trust file {self.trust_file}: {err}") from None


def compute_trusts(doc: object, chain_id: str) -> dict[int, ChainTrust]:
    """The configurations of a trust document (one, or ``configs`` sharing the rest)."""
    if not isinstance(doc, dict):
        raise InvalidInput("a ChainMaker trust file is a JSON object")
    if "configs" in doc:
        base = {k: v for k, v in doc.items() if k not in ("configs", "_comment")}
        trusts = [compute_chain_trust({**base, **c}) for c in doc["configs"]]
    else:
        trusts = [compute_chain_trust(doc)]
    found = {t.config_height: t for t in trusts}
    if any(t.chain_id != chain_id for t in trusts):
        raise InvalidInput(f"the trust is not for chain {chain_id!r}")
    return found
