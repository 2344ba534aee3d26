"""Properties of the Pujiang light client (hypothesis), on chains built in memory.

* any one flipped bit of a header, commit, signer bitmap, validator set or
  proof is rejected with a typed verification error;
* a set that changed by more than 2/3 cannot be skipped over (``trust-overlap``),
  bisection gets there through the rotation, and a skip works exactly when
  the signers hold more than 1/3 of the trusted power;
* a second valid commit for another header at a verified height freezes the
  client, and every later call raises ``ClientFrozen``.

Signing is one BLS signature per commit (see ``builder``) on the fast backend;
sets have 4-7 validators and examples are bounded so the module runs in seconds.
"""

from __future__ import annotations

from functools import cache

import pytest
import rlp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core.errors import ClientFrozen, InsufficientPower, VerificationError
from proofs.pujiang import codec
from proofs.pujiang.light_client import (
    ClientState,
    ConsensusState,
    check_misbehaviour,
    process_update,
    verify_bisection,
    verify_event,
    verify_header,
    verify_state_membership,
    verify_state_non_membership,
)
from tests.proofs.pujiang.builder import (
    BACKEND,
    ChainBuilder,
    Members,
    checkpoint,
    client_for,
)

FEW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def now_after(chain: ChainBuilder) -> int:
    return chain.time_ms + 1_000


def event(i: int) -> bytes:
    return rlp.encode([b"send_packet", i, 0, [[b"sequence", bytes([i + 1])]]])


STATE = [(b"bal/alice/upj", b"\x64"), (b"nonce/alice", b"\x02"), (b"seq/other", b"\x05")]


@cache
def small_chain() -> tuple[ChainBuilder, ClientState, ConsensusState]:
    """Four validators, height 2 with three events and three state entries."""
    chain = ChainBuilder(Members.of([0, 1, 2, 3]))
    chain.append()
    chain.append(events=[event(0), event(1), event(2)], state=STATE)
    client = client_for(chain)
    return chain, client, checkpoint(chain, client)


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


# --- bit flips ------------------------------------------------------------------------------


def test_small_chain_verifies_before_any_flip() -> None:
    chain, client, trusted = small_chain()
    state = verify_header(
        client, trusted, *chain.blocks[2].signed, now_after(chain), backend=BACKEND
    )
    assert verify_event(client, state, chain.event_proof(2, 1)) == codec.decode_event(event(1))
    assert verify_state_membership(client, state, chain.state_proof(2, 1)) == b"\x02"


@MANY
@given(st.data())
def test_flipping_any_bit_of_header_or_commit_or_set_is_rejected(data: st.DataObject) -> None:
    chain, client, trusted = small_chain()
    header, commit, validators = chain.blocks[2].signed
    part = data.draw(st.sampled_from(["header", "commit", "validators"]))
    signed = {"header": header, "commit": commit, "validators": validators}
    bit = data.draw(st.integers(0, len(signed[part]) * 8 - 1), label="bit")
    signed[part] = flip(signed[part], bit)
    with pytest.raises(VerificationError):
        verify_header(
            client,
            trusted,
            signed["header"],
            signed["commit"],
            signed["validators"],
            now_after(chain),
            backend=BACKEND,
        )


@MANY
@given(bit=st.integers(0, 7))
def test_flipping_any_bit_of_the_signer_bitmap_is_rejected(bit: int) -> None:
    chain, client, trusted = small_chain()
    block = chain.blocks[2]
    commit = block.commit.copy(signers=flip(block.commit.signers, bit))
    with pytest.raises(VerificationError):
        verify_header(
            client,
            trusted,
            block.header_bytes,
            codec.encode(commit),
            block.members.encode(),
            now_after(chain),
            backend=BACKEND,
        )


@MANY
@given(st.data())
def test_flipping_any_bit_of_a_proof_is_rejected(data: st.DataObject) -> None:
    chain, client, trusted = small_chain()
    state = verify_header(
        client, trusted, *chain.blocks[2].signed, now_after(chain), backend=BACKEND
    )
    kind = data.draw(st.sampled_from(["event", "state", "absent"]))
    if kind == "event":
        proof = chain.event_proof(2, data.draw(st.integers(0, 2)))
    elif kind == "state":
        proof = chain.state_proof(2, data.draw(st.integers(0, 2)))
    else:
        leaves = [rlp.decode(chain.state_proof(2, i))[1:] for i in (0, 1)]
        proof = rlp.encode([2, b"bal/bob", [leaves[0]], [leaves[1]]])
        verify_state_non_membership(client, state, proof)  # valid before the flip
    bit = data.draw(st.integers(0, len(proof) * 8 - 1), label="bit")
    broken = flip(proof, bit)
    verifiers = {
        "event": lambda: verify_event(client, state, broken),
        "state": lambda: verify_state_membership(client, state, broken),
        "absent": lambda: verify_state_non_membership(client, state, broken, key=b"bal/bob"),
    }
    with pytest.raises(VerificationError):
        verifiers[kind]()


# --- validator-set changes -------------------------------------------------------------------


@st.composite
def rotations(draw: st.DrawFn) -> tuple[list[int], list[int], int, int, int]:
    """(old powers, new powers, validators kept, rotation height, target height)."""
    old = draw(st.lists(st.integers(1, 50), min_size=4, max_size=7))
    new_size = draw(st.integers(4, 7))
    kept = draw(st.integers(0, min(len(old), new_size)))
    new = draw(st.lists(st.integers(1, 50), min_size=new_size, max_size=new_size))
    rotation = draw(st.integers(2, 4))
    target = rotation + draw(st.integers(1, 4))
    return old, new, kept, rotation, target


