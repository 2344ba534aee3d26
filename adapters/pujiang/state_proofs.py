"""Pujiang state proofs and proven events as the seam's ``InclusionProof`` / ``ChainEvent``.

The node answers ``GET /v1/proofs/state?key=&height=`` with the value and its
RFC 6962 audit path, or, for an absent key, the two bracketing leaves with
theirs; this turns that into the wire proof the light client verifies
(``proofs.pujiang.state_proofs``). Nothing here verifies: the light client does.
"""

from __future__ import annotations

from typing import Any

import rlp

from adapters.pujiang import wire
from core.errors import BadProof, InvalidInput
from core.ids import ChainId, Height
from core.types import ChainEvent, InclusionProof
from proofs.pujiang import codec
from proofs.pujiang.light_client import STATE_ABSENCE_PROOF_KIND, STATE_PROOF_KIND
from proofs.pujiang.state_proofs import StateAbsenceProof, StateLeaf, StateProof


def state_proof(chain_id: ChainId, key: bytes, height: int, answer: Any) -> InclusionProof:
    """The ``InclusionProof`` of the node's answer for ``key`` at ``height`` (value empty
    for an absence proof)."""
    what = f"state proof of 0x{key.hex()} at {chain_id} height {height}"
    if wire.int_field(answer, "height", what) != height:
        raise BadProof(f"{what}: the node proved another height", check="proof-height")
    if answer.get("value") is not None:
        value = wire.hex_field(answer, "value", what)
        encoded = rlp.encode(StateProof(height, key, value, *_leaf_position(answer, what)))
        return InclusionProof(chain_id, Height(height), STATE_PROOF_KIND, key, value, (encoded,))
    brackets = [
        [] if answer.get(side) is None else [_state_leaf(answer[side], what)]
        for side in ("left", "right")
    ]
    encoded = rlp.encode(StateAbsenceProof(height, key, *brackets))
    return InclusionProof(chain_id, Height(height), STATE_ABSENCE_PROOF_KIND, key, b"", (encoded,))


def event_from_proof(event: ChainEvent, proof: InclusionProof) -> ChainEvent:
    """``event`` re-decoded from the proven leaf (``proof.value``) of the events tree."""
    if int.from_bytes(proof.key, "big") != event.position[0]:
        raise InvalidInput("the proof is for another leaf than the event", check="position")
    leaf = codec.decode_event(proof.value)
    kind = wire.EVENT_KINDS.get(leaf.kind)
    if kind is None:
        raise InvalidInput(f"the proven leaf is a {leaf.kind!r} event", check="kind")
    return ChainEvent(
        chain_id=event.chain_id,
        height=event.height,
        kind=kind,
        tx_hash=event.tx_hash,
        position=event.position,
        attributes=wire.event_attributes(leaf),
        raw=proof.value,
    )


def _leaf_position(entry: Any, what: str) -> tuple[int, list[bytes]]:
    path = wire.field(entry, "path", what)
    if not isinstance(path, list) or not all(isinstance(p, str) for p in path):
        raise BadProof(f"{what}: malformed audit path", check="encoding")
    try:
        nodes = [bytes.fromhex(p.removeprefix("0x")) for p in path]
    except ValueError:
        raise BadProof(f"{what}: malformed audit path", check="encoding") from None
    return wire.int_field(entry, "index", what), nodes


def _state_leaf(entry: Any, what: str) -> StateLeaf:
    if not isinstance(entry, dict):
        raise BadProof(f"{what}: malformed bracketing leaf", check="encoding")
    key = wire.hex_field(entry, "key", what)
    value = wire.hex_field(entry, "value", what)
    return StateLeaf(key, value, *_leaf_position(entry, what))


__all__ = ["event_from_proof", "state_proof"]
