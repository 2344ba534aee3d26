"""``from_account`` transfers: the hub signs with a keystore key, and the node accepts it.

A devnet node runs in this process (its ASGI app behind the adapter's httpx
transport); the managed account is dev account 0 imported into an encrypted
keystore, so the journaled transaction is executed by a real chain.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from adapters.pujiang import PujiangAdapter, PujiangSettings
from adapters.pujiang.actions import RAW_TX
from core.ids import ChainId
from core.records import ChainRecord, RouteProtocol, RouteRecord
from core.types import ChainAction
from gateway.app import create_app
from gateway.keystore import FileKeystore
from gateway.settings import Settings
from gateway.store import SqlStore
from tests.gateway.helpers import EVM, Keys
from tests.gateway.test_transfers_api import assert_problem

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("chains")]

DEVNET_SEED = bytes.fromhex("5eed" * 16)
RECEIVER = "0x" + "cd" * 20


@pytest.fixture
def devnet(tmp_path: Path) -> Iterator[Any]:
    from devnet.config import NodeConfig
    from devnet.node import DevnetNode

    node = DevnetNode(NodeConfig(data_dir=tmp_path / "devnet", block_time=None, seed=DEVNET_SEED))
    try:
        yield node
    finally:
        node.close()


@pytest.fixture
async def hub(
    tmp_path: Path, store: SqlStore, devnet: Any, clock: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, PujiangAdapter]]:
    from devnet import keys as devnet_keys
    from devnet.api import create_app as devnet_app

    chain_id = devnet.genesis.chain_id
    store.upsert_chain(
        ChainRecord(
            ChainId(chain_id), "pujiang", {"url": "http://devnet.asgi", "chain_id": chain_id}
        )
    )
    store.upsert_route(
        RouteRecord("dev-to-anvil", ChainId(chain_id), ChainId(EVM), RouteProtocol.NOTARY)
    )
    keystore = FileKeystore(tmp_path / "keys", SecretStr("correct horse"))
    seed = bytes(devnet_keys.account_key(DEVNET_SEED, 0))
    keystore.create("treasury", "pujiang", seed, scrypt_n=2**10)
    transport = httpx.ASGITransport(app=devnet_app(devnet))
    adapter = PujiangAdapter(
        PujiangSettings(url="http://devnet.asgi", chain_id=chain_id), transport=transport
    )
    app = create_app(
        Settings(data_dir=tmp_path), store, {chain_id: adapter}, accounts=keystore, clock=clock
    )
    async with (
        adapter,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as api,
    ):
        yield api, adapter


def request(sender: str, amount: int = 7) -> dict[str, Any]:
    return {
        "route_id": "dev-to-anvil",
        "kind": "asset",
        "sender": sender,
        "receiver": RECEIVER,
        "denom": "upj",
        "amount": str(amount),
        "timeout_height": 10_000,
        "from_account": "treasury",
    }


async def test_from_account_journals_a_transaction_the_chain_executes(
    hub: tuple[httpx.AsyncClient, PujiangAdapter],
    keys: Keys,
    store: SqlStore,
    devnet: Any,
    tmp_path: Path,
) -> None:
    api, adapter = hub
    keystore = FileKeystore(tmp_path / "keys", SecretStr("correct horse"))
    sender = keystore.account("treasury").address
    headers = {"X-API-Key": keys.client}
    first = await api.post(
        "/v1/transfers", json=request(sender), headers={**headers, "Idempotency-Key": "a"}
    )
    second = await api.post(
        "/v1/transfers", json=request(sender, 8), headers={**headers, "Idempotency-Key": "b"}
    )
    assert (first.status_code, second.status_code) == (201, 201), first.text
    replay = await api.post(
        "/v1/transfers", json=request(sender), headers={**headers, "Idempotency-Key": "a"}
    )
    assert replay.status_code == 200

    sent = []
    for made in (first.json(), second.json()):
        action = store.action(made["id"], "source_submit")
        assert action is not None
        assert action.kind == RAW_TX
        sent.append(
            await adapter.submit(ChainAction(action.kind, action.payload, action.idempotency_key))
        )
    devnet.produce_block()
    for tx_hash in sent:  # distinct nonces 0 and 1: both execute
        receipt = await adapter.receipt(tx_hash)
        assert receipt.success is True, receipt.reason
    # Each transfer holds its transaction's hash from the journal's commit on, before any
    # relayer sends it: the watcher finds the transfer by it, never creating a second.
    made = [store.transfer(m["id"]) for m in (first.json(), second.json())]
    assert [t.source_tx for t in made] == sent


async def test_from_account_must_be_the_sender(
    hub: tuple[httpx.AsyncClient, PujiangAdapter], keys: Keys
) -> None:
    api, _ = hub
    headers = {"X-API-Key": keys.client, "Idempotency-Key": "x"}
    response = await api.post("/v1/transfers", json=request("0x" + "99" * 20), headers=headers)
    assert_problem(response, 422, "invalid-input")


async def test_unknown_managed_account_is_404(
    hub: tuple[httpx.AsyncClient, PujiangAdapter], keys: Keys, tmp_path: Path
) -> None:
    api, _ = hub
    body = {**request("0x" + "99" * 20), "from_account": "nobody"}
    response = await api.post(
        "/v1/transfers", json=body, headers={"X-API-Key": keys.client, "Idempotency-Key": "y"}
    )
    assert_problem(response, 404, "not-found")


def test_keystore_files_do_not_open_with_another_password(tmp_path: Path) -> None:
    from core.errors import ConfigError

    FileKeystore(tmp_path, SecretStr("right")).create("a", "pujiang", b"\x05" * 32, scrypt_n=2**10)
    FileKeystore(tmp_path, SecretStr("right")).create("b", "evm", b"\x06" * 32, scrypt_n=2**10)
    wrong = FileKeystore(tmp_path, SecretStr("wrong"))
    for name in ("a", "b"):
        with pytest.raises(ConfigError):
            wrong.signer(name)
    assert "05" * 32 not in (tmp_path / "a.json").read_text()
