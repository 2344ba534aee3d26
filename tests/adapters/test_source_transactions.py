"""The capabilities the hub asks of a family above ``adapters/``, per built-in family.

``SourceTransactions`` (a client-signed send checked, a hub-signed one built),
``FamilyRules`` (addresses, assets, the settings key of the chain id) and
``ManagedKeys`` (the signer of a managed account's key). Malleate style: a valid
send first, then one broken field per row, with the exact refusal asserted.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_account import Account

from adapters.cometbft import CometBftAdapter, CometBftSettings
from adapters.evm.adapter import EvmAdapter
from adapters.evm.settings import EvmChainSettings
from adapters.pujiang import PujiangAdapter, PujiangSettings
from adapters.pujiang.actions import RAW_TX, TxSigner, build_signed_tx
from core.errors import BadSignature, ConfigError, InvalidInput
from core.ids import ChainId
from core.records import TransferKind
from core.seams import (
    AccountSigner,
    BridgeChain,
    FamilyRules,
    HtlcChain,
    ManagedKeys,
    SourceChain,
    SourceTransactions,
)
from core.types import SendIntent
from proofs.hashing import keccak256
from proofs.pujiang.codec import compute_tx_hash, decode_transaction, hash_profile

PJ, EVM = ChainId("pj-1"), ChainId("anvil-1")
EVM_CHAIN_ID = 31337
BRIDGE = "0x" + "b1" * 20
SEED = bytes(range(32))
ALICE = TxSigner(SEED)
RECEIVER = bytes.fromhex("ab" * 20)
EVM_KEY = "0x" + "11" * 32


def pujiang() -> PujiangAdapter:
    return PujiangAdapter(PujiangSettings(url="http://pj.invalid", chain_id=str(PJ)))


def evm(**over: Any) -> EvmAdapter:
    settings = {"chain": str(EVM), "rpc_url": "http://anvil.invalid", "evm_chain_id": EVM_CHAIN_ID}
    return EvmAdapter(EvmChainSettings(**{**settings, "bridge_address": BRIDGE, **over}))


def pj_intent(**over: Any) -> SendIntent:
    fields: dict[str, Any] = {
        "kind": TransferKind.ASSET,
        "source_chain": PJ,
        "dest_chain": EVM,
        "sender": ALICE.address(),
        "receiver": RECEIVER,
        "denom": "upj",
        "amount": 1000,
        "timeout_height": 500,
        "timeout_time_ms": 0,
    }
    return SendIntent(**{**fields, **over})


def pj_signed(nonce: int = 0, chain: str = str(PJ), kind: str = "bridge_send") -> bytes:
    args = [str(EVM).encode(), RECEIVER, b"upj", 1000, 500, 0]
    return build_signed_tx(ALICE, chain, nonce, kind, args)


# --- Pujiang: a client-signed send ----------------------------------------------------


def test_a_pujiang_send_of_the_request_is_journaled_as_raw_tx_keyed_by_its_hash() -> None:
    raw = pj_signed()
    sent = pujiang().source_transactions().validate_signed_send(pj_intent(), raw)
    tx_hash = compute_tx_hash(decode_transaction(raw), hash_profile("sha256"))
    assert sent.tx_hash == tx_hash
    assert sent.action.kind == RAW_TX
    assert sent.action.payload == {"tx": "0x" + raw.hex()}
    assert sent.action.idempotency_key == "tx:0x" + tx_hash.hex()


ARGS_DIFFER = "signed_tx: its arguments differ from the request (receiver, amount, timeouts…)"


@pytest.mark.parametrize(
    ("intent", "raw", "error", "message"),
    [
        (pj_intent(amount=999), pj_signed(), InvalidInput, ARGS_DIFFER),
        (pj_intent(receiver=b"\xcd" * 20), pj_signed(), InvalidInput, ARGS_DIFFER),
        (pj_intent(dest_chain=ChainId("other-1")), pj_signed(), InvalidInput, ARGS_DIFFER),
        (pj_intent(denom="ucny"), pj_signed(), InvalidInput, ARGS_DIFFER),
        (pj_intent(timeout_height=501), pj_signed(), InvalidInput, ARGS_DIFFER),
        (pj_intent(timeout_time_ms=1), pj_signed(), InvalidInput, ARGS_DIFFER),
        (
            pj_intent(sender=b"\x99" * 20),
            pj_signed(),
            InvalidInput,
            "signed_tx: not signed by sender",
        ),
        (
            pj_intent(kind=TransferKind.MESSAGE, denom="", amount=0, payload=b"hi"),
            pj_signed(),
            InvalidInput,
            "signed_tx: a message transfer is a bridge_send_message transaction, not 'bridge_send'",
        ),
        (
            pj_intent(),
            pj_signed(chain="pj-2"),
            InvalidInput,
            "signed_tx: signed for another chain than pj-1",
        ),
        (
            pj_intent(),
            pj_signed()[:-1] + bytes([pj_signed()[-1] ^ 1]),
            BadSignature,
            "signed_tx: the Ed25519 signature does not verify",
        ),
        (
            pj_intent(payload=b"x"),
            pj_signed(),
            InvalidInput,
            "a Pujiang asset transfer carries no payload",
        ),
    ],
    ids=[
        "amount",
        "receiver",
        "dest-chain",
        "denom",
        "timeout-height",
        "timeout-time",
        "sender",
        "kind",
        "chain-of-the-tx",
        "signature",
        "payload-on-an-asset",
    ],
)
def test_a_pujiang_send_broken_in_one_field_is_refused_naming_it(
    intent: SendIntent, raw: bytes, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as refused:
        pujiang().source_transactions().validate_signed_send(intent, raw)
    assert refused.value.message == message  # type: ignore[attr-defined]


def test_pujiang_garbage_is_refused_as_signed_tx_input() -> None:
    with pytest.raises(InvalidInput) as refused:
        pujiang().source_transactions().validate_signed_send(pj_intent(), b"\x01\x02\x03")
    assert refused.value.details["field"] == "signed_tx"
    assert refused.value.message.startswith("signed_tx: ")


def test_an_intent_of_another_source_chain_is_refused() -> None:
    with pytest.raises(InvalidInput, match="a send from pj-2 given to chain pj-1"):
        pujiang().source_transactions().validate_signed_send(
            pj_intent(source_chain=ChainId("pj-2")), pj_signed()
        )


# --- Pujiang: a hub-signed send -------------------------------------------------------


async def _build(rules: SourceTransactions, intent: SendIntent, signer: AccountSigner) -> Any:
    return await rules.build_signed_send(intent, signer, 7)


@pytest.mark.anyio
async def test_a_hub_signed_pujiang_send_passes_the_client_check_and_uses_the_nonce() -> None:
    rules = pujiang().source_transactions()
    account = PujiangAdapter.account_signer(SEED)
    assert rules.signs_for_accounts
    assert rules.account_address(account) == ALICE.address()
    sent = await _build(rules, pj_intent(), account)
    raw = bytes.fromhex(str(sent.action.payload["tx"])[2:])
    assert decode_transaction(raw).body.nonce == 7
    assert rules.validate_signed_send(pj_intent(), raw) == sent


@pytest.mark.anyio
async def test_a_pujiang_send_refuses_a_signer_of_another_family() -> None:
    with pytest.raises(InvalidInput, match="not a pujiang account"):
        await _build(pujiang().source_transactions(), pj_intent(), EvmAdapter.account_signer(SEED))


# --- EVM: a client-signed bridge call -------------------------------------------------


def send_native_data(dest: str = str(PJ), receiver: bytes = RECEIVER, deadline: int = 0) -> bytes:
    """``Bridge.sendNative(dest, receiver, 0, deadline)`` call data."""
    selector = keccak256(b"sendNative(string,bytes,uint64,uint64)")[:4]
    return selector + abi_encode(
        ["string", "bytes", "uint64", "uint64"], [dest, receiver, 0, deadline]
    )


def evm_signed(
    chain_id: int | None = EVM_CHAIN_ID,
    to: str = BRIDGE,
    key: str = EVM_KEY,
    value: int = 1,
    data: bytes | None = None,
) -> bytes:
    data = send_native_data() if data is None else data
    tx: dict[str, Any] = {"nonce": 0, "gas": 100_000, "value": value, "data": data}
    if chain_id is None:  # pre-EIP-155 legacy: valid on any chain
        tx["gasPrice"] = 10**9
    else:
        tx |= {"chainId": chain_id, "maxFeePerGas": 10**9, "maxPriorityFeePerGas": 1, "type": 2}
    tx["to"] = Account.create().address if to == "other" else _checksum(to)
    return bytes(Account.sign_transaction(tx, key).raw_transaction)


def _checksum(address: str) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(address)


def evm_intent(**over: Any) -> SendIntent:
    sender = bytes.fromhex(Account.from_key(EVM_KEY).address[2:])
    fields: dict[str, Any] = {
        "kind": TransferKind.ASSET,
        "source_chain": EVM,
        "dest_chain": PJ,
        "sender": sender,
        "receiver": RECEIVER,
        "denom": "native",
        "amount": 1,
    }
    return SendIntent(**{**fields, **over})


def test_an_evm_bridge_call_by_the_sender_is_journaled_as_raw_tx_keyed_by_its_hash() -> None:
    raw = evm_signed()
    sent = evm().source_transactions().validate_signed_send(evm_intent(), raw)
    assert sent.tx_hash == keccak256(raw)
    assert sent.action.kind == RAW_TX
    assert sent.action.idempotency_key == "tx:0x" + keccak256(raw).hex()


@pytest.mark.parametrize(
    ("intent", "raw", "message"),
    [
        (evm_intent(sender=b"\x99" * 20), evm_signed(), "signed_tx: not signed by sender"),
        (evm_intent(), evm_signed(key="0x" + "22" * 32), "signed_tx: not signed by sender"),
        (evm_intent(), evm_signed(chain_id=1), "signed_tx: signed for another chain than anvil-1"),
        (
            evm_intent(),
            evm_signed(chain_id=None),
            "signed_tx: signed for another chain than anvil-1",
        ),
        (evm_intent(), evm_signed(to="other"), "signed_tx: not a call of the bridge of anvil-1"),
        (evm_intent(), b"\x01\x02\x03", "signed_tx: not a signed EVM transaction"),
        (evm_intent(), b"\xc0", "signed_tx: not a signed EVM transaction"),
        (evm_intent(amount=2), evm_signed(), ARGS_DIFFER),
        (evm_intent(receiver=b"\xcd" * 20), evm_signed(), ARGS_DIFFER),
        (evm_intent(dest_chain=ChainId("pj-2")), evm_signed(), ARGS_DIFFER),
        (evm_intent(timeout_height=1), evm_signed(), ARGS_DIFFER),
        (evm_intent(timeout_time_ms=1000), evm_signed(), ARGS_DIFFER),
        (
            evm_intent(denom="0x" + "70" * 20),
            evm_signed(),
            "signed_tx: a asset transfer of '0x7070707070707070707070707070707070707070' "
            "is a sendToken call",
        ),
        (
            evm_intent(),
            evm_signed(data=b"\x01\x02\x03\x04"),
            "signed_tx: not a Bridge send (sendNative, sendToken or sendMessage)",
        ),
        (
            evm_intent(),
            evm_signed(data=send_native_data()[:40]),
            "signed_tx: the sendNative arguments do not decode",
        ),
        (
            evm_intent(),
            evm_signed(data=send_native_data()[:4] + b"\xff" * 32 + send_native_data()[36:]),
            "signed_tx: the sendNative arguments do not decode",
        ),
    ],
    ids=[
        "sender",
        "signer",
        "chain-id",
        "no-chain-id",
        "not-the-bridge",
        "garbage",
        "empty-list",
        "amount",
        "receiver",
        "dest-chain",
        "timeout-height",
        "timeout-time",
        "denom-of-a-token",
        "another-function",
        "cut-arguments",
        "offset-out-of-range",
    ],
)
def test_an_evm_send_broken_in_one_field_is_refused_naming_it(
    intent: SendIntent, raw: bytes, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        evm().source_transactions().validate_signed_send(intent, raw)
    assert refused.value.message == message
    assert refused.value.details["field"] == "signed_tx"


def test_an_evm_chain_without_a_bridge_address_checks_no_destination() -> None:
    rules = evm(bridge_address=None).source_transactions()
    assert rules.validate_signed_send(evm_intent(), evm_signed(to="other")).tx_hash


@pytest.mark.anyio
async def test_evm_hub_signed_sends_are_refused_as_not_wired() -> None:
    rules = evm().source_transactions()
    account = EvmAdapter.account_signer(bytes.fromhex(EVM_KEY[2:]))
    assert not rules.signs_for_accounts
    assert rules.account_address(account) == evm_intent().sender
    with pytest.raises(ConfigError, match="from_account on anvil-1 is not wired yet"):
        await _build(rules, evm_intent(), account)


# --- which family declares what --------------------------------------------------------


def cometbft() -> CometBftAdapter:
    return CometBftAdapter(CometBftSettings(chain_id="cosmos-1", rpc_url="http://c.invalid"))


@pytest.mark.parametrize("make", [pujiang, evm, cometbft], ids=["pujiang", "evm", "cometbft"])
def test_every_built_in_family_declares_every_capability(make: Any) -> None:
    adapter = make()
    for capability in (SourceChain, HtlcChain, BridgeChain):
        assert isinstance(adapter, capability), capability.__name__
    for capability in (FamilyRules, ManagedKeys):
        assert isinstance(type(adapter), capability), capability.__name__


def test_cometbft_answers_none_where_it_has_nothing() -> None:
    adapter = cometbft()
    assert adapter.source_transactions() is None
    assert adapter.htlc() is None
    assert adapter.chain_timing() is None
    assert adapter.bridge() is None
    with pytest.raises(InvalidInput, match="managed accounts do not exist for cometbft"):
        CometBftAdapter.account_signer(SEED)


def test_htlc_and_timing_come_from_the_settings() -> None:
    assert pujiang().htlc() is not None
    assert pujiang().chain_timing() == PujiangSettings(url="http://x", chain_id="x").chain_timing()
    assert evm().htlc() is None  # no htlc_address
    assert evm(htlc_address="0x" + "5e" * 20).htlc() is not None
    assert evm(confirmations=3).chain_timing().confirmations == 3  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("cls", "value", "normalized"),
    [
        (PujiangAdapter, "0x" + "AB" * 20, "0x" + "ab" * 20),
        (EvmAdapter, "0x" + "AB" * 20, "0x" + "ab" * 20),
        (EvmAdapter, _checksum("0x" + "ab" * 20), "0x" + "ab" * 20),
        (CometBftAdapter, "cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu", None),
    ],
)
def test_valid_addresses_are_normalized(cls: Any, value: str, normalized: str | None) -> None:
    assert cls.validate_address(value, "receiver") == (normalized or value)
    expected = bytes.fromhex(normalized[2:]) if normalized else value.encode()
    assert cls.address_bytes(value) == expected


@pytest.mark.parametrize(
    ("cls", "value", "message"),
    [
        (PujiangAdapter, "0x1234", "receiver: a pujiang address is 0x followed by 40 hex digits"),
        (PujiangAdapter, "ab" * 20, "receiver: a pujiang address is 0x followed by 40 hex digits"),
        (EvmAdapter, "0x" + "ab" * 21, "receiver: a evm address is 0x followed by 40 hex digits"),
        (EvmAdapter, "0x" + "aB" * 20, "receiver: EIP-55 checksum does not match"),
        (
            CometBftAdapter,
            "two words",
            "receiver: a cometbft address is 1-128 non-space characters",
        ),
        (CometBftAdapter, "x" * 129, "receiver: a cometbft address is 1-128 non-space characters"),
    ],
)
def test_a_bad_address_is_refused_naming_the_field(cls: Any, value: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        cls.validate_address(value, "receiver")
    assert refused.value.message == message
    assert refused.value.details["field"] == "receiver"


@pytest.mark.parametrize(
    ("cls", "value", "kept"),
    [
        (EvmAdapter, "NATIVE", "native"),
        (EvmAdapter, "0x" + "70" * 20, "0x" + "70" * 20),
        (PujiangAdapter, "upj", "upj"),
    ],
)
def test_a_leg_asset_is_kept_in_its_family_form(cls: Any, value: str, kept: str) -> None:
    assert cls.validate_asset(value, "leg1.asset") == kept


@pytest.mark.parametrize(
    ("cls", "value"), [(EvmAdapter, "TT"), (PujiangAdapter, ""), (CometBftAdapter, "uatom")]
)
def test_an_asset_the_family_cannot_lock_is_refused_naming_the_field(cls: Any, value: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        cls.validate_asset(value, "leg2.asset")
    assert refused.value.details["field"] == "leg2.asset"


def test_the_chain_id_setting_is_named_by_the_family() -> None:
    assert EvmAdapter.chain_id_option == "chain"
    assert PujiangAdapter.chain_id_option == CometBftAdapter.chain_id_option == "chain_id"


@pytest.mark.parametrize(
    ("cls", "secret", "address"),
    [
        (PujiangAdapter, SEED, ALICE.address()),
        (EvmAdapter, b"\x11" * 32, bytes.fromhex(Account.from_key(EVM_KEY).address[2:])),
    ],
)
def test_a_managed_key_becomes_its_familys_signer(cls: Any, secret: bytes, address: bytes) -> None:
    signer = cls.account_signer(secret)
    assert isinstance(signer, AccountSigner)
    assert signer.address == address
    assert secret.hex() not in repr(signer)


@pytest.mark.parametrize(
    ("cls", "secret"),
    [(PujiangAdapter, b"\x01" * 31), (EvmAdapter, b"\x01" * 31), (EvmAdapter, b"\x00" * 32)],
)
def test_a_key_that_is_not_one_is_refused_without_quoting_it(cls: Any, secret: bytes) -> None:
    with pytest.raises(InvalidInput) as refused:
        cls.account_signer(secret)
    assert secret.hex() not in refused.value.message


def test_a_send_intent_is_a_value() -> None:
    assert replace(pj_intent(), amount=1) != pj_intent()
    assert pj_intent() == pj_intent()
