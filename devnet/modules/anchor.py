"""``anchor``: an account records a 32-byte digest in the chain's state (the hub's audit-log
heads, ``docs/supervision.md``).

``[digest (32)]``: writes ``anchor/ sender / digest`` -> the block height, the first
time only (anchoring the same digest again keeps the first height and is not an
error). The value lives in the state tree, so a state proof against a verified
header shows when the digest was recorded and by whom.
"""

from __future__ import annotations

from devnet.modules.context import TxContext, as_bytes, unpack
from devnet.state import anchor_key, encode_uint

DIGEST_LENGTH = 32


def anchor(ctx: TxContext, args: object) -> None:
    (digest,) = unpack(args, ("digest",), "anchor")
    value = as_bytes(digest, "digest", size=DIGEST_LENGTH)
    key = anchor_key(ctx.sender, value)
    if ctx.state.get(key) is None:
        ctx.state.set(key, encode_uint(ctx.block.height))
