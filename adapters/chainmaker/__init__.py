"""The ChainMaker (Chang'an Chain) v2.3 family: bridge adapter, light client, settings, target.

The verification is ``proofs.chainmaker``; ``docs/chainmaker.md`` ("The adapter")
says what was checked on real data and what waits for a live node.
"""

from adapters.chainmaker.adapter import ChainMakerAdapter
from adapters.chainmaker.light_client import ChainMakerLightClient
from adapters.chainmaker.settings import ChainMakerSettings

__all__ = ["ChainMakerAdapter", "ChainMakerLightClient", "ChainMakerSettings"]
