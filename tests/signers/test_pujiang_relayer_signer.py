"""The Pujiang adapter's relayer account through the signer seam: a keystore file of the
hub's own format signs exactly as the development seed does; the refusals are clear."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pydantic import SecretStr

from adapters.pujiang import PujiangAdapter, PujiangSettings
from adapters.pujiang.actions import TxSigner, build_signed_tx
from core.errors import ConfigError
from gateway.keystore import FileKeystore

SEED = hashlib.sha256(b"pujiang-relayer").digest()
PASSWORD = "pujiang-relayer-password"


def _settings(**changes: object) -> PujiangSettings:
    values: dict[str, object] = {"url": "http://127.0.0.1:9", "chain_id": "pj-1"}
    return PujiangSettings(**(values | changes))


def test_a_keystore_relayer_signer_signs_as_the_seed_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    FileKeystore(tmp_path, SecretStr(PASSWORD)).create("relayer", "pujiang", SEED, scrypt_n=2**4)
    monkeypatch.setenv("PJGW_KEYSTORE_PASSWORD", PASSWORD)
    adapter = PujiangAdapter(_settings(relayer_signer=f"keystore:{tmp_path / 'relayer.json'}"))
    signer = adapter._require_signer()
    seeded = TxSigner(SEED)
    assert signer.pubkey == seeded.pubkey
    args = [b"packet", b"certificate"]
    assert build_signed_tx(signer, "pj-1", 3, "bridge_recv", args) == build_signed_tx(
        seeded, "pj-1", 3, "bridge_recv", args
    )
    assert SEED.hex() not in repr(signer)


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({"relayer_signer": "file:/x/seed.key"}, "development only"),
        (
            {
                "relayer_signer": "file:/x/seed.key",
                "insecure_plaintext_key": True,
                "relayer_key": SEED.hex(),
            },
            "not both",
        ),
    ],
)
def test_a_relayer_signer_that_cannot_be_used_is_refused(
    changes: dict[str, object], refusal: str
) -> None:
    with pytest.raises(ConfigError, match=refusal):
        PujiangAdapter(_settings(**changes))


def test_a_plaintext_seed_file_opens_only_with_the_insecure_setting(tmp_path: Path) -> None:
    key = tmp_path / "seed.key"
    key.write_text(SEED.hex())
    adapter = PujiangAdapter(_settings(relayer_signer=f"file:{key}", insecure_plaintext_key=True))
    assert adapter._require_signer().pubkey == TxSigner(SEED).pubkey


def test_an_ethereum_keystore_file_is_refused_for_an_ed25519_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    FileKeystore(tmp_path, SecretStr(PASSWORD)).create("evm-key", "evm", SEED, scrypt_n=2**4)
    monkeypatch.setenv("PJGW_KEYSTORE_PASSWORD", PASSWORD)
    with pytest.raises(ConfigError, match="signs secp256k1, the chain wants ed25519"):
        PujiangAdapter(_settings(relayer_signer=f"keystore:{tmp_path / 'evm-key.json'}"))
