"""EVM block headers: one typed header for every fork, its canonical RLP and its hash.

An Ethereum header is an RLP list whose length grows with the forks; the
fields present decide the layout (this is how every client decodes it):

=====================  ======  ===================================================
layout                 fields  added fields
=====================  ======  ===================================================
``legacy``             15      parentHash … nonce (Frontier to Berlin)
``london``             16      + baseFeePerGas (EIP-1559)
``shanghai``           17      + withdrawalsRoot (EIP-4895)
``cancun``             20      + blobGasUsed, excessBlobGas (EIP-4844),
                               parentBeaconBlockRoot (EIP-4788)
``prague``             21      + requestsHash (EIP-7685)
=====================  ======  ===================================================

Any other field count (18 or 19 fields, or a later field without an earlier
one) is rejected as ``BadEncoding``: no chain produces it, so accepting it
would only widen what an attacker may feed the hub.

The block hash is ``keccak256(rlp(header))`` for Ethereum and anvil. BFT
chains (QBFT / IBFT 2.0) hash a filtered header instead; see
:mod:`proofs.evm.bft`. Functions here are pure; nothing reads a clock or the
network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, Final

import rlp
from rlp.exceptions import DecodingError, DeserializationError

from core.errors import BadEncoding, RootMismatch
from proofs.hashing import keccak256

UINT64_MAX: Final = 2**64 - 1
UINT256_MAX: Final = 2**256 - 1

EMPTY_OMMERS_HASH: Final = keccak256(rlp.encode([]))
"""keccak256(rlp([])): the ommers hash of every block without uncles (all post-merge blocks)."""

EMPTY_TRIE_ROOT: Final = keccak256(rlp.encode(b""))
"""Root of an empty Merkle-Patricia trie (no transactions, receipts or withdrawals)."""

LAYOUTS: Final[Mapping[int, str]] = {
    15: "legacy",
    16: "london",
    17: "shanghai",
    20: "cancun",
    21: "prague",
}
"""Header field count -> layout name (the newest fork that introduced the last field)."""

# (attribute, JSON-RPC name, kind) in RLP order. kind: "hash" = 32 bytes, "address" = 20,
# "bloom" = 256, "nonce" = 8, "bytes" = any length, "u64"/"u256" = canonical integers.
_FIELDS: Final[tuple[tuple[str, str, str], ...]] = (
    ("parent_hash", "parentHash", "hash"),
    ("ommers_hash", "sha3Uncles", "hash"),
    ("coinbase", "miner", "address"),
    ("state_root", "stateRoot", "hash"),
    ("transactions_root", "transactionsRoot", "hash"),
    ("receipts_root", "receiptsRoot", "hash"),
    ("logs_bloom", "logsBloom", "bloom"),
    ("difficulty", "difficulty", "u256"),
    ("number", "number", "u64"),
    ("gas_limit", "gasLimit", "u64"),
    ("gas_used", "gasUsed", "u64"),
    ("timestamp", "timestamp", "u64"),
    ("extra_data", "extraData", "bytes"),
    ("mix_hash", "mixHash", "hash"),
    ("nonce", "nonce", "nonce"),
    ("base_fee_per_gas", "baseFeePerGas", "u256"),
    ("withdrawals_root", "withdrawalsRoot", "hash"),
    ("blob_gas_used", "blobGasUsed", "u64"),
    ("excess_blob_gas", "excessBlobGas", "u64"),
    ("parent_beacon_block_root", "parentBeaconBlockRoot", "hash"),
    ("requests_hash", "requestsHash", "hash"),
)
_LEGACY_COUNT: Final = 15
_SIZES: Final[Mapping[str, int]] = {"hash": 32, "address": 20, "bloom": 256, "nonce": 8}
_INT_BOUNDS: Final[Mapping[str, int]] = {"u64": UINT64_MAX, "u256": UINT256_MAX}

# ethereum/tests and ethereumjs spell some header fields differently from JSON-RPC.
_ALIASES: Final[Mapping[str, str]] = {
    "uncleHash": "sha3Uncles",
    "coinbase": "miner",
    "transactionsTrie": "transactionsRoot",
    "receiptTrie": "receiptsRoot",
    "bloom": "logsBloom",
}


@dataclass(frozen=True, slots=True)
class EvmHeader:
    """An EVM block header with every field up to Prague.

    Fields of forks the header predates are ``None``; the fields present must
    form one of the :data:`LAYOUTS` (checked at construction). Byte fields
    hold raw bytes, integers hold Python ints.
    """

    parent_hash: bytes
    ommers_hash: bytes
    coinbase: bytes
    state_root: bytes
    transactions_root: bytes
    receipts_root: bytes
    logs_bloom: bytes
    difficulty: int
    number: int
    gas_limit: int
    gas_used: int
    timestamp: int
    extra_data: bytes
    mix_hash: bytes
    nonce: bytes
    base_fee_per_gas: int | None = None
    withdrawals_root: bytes | None = None
    blob_gas_used: int | None = None
    excess_blob_gas: int | None = None
    parent_beacon_block_root: bytes | None = None
    requests_hash: bytes | None = None

    def __post_init__(self) -> None:
        values = [getattr(self, name) for name, _, _ in _FIELDS]
        count = _field_count(values)
        for (name, _, kind), value in zip(_FIELDS[:count], values[:count], strict=True):
            _check_kind(name, kind, value)

    @property
    def layout(self) -> str:
        """The layout name (``legacy``, ``london``, ``shanghai``, ``cancun``, ``prague``)."""
        return LAYOUTS[len(self.to_fields())]

    def to_fields(self) -> list[bytes | int]:
        """The header as the RLP list items, in order, up to its last present field."""
        values = [getattr(self, name) for name, _, _ in _FIELDS]
        return values[: _field_count(values)]

    def replace(self, **changes: Any) -> EvmHeader:
        """A copy with ``changes`` applied (re-validated): the malleate helper."""
        return replace(self, **changes)


def _field_count(values: Sequence[object]) -> int:
    """Number of present fields; ``BadEncoding`` unless they form a known layout."""
    for name, value in zip((f[0] for f in _FIELDS[:_LEGACY_COUNT]), values, strict=False):
        if value is None:
            raise BadEncoding(f"header field {name} is required", field=name)
    count = _LEGACY_COUNT
    while count < len(values) and values[count] is not None:
        count += 1
    if any(value is not None for value in values[count:]):
        missing = _FIELDS[count][0]
        raise BadEncoding(f"header has a later fork field without {missing}", field=missing)
    if count not in LAYOUTS:
        raise BadEncoding(f"no fork has a header of {count} fields", fields=count)
    return count


def _check_kind(name: str, kind: str, value: object) -> None:
    if kind in _INT_BOUNDS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadEncoding(f"header field {name} must be an integer", field=name)
        if not 0 <= value <= _INT_BOUNDS[kind]:
            raise BadEncoding(f"header field {name} out of range ({kind})", field=name)
        return
    if not isinstance(value, bytes):
        raise BadEncoding(f"header field {name} must be bytes", field=name)
    size = _SIZES.get(kind)
    if size is not None and len(value) != size:
        raise BadEncoding(f"header field {name} must be {size} bytes, got {len(value)}", field=name)


# --- encoding -------------------------------------------------------------------------


def encode_header(header: EvmHeader) -> bytes:
    """The canonical RLP encoding of ``header`` (integers minimal big-endian, no leading zero)."""
    return rlp.encode(header.to_fields())


def decode_header(data: bytes) -> EvmHeader:
    """Decode canonical header RLP; ``BadEncoding`` for anything else.

    Strict: trailing bytes, non-canonical lengths, integers with leading zero
    bytes, wrong fixed sizes and unknown layouts are all rejected, so that
    ``encode_header(decode_header(b)) == b`` for every accepted ``b``.
    """
    try:
        items = rlp.decode(data, strict=True)
    except (DecodingError, DeserializationError, TypeError) as err:
        raise BadEncoding("header is not valid RLP") from err
    return _header_from_items(items)


def decode_block_header(block_rlp: bytes) -> EvmHeader:
    """The header of a full block's RLP (``[header, transactions, ommers, withdrawals…]``)."""
    try:
        items = rlp.decode(block_rlp, strict=True)
    except (DecodingError, DeserializationError, TypeError) as err:
        raise BadEncoding("block is not valid RLP") from err
    if not isinstance(items, list) or not items:
        raise BadEncoding("block RLP must be a non-empty list")
    return _header_from_items(items[0])


