"""The FISCO BCOS 2.x light client on the ``LightClient`` seam, over ``proofs.fisco``.

What the seam carries (``HeaderUpdate``):

* ``encoded``: ``rlp([parentHash, stateRoot, transactionsRoot, receiptsRoot,
  dbHash, logsBloom, number, gasLimit, gasUsed, timestamp, extraData, sealer,
  sealerList])``, the exact bytes the 2.x block hash is keccak-256 of, so the
  hash is computed from what is verified, never read from the node;
* ``evidence``: ``rlp([[index, r‖s‖v], ...])``, the PBFT ``signatureList``.

:meth:`FiscoLightClient.verify_header`, cheapest first: frozen, trusting
period, decoding (``BadEncoding``), chain, height and time rules
(``InvalidHeader``), then ``proofs.fisco.update_client``: number above the
trusted one, the parent link when adjacent, the header hash, sealer indexes,
the quorum ``n - floor((n-1)/3)``, each signature against
``sealerList[index]``, and a new sealer list only with a quorum of the trusted
sealers' keys. Proofs: the 2.x 16-ary transaction and receipt trees
(``proofs.fisco.merkle``) against the verified roots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import rlp

from core.errors import (
    BadEncoding,
    BadProof,
    ClientFrozen,
    HeaderExpired,
    InvalidHeader,
    VerificationError,
)
from core.types import HeaderUpdate, InclusionProof
from proofs.fisco import HeaderUpdate as TrustedHeader
from proofs.fisco import update_client, verify_header, verify_merkle_proof
from proofs.fisco.header import Header, compute_header_hash
from proofs.fisco.merkle import MAX_STEPS, WIDTH

TX_PROOF_KIND: Final = "fisco2-tx"
"""A transaction proof: key = the index (8 bytes big-endian), value = the tx hash."""
RECEIPT_PROOF_KIND: Final = "fisco2-receipt"
"""A receipt proof: key = the index, value = the receipt hash, under ``receiptsRoot``."""
_HASHES = (32, 32, 32, 32, 32, 256)


@dataclass(frozen=True, slots=True)
class FiscoClientState:
    """The parameters of one group's light client (the chain's settings fix them)."""

    chain_id: str
    group_id: int
    trusting_period: int  # seconds
    max_clock_drift: int  # seconds
    frozen: bool = False


@dataclass(frozen=True, slots=True)
class FiscoConsensusState:
    """What was verified at one block: its hash, time, roots and the sealer list in force."""

    number: int
    hash: bytes
    timestamp_ms: int
    sealers: tuple[bytes, ...]
    transactions_root: bytes
    receipts_root: bytes


def encode_header(header: Header) -> bytes:
    """The RLP of the 13 hashed fields (``HeaderUpdate.encoded``)."""
    return rlp.encode(header.rlp_fields())


def encode_signatures(signatures: Sequence[tuple[int, bytes]]) -> bytes:
    """``HeaderUpdate.evidence``: the signature list as ``rlp([[index, signature], ...])``."""
    return rlp.encode([[index, signature] for index, signature in signatures])


def decode_update(update: HeaderUpdate) -> Header:
    """The 2.x header of ``update``, its claimed hash ``update.hash`` (``BadEncoding``)."""
    try:
        fields = rlp.decode(update.encoded)
        pairs = rlp.decode(update.evidence) if update.evidence else None
    except (rlp.DecodingError, rlp.DeserializationError) as err:
        raise BadEncoding("the FISCO header or its signatures are not RLP", check="rlp") from err
    if not isinstance(fields, list) or len(fields) != 13:
        raise BadEncoding("a FISCO 2.x header is an RLP list of 13 fields", check="fields")
    if not isinstance(pairs, list) or not pairs:
        raise BadEncoding("the FISCO header carries no signature list", check="signatures")
    roots = fields[:6]
    if any(not isinstance(v, bytes) or len(v) != n for v, n in zip(roots, _HASHES, strict=True)):
        raise BadEncoding("a FISCO header hash or bloom has the wrong size", check="fields")
    extra, sealer_list = fields[10], fields[12]
    if not isinstance(extra, list) or not isinstance(sealer_list, list):
        raise BadEncoding("extraData and sealerList are lists", check="fields")
    if any(not isinstance(k, bytes) or len(k) != 64 for k in sealer_list):
        raise BadEncoding("a sealer key is not 64 bytes", check="sealerList")
    if any(not isinstance(x, bytes) for x in extra):
        raise BadEncoding("extraData holds a list", check="extraData")
    signatures = []
    for pair in pairs:
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(p, bytes) for p in pair)
        ):
            raise BadEncoding("a signature entry is not [index, signature]", check="signatures")
        index, signature = pair
        if len(signature) != 65 or signature[64] not in (0, 1) or _not_minimal(index):
            raise BadEncoding("a signature is not r‖s‖v with v 0 or 1", check="signatures")
        signatures.append((int.from_bytes(index, "big"), signature))
    numbers = []
    for i in (6, 7, 8, 9, 11):
        if not isinstance(fields[i], bytes) or _not_minimal(fields[i]):
            raise BadEncoding("a header quantity is not a minimal RLP integer", check="fields")
        numbers.append(int.from_bytes(fields[i], "big"))
    number, gas_limit, gas_used, timestamp, sealer = numbers
    return Header(
        parent_hash=roots[0],
        state_root=roots[1],
        transactions_root=roots[2],
        receipts_root=roots[3],
        db_hash=roots[4],
        logs_bloom=roots[5],
        number=number,
        gas_limit=gas_limit,
        gas_used=gas_used,
        timestamp=timestamp,
        extra_data=tuple(extra),
        sealer=sealer,
        sealer_list=tuple(sealer_list),
        hash=bytes(update.hash),
        signatures=tuple(signatures),
    )


def _not_minimal(value: bytes) -> bool:
    """An RLP integer with a leading zero byte (two encodings of one number)."""
    return len(value) > 0 and value[0] == 0


def consensus_state_of(header: Header) -> FiscoConsensusState:
    """The state a verified (or checkpoint-trusted) header leaves."""
    return FiscoConsensusState(
        number=header.number,
        hash=compute_header_hash(header),
        timestamp_ms=header.timestamp,
        sealers=header.sealer_list,
        transactions_root=header.transactions_root,
        receipts_root=header.receipts_root,
    )


def decode_proof_nodes(nodes: Sequence[bytes]) -> list[tuple[list[bytes], list[bytes]]]:
    """``InclusionProof.nodes`` (one ``rlp([left, right])`` per step) as proof steps."""
    if not 1 <= len(nodes) <= MAX_STEPS:
        raise BadProof(f"a FISCO proof has 1..{MAX_STEPS} steps", check="length")
    steps = []
    for node in nodes:
        try:
            step = rlp.decode(node)
        except (rlp.DecodingError, rlp.DeserializationError) as err:
            raise BadProof("a proof step is not RLP", check="step") from err
        if (
            not isinstance(step, list)
            or len(step) != 2
            or not all(isinstance(side, list) for side in step)
            or not all(isinstance(x, bytes) for side in step for x in side)
            or len(step[0]) + len(step[1]) >= WIDTH
        ):
            raise BadProof("a proof step is not [left siblings, right siblings]", check="step")
        steps.append((list(step[0]), list(step[1])))
    return steps


def encode_proof_nodes(
    steps: Sequence[tuple[Sequence[bytes], Sequence[bytes]]],
) -> tuple[bytes, ...]:
    """Proof steps as ``InclusionProof.nodes``."""
    return tuple(rlp.encode([list(left), list(right)]) for left, right in steps)


class FiscoLightClient:
    """``core.seams.LightClient`` of FISCO BCOS 2.x (PBFT sealers, secp256k1)."""

    def verify_header(
        self, client_state: object, trusted: object, header: HeaderUpdate, now: int
    ) -> FiscoConsensusState:
        client, base = _client(client_state), _consensus(trusted)
        if client.frozen:
            raise ClientFrozen(f"the light client of {client.chain_id} is frozen")
        if now * 1000 - base.timestamp_ms > client.trusting_period * 1000:
            raise HeaderExpired(
                f"the trusted block {base.number} is older than the trusting period",
                check="trusting-period",
            )
        parsed = decode_update(header)
        if header.chain_id != client.chain_id:
            raise InvalidHeader("the header is of another chain", check="chain")
        if parsed.number != int(header.height):
            raise InvalidHeader("the header's number is not its height", check="height")
        if parsed.timestamp // 1000 != header.time:
            raise InvalidHeader("the header's time is not its timestamp", check="time")
        if parsed.timestamp > (now + client.max_clock_drift) * 1000:
            raise InvalidHeader("the header is from the future", check="time")
        if parsed.timestamp < base.timestamp_ms:
            raise InvalidHeader("the header is older than the trusted block", check="time")
        trusted_header = TrustedHeader(base.number, base.hash, base.sealers)
        update_client(trusted_header, parsed)
        return consensus_state_of(parsed)

    def verify_membership(self, consensus_state: object, proof: InclusionProof) -> None:
        """A transaction or receipt hash at its index under the verified root."""
        state = _consensus(consensus_state)
        if int(proof.height) != state.number:
            raise BadProof("the proof is for another block", check="height")
        if proof.kind == TX_PROOF_KIND:
            root = state.transactions_root
        elif proof.kind == RECEIPT_PROOF_KIND:
            root = state.receipts_root
        else:
            raise BadProof(f"not a FISCO 2.x proof kind: {proof.kind!r}", check="kind")
        if len(proof.key) != 8:
            raise BadProof("the proof's key is an 8-byte index", check="key")
        steps = decode_proof_nodes(proof.nodes)
        verify_merkle_proof(int.from_bytes(proof.key, "big"), proof.value, steps, root)

    def check_misbehaviour(
        self, client_state: object, header_a: HeaderUpdate, header_b: HeaderUpdate
    ) -> bool:
        """Two headers of one number, one sealer list, both sealed by a quorum of it."""
        try:
            a, b = decode_update(header_a), decode_update(header_b)
            if a.number != b.number or a.sealer_list != b.sealer_list:
                return False
            if compute_header_hash(a) == compute_header_hash(b):
                return False
            verify_header(a, a.sealer_list)
            verify_header(b, b.sealer_list)
        except VerificationError:
            return False
        return True


def _client(state: object) -> FiscoClientState:
    if not isinstance(state, FiscoClientState):
        raise BadEncoding("not a FISCO client state", check="client")
    return state


def _consensus(state: object) -> FiscoConsensusState:
    if not isinstance(state, FiscoConsensusState):
        raise BadEncoding("not a FISCO consensus state", check="consensus")
    return state
