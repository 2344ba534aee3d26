"""The conformance kit's target for a FISCO BCOS 2.x group.

What the seams cannot say about FISCO: a checkpoint is a header the operator
trusts out of band (its hash, and its sealer list when a trust file pins one;
the signatures are not checked there); any later header verifies from it with
its own sealer signatures (the kit's default ``header_update``); the hub has
no bridge on FISCO BCOS and signs no FISCO transaction, so the kit cannot make
the chain emit a ``send_packet`` or commit a submission.

``offline=True`` with a fixed ``now`` runs the kit on recorded JSON-RPC answers
(``tests/adapters/fisco_recording.py``): the checks that need the chain to act
are then skipped by the kit with that reason.

No pytest here, so an adapter package may ship it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import httpx
import rlp
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.fisco.adapter import FiscoAdapter
from adapters.fisco.light_client import decode_update, encode_header, encode_signatures
from adapters.fisco.settings import FiscoSettings
from adapters.testing.target import ConformanceTarget, flip, generic_header_malleations
from core.errors import ConfigError
from core.seams import ChainAdapter
from core.types import ChainAction, HeaderUpdate
from proofs.fisco.header import compute_header_hash


class FiscoTargetOptions(BaseModel):
    """``[target_options]`` of a ``--pjgw-chain`` file for a FISCO group."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    offline: bool = Field(False, description="recorded answers: skip checks needing a live node")
    now: int | None = Field(None, ge=0, description="fixed unix seconds (recordings)")
    header_span: int = Field(4, ge=1, le=1_000)
    wait_timeout: float = Field(30.0, gt=0)


class FiscoTarget(ConformanceTarget):
    """A FISCO BCOS 2.x group (live, or recorded when ``options.offline``)."""

    def __init__(
        self,
        settings: FiscoSettings,
        options: FiscoTargetOptions,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.options = options
        self.transport = transport
        self.name = f"fisco:{settings.chain_id}" + (" (recorded)" if options.offline else "")
        self.offline = options.offline
        self.header_span = options.header_span
        self.wait_timeout = options.wait_timeout

    def make_adapter(self) -> ChainAdapter:
        return FiscoAdapter(self.settings, transport=self.transport)

    async def trigger_send_packet(self, adapter: ChainAdapter) -> bytes:
        raise ConfigError("fisco: the hub has no bridge on FISCO BCOS to emit a send_packet")

    async def submittable_action(self, adapter: ChainAdapter) -> ChainAction:
        raise ConfigError("fisco: the hub signs no FISCO BCOS transactions yet")

    async def checkpoint(
        self, adapter: ChainAdapter, header: HeaderUpdate
    ) -> tuple[object, object]:
        """Trust ``header`` under its own computed hash (and the pinned sealers, if any)."""
        codec = adapter.client_codec()
        client = codec.initial_client_state(self.settings.trusting_period, 0)
        return client, codec.anchor(client, header, codec.header_hash(header), self.now())

    def header_malleations(self, header: HeaderUpdate) -> Mapping[str, HeaderUpdate]:
        """The generic flips, plus edits that keep the RLP well formed (each must fail a
        FISCO check, not the decoder)."""
        return fisco_header_malleations(header)

    def now(self) -> int:
        return self.options.now if self.options.now is not None else int(time.time())


def fisco_header_malleations(header: HeaderUpdate) -> dict[str, HeaderUpdate]:
    """Named copies of a real header, each broken in one place (also used by the tests)."""
    cases = generic_header_malleations(header)
    parsed = decode_update(header)
    sigs = list(parsed.signatures)
    n = len(parsed.sealer_list)

    def with_sigs(signatures: list[tuple[int, bytes]]) -> HeaderUpdate:
        return replace(header, evidence=encode_signatures(signatures))

    def with_fields(**changes: Any) -> HeaderUpdate:
        changed = replace(parsed, **changes)
        return replace(header, encoded=encode_header(changed))

    def rehashed(**changes: Any) -> HeaderUpdate:
        changed = replace(parsed, **changes)
        return replace(header, encoded=encode_header(changed), hash=compute_header_hash(changed))

    first_index, first_sig = sigs[0]
    cases["signatures: a signature's byte flipped"] = with_sigs(
        [(first_index, flip(first_sig, 5)), *sigs[1:]]
    )
    cases["signatures: v flipped"] = with_sigs([(first_index, flip(first_sig, -1)), *sigs[1:]])
    cases["signatures: one dropped"] = with_sigs(sigs[1:])
    cases["signatures: one duplicated"] = with_sigs([*sigs[:-1], sigs[0]])
    unused = sorted(set(range(n)) - {i for i, _ in sigs})
    if unused:  # a sealer that did not sign (a 1-sealer chain has none)
        cases["signatures: an index moved to a sealer that did not sign"] = with_sigs(
            [(unused[0], first_sig), *sigs[1:]]
        )
    cases["signatures: an index past the list"] = with_sigs([(n, first_sig), *sigs[1:]])
    cases["signatures: none"] = replace(header, evidence=rlp.encode([]))
    cases["hash: another block's hash claimed"] = replace(header, hash=flip(header.hash, 0))
    cases["header: state root changed"] = with_fields(state_root=flip(parsed.state_root, 0))
    cases["header: transactions root changed, re-hashed"] = rehashed(
        transactions_root=flip(parsed.transactions_root, 0)
    )
    cases["header: timestamp changed, re-hashed"] = rehashed(timestamp=parsed.timestamp + 1)
    cases["header: sealer field past the list, re-hashed"] = rehashed(sealer=n)
    keys = list(parsed.sealer_list)
    keys[first_index] = flip(keys[first_index], 0)
    cases["header: a sealer key replaced, re-hashed"] = rehashed(sealer_list=tuple(keys))
    cases["header: height claimed another"] = replace(header, height=header.height + 1)
    cases["header: chain claimed another"] = replace(header, chain_id=header.chain_id + "-x")
    return cases


def target_from_config(
    options: Mapping[str, Any],
    target_options: Mapping[str, Any],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FiscoTarget:
    """The target of a ``--pjgw-chain`` file; ``ConfigError`` without echoing any value."""
    try:
        settings = FiscoSettings(**options)
        parsed = FiscoTargetOptions(**target_options)
    except ValidationError as err:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in err.errors(include_input=False))
        raise ConfigError(f"invalid FISCO chain options: {fields}") from None
    return FiscoTarget(settings, parsed, transport=transport)
