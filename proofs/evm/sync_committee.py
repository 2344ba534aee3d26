"""Ethereum proof-of-stake light client: the sync-committee protocol.

This is consensus-specs ``specs/altair/light-client/sync-protocol.md`` with the
capella, deneb and electra modifications (``LightClientHeader`` with an
execution payload header and its branch; electra's deeper ``BeaconState``
branches), written as the spec writes it: ``is_*`` predicates, ``compute_*``
derivations, ``validate_light_client_update`` (raises on the first failed
check), ``apply_light_client_update`` and ``process_*`` (validate, then
apply). One difference: the store is immutable here, so ``apply_*`` and
``process_*`` return the new :class:`LightClientStore` instead of mutating.

Time is a parameter: every ``process_*`` takes ``current_slot``, computed by
the caller from its clock (:func:`compute_slot_at_time`).

Errors (the spec's ``assert``s, in its order; cheapest first, BLS last):

=============================================  ===================================
failed check                                   error (``details['check']``)
=============================================  ===================================
fewer than MIN_SYNC_COMMITTEE_PARTICIPANTS     ``InsufficientPower``
attested header's execution branch             ``RootMismatch`` (attested-header)
slot order / skipped period / irrelevant       ``InvalidHeader`` (slot-order,
                                               period, not-relevant)
non-empty header/committee where none belongs  ``BadEncoding``
finality / next-committee / bootstrap branch   ``RootMismatch`` (``BadProof`` when a
                                               normalised branch has non-zero padding)
next committee differs from the known one      ``ValueMismatch``
aggregate signature                            ``BadSignature``
=============================================  ===================================

SECURITY: the client is as safe as (a) the trusted block root it was
bootstrapped from (weak subjectivity: it must be recent, within the
withdrawability period) and (b) the honesty of 2/3 of each sync committee:
a supermajority of one 512-member committee can sign any header, and unlike
validators' attestations there is no slashing for it. Optimistic headers
(``>= 1`` participant, above the safety threshold) are *not* final; only the
finalized header is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

from core.errors import (
    BadEncoding,
    BadProof,
    BadSignature,
    InsufficientPower,
    InvalidHeader,
    RootMismatch,
    ValueMismatch,
)
from proofs import bls
from proofs.evm.beacon import (
    CURRENT_SYNC_COMMITTEE_GINDEX,
    CURRENT_SYNC_COMMITTEE_GINDEX_ELECTRA,
    EXECUTION_PAYLOAD_GINDEX,
    FINALIZED_ROOT_GINDEX,
    FINALIZED_ROOT_GINDEX_ELECTRA,
    NEXT_SYNC_COMMITTEE_GINDEX,
    NEXT_SYNC_COMMITTEE_GINDEX_ELECTRA,
    ZERO_ROOT,
    BeaconConfig,
    ExecutionPayloadHeader,
    LightClientBootstrap,
    LightClientFinalityUpdate,
    LightClientHeader,
    LightClientOptimisticUpdate,
    LightClientUpdate,
    SyncAggregate,
    SyncCommittee,
    compute_fork_data_root,
    compute_merkle_root,
    compute_signing_root_from_object_root,
    empty_sync_committee,
    floorlog2,
    hash_tree_root_beacon_header,
    hash_tree_root_execution,
    hash_tree_root_sync_committee,
    is_zero_branch,
)
from proofs.evm.chain import validate_header_chain
from proofs.evm.header import EvmHeader, compute_header_hash

DOMAIN_SYNC_COMMITTEE: Final = bytes.fromhex("07000000")
GENESIS_SLOT: Final = 0


@dataclass(frozen=True, slots=True)
class LightClientStore:
    """The light client's state (spec ``LightClientStore``), immutable."""

    finalized_header: LightClientHeader
    current_sync_committee: SyncCommittee
    next_sync_committee: SyncCommittee
    best_valid_update: LightClientUpdate | None
    optimistic_header: LightClientHeader
    previous_max_active_participants: int
    current_max_active_participants: int


