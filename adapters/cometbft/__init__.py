"""The CometBFT (Tendermint) chain family: RPC adapter, settings, conformance target.

The light client is ``proofs.cometbft``; ``docs/cometbft.md`` ("Adapter") says
what the adapter reads from the node and how it packs it for the light client.
"""

from adapters.cometbft.adapter import CometBftAdapter
from adapters.cometbft.settings import CometBftSettings

__all__ = ["CometBftAdapter", "CometBftSettings"]
