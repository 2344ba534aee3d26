"""EVM chains: the contracts' Python side and the plumbing to reach a node.

* ``rpc``: async JSON-RPC client (httpx), errors translated to the hub's tree.
* ``node``: start/stop a local anvil node (tests, ``make run``).
* ``artifacts``: compiled contracts from ``build/contracts`` and their ABI codec.
* ``certificate``: EIP-712 digests and notary certificates of ``Bridge.sol``.

The ``ChainAdapter`` for EVM chains is built on these in a later issue.
"""