# --- helpers --------------------------------------------------------------------------


def compute_slot_at_time(now: int, genesis_time: int, seconds_per_slot: int = 12) -> int:
    """The slot at unix time ``now`` (the caller's clock; 0 before genesis)."""
    return max(now - genesis_time, 0) // seconds_per_slot


def compute_epoch_at_slot(slot: int, config: BeaconConfig) -> int:
    return slot // config.slots_per_epoch


def compute_sync_committee_period_at_slot(slot: int, config: BeaconConfig) -> int:
    return compute_epoch_at_slot(slot, config) // config.epochs_per_sync_committee_period


def compute_fork_version(epoch: int, config: BeaconConfig) -> bytes:
    """The fork version in force at ``epoch``."""
    version = config.fork_versions[0][1]
    for fork_epoch, fork_version in config.fork_versions:
        if epoch >= fork_epoch:
            version = fork_version
    return version


def compute_domain(
    domain_type: bytes, fork_version: bytes, genesis_validators_root: bytes
) -> bytes:
    """``domain_type || fork_data_root[:28]`` (phase0 ``compute_domain``)."""
    return domain_type + compute_fork_data_root(fork_version, genesis_validators_root)[:28]


def compute_signing_root(header: LightClientHeader, domain: bytes) -> bytes:
    """``hash_tree_root(SigningData(hash_tree_root(header.beacon), domain))``."""
    return compute_signing_root_from_object_root(
        hash_tree_root_beacon_header(header.beacon), domain
    )


def get_subtree_index(gindex: int) -> int:
    return gindex % 2 ** floorlog2(gindex)


def is_valid_merkle_branch(
    leaf: bytes, branch: Sequence[bytes], depth: int, index: int, root: bytes
) -> bool:
    if len(branch) != depth:
        return False
    return compute_merkle_root(leaf, branch, depth, index) == root


def is_valid_normalized_merkle_branch(
    leaf: bytes, branch: Sequence[bytes], gindex: int, root: bytes
) -> bool:
    """Electra's branch check: extra leading nodes (older, deeper formats) must be zero."""
    depth = floorlog2(gindex)
    extra = len(branch) - depth
    if extra < 0 or not is_zero_branch(branch[:extra]):
        return False
    return is_valid_merkle_branch(leaf, branch[extra:], depth, get_subtree_index(gindex), root)


def _validate_branch(
    leaf: bytes, branch: Sequence[bytes], gindex: int, root: bytes, check: str
) -> None:
    """``is_valid_normalized_merkle_branch`` that says why it failed."""
    depth = floorlog2(gindex)
    extra = len(branch) - depth
    if extra < 0 or not is_zero_branch(branch[:extra]):
        raise BadProof(
            f"{check}: a branch of {len(branch)} nodes cannot prove generalized index {gindex}",
            check=check,
        )
    if not is_valid_merkle_branch(leaf, branch[extra:], depth, get_subtree_index(gindex), root):
        raise RootMismatch(
            f"{check}: Merkle branch (gindex {gindex}) does not lead to 0x{root.hex()}",
            check=check,
            gindex=gindex,
        )


def finalized_root_gindex_at_slot(slot: int, config: BeaconConfig) -> int:
    if compute_epoch_at_slot(slot, config) >= config.electra_fork_epoch:
        return FINALIZED_ROOT_GINDEX_ELECTRA
    return FINALIZED_ROOT_GINDEX


def current_sync_committee_gindex_at_slot(slot: int, config: BeaconConfig) -> int:
    if compute_epoch_at_slot(slot, config) >= config.electra_fork_epoch:
        return CURRENT_SYNC_COMMITTEE_GINDEX_ELECTRA
    return CURRENT_SYNC_COMMITTEE_GINDEX


