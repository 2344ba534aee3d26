"""Wormhole mainnet VAAs through the hub's quorum code (``proofs.notary.wormhole``).

Vectors are read in place from ``../shared/vectors/wormhole-vaa`` (see its
PROVENANCE.md): the guardian-set upgrade chain 0 -> 7, then every mainnet
governance VAA against the set that signed it. Tampered variants are built by
changing exactly one thing of a valid VAA and must fail with the exact error.
"""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from pathlib import Path

import pytest

from core.errors import BadEncoding, VerificationError
from proofs.notary.errors import (
    DuplicateSigner,
    IndexOutOfRange,
    NotMember,
    OutOfOrder,
    TooFewSignatures,
    UnknownSet,
)
from proofs.notary.wormhole import (
    Vaa,
    compute_quorum,
    encode_vaa,
    parse_guardian_set_upgrade,
    parse_vaa,
    verify_vaa,
    walk_guardian_sets,
)
from tests.fixtures.vectors import vectors_dir

UPGRADES = "guardianset/mainnetv2/canonical_sets/guardianSetVAAs.csv"
MAINNET_FILES = (
    "deployments/mainnet/tokenBridgeVAAs.csv",
    "deployments/mainnet/nftBridgeVAAs.csv",
    "deployments/mainnet/standardRelayerVAAs.csv",
    "guardianset/mainnetv2/delegated_sets/delegatedGuardianSetVAAs.csv",
)
TESTNET_FILE = "deployments/testnet/tokenBridgeVAAs.csv"
TESTNET_GUARDIAN = "0x13947Bd48b18E53fdAeEe77F3473391aC727C638"  # PROVENANCE.md: testnet set 0


def root() -> Path:
    return vectors_dir() / "wormhole-vaa"


def read_csv(name: str) -> list[tuple[str, bytes]]:
    rows = []
    for line in (root() / name).read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            label, hex_vaa = line.rsplit(",", 1)
            rows.append((label, bytes.fromhex(hex_vaa.strip())))
    return rows


@cache
def derived() -> dict[str, object]:
    return json.loads((root() / "guardian_sets_mainnet.derived.json").read_text())


@cache
def mainnet_sets() -> dict[int, tuple[bytes, ...]]:
    """Sets 0..7, walked from set 0 (the INIT_SIGNERS) through the upgrade VAAs."""
    set0 = derived()["guardian_sets"]["0"]  # type: ignore[index]
    return walk_guardian_sets(set0, [vaa for _, vaa in read_csv(UPGRADES)])


def mainnet_vaas() -> list[tuple[str, bytes]]:
    return [row for name in MAINNET_FILES for row in read_csv(name)]


def test_the_upgrade_chain_walks_from_set_0_to_set_7_with_the_published_sets() -> None:
    sets = mainnet_sets()
    assert sorted(sets) == list(range(8))
    published = derived()["guardian_sets"]  # type: ignore[index]
    for index, guardians in sets.items():
        assert ["0x" + g.hex() for g in guardians] == published[str(index)]  # type: ignore[index]
    assert [len(sets[i]) for i in range(1, 8)] == [19] * 7


def test_every_upgrade_vaa_is_signed_by_the_previous_set_with_its_quorum() -> None:
    sets = mainnet_sets()
    for label, raw in read_csv(UPGRADES):
        vaa = parse_vaa(raw)
        new_index, _ = parse_guardian_set_upgrade(vaa)
        assert label == f"gs{new_index}"
        assert vaa.guardian_set_index == new_index - 1
        signers = verify_vaa(vaa, sets)
        assert len(signers) >= compute_quorum(len(sets[vaa.guardian_set_index]))


@pytest.mark.parametrize(("label", "raw"), mainnet_vaas(), ids=lambda v: str(v)[:32])
def test_every_mainnet_vaa_verifies_against_its_guardian_set(label: str, raw: bytes) -> None:
    vaa = parse_vaa(raw)
    signers = verify_vaa(vaa, mainnet_sets())
    assert len(signers) >= 13  # 13 of 19 on every mainnet set above 0
    assert set(signers) <= set(mainnet_sets()[vaa.guardian_set_index])


def test_mainnet_has_the_counts_provenance_lists() -> None:
    counts = [len(read_csv(name)) for name in MAINNET_FILES]
    assert counts == [26, 17, 11, 9]
    assert len(read_csv(UPGRADES)) == 7


def test_every_testnet_vaa_verifies_against_the_single_testnet_guardian() -> None:
    rows = read_csv(TESTNET_FILE)
    assert len(rows) == 45
    for _, raw in rows:
        assert len(verify_vaa(parse_vaa(raw), {0: [TESTNET_GUARDIAN]})) == 1


