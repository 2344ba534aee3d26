"""Header verification of a Pujiang subchain: checkpoint, adjacent, skipping, bisection.

Pure and synchronous: no I/O and no clock (``now_ms`` is a parameter, unix
milliseconds); ``verify_bisection`` takes a ``fetch`` callable so the I/O
stays with the caller.

Verification (``verify_header``), in order, cheapest first, the pairing last;
each failure raises the typed error with ``details["check"]``:

1. ``frozen`` (``ClientFrozen``): the client is not frozen, before any work;
2. ``encoding`` (``BadEncoding``): header and commit decode canonically;
3. ``chain-id`` (``InvalidHeader``): ``header.chain_id`` is the client's;
4. ``height`` (``InvalidHeader``): ``header.height > trusted.height``;
5. ``trusting-period`` (``HeaderExpired``): ``now < trusted.time + trusting_period``;
6. ``clock-drift`` (``InvalidHeader``): ``header.time <= now + max_clock_drift``;
7. ``time-monotonic`` (``InvalidHeader``): ``header.time > trusted.time``;
8. adjacent only (``height == trusted.height + 1``), ``InvalidHeader``:
   ``next-validators-hash`` (``header.validators_hash == trusted.next_validators_hash``)
   and ``parent-hash`` (``header.parent_hash == trusted.header_hash``);
9. ``commit-height``, ``commit-header-hash`` (``InvalidHeader``): the commit
   is for this height and ``H(header)``;
10. ``encoding`` of the set, ``validators-hash`` (``InvalidHeader``): the set
    given hashes to ``header.validators_hash``;
11. ``signers-bitmap`` (``BadEncoding``): ``ceil(n/8)`` bytes, no bit past ``n``;
12. ``quorum`` (``InsufficientPower``): signers hold > 2/3 of the header's set;
13. skipping only, ``trust-overlap`` (``InsufficientPower``): signers hold
    > 1/3 of ``trusted.validators``, matched by public key;
14. a set not seen before: ``validator-key`` (the facade's typed errors) and
    ``proof-of-possession`` (``BadSignature``), once per set;
15. ``aggregate-signature`` (``BadSignature``): FastAggregateVerify over the
    signing payload (the only pairing of a known set).

SECURITY: the trust assumption is the usual one of a BFT light client: fewer
than 1/3 of the power of any set the client trusts is faulty while that trust
lasts (the trusting period). Skipping then needs the signers to hold more than
1/3 of the trusted set (one honest trusted validator at least) *and* more than
2/3 of the new header's own set.

SECURITY: the checkpoint (height, header hash) is trusted out of band (an
operator's choice, as a genesis is); everything else is checked against it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from core.errors import HeaderExpired, InsufficientPower, InvalidHeader, InvalidInput
from proofs.pujiang.codec import Commit, Header
from proofs.pujiang.commit import (
    BackendArg,
    ValidatorSet,
    accept_validator_set,
    compute_signers,
    resolve_validator_set,
    validate_commit_binding,
    validate_commit_signature,
    validate_quorum,
    validate_trust_overlap,
)
from proofs.pujiang.states import (
    ClientState,
    ConsensusState,
    Fetch,
    SignedHeader,
    decode_commit_bytes,
    decode_header_bytes,
    require_int,
    validate_active,
    validate_chain_id,
    validate_clock_drift,
    validate_trusting_period,
)

DEFAULT_MAX_BISECTION_HEADERS: Final = 512
"""Most headers one bisection may fetch before it gives up (``bisection-limit``)."""


# --- the commit of one header ---------------------------------------------------------------


def resolve_header_set(
    client: ClientState,
    header: Header,
    encoded: bytes,
    known: Sequence[ValidatorSet | None],
) -> ValidatorSet:
    """The set given for ``header`` (a known one when byte-identical), checked against
    ``header.validators_hash`` (``InvalidHeader``, check ``validators-hash``)."""
    valset = resolve_validator_set(encoded, known, client.hash_fn)
    if valset.hash != header.validators_hash:
        raise InvalidHeader(
            "the validator set given does not hash to the header's validators_hash",
            check="validators-hash",
            given=valset.hash.hex(),
            header=header.validators_hash.hex(),
        )
    return valset


def validate_signed_header(
    client: ClientState,
    header: Header,
    header_hash: bytes,
    commit: Commit,
    validators: bytes,
    known: Sequence[ValidatorSet | None],
    trust: ValidatorSet | None,
    backend: BackendArg,
) -> ValidatorSet:
    """Commit checks in the module table's order; returns the accepted set of the header."""
    validate_commit_binding(commit, header, header_hash)
    valset = resolve_header_set(client, header, validators, known)
    signers = compute_signers(commit, valset)
    validate_quorum(signers, valset)
    if trust is not None and trust.hash != valset.hash:
        validate_trust_overlap(signers, valset, trust)
    accepted = accept_validator_set(valset, backend=backend)
    validate_commit_signature(client.chain_id, commit, accepted)
    return accepted