def next_sync_committee_gindex_at_slot(slot: int, config: BeaconConfig) -> int:
    if compute_epoch_at_slot(slot, config) >= config.electra_fork_epoch:
        return NEXT_SYNC_COMMITTEE_GINDEX_ELECTRA
    return NEXT_SYNC_COMMITTEE_GINDEX


def get_lc_execution_root(header: LightClientHeader, config: BeaconConfig) -> bytes:
    """The execution payload header root the header's ``execution_branch`` proves."""
    epoch = compute_epoch_at_slot(header.beacon.slot, config)
    if epoch >= config.deneb_fork_epoch:
        return hash_tree_root_execution(header.execution, deneb=True)
    if epoch >= config.capella_fork_epoch:
        return hash_tree_root_execution(header.execution, deneb=False)
    return ZERO_ROOT


def is_valid_light_client_header(header: LightClientHeader, config: BeaconConfig) -> bool:
    """The execution payload header is the one in the beacon block body (deneb rules)."""
    epoch = compute_epoch_at_slot(header.beacon.slot, config)
    if epoch < config.deneb_fork_epoch and (
        header.execution.blob_gas_used != 0 or header.execution.excess_blob_gas != 0
    ):
        return False
    if epoch < config.capella_fork_epoch:
        return header.execution == ExecutionPayloadHeader() and is_zero_branch(
            header.execution_branch
        )
    return is_valid_merkle_branch(
        get_lc_execution_root(header, config),
        header.execution_branch,
        floorlog2(EXECUTION_PAYLOAD_GINDEX),
        get_subtree_index(EXECUTION_PAYLOAD_GINDEX),
        header.beacon.body_root,
    )


def _validate_light_client_header(
    header: LightClientHeader, config: BeaconConfig, what: str
) -> None:
    if not is_valid_light_client_header(header, config):
        raise RootMismatch(
            f"{what}: execution payload header is not proven by the beacon body root",
            check=what,
            slot=header.beacon.slot,
        )


def is_sync_committee_update(update: LightClientUpdate) -> bool:
    return not is_zero_branch(update.next_sync_committee_branch)


def is_finality_update(update: LightClientUpdate) -> bool:
    return not is_zero_branch(update.finality_branch)


def is_next_sync_committee_known(store: LightClientStore) -> bool:
    return not store.next_sync_committee.is_empty()


def get_safety_threshold(store: LightClientStore) -> int:
    return max(store.previous_max_active_participants, store.current_max_active_participants) // 2


def is_better_update(
    new_update: LightClientUpdate, old_update: LightClientUpdate, config: BeaconConfig
) -> bool:
    """The spec's ordering of candidate updates for a forced update."""

    def period(slot: int) -> int:
        return compute_sync_committee_period_at_slot(slot, config)

    max_active = len(new_update.sync_aggregate.sync_committee_bits)
    new_active = new_update.sync_aggregate.participants
    old_active = old_update.sync_aggregate.participants
    new_super = new_active * 3 >= max_active * 2
    old_super = old_active * 3 >= max_active * 2
    if new_super != old_super:
        return new_super
    if not new_super and new_active != old_active:
        return new_active > old_active

    def relevant(u: LightClientUpdate) -> bool:
        return is_sync_committee_update(u) and period(u.attested_header.beacon.slot) == period(
            u.signature_slot
        )

    if relevant(new_update) != relevant(old_update):
        return relevant(new_update)
    new_final = is_finality_update(new_update)
    old_final = is_finality_update(old_update)
    if new_final != old_final:
        return new_final
    if new_final:

        def committee_final(u: LightClientUpdate) -> bool:
            return period(u.finalized_header.beacon.slot) == period(u.attested_header.beacon.slot)

        if committee_final(new_update) != committee_final(old_update):
            return committee_final(new_update)
    if new_active != old_active:
        return new_active > old_active
    if new_update.attested_header.beacon.slot != old_update.attested_header.beacon.slot:
        return new_update.attested_header.beacon.slot < old_update.attested_header.beacon.slot
    return new_update.signature_slot < old_update.signature_slot


