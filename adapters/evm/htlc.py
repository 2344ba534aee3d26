"""``EvmHtlc``: the ``HashedTimelock`` contract as a ``core.swaps.HtlcEndpoint``.

Translation only: it decodes the contract's events (already decoded by the
adapter with the contract's ABI), builds ``htlc.claim`` / ``htlc.refund``
actions for ``EvmAdapter.submit`` and reads a lock's state with ``eth_call``.
The contract pays a claim to the lock's receiver and a refund to its sender,
whoever sends the transaction.
"""

from __future__ import annotations

from adapters.evm.adapter import EvmAdapter
from adapters.evm.artifacts import Artifact, load_artifact
from core.errors import ChainError, ConfigError
from core.ids import Height
from core.swaps import NATIVE_ASSET, HtlcEvent, LegState
from core.types import ChainAction, ChainEvent, EventKind

ZERO_ADDRESS = "0x" + "00" * 20
_STATES = {1: LegState.LOCKED, 2: LegState.CLAIMED, 3: LegState.REFUNDED}  # enum State


def _address(value: object) -> str:
    return str(value).lower()


class EvmHtlc:
    """The HTLC endpoint of one EVM chain (needs ``htlc_address`` in its settings)."""

    def __init__(self, adapter: EvmAdapter) -> None:
        if adapter.settings.htlc_address is None:
            raise ConfigError(f"no htlc_address is configured for {adapter.chain_id}")
        self.adapter = adapter
        self.address = adapter.settings.htlc_address

    @property
    def _artifact(self) -> Artifact:
        """The contract's ABI, read when a lock is first queried (a build output: an API
        that only asks whether the chain has an HTLC needs no compiled contracts)."""
        return load_artifact("HashedTimelock")

    def decode(self, event: ChainEvent) -> HtlcEvent | None:
        if event.attributes.get("contract") != self.address:
            return None
        a = event.attributes
        base = {
            "chain_id": event.chain_id,
            "height": Height(event.height),
            "tx_hash": event.tx_hash,
            "lock_id": bytes(a["id"]),  # type: ignore[arg-type]
        }
        if event.kind is EventKind.HTLC_LOCKED:
            token = _address(a["token"])
            return HtlcEvent(
                kind=event.kind,
                sender=_address(a["sender"]),
                receiver=_address(a["receiver"]),
                asset=NATIVE_ASSET if token == ZERO_ADDRESS else token,
                amount=int(a["amount"]),  # type: ignore[call-overload]
                hashlock=bytes(a["hashlock"]),  # type: ignore[arg-type]
                timelock=int(a["timelock"]),  # type: ignore[call-overload]
                **base,  # type: ignore[arg-type]
            )
        if event.kind is EventKind.HTLC_CLAIMED:
            return HtlcEvent(kind=event.kind, preimage=bytes(a["preimage"]), **base)  # type: ignore[arg-type]
        if event.kind is EventKind.HTLC_REFUNDED:
            return HtlcEvent(kind=event.kind, **base)  # type: ignore[arg-type]
        return None

    async def claim_action(self, lock_id: bytes, preimage: bytes, key: str) -> ChainAction:
        return ChainAction("htlc.claim", {"args": [bytes(lock_id), bytes(preimage)]}, key)

    async def refund_action(self, lock_id: bytes, key: str) -> ChainAction:
        return ChainAction("htlc.refund", {"args": [bytes(lock_id)]}, key)

    async def lock_status(self, lock_id: bytes) -> LegState | None:
        data = "0x" + self._artifact.encode_call("locks", bytes(lock_id)).hex()
        answer = await self.adapter.reader.call(
            "eth_call", {"to": self.address, "data": data}, "latest"
        )
        if not isinstance(answer, str) or not answer.startswith("0x"):
            raise ChainError("eth_call locks(): malformed answer")
        values = self._artifact.decode_output("locks", bytes.fromhex(answer[2:]))
        return _STATES.get(int(values[-1]))


__all__ = ["EvmHtlc"]
