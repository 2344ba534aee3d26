"""Small decoding helpers the families' light-client codecs share (``BadEncoding`` on garbage)."""

from __future__ import annotations

import json
from typing import Any

from core.errors import BadEncoding


def json_object(data: bytes, what: str) -> dict[str, Any]:
    """``data`` as a JSON object; ``BadEncoding`` naming ``what`` otherwise."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise BadEncoding(f"stored {what} is not JSON") from err
    if not isinstance(doc, dict):
        raise BadEncoding(f"stored {what} is not a JSON object")
    return doc


def json_bytes(doc: object) -> bytes:
    """The canonical JSON encoding of ``doc`` (sorted keys, no spaces)."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def big_int(item: object) -> int:
    """An RLP item decoded as a big-endian unsigned integer."""
    if not isinstance(item, bytes):
        raise BadEncoding("expected an RLP string")
    return int.from_bytes(item, "big")


__all__ = ["big_int", "json_bytes", "json_object"]