# --- initialisation -------------------------------------------------------------------


def initialize_light_client_store(
    trusted_block_root: bytes, bootstrap: LightClientBootstrap, config: BeaconConfig
) -> LightClientStore:
    """A store from a bootstrap whose header is ``trusted_block_root``.

    Checks, in order: the header's execution branch (``RootMismatch``);
    ``hash_tree_root(header.beacon) == trusted_block_root`` (``RootMismatch``);
    the committee size (``BadEncoding``); the current sync committee's branch
    against the header's state root (``RootMismatch`` / ``BadProof``).

    SECURITY: ``trusted_block_root`` is the weak-subjectivity checkpoint; it
    comes from configuration, never from the node that serves the bootstrap.
    """
    header = bootstrap.header
    _validate_light_client_header(header, config, "bootstrap-header")
    root = hash_tree_root_beacon_header(header.beacon)
    if root != trusted_block_root:
        raise RootMismatch(
            f"bootstrap header root 0x{root.hex()} is not the trusted block root",
            check="trusted-block-root",
            expected="0x" + trusted_block_root.hex(),
        )
    committee = bootstrap.current_sync_committee
    _validate_committee_size(committee, config)
    _validate_branch(
        hash_tree_root_sync_committee(committee),
        bootstrap.current_sync_committee_branch,
        current_sync_committee_gindex_at_slot(header.beacon.slot, config),
        header.beacon.state_root,
        "current-sync-committee-branch",
    )
    return LightClientStore(
        finalized_header=header,
        current_sync_committee=committee,
        next_sync_committee=empty_sync_committee(config.sync_committee_size),
        best_valid_update=None,
        optimistic_header=header,
        previous_max_active_participants=0,
        current_max_active_participants=0,
    )


def _validate_committee_size(committee: SyncCommittee, config: BeaconConfig) -> None:
    if len(committee.pubkeys) != config.sync_committee_size:
        raise BadEncoding(
            f"sync committee has {len(committee.pubkeys)} keys, not {config.sync_committee_size}"
        )


# --- updates --------------------------------------------------------------------------


def validate_light_client_update(
    store: LightClientStore,
    update: LightClientUpdate,
    current_slot: int,
    config: BeaconConfig,
    *,
    bls_backend: str | None = None,
) -> None:
    """Raise on the first check of the spec's ``validate_light_client_update`` that fails.

    Checks, in order: committee bitfield size; at least
    ``MIN_SYNC_COMMITTEE_PARTICIPANTS`` signers; attested header valid;
    ``current_slot >= signature_slot > attested slot >= finalized slot``;
    the signature period is the store's (or the next one when the next
    committee is known); the update is relevant (newer than the finalized
    header, or brings the unknown next committee); the finality branch (or an
    empty finalized header); the next-committee branch (or an empty
    committee), equal to the known next committee when one is known; finally
    the BLS fast-aggregate signature of the participants over the attested
    header's signing root, with the fork version at ``signature_slot - 1``
    (``update.signature_slot`` is untrusted and only picks the committee).
    """
    aggregate = update.sync_aggregate
    if len(aggregate.sync_committee_bits) != config.sync_committee_size:
        raise BadEncoding("sync committee bitfield has the wrong size")
    participants = aggregate.participants
    if participants < config.min_sync_committee_participants:
        raise InsufficientPower(
            f"{participants} sync committee participants, at least "
            f"{config.min_sync_committee_participants} needed",
            participants=participants,
        )
    _validate_light_client_header(update.attested_header, config, "attested-header")
    attested_slot = update.attested_header.beacon.slot
    finalized_slot = update.finalized_header.beacon.slot
    if not current_slot >= update.signature_slot > attested_slot >= finalized_slot:
        raise InvalidHeader(
            "update slots out of order: need current_slot >= signature_slot > attested slot "
            f">= finalized slot, got {current_slot}, {update.signature_slot}, {attested_slot}, "
            f"{finalized_slot}",
            check="slot-order",
        )
    store_period = compute_sync_committee_period_at_slot(store.finalized_header.beacon.slot, config)
    signature_period = compute_sync_committee_period_at_slot(update.signature_slot, config)
    next_known = is_next_sync_committee_known(store)
    allowed = (store_period, store_period + 1) if next_known else (store_period,)
    if signature_period not in allowed:
        raise InvalidHeader(
            f"update signed in period {signature_period}; the store is in period {store_period}",
            check="period",
            signature_period=signature_period,
            store_period=store_period,
        )
    attested_period = compute_sync_committee_period_at_slot(attested_slot, config)
    brings_next_committee = (
        not next_known and is_sync_committee_update(update) and attested_period == store_period
    )
    if not (attested_slot > store.finalized_header.beacon.slot or brings_next_committee):
        raise InvalidHeader(
            f"update (attested slot {attested_slot}) is not newer than the finalized header "
            f"(slot {store.finalized_header.beacon.slot}) and brings no next committee",
            check="not-relevant",
        )
    _validate_finality_branch(update, config)
    _validate_next_sync_committee(store, update, attested_period, store_period, config)
    committee = (
        store.current_sync_committee
        if signature_period == store_period
        else store.next_sync_committee
    )
    _validate_sync_aggregate(
        committee, aggregate, update.attested_header, update.signature_slot, config, bls_backend
    )


