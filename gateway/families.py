"""The chain families as the API sees them: each family's adapter CLASS, asked what it declares.

The API often holds only a ``ChainRecord`` (the family's name and its opaque
settings). What a family knows without a node (its address format, its asset
names, its managed-account keys: ``core.seams.FamilyRules`` and ``ManagedKeys``)
is asked of the adapter class the registry loads for that name; what needs the
chain's settings (checking a client-signed send, HTLC timing) is asked of an
adapter built from the record (``offline_adapter``), which reads no node.

No family is named here. A family that declares no rules keeps the shape-only
address check (1-128 non-space characters; the raw bytes are the text's UTF-8),
and one that is not installed is refused where an adapter is needed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

from adapters.chains_file import build_adapter
from adapters.registry import Registry
from core.errors import ConfigError
from core.records import ChainRecord
from core.seams import ChainAdapter, Closable, FamilyRules, ManagedKeys


class Families:
    """Adapter classes by family name (loaded once), and adapters built from records."""

    def __init__(self, registry: Callable[[], Registry]) -> None:
        self._registry = registry
        self._classes: dict[str, type | None] = {}
        self._offline: dict[tuple[str, str], ChainAdapter] = {}
        self._lock = threading.Lock()

    def registry(self) -> Registry:
        """The registry these families come from (one entry-point scan, shared)."""
        return self._registry()

    def adapter_class(self, family: str) -> type | None:
        """The family's adapter class; None when it is not installed or broken."""
        if family not in self._classes:
            try:
                found: type | None = self._registry().load(family)
            except ConfigError:
                found = None
            self._classes[family] = found
        return self._classes[family]

    def rules(self, family: str) -> FamilyRules | None:
        """What the family declares about its addresses and assets (None: nothing)."""
        cls = self.adapter_class(family)
        return cls if isinstance(cls, FamilyRules) else None

    def keys(self, family: str) -> ManagedKeys | None:
        """How the family keeps managed-account keys (None: it declares nothing)."""
        cls = self.adapter_class(family)
        return cls if isinstance(cls, ManagedKeys) else None

    def validate_address(self, family: str, value: str, field: str) -> str:
        """``value`` as an address of ``family``, normalized; ``InvalidInput`` naming ``field``."""
        rules = self.rules(family)
        return value if rules is None else rules.validate_address(value, field)

    def address_bytes(self, family: str, value: str) -> bytes:
        """The raw bytes a bridge carries for an address (already validated) of ``family``."""
        rules = self.rules(family)
        return value.encode() if rules is None else rules.address_bytes(value)

    def validate_asset(self, family: str, value: str, field: str) -> str:
        """An HTLC leg's asset as the store keeps it, by the family's rule."""
        rules = self.rules(family)
        return value if rules is None else rules.validate_asset(value, field)

    def offline_adapter(self, record: ChainRecord) -> ChainAdapter:
        """An adapter of ``record`` for questions that need its settings but no node.

        Built through the registry and the family's settings model (``ConfigError``
        on bad settings), cached per chain and settings, closed by ``aclose``.

        CONTRACT: callers use only capabilities that read no node (checking a
        signed send, HTLC timing, whether the chain has an HTLC); anything that
        reads the chain goes to the hub's live adapters.
        """
        key = (str(record.chain_id), json.dumps(record.settings, sort_keys=True, default=str))
        with self._lock:
            found = self._offline.get(key)
        if found is None:
            found = build_adapter(record, self._registry())
            with self._lock:
                found = self._offline.setdefault(key, found)
        return found

    async def aclose(self) -> None:
        """Release the adapters built from records (their unused connection pools)."""
        with self._lock:
            built, self._offline = list(self._offline.values()), {}
        for adapter in built:
            if isinstance(adapter, Closable):
                await adapter.aclose()


__all__ = ["Families"]
