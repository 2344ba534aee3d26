"""proofs.pujiang.light_client: boundaries, set reuse, bisection limits and the seam object.

The one-broken-field cases live in the vectors (``test_vectors.py``); these
tests cover what a fixed vector cannot: power at exactly 2/3 and 1/3, which
set the 1/3 is measured in, that a stable set is decoded and PoP-checked
once, and the ``core.seams.LightClient`` envelope.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest
import rlp

from core.errors import (
    BadEncoding,
    BadProof,
    BadSignature,
    ClientFrozen,
    InsufficientPower,
    InvalidHeader,
    InvalidInput,
    PjgwError,
    RootMismatch,
)
from core.seams import LightClient
from core.types import HeaderUpdate, InclusionProof
from proofs.pujiang import codec
from proofs.pujiang.light_client import (
    ClientState,
    ConsensusState,
    PujiangLightClient,
    check_misbehaviour,
    create_checkpoint,
    decode_header_evidence,
    encode_header_evidence,
    process_update,
    trusted_header,
    verify_bisection,
    verify_event,
    verify_header,
)
from tests.proofs.pujiang.builder import BACKEND, ChainBuilder, Members
from tests.proofs.pujiang.test_properties import checkpoint, client_for, event, now_after


def code_and_check(call: Callable[[], object]) -> tuple[str, object]:
    with pytest.raises(PjgwError) as info:
        call()
    return info.value.code, info.value.details.get("check")


# --- client parameters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"chain_id": b""},
        {"chain_id": b"x" * 64},
        {"chain_id": 7},
        {"trusting_period_ms": 0},
        {"trusting_period_ms": True},
        {"max_clock_drift_ms": -1},
        {"hash_profile": "keccak256"},
        {"frozen_height": 3},
    ],
    ids=lambda c: next(iter(c)) + "=" + repr(next(iter(c.values())))[:12],
)
def test_client_state_rejects_bad_parameters(changes: dict[str, Any]) -> None:
    params: dict[str, Any] = {
        "chain_id": b"pujiang-test",
        "trusting_period_ms": 1000,
        "max_clock_drift_ms": 0,
    }
    with pytest.raises(InvalidInput):
        ClientState(**{**params, **changes})


def test_client_state_encodes_a_text_chain_id_and_fixes_trust_at_a_third() -> None:
    client = ClientState(chain_id="pujiang-a", trusting_period_ms=1, max_clock_drift_ms=0)
    assert client.chain_id == b"pujiang-a"
    assert client.trust_level == Fraction(1, 3)
    assert not client.frozen


# --- power boundaries -----------------------------------------------------------------------


def _chain(members: Members, blocks: int = 2) -> tuple[ChainBuilder, ClientState, ConsensusState]:
    chain = ChainBuilder(members)
    chain.extend(blocks)
    client = client_for(chain)
    return chain, client, checkpoint(chain, client)


@pytest.mark.parametrize(
    ("signers", "outcome"),
    [([0, 1], "insufficient-power"), ([0, 1, 2], "ok")],
    ids=["exactly-two-thirds-rejected", "all-three-accepted"],
)
def test_quorum_needs_strictly_more_than_two_thirds(signers: list[int], outcome: str) -> None:
    chain, client, trusted = _chain(Members.of([0, 1, 2]), blocks=1)
    block = chain.seal(chain.header_for(), signers=signers)
    call = lambda: verify_header(client, trusted, *block.signed, now_after(chain) + 2000)  # noqa: E731
    if outcome == "ok":
        assert call().height == 2
    else:
        assert code_and_check(call) == ("insufficient-power", "quorum")


@pytest.mark.parametrize(
    ("old_powers", "kept", "ok"),
    [
        ([10, 10, 10], [0], False),  # exactly 1/3 of the trusted power: not enough
        ([10, 10, 11], [2], True),  # 11 of 31: more than 1/3
        ([1, 10, 10], [0], False),  # power 1 in the trusted set, however large later
    ],
    ids=["exactly-a-third", "just-above-a-third", "counted-in-trusted-power"],
)
def test_trust_overlap_is_strictly_more_than_a_third_of_the_trusted_power(
    old_powers: list[int], kept: list[int], ok: bool
) -> None:
    old = Members.of([0, 1, 2], old_powers)
    new = Members.of([*kept, 50, 51, 52], [1000] * len(kept) + [10, 10, 10])
    chain = ChainBuilder(old)
    chain.rotate_to(new)
    chain.extend(3)
    client = client_for(chain)
    trusted = checkpoint(chain, client)
    call = lambda: verify_header(  # noqa: E731
        client, trusted, *chain.blocks[3].signed, now_after(chain), backend=BACKEND
    )
    if ok:
        assert call().height == 3
    else:
        assert code_and_check(call) == ("insufficient-power", "trust-overlap")


# --- sets are checked once -----------------------------------------------------------------


def test_stable_and_rotated_sets_are_decoded_and_pop_checked_once() -> None:
    a, b = Members.of([0, 1, 2, 3]), Members.of([4, 5, 6, 7])
    chain = ChainBuilder(a)
    chain.extend(2)
    chain.rotate_to(b)
    chain.extend(4)
    client = client_for(chain)
    states = [checkpoint(chain, client)]
    for height in range(2, 7):
        signed = chain.blocks[height].signed
        states.append(verify_header(client, states[-1], *signed, now_after(chain), backend=BACKEND))
    sets = [s.validators for s in states]
    assert sets[0] is sets[1] is sets[2]  # heights 1-3: set A, the checkpoint's object
    assert sets[3] is sets[4] is sets[5]  # heights 4-6: set B, accepted once at height 4
    assert sets[0] is not sets[3]
    assert states[2].next_validators is None  # height 3 names B, not yet seen
    assert states[3].next_validators is sets[3]


def test_checkpoint_with_next_validators_reuses_them_across_the_rotation() -> None:
    a, b = Members.of([0, 1, 2, 3]), Members.of([4, 5, 6, 7])
    chain = ChainBuilder(a)
    chain.rotate_to(b)
    chain.extend(2)
    client = client_for(chain)
    block = chain.blocks[1]
    kwargs: dict[str, Any] = {
        "trusted_height": 1,
        "trusted_hash": block.hash,
        "now_ms": now_after(chain),
        "backend": BACKEND,
    }
    create = create_checkpoint
    trusted = create(client, block.header_bytes, a.encode(), next_validators=b.encode(), **kwargs)
    assert trusted.next_validators is not None
    state = verify_header(client, trusted, *chain.blocks[2].signed, now_after(chain))
    assert state.validators is trusted.next_validators
    assert code_and_check(
        lambda: create(client, block.header_bytes, a.encode(), next_validators=a.encode(), **kwargs)
    ) == ("invalid-header", "next-validators-hash")


def test_checkpoint_header_from_the_future_is_rejected() -> None:
    chain, client, _ = _chain(Members.of([0, 1, 2, 3]), blocks=1)
    block = chain.blocks[1]

    def at(now_ms: int) -> object:
        return create_checkpoint(
            client,
            block.header_bytes,
            block.members.encode(),
            trusted_height=1,
            trusted_hash=block.hash,
            now_ms=now_ms,
        )

    limit = block.header.time_ms - client.max_clock_drift_ms
    assert isinstance(at(limit), ConsensusState)
    assert code_and_check(lambda: at(limit - 1)) == ("invalid-header", "clock-drift")


# --- bisection ------------------------------------------------------------------------------


def _rotating_chain() -> tuple[ChainBuilder, ClientState, ConsensusState]:
    chain = ChainBuilder(Members.of([0, 1, 2, 3]))
    chain.extend(3)
    chain.rotate_to(Members.of([4, 5, 6, 7]))
    chain.extend(5)
    client = client_for(chain)
    return chain, client, checkpoint(chain, client)


def test_bisection_gives_up_after_max_headers() -> None:
    chain, client, trusted = _rotating_chain()
    call = lambda: verify_bisection(  # noqa: E731
        client, trusted, 8, lambda h: chain.blocks[h].signed, now_after(chain), max_headers=2
    )
    assert code_and_check(call) == ("invalid-input", "bisection-limit")


def test_bisection_rejects_a_header_of_another_height() -> None:
    chain, client, trusted = _rotating_chain()
    call = lambda: verify_bisection(  # noqa: E731
        client, trusted, 3, lambda h: chain.blocks[h + 1].signed, now_after(chain)
    )
    assert code_and_check(call) == ("invalid-header", "fetched-height")


def test_bisection_raises_other_failures_as_they_are() -> None:
    chain, client, trusted = _rotating_chain()
    good = chain.blocks[8]
    forged = codec.encode(good.commit.copy(round=1))

    def fetch(height: int) -> tuple[bytes, bytes, bytes]:
        block = chain.blocks[height]
        return (block.header_bytes, forged, block.members.encode()) if height == 8 else block.signed

    with pytest.raises(BadSignature):
        verify_bisection(client, trusted, 8, fetch, now_after(chain))
    with pytest.raises(InvalidHeader):
        verify_bisection(client, trusted, 1, fetch, now_after(chain))
    with pytest.raises(InvalidInput):
        verify_bisection(client, trusted, 2, lambda h: (b"", b""), now_after(chain))


def test_catching_up_a_stable_set_verifies_one_header() -> None:
    chain, client, trusted = _chain(Members.of([0, 1, 2, 3]), blocks=40)
    fetched: list[int] = []
    states = verify_bisection(
        client, trusted, 40, lambda h: fetched.append(h) or chain.blocks[h].signed, now_after(chain)
    )
    assert [s.height for s in states] == [40]
    assert fetched == [40]


def test_process_update_stores_a_new_header() -> None:
    chain, client, trusted = _chain(Members.of([0, 1, 2, 3]), blocks=3)
    update = process_update(client, trusted, *chain.blocks[3].signed, now_after(chain))
    assert not update.frozen
    assert update.consensus_state is not None
    assert update.consensus_state.height == 3
    assert update.client_state is client


# --- proofs ------------------------------------------------------------------------------------


def test_event_proof_in_a_block_without_events_is_rejected() -> None:
    _, client, trusted = _chain(Members.of([0, 1, 2, 3]), blocks=1)
    proof = rlp.encode([1, 0, rlp.decode(event(0)), []])
    assert code_and_check(lambda: verify_event(client, trusted, proof)) == (
        "bad-proof",
        "inclusion",
    )


# --- the seam object ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seam_chain() -> tuple[ChainBuilder, ClientState, ConsensusState]:
    chain = ChainBuilder(Members.of([0, 1, 2, 3]))
    chain.append()
    chain.append(events=[event(0), event(1), event(2)], state=[(b"k1", b"v1"), (b"k3", b"v3")])
    chain.append()
    client = client_for(chain)
    return chain, client, checkpoint(chain, client)


def envelope(chain: ChainBuilder, at: int, **changes: Any) -> HeaderUpdate:
    header, commit, validators = chain.blocks[at].signed
    env = trusted_header("pujiang-test", header, commit, validators)
    fields = {f: getattr(env, f) for f in env.__dataclass_fields__}
    return HeaderUpdate(**{**fields, **changes})


def test_seam_object_is_a_light_client() -> None:
    assert isinstance(PujiangLightClient(), LightClient)


def test_seam_verifies_the_envelope_with_now_in_seconds(seam_chain: Any) -> None:
    chain, client, trusted = seam_chain
    lc = PujiangLightClient(hash_profile="sha256", backend=BACKEND)
    state = lc.verify_header(client, trusted, envelope(chain, 2), now_after(chain) // 1000)
    assert state.height == 2
    too_early = (chain.blocks[2].header.time_ms - client.max_clock_drift_ms) // 1000 - 1
    assert code_and_check(
        lambda: lc.verify_header(client, trusted, envelope(chain, 2), too_early)
    ) == ("invalid-header", "clock-drift")


@pytest.mark.parametrize(
    "changes",
    [
        {"height": 3},
        {"hash": b"\x01" * 32},
        {"time": 0},
        {"chain_id": "pujiang-else"},
    ],
    ids=["height", "hash", "time", "chain-id"],
)
def test_seam_rejects_an_envelope_that_disagrees_with_its_header(
    seam_chain: Any, changes: dict[str, Any]
) -> None:
    chain, client, trusted = seam_chain
    lc = PujiangLightClient()
    call = lambda: lc.verify_header(client, trusted, envelope(chain, 2, **changes), 2**40)  # noqa: E731
    assert code_and_check(call) == ("invalid-header", "envelope")


@pytest.mark.parametrize(
    "evidence",
    [b"", b"\x80", rlp.encode([b"a"]), rlp.encode([b"a", b"b", b"c"]), b"\xc2\x80\x80\x00"],
    ids=["empty", "not-a-list", "one-item", "three-items", "trailing-byte"],
)
def test_seam_rejects_malformed_evidence(seam_chain: Any, evidence: bytes) -> None:
    chain, client, trusted = seam_chain
    call = lambda: PujiangLightClient().verify_header(  # noqa: E731
        client, trusted, envelope(chain, 2, evidence=evidence), 2**40
    )
    assert code_and_check(call) == ("bad-encoding", "encoding")


def test_evidence_envelope_is_the_nested_rlp_list(seam_chain: Any) -> None:
    chain, _, _ = seam_chain
    _, commit, validators = chain.blocks[2].signed
    nested = rlp.encode([rlp.decode(commit), rlp.decode(validators)])
    assert encode_header_evidence(commit, validators) == nested
    assert decode_header_evidence(nested) == (commit, validators)


def test_seam_refuses_another_hash_profile(seam_chain: Any) -> None:
    chain, client, trusted = seam_chain
    with pytest.raises(InvalidInput):
        PujiangLightClient(hash_profile="sm3").verify_header(
            client, trusted, envelope(chain, 2), 2**40
        )
    with pytest.raises(InvalidInput):
        PujiangLightClient(hash_profile="md5")


def _event_inclusion(chain: ChainBuilder, index: int, **changes: Any) -> InclusionProof:
    decoded = rlp.decode(chain.event_proof(2, index))
    fields: dict[str, Any] = {
        "chain_id": "pujiang-test",
        "height": 2,
        "kind": "rfc6962-event",
        "key": index.to_bytes(8, "big"),
        "value": event(index),
        "nodes": tuple(decoded[3]),
    }
    return InclusionProof(**{**fields, **changes})


def test_seam_membership_of_events_and_state(seam_chain: Any) -> None:
    chain, client, trusted = seam_chain
    lc = PujiangLightClient()
    state = lc.verify_header(client, trusted, envelope(chain, 2), now_after(chain) // 1000 + 1)
    for index in range(3):
        lc.verify_membership(state, _event_inclusion(chain, index), client_state=client)
    state_proof = chain.state_proof(2, 1)
    lc.verify_membership(
        state,
        InclusionProof("pujiang-test", 2, "pujiang-state", b"k3", b"v3", (state_proof,)),
    )
    leaves = [rlp.decode(chain.state_proof(2, i))[1:] for i in (0, 1)]
    absent = rlp.encode([2, b"k2", [leaves[0]], [leaves[1]]])
    lc.verify_membership(
        state, InclusionProof("pujiang-test", 2, "pujiang-state-absent", b"k2", b"", (absent,))
    )
    failures: list[tuple[InclusionProof, type[PjgwError]]] = [
        (_event_inclusion(chain, 1, value=event(2)), RootMismatch),
        (_event_inclusion(chain, 1, key=(0).to_bytes(8, "big")), RootMismatch),
        (_event_inclusion(chain, 1, key=(2).to_bytes(8, "big")), BadProof),
        (_event_inclusion(chain, 1, height=3), BadProof),
        (_event_inclusion(chain, 1, kind="merkle"), InvalidInput),
        (
            InclusionProof("pujiang-test", 2, "pujiang-state", b"k1", b"v1", (state_proof,)),
            BadProof,
        ),
        (InclusionProof("pujiang-test", 2, "pujiang-state", b"k3", b"v3", ()), BadEncoding),
    ]
    for proof, error in failures:
        with pytest.raises(error):
            lc.verify_membership(state, proof)


def test_seam_membership_refuses_for_a_frozen_client(seam_chain: Any) -> None:
    chain, client, trusted = seam_chain
    fork = chain.seal(chain.blocks[3].header.copy(tx_count=5), members=chain.blocks[3].members)
    lc = PujiangLightClient()
    pair = (envelope(chain, 3), _envelope_of(fork))
    now = now_after(chain) // 1000 + 1
    assert lc.check_misbehaviour(client, *pair, trusted=trusted, now=now)
    assert not lc.check_misbehaviour(client, pair[0], pair[0], trusted=trusted, now=now)
    with pytest.raises(InvalidInput):
        lc.check_misbehaviour(client, *pair)
    frozen = process_update(client, trusted, *chain.blocks[3].signed, now * 1000)
    assert not frozen.frozen
    frozen_client = check_misbehaviour(
        client, trusted, chain.blocks[3].signed, fork.signed, now * 1000
    )
    with pytest.raises(ClientFrozen):
        lc.verify_membership(trusted, _event_inclusion(chain, 0), client_state=frozen_client)
    with pytest.raises(ClientFrozen):
        lc.verify_header(frozen_client, trusted, envelope(chain, 2), now)


def _envelope_of(block: Any) -> HeaderUpdate:
    header, commit, validators = block.signed
    return trusted_header("pujiang-test", header, commit, validators)


def test_non_bytes_inputs_are_bad_encoding(seam_chain: Any) -> None:
    chain, client, trusted = seam_chain
    header, commit, validators = chain.blocks[2].signed
    for args in [("h", commit, validators), (header, None, validators), (header, commit, 5)]:
        with pytest.raises(BadEncoding):
            verify_header(client, trusted, *args, now_after(chain))  # type: ignore[arg-type]
    one_signer = codec.encode(chain.blocks[2].commit.copy(signers=b"\x01"))
    with pytest.raises(InsufficientPower):
        verify_header(client, trusted, header, one_signer, validators, now_after(chain))