def test_quorum_is_two_thirds_plus_one() -> None:
    assert [compute_quorum(n) for n in (1, 3, 4, 19, 20)] == [1, 3, 3, 13, 14]


# --- tampered variants: exactly one change each, the exact error ----------------------------


def sample() -> Vaa:
    """A token-bridge registration signed by set 3 (13+ of 19)."""
    return parse_vaa(read_csv(MAINNET_FILES[0])[0][1])


def flipped_body_byte(vaa: Vaa) -> Vaa:
    body = bytearray(vaa.body)
    body[-1] ^= 0x01
    return dataclasses.replace(vaa, body=bytes(body))


def duplicated_signer(vaa: Vaa) -> Vaa:
    sigs = list(vaa.signatures)
    return dataclasses.replace(vaa, signatures=(*sigs[:2], sigs[1], *sigs[2:]))


def index_out_of_range(vaa: Vaa) -> Vaa:
    sigs = list(vaa.signatures)
    sigs[-1] = dataclasses.replace(sigs[-1], guardian_index=19)
    return dataclasses.replace(vaa, signatures=tuple(sigs))


def one_short_of_quorum(vaa: Vaa) -> Vaa:
    return dataclasses.replace(vaa, signatures=vaa.signatures[:12])


def descending_indices(vaa: Vaa) -> Vaa:
    sigs = list(vaa.signatures)
    sigs[0], sigs[1] = sigs[1], sigs[0]
    return dataclasses.replace(vaa, signatures=tuple(sigs))


def wrong_index_for_signature(vaa: Vaa) -> Vaa:
    """A signature moved to a free index that keeps the order: recovers to another guardian."""
    sigs = list(vaa.signatures)
    bounds = [-1, *(s.guardian_index for s in sigs), 19]
    for position in range(len(sigs)):
        low, high = bounds[position], bounds[position + 2]
        free = [i for i in range(low + 1, high) if i != sigs[position].guardian_index]
        if free:
            sigs[position] = dataclasses.replace(sigs[position], guardian_index=free[0])
            return dataclasses.replace(vaa, signatures=tuple(sigs))
    raise AssertionError("every guardian signed: no free index")


def other_guardian_set(vaa: Vaa) -> Vaa:
    return dataclasses.replace(vaa, guardian_set_index=4)


def unknown_guardian_set(vaa: Vaa) -> Vaa:
    return dataclasses.replace(vaa, guardian_set_index=8)


@pytest.mark.parametrize(
    ("tamper", "error"),
    [
        (flipped_body_byte, NotMember),
        (duplicated_signer, DuplicateSigner),
        (index_out_of_range, IndexOutOfRange),
        (one_short_of_quorum, TooFewSignatures),
        (descending_indices, OutOfOrder),
        (wrong_index_for_signature, NotMember),
        (other_guardian_set, NotMember),
        (unknown_guardian_set, UnknownSet),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_a_tampered_vaa_fails_with_the_exact_error(tamper, error) -> None:  # type: ignore[no-untyped-def]
    vaa = sample()
    assert len(vaa.signatures) >= 13
    verify_vaa(vaa, mainnet_sets())  # the untampered one verifies
    tampered = parse_vaa(encode_vaa(tamper(vaa)))  # and survives a byte round trip
    with pytest.raises(error):
        verify_vaa(tampered, mainnet_sets())


def test_exactly_the_quorum_of_signatures_still_verifies() -> None:
    vaa = sample()
    assert (
        len(verify_vaa(dataclasses.replace(vaa, signatures=vaa.signatures[:13]), mainnet_sets()))
        == 13
    )


def test_truncated_and_wrong_version_vaas_do_not_parse() -> None:
    raw = encode_vaa(sample())
    with pytest.raises(BadEncoding):
        parse_vaa(raw[:100])
    with pytest.raises(BadEncoding):
        parse_vaa(b"\x02" + raw[1:])


def test_the_upgrade_walk_refuses_a_skipped_or_reordered_upgrade() -> None:
    upgrades = [vaa for _, vaa in read_csv(UPGRADES)]
    set0 = derived()["guardian_sets"]["0"]  # type: ignore[index]
    with pytest.raises(VerificationError, match="signed by set 1"):
        walk_guardian_sets(set0, [upgrades[1]])
    with pytest.raises(VerificationError):
        walk_guardian_sets(set0, [upgrades[0], upgrades[2]])
    with pytest.raises(NotMember):  # set 1 cannot be installed by a stranger's set 0
        walk_guardian_sets([TESTNET_GUARDIAN], upgrades[:1])
