"""A notary's chains file (TOML) and key file.

```toml
[chains.pujiang-devnet]
family = "pujiang"
url = "http://127.0.0.1:26650"
# notary-only keys (not adapter settings):
# checkpoint_height = 120
# checkpoint_hash = "0x…"        # an operator checkpoint; overrides trust on first use
# trusting_period = 1209600      # seconds (Pujiang)

[chains.anvil-31337]
family = "evm"
rpc_url = "http://127.0.0.1:8545"
evm_chain_id = 31337
bridge_address = "0x…"
confirmations = 0

[routes.devnet-to-anvil]
source = "pujiang-devnet"
destination = "anvil-31337"
```

Every other key of a chain is its adapter's settings, validated by the
adapter's own model. The notary's adapters are read-only: no signer key
belongs in this file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters import chains_file
from core.errors import ConfigError, PjgwError
from core.ids import ChainId
from core.records import ChainRecord
from relayer.notary.service import Route

NOTARY_KEYS = ("checkpoint_height", "checkpoint_hash", "trusting_period", "max_clock_drift")


@dataclass
class NotaryConfig:
    adapters: dict[str, Any]
    routes: dict[str, Route]
    chain_options: dict[str, dict[str, Any]]


def build_adapter(chain_id: str, family: str, options: dict[str, Any]) -> Any:
    """The read-only adapter of one chain, found in the adapter registry (any installed
    family), its options validated by the family's own settings model."""
    return chains_file.build_adapter(ChainRecord(ChainId(chain_id), family, options))


def load_config(path: Path) -> NotaryConfig:
    try:
        doc = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"cannot read the chains file {path}: {err}") from err
    adapters: dict[str, Any] = {}
    chain_options: dict[str, dict[str, Any]] = {}
    for chain_id, table in (doc.get("chains") or {}).items():
        options = dict(table)
        family = options.pop("family", None)
        if not isinstance(family, str):
            raise ConfigError(f"chain {chain_id}: 'family' is required")
        chain_options[chain_id] = {k: options.pop(k) for k in NOTARY_KEYS if k in options}
        try:
            adapters[chain_id] = build_adapter(chain_id, family, options)
        except PjgwError as err:
            raise ConfigError(f"chain {chain_id}: {err.message}") from None
    routes = {}
    for route_id, table in (doc.get("routes") or {}).items():
        source, destination = table.get("source"), table.get("destination")
        if source not in adapters or destination not in adapters:
            raise ConfigError(f"route {route_id}: source and destination must be listed chains")
        routes[route_id] = Route(route_id, source, destination)
    if not routes:
        raise ConfigError(f"{path} lists no routes")
    return NotaryConfig(adapters, routes, chain_options)


def read_key_file(path: Path) -> bytes:
    """32 bytes of hex (``0x`` optional) from a file; the message never quotes the content."""
    try:
        text = Path(path).read_text().strip().removeprefix("0x")
        key = bytes.fromhex(text)
    except (OSError, ValueError):
        raise ConfigError(f"{path} does not hold a hex secp256k1 key") from None
    if len(key) != 32:
        raise ConfigError(f"{path} does not hold a 32-byte key")
    return key