def _header_from_items(items: object) -> EvmHeader:
    if not isinstance(items, list) or len(items) not in LAYOUTS:
        raise BadEncoding("header RLP must be a list of 15, 16, 17, 20 or 21 items")
    values: dict[str, bytes | int] = {}
    for (name, _, kind), item in zip(_FIELDS, items, strict=False):
        if not isinstance(item, bytes):
            raise BadEncoding(f"header field {name} must be an RLP string", field=name)
        if kind in _INT_BOUNDS:
            if item[:1] == b"\x00":
                raise BadEncoding(f"header field {name} has a leading zero byte", field=name)
            values[name] = int.from_bytes(item, "big")
        else:
            values[name] = item
    return EvmHeader(**values)  # type: ignore[arg-type]


# --- JSON-RPC -------------------------------------------------------------------------


def header_from_rpc(block: Mapping[str, Any]) -> EvmHeader:
    """Build a header from an ``eth_getBlockByNumber``/``eth_getBlockByHash`` result.

    Field presence decides the layout (``baseFeePerGas`` present means London
    or later, and so on). The ethereum/tests spellings ``uncleHash``,
    ``coinbase``, ``transactionsTrie``, ``receiptTrie`` and ``bloom`` are
    accepted as aliases. Other keys (``hash``, ``size``, ``transactions``…)
    are ignored: the hash is *checked* with :func:`validate_header_hash`, never
    trusted. Malformed values raise ``BadEncoding``.
    """
    if not isinstance(block, Mapping):
        raise BadEncoding("block must be a JSON object")
    source: dict[str, Any] = dict(block)
    for alias, canonical in _ALIASES.items():
        if alias in source:
            if canonical in source and source[canonical] != source[alias]:
                raise BadEncoding(f"block has both {alias} and {canonical}", field=canonical)
            source[canonical] = source.pop(alias)
    values: dict[str, bytes | int | None] = {}
    for name, key, kind in _FIELDS:
        raw = source.get(key)
        if raw is None:
            values[name] = None
        elif kind in _INT_BOUNDS:
            values[name] = _quantity(raw, key)
        else:
            values[name] = _data(raw, key)
    return EvmHeader(**values)  # type: ignore[arg-type]