def _validate_finality_branch(update: LightClientUpdate, config: BeaconConfig) -> None:
    if not is_finality_update(update):
        if not update.finalized_header.is_empty():
            raise BadEncoding(
                "update without a finality branch carries a finalized header",
                check="finalized-header",
            )
        return
    if update.finalized_header.beacon.slot == GENESIS_SLOT:
        if not update.finalized_header.is_empty():
            raise BadEncoding("a genesis finalized header must be empty", check="finalized-header")
        finalized_root = ZERO_ROOT
    else:
        _validate_light_client_header(update.finalized_header, config, "finalized-header")
        finalized_root = hash_tree_root_beacon_header(update.finalized_header.beacon)
    _validate_branch(
        finalized_root,
        update.finality_branch,
        finalized_root_gindex_at_slot(update.attested_header.beacon.slot, config),
        update.attested_header.beacon.state_root,
        "finality-branch",
    )


def _validate_next_sync_committee(
    store: LightClientStore,
    update: LightClientUpdate,
    attested_period: int,
    store_period: int,
    config: BeaconConfig,
) -> None:
    committee = update.next_sync_committee
    _validate_committee_size(committee, config)
    if not is_sync_committee_update(update):
        if not committee.is_empty():
            raise BadEncoding(
                "update without a next-committee branch carries a committee",
                check="next-sync-committee",
            )
        return
    if (
        attested_period == store_period
        and is_next_sync_committee_known(store)
        and committee != store.next_sync_committee
    ):
        raise ValueMismatch(
            "update's next sync committee differs from the one the store knows",
            check="next-sync-committee",
        )
    _validate_branch(
        hash_tree_root_sync_committee(committee),
        update.next_sync_committee_branch,
        next_sync_committee_gindex_at_slot(update.attested_header.beacon.slot, config),
        update.attested_header.beacon.state_root,
        "next-sync-committee-branch",
    )


