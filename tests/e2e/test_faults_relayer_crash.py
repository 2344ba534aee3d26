"""A relayer process SIGKILLed at random points during 200 transfers, and restarted, 20 times.

Every part is a process: a devnet node, anvil, the API (``pjgw serve
--no-relay``), three notaries and one relayer (``pjgw relay``) on a SQLite
store. 200 ``bridge_send`` transactions go straight to the devnet node (the
relayer's watcher turns each ``send_packet`` into a transfer): 100 at once,
then 5 more before each kill, so every kill lands on work in flight. The
relayer is killed 20 times, each at a random moment after it has moved a
transfer again (so the kill lands mid-work, not during its start-up), and
started anew. The journal rule (``docs/relayer.md``) must make every
transfer complete exactly once: anvil shows one ``RecvPacket`` per sequence, the
receiver's voucher balance rose by the sum, and the devnet's escrow equals
the voucher supply (conservation, read from the chains).
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

from tests.e2e.harness import (
    AMOUNT,
    Hub,
    assert_conserved,
    bridge_transactions,
    chains_toml,
    post_txs,
    recv_sequences,
    signed_sends,
    voucher_balance,
    wait_until,
)
from tests.fixtures.devnet import DevnetProcess
from tests.fixtures.relay import Anvil

TRANSFERS = 200
KILLS = 20
LEASE_SECONDS = "2"  # a killed relayer's leases (and watch) lapse while its successor starts


def _transitions(log: Path) -> int:
    """Transfer state changes a relayer logged (``transfer ID: a -> b``), all its lives."""
    if not log.exists():
        return 0
    return log.read_text(errors="replace").count(" -> ")


@pytest.mark.slow
@pytest.mark.timeout(900)  # its own deadlines decide; the suite default is 300 s
def test_a_relayer_killed_20_times_during_200_transfers_delivers_each_exactly_once(
    tmp_path: Path, devnet: DevnetProcess, stamped: Anvil, hub: Hub
) -> None:
    env = stamped
    seed = int(os.environ.get("PJGW_FAULT_SEED", random.randrange(2**32)))
    rng = random.Random(seed)
    relayer_chains = hub.write("relayer.toml", chains_toml(devnet.url, env, hub=True))
    notary_chains = hub.write("notary.toml", chains_toml(devnet.url, env, hub=False))
    hub.relayer_env["PJGW_RELAYER_LEASE_SECONDS"] = LEASE_SECONDS
    hub.relayer_env["PJGW_RELAYER_WATCH_LEASE_SECONDS"] = LEASE_SECONDS  # its watch, as well
    hub.start_api(relayer_chains)
    for i in range(3):
        hub.start_notary(i, notary_chains)
    first_block = env.chain.block_number() + 1
    before = voucher_balance(env, env.alice)
    timeout_ms = (int(time.time()) + 24 * 3600) * 1000
    _, txs = signed_sends(devnet.url, env.alice, timeout_ms, TRANSFERS)
    hub.start_relayer("relayer", relayer_chains)
    started = time.monotonic()

    log = tmp_path / "relayer.log"
    post_txs(devnet.url, txs[: TRANSFERS // 2])  # 100 at once, then 5 before each kill:
    wave = TRANSFERS // 2 // KILLS  # the last kills, too, land on work in flight
    killed_after: list[int] = []
    for i in range(KILLS):
        post_txs(devnet.url, txs[TRANSFERS // 2 + i * wave : TRANSFERS // 2 + (i + 1) * wave])
        moved = _transitions(log)
        wait_until(lambda m=moved: _transitions(log) > m, 60, "the relayer moved a transfer")
        time.sleep(rng.uniform(0.0, 1.0))
        hub.processes.kill("relayer")
        killed_after.append(_transitions(log))
        hub.start_relayer("relayer", relayer_chains)
    kills_done = time.monotonic() - started

    states = hub.wait_terminal(TRANSFERS, timeout=120)
    elapsed = time.monotonic() - started
    context = f"seed {seed}; states {dict(states)}; kills after {killed_after} transitions"
    assert states == {"completed": TRANSFERS}, context
    delivered = recv_sequences(env)
    assert sorted(delivered) == list(range(1, TRANSFERS + 1)), context
    assert set(delivered.values()) == {1}, f"{context}; delivered twice: {delivered}"
    assert voucher_balance(env, env.alice) == before + TRANSFERS * AMOUNT, context
    assert_conserved(devnet.url, env, start_block=first_block)
    sends = bridge_transactions(env, first_block)
    reverted = sum(1 for tx in sends if tx.status == 0)
    print(
        f"\n{TRANSFERS} transfers, {KILLS} kills: {elapsed:.1f} s (kills over after "
        f"{kills_done:.1f} s); bridge transactions "
        f"{len(sends)} ({reverted} reverted); seed {seed}"
    )
