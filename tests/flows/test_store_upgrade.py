"""Transfers in flight cross the journal migration (0006) and are relayed to completion.

Real chains (the devnet in process, anvil) and a ``Relayer`` on a ``SqlStore``
file: three packets are carried part of the way one step per pass, so they
stop in different states with history lines and journal rows. The store is
then taken down to revision 0005 (the schema with the twin journals: the
downgrade writes every row back into ``actions``/``transfer_events``) and up
again to head, a new relayer carries every transfer to ``completed``, each
packet is delivered exactly once, the history written before the migration is
still the start of each transfer's history, and conservation holds on the chains.
"""

from __future__ import annotations

import asyncio
import time

from core.states import TERMINAL_TRANSFER_STATES, TransferState
from gateway.store.migrate import alembic_config, current_revision, head_revision, upgrade_engine
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.flows.conservation import Asset, check_conservation
from tests.flows.helpers import Flows, close, sign_all_proven

AMOUNT = 77
UPJ = Asset(DEVNET_CHAIN, "upj")


def _down_and_up(flows: Flows) -> tuple[str | None, str | None]:
    from alembic import command

    engine = flows.store.engine
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0005")
    middle = current_revision(engine)
    upgrade_engine(engine, "head")
    return middle, current_revision(engine)


def test_transfers_in_flight_cross_the_journal_migration_and_complete(flows: Flows) -> None:
    txs = []
    for _ in range(3):
        txs.append(flows.devnet_send(flows.alice_anvil, "upj", AMOUNT))
        flows.devnet.node.produce_block()

    async def part_way() -> dict[str, TransferState]:
        # Per packet: the migration under test carries the per-transfer journal over.
        relayer = flows.relayer("relayer-before", steps_per_claim=1, attestation="packet")
        try:
            for _ in range(40):
                await relayer.run_once()
                await sign_all_proven(flows.store, relayer, time.time())
                flows.devnet.node.produce_block()
                states = {
                    t.id: t.state
                    for tx in txs
                    if (t := flows.transfer_of(DEVNET_CHAIN, tx)) is not None
                }
                if len(states) == 3 and TransferState.DEST_SUBMITTED in states.values():
                    return states
            raise AssertionError(f"no transfer reached dest_submitted: {states}")
        finally:
            await close(relayer)

    before = asyncio.run(part_way())
    assert not set(before.values()) & TERMINAL_TRANSFER_STATES, before
    histories = {t: [h.reason for h in flows.store.history(t)] for t in before}
    journals = {t: flows.store.action(t, "deliver") for t in before}
    assert any(journal is not None for journal in journals.values())

    middle, head = _down_and_up(flows)
    assert (middle, head) == ("0005", head_revision())
    for t, reasons in histories.items():
        assert [h.reason for h in flows.store.history(t)] == reasons
        journal = flows.store.action(t, "deliver")
        if journals[t] is not None:
            assert journal is not None
            assert (journal.status, journal.tx_hash, journal.payload) == (
                journals[t].status,  # type: ignore[union-attr]
                journals[t].tx_hash,  # type: ignore[union-attr]
                journals[t].payload,  # type: ignore[union-attr]
            )

    done = [flows.run(DEVNET_CHAIN, tx) for tx in txs]
    assert [t.state for t in done] == [TransferState.COMPLETED] * 3
    for t in done:
        assert [h.reason for h in flows.store.history(t.id)][: len(histories[t.id])] == (
            histories[t.id]
        )
    sequences = sorted(t.packet.sequence for t in done)  # type: ignore[union-attr]
    received = [
        e
        for e in flows.evm.chain._decode_logs(
            flows.evm.chain.call(
                "eth_getLogs",
                {"address": flows.evm.bridge.address, "fromBlock": "0x0", "toBlock": "latest"},
            )
        )
        if e.name == "RecvPacket" and e.args["packet"][1] == DEVNET_CHAIN
    ]
    delivered = sorted(e.args["packet"][0] for e in received if e.args["packet"][0] in sequences)
    assert delivered == sequences  # each exactly once
    assert LOCAL_CHAIN in {str(t.packet.destination) for t in done}  # type: ignore[union-attr]
    check_conservation(*flows.views(), [UPJ])
