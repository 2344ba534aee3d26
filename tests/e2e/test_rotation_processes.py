"""Real notaries (``pjgw notary run``) attest a packet past a full validator-set replacement.

Real processes: a devnet node, anvil with the Bridge, the hub (API + relayer)
and the devnet's three genesis notaries. A first packet crosses (every
follower anchors on the genesis set). The notaries are then stopped, the
devnet's validators hand the chain to four other keys (``validator_update``,
no key in common), the new set produces blocks, and the notaries start again:
their own light clients (``adapters.follower``, in their own files) must go
from the old set to the new one by bisection, as the hub's does, before they
can attest the second packet; it is delivered once, and each notary's file
holds the adjacent pair across the rotation (the only step that can cross a
set with no overlap).
"""

from __future__ import annotations

import json
import time

import httpx

from adapters.pujiang.actions import TxSigner, build_signed_tx
from devnet import keys
from proofs.pujiang import codec
from tests.e2e.harness import (
    AMOUNT,
    Hub,
    chains_toml,
    post_txs,
    recv_sequences,
    signed_sends,
    voucher_balance,
    wait_until,
)
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import DEVNET_SEED, DevnetProcess, account_seed
from tests.fixtures.relay import Anvil

NEW_SET = {4: 10, 5: 10, 6: 10, 7: 10}  # the genesis set is derived keys 0..3: overlap 0
GENESIS_SIZE = 4


def _height(devnet: DevnetProcess) -> int:
    return int(httpx.get(f"{devnet.url}/v1/status", timeout=10).json()["latest_height"])


def _rotate(devnet: DevnetProcess) -> int:
    """The genesis set signs the chain over to ``NEW_SET``; the first height it signs."""
    height = _height(devnet)
    answer = httpx.get(f"{devnet.url}/v1/validators/{height + 1}", timeout=10).json()
    current = codec.decode_validator_set(bytes.fromhex(answer["validators"][2:]))
    keyring = keys.Keyring(DEVNET_SEED, GENESIS_SIZE + len(NEW_SET))
    args = keys.sign_valset_update(
        DEVNET_CHAIN,
        1,  # a fresh node: the genesis epoch is 0
        keyring.make_set(NEW_SET),
        current,
        keyring.secrets,
        list(range(len(current))),
    )
    signer = TxSigner(account_seed(2))
    nonce = int(
        httpx.get(f"{devnet.url}/v1/accounts/0x{signer.address().hex()}", timeout=10).json()[
            "nonce"
        ]
    )
    tx = build_signed_tx(signer, DEVNET_CHAIN, nonce, "validator_update", args)
    post_txs(devnet.url, [tx])
    tx_hash = "0x" + codec_hash(tx).hex()

    def committed() -> bool:
        found = httpx.get(f"{devnet.url}/v1/txs/{tx_hash}", timeout=10)
        return found.status_code == 200 and found.json().get("status") == "committed"

    wait_until(committed, 30, "the validator update commits")
    receipt = httpx.get(f"{devnet.url}/v1/txs/{tx_hash}", timeout=10).json()
    (changed,) = [e for e in receipt["events"] if e["kind"] == "validator_set_changed"]
    return int(changed["attributes"]["effective_height"])


def codec_hash(tx: bytes) -> bytes:
    return codec.compute_tx_hash(codec.decode_transaction(tx), codec.hash_profile("sha256"))


def test_real_notaries_attest_a_packet_after_a_full_validator_set_replacement(
    devnet: DevnetProcess, stamped: Anvil, hub: Hub
) -> None:
    env = stamped
    relayer_chains = hub.write("relayer.toml", chains_toml(devnet.url, env, hub=True))
    notary_chains = hub.write("notary.toml", chains_toml(devnet.url, env, hub=False))
    hub.start_api(relayer_chains)
    hub.start_relayer("relayer", relayer_chains)
    for index in range(3):
        hub.start_notary(index, notary_chains)
    before = voucher_balance(env, env.alice)
    timeout_ms = (int(time.time()) + 24 * 3600) * 1000
    _, txs = signed_sends(devnet.url, env.alice, timeout_ms, 2)

    post_txs(devnet.url, txs[:1])
    assert hub.wait_terminal(1, timeout=90) == {"completed": 1}
    anchors = {}
    for index in range(3):
        hub.processes.terminate(f"notary-{index}")
        doc = json.loads(
            (hub.root / f"notary-{index}" / "clients" / f"{DEVNET_CHAIN}.json").read_text()
        )
        anchors[index] = int(doc["trusted_height"])

    effective = _rotate(devnet)
    wait_until(lambda: _height(devnet) >= effective + 6, 30, "the new set signs blocks")
    post_txs(devnet.url, txs[1:])
    for index in range(3):
        hub.start_notary(index, notary_chains)

    assert hub.wait_terminal(2, timeout=120) == {"completed": 2}
    delivered = recv_sequences(env)
    assert sorted(delivered) == [1, 2]
    assert set(delivered.values()) == {1}
    assert voucher_balance(env, env.alice) == before + 2 * AMOUNT

    # Two notaries are a quorum: the third may still be catching up when the packet lands.
    # Each follows its chains every 5 s; every one of them must cross the rotation.
    def client_file(index: int) -> dict[str, object]:
        path = hub.root / f"notary-{index}" / "clients" / f"{DEVNET_CHAIN}.json"
        return json.loads(path.read_text())

    def all_crossed() -> bool:
        return all(int(client_file(i)["trusted_height"]) >= effective for i in range(3))

    wait_until(all_crossed, 60, "every notary's light client crosses the rotation")
    for index in range(3):
        doc = client_file(index)
        heights = sorted(map(int, doc["consensus_states"]))
        assert not doc["frozen"], doc["frozen_reason"]
        assert anchors[index] < effective - 1, (index, anchors[index], effective)
        # No skip can cross a set with no overlap: the adjacent pair was verified.
        assert {effective - 1, effective} <= set(heights), (index, heights)