def _validate_sync_aggregate(
    committee: SyncCommittee,
    aggregate: SyncAggregate,
    attested_header: LightClientHeader,
    signature_slot: int,
    config: BeaconConfig,
    bls_backend: str | None,
) -> None:
    pubkeys = [
        key
        for bit, key in zip(aggregate.sync_committee_bits, committee.pubkeys, strict=True)
        if bit
    ]
    fork_version_slot = max(signature_slot, 1) - 1
    fork_version = compute_fork_version(compute_epoch_at_slot(fork_version_slot, config), config)
    domain = compute_domain(DOMAIN_SYNC_COMMITTEE, fork_version, config.genesis_validators_root)
    signing_root = compute_signing_root(attested_header, domain)
    if not bls.fast_aggregate_verify(
        pubkeys, signing_root, aggregate.sync_committee_signature, backend=bls_backend
    ):
        raise BadSignature(
            f"sync committee signature of {len(pubkeys)} participants does not verify",
            check="sync-aggregate",
            participants=len(pubkeys),
        )


def apply_light_client_update(
    store: LightClientStore, update: LightClientUpdate, config: BeaconConfig
) -> LightClientStore:
    """The spec's ``apply_light_client_update``: the only function that moves the store on."""
    store_period = compute_sync_committee_period_at_slot(store.finalized_header.beacon.slot, config)
    finalized_period = compute_sync_committee_period_at_slot(
        update.finalized_header.beacon.slot, config
    )
    if not is_next_sync_committee_known(store):
        if finalized_period != store_period:
            raise InvalidHeader(
                "cannot apply an update finalizing another period before the next committee "
                "is known",
                check="apply-period",
            )
        store = replace(store, next_sync_committee=update.next_sync_committee)
    elif finalized_period == store_period + 1:
        store = replace(
            store,
            current_sync_committee=store.next_sync_committee,
            next_sync_committee=update.next_sync_committee,
            previous_max_active_participants=store.current_max_active_participants,
            current_max_active_participants=0,
        )
    if update.finalized_header.beacon.slot > store.finalized_header.beacon.slot:
        store = replace(store, finalized_header=update.finalized_header)
        if store.finalized_header.beacon.slot > store.optimistic_header.beacon.slot:
            store = replace(store, optimistic_header=store.finalized_header)
    return store


def process_light_client_store_force_update(
    store: LightClientStore, current_slot: int, config: BeaconConfig
) -> LightClientStore:
    """After ``UPDATE_TIMEOUT`` without finality, apply the best valid update seen.

    SECURITY: a forced update trusts a header that no finality proof backs
    (only its sync-committee signature); callers use it only when sync is stuck.
    """
    best = store.best_valid_update
    if not (
        current_slot > store.finalized_header.beacon.slot + config.update_timeout
        and best is not None
    ):
        return store
    if best.finalized_header.beacon.slot <= store.finalized_header.beacon.slot:
        best = replace(best, finalized_header=best.attested_header)
    store = apply_light_client_update(store, best, config)
    return replace(store, best_valid_update=None)


def process_light_client_update(
    store: LightClientStore,
    update: LightClientUpdate,
    current_slot: int,
    config: BeaconConfig,
    *,
    bls_backend: str | None = None,
) -> LightClientStore:
    """Validate ``update`` then return the store it leads to (spec ``process_light_client_update``).

    The finalized header advances only with a supermajority (``3 * participants
    >= 2 * committee size``); the optimistic header advances with more
    participants than the safety threshold.
    """
    validate_light_client_update(store, update, current_slot, config, bls_backend=bls_backend)
    participants = update.sync_aggregate.participants
    if store.best_valid_update is None or is_better_update(update, store.best_valid_update, config):
        store = replace(store, best_valid_update=update)
    store = replace(
        store,
        current_max_active_participants=max(store.current_max_active_participants, participants),
    )
    if (
        participants > get_safety_threshold(store)
        and update.attested_header.beacon.slot > store.optimistic_header.beacon.slot
    ):
        store = replace(store, optimistic_header=update.attested_header)

    def period(slot: int) -> int:
        return compute_sync_committee_period_at_slot(slot, config)

    has_finalized_next_committee = (
        not is_next_sync_committee_known(store)
        and is_sync_committee_update(update)
        and is_finality_update(update)
        and period(update.finalized_header.beacon.slot)
        == period(update.attested_header.beacon.slot)
    )
    size = len(update.sync_aggregate.sync_committee_bits)
    if participants * 3 >= size * 2 and (
        update.finalized_header.beacon.slot > store.finalized_header.beacon.slot
        or has_finalized_next_committee
    ):
        store = apply_light_client_update(store, update, config)
        store = replace(store, best_valid_update=None)
    return store


