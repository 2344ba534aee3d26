"""The chains file: which chains a hub or a notary talks to, and the routes between them.

One TOML format for every process of a deployment (the hub, each notary), so
an operator describes a chain once::

    [chains.pujiang-devnet]
    family = "pujiang"                  # an installed adapter family (pjgw adapters list)
    url = "http://127.0.0.1:26650"      # ... every other key is the adapter's own settings
    relayer_key = "…"                   # secrets only in the hub's copy, never a notary's

    [chains.anvil-31337]
    family = "evm"
    rpc_url = "http://127.0.0.1:8545"
    evm_chain_id = 31337
    bridge_address = "0x…"

    [routes.devnet-to-anvil]
    source = "pujiang-devnet"
    destination = "anvil-31337"
    protocol = "notary"                 # notary (default) | htlc | light_client

Keys a process reads for itself rather than the adapter (a notary's
checkpoint, say) are named by that process and taken out before the adapter's
settings model sees the rest (``reserved``). Errors name the chain and the
bad fields, never a value: the file may hold keys.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.registry import Registry, discover
from adapters.sdk import settings_model_of, validate_settings
from core.errors import ConfigError, PjgwError
from core.ids import ChainId
from core.records import ChainRecord, RouteProtocol, RouteRecord
from core.seams import ChainAdapter, FamilyRules


@dataclass(frozen=True)
class ChainsFile:
    chains: dict[ChainId, ChainRecord]
    routes: dict[str, RouteRecord]
    reserved: dict[ChainId, dict[str, Any]] = field(default_factory=dict, repr=False)
    hub: dict[str, Any] = field(default_factory=dict, repr=False)  # the [hub] table, if any


def parse_chains(doc: dict[str, Any], *, reserved_keys: Iterable[str] = ()) -> ChainsFile:
    """Chains and routes of a parsed document (``ConfigError`` naming what is wrong)."""
    reserved_keys = tuple(reserved_keys)
    chains: dict[ChainId, ChainRecord] = {}
    reserved: dict[ChainId, dict[str, Any]] = {}
    for name, table in (doc.get("chains") or {}).items():
        if not isinstance(table, dict):
            raise ConfigError(f"chains.{name} must be a table")
        chain_id = ChainId(name)
        options = dict(table)
        family = options.pop("family", None)
        if not isinstance(family, str) or not family:
            raise ConfigError(f"chain {chain_id}: 'family' is required")
        reserved[chain_id] = {k: options.pop(k) for k in reserved_keys if k in options}
        chains[chain_id] = ChainRecord(chain_id, family, options)
    routes: dict[str, RouteRecord] = {}
    for route_id, table in (doc.get("routes") or {}).items():
        if not isinstance(table, dict):
            raise ConfigError(f"routes.{route_id} must be a table")
        options = dict(table)
        source, destination = options.pop("source", None), options.pop("destination", None)
        if source not in chains or destination not in chains:
            raise ConfigError(f"route {route_id}: source and destination must be listed chains")
        try:
            protocol = RouteProtocol(options.pop("protocol", RouteProtocol.NOTARY))
        except ValueError:
            raise ConfigError(f"route {route_id}: unknown protocol") from None
        enabled = bool(options.pop("enabled", True))
        routes[route_id] = RouteRecord(
            route_id, ChainId(source), ChainId(destination), protocol, options, enabled
        )
    hub = doc.get("hub") or {}
    if not isinstance(hub, dict):
        raise ConfigError("[hub] must be a table")
    return ChainsFile(chains, routes, reserved, dict(hub))


def load_chains_file(path: Path, *, reserved_keys: Iterable[str] = ()) -> ChainsFile:
    try:
        doc = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"cannot read the chains file {path}: {err}") from err
    return parse_chains(doc, reserved_keys=reserved_keys)


def chain_options(record: ChainRecord, registry: Registry | None = None) -> dict[str, Any]:
    """The adapter options of a chain, with the chain id filled in under the settings key
    its family names (``FamilyRules.chain_id_option``; ``chain_id`` when it names none)."""
    options = dict(record.settings)
    try:
        cls = (registry or discover()).load(record.family)
    except ConfigError:
        cls = None
    key = cls.chain_id_option if isinstance(cls, FamilyRules) else "chain_id"
    options.setdefault(key, str(record.chain_id))
    return options


def build_adapter(record: ChainRecord, registry: Registry | None = None) -> ChainAdapter:
    """The adapter of one chain, its settings validated by the family's own model."""
    registry = registry or discover()
    cls = registry.load(record.family)
    model = settings_model_of(cls)
    if model is None:
        raise ConfigError(f"chain {record.chain_id}: family {record.family!r} names no settings")
    try:
        options = chain_options(record, registry)
        settings = validate_settings(model, options, family=record.family)
        adapter = cls(settings)
    except PjgwError as err:
        raise ConfigError(f"chain {record.chain_id}: {err.message}") from None
    if str(adapter.chain_id) != str(record.chain_id):
        raise ConfigError(
            f"chain {record.chain_id}: its adapter serves {adapter.chain_id!s} instead"
        )
    return adapter  # type: ignore[no-any-return]
