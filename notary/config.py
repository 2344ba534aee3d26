"""A notary's chains file (TOML).

```toml
[chains.<chain id>]
family = "<an installed adapter family>"   # docs/notary.md: the dev stack's file
# ... that adapter's settings (URL, chain id, bridge address, confirmations, ...)
# notary-only keys (not adapter settings):
# checkpoint_height = 120
# checkpoint_hash = "0x…"        # an operator checkpoint: the anchor of a chain the notary
#                                 # has no client file for yet (instead of trust on first use)
# trusting_period = 1209600      # seconds (chains whose client has one)
# next_committee = ["0x…", …]    # a committee rotation this notary may sign (with
# next_committee_threshold = 2   # the threshold and the epoch it takes office at;
# next_committee_epoch = 2       # notary/rotations.py)

[routes.<route id>]
source = "<chain id>"
destination = "<chain id>"
```

Every other key of a chain is its adapter's settings, validated by the
adapter's own model. The notary's adapters are read-only: no signer key
belongs in this file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters import chains_file
from adapters.registry import discover
from core.errors import ConfigError
from notary.rotations import NEXT_KEYS, expected_rotation
from notary.service import Route

NOTARY_KEYS = (
    "checkpoint_height",
    "checkpoint_hash",
    "trusting_period",
    "max_clock_drift",
    *NEXT_KEYS,  # the next committee this notary's operator agreed to (notary/rotations.py)
)


@dataclass
class NotaryConfig:
    adapters: dict[str, Any]
    routes: dict[str, Route]
    chain_options: dict[str, dict[str, Any]]


def load_config(path: Path) -> NotaryConfig:
    """The chains file (``adapters.chains_file``) with this notary's own keys taken out;
    adapters are built through the registry, so any installed family works."""
    parsed = chains_file.load_chains_file(path, reserved_keys=NOTARY_KEYS)
    registry = discover()  # one entry-point scan for every chain of the file
    adapters = {
        chain_id: chains_file.build_adapter(record, registry)
        for chain_id, record in parsed.chains.items()
    }
    routes = {
        route_id: Route(route_id, route.source, route.destination)
        for route_id, route in parsed.routes.items()
    }
    if not routes:
        raise ConfigError(f"{path} lists no routes")
    for chain_id, options in parsed.reserved.items():
        expected_rotation(chain_id, options)  # a malformed next committee fails at start
    return NotaryConfig(adapters, routes, dict(parsed.reserved))
