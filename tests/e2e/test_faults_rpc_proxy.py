"""Every chain call of the hub through a proxy that refuses, cuts or delays 30 % of them.

One ``FaultyProxy`` (``rpc_proxy.py``) in front of the devnet node and one in
front of anvil; the API, the relayer and the three notaries know only the
proxies' URLs. Refused calls never reached the node; cut ones did (a
transaction was taken, its answer lost); delayed ones arrive late. Transfers
start both ways the hub knows: ``bridge_send`` transactions posted to the
devnet directly (not through the proxy: the test's own client is not under
test) and a few through the API, whose signed transactions the relayer must
submit through the faulty proxy. Everything must complete, once.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.harness import (
    AMOUNT,
    Hub,
    assert_conserved,
    chains_toml,
    create_key,
    post_txs,
    recv_sequences,
    signed_sends,
    voucher_balance,
)
from tests.e2e.rpc_proxy import FaultPlan, FaultyProxy
from tests.fixtures.devnet import DevnetProcess
from tests.fixtures.relay import ROUTE, Anvil

FROM_DEVNET = 30
FROM_API = 3
FAULT_RATE = 0.3


@pytest.fixture
def proxies(devnet: DevnetProcess, stamped: Anvil) -> Iterator[tuple[FaultyProxy, FaultyProxy]]:
    plan = {"fault_rate": FAULT_RATE, "delay": (0.05, 0.8)}
    with (
        FaultyProxy(devnet.url, FaultPlan(**plan, seed=1)) as to_devnet,  # type: ignore[arg-type]
        FaultyProxy(stamped.node.url, FaultPlan(**plan, seed=2)) as to_anvil,  # type: ignore[arg-type]
    ):
        yield to_devnet, to_anvil


@pytest.mark.slow
@pytest.mark.timeout(600)  # its own deadlines decide; the suite default is 300 s
def test_transfers_complete_when_30_percent_of_chain_calls_are_refused_cut_or_delayed(
    devnet: DevnetProcess,
    stamped: Anvil,
    proxies: tuple[FaultyProxy, FaultyProxy],
    hub: Hub,  # after the proxies: its processes stop before the proxies do
) -> None:
    env = stamped
    to_devnet, to_anvil = proxies
    total = FROM_DEVNET + FROM_API
    hub.relayer_env["PJGW_RELAYER_BACKOFF_CAP"] = "5"
    relayer_chains = hub.write(
        "relayer.toml", chains_toml(to_devnet.url, env, hub=True, evm_url=to_anvil.url)
    )
    notary_chains = hub.write(
        "notary.toml", chains_toml(to_devnet.url, env, hub=False, evm_url=to_anvil.url)
    )
    hub.start_api(relayer_chains)
    for i in range(3):
        hub.start_notary(i, notary_chains)
    hub.start_relayer("relayer", relayer_chains)
    before = voucher_balance(env, env.alice)
    first_block = env.chain.block_number()
    timeout_ms = (int(time.time()) + 24 * 3600) * 1000
    started = time.monotonic()
    _, txs = signed_sends(devnet.url, env.alice, timeout_ms, FROM_DEVNET)
    post_txs(devnet.url, txs)
    token = create_key(hub.store_env, "app", "client")
    sender, api_txs = signed_sends(devnet.url, env.alice, timeout_ms, FROM_API, account=1)
    for tx in api_txs:
        body = {
            "route_id": ROUTE,
            "kind": "asset",
            "sender": sender,
            "receiver": env.alice,
            "denom": "upj",
            "amount": str(AMOUNT),
            "timeout_seconds": timeout_ms // 1000,
            "signed_tx": "0x" + tx.hex(),
        }
        headers = {"X-API-Key": token, "Idempotency-Key": str(uuid.uuid4())}
        created = httpx.post(hub.url + "/v1/transfers", json=body, headers=headers, timeout=10)
        assert created.status_code == 201, created.text

    states = hub.wait_terminal(total, timeout=150)
    elapsed = time.monotonic() - started
    faults = {"devnet": dict(to_devnet.counts), "anvil": dict(to_anvil.counts)}
    assert states == {"completed": total}, f"{dict(states)}; proxy {faults}"
    delivered = recv_sequences(env)
    assert sorted(delivered) == list(range(1, total + 1)), faults
    assert set(delivered.values()) == {1}, faults
    assert voucher_balance(env, env.alice) == before + total * AMOUNT
    assert_conserved(devnet.url, env, start_block=first_block)
    for proxy in (to_devnet, to_anvil):  # every kind of fault happened, or the test proved less
        assert {"refuse", "drop", "delay", "pass"} <= set(proxy.counts), faults
    print(f"\n{total} transfers through faulty proxies: {elapsed:.1f} s; calls {faults}")
