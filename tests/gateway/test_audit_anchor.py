"""Anchoring an audit checkpoint on a real devnet node process, and reading it back.

The hub signs a checkpoint of its head, ``POST /v1/audit/checkpoints/{seq}/anchor``
sends the devnet ``anchor`` transaction through the Pujiang adapter's
``AnchorChain`` capability, and the export then verifies end to end with the
anchored hash read back from the node: found under the hub's account at the
height the hub recorded. The same hash under another account is not found.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from adapters.pujiang import PujiangAdapter, PujiangSettings
from core.ids import ChainId
from core.records import ChainRecord, RouteProtocol, RouteRecord
from gateway.app import create_app
from gateway.audit.verify import check_anchors, verify_export
from gateway.settings import Settings
from gateway.store import SqlStore
from proofs.audit import AuditBroken, signer_address
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import DevnetProcess, account_seed

pytestmark = pytest.mark.anyio

AUDIT_KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
ADMIN = "anchor-test-admin"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _adapter(devnet: DevnetProcess) -> PujiangAdapter:
    return PujiangAdapter(
        PujiangSettings(
            url=devnet.url,
            chain_id=DEVNET_CHAIN,
            insecure_plaintext_key=True,
            relayer_key=account_seed(1).hex(),
        )
    )


async def test_a_checkpoint_anchored_on_the_devnet_is_read_back_from_the_node(
    devnet_process: DevnetProcess, tmp_path: Path
) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'hub.db'}")
    store.migrate()
    store.upsert_chain(ChainRecord(ChainId(DEVNET_CHAIN), "pujiang"))
    store.upsert_route(
        RouteRecord("r", ChainId(DEVNET_CHAIN), ChainId(DEVNET_CHAIN), RouteProtocol.NOTARY)
    )
    adapter = _adapter(devnet_process)
    settings = Settings(
        data_dir=tmp_path, dev_api_key=SecretStr(ADMIN), audit_key=SecretStr(AUDIT_KEY)
    )
    app = create_app(settings, store, {DEVNET_CHAIN: adapter})
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub"
        ) as hub:
            made = await hub.post("/v1/audit/checkpoints", headers={"X-API-Key": ADMIN})
            assert made.status_code == 201, made.text
            seq = made.json()["seq"]
            anchored = await hub.post(
                f"/v1/audit/checkpoints/{seq}/anchor",
                json={"chain_id": DEVNET_CHAIN},
                headers={"X-API-Key": ADMIN},
            )
            assert anchored.status_code == 200, anchored.text
            cp = anchored.json()
            unknown = await hub.post(
                f"/v1/audit/checkpoints/{seq}/anchor",
                json={"chain_id": "no-such-chain"},
                headers={"X-API-Key": ADMIN},
            )
            assert unknown.status_code == 404
            exported = await hub.get(
                "/v1/audit", params={"format": "ndjson"}, headers={"X-API-Key": ADMIN}
            )
        assert cp["anchor_chain"] == DEVNET_CHAIN
        assert cp["anchor_account"] == "0x" + adapter.anchor_account.hex()  # type: ignore[union-attr]
        assert cp["anchor_height"] is not None

        async def read(chain: str, digest: bytes, account: bytes) -> int | None:
            assert chain == DEVNET_CHAIN
            found = await adapter.anchored_height(digest, account)
            return None if found is None else int(found)

        # The export covers the anchoring's own entries too: the checkpoint is of an
        # earlier head, and still matches that entry of the chain.
        report = await verify_export(
            exported.text.splitlines(),
            [cp],
            signer="0x" + signer_address(bytes.fromhex(AUDIT_KEY)).hex(),
            read_anchor=read,
        )
        assert report.anchors == [(seq, DEVNET_CHAIN, cp["anchor_height"])]
        assert [e["action"] for e in map(json.loads, exported.text.splitlines())][-2:] == [
            "audit.checkpoint",
            "audit.anchor",
        ]
        elsewhere: dict[str, Any] = {**cp, "anchor_account": "0x" + "ab" * 20}
        with pytest.raises(AuditBroken) as caught:
            await check_anchors([elsewhere], read)
        assert caught.value.details["reason"] == "anchor-missing"
    finally:
        await adapter.aclose()
        store.close()