def rotated_chain(
    old: list[int], new: list[int], kept: int, rotation: int, target: int
) -> tuple[ChainBuilder, Members, int]:
    """Heights 1..rotation signed by the old set, later ones by the new; the new set
    keeps the ``kept`` old validators of least power. Returns the kept old power."""
    order = sorted(range(len(old)), key=lambda i: old[i])
    kept_keys = order[:kept]
    fresh = [100 + i for i in range(len(new) - kept)]
    old_set = Members.of(list(range(len(old))), old)
    new_set = Members.of(kept_keys + fresh, new)
    chain = ChainBuilder(old_set)
    chain.extend(rotation - 1)
    chain.rotate_to(new_set)
    chain.extend(target - rotation + 1)
    return chain, new_set, sum(old[i] for i in kept_keys)


@FEW
@given(rotations())
def test_set_changed_by_more_than_two_thirds_needs_bisection(
    case: tuple[list[int], list[int], int, int, int],
) -> None:
    old, new, kept, rotation, target = case
    assume(kept == 0 or not codec.has_trust_overlap(sum(sorted(old)[:kept]), sum(old)))
    chain, _, _ = rotated_chain(old, new, kept, rotation, target)
    client = client_for(chain)
    trusted = checkpoint(chain, client)
    now = now_after(chain)
    with pytest.raises(InsufficientPower) as info:
        verify_header(client, trusted, *chain.blocks[target].signed, now, backend=BACKEND)
    assert info.value.details["check"] == "trust-overlap"

    fetched: list[int] = []

    def fetch(height: int) -> tuple[bytes, bytes, bytes]:
        fetched.append(height)
        return chain.blocks[height].signed

    states = verify_bisection(client, trusted, target, fetch, now, backend=BACKEND)
    heights = [s.height for s in states]
    assert heights == sorted(heights)
    assert states[-1].header_hash == chain.blocks[target].hash
    # The only way across is the adjacent step over the rotation.
    if rotation > 1:
        assert rotation in heights or trusted.height == rotation
    assert rotation + 1 in heights
    assert len(fetched) == len(set(fetched))


@FEW
@given(rotations())
def test_skip_succeeds_exactly_when_signers_hold_more_than_a_third_of_trusted_power(
    case: tuple[list[int], list[int], int, int, int],
) -> None:
    old, new, kept, rotation, target = case
    chain, _, kept_power = rotated_chain(old, new, kept, rotation, target)
    client = client_for(chain)
    trusted = checkpoint(chain, client)
    signed = chain.blocks[target].signed
    if codec.has_trust_overlap(kept_power, sum(old)):
        state = verify_header(client, trusted, *signed, now_after(chain), backend=BACKEND)
        assert state.height == target
    else:
        with pytest.raises(InsufficientPower):
            verify_header(client, trusted, *signed, now_after(chain), backend=BACKEND)


# --- forks --------------------------------------------------------------------------------------

FORK_FIELDS = ["time_ms", "state_root", "events_root", "tx_count", "last_commit_hash"]


@FEW
@given(
    size=st.integers(4, 7),
    length=st.integers(2, 5),
    data=st.data(),
)
def test_forked_commit_freezes_and_later_calls_raise_client_frozen(
    size: int, length: int, data: st.DataObject
) -> None:
    chain = ChainBuilder(Members.of(list(range(size))))
    chain.extend(length)
    client = client_for(chain)
    trusted = checkpoint(chain, client)
    now = now_after(chain)
    states = {1: trusted}
    for height in range(2, length + 1):
        states[height] = verify_header(
            client, states[height - 1], *chain.blocks[height].signed, now, backend=BACKEND
        )
    fork_height = data.draw(st.integers(1, length), label="fork height")
    original = chain.blocks[fork_height]
    name = data.draw(st.sampled_from(FORK_FIELDS), label="field")
    value = original.header[name] + 1 if name in ("time_ms", "tx_count") else b"\xf0" * 32
    forged = chain.seal(original.header.copy(**{name: value}), members=original.members)
    known = [s for h, s in states.items() if h != 1]

    update = process_update(client, trusted, *forged.signed, now, known=known, backend=BACKEND)
    assert update.frozen
    assert update.consensus_state is None
    frozen = update.client_state
    assert frozen.evidence is not None
    assert (frozen.evidence.kind, frozen.evidence.height) == ("fork", fork_height)

    later = [
        lambda: verify_header(frozen, trusted, *chain.blocks[2].signed, now),
        lambda: process_update(frozen, trusted, *chain.blocks[2].signed, now),
        lambda: verify_bisection(frozen, trusted, length, lambda h: chain.blocks[h].signed, now),
        lambda: check_misbehaviour(
            frozen, trusted, chain.blocks[2].signed, chain.blocks[2].signed, now
        ),
        lambda: verify_event(frozen, trusted, b""),
        lambda: verify_state_membership(frozen, trusted, b""),
        lambda: verify_state_non_membership(frozen, trusted, b""),
        lambda: checkpoint(chain, frozen),
    ]
    for call in later:
        with pytest.raises(ClientFrozen):
            call()
