"""Builders shared by the store tests."""

from __future__ import annotations

from core.ids import ChainId, PacketId
from core.records import NewTransfer, TransferKind
from core.states import TransferState

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
HAPPY_PATH = [
    TransferState.REQUESTED,
    TransferState.SOURCE_COMMITTED,
    TransferState.SOURCE_FINAL,
    TransferState.PROVEN,
    TransferState.ATTESTED,
    TransferState.DEST_SUBMITTED,
    TransferState.COMPLETED,
]
