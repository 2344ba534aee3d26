"""The settings of one FISCO BCOS 2.x group, validated by the FISCO adapter itself.

The hub keeps chain options opaque; this model checks them once, at load time.
The trusted sealer list is what the light client starts from (the 2.x header
carries no validator-set hash, so the list itself is the trust root): given
inline (``trusted_sealers``) or as a trust file (``trust_file``, the
``{"sealers": [hex, ...]}`` document ``pjgw verify-block`` reads).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_SEALER = re.compile(r"^(0x)?[0-9a-fA-F]{128}$")


def sealers_from_trust_file(path: str | Path) -> tuple[str, ...]:
    """The sealer keys of a trust file ``{"sealers": [hex, ...]}`` (``ValueError`` otherwise)."""
    try:
        doc = json.loads(Path(path).read_text())
        sealers = doc["sealers"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError('a FISCO trust file is {"sealers": [hex, ...]}') from err
    if not isinstance(sealers, list):
        raise ValueError('a FISCO trust file is {"sealers": [hex, ...]}')
    return tuple(sealers)


class FiscoSettings(BaseModel):
    """One FISCO BCOS 2.x group: where its JSON-RPC is and which sealers its light client trusts."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    chain_id: str = Field(min_length=1, max_length=63, description="the hub's id of the chain")
    group_id: int = Field(1, ge=1, le=32767, description="the FISCO group (2.x: 1..32767)")
    rpc_url: str = Field(description="FISCO BCOS 2.x JSON-RPC endpoint (http or https), e.g. :8545")

    # light client
    trusted_sealers: tuple[str, ...] | None = Field(
        None, description="the sealer list trusted at the checkpoint (64-byte keys, hex)"
    )
    trust_file: str | None = Field(None, description='a {"sealers": [hex, ...]} file')
    trusting_period: int = Field(
        14 * 24 * 3600, ge=1, le=365 * 24 * 3600, description="seconds a trusted state stays usable"
    )
    max_clock_drift: int = Field(30, ge=0, le=3600, description="seconds a header may be ahead")

    # RPC
    timeout: float = Field(10.0, gt=0, le=300, description="seconds per RPC request")
    max_event_range: int = Field(1_000, ge=1, le=100_000, description="blocks per events() call")

    @field_validator("rpc_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("rpc_url must be http:// or https://")
        return value.rstrip("/")

    @field_validator("trusted_sealers")
    @classmethod
    def _sealer_keys(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        if not value or not all(_SEALER.fullmatch(k) for k in value):
            raise ValueError("trusted_sealers are 64-byte public keys in hex")
        return tuple(k.lower().removeprefix("0x") for k in value)

    @model_validator(mode="after")
    def _load_trust_file(self) -> FiscoSettings:
        if self.trust_file is not None:
            sealers = self._sealer_keys(sealers_from_trust_file(self.trust_file))
            if self.trusted_sealers is not None and self.trusted_sealers != sealers:
                raise ValueError("trusted_sealers and trust_file name different sealers")
            object.__setattr__(self, "trusted_sealers", sealers)
        return self

    def sealer_keys(self) -> tuple[bytes, ...] | None:
        """The trusted sealer list as raw 64-byte keys (None: the checkpoint's own list)."""
        if self.trusted_sealers is None:
            return None
        return tuple(bytes.fromhex(k) for k in self.trusted_sealers)
