"""Build Pujiang chains in memory (codec + BLS) for property tests and the benchmark.

Not a node: no transactions are executed, a block is a header whose roots
cover the events and state it is given, and a commit by the chosen signers.

Signing is cheap on purpose: every signer signs the same payload, so the
aggregate ``sum(sk_i * H(m))`` equals one signature by ``sum(sk_i) mod r``;
the builder signs once per commit whatever the set size (the bytes are those
of the honest aggregate). Keys are deterministic (``keygen`` on fixed seeds)
and cached, public keys and PoPs included.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import rlp

import proofs.bls as bls
from proofs.hashing import HashFunction
from proofs.merkle import inclusion_proof, merkle_root
from proofs.pujiang import codec
from proofs.pujiang.codec import Commit, Header, Validator
from proofs.pujiang.light_client import ClientState, ConsensusState, create_checkpoint

GENESIS_MS = 1_700_000_000_000
BLOCK_MS = 1_000
BACKEND = "fast"


@cache
def secret_key(i: int) -> int:
    return bls.keygen(hashlib.sha256(f"pujiang-gateway builder key {i}".encode()).digest())


@cache
def _public(i: int) -> tuple[bytes, bytes]:
    sk = secret_key(i)
    return bls.sk_to_pk(sk, backend=BACKEND), bls.pop_prove(sk, backend=BACKEND)


def validator(i: int, power: int = 10) -> Validator:
    pubkey, pop = _public(i)
    return Validator(bls_pubkey=pubkey, power=power, pop=pop)


@dataclass(frozen=True)
class Members:
    """A validator set as (key index, power) pairs, sorted by public key."""

    members: tuple[tuple[int, int], ...]

    @staticmethod
    def of(indices: Sequence[int], powers: Sequence[int] | None = None) -> Members:
        pairs = zip(indices, powers or [10] * len(indices), strict=True)
        return Members(tuple(sorted(pairs, key=lambda p: _public(p[0])[0])))

    @property
    def validators(self) -> list[Validator]:
        return [validator(i, p) for i, p in self.members]

    @property
    def total(self) -> int:
        return sum(p for _, p in self.members)

    def encode(self) -> bytes:
        return _encoded_set(self)

    def hash(self, hash_fn: HashFunction) -> bytes:
        return codec.compute_validators_hash(self.validators, hash_fn)

    def __len__(self) -> int:
        return len(self.members)


@cache
def _encoded_set(members: Members) -> bytes:
    return codec.encode(members.validators)


def sign_commit(
    chain_id: bytes,
    members: Members,
    height: int,
    header_hash: bytes,
    *,
    signers: Sequence[int] | None = None,
    round_: int = 0,
) -> Commit:
    """A commit by ``signers`` (positions in ``members``; default all)."""
    positions = range(len(members)) if signers is None else signers
    total_sk = sum(secret_key(members.members[p][0]) for p in positions) % bls.CURVE_ORDER
    message = codec.compute_commit_signing_payload(chain_id, height, round_, header_hash)
    return Commit(
        height=height,
        round=round_,
        header_hash=header_hash,
        signers=codec.encode_signers(list(positions), len(members)),
        aggregate_signature=bls.sign(total_sk, message, backend=BACKEND),
    )


@dataclass
class Block:
    header: Header
    header_bytes: bytes
    hash: bytes
    commit: Commit
    commit_bytes: bytes
    members: Members
    events: list[bytes] = field(default_factory=list)
    state: list[tuple[bytes, bytes]] = field(default_factory=list)

    @property
    def height(self) -> int:
        return int(self.header.height)

    @property
    def signed(self) -> tuple[bytes, bytes, bytes]:
        """``(header, commit, validators)`` as a node serves them."""
        return self.header_bytes, self.commit_bytes, self.members.encode()


class ChainBuilder:
    """Append blocks; ``rotate_to`` announces the set that signs from the next block."""

    def __init__(
        self,
        members: Members,
        *,
        chain_id: bytes = b"pujiang-test",
        hash_profile: str = "sha256",
        start_ms: int = GENESIS_MS,
        block_ms: int = BLOCK_MS,
    ) -> None:
        self.chain_id = chain_id
        self.hash_profile = hash_profile
        self.hash_fn = codec.hash_profile(hash_profile)
        self.members = members
        self.next_members = members
        self.block_ms = block_ms
        self.time_ms = start_ms
        self.blocks: dict[int, Block] = {}
        self._set_hashes: dict[Members, bytes] = {}
        self._empty_root = merkle_root([], hash_fn=self.hash_fn)

    def set_hash(self, members: Members) -> bytes:
        if members not in self._set_hashes:
            self._set_hashes[members] = members.hash(self.hash_fn)
        return self._set_hashes[members]

    @property
    def height(self) -> int:
        return len(self.blocks)

    def _root(self, leaves: list[bytes]) -> bytes:
        return merkle_root(leaves, hash_fn=self.hash_fn) if leaves else self._empty_root

    def rotate_to(self, members: Members) -> None:
        self.next_members = members

    def header_for(
        self,
        *,
        events: Sequence[bytes] = (),
        state: Sequence[tuple[bytes, bytes]] = (),
        time_ms: int | None = None,
        **changes: object,
    ) -> Header:
        """The next header (not appended); ``changes`` override fields."""
        height = self.height + 1
        parent = self.blocks.get(height - 1)
        leaves = [rlp.encode([k, v]) for k, v in sorted(state)]
        fields: dict[str, object] = {
            "version": codec.FORMAT_VERSION,
            "chain_id": self.chain_id,
            "height": height,
            "time_ms": self.time_ms + self.block_ms if time_ms is None else time_ms,
            "parent_hash": parent.hash if parent else codec.ZERO_HASH,
            "last_commit_hash": (
                codec.compute_commit_hash(parent.commit, self.hash_fn)
                if parent
                else codec.ZERO_HASH
            ),
            "tx_root": self._empty_root,
            "tx_count": 0,
            "events_root": self._root(list(events)),
            "event_count": len(events),
            "state_root": self._root(leaves),
            "state_size": len(leaves),
            "validators_hash": self.set_hash(self.members),
            "next_validators_hash": self.set_hash(self.next_members),
        }
        fields.update(changes)
        return Header(**fields)

    def append(
        self,
        *,
        events: Sequence[bytes] = (),
        state: Sequence[tuple[bytes, bytes]] = (),
        signers: Sequence[int] | None = None,
    ) -> Block:
        header = self.header_for(events=events, state=state)
        block = self.seal(header, signers=signers, events=events, state=state)
        self.blocks[block.height] = block
        self.time_ms = header.time_ms
        self.members = self.next_members
        return block

    def seal(
        self,
        header: Header,
        *,
        signers: Sequence[int] | None = None,
        members: Members | None = None,
        events: Sequence[bytes] = (),
        state: Sequence[tuple[bytes, bytes]] = (),
    ) -> Block:
        """``header`` with a commit by ``members`` (default: the set signing now)."""
        signing = members or self.members
        header_bytes = codec.encode(header)
        header_hash = self.hash_fn(header_bytes)
        commit = sign_commit(self.chain_id, signing, header.height, header_hash, signers=signers)
        return Block(
            header=header,
            header_bytes=header_bytes,
            hash=header_hash,
            commit=commit,
            commit_bytes=codec.encode(commit),
            members=signing,
            events=list(events),
            state=sorted(state),
        )

    def extend(self, count: int) -> None:
        for _ in range(count):
            self.append()

    def event_proof(self, height: int, index: int) -> bytes:
        block = self.blocks[height]
        path = inclusion_proof(block.events, index, hash_fn=self.hash_fn)
        return rlp.encode([height, index, rlp.decode(block.events[index]), path])

    def state_proof(self, height: int, index: int) -> bytes:
        block = self.blocks[height]
        leaves = [rlp.encode([k, v]) for k, v in block.state]
        key, value = block.state[index]
        path = inclusion_proof(leaves, index, hash_fn=self.hash_fn)
        return rlp.encode([height, key, value, index, path])


DAY_MS = 24 * 3600 * 1000


def client_for(chain: ChainBuilder) -> ClientState:
    """A light client of ``chain``: a week's trusting period, 10 s of clock drift."""
    return ClientState(
        chain_id=chain.chain_id,
        trusting_period_ms=7 * DAY_MS,
        max_clock_drift_ms=10_000,
        hash_profile=chain.hash_profile,
    )


def checkpoint(
    chain: ChainBuilder, client: ClientState, height: int = 1, *, backend: str = BACKEND
) -> ConsensusState:
    """The trusted state of ``chain`` at ``height``, as an operator's checkpoint would give it."""
    block = chain.blocks[height]
    return create_checkpoint(
        client,
        block.header_bytes,
        block.members.encode(),
        trusted_height=height,
        trusted_hash=block.hash,
        now_ms=block.header.time_ms + 1,
        backend=backend,
    )