def compute_consensus_state(
    client: ClientState,
    header: Header,
    header_hash: bytes,
    valset: ValidatorSet,
    known: Iterable[ValidatorSet | None],
) -> ConsensusState:
    """The state a verified header gives; the next set is kept when already accepted."""
    next_set: ValidatorSet | None = None
    for candidate in (valset, *known):
        if (
            candidate is not None
            and candidate.accepted
            and candidate.hash == header.next_validators_hash
        ):
            next_set = candidate
            break
    return ConsensusState(
        height=header.height,
        header_hash=header_hash,
        time_ms=header.time_ms,
        state_root=header.state_root,
        state_size=header.state_size,
        events_root=header.events_root,
        event_count=header.event_count,
        validators=valset,
        next_validators_hash=header.next_validators_hash,
        next_validators=next_set,
        hash_profile=client.hash_profile,
    )


# --- trusted state ---------------------------------------------------------------------------


def create_checkpoint(
    client: ClientState,
    header: bytes,
    validators: bytes,
    *,
    trusted_height: int,
    trusted_hash: bytes,
    now_ms: int,
    next_validators: bytes | None = None,
    backend: BackendArg = None,
) -> ConsensusState:
    """The first trusted state: a header whose (height, hash) the operator trusts.

    Checks: ``frozen``; ``encoding``; ``chain-id``; ``checkpoint-height`` and
    ``checkpoint-hash`` (``InvalidHeader``); ``trusting-period`` (a checkpoint
    already expired is useless: ``HeaderExpired``); ``clock-drift``;
    ``validators-hash``; ``next-validators-hash`` when ``next_validators`` is
    given; then every key and PoP of each set (``validator-key``,
    ``proof-of-possession``).

    SECURITY: ``trusted_height`` and ``trusted_hash`` come from outside the
    chain's data (configuration, a second source); the header and sets may come
    from an untrusted node, they are checked against them.
    """
    validate_active(client)
    require_int(now_ms, "now_ms", minimum=0)
    hdr, hdr_hash = decode_header_bytes(client, header)
    validate_chain_id(client, hdr)
    if hdr.height != trusted_height:
        raise InvalidHeader(
            f"checkpoint header is at height {hdr.height}, not {trusted_height}",
            check="checkpoint-height",
        )
    if hdr_hash != trusted_hash:
        raise InvalidHeader(
            "checkpoint header does not have the trusted hash", check="checkpoint-hash"
        )
    if now_ms >= hdr.time_ms + client.trusting_period_ms:
        raise HeaderExpired(
            "the checkpoint is older than the trusting period", check="trusting-period"
        )
    validate_clock_drift(client, hdr, now_ms)
    valset = resolve_header_set(client, hdr, validators, ())
    next_set: ValidatorSet | None = None
    if next_validators is not None:
        next_set = resolve_validator_set(next_validators, (valset,), client.hash_fn)
        if next_set.hash != hdr.next_validators_hash:
            raise InvalidHeader(
                "the next validator set does not hash to next_validators_hash",
                check="next-validators-hash",
            )
    valset = accept_validator_set(valset, backend=backend)
    if next_set is not None and next_set is not valset:
        next_set = accept_validator_set(next_set, backend=backend)
    return compute_consensus_state(client, hdr, hdr_hash, valset, (next_set,))


# --- header verification ---------------------------------------------------------------------


