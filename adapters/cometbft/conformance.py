"""The conformance kit's target for a CometBFT chain.

What the seams cannot say about CometBFT: a checkpoint is a light block the
operator trusts out of band (``TrustedBlock.from_signed_header``: its commit is
not checked, its next validator set is hash-checked); any header verifies from
an older trusted one with its own commit (the kit's default ``header_update``);
a ``send_packet`` is an IBC transfer, which the kit can only cause by
broadcasting a transaction signed outside the hub (``send_packet_tx``).

``offline=True`` with a fixed ``now`` runs the kit on recorded RPC answers
(``tests/adapters/cometbft_recording.py``): the checks that need the chain to
act are then skipped by the kit with that reason.

No pytest here, so an adapter package may ship it.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.cometbft.adapter import SUBMIT_KIND, CometBftAdapter
from adapters.cometbft.settings import CometBftSettings
from adapters.testing.target import ConformanceTarget, flip, generic_header_malleations
from core.errors import ConfigError
from core.seams import ChainAdapter
from core.types import ChainAction, HeaderUpdate
from proofs.cometbft import TrustedBlock, decode_envelope
from proofs.cometbft.hashing import header_hash
from proofs.cometbft.types import Header


class CometBftTargetOptions(BaseModel):
    """``[target_options]`` of a ``--pjgw-chain`` file for a CometBFT chain."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    send_packet_tx: str | None = Field(
        None, description="base64 of a signed tx that emits send_packet (an IBC transfer)"
    )
    offline: bool = Field(False, description="recorded answers: skip checks needing a live node")
    now: int | None = Field(None, ge=0, description="fixed unix seconds (recordings)")
    header_span: int = Field(4, ge=1, le=1_000)
    wait_timeout: float = Field(30.0, gt=0)


class CometBftTarget(ConformanceTarget):
    """A CometBFT chain (live, or recorded when ``options.offline``)."""

    def __init__(
        self,
        settings: CometBftSettings,
        options: CometBftTargetOptions,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.options = options
        self.transport = transport
        self.name = f"cometbft:{settings.chain_id}" + (" (recorded)" if options.offline else "")
        self.offline = options.offline
        self.header_span = options.header_span
        self.wait_timeout = options.wait_timeout

    def make_adapter(self) -> ChainAdapter:
        return CometBftAdapter(self.settings, transport=self.transport)

    async def trigger_send_packet(self, adapter: ChainAdapter) -> bytes:
        if self.options.send_packet_tx is None:
            raise ConfigError("the CometBFT target needs target_options.send_packet_tx")
        tx = base64.b64decode(self.options.send_packet_tx)
        return await adapter.submit(ChainAction(SUBMIT_KIND, {"tx": tx}, "conformance-send"))

    async def submittable_action(self, adapter: ChainAdapter) -> ChainAction:
        """The same signed bytes twice: the account sequence lets them execute once."""
        if self.options.send_packet_tx is None:
            raise ConfigError("the CometBFT target needs target_options.send_packet_tx")
        tx = base64.b64decode(self.options.send_packet_tx)
        return ChainAction(SUBMIT_KIND, {"tx": tx}, "conformance-idempotent")

    async def checkpoint(
        self, adapter: ChainAdapter, header: HeaderUpdate
    ) -> tuple[object, object]:
        block = decode_envelope(header)
        if block.next_validators is None:
            raise ConfigError("a checkpoint needs the next validator set")
        trusted = TrustedBlock.from_signed_header(block.signed_header, block.next_validators)
        return self.settings.client_state(), trusted

    def header_malleations(self, header: HeaderUpdate) -> Mapping[str, HeaderUpdate]:
        """The generic flips, plus edits that keep the JSON well formed (each must fail a
        CometBFT check, not the parser): a signature, a voting power, the app hash."""
        cases = generic_header_malleations(header)
        evidence = json.loads(header.evidence)
        encoded = json.loads(header.encoded)

        signed = next(
            i for i, s in enumerate(evidence["commit"]["signatures"]) if s.get("signature")
        )
        bad_sig = json.loads(header.evidence)
        sig = base64.b64decode(bad_sig["commit"]["signatures"][signed]["signature"])
        bad_sig["commit"]["signatures"][signed]["signature"] = base64.b64encode(
            flip(sig, 0)
        ).decode()
        cases["commit: a signature flipped"] = replace(header, evidence=_dumps(bad_sig))

        bad_power = json.loads(header.evidence)
        validator = bad_power["validator_set"]["validators"][0]
        validator["voting_power"] = str(int(validator["voting_power"]) + 1)
        cases["validator set: a voting power raised"] = replace(header, evidence=_dumps(bad_power))

        bad_app = dict(encoded)
        bad_app["app_hash"] = flip(bytes.fromhex(encoded["app_hash"] or "00" * 32), 0).hex().upper()
        cases["header: app hash changed"] = replace(header, encoded=_dumps(bad_app))
        rehashed = header_hash(Header.from_json(bad_app))  # passes the envelope, not the commit
        cases["header: app hash changed, re-hashed"] = replace(
            header, encoded=_dumps(bad_app), hash=rehashed
        )
        return cases

    def now(self) -> int:
        return self.options.now if self.options.now is not None else int(time.time())


def target_from_config(
    options: Mapping[str, Any],
    target_options: Mapping[str, Any],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> CometBftTarget:
    """The target of a ``--pjgw-chain`` file; ``ConfigError`` without echoing any value."""
    try:
        settings = CometBftSettings(**options)
        parsed = CometBftTargetOptions(**target_options)
    except ValidationError as err:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in err.errors(include_input=False))
        raise ConfigError(f"invalid CometBFT chain options: {fields}") from None
    return CometBftTarget(settings, parsed, transport=transport)


def _dumps(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
