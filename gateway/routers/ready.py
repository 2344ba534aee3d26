"""``GET /readyz``: the store answers and every registered chain's adapter is reachable.

Degraded (200, ``"status": "degraded"``) when an adapter's sending accounts are
below their balance alarm (``core.seams.SignerHealth``): the hub still serves
and relays from its other accounts, but an operator must top one up. The
reasons name the chain and the account's address, never a key.

Each check has its own time limit (``READY_TIMEOUT``), and the checks run
concurrently, so a hung node costs one timeout, not one per chain. Without
an adapter provider on ``app.state`` (an API-only process) only the store is
checked.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Depends, Request

from core.records import ChainRecord
from core.seams import SignerHealth, Store
from gateway.problems import NotReady
from gateway.routers.deps import adapter_for, get_store

router = APIRouter(tags=["health"])

READY_TIMEOUT = 3.0


@router.get("/readyz")
async def readyz(
    request: Request, store: Annotated[Store, Depends(get_store)]
) -> dict[str, str | list[str]]:
    timeout = float(getattr(request.app.state, "ready_timeout", READY_TIMEOUT))
    failed: list[dict[str, str]] = []
    try:
        await asyncio.wait_for(to_thread.run_sync(_ping, store), timeout)
        chains = await asyncio.wait_for(to_thread.run_sync(store.chains), timeout)
    except Exception as err:  # any failure of the store means not ready
        raise NotReady("the store does not answer", failed=[_why("store", err)]) from None
    provider = request.app.state.adapters
    alarms: list[str] = []
    if provider is not None:
        enabled = [c for c in chains if c.enabled]
        results = await asyncio.gather(*(_check_chain(provider, c, timeout) for c in enabled))
        failed = [r for r in results if r is not None]
        for chain in enabled:
            adapter = adapter_for(provider, str(chain.chain_id))  # type: ignore[arg-type]
            if isinstance(adapter, SignerHealth):
                alarms += adapter.signer_alarms()
    if failed:
        names = ", ".join(f["check"] for f in failed)
        raise NotReady(f"not ready: {names}", failed=failed)
    if alarms:
        return {"status": "degraded", "signer_alarms": alarms}
    return {"status": "ready"}


def _ping(store: Store) -> None:
    ping = getattr(store, "ping", None)
    if ping is not None:
        ping()


async def _check_chain(
    provider: object, chain: ChainRecord, timeout: float
) -> dict[str, str] | None:
    name = f"chain {chain.chain_id}"
    adapter = adapter_for(provider, str(chain.chain_id))  # type: ignore[arg-type]
    if adapter is None:
        return {"check": name, "reason": "no adapter"}
    try:
        await asyncio.wait_for(adapter.latest_height(), timeout)
    except Exception as err:  # timeouts, ChainUnavailable, anything: the chain is not usable
        return _why(name, err)
    return None


def _why(check: str, err: BaseException) -> dict[str, str]:
    """The error's class and stable code, never its text (it may carry URLs or secrets)."""
    if isinstance(err, TimeoutError):
        return {"check": check, "reason": "timed out"}
    code = getattr(err, "code", None)
    return {"check": check, "reason": code or type(err).__name__}


__all__ = ["router"]
