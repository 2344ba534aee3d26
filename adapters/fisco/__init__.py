"""The FISCO BCOS 2.x chain family: JSON-RPC adapter, light client, settings, conformance target.

The verification is ``proofs.fisco`` (pure); ``docs/fisco.md`` ("The adapter")
says what the adapter reads from the node, what was checked on real data and
what waits for a live node.
"""

from adapters.fisco.adapter import FiscoAdapter
from adapters.fisco.light_client import FiscoLightClient
from adapters.fisco.settings import FiscoSettings

__all__ = ["FiscoAdapter", "FiscoLightClient", "FiscoSettings"]
