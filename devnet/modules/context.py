"""What a transaction handler sees: the block it runs in, its state overlay, its sender.

Handlers are plain functions ``handler(ctx, args) -> None`` that read and write
``ctx.state`` and emit events; they raise ``TxRejected`` on the first failed
check, and the caller then drops their writes and events (a failed
transaction changes nothing but its sender's nonce).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import rlp

from core.errors import BadEncoding
from devnet.events import make_event
from devnet.state import Overlay, balance_key
from devnet.txs import Reason, TxRejected
from proofs.hashing import HashFunction
from proofs.pujiang import codec

MAX_DENOM_BYTES = 256
MAX_RECEIVER_BYTES = 128
ADDRESS_LENGTH = 20


@dataclass
class BlockScope:
    """Facts fixed for a block, plus the validator-set change it accepted (if any)."""

    chain_id: bytes
    hash_fn: HashFunction
    height: int
    time_ms: int
    signing_set: list[codec.Validator]
    known_validator_keys: frozenset[bytes]
    epoch: int
    valset_pending: bool
    """An update accepted at ``height - 1`` has not started signing yet."""
    accepted_valset: tuple[int, list[codec.Validator]] | None = None


@dataclass
class TxContext:
    block: BlockScope
    state: Overlay
    sender: bytes
    nonce: int
    tx_index: int
    events: list[codec.Event] = field(default_factory=list)

    @property
    def hash_fn(self) -> HashFunction:
        return self.block.hash_fn

    def emit(self, kind: str, values: Mapping[str, object]) -> None:
        self.events.append(make_event(kind, self.tx_index, len(self.events), values))

    # --- balances ----------------------------------------------------------

    def balance(self, address: bytes, denom: bytes) -> int:
        return self.state.get_uint(balance_key(address, denom))

    def credit(self, address: bytes, denom: bytes, amount: int) -> None:
        key = balance_key(address, denom)
        self.state.set_uint(key, self.state.get_uint(key) + amount)

    def debit(
        self, address: bytes, denom: bytes, amount: int, *, short: Reason | None = None
    ) -> None:
        key = balance_key(address, denom)
        held = self.state.get_uint(key)
        if held < amount:
            raise TxRejected(
                short or Reason.INSUFFICIENT_FUNDS,
                f"0x{address.hex()} holds {held} {denom.decode(errors='replace')}, needs {amount}",
            )
        self.state.set_uint(key, held - amount)


# --- reading raw args ---------------------------------------------------------


def unpack(args: object, names: tuple[str, ...], kind: str) -> list[object]:
    """The raw items of ``args`` when it is a list of exactly ``len(names)`` items."""
    if not isinstance(args, list) or len(args) != len(names):
        raise TxRejected(Reason.BAD_ARGS, f"{kind} takes [{', '.join(names)}]")
    return args


def as_bytes(item: object, what: str, *, size: int | None = None, max_size: int = 65536) -> bytes:
    if not isinstance(item, bytes):
        raise TxRejected(Reason.BAD_ARGS, f"{what} must be a byte string")
    if size is not None and len(item) != size:
        raise TxRejected(Reason.BAD_ARGS, f"{what} must be {size} bytes, not {len(item)}")
    if len(item) > max_size:
        raise TxRejected(Reason.BAD_ARGS, f"{what} is longer than {max_size} bytes")
    return item


def as_uint(item: object, what: str) -> int:
    try:
        return codec.raw_int(item, what)
    except BadEncoding as err:
        raise TxRejected(Reason.BAD_ARGS, err.message) from err


def as_amount(item: object) -> int:
    amount = as_uint(item, "amount")
    if not 1 <= amount < 2**256:
        raise TxRejected(Reason.BAD_ARGS, "amount must be 1 .. 2**256-1")
    return amount


def as_denom(item: object) -> bytes:
    denom = as_bytes(item, "denom", max_size=MAX_DENOM_BYTES)
    try:
        text = denom.decode("ascii")
    except UnicodeDecodeError as err:
        raise TxRejected(Reason.BAD_ARGS, "denom must be printable ASCII") from err
    parts = text.split("/")
    if not denom or not text.isprintable() or " " in text or any(not p for p in parts):
        raise TxRejected(
            Reason.BAD_ARGS, f"denom {text!r} must be non-empty path segments joined by '/'"
        )
    return denom


def as_address(item: object, what: str) -> bytes:
    return as_bytes(item, what, size=ADDRESS_LENGTH)


def as_serializable(item: object, sedes: type, what: str) -> object:
    """A nested RLP list decoded strictly as ``sedes`` (re-encoded, so no laxer path exists)."""
    if not isinstance(item, list):
        raise TxRejected(Reason.BAD_ARGS, f"{what} must be an RLP list (not its encoding as bytes)")
    try:
        return rlp.decode(rlp.encode(item), sedes=sedes, strict=True)
    except rlp.exceptions.RLPException as err:
        raise TxRejected(Reason.BAD_ARGS, f"{what} is not canonical: {err}") from err
