"""SM2 account signatures on a ``gm`` devnet (``--crypto gm``: SM3 hashes, SM2 accounts).

A gm transaction is accepted, its sender's address is ``SM3(04||x||y)[:20]``;
every malleation is refused with the reason a bad Ed25519 signature gets
today (``bad-signature``), and the two schemes never cross: an Ed25519
transaction on a gm chain and an SM2 one on a standard chain are both refused.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import rlp

from core.errors import ConfigError
from devnet import keys
from devnet.config import NodeConfig
from devnet.genesis import load_genesis
from devnet.txs import Reason, TxRejected
from proofs.hashing import sm3
from proofs.pujiang import accounts, codec
from tests.fixtures.devnet_chain import Chain


def reason_of(receipt: dict[str, object]) -> str:
    return str(receipt["reason"]).split(":")[0]


@pytest.fixture
def gm(chain_factory: Callable[..., Chain]) -> Chain:
    return chain_factory(hash_profile="sm3", account_scheme="sm2")


def _transfer(chain: Chain, who: int = 0) -> bytes:
    return chain.sign(who, "transfer", [chain.address(1), b"upj", 5], nonce=0)


def _malleate_byte(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def test_a_gm_transfer_is_accepted_and_its_sender_is_sm3_of_the_sm2_key(gm: Chain) -> None:
    receipt = gm.run1(0, "transfer", [gm.address(1), b"upj", 5])
    assert receipt["status"] == "committed"
    assert gm.balance(1, "upj") == 10**15 + 5
    tx = codec.decode_transaction(gm.sign(0, "transfer", [gm.address(1), b"upj", 1]))
    assert len(tx.pubkey) == accounts.SM2_PUBKEY_BYTES
    assert tx.pubkey[0] == 0x04
    assert len(tx.signature) == accounts.SM2_SIGNATURE_BYTES
    assert gm.address(0) == sm3(tx.pubkey)[:20]
    assert gm.node.genesis.accounts[0].address == gm.address(0)
    assert gm.node.query_status()["account_scheme"] == "sm2"


def _refused(chain: Chain, raw: bytes, message: str) -> None:
    with pytest.raises(TxRejected) as caught:
        chain.node.submit(raw)
    assert caught.value.reason is Reason.BAD_SIGNATURE
    assert caught.value.message == message
    assert reason_of(chain.run(raw)[0]) == Reason.BAD_SIGNATURE


@pytest.mark.parametrize("index", [0, 31, 32, 63])
def test_a_malleated_sm2_signature_byte_is_refused(gm: Chain, index: int) -> None:
    tx = codec.decode_transaction(_transfer(gm))
    forged = rlp.encode(tx.copy(signature=_malleate_byte(tx.signature, index)))
    _refused(gm, forged, "SM2 signature does not verify")


@pytest.mark.parametrize("index", [0, 1, 40, 64])
def test_a_malleated_sm2_pubkey_byte_is_refused(gm: Chain, index: int) -> None:
    tx = codec.decode_transaction(_transfer(gm))
    forged = rlp.encode(tx.copy(pubkey=_malleate_byte(tx.pubkey, index)))
    _refused(gm, forged, "SM2 signature does not verify")


def test_another_accounts_sm2_key_is_refused(gm: Chain) -> None:
    tx = codec.decode_transaction(_transfer(gm))
    swapped = rlp.encode(tx.copy(pubkey=gm.accounts[1].pubkey))
    _refused(gm, swapped, "SM2 signature does not verify")


def test_other_encodings_of_a_valid_sm2_signature_do_not_even_decode(gm: Chain) -> None:
    """One encoding each (65-byte key, 64-byte r||s): an x||y key or a DER signature is a
    transaction of another shape, refused as ``bad-encoding`` (so one tx has one hash)."""
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    tx = codec.decode_transaction(_transfer(gm))
    r, s = (int.from_bytes(tx.signature[i : i + 32], "big") for i in (0, 32))
    for pubkey, signature in (
        (tx.pubkey[1:], tx.signature),
        (tx.pubkey, encode_dss_signature(r, s)),
    ):
        raw = rlp.encode([tx.body, pubkey, signature])
        with pytest.raises(TxRejected) as caught:
            gm.node.submit(raw)
        assert caught.value.reason is Reason.BAD_ENCODING


def test_an_ed25519_transaction_on_a_gm_chain_is_refused(gm: Chain) -> None:
    ed = keys.account_key(gm.node.genesis.seed, 0)
    raw = keys.sign_tx(ed, gm.chain_id, 0, "transfer", [gm.address(1), b"upj", 5])
    _refused(gm, raw, "SM2 signature does not verify")


def test_an_sm2_transaction_on_a_standard_chain_is_refused(chain: Chain) -> None:
    sm2 = keys.scheme_account_key(chain.node.genesis.seed, 0, accounts.SM2)
    raw = keys.sign_tx(sm2, chain.chain_id, 0, "transfer", [chain.address(1), b"upj", 5])
    _refused(chain, raw, "Ed25519 signature does not verify")


def test_the_genesis_records_the_scheme_and_a_standard_genesis_hash_is_unchanged(
    gm: Chain, chain: Chain
) -> None:
    stored = load_genesis(gm.node.config.data_dir)
    assert stored is not None
    assert stored.account_scheme == "sm2"
    assert stored.crypto == "gm"
    standard = load_genesis(chain.node.config.data_dir)
    assert standard is not None
    assert standard.account_scheme == "ed25519"
    assert "account_scheme" not in chain.node.query_status()
    # the same genesis as sm2 would hash differently: the scheme is committed to
    from dataclasses import replace

    assert replace(standard, account_scheme="sm2").hash() != standard.hash()


def test_sm2_accounts_need_sm3_hashes(tmp_path: object) -> None:
    with pytest.raises(ConfigError):
        NodeConfig(data_dir=tmp_path, account_scheme="sm2")  # type: ignore[arg-type]


def test_crypto_gm_means_sm3_and_sm2_and_refuses_a_contradicting_hash() -> None:
    from devnet.cli import _crypto

    assert _crypto("gm", None) == ("sm3", "sm2")
    assert _crypto("gm", "sm3") == ("sm3", "sm2")
    assert _crypto("standard", None) == ("sha256", "ed25519")
    assert _crypto(None, "sm3") == ("sm3", None)  # --hash sm3 alone: Ed25519 accounts
    with pytest.raises(ConfigError, match="hashes with sm3"):
        _crypto("gm", "sha256")
    with pytest.raises(ConfigError, match="standard or gm"):
        _crypto("fips", None)


def test_a_gm_restart_keeps_its_scheme_and_refuses_another(
    gm: Chain, chain_factory: Callable[..., Chain]
) -> None:
    data_dir = gm.node.config.data_dir
    gm.node.close()
    again = chain_factory(data_dir=data_dir)  # options left out: taken from the genesis
    assert again.node.genesis.account_scheme == "sm2"
    again.node.close()
    with pytest.raises(ConfigError, match="account_scheme"):
        chain_factory(
            data_dir=data_dir,
            account_scheme="ed25519",
            explicit=frozenset({"account_scheme"}),
        )


def test_the_accounts_command_shows_the_sm2_seeds(gm: Chain) -> None:
    from typer.testing import CliRunner

    from devnet.cli import app

    result = CliRunner().invoke(app, ["accounts", "--data", str(gm.node.config.data_dir)])
    assert result.exit_code == 0, result.output
    assert "(sm3, sm2 accounts)" in result.output
    assert "0x" + gm.address(0).hex() in result.output


def test_a_standard_genesis_hash_is_the_seven_item_list_of_before(chain: Chain) -> None:
    """No ``account_scheme`` item on a standard chain: its genesis hash did not move."""
    g = chain.node.genesis
    accounts_list = [
        [a.address, [[d.encode(), n] for d, n in sorted(a.balances.items())]] for a in g.accounts
    ]
    before = rlp.encode(
        [
            b"pujiang/genesis/v1",
            g.chain_id_bytes,
            g.hash_profile.encode(),
            g.genesis_time_ms,
            list(g.validators),
            accounts_list,
            [g.notary_threshold, list(g.notaries)],
        ]
    )
    assert g.hash() == g.hash_fn(before)
    assert chain.address(0) == g.hash_fn(bytes(keys.account_key(g.seed, 0).verify_key))[:20]
