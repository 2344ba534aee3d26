"""Notary processes down: the quorum forms with the others; below it, transfers wait and say why.

The anvil Bridge's committee is the devnet's three genesis notaries with
threshold two. With one notary process never started, transfers complete
on the other two. With a second one stopped, new transfers stop at
``proven`` and their ``reason`` (``GET /v1/transfers/{id}``) names what they
wait for; when the third notary starts, they complete.
"""

from __future__ import annotations

import time

import httpx

from tests.e2e.harness import (
    AMOUNT,
    Hub,
    assert_conserved,
    chains_toml,
    post_txs,
    recv_sequences,
    signed_sends,
    voucher_balance,
    wait_until,
)
from tests.fixtures.devnet import DevnetProcess
from tests.fixtures.relay import Anvil

BATCH = 5


def _by_state(hub: Hub, state: str) -> list[dict[str, object]]:
    """The transfers in ``state``, each as ``GET /v1/transfers/{id}`` returns it."""
    listed = httpx.get(
        f"{hub.url}/v1/transfers", params={"status": state, "limit": 200}, timeout=10
    )
    listed.raise_for_status()
    return [
        httpx.get(f"{hub.url}/v1/transfers/{t['id']}", timeout=10).json()
        for t in listed.json()["items"]
    ]


def test_two_of_three_notaries_attest_and_with_one_left_transfers_wait_with_a_reason(
    devnet: DevnetProcess, stamped: Anvil, hub: Hub
) -> None:
    env = stamped
    relayer_chains = hub.write("relayer.toml", chains_toml(devnet.url, env, hub=True))
    notary_chains = hub.write("notary.toml", chains_toml(devnet.url, env, hub=False))
    hub.start_api(relayer_chains)
    hub.start_relayer("relayer", relayer_chains)
    hub.start_notary(0, notary_chains)
    hub.start_notary(1, notary_chains)  # notary 2 is down from the start
    before = voucher_balance(env, env.alice)
    first_block = env.chain.block_number()
    timeout_ms = (int(time.time()) + 24 * 3600) * 1000
    _, txs = signed_sends(devnet.url, env.alice, timeout_ms, 2 * BATCH)

    # One of three down: the other two are the threshold.
    post_txs(devnet.url, txs[:BATCH])
    assert hub.wait_terminal(BATCH, timeout=60) == {"completed": BATCH}

    # Two of three down: new transfers stop at ``proven`` and say what they wait for.
    hub.processes.terminate("notary-1")
    post_txs(devnet.url, txs[BATCH:])

    def waiting() -> bool:
        found = _by_state(hub, "proven")
        return len(found) == BATCH and all("1 of 2" in str(t["reason"]) for t in found)

    wait_until(waiting, 60, f"{BATCH} transfers waiting for a second notary")
    time.sleep(3)  # ample time for a relayer pass or ten: nothing moves without a quorum
    stuck = _by_state(hub, "proven")
    assert len(stuck) == BATCH, hub.states()
    for transfer in stuck:
        assert str(transfer["reason"]).startswith("waiting for notaries: 1 of 2"), transfer
    assert hub.states()["completed"] == BATCH

    # One notary back: the quorum forms again and the waiting transfers complete.
    hub.start_notary(2, notary_chains)
    assert hub.wait_terminal(2 * BATCH, timeout=60) == {"completed": 2 * BATCH}
    delivered = recv_sequences(env)
    assert sorted(delivered) == list(range(1, 2 * BATCH + 1))
    assert set(delivered.values()) == {1}
    assert voucher_balance(env, env.alice) == before + 2 * BATCH * AMOUNT
    assert_conserved(devnet.url, env, start_block=first_block)
