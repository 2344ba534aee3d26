"""Column types and encodings that make the store's values round-trip exactly.

* ``BigUint``: uint256 amounts and uint64 sequences. PostgreSQL keeps them as
  ``NUMERIC(78,0)``; SQLite has no exact type above 2**63 (its NUMERIC
  affinity silently turns big integers into 8-byte floats), so there the
  column is the decimal string. Never a float anywhere.
* ``TaggedJson``: action payloads and settings hold ``bytes``, tuples and
  integers of any size, which plain JSON cannot carry. Written by hand because
  no JSON library tags ``bytes``/``tuple`` reversibly; the tags are two
  reserved single-key objects (``{"$bytes": hex}``, ``{"$tuple": [...]}``).
  Stored as TEXT on both databases so PostgreSQL's JSONB never reorders or
  rounds anything.
* The ``list_transfers`` page cursor: opaque base64url of ``[created_at, id]``.
"""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from core.errors import InvalidInput

_BYTES = "$bytes"
_TUPLE = "$tuple"


class BigUint(TypeDecorator[int]):
    """A non-negative integer of up to ``digits`` decimal digits, exact on every dialect."""

    impl = Numeric
    cache_ok = True

    def __init__(self, digits: int = 78) -> None:
        super().__init__()
        self.digits = digits

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(self.digits))
        return dialect.type_descriptor(Numeric(self.digits, 0, asdecimal=True))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidInput(f"expected a non-negative integer, got {value!r}")
        if len(str(value)) > self.digits:
            raise InvalidInput(f"integer {value} has more than {self.digits} digits")
        return str(value) if dialect.name == "sqlite" else Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return int(value) if not isinstance(value, str) else int(value, 10)

    @property
    def python_type(self) -> type[int]:
        return int


def _tag(value: object) -> object:
    if isinstance(value, bytes | bytearray | memoryview):
        return {_BYTES: bytes(value).hex()}
    if isinstance(value, tuple):
        return {_TUPLE: [_tag(v) for v in value]}
    if isinstance(value, list):
        return [_tag(v) for v in value]
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(f"mapping keys must be strings, got {type(key).__name__}")
            out[key] = _tag(item)
        return out
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise InvalidInput(f"cannot store a {type(value).__name__} in a JSON column")


def _untag(value: object) -> object:
    if isinstance(value, list):
        return [_untag(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1 and _BYTES in value:
            return bytes.fromhex(str(value[_BYTES]))
        if len(value) == 1 and _TUPLE in value:
            return tuple(_untag(v) for v in value[_TUPLE])  # type: ignore[union-attr]
        return {k: _untag(v) for k, v in value.items()}
    return value


def dumps(value: object) -> str:
    """Encode ``value`` (dicts, lists, tuples, bytes, ints of any size) as tagged JSON."""
    return json.dumps(_tag(value), separators=(",", ":"), sort_keys=True, allow_nan=False)


def loads(text: str) -> Any:
    """Inverse of :func:`dumps`."""
    return _untag(json.loads(text))


class TaggedJson(TypeDecorator[Any]):
    """A JSON document in a TEXT column, with bytes and tuples preserved."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else dumps(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else loads(value)


def encode_page_cursor(created_at: float, transfer_id: str) -> str:
    raw = json.dumps([created_at, transfer_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_cursor(cursor: str) -> tuple[float, str]:
    """``InvalidInput`` for anything :func:`encode_page_cursor` did not produce."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, transfer_id = json.loads(raw)
    except (ValueError, TypeError, binascii.Error) as err:
        raise InvalidInput("invalid page cursor", field="after") from err
    if not isinstance(created_at, int | float) or not isinstance(transfer_id, str):
        raise InvalidInput("invalid page cursor", field="after")
    return float(created_at), transfer_id
