"""Light-client properties the issue asks for that ``test_properties`` leaves open.

``test_properties`` flips bits of a header *adjacent* to the trusted one and of
proofs, and forks a chain with honest signers. These close the rest:

* a flipped bit is rejected under *skipping* verification too, where the
  parent link and the named next set are not there to catch it;
* a flipped bit of the seam envelope (``HeaderUpdate.encoded`` / ``evidence``)
  is rejected by ``PujiangLightClient`` — what the relayer actually calls;
* a forged fork whose header, commit or set has one flipped bit never
  freezes the client: only *valid* conflicting commits are misbehaviour;
* a fork signed by 2/3 or less of the set (a minority) never freezes it;
* a skip exactly at the 1/3 boundary of the trusted power fails, one unit
  above it passes (integer thresholds, no rounding).
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import InsufficientPower, VerificationError
from core.types import HeaderUpdate
from proofs.pujiang.light_client import (
    ClientState,
    ConsensusState,
    PujiangLightClient,
    process_update,
    trusted_header,
    verify_header,
)
from tests.proofs.pujiang.builder import (
    BACKEND,
    ChainBuilder,
    Members,
    checkpoint,
    client_for,
)

MANY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


SKIP_TARGET = 6


@cache
def skipping_chain() -> tuple[ChainBuilder, ClientState, ConsensusState]:
    """Seven validators; at height 4 a set keeping five of them (5/7 > 1/3) takes over,
    so the skip 1 -> 6 runs both the quorum and the trust-overlap checks."""
    chain = ChainBuilder(Members.of(list(range(7))))
    chain.extend(3)
    chain.rotate_to(Members.of([0, 1, 2, 3, 4, 20, 21]))
    chain.extend(SKIP_TARGET - 3)
    client = client_for(chain)
    return chain, client, checkpoint(chain, client)


def now_after(chain: ChainBuilder) -> int:
    return chain.time_ms + 1_000


def test_the_skip_verifies_before_any_flip() -> None:
    chain, client, trusted = skipping_chain()
    state = verify_header(
        client, trusted, *chain.blocks[SKIP_TARGET].signed, now_after(chain), backend=BACKEND
    )
    assert (state.height, state.header_hash) == (SKIP_TARGET, chain.blocks[SKIP_TARGET].hash)
    assert state.validators.hash != trusted.validators.hash  # the overlap check ran


@MANY
@given(st.data())
def test_flipping_any_bit_under_skipping_verification_is_rejected(data: st.DataObject) -> None:
    chain, client, trusted = skipping_chain()
    parts = dict(
        zip(("header", "commit", "validators"), chain.blocks[SKIP_TARGET].signed, strict=True)
    )
    part = data.draw(st.sampled_from(sorted(parts)), label="part")
    bit = data.draw(st.integers(0, len(parts[part]) * 8 - 1), label="bit")
    parts[part] = flip(parts[part], bit)
    with pytest.raises(VerificationError):
        verify_header(
            client,
            trusted,
            parts["header"],
            parts["commit"],
            parts["validators"],
            now_after(chain),
            backend=BACKEND,
        )


# --- the seam envelope ---------------------------------------------------------------------------


def envelope(chain: ChainBuilder, height: int) -> HeaderUpdate:
    header, commit, validators = chain.blocks[height].signed
    return trusted_header(chain.chain_id.decode(), header, commit, validators)


@MANY
@given(st.data())
def test_flipping_any_bit_of_the_seam_envelope_is_rejected(data: st.DataObject) -> None:
    chain, client, trusted = skipping_chain()
    seam = PujiangLightClient(backend=BACKEND)
    good = envelope(chain, 2)
    now_s = now_after(chain) // 1000 + 1
    assert seam.verify_header(client, trusted, good, now_s).height == 2
    field = data.draw(st.sampled_from(["encoded", "evidence"]), label="field")
    raw: bytes = getattr(good, field)
    bit = data.draw(st.integers(0, len(raw) * 8 - 1), label="bit")
    broken = replace(good, **{field: flip(raw, bit)})
    with pytest.raises(VerificationError):
        seam.verify_header(client, trusted, broken, now_s)


# --- forks: only valid conflicting commits freeze ------------------------------------------------


@cache
def verified_chain() -> tuple[ChainBuilder, ClientState, list[ConsensusState]]:
    """Four validators, heights 1..4 verified adjacently; a fork goes at height 3."""
    chain = ChainBuilder(Members.of([0, 1, 2, 3]))
    chain.extend(4)
    client = client_for(chain)
    states = [checkpoint(chain, client)]
    for height in range(2, 5):
        states.append(
            verify_header(
                client, states[-1], *chain.blocks[height].signed, now_after(chain), backend=BACKEND
            )
        )
    return chain, client, states


def forged_fork(signers: list[int] | None = None) -> tuple[bytes, bytes, bytes]:
    chain, _, _ = verified_chain()
    original = chain.blocks[3]
    forged = chain.seal(
        original.header.copy(state_root=b"\xee" * 32), members=original.members, signers=signers
    )
    return forged.signed


def test_an_unbroken_fork_freezes() -> None:
    chain, client, states = verified_chain()
    update = process_update(
        client, states[0], *forged_fork(), now_after(chain), known=states[1:], backend=BACKEND
    )
    assert update.frozen
    assert update.client_state.evidence is not None
    assert update.client_state.evidence.kind == "fork"


@MANY
@given(st.data())
def test_a_fork_with_any_flipped_bit_never_freezes(data: st.DataObject) -> None:
    chain, client, states = verified_chain()
    parts = dict(zip(("header", "commit", "validators"), forged_fork(), strict=True))
    part = data.draw(st.sampled_from(sorted(parts)), label="part")
    bit = data.draw(st.integers(0, len(parts[part]) * 8 - 1), label="bit")
    parts[part] = flip(parts[part], bit)
    try:
        update = process_update(
            client,
            states[0],
            parts["header"],
            parts["commit"],
            parts["validators"],
            now_after(chain),
            known=states[1:],
            backend=BACKEND,
        )
    except VerificationError:
        return
    # A flip that leaves a valid, *known* header is a no-op, never a freeze.
    assert not update.frozen
    assert update.duplicate


@pytest.mark.parametrize("signers", [[0], [0, 1], [2, 3]])
def test_a_fork_signed_by_two_thirds_or_less_never_freezes(signers: list[int]) -> None:
    chain, client, states = verified_chain()
    with pytest.raises(InsufficientPower) as info:
        process_update(
            client,
            states[0],
            *forged_fork(signers),
            now_after(chain),
            known=states[1:],
            backend=BACKEND,
        )
    assert info.value.details["check"] == "quorum"


# --- the 1/3 boundary of skipping, exactly -------------------------------------------------------


@FEW
@given(total_thirds=st.integers(1, 20))
def test_skip_fails_at_exactly_a_third_of_trusted_power_and_passes_one_above(
    total_thirds: int,
) -> None:
    """Old set: a validator of power ``t`` and one of ``2t`` (total ``3t``). The new set
    keeps only the first, at power ``t`` or ``t + 1`` in the *old* set: exactly 1/3 of
    the trusted power is not enough, one unit more is."""
    t = total_thirds
    for kept_power, passes in ((t, False), (t + 1, True)):
        old = Members.of([0, 1], [kept_power, 3 * t - kept_power])
        new = Members.of([0, 30, 31], [10, 1, 1])  # key 0 alone holds > 2/3 of the new set
        chain = ChainBuilder(old)
        chain.extend(1)
        chain.rotate_to(new)
        chain.extend(3)
        client = client_for(chain)
        trusted = checkpoint(chain, client)
        signed = chain.blocks[4].signed
        if passes:
            state = verify_header(client, trusted, *signed, now_after(chain), backend=BACKEND)
            assert state.height == 4
        else:
            with pytest.raises(InsufficientPower) as info:
                verify_header(client, trusted, *signed, now_after(chain), backend=BACKEND)
            assert info.value.details["check"] == "trust-overlap"
            assert (info.value.details["signed"], info.value.details["total"]) == (t, 3 * t)