def header_to_rpc(header: EvmHeader) -> dict[str, str]:
    """The header's fields under their JSON-RPC names (quantities minimal hex), plus ``hash``."""
    out: dict[str, str] = {}
    for (_, key, _), value in zip(_FIELDS, header.to_fields(), strict=False):
        out[key] = hex(value) if isinstance(value, int) else "0x" + value.hex()
    out["hash"] = "0x" + compute_header_hash(header).hex()
    return out


def _quantity(raw: object, key: str) -> int:
    if isinstance(raw, bool):
        raise BadEncoding(f"{key} must be a hex quantity", field=key)
    if isinstance(raw, int):
        return raw
    if not isinstance(raw, str) or not raw.startswith(("0x", "0X")) or len(raw) < 3:
        raise BadEncoding(f"{key} must be a 0x-prefixed hex quantity", field=key)
    try:
        return int(raw[2:], 16)
    except ValueError as err:
        raise BadEncoding(f"{key} is not hex", field=key) from err


def _data(raw: object, key: str) -> bytes:
    if not isinstance(raw, str) or not raw.startswith(("0x", "0X")):
        raise BadEncoding(f"{key} must be 0x-prefixed hex data", field=key)
    try:
        return bytes.fromhex(raw[2:])
    except ValueError as err:
        raise BadEncoding(f"{key} is not hex data", field=key) from err


# --- hashing --------------------------------------------------------------------------


def compute_header_hash(header: EvmHeader) -> bytes:
    """``keccak256(rlp(header))``: the block hash on Ethereum and on anvil."""
    return keccak256(encode_header(header))


def validate_header_hash(header: EvmHeader, claimed_hash: bytes) -> None:
    """Raise ``RootMismatch`` unless ``header`` hashes to ``claimed_hash``.

    Checks, in order: ``claimed_hash`` is 32 bytes (``BadEncoding``);
    ``keccak256(rlp(header)) == claimed_hash`` (``RootMismatch``).
    """
    if not isinstance(claimed_hash, bytes) or len(claimed_hash) != 32:
        raise BadEncoding("a block hash is 32 bytes", field="hash")
    computed = compute_header_hash(header)
    if computed != claimed_hash:
        raise RootMismatch(
            f"header {header.number} hashes to 0x{computed.hex()}, not 0x{claimed_hash.hex()}",
            height=header.number,
            expected="0x" + claimed_hash.hex(),
            computed="0x" + computed.hex(),
        )


def header_field_names() -> tuple[str, ...]:
    """Attribute names of :class:`EvmHeader` in RLP order (for malleate tables)."""
    return tuple(f.name for f in fields(EvmHeader))
