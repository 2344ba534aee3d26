"""The journal's step names: what a transfer or a swap asks a chain to do.

One row per subject and step in the store's journal (``Store.record_action``),
written before the chain sees the action. The names are stored, so they are
part of the store's format: never rename one.
"""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    """Transfer steps; a swap's steps are ``swap_step(kind, leg, attempt)``."""

    SOURCE_SUBMIT = "source_submit"  # the source transaction, hub-signed or client-signed
    DELIVER = "deliver"  # the packet delivered to the destination
    REFUND = "refund"  # the packet refunded on its source after its timeout
    ACK = "ack"  # the destination's receive event, recorded as the acknowledgement
    FAILED = "failed"  # the destination's packet_failed event, recorded: an ERROR_ACK refunds it


SWAP_KINDS = ("claim", "refund")


def swap_step(kind: str, leg: int, attempt: int = 1) -> str:
    """``claim_leg1``, ``refund_leg2``…; a retry after a failed send is ``…#2``, ``…#3``."""
    if kind not in SWAP_KINDS or leg not in (1, 2) or attempt < 1:
        raise ValueError(f"no swap step {kind!r} of leg {leg} (attempt {attempt})")
    base = f"{kind}_leg{leg}"
    return base if attempt == 1 else f"{base}#{attempt}"


__all__ = ["SWAP_KINDS", "Step", "swap_step"]
