"""A notary whose key lives in a PKCS#11 token (SoftHSM2) attests, and ``Bridge.sol`` on
anvil accepts its signature: the token's r ‖ s, normalised to low ``s`` with the
recovering ``v``, is what ``ecrecover`` and the bridge's certificate rules want."""

from __future__ import annotations

from pathlib import Path

from eth_hash.auto import keccak

from adapters.evm.certificate import BridgeDomain, compute_packet_digest
from adapters.signers import open_signer
from adapters.signers.ecdsa_form import SECP256K1_N
from adapters.signers.pkcs11 import generate_key
from core.seams import SECP256K1
from notary.service import Notary
from proofs.hashing import keccak256
from proofs.notary.ecdsa import sign
from tests.fixtures.anvil import CHAIN_ID, LOCAL_CHAIN, Env
from tests.fixtures.softhsm import SoftToken


def test_a_notary_with_its_key_in_softhsm_attests_and_the_bridge_accepts_it(
    env: Env, softhsm_token: SoftToken, tmp_path: Path
) -> None:
    public = generate_key(softhsm_token.key("notary-hsm"), SECP256K1)
    hsm_address = "0x" + keccak256(public[1:])[12:].hex()
    signer = open_signer(softhsm_token.uri("notary-hsm"), SECP256K1)
    notary = Notary(signer, {}, {}, tmp_path / "notary")
    assert notary.address == hsm_address  # the notary signs as the token's key
    others = [keccak(f"hsm-test-local-{i}".encode()) for i in range(2)]
    local = {"0x" + keccak256(_public(k)[1:])[12:].hex(): k for k in others}
    members = sorted([hsm_address, *local], key=lambda a: int(a, 16))
    bridge = env.chain.deploy("Bridge", LOCAL_CHAIN, env.admin, members, 3, sender=env.admin)
    packet = env.inbound(sequence=77)
    digest = compute_packet_digest(BridgeDomain(CHAIN_ID, bridge.address), packet)
    assert bridge.view("packetDigest", packet.as_abi()) == digest
    # the token returns high s about half the time: normalised, every one verifies
    signatures = [notary._key.sign(digest) for _ in range(8)]
    assert all(int.from_bytes(s[32:64], "big") <= SECP256K1_N // 2 for s in signatures)
    certificate = [
        signatures[0] if member == hsm_address else sign(local[member], digest)
        for member in members
    ]
    bridge.transact("receivePacket", packet.as_abi(), certificate, sender=env.relayer)
    # and a certificate whose token signature is tampered with is refused by the bridge
    replay = env.inbound(sequence=78)
    digest = compute_packet_digest(BridgeDomain(CHAIN_ID, bridge.address), replay)
    tampered = bytearray(notary._key.sign(digest))
    tampered[64] = 55 - tampered[64]  # the other recovery id (27 <-> 28): another address
    bad = [
        bytes(tampered) if member == hsm_address else sign(local[member], digest)
        for member in members
    ]
    reason = bridge.revert_reason("receivePacket", replay.as_abi(), bad, sender=env.relayer)
    assert reason == "Bridge: signer not in committee"
    notary.close()
    signer.close()  # type: ignore[attr-defined]


def _public(key: bytes) -> bytes:
    from coincurve import PrivateKey

    return PrivateKey(key).public_key.format(compressed=False)
