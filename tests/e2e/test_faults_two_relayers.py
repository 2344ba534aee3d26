"""Two relayer processes on one PostgreSQL database: no destination transaction is sent twice.

Both ``pjgw relay`` processes watch the same route and lease work from the
same store (``FOR UPDATE SKIP LOCKED``); each signs on anvil with its own
account, as an operator deploys them (``deploy/compose.yaml``). 200 transfers
start from ``bridge_send`` transactions posted to the devnet node, and a few
more through the API (``POST /v1/transfers`` with a signed transaction, so a
relayer also submits source transactions). The count is taken from anvil's
blocks, not from the hub: every transaction sent to the Bridge, successful or
reverted (a reverted duplicate is still a duplicate send), must be exactly one
per packet, and every packet must be received once.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import (
    AMOUNT,
    Hub,
    assert_conserved,
    bridge_transactions,
    chains_toml,
    create_key,
    post_txs,
    recv_sequences,
    signed_sends,
    voucher_balance,
)
from tests.fixtures.devnet import DevnetProcess
from tests.fixtures.relay import ROUTE, Anvil

FROM_DEVNET = 200
FROM_API = 5


def _api_transfers(hub: Hub, devnet_url: str, receiver: str, timeout_ms: int) -> None:
    """``FROM_API`` transfers through ``POST /v1/transfers`` (dev account 1 signs)."""
    token = create_key(hub.store_env, "app", "client")
    sender, txs = signed_sends(devnet_url, receiver, timeout_ms, FROM_API, account=1)
    with httpx.Client(base_url=hub.url, timeout=10) as client:
        for tx in txs:
            body = {
                "route_id": ROUTE,
                "kind": "asset",
                "sender": sender,
                "receiver": receiver,
                "denom": "upj",
                "amount": str(AMOUNT),
                "timeout_seconds": timeout_ms // 1000,
                "signed_tx": "0x" + tx.hex(),
            }
            headers = {"X-API-Key": token, "Idempotency-Key": str(uuid.uuid4())}
            created = client.post("/v1/transfers", json=body, headers=headers)
            assert created.status_code == 201, created.text


@pytest.mark.slow
@pytest.mark.timeout(600)  # its own deadlines decide; the suite default is 300 s
def test_two_relayers_on_one_postgres_send_each_packet_to_anvil_exactly_once(
    tmp_path: Path, devnet: DevnetProcess, stamped: Anvil, hub: Hub, pg_url: str
) -> None:
    env = stamped
    total = FROM_DEVNET + FROM_API
    hub.store_env["PJGW_DATABASE_URL"] = pg_url
    # Small claims make the two relayers interleave on the same transfers' neighbourhood.
    hub.relayer_env["PJGW_RELAYER_CLAIM_LIMIT"] = "20"
    keys = [a.private_key for a in env.node.accounts[3:5]]  # 3: the fixture's relayer, 4: unused
    relayers = [a.address.lower() for a in env.node.accounts[3:5]]
    chains = [
        hub.write(f"relayer-{i}.toml", chains_toml(devnet.url, env, hub=True, signer_key=key))
        for i, key in enumerate(keys)
    ]
    notary_chains = hub.write("notary.toml", chains_toml(devnet.url, env, hub=False))
    hub.start_api(chains[0])
    for i in range(3):
        hub.start_notary(i, notary_chains)
    first_block = env.chain.block_number() + 1
    before = voucher_balance(env, env.alice)
    timeout_ms = (int(time.time()) + 24 * 3600) * 1000
    for i, path in enumerate(chains):
        hub.start_relayer(f"relayer-{i}", path)
    started = time.monotonic()
    _, txs = signed_sends(devnet.url, env.alice, timeout_ms, FROM_DEVNET)
    post_txs(devnet.url, txs)
    _api_transfers(hub, devnet.url, env.alice, timeout_ms)

    states = hub.wait_terminal(total, timeout=150)
    elapsed = time.monotonic() - started
    assert states == {"completed": total}, dict(states)
    sends = bridge_transactions(env, first_block)
    by_sender = Counter(tx.sender for tx in sends)
    context = f"bridge transactions by sender {dict(by_sender)}"
    # Batch mode (the default, issue #15): a root and a few batch deliveries carry them all.
    assert len(sends) <= total, context
    assert all(tx.status == 1 for tx in sends), f"{context}; reverted: {sends}"
    assert set(by_sender) <= set(relayers), context
    delivered = recv_sequences(env)
    assert sorted(delivered) == list(range(1, total + 1)), context
    assert set(delivered.values()) == {1}, context
    assert voucher_balance(env, env.alice) == before + total * AMOUNT
    assert_conserved(devnet.url, env, start_block=first_block)
    _audit_chain_is_one(pg_url)
    print(f"\n{total} transfers, 2 relayers on PostgreSQL: {elapsed:.1f} s; {context}")


def _audit_chain_is_one(url: str) -> None:
    """The two relayer processes and the API appended to one audit chain: it verifies from
    the genesis link to the head, with no gap or fork (docs/supervision.md)."""
    from gateway.store import SqlStore
    from proofs.audit import validate_chain

    store = SqlStore(url)
    try:
        entries, after = [], 0
        while True:
            page, cursor = store.audit_entries(after_seq=after, limit=1000)
            entries += page
            if cursor is None:
                break
            after = cursor
        assert validate_chain(entries).hash == store.audit_head()[1]
        assert {e["actor"] for e in entries} >= {"hub"}  # the relayers' steps are in it
    finally:
        store.close()
