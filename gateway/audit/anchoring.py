"""Anchoring a checkpoint's head hash on a chain the hub serves, through ``AnchorChain``.

The chain is reached through the seam only (``core.seams.AnchorChain``): a family
that cannot record 32 bytes does not declare it and is refused by name. The
transaction is not journaled: anchoring the same digest again is harmless (the
chain keeps the first height), so a crash between sending and recording is fixed
by anchoring again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from anyio import to_thread

from core.errors import InvalidInput, NotFound
from core.seams import AnchorChain
from gateway.routers.deps import AdapterProvider, adapter_for
from gateway.store.audit import CheckpointRecord

RECEIPT_POLLS = 40
RECEIPT_POLL_SECONDS = 0.25


def anchoring_adapter(adapters: AdapterProvider | None, chain_id: str) -> AnchorChain:
    """The chain's adapter as an ``AnchorChain`` with a signing account, or a clear refusal."""
    adapter = adapter_for(adapters, chain_id)
    if adapter is None:
        raise NotFound(f"this hub process serves no chain {chain_id!r}", chain_id=chain_id)
    if not isinstance(adapter, AnchorChain):
        raise InvalidInput(f"chain {chain_id!r} cannot anchor a digest", field="chain_id")
    if adapter.anchor_account is None:
        raise InvalidInput(
            f"chain {chain_id!r} has no signing key to anchor with", field="chain_id"
        )
    return adapter


async def anchor_checkpoint(
    store: Any,
    adapters: AdapterProvider | None,
    checkpoint: CheckpointRecord,
    chain_id: str,
    clock: Callable[[], float],
) -> CheckpointRecord:
    """Send the anchor, wait (bounded) for its block, and record where it is."""
    adapter = anchoring_adapter(adapters, chain_id)
    account = adapter.anchor_account
    assert account is not None  # checked by anchoring_adapter
    tx_hash = await adapter.anchor_digest(checkpoint.hash)
    height = None
    for _ in range(RECEIPT_POLLS):
        height = await adapter.anchored_height(checkpoint.hash, account)
        if height is not None:
            break
        await asyncio.sleep(RECEIPT_POLL_SECONDS)
    return await to_thread.run_sync(  # type: ignore[no-any-return]
        lambda: store.anchor_audit_checkpoint(
            checkpoint.seq,
            chain_id,
            tx_hash,
            None if height is None else int(height),
            account,
            clock(),
        )
    )


__all__ = ["anchor_checkpoint", "anchoring_adapter"]