def _empty_branch(length: int) -> tuple[bytes, ...]:
    return (ZERO_ROOT,) * length


def _next_committee_depth(slot: int, config: BeaconConfig) -> int:
    return floorlog2(next_sync_committee_gindex_at_slot(slot, config))


def process_light_client_finality_update(
    store: LightClientStore,
    finality_update: LightClientFinalityUpdate,
    current_slot: int,
    config: BeaconConfig,
    *,
    bls_backend: str | None = None,
) -> LightClientStore:
    """A finality update, processed as an update without a next sync committee."""
    update = LightClientUpdate(
        attested_header=finality_update.attested_header,
        next_sync_committee=empty_sync_committee(config.sync_committee_size),
        next_sync_committee_branch=_empty_branch(
            _next_committee_depth(finality_update.attested_header.beacon.slot, config)
        ),
        finalized_header=finality_update.finalized_header,
        finality_branch=finality_update.finality_branch,
        sync_aggregate=finality_update.sync_aggregate,
        signature_slot=finality_update.signature_slot,
    )
    return process_light_client_update(store, update, current_slot, config, bls_backend=bls_backend)


def process_light_client_optimistic_update(
    store: LightClientStore,
    optimistic_update: LightClientOptimisticUpdate,
    current_slot: int,
    config: BeaconConfig,
    *,
    bls_backend: str | None = None,
) -> LightClientStore:
    """An optimistic update, processed as an update without finality or next committee."""
    slot = optimistic_update.attested_header.beacon.slot
    update = LightClientUpdate(
        attested_header=optimistic_update.attested_header,
        next_sync_committee=empty_sync_committee(config.sync_committee_size),
        next_sync_committee_branch=_empty_branch(_next_committee_depth(slot, config)),
        finalized_header=LightClientHeader(),
        finality_branch=_empty_branch(floorlog2(finalized_root_gindex_at_slot(slot, config))),
        sync_aggregate=optimistic_update.sync_aggregate,
        signature_slot=optimistic_update.signature_slot,
    )
    return process_light_client_update(store, update, current_slot, config, bls_backend=bls_backend)


# --- finality policy ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyncCommitteeFinality:
    """Finality policy of Ethereum proof-of-stake: what the light-client store finalized.

    ``validate_finality(trusted, headers)`` links ``headers`` to ``trusted``
    (``keccak256(rlp(header))`` hashes) and returns the header whose hash is
    the store's finalized execution block hash; every ancestor of it is final
    too. ``InsufficientPower`` when the finalized block is not among
    ``headers`` (not reached yet, or older than the checkpoint).

    SECURITY: inherits the sync-committee trust assumption of the store.
    """

    store: LightClientStore
    name: str = "sync-committee"

    def compute_hash(self, header: EvmHeader) -> bytes:
        return compute_header_hash(header)

    def validate_finality(self, trusted: EvmHeader, headers: Sequence[EvmHeader]) -> EvmHeader:
        validate_header_chain(trusted, headers)
        execution = self.store.finalized_header.execution
        for header in headers:
            if header.number == execution.block_number:
                if compute_header_hash(header) != execution.block_hash:
                    raise RootMismatch(
                        f"header {header.number} is not the finalized execution block",
                        height=header.number,
                        expected="0x" + execution.block_hash.hex(),
                    )
                return header
        raise InsufficientPower(
            f"the finalized execution block {execution.block_number} is not among headers "
            f"{trusted.number + 1}..{trusted.number + len(headers)}",
            finalized=execution.block_number,
        )
