"""The tamper-evident audit log: who changed what, hash-chained (``docs/supervision.md``).

``context``: who is acting (the API key's name and role, the request id) for the
entries written while they act; ``log``: staging entries in a store transaction
and appending them to the chain at commit, reading and exporting them;
``checkpoints``: the hub's signed checkpoints of the head and their anchors. The
hashing rules themselves are pure and live in ``proofs/audit.py``.
"""
