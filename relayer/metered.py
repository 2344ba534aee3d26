"""RPC errors counted where the relayer crosses the ``ChainAdapter`` seam, by chain id.

Errors carry no chain id (``core.errors``), so they are counted where the
chain is known: every call the relayer's watchers, protocol steps and light
clients make goes through a :class:`MeteredAdapter` of its chain, and a call
that fails with a ``ChainError`` (its stable ``code``: ``chain-unavailable``,
``chain-rejected``, ``reorg-detected``) or a raw transport failure
(``transport``) adds one to ``pjgw_relayer_rpc_errors_total{chain, code}``.
Labels stay bounded: the chain ids of the operator's chains file and a fixed
set of codes. The error itself is re-raised untouched (the retry policy sees
what it saw before).

The proxy forwards attribute reads (``__getattr__``); it is handed only to code
that calls methods and ``getattr``s them (the engine, the protocols, the light
client follower), never to ``isinstance`` capability checks: those see the
adapter itself (the swap watchtower and the API keep the raw adapters).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

import httpx

from core.errors import ChainError
from core.ids import ChainId
from core.seams import ChainAdapter

TRANSPORT = "transport"
"""The ``code`` label of a failure that is not a ``ChainError`` (socket, timeout)."""


def error_code(err: BaseException) -> str | None:
    """The label of an RPC failure, or ``None`` when ``err`` is not one."""
    if isinstance(err, ChainError):
        return err.code
    if isinstance(err, httpx.TransportError | TimeoutError | ConnectionError):
        return TRANSPORT
    return None


class MeteredAdapter:
    """``adapter`` with every failed RPC counted through ``on_error(chain, code)``."""

    def __init__(
        self, chain_id: ChainId, adapter: ChainAdapter, on_error: Callable[[str, str], None]
    ) -> None:
        self._chain = str(chain_id)
        self._adapter = adapter
        self._on_error = on_error

    @property
    def wrapped(self) -> ChainAdapter:
        return self._adapter

    def __repr__(self) -> str:
        return f"MeteredAdapter({self._chain}, {self._adapter!r})"

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._adapter, name)
        if name.startswith("_") or not callable(value) or inspect.isclass(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = value(*args, **kwargs)
            except Exception as err:
                self._count(err)
                raise
            if inspect.isawaitable(result):
                return self._awaited(result)
            return result

        return call

    async def _awaited(self, pending: Awaitable[Any]) -> Any:
        try:
            return await pending
        except Exception as err:
            self._count(err)
            raise

    def _count(self, err: BaseException) -> None:
        code = error_code(err)
        if code is not None:
            self._on_error(self._chain, code)


class MeteredAdapters(Mapping[ChainId, ChainAdapter]):
    """A live view of ``adapters`` (chains added at run time included), each metered."""

    def __init__(
        self, adapters: Mapping[ChainId, ChainAdapter], on_error: Callable[[str, str], None]
    ) -> None:
        self._adapters = adapters
        self._on_error = on_error
        self._wrapped: dict[ChainId, tuple[ChainAdapter, MeteredAdapter]] = {}

    def __getitem__(self, chain_id: ChainId) -> ChainAdapter:
        adapter = self._adapters[chain_id]
        known = self._wrapped.get(chain_id)
        if known is None or known[0] is not adapter:
            known = (adapter, MeteredAdapter(chain_id, adapter, self._on_error))
            self._wrapped[chain_id] = known
        return known[1]  # type: ignore[return-value]

    def __iter__(self) -> Iterator[ChainId]:
        return iter(self._adapters)

    def __len__(self) -> int:
        return len(self._adapters)


__all__ = ["TRANSPORT", "MeteredAdapter", "MeteredAdapters", "error_code"]
