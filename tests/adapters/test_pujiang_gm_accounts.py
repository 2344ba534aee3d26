"""The Pujiang adapter on a ``gm`` chain: SM2 account signatures (hash profile sm3).

The relayer signer and hub-signed sends use SM2 when the chain's
``account_scheme`` is ``sm2``; a client-signed send is checked with the
chain's scheme (an Ed25519 one is refused on a gm chain, and the reverse);
a node whose scheme differs from the configured one is a config error. The
standard profile's bytes are pinned: the same seed signs exactly as before.
"""

from __future__ import annotations

from typing import Any

import pytest
from nacl.signing import SigningKey

from adapters.pujiang import PujiangAdapter, PujiangSettings
from adapters.pujiang.actions import TxSigner, build_signed_tx
from adapters.pujiang.source_tx import PujiangSourceTransactions
from core.errors import BadSignature, ConfigError
from core.ids import ChainId
from core.records import TransferKind
from core.types import SendIntent
from proofs.hashing import SHA256, sm3
from proofs.pujiang import accounts, codec
from tests.adapters.test_pujiang_adapter_unit import CHAIN, MockNodeTransport, run

PJ, EVM = ChainId("pj-gm"), ChainId("anvil-1")
SEED = bytes(range(32))
SM2_ALICE = TxSigner(SEED, accounts.SM2)
ED_ALICE = TxSigner(SEED)
RECEIVER = bytes.fromhex("ab" * 20)
ARGS: list[object] = [str(EVM).encode(), RECEIVER, b"upj", 1000, 500, 0]


def intent(sender: bytes) -> SendIntent:
    return SendIntent(
        kind=TransferKind.ASSET,
        source_chain=PJ,
        dest_chain=EVM,
        sender=sender,
        receiver=RECEIVER,
        denom="upj",
        amount=1000,
        timeout_height=500,
        timeout_time_ms=0,
    )


def gm_rules() -> PujiangSourceTransactions:
    return PujiangSourceTransactions(PJ, sm3, accounts.SM2)


def test_an_sm2_signer_carries_a_65_byte_key_and_an_sm3_address() -> None:
    assert SM2_ALICE.pubkey == accounts.sm2_public_key(SEED)
    assert len(SM2_ALICE.pubkey) == 65
    assert SM2_ALICE.address(sm3) == sm3(SM2_ALICE.pubkey)[:20]
    tx = codec.decode_transaction(build_signed_tx(SM2_ALICE, str(PJ), 0, "bridge_send", ARGS))
    message = codec.compute_tx_signing_message(tx.body)
    assert accounts.is_valid_sm2_tx_signature(tx.pubkey, message, tx.signature)
    assert SEED.hex() not in repr(SM2_ALICE)


def test_the_standard_signer_signs_exactly_as_before() -> None:
    """Same seed, same key, same bytes as PyNaCl's Ed25519 (the devnet's signer)."""
    body = codec.TxBody(chain_id=b"pj-1", nonce=3, kind=b"bridge_send", args=codec.to_raw(ARGS))
    nacl = SigningKey(SEED)
    expected = codec.encode(
        codec.Transaction(
            body=body,
            pubkey=bytes(nacl.verify_key),
            signature=nacl.sign(codec.compute_tx_signing_message(body)).signature,
        )
    )
    assert ED_ALICE.sign(body) == expected
    assert ED_ALICE.address(SHA256) == SHA256(bytes(nacl.verify_key))[:20]


def test_a_client_signed_sm2_send_is_accepted_on_a_gm_chain() -> None:
    raw = build_signed_tx(SM2_ALICE, str(PJ), 0, "bridge_send", ARGS)
    sent = gm_rules().validate_signed_send(intent(SM2_ALICE.address(sm3)), raw)
    assert sent.tx_hash == sm3(raw)


def test_an_ed25519_send_on_a_gm_chain_is_refused() -> None:
    raw = build_signed_tx(ED_ALICE, str(PJ), 0, "bridge_send", ARGS)
    with pytest.raises(BadSignature, match="SM2 signature does not verify"):
        gm_rules().validate_signed_send(intent(ED_ALICE.address(sm3)), raw)


def test_an_sm2_send_on_a_standard_chain_is_refused() -> None:
    raw = build_signed_tx(SM2_ALICE, str(PJ), 0, "bridge_send", ARGS)
    rules = PujiangSourceTransactions(PJ, SHA256)
    with pytest.raises(BadSignature, match="Ed25519 signature does not verify"):
        rules.validate_signed_send(intent(SM2_ALICE.address(SHA256)), raw)


def test_a_malleated_sm2_signature_is_refused() -> None:
    tx = codec.decode_transaction(build_signed_tx(SM2_ALICE, str(PJ), 0, "bridge_send", ARGS))
    forged = codec.encode(tx.copy(signature=bytes([tx.signature[0] ^ 1]) + tx.signature[1:]))
    with pytest.raises(BadSignature):
        gm_rules().validate_signed_send(intent(SM2_ALICE.address(sm3)), forged)


@pytest.mark.anyio
async def test_a_hub_signed_send_on_a_gm_chain_is_sm2() -> None:
    rules = gm_rules()
    account = PujiangAdapter.account_signer(SEED)
    assert rules.account_address(account) == SM2_ALICE.address(sm3)
    sent = await rules.build_signed_send(intent(SM2_ALICE.address(sm3)), account, 4)
    raw = bytes.fromhex(str(sent.action.payload["tx"])[2:])
    assert codec.decode_transaction(raw).pubkey == SM2_ALICE.pubkey
    assert rules.validate_signed_send(intent(SM2_ALICE.address(sm3)), raw) == sent


def test_the_adapter_signs_relayer_txs_with_its_scheme() -> None:
    settings = PujiangSettings(
        url="http://pj.invalid",
        chain_id=str(PJ),
        hash_profile="sm3",
        account_scheme="sm2",
        insecure_plaintext_key=True,
        relayer_key=SEED.hex(),
    )
    adapter = PujiangAdapter(settings)
    assert adapter.relayer_address == SM2_ALICE.address(sm3)
    assert adapter.source_transactions().scheme == accounts.SM2


def test_a_node_of_another_account_scheme_is_a_config_error() -> None:
    status: dict[str, Any] = {"chain_id": CHAIN, "latest_height": 1, "account_scheme": "sm2"}
    mock = MockNodeTransport({"/v1/status": lambda r: status})
    with pytest.raises(ConfigError, match="sm2"):
        run(mock, lambda a: a.latest_height())
    gm = {"hash_profile": "sm3", "account_scheme": "sm2"}
    mock = MockNodeTransport({"/v1/status": lambda r: {**status, "hash_profile": "sm3"}})
    assert run(mock, lambda a: a.latest_height(), **gm) == 1
