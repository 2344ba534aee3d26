"""The reference Pujiang subchain node (the "devnet").

No public Pujiang node can run beside the hub, so the project ships one that
behaves like a permissioned BFT subchain as the hub sees it: blocks whose
headers are signed by a BLS aggregate of its validators, in the exact wire
format of ``docs/pujiang-chain.md``, a state machine (accounts, bridge, HTLC,
validator-set changes) and the node's HTTP API. It is a real program: it
persists its chain in SQLite, restarts where it stopped and serves several
clients at once. The hub talks to it only through HTTP.

Unlike a real subchain, one process holds every validator's key (derived from
the seed in its genesis): consensus is simulated, signing is real.

Module map: ``config`` (options), ``keys`` (deterministic dev keys, tx and
certificate signing for clients), ``genesis``, ``state`` (keys, values, the
sorted-leaf state tree), ``txs`` (admission checks, rejection reasons),
``events``, ``modules/`` (bank, bridge, notary certificates, HTLC,
validators), ``chain`` (execute a block, build and sign its header),
``mempool``, ``store`` (SQLite), ``node`` (``DevnetNode``, the in-process
node), ``api`` + ``problems`` (FastAPI), ``server`` and ``cli`` (the
``pjgw devnet`` / ``python -m devnet`` commands).
"""
