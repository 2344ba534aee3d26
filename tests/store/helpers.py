"""Builders shared by the store tests."""

from __future__ import annotations

from typing import Any

from core.ids import ChainId, PacketId
from core.records import NewTransfer, TransferKind
from core.states import DELIVERY_PATH, TransferState

A = ChainId("chain-a")
B = ChainId("chain-b")
C = ChainId("chain-c")
ROUTE_AB = "a-to-b"
ROUTE_BC = "b-to-c"


def new_transfer(
    *, route_id: str = ROUTE_AB, sequence: int | None = None, amount: int = 1000, **kw: object
) -> NewTransfer:
    packet = PacketId(A, B, sequence) if sequence is not None else None
    return NewTransfer(  # type: ignore[arg-type]
        route_id=route_id,
        kind=TransferKind.ASSET,
        sender="0xsender",
        receiver="0xreceiver",
        denom="upjt",
        amount=amount,
        packet=packet,
        **kw,
    )


# The happy path, state by state (each move is in the transition table).
HAPPY_PATH = list(DELIVERY_PATH)


def transfer_row(i: int, state: TransferState) -> dict[str, Any]:
    """A ``transfers`` row of route ``r`` (a -> b), as every revision holds it: tests of
    migrations write it where the store's code would write other tables too."""
    return {
        "id": f"tr_{i:032x}",
        "route_id": "r",
        "source_chain": "a",
        "dest_chain": "b",
        "kind": "asset",
        "sender": "0x" + "01" * 20,
        "receiver": "0x" + "02" * 20,
        "denom": "upj",
        "amount": 1000 + i,
        "payload": b"",
        "timeout_height": 0,
        "timeout_time": 0,
        "state": state.value,
        "reason": f"in {state.value}",
        "packet_source": "a",
        "packet_destination": "b",
        "packet_sequence": i,
        "source_tx": bytes([i]) * 32,
        "source_height": 10 + i,
        "source_position": None,
        "source_event": b"",
        "dest_tx": None,
        "attempts": 0,
        "next_attempt_at": 1.0,
        "created_at": float(i),
        "updated_at": float(i),
        "lease_owner": None,
        "lease_until": None,
        "idempotency_key": None,
        "request_hash": None,
    }


def insert_old_chains_and_route(conn: Any) -> None:
    """Chains ``a``, ``b`` and route ``r`` (a -> b) as rows of a schema before 0009, for
    migration tests: the store's own code speaks the newest schema only."""
    import sqlalchemy as sa

    from gateway.store.codec import dumps

    chains = sa.table(
        "chains", sa.column("chain_id"), sa.column("family"), sa.column("settings"),
        sa.column("enabled"),
    )  # fmt: skip
    routes = sa.table(
        "routes", sa.column("route_id"), sa.column("source"), sa.column("destination"),
        sa.column("protocol"), sa.column("settings"), sa.column("enabled"),
    )  # fmt: skip
    for chain_id, family in (("a", "pujiang"), ("b", "evm")):
        conn.execute(
            sa.insert(chains),
            {"chain_id": chain_id, "family": family, "settings": dumps({}), "enabled": True},
        )
    conn.execute(
        sa.insert(routes),
        {
            "route_id": "r",
            "source": "a",
            "destination": "b",
            "protocol": "notary",
            "settings": dumps({}),
            "enabled": True,
        },
    )
