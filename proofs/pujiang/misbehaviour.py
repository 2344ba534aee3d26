"""Misbehaviour of a Pujiang subchain: when two valid headers freeze the light client.

Two kinds, each with :class:`~proofs.pujiang.states.MisbehaviourEvidence`:
``fork`` (two valid commits for different headers at one height) and ``time``
(a valid header whose time breaks the order of verified neighbours). A frozen
client refuses every later call with ``ClientFrozen``; unfreezing is an
operator's decision (a new client from a new checkpoint), never automatic.

SECURITY: only *valid* headers count: each is verified from a trusted state
(or, for a fork at a verified height, signed by more than 1/3 of the set that
signed it, within its trusting period). Otherwise anyone could freeze the
client with headers signed by keys of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from core.errors import InvalidHeader, InvalidInput, PjgwError
from proofs.pujiang.commit import BackendArg
from proofs.pujiang.envelope import encode_signed_header
from proofs.pujiang.headers import validate_signed_header, verify_header
from proofs.pujiang.states import (
    ClientState,
    ConsensusState,
    MisbehaviourEvidence,
    SignedHeader,
    Update,
    decode_commit_bytes,
    decode_header_bytes,
    validate_active,
    validate_chain_id,
    validate_trusting_period,
)

# --- misbehaviour ------------------------------------------------------------------------------


def apply_freeze(client: ClientState, evidence: MisbehaviourEvidence) -> ClientState:
    """The frozen client (the only mutator of a client state; the caller persists it)."""
    return replace(client, frozen_height=max(evidence.height, 1), evidence=evidence)


def validate_fork(
    client: ClientState,
    verified: ConsensusState,
    header: bytes,
    commit: bytes,
    validators: bytes,
    now_ms: int,
    *,
    backend: BackendArg = None,
) -> MisbehaviourEvidence:
    """Evidence that a second valid commit exists for another header at a verified height.

    Checks: ``frozen``; ``encoding``; ``chain-id``; ``height`` (the same as
    ``verified``); ``not-misbehaviour`` (``InvalidInput``: it is the same
    header); ``trusting-period`` of ``verified`` (old keys may have been sold:
    stale evidence must not freeze the client); then the commit: binding,
    ``validators-hash``, bitmap, ``quorum`` of its own set and, for another
    set, ``trust-overlap`` with the set that signed ``verified`` (those
    validators signed two headers at one height); keys; signature.
    """
    validate_active(client)
    hdr, hdr_hash = decode_header_bytes(client, header)
    cmt = decode_commit_bytes(commit)
    validate_chain_id(client, hdr)
    if hdr.height != verified.height:
        raise InvalidHeader(
            f"a fork is at the verified height {verified.height}, not {hdr.height}", check="height"
        )
    if hdr_hash == verified.header_hash:
        raise InvalidInput("this is the verified header itself", check="not-misbehaviour")
    validate_trusting_period(client, verified, now_ms)
    known = (verified.validators, verified.next_validators)
    validate_signed_header(
        client, hdr, hdr_hash, cmt, validators, known, verified.validators, backend
    )
    return MisbehaviourEvidence(
        kind="fork",
        height=hdr.height,
        trusted_hash=verified.header_hash,
        conflicting_hash=hdr_hash,
        headers=(encode_signed_header(header, commit, validators),),
        reason=f"two valid commits for different headers at height {hdr.height}",
    )


def _time_evidence(
    state: ConsensusState, neighbour: ConsensusState, signed: bytes
) -> MisbehaviourEvidence:
    return MisbehaviourEvidence(
        kind="time",
        height=state.height,
        trusted_hash=neighbour.header_hash,
        conflicting_hash=state.header_hash,
        headers=(signed,),
        reason=(
            f"valid header {state.height} at {state.time_ms} ms breaks time order against "
            f"verified height {neighbour.height} at {neighbour.time_ms} ms"
        ),
    )


def compute_time_conflict(
    state: ConsensusState, neighbours: Iterable[ConsensusState]
) -> ConsensusState | None:
    """The nearest verified neighbour whose time ``state`` contradicts, if any.

    Heights and times must both increase: the nearest state below must be
    earlier and the nearest above later.
    """
    below = above = None
    for other in neighbours:
        if other.height < state.height and (below is None or other.height > below.height):
            below = other
        elif other.height > state.height and (above is None or other.height < above.height):
            above = other
    if below is not None and below.time_ms >= state.time_ms:
        return below
    if above is not None and above.time_ms <= state.time_ms:
        return above
    return None


def process_update(
    client: ClientState,
    trusted: ConsensusState,
    header: bytes,
    commit: bytes,
    validators: bytes,
    now_ms: int,
    *,
    known: Iterable[ConsensusState] = (),
    backend: BackendArg = None,
) -> Update:
    """ibc-go's UpdateClient order: status, verify, misbehaviour check, update or freeze.

    ``known``: the verified states the caller stores (at least the nearest
    below and above the header's height, and any at that height). A header
    already verified is a no-op (``duplicate``). A different valid header at
    a known height, or a valid header whose time breaks the order of its
    verified neighbours, freezes the client: the returned ``Update`` carries
    the frozen ``ClientState`` and no consensus state. Invalid headers raise.
    """
    validate_active(client)
    hdr, hdr_hash = decode_header_bytes(client, header)
    pool = [trusted, *known]
    same = next((s for s in pool if s.height == hdr.height), None)
    if same is not None:
        if same.header_hash == hdr_hash:
            return Update(client, same, duplicate=True)
        evidence = validate_fork(client, same, header, commit, validators, now_ms, backend=backend)
        return Update(apply_freeze(client, evidence), None)
    state = verify_header(client, trusted, header, commit, validators, now_ms, backend=backend)
    neighbour = compute_time_conflict(state, pool)
    if neighbour is not None:
        signed = encode_signed_header(header, commit, validators)
        return Update(apply_freeze(client, _time_evidence(state, neighbour, signed)), None)
    return Update(client, state)


def check_misbehaviour(
    client: ClientState,
    trusted: ConsensusState,
    first: SignedHeader,
    second: SignedHeader,
    now_ms: int,
    *,
    backend: BackendArg = None,
) -> ClientState:
    """The frozen client when two headers above ``trusted`` are valid and conflict.

    Both are verified from ``trusted`` (``verify_header``: any failure is
    raised); they conflict when at one height their hashes differ (``fork``)
    or when the higher one is not later (``time``). Otherwise ``InvalidInput``
    with check ``not-misbehaviour``. A fork *at* a verified height is
    :func:`validate_fork` (or :func:`process_update` with ``known``).
    """
    validate_active(client)
    a = verify_header(client, trusted, *first, now_ms, backend=backend)
    b = verify_header(client, trusted, *second, now_ms, backend=backend)
    signed = (encode_signed_header(*first), encode_signed_header(*second))
    if a.height == b.height:
        if a.header_hash == b.header_hash:
            raise InvalidInput("both are the same header", check="not-misbehaviour")
        evidence = MisbehaviourEvidence(
            kind="fork",
            height=a.height,
            trusted_hash=a.header_hash,
            conflicting_hash=b.header_hash,
            headers=signed,
            reason=f"two valid commits for different headers at height {a.height}",
        )
        return apply_freeze(client, evidence)
    low, high = (a, b) if a.height < b.height else (b, a)
    if low.time_ms < high.time_ms:
        raise InvalidInput("the headers do not conflict", check="not-misbehaviour")
    evidence = MisbehaviourEvidence(
        kind="time",
        height=high.height,
        trusted_hash=low.header_hash,
        conflicting_hash=high.header_hash,
        headers=signed if low is a else signed[::-1],
        reason=(
            f"header {high.height} at {high.time_ms} ms is not after header {low.height} "
            f"at {low.time_ms} ms"
        ),
    )
    return apply_freeze(client, evidence)


def is_misbehaviour(
    client: ClientState,
    trusted: ConsensusState,
    first: SignedHeader,
    second: SignedHeader,
    now_ms: int,
    *,
    backend: BackendArg = None,
) -> bool:
    """:func:`check_misbehaviour` as a bool; never raises."""
    try:
        check_misbehaviour(client, trusted, first, second, now_ms, backend=backend)
    except PjgwError:
        return False
    return True
