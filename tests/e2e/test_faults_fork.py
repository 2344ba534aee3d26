"""A fork served by the source's node freezes the hub's light client and each notary's.

Real processes: a devnet node in faults mode, anvil with the Bridge, the hub
(API + relayer) and the three genesis notaries (``pjgw notary run``). After
two batches complete, the node starts serving a second valid header (signed
by the whole validator set, ``POST /v1/faults/fork``) at every height it has
made so far: what a light client sees from a node on the other side of a fork.
The next transfers make every follower advance from a trusted height whose
header the node now serves differently, and a different header that verifies
is misbehaviour: the hub's client and each notary's freeze, with the evidence
(the conflicting header and its commit) readable through the API and in each
notary's client file, and nothing more is delivered from that chain.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import Hub, chains_toml, post_txs, recv_sequences, signed_sends, wait_until
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import DevnetProcess, start_devnet
from tests.fixtures.relay import Anvil
from tests.fixtures.tiers import starts

BATCH = 3


@pytest.fixture
@starts("chain")
def faulty_devnet(tmp_path: Path) -> Iterator[DevnetProcess]:
    node = start_devnet(tmp_path / "devnet", faults=True)
    yield node
    node.stop()


def _client(hub: Hub) -> dict[str, object]:
    answer = httpx.get(f"{hub.url}/v1/chains/{DEVNET_CHAIN}/client", timeout=10)
    answer.raise_for_status()
    return answer.json()


def _notary_client(hub: Hub, index: int) -> dict[str, object]:
    path = hub.root / f"notary-{index}" / "clients" / f"{DEVNET_CHAIN}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def test_a_fork_served_by_the_node_freezes_the_hubs_and_every_notarys_client_with_evidence(
    faulty_devnet: DevnetProcess, stamped: Anvil, hub: Hub
) -> None:
    devnet, env = faulty_devnet, stamped
    relayer_chains = hub.write("relayer.toml", chains_toml(devnet.url, env, hub=True))
    notary_chains = hub.write("notary.toml", chains_toml(devnet.url, env, hub=False))
    hub.start_api(relayer_chains)
    hub.start_relayer("relayer", relayer_chains)
    for index in range(3):
        hub.start_notary(index, notary_chains)
    timeout_ms = (int(time.time()) + 24 * 3600) * 1000
    _, txs = signed_sends(devnet.url, env.alice, timeout_ms, 3 * BATCH)

    # Two batches in different blocks: every follower trusts several heights.
    post_txs(devnet.url, txs[:BATCH])
    assert hub.wait_terminal(BATCH, timeout=90) == {"completed": BATCH}
    post_txs(devnet.url, txs[BATCH : 2 * BATCH])
    assert hub.wait_terminal(2 * BATCH, timeout=90) == {"completed": 2 * BATCH}
    assert _client(hub)["frozen"] is False

    seen = httpx.get(f"{devnet.url}/v1/status", timeout=10).json()["latest_height"]
    # Up to the node's tip when it starts (``last`` omitted): every height any follower
    # trusted by then is served forked from now on, so each one's next update sees it.
    forked = httpx.post(f"{devnet.url}/v1/faults/fork", json={"first": 2}, timeout=60)
    forked.raise_for_status()
    heights = forked.json()["heights"]
    tip = heights[-1]
    assert heights == list(range(2, tip + 1))
    assert tip >= seen

    post_txs(devnet.url, txs[2 * BATCH :])

    def hub_frozen() -> bool:
        return bool(_client(hub)["frozen"])

    wait_until(hub_frozen, 90, "the hub's light client of the devnet freezes")
    client = _client(hub)
    evidence = client["evidence"]
    assert isinstance(evidence, dict), client
    assert evidence["kind"] == "fork"
    assert 2 <= int(evidence["height"]) <= tip
    assert evidence["trusted_hash"] != evidence["conflicting_hash"]
    assert str(evidence["header"]).startswith("0x")
    assert len(str(evidence["commit"])) > 2
    assert "fork: two valid headers" in str(client["frozen_reason"])

    def notaries_frozen() -> bool:
        return all(_notary_client(hub, i).get("frozen") for i in range(3))

    wait_until(notaries_frozen, 90, "every notary's light client of the devnet freezes")
    for index in range(3):
        doc = _notary_client(hub, index)
        notary_evidence = json.loads(bytes.fromhex(doc["evidence"]))
        assert notary_evidence["kind"] == "fork", (index, doc["frozen_reason"])

    # Nothing more crosses from a chain whose client is frozen.
    time.sleep(3)
    assert sorted(recv_sequences(env)) == list(range(1, 2 * BATCH + 1))
    assert hub.states()["completed"] == 2 * BATCH
