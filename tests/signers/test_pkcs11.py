"""PKCS#11 signers against a real token (SoftHSM2): keys generated inside, never exported,
signatures normalised to low ``s`` with the ``v`` that recovers the token's key."""

from __future__ import annotations

import hashlib

import pkcs11
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from pkcs11 import Attribute, ObjectClass

from adapters.signers import open_signer
from adapters.signers.ecdsa_form import ORDERS
from adapters.signers.pkcs11 import Pkcs11Signer, TokenKey, _session, generate_key
from core.errors import ConfigError
from core.seams import P256, SECP256K1, Signer
from proofs.hashing import keccak256
from proofs.notary.ecdsa import EVM_BRIDGE, recover
from tests.fixtures.softhsm import SoftToken


def _digests(count: int) -> list[bytes]:
    return [hashlib.sha256(f"digest-{i}".encode()).digest() for i in range(count)]


def test_a_secp256k1_key_generated_in_the_token_signs_recoverable_low_s(
    softhsm_token: SoftToken,
) -> None:
    public = generate_key(softhsm_token.key("k1-notary"), SECP256K1)
    signer = Pkcs11Signer(softhsm_token.key("k1-notary"), SECP256K1)
    assert isinstance(signer, Signer)
    assert signer.public_key == public
    address = keccak256(public[1:])[12:]
    # 40 digests: the token returns high s about half the time, so both branches are taken
    for digest in _digests(40):
        signature = signer.sign_digest(digest)
        assert len(signature) == 65
        assert int.from_bytes(signature[32:64], "big") <= ORDERS[SECP256K1] // 2
        assert recover(digest, signature, EVM_BRIDGE) == address
    signer.close()


def test_a_p256_key_generated_in_the_token_signs_recoverable_low_s(
    softhsm_token: SoftToken,
) -> None:
    public = generate_key(softhsm_token.key("p256-key"), P256)
    signer = open_signer(softhsm_token.uri("p256-key"), P256)
    verifying = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public)
    for digest in _digests(20):
        signature = signer.sign_digest(digest)
        r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
        assert s <= ORDERS[P256] // 2
        assert v in (27, 28)
        der = encode_dss_signature(int.from_bytes(r, "big"), s)
        verifying.verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))  # raises if bad
    assert isinstance(signer, Pkcs11Signer)
    signer.close()


def test_the_private_key_never_leaves_the_token(softhsm_token: SoftToken) -> None:
    generate_key(softhsm_token.key("sealed"), SECP256K1)
    where = softhsm_token.key("sealed")
    token = pkcs11.lib(where.module).get_token(token_label=where.token)
    with _session(token, where.pin) as session:
        private = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label="sealed")
        assert private[Attribute.SENSITIVE] is True
        assert private[Attribute.EXTRACTABLE] is False
        with pytest.raises(pkcs11.PKCS11Error):
            private[Attribute.VALUE]


def test_a_label_is_generated_once(softhsm_token: SoftToken) -> None:
    generate_key(softhsm_token.key("once"), SECP256K1)
    with pytest.raises(ConfigError, match="already holds"):
        generate_key(softhsm_token.key("once"), SECP256K1)


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"token": "no-such-token"}, "does not open"),
        ({"pin": "wrong-pin"}, "does not open"),
        ({"label": "no-such-key"}, "holds no EC key pair"),
    ],
)
def test_a_token_key_that_does_not_open_is_refused_without_the_pin(
    softhsm_token: SoftToken, change: dict[str, str], refusal: str
) -> None:
    if not _exists(softhsm_token, "present"):
        generate_key(softhsm_token.key("present"), SECP256K1)
    where = softhsm_token.key("present")
    fields = {"module": where.module, "token": where.token, "label": where.label, "pin": where.pin}
    fields.update(change)
    with pytest.raises(ConfigError, match=refusal) as caught:
        Pkcs11Signer(TokenKey(**fields), SECP256K1)
    assert where.pin not in str(caught.value)
    assert "wrong-pin" not in str(caught.value)


def test_a_key_of_the_other_curve_is_refused(softhsm_token: SoftToken) -> None:
    generate_key(softhsm_token.key("curve-p256"), P256)
    with pytest.raises(ConfigError, match="not a secp256k1 key"):
        Pkcs11Signer(softhsm_token.key("curve-p256"), SECP256K1)


def _exists(token: SoftToken, label: str) -> bool:
    try:
        Pkcs11Signer(token.key(label), SECP256K1).close()
    except ConfigError:
        return False
    return True
