"""A synthetic Pujiang chain for the on-chain client's tests and benchmark.

Encoded with ``proofs.pujiang.codec`` (the vectors already hold that codec to an
independent reading of the format) and signed with ``proofs.bls``; times are
chosen by the caller so headers can follow an anvil's clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import rlp

import proofs.bls as bls
from devnet.events import make_event, packet_values
from proofs.merkle import inclusion_proof, merkle_root
from proofs.pujiang import codec

ZERO = bytes(32)


@cache
def validator_key(label: str, i: int) -> tuple[int, bytes, bytes]:
    """(secret key, public key, proof of possession) of test validator ``label``/``i``."""
    sk = bls.keygen(hashlib.sha256(f"lc-test {label} {i}".encode()).digest())
    return sk, bls.sk_to_pk(sk), bls.pop_prove(sk)


@dataclass(frozen=True)
class ValSet:
    """Members (secret key, public key, pop, power), sorted by public key."""

    members: tuple[tuple[int, bytes, bytes, int], ...]

    @staticmethod
    def make(label: str, size: int, power: int = 10) -> ValSet:
        keys = [validator_key(label, i) for i in range(size)]
        return ValSet(tuple(sorted(((*k, power) for k in keys), key=lambda m: m[1])))

    def encode(self) -> bytes:
        return rlp.encode([[pk, power, pop] for _, pk, pop, power in self.members])

    def hash(self) -> bytes:
        validators = [codec.Validator(pk, power, pop) for _, pk, pop, power in self.members]
        return codec.compute_validators_hash(validators)

    def __len__(self) -> int:
        return len(self.members)


@dataclass
class Block:
    height: int
    header: bytes
    hash: bytes
    commit: bytes
    valset: ValSet
    events: list[bytes] = field(default_factory=list)

    def event_proof(self, index: int) -> list[bytes]:
        return list(inclusion_proof(self.events, index))


def sign(
    chain_id: bytes, valset: ValSet, height: int, header_hash: bytes, signers: Sequence[int] | None
) -> bytes:
    positions = list(range(len(valset))) if signers is None else list(signers)
    message = codec.compute_commit_signing_payload(chain_id, height, 0, header_hash)
    sigs = [bls.sign(valset.members[p][0], message) for p in positions]
    bitmap = codec.encode_signers(positions, len(valset))
    return rlp.encode([height, 0, header_hash, bitmap, bls.aggregate(sigs)])


class PujiangChain:
    """Blocks made on demand: each names its set and the next one."""

    def __init__(self, chain_id: str, valset: ValSet) -> None:
        self.chain_id = chain_id.encode()
        self.valset = valset
        self.blocks: dict[int, Block] = {}

    def block(
        self,
        height: int,
        time_ms: int,
        *,
        events: Sequence[bytes] = (),
        next_set: ValSet | None = None,
        signers: Sequence[int] | None = None,
        parent: bytes | None = None,
        salt: bytes = ZERO,
    ) -> Block:
        """Height ``height`` signed by the current set; ``next_set`` rotates after it."""
        nxt = next_set or self.valset
        prev = self.blocks.get(height - 1)
        header = codec.Header(
            version=1,
            chain_id=self.chain_id,
            height=height,
            time_ms=time_ms,
            parent_hash=parent if parent is not None else (prev.hash if prev else ZERO),
            last_commit_hash=ZERO,
            tx_root=salt,
            tx_count=0,
            events_root=merkle_root(list(events)),
            event_count=len(events),
            state_root=merkle_root([]),
            state_size=0,
            validators_hash=self.valset.hash(),
            next_validators_hash=nxt.hash(),
        )
        encoded = rlp.encode(header)
        header_hash = hashlib.sha256(encoded).digest()
        commit = sign(self.chain_id, self.valset, height, header_hash, signers)
        block = Block(height, encoded, header_hash, commit, self.valset, list(events))
        self.blocks.setdefault(height, block)
        self.valset = nxt
        return block


def send_packet_event(packet: codec.Packet, tx_index: int = 0, event_index: int = 0) -> bytes:
    """The devnet's own ``send_packet`` leaf for ``packet``."""
    return rlp.encode(make_event("send_packet", tx_index, event_index, packet_values(packet)))
