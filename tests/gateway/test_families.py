"""The gateway asks chain families what they declare, and names none of them itself.

* keystore files written before the families declared their keys still open;
* an EVM ``signed_tx`` is checked by the EVM family through the API (no node);
* the swap watchtower finds HTLC endpoints and timing through ``HtlcChain``;
* the chains file fills the chain id under the key the family names;
* no family literal or family import in ``gateway/`` (scaffold templates aside)
  nor in ``relayer/swaps.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_utils import to_checksum_address
from pydantic import SecretStr

from adapters.chains_file import chain_options
from adapters.evm.adapter import RAW_TX, EvmAdapter
from adapters.evm.settings import EvmChainSettings
from adapters.pujiang import PujiangAdapter, PujiangSettings
from adapters.pujiang.actions import TxSigner
from core.errors import ConfigError, InvalidInput
from core.ids import ChainId
from core.records import ChainRecord, RouteProtocol, RouteRecord
from core.seams import AccountSigner
from gateway.keystore import FileKeystore
from gateway.store import SqlStore
from proofs.hashing import keccak256
from proofs.htlc.timing import ChainTiming
from relayer.swaps import chain_timing, htlc_endpoint
from tests.gateway.helpers import BACK, EVM, EVM_SIGNER, PJ, Keys
from tests.gateway.test_transfers_api import assert_problem

REPO = Path(__file__).resolve().parents[2]
KEYSTORE_V1 = Path(__file__).parent / "data" / "keystore-v1"
PASSWORD = SecretStr("correct horse")


# --- the keystore ---------------------------------------------------------------------


def test_keystore_files_written_by_the_family_branching_keystore_still_open(
    tmp_path: Path,
) -> None:
    """tests/gateway/data/keystore-v1 was written by the keystore of commit f6641c0."""
    shutil.copytree(KEYSTORE_V1, tmp_path / "keys")
    keystore = FileKeystore(tmp_path / "keys", PASSWORD)
    treasury, payroll = keystore.signer("treasury"), keystore.signer("payroll")
    assert keystore.account("treasury").family == "pujiang"
    assert treasury.address == TxSigner(bytes.fromhex("5e" * 32)).address()
    assert keystore.account("payroll").address == "0x" + payroll.address.hex()
    assert payroll.address.hex() == Account.from_key(b"\x6f" * 32).address[2:].lower()


@pytest.mark.parametrize(("family", "secret"), [("pujiang", b"\x05" * 32), ("evm", b"\x06" * 32)])
def test_a_created_account_opens_to_its_familys_signer(
    tmp_path: Path, family: str, secret: bytes
) -> None:
    made = FileKeystore(tmp_path, PASSWORD).create("a", family, secret, scrypt_n=2**10)
    signer = FileKeystore(tmp_path, PASSWORD).signer("a")
    assert isinstance(signer, AccountSigner)
    assert made.address == "0x" + signer.address.hex()
    assert secret.hex() not in (tmp_path / "a.json").read_text()


@pytest.mark.parametrize(
    ("family", "message"),
    [
        ("cometbft", "managed accounts do not exist for 'cometbft' chains"),
        ("fisco", "managed accounts do not exist for 'fisco' chains"),
    ],
)
def test_a_family_without_managed_keys_is_refused(
    tmp_path: Path, family: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        FileKeystore(tmp_path, PASSWORD).create("a", family, b"\x05" * 32, scrypt_n=2**10)
    assert refused.value.message == message


def test_a_file_renamed_to_another_account_does_not_open(tmp_path: Path) -> None:
    FileKeystore(tmp_path, PASSWORD).create("a", "pujiang", b"\x05" * 32, scrypt_n=2**10)
    (tmp_path / "a.json").rename(tmp_path / "b.json")
    with pytest.raises(ConfigError):
        FileKeystore(tmp_path, PASSWORD).signer("b")


# --- an EVM signed_tx through the API ---------------------------------------------------

ALICE_KEY = "0x" + "a1" * 32
ALICE = Account.from_key(ALICE_KEY).address.lower()


def evm_send(chain_id: int = 31337, key: str = ALICE_KEY) -> bytes:
    """A signed ``Bridge.sendNative`` of ``evm_body`` (the conftest chain configures no
    bridge address: any destination is taken for its bridge)."""
    selector = keccak256(b"sendNative(string,bytes,uint64,uint64)")[:4]
    data = selector + abi_encode(
        ["string", "bytes", "uint64", "uint64"], [PJ, bytes.fromhex("ab" * 20), 500, 0]
    )
    tx = {
        "chainId": chain_id,
        "nonce": 0,
        "to": to_checksum_address("0x" + "b1" * 20),
        "value": 5,
        "data": data,
        "gas": 100_000,
        "maxFeePerGas": 10**9,
        "maxPriorityFeePerGas": 1,
        "type": 2,
    }
    return bytes(Account.sign_transaction(tx, key).raw_transaction)


def evm_body(raw: bytes) -> dict[str, Any]:
    return {
        "route_id": BACK,
        "kind": "asset",
        "sender": ALICE,
        "receiver": "0x" + "ab" * 20,
        "denom": "native",
        "amount": "5",
        "timeout_height": 500,
        "signed_tx": "0x" + raw.hex(),
    }


async def post(api: httpx.AsyncClient, keys: Keys, payload: dict[str, Any]) -> httpx.Response:
    headers = {"X-API-Key": keys.client, "Idempotency-Key": "k"}
    return await api.post("/v1/transfers", json=payload, headers=headers)


@pytest.mark.anyio
@pytest.mark.usefixtures("chains")
async def test_an_evm_signed_send_by_the_sender_is_journaled_as_raw_tx(
    api: httpx.AsyncClient, keys: Keys
) -> None:
    response = await post(api, keys, evm_body(evm_send()))
    assert response.status_code == 201, response.text
    assert [a["kind"] for a in response.json()["actions"]] == [RAW_TX]


@pytest.mark.anyio
@pytest.mark.usefixtures("chains")
@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (evm_send(chain_id=1), "signed_tx: signed for another chain than anvil-1"),
        (evm_send(key="0x" + "b2" * 32), "signed_tx: not signed by sender"),
    ],
    ids=["other-chain", "other-signer"],
)
async def test_an_evm_signed_send_broken_in_one_field_is_refused_naming_it(
    api: httpx.AsyncClient, keys: Keys, raw: bytes, detail: str
) -> None:
    problem = assert_problem(await post(api, keys, evm_body(raw)), 422, "invalid-input")
    assert problem["detail"] == detail
    assert ["body", "signed_tx"] in [e["loc"] for e in problem["errors"]]


# --- the swap watchtower's endpoint lookup -----------------------------------------------


def test_the_watchtower_finds_htlc_endpoints_and_timing_through_the_seam() -> None:
    pj = PujiangAdapter(PujiangSettings(url="http://pj.invalid", chain_id=PJ))
    plain = {"chain": EVM, "rpc_url": "http://anvil.invalid", "evm_chain_id": 31337}
    evm_plain = EvmAdapter(EvmChainSettings(**plain))
    evm_htlc = EvmAdapter(EvmChainSettings(**plain, htlc_address="0x" + "5e" * 20))
    assert htlc_endpoint(pj) is not None
    assert htlc_endpoint(evm_htlc) is not None
    assert htlc_endpoint(evm_plain) is None
    assert chain_timing(pj) == pj.settings.chain_timing()
    assert isinstance(chain_timing(evm_plain), ChainTiming)


class _BareAdapter:
    """A family that declares no HTLC capability (an installed package built earlier)."""

    family = "bare"
    chain_id = ChainId("bare-1")


def test_a_chain_without_the_htlc_capability_has_no_endpoint_and_no_timing() -> None:
    assert htlc_endpoint(_BareAdapter()) is None  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="chain bare-1 has no HTLC timing figures"):
        chain_timing(_BareAdapter())  # type: ignore[arg-type]


# --- the chains file ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "key"), [("evm", "chain"), ("pujiang", "chain_id"), ("fisco", "chain_id")]
)
def test_the_chain_id_is_filled_under_the_key_the_family_names(family: str, key: str) -> None:
    options = chain_options(ChainRecord(ChainId("c-1"), family, {"x": 1}))
    assert options == {"x": 1, key: "c-1"}


def test_a_chain_id_given_in_the_settings_is_kept() -> None:
    record = ChainRecord(
        ChainId(EVM),
        "evm",
        {"chain": EVM, "insecure_plaintext_key": True, "signer_key": EVM_SIGNER},
    )
    assert chain_options(record)["chain"] == EVM


# (no family named above adapters/: tests/test_no_family_above_adapters.py)


# --- a family that declares "none": refused with the reason, not probed ---------------------

COSMOS = "cosmos-1"


@pytest.fixture
def cosmos_chain(store: SqlStore) -> None:
    settings = {"chain_id": COSMOS, "rpc_url": "http://cosmos.invalid"}
    store.upsert_chain(ChainRecord(ChainId(COSMOS), "cometbft", settings))
    store.upsert_route(
        RouteRecord("cosmos-to-pj", ChainId(COSMOS), ChainId(PJ), RouteProtocol.NOTARY)
    )


@pytest.mark.anyio
@pytest.mark.usefixtures("chains", "cosmos_chain")
async def test_a_signed_tx_from_a_family_without_source_transactions_is_501(
    api: httpx.AsyncClient, keys: Keys
) -> None:
    payload = {
        "route_id": "cosmos-to-pj",
        "kind": "asset",
        "sender": "cosmos1sender",
        "receiver": "0x" + "ab" * 20,
        "denom": "uatom",
        "amount": "5",
        "timeout_height": 500,
        "signed_tx": "0x0102",
    }
    problem = assert_problem(await post(api, keys, payload), 501, "not-implemented")
    assert problem["detail"] == (
        "transfers cannot start from cosmos-1 (cometbft chains) through the API yet"
    )


@pytest.mark.anyio
@pytest.mark.usefixtures("chains", "cosmos_chain")
async def test_a_swap_leg_on_a_chain_without_an_htlc_is_refused_naming_the_leg(
    api: httpx.AsyncClient, keys: Keys
) -> None:
    hashlock = "0x" + "11" * 32
    leg = {"sender": "0x" + "a1" * 20, "receiver": "0x" + "b0" * 20, "asset": "upj", "amount": "1"}
    payload = {
        "hashlock": hashlock,
        "leg1": {**leg, "chain_id": PJ},
        "leg2": {**leg, "chain_id": COSMOS, "sender": "cosmos1a", "receiver": "cosmos1b"},
    }
    headers = {"X-API-Key": keys.client, "Idempotency-Key": "s"}
    response = await api.post("/v1/swaps", json=payload, headers=headers)
    problem = assert_problem(response, 422, "invalid-input")
    assert problem["detail"] == (
        "leg2.chain_id: the hub has no HTLC on cosmos-1 (a cometbft chain without one, "
        "or its HTLC is not configured)"
    )
