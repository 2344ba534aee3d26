"""``PujiangHtlc``: the devnet ``htlc`` module as a ``core.swaps.HtlcEndpoint``.

Claims and refunds are signed with the adapter's relayer key and handed over
as ``raw_tx`` actions, so the journal holds the signed bytes and a resend
after a crash is the same transaction (idempotent by hash), never a second
claim. The module pays a claim to the HTLC's receiver and a refund to its
sender, whoever signs. Timelocks: the chain counts milliseconds, swaps whole
seconds (``timelock_ms = timelock * 1000``).
"""

from __future__ import annotations

import rlp

from adapters.pujiang import actions, wire
from adapters.pujiang.adapter import PujiangAdapter
from core.errors import ChainError
from core.ids import Height
from core.swaps import HtlcEvent, LegState
from core.types import ChainAction, ChainEvent, EventKind

HTLC_PREFIX = b"htlc/"
"""State key of a lock: ``htlc/<id>`` (docs/pujiang-chain.md)."""
_STATES = {0: LegState.LOCKED, 1: LegState.CLAIMED, 2: LegState.REFUNDED}


def _hex(value: object) -> str:
    return "0x" + bytes(value).hex()  # type: ignore[call-overload]


class PujiangHtlc:
    """The HTLC endpoint of one Pujiang chain."""

    def __init__(self, adapter: PujiangAdapter) -> None:
        self.adapter = adapter

    def decode(self, event: ChainEvent) -> HtlcEvent | None:
        a = event.attributes
        if event.kind not in (
            EventKind.HTLC_LOCKED,
            EventKind.HTLC_CLAIMED,
            EventKind.HTLC_REFUNDED,
        ) or not isinstance(a.get("htlc_id"), bytes):
            return None
        base = {
            "kind": event.kind,
            "chain_id": event.chain_id,
            "height": Height(event.height),
            "tx_hash": event.tx_hash,
            "lock_id": a["htlc_id"],
        }
        if event.kind is EventKind.HTLC_LOCKED:
            ms = int(a["timelock_ms"])  # type: ignore[call-overload]
            return HtlcEvent(
                sender=_hex(a["sender"]),
                receiver=_hex(a["receiver"]),
                asset=str(a["denom"]),
                amount=int(a["amount"]),  # type: ignore[call-overload]
                hashlock=bytes(a["hashlock"]),  # type: ignore[arg-type]
                timelock=ms // 1000 if ms % 1000 == 0 else None,
                **base,  # type: ignore[arg-type]
            )
        if event.kind is EventKind.HTLC_CLAIMED:
            return HtlcEvent(preimage=bytes(a["preimage"]), **base)  # type: ignore[arg-type]
        return HtlcEvent(**base)  # type: ignore[arg-type]

    async def _signed(self, kind: str, payload: dict[str, object], key: str) -> ChainAction:
        tx = await self.adapter.build_transaction(ChainAction(kind, payload, key))
        return actions.raw_tx_action(tx, idempotency_key=key, hash_fn=self.adapter.hash_fn)

    async def claim_action(self, lock_id: bytes, preimage: bytes, key: str) -> ChainAction:
        payload: dict[str, object] = {"htlc_id": _hex(lock_id), "preimage": _hex(preimage)}
        return await self._signed(actions.HTLC_CLAIM, payload, key)

    async def refund_action(self, lock_id: bytes, key: str) -> ChainAction:
        return await self._signed(actions.HTLC_REFUND, {"htlc_id": _hex(lock_id)}, key)

    async def lock_status(self, lock_id: bytes) -> LegState | None:
        key = HTLC_PREFIX + bytes(lock_id)
        answer = await self.adapter.node.get("/v1/proofs/state", {"key": "0x" + key.hex()})
        if answer.get("value") is None:
            return None
        value = wire.hex_field(answer, "value", f"htlc 0x{bytes(lock_id).hex()}")
        try:
            status = rlp.decode(value)[6]
        except (rlp.DecodingError, IndexError, TypeError) as err:
            raise ChainError("the node served an htlc record that does not decode") from err
        return _STATES.get(int.from_bytes(status, "big"))


__all__ = ["PujiangHtlc"]