def verify_header(
    client: ClientState,
    trusted: ConsensusState,
    header: bytes,
    commit: bytes,
    validators: bytes,
    now_ms: int,
    *,
    backend: BackendArg = None,
) -> ConsensusState:
    """Verify ``header`` (any height above ``trusted``) and return its consensus state.

    Adjacent (``height == trusted.height + 1``): the header's set is the one
    the trusted header named and it is linked by ``parent_hash``; more than
    2/3 of it signed. Skipping (higher): more than 1/3 of ``trusted.validators``
    and more than 2/3 of the header's own set signed. Checks and their order:
    the module docstring's table. A skip that fails ``trust-overlap`` is what
    :func:`verify_bisection` retries through an intermediate height.
    """
    validate_active(client)
    require_int(now_ms, "now_ms", minimum=0)
    hdr, hdr_hash = decode_header_bytes(client, header)
    cmt = decode_commit_bytes(commit)
    validate_chain_id(client, hdr)
    if hdr.height <= trusted.height:
        raise InvalidHeader(
            f"header height {hdr.height} is not above the trusted {trusted.height}",
            check="height",
        )
    validate_trusting_period(client, trusted, now_ms)
    validate_clock_drift(client, hdr, now_ms)
    if hdr.time_ms <= trusted.time_ms:
        raise InvalidHeader(
            f"header time {hdr.time_ms} ms is not after the trusted {trusted.time_ms} ms",
            check="time-monotonic",
        )
    adjacent = hdr.height == trusted.height + 1
    if adjacent:
        if hdr.validators_hash != trusted.next_validators_hash:
            raise InvalidHeader(
                "the header's set is not the next set the trusted header named",
                check="next-validators-hash",
            )
        if hdr.parent_hash != trusted.header_hash:
            raise InvalidHeader(
                "the header's parent is not the trusted header", check="parent-hash"
            )
    known = (trusted.next_validators, trusted.validators)
    trust = None if adjacent else trusted.validators
    valset = validate_signed_header(client, hdr, hdr_hash, cmt, validators, known, trust, backend)
    return compute_consensus_state(client, hdr, hdr_hash, valset, known)


def verify_bisection(
    client: ClientState,
    trusted: ConsensusState,
    target_height: int,
    fetch: Fetch,
    now_ms: int,
    *,
    backend: BackendArg = None,
    max_headers: int = DEFAULT_MAX_BISECTION_HEADERS,
) -> list[ConsensusState]:
    """Reach ``target_height`` from ``trusted``; the states verified on the way, in order.

    Tries the target first (one skip); when a skip fails ``trust-overlap``
    (the set changed too much since the trusted height) it verifies the
    midpoint first and retries from there, as CometBFT's light client does.
    Every other failure is raised as is. ``fetch`` is called at most once per
    height and at most ``max_headers`` times (``InvalidInput``, check
    ``bisection-limit``); a fetched header of another height is
    ``InvalidHeader`` ``fetched-height``.
    """
    validate_active(client)
    if target_height <= trusted.height:
        raise InvalidHeader(
            f"target {target_height} is not above the trusted {trusted.height}", check="height"
        )
    fetched: dict[int, SignedHeader] = {}

    def get(height: int) -> SignedHeader:
        if height not in fetched:
            if len(fetched) >= max_headers:
                raise InvalidInput(
                    f"bisection needed more than {max_headers} headers", check="bisection-limit"
                )
            item = fetch(height)
            if not isinstance(item, Sequence) or len(item) != 3:
                raise InvalidInput("fetch must return (header, commit, validators)")
            fetched[height] = (item[0], item[1], item[2])
        return fetched[height]

    verified: list[ConsensusState] = []
    current = trusted
    pending = [target_height]
    while pending:
        height = pending[-1]
        try:
            state = verify_header(client, current, *get(height), now_ms, backend=backend)
        except InsufficientPower as err:
            if err.details.get("check") != "trust-overlap":
                raise
            pending.append((current.height + height) // 2)
            continue
        if state.height != height:
            raise InvalidHeader(
                f"fetch({height}) returned a header at height {state.height}",
                check="fetched-height",
            )
        verified.append(state)
        current = state
        pending.pop()
    return verified
