"""proofs.evm.sync_committee: the consensus-spec sync tests and real mainnet updates.

BLS: every vector runs on the facade's fast backend (milagro); the minimal-preset
spec tests (32-member committees) also run on the py_ecc reference backend. The
mainnet updates (512-member committees, ~5 s per signature on py_ecc) run on the
fast backend only, to keep the suite within its time budget.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.errors import (
    BadEncoding,
    BadProof,
    BadSignature,
    InsufficientPower,
    InvalidHeader,
    RootMismatch,
    ValueMismatch,
    VerificationError,
)
from proofs.evm.beacon import (
    MAINNET,
    ZERO_ROOT,
    BeaconConfig,
    LightClientBootstrap,
    LightClientHeader,
    LightClientUpdate,
    bootstrap_from_json,
    config_from_spec,
    decode_bootstrap,
    decode_update,
    finality_update_from_json,
    hash_tree_root_beacon_header,
    hash_tree_root_execution,
    optimistic_update_from_json,
    update_from_json,
)
from proofs.evm.finality import FinalityPolicy
from proofs.evm.header import compute_header_hash, decode_block_header, header_from_rpc
from proofs.evm.sync_committee import (
    LightClientStore,
    SyncCommitteeFinality,
    compute_domain,
    compute_fork_version,
    compute_slot_at_time,
    initialize_light_client_store,
    is_better_update,
    process_light_client_finality_update,
    process_light_client_optimistic_update,
    process_light_client_store_force_update,
    process_light_client_update,
    validate_light_client_update,
)
from tests.proofs.evm._vectors import MPT, SYNC, expect_files, load_json

SPEC_DIR = SYNC / "consensus-spec-tests-minimal"
SPEC_CASES = expect_files(SPEC_DIR, "*/*", 6)
expect_files(SPEC_DIR, "*/*/*", 66)
HELIOS = SYNC / "helios-mainnet-capella"
expect_files(HELIOS, "*.json", 5)
FAST = "fast"


# --- consensus-spec-tests (minimal preset, deneb and electra) ---------------------------


@dataclasses.dataclass(frozen=True)
class SpecCase:
    fork: str
    path: Path
    config: BeaconConfig
    trusted_block_root: bytes
    bootstrap: LightClientBootstrap
    steps: list[dict[str, Any]]

    def update(self, stem: str) -> LightClientUpdate:
        return decode_update(_hex(self.path / f"{stem}.ssz.hex"), self.fork, self.config)


def _hex(path: Path) -> bytes:
    return bytes.fromhex(path.read_text().strip().removeprefix("0x"))


@cache
def spec_case(relative: str) -> SpecCase:
    path = SPEC_DIR / relative
    meta = yaml.safe_load((path / "meta.yaml").read_text())
    assert meta["bootstrap_fork_digest"] == meta["store_fork_digest"]
    config = config_from_spec(
        yaml.safe_load((path / "config.yaml").read_text()),
        bytes.fromhex(meta["genesis_validators_root"][2:]),
        name=relative,
    )
    fork = path.parent.name
    return SpecCase(
        fork=fork,
        path=path,
        config=config,
        trusted_block_root=bytes.fromhex(meta["trusted_block_root"][2:]),
        bootstrap=decode_bootstrap(_hex(path / "bootstrap.ssz.hex"), fork, config),
        steps=yaml.safe_load((path / "steps.yaml").read_text()),
    )


CASE_IDS = [f"{p.parent.name}/{p.name}" for p in SPEC_CASES]


def _check_header(header: LightClientHeader, expected: dict[str, Any]) -> None:
    assert header.beacon.slot == expected["slot"]
    assert "0x" + hash_tree_root_beacon_header(header.beacon).hex() == expected["beacon_root"]
    assert (
        "0x" + hash_tree_root_execution(header.execution, deneb=True).hex()
        == expected["execution_root"]
    )


def _run_spec_case(case: SpecCase, backend: str) -> LightClientStore:
    store = initialize_light_client_store(case.trusted_block_root, case.bootstrap, case.config)
    for step in case.steps:
        ((kind, body),) = step.items()
        if kind == "process_update":
            update = case.update(body["update"])
            store = process_light_client_update(
                store, update, body["current_slot"], case.config, bls_backend=backend
            )
        else:
            assert kind == "force_update"
            store = process_light_client_store_force_update(
                store, body["current_slot"], case.config
            )
        _check_header(store.finalized_header, body["checks"]["finalized_header"])
        _check_header(store.optimistic_header, body["checks"]["optimistic_header"])
    return store


@pytest.mark.parametrize("relative", CASE_IDS)
@pytest.mark.parametrize("backend", [FAST, "py_ecc"])
def test_spec_sync_case_reaches_every_expected_store(relative: str, backend: str) -> None:
    _run_spec_case(spec_case(relative), backend)


def test_spec_cases_cover_both_forks_and_all_three_scenarios() -> None:
    assert sorted(CASE_IDS) == sorted(
        f"{fork}/{name}"
        for fork in ("deneb", "electra")
        for name in (
            "advance_finality_without_sync_committee",
            "light_client_sync",
            "supply_sync_committee_from_past_update",
        )
    )


@pytest.mark.parametrize("relative", CASE_IDS)
def test_bootstrap_needs_the_trusted_root_and_a_valid_committee_branch(relative: str) -> None:
    case = spec_case(relative)
    boot = case.bootstrap
    with pytest.raises(RootMismatch) as info:
        initialize_light_client_store(bytes(32), boot, case.config)
    assert info.value.details["check"] == "trusted-block-root"
    bad_branch = (b"\x01" * 32, *boot.current_sync_committee_branch[1:])
    with pytest.raises(RootMismatch) as info:
        initialize_light_client_store(
            case.trusted_block_root,
            dataclasses.replace(boot, current_sync_committee_branch=bad_branch),
            case.config,
        )
    assert info.value.details["check"] == "current-sync-committee-branch"
    header = boot.header
    bad_header = dataclasses.replace(
        header, execution=dataclasses.replace(header.execution, gas_used=1)
    )
    with pytest.raises(RootMismatch) as info:
        initialize_light_client_store(
            case.trusted_block_root, dataclasses.replace(boot, header=bad_header), case.config
        )
    assert info.value.details["check"] == "bootstrap-header"


def test_electra_branches_are_one_node_deeper_than_deneb() -> None:
    deneb = spec_case("deneb/light_client_sync").bootstrap
    electra = spec_case("electra/light_client_sync").bootstrap
    assert len(deneb.current_sync_committee_branch) == 5
    assert len(electra.current_sync_committee_branch) == 6


def test_ssz_decoding_rejects_truncated_and_wrong_fork_data() -> None:
    case = spec_case("deneb/light_client_sync")
    data = _hex(case.path / "bootstrap.ssz.hex")
    with pytest.raises(BadEncoding):
        decode_bootstrap(data[:-1], "deneb", case.config)
    with pytest.raises(BadEncoding):
        decode_bootstrap(data, "electra", case.config)  # branch of 5 where electra has 6


# --- malleate one update of the deneb light_client_sync case ----------------------------

DENEB = "deneb/light_client_sync"


@cache
def _deneb_store_and_updates() -> tuple[LightClientStore, LightClientUpdate, LightClientUpdate]:
    """The bootstrapped store, the first update (applied at slot 41) and the second one."""
    case = spec_case(DENEB)
    store = initialize_light_client_store(case.trusted_block_root, case.bootstrap, case.config)
    first = case.update(case.steps[0]["process_update"]["update"])
    second = case.update(case.steps[1]["process_update"]["update"])
    return store, first, second


def _flip(node: bytes) -> bytes:
    return bytes([node[0] ^ 1]) + node[1:]


def _malleate(update: LightClientUpdate, name: str) -> LightClientUpdate:
    bits = update.sync_aggregate.sync_committee_bits
    aggregate = update.sync_aggregate
    attested = update.attested_header
    rows = {
        "no-participant": lambda: update.replace(
            sync_aggregate=dataclasses.replace(aggregate, sync_committee_bits=(False,) * len(bits))
        ),
        "one-participant-dropped": lambda: update.replace(
            sync_aggregate=dataclasses.replace(aggregate, sync_committee_bits=(False, *bits[1:]))
        ),
        "signature-of-another-update": lambda: update.replace(
            sync_aggregate=_deneb_store_and_updates()[2].sync_aggregate
        ),
        "attested-execution-branch": lambda: update.replace(
            attested_header=dataclasses.replace(
                attested,
                execution_branch=(
                    _flip(attested.execution_branch[0]),
                    *attested.execution_branch[1:],
                ),
            )
        ),
        "signature-after-current-slot": lambda: update.replace(signature_slot=42),
        "signature-at-attested-slot": lambda: update.replace(signature_slot=attested.beacon.slot),
        "signature-two-periods-ahead": lambda: update.replace(signature_slot=41 + 128),
        "finality-branch": lambda: update.replace(
            finality_branch=(_flip(update.finality_branch[0]), *update.finality_branch[1:])
        ),
        "finalized-header-swapped": lambda: update.replace(
            finalized_header=_deneb_store_and_updates()[0].finalized_header  # the bootstrap's
        ),
        "finalized-header-without-branch": lambda: update.replace(
            finality_branch=(ZERO_ROOT,) * len(update.finality_branch)
        ),
        "next-committee-branch": lambda: update.replace(
            next_sync_committee_branch=(
                _flip(update.next_sync_committee_branch[0]),
                *update.next_sync_committee_branch[1:],
            )
        ),
        "next-committee-zeroed-key": lambda: update.replace(
            next_sync_committee=dataclasses.replace(
                update.next_sync_committee,
                pubkeys=(bytes(48), *update.next_sync_committee.pubkeys[1:]),
            )
        ),
        "next-committee-without-branch": lambda: update.replace(
            next_sync_committee_branch=(ZERO_ROOT,) * len(update.next_sync_committee_branch)
        ),
        "short-next-committee-branch": lambda: update.replace(
            next_sync_committee_branch=update.next_sync_committee_branch[1:]
        ),
    }
    return rows[name]()


MALLEATE = [
    ("no-participant", InsufficientPower, None),
    ("one-participant-dropped", BadSignature, "sync-aggregate"),
    ("signature-of-another-update", BadSignature, "sync-aggregate"),
    ("attested-execution-branch", RootMismatch, "attested-header"),
    ("signature-after-current-slot", InvalidHeader, "slot-order"),
    ("signature-at-attested-slot", InvalidHeader, "slot-order"),
    ("signature-two-periods-ahead", InvalidHeader, "period"),
    ("finality-branch", RootMismatch, "finality-branch"),
    ("finalized-header-swapped", RootMismatch, "finality-branch"),
    ("finalized-header-without-branch", BadEncoding, "finalized-header"),
    ("next-committee-branch", RootMismatch, "next-sync-committee-branch"),
    ("next-committee-zeroed-key", RootMismatch, "next-sync-committee-branch"),
    ("next-committee-without-branch", BadEncoding, "next-sync-committee"),
    ("short-next-committee-branch", BadProof, "next-sync-committee-branch"),
]


def test_the_unbroken_update_is_accepted() -> None:
    store, first, _ = _deneb_store_and_updates()
    validate_light_client_update(store, first, 41, spec_case(DENEB).config, bls_backend=FAST)


@pytest.mark.parametrize(("name", "error", "check"), MALLEATE, ids=[m[0] for m in MALLEATE])
def test_malleated_update_fails_with_its_error(name: str, error: type, check: str | None) -> None:
    store, first, _ = _deneb_store_and_updates()
    config = spec_case(DENEB).config
    current_slot = 41 + 128 if name == "signature-two-periods-ahead" else 41
    with pytest.raises(error) as info:
        validate_light_client_update(
            store, _malleate(first, name), current_slot, config, bls_backend=FAST
        )
    assert type(info.value) is error, info.value
    assert info.value.details.get("check") == check


def test_an_update_already_applied_is_no_longer_relevant() -> None:
    store, first, _ = _deneb_store_and_updates()
    config = spec_case(DENEB).config
    after = process_light_client_update(store, first, 41, config, bls_backend=FAST)
    older = first.replace(
        next_sync_committee_branch=(ZERO_ROOT,) * 5,
        next_sync_committee=dataclasses.replace(
            first.next_sync_committee,
            pubkeys=(bytes(48),) * config.sync_committee_size,
            aggregate_pubkey=bytes(48),
        ),
    )
    after = dataclasses.replace(after, finalized_header=first.attested_header)
    with pytest.raises(VerificationError) as info:
        validate_light_client_update(after, older, 41, config, bls_backend=FAST)
    assert info.value.details["check"] == "not-relevant"


def test_a_different_next_committee_for_a_known_period_is_a_value_mismatch() -> None:
    store, first, _ = _deneb_store_and_updates()
    config = spec_case(DENEB).config
    # a store that already knows another next committee for the period of `first`
    known = dataclasses.replace(
        first.next_sync_committee, pubkeys=tuple(reversed(first.next_sync_committee.pubkeys))
    )
    forged_store = dataclasses.replace(store, next_sync_committee=known)
    with pytest.raises(ValueMismatch) as info:
        validate_light_client_update(forged_store, first, 41, config, bls_backend=FAST)
    assert info.value.details["check"] == "next-sync-committee"


def test_is_better_update_prefers_supermajority_then_finality() -> None:
    store, first, second = _deneb_store_and_updates()
    config = spec_case(DENEB).config
    assert not is_better_update(first, first, config)
    weaker = first.replace(
        sync_aggregate=dataclasses.replace(
            first.sync_aggregate, sync_committee_bits=(True,) * 8 + (False,) * 24
        )
    )
    assert is_better_update(first, weaker, config)
    assert not is_better_update(weaker, first, config)
    assert store.best_valid_update is None
    assert second.signature_slot > first.signature_slot


# --- real mainnet data (helios, capella) ------------------------------------------------

EXPECTED = load_json(HELIOS / "EXPECTED.derived.json")
CHECKPOINT = bytes.fromhex(EXPECTED["trusted_checkpoint_block_root"][2:])


def test_mainnet_constants_match_the_derived_expectations() -> None:
    assert MAINNET.genesis_validators_root.hex() == EXPECTED["genesis_validators_root"][2:]
    assert compute_fork_version(7061720 // 32, MAINNET).hex() == "03000000"
    assert MAINNET.slots_per_period == EXPECTED["slots_per_sync_committee_period"]


@cache
def mainnet_objects() -> dict[str, Any]:
    updates = load_json(HELIOS / "updates.json")
    assert len(updates) == 6
    assert all(u["version"] == "capella" for u in updates)
    return {
        "bootstrap": bootstrap_from_json(load_json(HELIOS / "bootstrap.json"), MAINNET),
        "updates": [update_from_json(u, MAINNET) for u in updates],
        "finality": finality_update_from_json(load_json(HELIOS / "finality.json"), MAINNET),
        "optimistic": optimistic_update_from_json(load_json(HELIOS / "optimistic.json"), MAINNET),
    }


@cache
def mainnet_stores() -> list[LightClientStore]:
    """The store after the bootstrap and after each of the 6 updates."""
    objects = mainnet_objects()
    stores = [initialize_light_client_store(CHECKPOINT, objects["bootstrap"], MAINNET)]
    for update in objects["updates"]:
        stores.append(
            process_light_client_update(
                stores[-1], update, update.signature_slot, MAINNET, bls_backend=FAST
            )
        )
    return stores


def test_mainnet_bootstrap_and_six_updates_walk_six_periods() -> None:
    stores = mainnet_stores()
    participants = [u.sync_aggregate.participants for u in mainnet_objects()["updates"]]
    assert participants == [511, 512, 511, 510, 512, 512]
    periods = [s.finalized_header.beacon.slot // 8192 for s in stores]
    assert periods == [862, 862, 863, 864, 865, 866, 867]
    # updates[0] is older than the bootstrap header: it only brings the next committee
    assert stores[1].finalized_header == stores[0].finalized_header
    assert stores[1].next_sync_committee == mainnet_objects()["updates"][0].next_sync_committee
    for store, update in zip(stores[2:], mainnet_objects()["updates"][1:], strict=True):
        assert store.finalized_header == update.finalized_header
        assert store.current_sync_committee != store.next_sync_committee


def test_mainnet_finality_and_optimistic_updates_advance_the_store() -> None:
    objects = mainnet_objects()
    finality = objects["finality"]
    store = process_light_client_finality_update(
        mainnet_stores()[-1], finality, finality.signature_slot, MAINNET, bls_backend=FAST
    )
    assert store.finalized_header == finality.finalized_header
    assert store.finalized_header.beacon.slot == 7109344
    assert store.finalized_header.execution.block_number == 17923026
    optimistic = objects["optimistic"]
    store = process_light_client_optimistic_update(
        store, optimistic, optimistic.signature_slot, MAINNET, bls_backend=FAST
    )
    assert store.optimistic_header.beacon.slot == 7109431
    assert store.finalized_header.beacon.slot == 7109344


def _finality_as_update() -> tuple[LightClientStore, LightClientUpdate]:
    finality = mainnet_objects()["finality"]
    update = LightClientUpdate(
        attested_header=finality.attested_header,
        next_sync_committee=dataclasses.replace(
            mainnet_stores()[0].next_sync_committee
        ),  # empty committee
        next_sync_committee_branch=(ZERO_ROOT,) * 5,
        finalized_header=finality.finalized_header,
        finality_branch=finality.finality_branch,
        sync_aggregate=finality.sync_aggregate,
        signature_slot=finality.signature_slot,
    )
    return mainnet_stores()[-1], update


def test_mainnet_finality_update_tampered_attested_slot_is_rejected() -> None:
    store, update = _finality_as_update()
    attested = update.attested_header
    tampered = update.replace(
        attested_header=dataclasses.replace(
            attested, beacon=dataclasses.replace(attested.beacon, slot=attested.beacon.slot + 1)
        )
    )
    # as EXPECTED.derived.json tampers it: the attested slot now equals the signature slot
    with pytest.raises(VerificationError) as info:
        validate_light_client_update(
            store, tampered, update.signature_slot, MAINNET, bls_backend=FAST
        )
    assert info.value.details["check"] == "slot-order"
    # with the signature slot moved along, the check reaches the signature, which fails
    moved = tampered.replace(signature_slot=update.signature_slot + 1)
    with pytest.raises(BadSignature):
        validate_light_client_update(
            store, moved, update.signature_slot + 1, MAINNET, bls_backend=FAST
        )


def test_mainnet_finality_update_with_the_wrong_committee_fails() -> None:
    store, update = _finality_as_update()
    wrong = dataclasses.replace(
        store, current_sync_committee=mainnet_objects()["updates"][5].next_sync_committee
    )
    with pytest.raises(BadSignature):
        validate_light_client_update(
            wrong, update, update.signature_slot, MAINNET, bls_backend=FAST
        )


def test_mainnet_finality_update_under_the_bellatrix_fork_version_fails() -> None:
    store, update = _finality_as_update()
    forks = tuple(
        (epoch, bytes.fromhex("02000000") if version.hex() == "03000000" else version)
        for epoch, version in MAINNET.fork_versions
    )
    bellatrix = dataclasses.replace(MAINNET, fork_versions=forks)
    validate_light_client_update(store, update, update.signature_slot, MAINNET, bls_backend=FAST)
    with pytest.raises(BadSignature):
        validate_light_client_update(
            store, update, update.signature_slot, bellatrix, bls_backend=FAST
        )


def test_domain_is_the_domain_type_and_the_fork_data_root_prefix() -> None:
    domain = compute_domain(
        bytes.fromhex("07000000"), bytes.fromhex("03000000"), MAINNET.genesis_validators_root
    )
    assert domain[:4] == bytes.fromhex("07000000")
    assert len(domain) == 32


def test_slot_is_computed_from_a_clock_passed_in() -> None:
    mainnet_genesis_time = 1606824023
    assert compute_slot_at_time(mainnet_genesis_time + 12 * 7109432 + 5, mainnet_genesis_time) == (
        7109432
    )
    assert compute_slot_at_time(0, mainnet_genesis_time) == 0


# --- the finality policy over execution headers -----------------------------------------


def _mainnet_el_chain() -> list[Any]:
    genesis_rlp = load_json(MPT / "ethereum-tests" / "BasicTests" / "genesishashestest.json")
    genesis = decode_block_header(bytes.fromhex(genesis_rlp["genesis_rlp_hex"]))
    path = MPT / "ethereumjs" / "rpc-block-headers" / "blocks_mainnet.json"
    return [genesis, *(header_from_rpc(item["header"]) for item in load_json(path))]


def _store_finalizing(block_hash: bytes, number: int) -> LightClientStore:
    """A store whose finalized execution block is set by hand (glue test only)."""
    store = mainnet_stores()[0]
    execution = dataclasses.replace(
        store.finalized_header.execution, block_hash=block_hash, block_number=number
    )
    return dataclasses.replace(
        store, finalized_header=dataclasses.replace(store.finalized_header, execution=execution)
    )


def test_sync_committee_policy_returns_the_finalized_execution_header() -> None:
    chain = _mainnet_el_chain()
    policy = SyncCommitteeFinality(_store_finalizing(compute_header_hash(chain[4]), 4))
    assert isinstance(policy, FinalityPolicy)
    assert policy.validate_finality(chain[0], chain[1:]) == chain[4]
    with pytest.raises(InsufficientPower):
        policy.validate_finality(chain[0], chain[1:3])
    forged = SyncCommitteeFinality(_store_finalizing(b"\x01" * 32, 4))
    with pytest.raises(RootMismatch):
        forged.validate_finality(chain[0], chain[1:])


# --- SSZ of the finality and optimistic updates (built from a spec-test update) ---------


@pytest.mark.parametrize("fork", ["deneb", "electra"])
def test_finality_and_optimistic_updates_decode_from_ssz(fork: str) -> None:
    from proofs.evm.beacon import decode_finality_update, decode_optimistic_update, ssz_types

    case = spec_case(f"{fork}/light_client_sync")
    stem = case.steps[0]["process_update"]["update"]
    types = ssz_types(fork, case.config.sync_committee_size)
    view = types.LightClientUpdate.decode_bytes(_hex(case.path / f"{stem}.ssz.hex"))
    finality_ssz = types.LightClientFinalityUpdate(
        attested_header=view.attested_header,
        finalized_header=view.finalized_header,
        finality_branch=view.finality_branch,
        sync_aggregate=view.sync_aggregate,
        signature_slot=view.signature_slot,
    ).encode_bytes()
    optimistic_ssz = types.LightClientOptimisticUpdate(
        attested_header=view.attested_header,
        sync_aggregate=view.sync_aggregate,
        signature_slot=view.signature_slot,
    ).encode_bytes()
    update = case.update(stem)
    finality = decode_finality_update(finality_ssz, fork, case.config)
    optimistic = decode_optimistic_update(optimistic_ssz, fork, case.config)
    assert finality.finalized_header == update.finalized_header
    assert finality.finality_branch == update.finality_branch
    assert optimistic.attested_header == update.attested_header
    assert optimistic.sync_aggregate == update.sync_aggregate
    with pytest.raises(BadEncoding):
        decode_optimistic_update(finality_ssz, fork, case.config)
    # processed on a fresh store, the finality update finalizes what the full update does
    store = initialize_light_client_store(case.trusted_block_root, case.bootstrap, case.config)
    slot = case.steps[0]["process_update"]["current_slot"]
    after = process_light_client_finality_update(
        store, finality, slot, case.config, bls_backend=FAST
    )
    assert after.optimistic_header == update.attested_header
