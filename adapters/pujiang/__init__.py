"""The Pujiang subchain family: the node's HTTP API as a ``ChainAdapter``.

* ``adapter.PujiangAdapter``: the seam (queries, builds, sends; ``light_client()``).
* ``client.NodeClient``: the HTTP boundary (pooled httpx client, retries, errors).
* ``actions``: the actions this family accepts (``raw_tx``, ``bridge_recv``,
  ``bridge_timeout``), their builders and the transaction signer (Ed25519, or SM2 on a gm chain).
* ``settings.PujiangSettings``: the chain's options (the relayer key a ``SecretStr``).
* ``wire``: reading the node's JSON (hex fields, event kinds, attributes).
* ``conformance``: the kit's ``ConformanceTarget`` for a Pujiang chain.

Wire format and API: ``docs/pujiang-chain.md``.
"""

from adapters.pujiang.adapter import PROOF_KIND, PujiangAdapter
from adapters.pujiang.settings import PujiangSettings

__all__ = ["PROOF_KIND", "PujiangAdapter", "PujiangSettings"]
