"""In-memory signers, keystore files and signer references: what opens, and each refusal
(one broken field per row), none of them quoting a key, password or PIN."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from eth_account import Account

from adapters.signers import LocalSigner, open_signer
from adapters.signers.ecdsa_form import ORDERS
from adapters.signers.keystore_files import write_v3
from core.errors import ConfigError, InvalidInput
from core.seams import ED25519, P256, SECP256K1, Signer
from proofs.notary.ecdsa import EVM_BRIDGE, recover, sign

SECRET = hashlib.sha256(b"refs-test-key").digest()
PASSWORD = "correct horse battery staple"
DIGEST = hashlib.sha256(b"a digest").digest()


def test_a_local_secp256k1_signer_signs_as_the_notary_rule_does() -> None:
    signer = LocalSigner(SECRET, SECP256K1)
    assert isinstance(signer, Signer)
    assert signer.sign_digest(DIGEST) == sign(SECRET, DIGEST)
    address = recover(DIGEST, signer.sign_digest(DIGEST), EVM_BRIDGE)
    assert "0x" + address.hex() == Account.from_key(SECRET).address.lower()


def test_a_local_p256_signer_gives_low_s_and_the_recovering_v() -> None:
    signer = LocalSigner(SECRET, P256)
    verifying = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), signer.public_key)
    for i in range(16):
        digest = hashlib.sha256(bytes([i])).digest()
        signature = signer.sign_digest(digest)
        s = int.from_bytes(signature[32:64], "big")
        assert s <= ORDERS[P256] // 2
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), s)
        verifying.verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))


def test_no_repr_shows_the_secret() -> None:
    for scheme in (SECP256K1, P256, ED25519):
        assert SECRET.hex() not in repr(LocalSigner(SECRET, scheme))


def test_a_keystore_file_opens_as_a_signer_with_the_password_from_the_environment(
    tmp_path: Path,
) -> None:
    path = tmp_path / "notary-1.json"
    write_v3(path, SECRET, PASSWORD, "notary-1", scrypt_n=2**4)
    assert path.stat().st_mode & 0o777 == 0o600
    signer = open_signer(f"keystore:{path}", env={"PJGW_KEYSTORE_PASSWORD": PASSWORD})
    assert signer.label == "keystore:notary-1"
    assert signer.sign_digest(DIGEST) == sign(SECRET, DIGEST)
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    again = open_signer(f"keystore:{path}?password-file={password_file}", env={})
    assert again.public_key == signer.public_key


@pytest.mark.parametrize(
    ("ref", "env", "refusal"),
    [
        ("file:{key}", {}, "development only"),
        ("keystore:{store}", {}, "no keystore password"),
        ("keystore:{store}", {"PJGW_KEYSTORE_PASSWORD": "wrong"}, "does not unlock"),
        ("keystore:{missing}", {"PJGW_KEYSTORE_PASSWORD": PASSWORD}, "no keystore file"),
        ("keystore:{store}?password-file={missing}", {}, "cannot read the keystore password"),
        ("pkcs11:token=t;object=k?module-path=/x.so&pin-value=1234", {}, "must not hold its PIN"),
        ("pkcs11:token=t?module-path=/x.so&pin-source=env:PIN", {"PIN": "1"}, "needs token="),
        ("pkcs11:token=t;object=k&pin-source=env:PIN", {"PIN": "1"}, "needs token="),
        ("pkcs11:token=t;object=k?module-path=/no/such.so", {}, "no PKCS#11 PIN"),
        ("vault:secret/notary", {}, "unknown signer reference kind"),
    ],
)
def test_a_reference_that_does_not_open_is_refused_without_secrets(
    tmp_path: Path, ref: str, env: dict[str, str], refusal: str
) -> None:
    key = tmp_path / "plain.key"
    key.write_text(SECRET.hex())
    store = tmp_path / "store.json"
    write_v3(store, SECRET, PASSWORD, "store", scrypt_n=2**4)
    filled = ref.format(key=key, store=store, missing=tmp_path / "missing")
    with pytest.raises(ConfigError, match=refusal) as caught:
        open_signer(filled, env=env)
    text = str(caught.value)
    assert SECRET.hex() not in text
    assert PASSWORD not in text


def test_a_plaintext_file_opens_only_with_the_insecure_flag(tmp_path: Path) -> None:
    key = tmp_path / "plain.key"
    key.write_text("0x" + SECRET.hex())
    signer = open_signer(f"file:{key}", insecure_plaintext=True)
    assert signer.sign_digest(DIGEST) == sign(SECRET, DIGEST)


@pytest.mark.parametrize(
    ("secret", "scheme", "refusal"),
    [
        (b"\x00" * 32, SECP256K1, "not a valid secp256k1 secret"),
        (b"\xff" * 32, SECP256K1, "not a valid secp256k1 secret"),
        (SECRET[:31], SECP256K1, "32 bytes"),
        (SECRET, "rsa", "unknown signature scheme"),
    ],
)
def test_a_bad_secret_is_refused(secret: bytes, scheme: str, refusal: str) -> None:
    with pytest.raises(InvalidInput, match=refusal):
        LocalSigner(secret, scheme)


def test_a_digest_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(InvalidInput, match="32 bytes"):
        LocalSigner(SECRET).sign_digest(DIGEST[:31])
