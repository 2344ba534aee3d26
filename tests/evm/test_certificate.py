"""The Python certificate agrees with the contract, byte for byte."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.evm.certificate import (
    HALF_N,
    BridgeDomain,
    NotarySignature,
    Packet,
    assemble_certificate,
    compute_packet_digest,
    compute_packet_hash,
    reference_packet_digest,
    sign_digest,
)
from core.errors import InvalidInput
from tests.fixtures.anvil import CHAIN_ID, Env, make_committee

PACKET = Packet(
    sequence=7,
    source_chain="pujiang-main",
    dest_chain="anvil-31337",
    sender=b"\x01" * 33,
    receiver=b"\x02" * 20,
    denom="pujiang-main/uusd",
    amount=12345,
    payload=b"",
    timeout_height=99,
    timeout_timestamp=1_900_000_000,
)


def test_packet_hash_and_digest_match_the_contract(env: Env) -> None:
    assert env.bridge.view("hashPacket", PACKET.as_abi()) == compute_packet_hash(PACKET)
    assert env.bridge.view("packetDigest", PACKET.as_abi()) == compute_packet_digest(
        env.domain, PACKET
    )


def test_domain_separator_matches_eip712(env: Env) -> None:
    typehash = keccak(
        b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    expected = keccak(
        typehash
        + keccak(b"PujiangBridge")
        + keccak(b"1")
        + CHAIN_ID.to_bytes(32, "big")
        + bytes(12)
        + bytes.fromhex(env.bridge.address[2:])
    )
    assert env.bridge.view("domainSeparator") == expected


@settings(max_examples=200, deadline=None)
@given(
    sequence=st.integers(0, 2**64 - 1),
    chains=st.tuples(st.text(max_size=40), st.text(max_size=40)),
    sender=st.binary(max_size=64),
    receiver=st.binary(max_size=64),
    denom=st.text(max_size=80),
    amount=st.integers(0, 2**256 - 1),
    payload=st.binary(max_size=300),
    timeouts=st.tuples(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1)),
    domain=st.tuples(st.integers(1, 2**64), st.binary(min_size=20, max_size=20)),
)
def test_the_fast_packet_digest_is_eip712_by_the_generic_encoder(
    sequence: int,
    chains: tuple[str, str],
    sender: bytes,
    receiver: bytes,
    denom: str,
    amount: int,
    payload: bytes,
    timeouts: tuple[int, int],
    domain: tuple[int, bytes],
) -> None:
    """``compute_packet_digest`` (cached domain separator + ``hashStruct``) equals
    eth-account's ``encode_typed_data`` digest for any packet and bridge."""
    packet = Packet(sequence, *chains, sender, receiver, denom, amount, payload, *timeouts)
    bridge = BridgeDomain(domain[0], "0x" + domain[1].hex())
    assert compute_packet_digest(bridge, packet) == reference_packet_digest(bridge, packet)


def test_digest_depends_on_the_domain() -> None:
    a = compute_packet_digest(BridgeDomain(1, "0x" + "11" * 20), PACKET)
    b = compute_packet_digest(BridgeDomain(2, "0x" + "11" * 20), PACKET)
    c = compute_packet_digest(BridgeDomain(1, "0x" + "22" * 20), PACKET)
    assert len({a, b, c}) == 3


def test_signatures_are_low_s_with_v_27_or_28_and_recover_the_signer() -> None:
    (notary,) = make_committee("sig", 1)
    for i in range(20):
        digest = keccak(i.to_bytes(4, "big"))
        sig = sign_digest(notary.key, digest)
        assert len(sig.signature) == 65
        assert int.from_bytes(sig.signature[32:64], "big") <= HALF_N
        assert sig.signature[64] in (27, 28)
        assert Account._recover_hash(digest, signature=sig.signature) == notary.address


def test_certificate_is_sorted_by_signer_and_refuses_a_signer_twice() -> None:
    notaries = make_committee("order", 3)
    digest = keccak(b"x")
    signatures = [sign_digest(n.key, digest) for n in reversed(notaries)]
    certificate = assemble_certificate(signatures)
    recovered = [Account._recover_hash(digest, signature=s) for s in certificate]
    assert recovered == [n.address for n in notaries]
    with pytest.raises(InvalidInput):
        assemble_certificate([*signatures, NotarySignature(signatures[0].signer.lower(), b"")])


def test_sign_rejects_a_digest_of_the_wrong_length() -> None:
    with pytest.raises(InvalidInput):
        sign_digest(Account.create().key, b"short")
