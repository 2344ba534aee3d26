"""The conformance kit's target for a ChainMaker chain.

What the seams cannot say about ChainMaker: a checkpoint is a block the
operator trusts out of band, under the configuration (validators, org CAs,
pins) its trust file holds for the block's ``pre_conf_height``; any certified
block verifies from an older trusted one with its own quorum certificate (the
kit's default ``header_update``); a ``send_packet`` would need the hub's bridge
contract on the chain and a transaction the hub cannot sign yet, so the target
cannot cause one.

``offline=True`` with a fixed ``now`` runs the kit on recorded bridge answers
(``tests/adapters/chainmaker_recording.py``, the real blocks of ``chain1``):
the checks that need the chain to act are skipped by the kit with that reason;
``lowest_height`` is the first recorded block.

No pytest here, so an adapter package may ship it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.chainmaker.adapter import ChainMakerAdapter
from adapters.chainmaker.settings import ChainMakerSettings
from adapters.testing.target import ConformanceTarget, flip, generic_header_malleations
from core.errors import ConfigError
from core.ids import Height
from core.seams import ChainAdapter
from core.types import ChainAction, HeaderUpdate
from proofs.chainmaker.encoding import TBFT_QC_KEY, compute_block_hash, encode
from proofs.chainmaker.identity import ChainTrust
from proofs.chainmaker.pb import chainmaker_pb2 as pb


class ChainMakerTargetOptions(BaseModel):
    """``[target_options]`` of a ``--pjgw-chain`` file for a ChainMaker chain."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    offline: bool = Field(False, description="recorded answers: skip checks needing a live node")
    now: int | None = Field(None, ge=0, description="fixed unix seconds (recordings)")
    header_span: int = Field(4, ge=1, le=1_000)
    lowest_height: int = Field(1, ge=1, description="the lowest height the bridge serves")
    wait_timeout: float = Field(30.0, gt=0)


class ChainMakerTarget(ConformanceTarget):
    """A ChainMaker chain behind its bridge (live, or recorded when ``options.offline``)."""

    def __init__(
        self,
        settings: ChainMakerSettings,
        options: ChainMakerTargetOptions,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.options = options
        self.transport = transport
        self.name = f"chainmaker:{settings.chain_id}" + (" (recorded)" if options.offline else "")
        self.offline = options.offline
        self.header_span = options.header_span
        self.lowest_height = options.lowest_height
        self.wait_timeout = options.wait_timeout

    def make_adapter(self) -> ChainAdapter:
        return ChainMakerAdapter(self.settings, transport=self.transport)

    async def trigger_send_packet(self, adapter: ChainAdapter) -> bytes:
        raise ConfigError("the hub cannot sign ChainMaker transactions: no send_packet to cause")

    async def submittable_action(self, adapter: ChainAdapter) -> ChainAction:
        raise ConfigError("the hub cannot sign ChainMaker transactions: nothing to submit")

    async def checkpoint(
        self, adapter: ChainAdapter, header: HeaderUpdate
    ) -> tuple[object, object]:
        """The block's own hash trusted, under the trust file's configuration in force."""
        codec = adapter.client_codec()
        client = codec.initial_client_state(self.settings.trusting_period, 10)
        return client, codec.anchor(client, header, codec.header_hash(header), self.now())

    def header_malleations(self, header: HeaderUpdate) -> Mapping[str, HeaderUpdate]:
        """The generic flips, plus edits that keep the protobuf well formed (each must fail
        a ChainMaker check, not the parser): header fields with and without the block hash
        re-derived, a vote's signature, a vote removed, the proposer's signature."""
        cases = generic_header_malleations(header)
        trust = self._trust(header)

        def with_header(edit: Callable[[pb.BlockHeader], None], rehash: bool) -> HeaderUpdate:
            parsed = pb.BlockHeader()
            parsed.ParseFromString(header.encoded)
            edit(parsed)
            if rehash:
                parsed.block_hash = compute_block_hash(parsed, trust.hash_fn)
            return replace(header, encoded=encode(parsed))

        edits: dict[str, Callable[[pb.BlockHeader], None]] = {
            "tx_root": lambda h: setattr(h, "tx_root", flip(h.tx_root, 0)),
            "timestamp": lambda h: setattr(h, "block_timestamp", h.block_timestamp + 1),
            "pre_block_hash": lambda h: setattr(h, "pre_block_hash", flip(h.pre_block_hash, 0)),
            "proposer": lambda h: setattr(h.proposer, "org_id", "wx-org9.chainmaker.org"),
        }
        for name, edit in edits.items():
            cases[f"header: {name} changed"] = with_header(edit, rehash=False)
            cases[f"header: {name} changed, block hash re-derived"] = with_header(edit, True)
        cases["header: chain id changed"] = with_header(
            lambda h: setattr(h, "chain_id", h.chain_id + "x"), True
        )
        cases["header: pre_conf_height changed"] = with_header(
            lambda h: setattr(h, "pre_conf_height", h.pre_conf_height + 1), True
        )
        cases["header: proposer signature flipped"] = with_header(
            lambda h: setattr(h, "signature", flip(h.signature, 5)), False
        )
        cases["update: height relabelled"] = replace(header, height=Height(header.height + 1))

        def with_votes(edit: Callable[[pb.VoteSet], None]) -> HeaderUpdate:
            info = pb.BlockInfo()
            info.ParseFromString(header.evidence)
            vote_set = pb.VoteSet()
            vote_set.ParseFromString(info.block.additional_data.extra_data[TBFT_QC_KEY])
            edit(vote_set)
            info.block.additional_data.extra_data[TBFT_QC_KEY] = encode(vote_set)
            return replace(header, evidence=encode(info))

        def bad_signature(vote_set: pb.VoteSet) -> None:
            voter = sorted(vote_set.votes)[0]
            entry = vote_set.votes[voter].endorsement
            entry.signature = flip(entry.signature, 8)

        def drop_vote(vote_set: pb.VoteSet) -> None:
            del vote_set.votes[sorted(vote_set.votes)[0]]

        def another_round(vote_set: pb.VoteSet) -> None:
            vote_set.votes[sorted(vote_set.votes)[0]].round += 1

        def maj23(vote_set: pb.VoteSet) -> None:
            vote_set.maj23 = flip(vote_set.maj23, 0)

        cases["certificate: a vote's signature flipped"] = with_votes(bad_signature)
        cases["certificate: a vote removed"] = with_votes(drop_vote)
        cases["certificate: a vote of another round"] = with_votes(another_round)
        cases["certificate: maj23 changed"] = with_votes(maj23)
        return cases

    def _trust(self, header: HeaderUpdate) -> ChainTrust:
        parsed = pb.BlockHeader()
        parsed.ParseFromString(header.encoded)
        trusts = self.settings.load_trusts()
        return trusts.get(parsed.pre_conf_height) or next(iter(trusts.values()))

    def now(self) -> int:
        return self.options.now if self.options.now is not None else int(time.time())


def target_from_config(
    options: Mapping[str, Any],
    target_options: Mapping[str, Any],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ChainMakerTarget:
    """The target of a ``--pjgw-chain`` file; ``ConfigError`` without echoing any value."""
    try:
        settings = ChainMakerSettings(**options)
        parsed = ChainMakerTargetOptions(**target_options)
    except ValidationError as err:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in err.errors(include_input=False))
        raise ConfigError(f"invalid ChainMaker chain options: {fields}") from None
    return ChainMakerTarget(settings, parsed, transport=transport)
