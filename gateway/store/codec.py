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
* The ``list_transfers`` page cursor: ``<created_at>~<id>`` (``repr`` of the float, exact),
  opaque to clients; every string of ``PAGE_CURSOR_PATTERN`` decodes (a page after that
  point, maybe empty), so the API's schema can say exactly which cursors it accepts.
"""

from __future__ import annotations

import json
import re
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


def _untag_object(value: dict[str, Any]) -> object:
    """``json.loads``'s ``object_hook``: called for each object, innermost first, so a
    tag's contents are already untagged (a ``$tuple``'s items included)."""
    if len(value) == 1:
        if _BYTES in value:
            hexed = value[_BYTES]
            if not isinstance(hexed, str):
                raise ValueError("a $bytes tag holds hex text")
            return bytes.fromhex(hexed)
        if _TUPLE in value:
            items = value[_TUPLE]
            if not isinstance(items, list):  # what dumps writes; a tag inside is undone
                raise ValueError("a $tuple tag holds a list")
            return tuple(items)
    return value


def loads(text: str) -> Any:
    """Inverse of :func:`dumps`. The tags are undone inside the JSON decoder
    (``object_hook``), not by a second walk over the decoded value (``_untag``, kept as
    the reference): rows are decoded on every read of a transfer, and the walk was half of
    reading a batch's members (issue #15)."""
    return _DECODER.decode(text)


_DECODER = json.JSONDecoder(object_hook=_untag_object)


class TaggedJson(TypeDecorator[Any]):
    """A JSON document in a TEXT column, with bytes and tuples preserved."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else dumps(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else loads(value)


PAGE_CURSOR_PATTERN = r"^[0-9]{1,16}(?:\.[0-9]{1,17})?~[A-Za-z0-9_-]{1,64}$"
_PAGE_CURSOR = re.compile(PAGE_CURSOR_PATTERN)


def encode_page_cursor(created_at: float, transfer_id: str) -> str:
    return f"{created_at!r}~{transfer_id}"


def decode_page_cursor(cursor: str) -> tuple[float, str]:
    """``InvalidInput`` for anything outside ``PAGE_CURSOR_PATTERN``."""
    if not _PAGE_CURSOR.fullmatch(cursor):
        raise InvalidInput("invalid page cursor", field="after")
    created_at, transfer_id = cursor.split("~", 1)
    return float(created_at), transfer_id
