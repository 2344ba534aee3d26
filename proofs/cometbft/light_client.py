"""The CometBFT light client behind the ``core.seams.LightClient`` seam.

A thin pure wrapper over :mod:`proofs.cometbft.verifier` and
:mod:`proofs.ics23`, as ``proofs.pujiang.light_client`` and
``proofs.evm.client`` are for their families. ``now`` at the seam is unix
seconds; the verifier works in nanoseconds.

Envelope (``core.types.HeaderUpdate``), built by :func:`trusted_header`:

* ``encoded``: the header as CometBFT RPC JSON, compact with sorted keys
  (UTF-8). JSON, not the protobuf ``Header``: the RPC (``/commit``) is where
  headers come from, and nothing signs these bytes: the verifier recomputes
  the header hash from the parsed fields, so the container format carries
  no trust;
* ``evidence``: JSON ``{"commit", "validator_set", "next_validator_set"}``;
* ``hash``: the header hash; ``time``: the header time in whole seconds
  (both checked against the header, never trusted).

``InclusionProof`` kinds (key/value proofs against the verified ``app_hash``,
as ibc-go's ``MerkleProof``):

* ``ics23``: ``key`` the key in its store, ``value``; ``nodes = (store_name,
  store_proof, multistore_proof)``: an IAVL ``CommitmentProof`` of the key in
  the store, then a Tendermint-spec proof of the store root in the app hash;
* ``ics23-absent``: the same with a non-existence store proof.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Final

from core.errors import BadEncoding, BadProof, ClientFrozen, InvalidHeader, InvalidInput
from core.ids import ChainId, Height
from core.types import HeaderUpdate, InclusionProof
from proofs.cometbft.hashing import header_hash
from proofs.cometbft.misbehaviour import MisbehaviourEvidence, check_misbehaviour
from proofs.cometbft.types import (
    NS_PER_SECOND,
    Commit,
    Header,
    LightBlock,
    SignedHeader,
    ValidatorSet,
)
from proofs.cometbft.verifier import TrustedBlock, TrustOptions, verify_light_block
from proofs.ics23 import (
    IAVL_SPEC,
    TENDERMINT_SPEC,
    verify_chained_membership,
    verify_chained_non_membership,
)

ICS23_PROOF_KIND: Final = "ics23"
ICS23_ABSENCE_PROOF_KIND: Final = "ics23-absent"


@dataclass(frozen=True, slots=True)
class CometClientState:
    """The parameters of one CometBFT light client, and its freeze (persisted by the caller)."""

    chain_id: str
    options: TrustOptions
    frozen_height: int = 0
    evidence: MisbehaviourEvidence | None = None

    @property
    def is_frozen(self) -> bool:
        return self.frozen_height > 0


def freeze(client: CometClientState, evidence: MisbehaviourEvidence) -> CometClientState:
    """The frozen client (the lower height of the evidence); idempotent on an already frozen one."""
    if client.is_frozen:
        return client
    return replace(
        client, frozen_height=min(evidence.height_a, evidence.height_b), evidence=evidence
    )


def _dumps(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def trusted_header(light_block: Mapping[str, object]) -> HeaderUpdate:
    """The seam envelope of a light block in RPC JSON (``signed_header``, ``validator_set``,
    ``next_validator_set``); the block is parsed (``MalformedBlock`` if malformed)."""
    block = LightBlock.from_json(light_block)
    signed = light_block["signed_header"]
    if not isinstance(signed, Mapping):  # from_json accepted it, so this never fires
        raise BadEncoding("signed_header must be an object")
    return HeaderUpdate(
        chain_id=ChainId(block.header.chain_id),
        height=Height(block.height),
        hash=header_hash(block.header),
        time=block.header.time_ns // NS_PER_SECOND,
        encoded=_dumps(signed["header"]),
        evidence=_dumps(
            {
                "commit": signed["commit"],
                "validator_set": light_block["validator_set"],
                "next_validator_set": light_block.get("next_validator_set"),
            }
        ),
    )


def decode_envelope(header: HeaderUpdate) -> LightBlock:
    """The light block inside an envelope; ``InvalidHeader`` (``envelope``) when the
    envelope's chain id, height, hash or time disagree with the header."""
    try:
        header_json = json.loads(header.encoded)
        evidence = json.loads(header.evidence)
    except (ValueError, UnicodeDecodeError) as err:
        raise BadEncoding("CometBFT envelope is not JSON") from err
    if not isinstance(evidence, dict):
        raise BadEncoding("CometBFT evidence must be a JSON object")
    block = LightBlock(
        SignedHeader(Header.from_json(header_json), _commit(evidence)),
        ValidatorSet.from_json(evidence.get("validator_set")),
        None
        if evidence.get("next_validator_set") is None
        else ValidatorSet.from_json(evidence["next_validator_set"]),
    )
    hdr = block.header
    given = (str(header.chain_id), int(header.height), header.hash, header.time)
    if given != (hdr.chain_id, hdr.height, header_hash(hdr), hdr.time_ns // NS_PER_SECOND):
        raise InvalidHeader(
            "the envelope's chain id, height, hash or time differ from the header's",
            check="envelope",
        )
    return block


def _commit(evidence: Mapping[str, object]) -> Commit:
    return Commit.from_json(evidence.get("commit"))


class CometBftLightClient:
    """``core.seams.LightClient`` for CometBFT chains (ed25519 commits, ICS-23 proofs).

    Client state: :class:`CometClientState`; consensus state:
    :class:`~proofs.cometbft.verifier.TrustedBlock`.
    """

    family = "cometbft"

    def verify_header(
        self, client_state: object, trusted: object, header: HeaderUpdate, now: int
    ) -> TrustedBlock:
        """Frozen check (``ClientFrozen``), chain id, envelope, then :func:`verify_light_block`."""
        client, state = _states(client_state, trusted)
        if client.is_frozen:
            raise ClientFrozen(f"client of {client.chain_id} is frozen at {client.frozen_height}")
        if str(header.chain_id) != client.chain_id:
            raise InvalidHeader(
                f"header is for chain {header.chain_id!r}, the client for {client.chain_id!r}",
                check="chain-id",
            )
        _require_seconds(now)
        block = decode_envelope(header)
        return verify_light_block(state, block, client.options, now * NS_PER_SECOND)

    def verify_membership(
        self,
        consensus_state: object,
        proof: InclusionProof,
        *,
        client_state: CometClientState | None = None,
    ) -> None:
        """Check an ``ics23`` / ``ics23-absent`` proof against the verified ``app_hash``."""
        if not isinstance(consensus_state, TrustedBlock):
            raise InvalidInput("a CometBFT TrustedBlock is required")
        if client_state is not None and client_state.is_frozen:
            raise ClientFrozen(f"client of {client_state.chain_id} is frozen")
        if proof.kind not in (ICS23_PROOF_KIND, ICS23_ABSENCE_PROOF_KIND):
            raise InvalidInput(f"unknown CometBFT proof kind {proof.kind!r}")
        if proof.height != consensus_state.height:
            raise BadProof("the proof's height is not the consensus state's", check="proof-height")
        if len(proof.nodes) != 3:
            raise BadEncoding("nodes must be (store name, store proof, multistore proof)")
        store, store_proof, multistore_proof = proof.nodes
        specs, proofs = (IAVL_SPEC, TENDERMINT_SPEC), (store_proof, multistore_proof)
        keys = (store, proof.key)
        if proof.kind == ICS23_PROOF_KIND:
            verify_chained_membership(specs, consensus_state.app_hash, proofs, keys, proof.value)
        else:
            if proof.value:  # an absence proves no value: one claimed with it is a lie
                raise BadProof("an absence proof cannot carry a value", check="absence-value")
            verify_chained_non_membership(specs, consensus_state.app_hash, proofs, keys)

    def check_misbehaviour(
        self,
        client_state: object,
        header_a: HeaderUpdate,
        header_b: HeaderUpdate,
        *,
        trusted: TrustedBlock | None = None,
        now: int | None = None,
    ) -> bool:
        """True when both headers verify from ``trusted`` and conflict.

        CONTRACT: ``trusted`` and ``now`` are required although the seam does not
        name them: without a trust anchor anyone could sign two headers with keys
        of their own and freeze the client. On True the caller calls
        :meth:`evidence` or :func:`freeze` and persists the frozen state.
        """
        return self.evidence(client_state, header_a, header_b, trusted=trusted, now=now) is not None

    def evidence(
        self,
        client_state: object,
        header_a: HeaderUpdate,
        header_b: HeaderUpdate,
        *,
        trusted: TrustedBlock | None,
        now: int | None,
    ) -> MisbehaviourEvidence | None:
        """The misbehaviour evidence of two envelopes (see :meth:`check_misbehaviour`)."""
        if trusted is None or now is None:
            raise InvalidInput("CometBFT misbehaviour needs the trusted state and now")
        client, state = _states(client_state, trusted)
        if client.is_frozen:
            raise ClientFrozen("the client is already frozen")
        _require_seconds(now)
        return check_misbehaviour(
            state,
            decode_envelope(header_a),
            decode_envelope(header_b),
            client.options,
            now * NS_PER_SECOND,
        )


def _states(client_state: object, trusted: object) -> tuple[CometClientState, TrustedBlock]:
    if not isinstance(client_state, CometClientState) or not isinstance(trusted, TrustedBlock):
        raise InvalidInput("a CometClientState and a TrustedBlock are required")
    return client_state, trusted


def _require_seconds(now: object) -> None:
    if isinstance(now, bool) or not isinstance(now, int) or now < 0:
        raise InvalidInput("now must be a non-negative integer of unix seconds")


__all__ = [
    "ICS23_ABSENCE_PROOF_KIND",
    "ICS23_PROOF_KIND",
    "CometBftLightClient",
    "CometClientState",
    "decode_envelope",
    "freeze",
    "trusted_header",
]
