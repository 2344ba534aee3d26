"""Ethereum Merkle-Patricia trie proofs: state, storage, receipts, transactions.

An EVM chain commits to its accounts (``stateRoot``), each contract's storage
(the account's ``storageRoot``), a block's receipts (``receiptsRoot``) and
transactions (``transactionsRoot``) with hexary Merkle-Patricia tries (Yellow
Paper, appendix D). The hub trusts a root only from a verified header; this
module proves what a trie under such a root holds. Everything here is a pure
function of its arguments: no I/O, no clock.

Proof format: the list of RLP-encoded nodes from the root down the key's path,
as ``eth_getProof`` returns them (``accountProof``, ``storageProof[i].proof``).
Nodes whose encoding is shorter than 32 bytes are embedded inline in their
parent and are not separate list entries; a proof that repeats them as entries
(py-trie's ``get_proof`` and ethereumjs do) is accepted too, and the repeat is
skipped. The walk ends at a leaf, at a branch's value or at a missing child;
nodes left over after that are rejected, so a proof proves exactly one path.

Keys: ``verify_proof`` takes the trie key; ``secure=True`` hashes it first
(the state and storage tries are "secure": their path is ``keccak256(key)``).
Values: inclusion returns the value bytes; a proven absence returns ``None``
(Ethereum tries never store an empty value).

Errors (first failed check wins, cheapest first): ``InvalidInput`` for
arguments of the wrong type; ``BadEncoding`` for a root that is not 32 bytes,
bad hex, bad RLP, or a value that does not decode as an account / storage word
/ receipt; ``RootMismatch`` when the first node does not hash to the root;
``BadProof`` (``details["depth"]`` = index in the proof) when the nodes do not
link ("node hash mismatch at depth 3"), the proof ends early, a node has an
impossible shape, or nodes are left over; ``ValueMismatch`` when the proven
value differs from a claimed one.

What the ``trie`` package does and what is written here by hand:

* ``trie.HexaryTrie`` builds every trie this module computes a root of or
  proves from (``trie_root``, ``build_proof``, ``receipts_root``,
  ``prove_receipt``, ``ordered_trie_root``); ``trie.utils.nibbles`` converts
  keys to nibbles and decodes hex-prefix paths; ``trie.constants`` gives the
  empty-trie root.
* The proof walk (``verify_proof``) is written by hand. ``HexaryTrie.
  get_from_proof`` stores the nodes in a dictionary keyed by hash and looks the
  key up: it cannot tell a wrong root from a broken link or say at which
  depth a proof breaks, it accepts unused and out-of-order nodes, it answers
  ``b""`` for absence, it takes decoded nodes (not the RLP bytes
  ``eth_getProof`` returns) and it raises its own mix of exceptions on
  malformed nodes. The tests use it as an independent oracle instead.
* The strict node-shape checks (hex-prefix flag, child references of 0 or 32
  bytes or an inline node under 32 bytes, non-empty leaf values) are by hand:
  the package's helpers assume well-formed nodes.
* Receipt (EIP-2718 envelope) and account encodings, and the JSON-RPC
  conversions, are by hand; RLP decoding is the ``rlp`` package, encoding of the
  receipts and nodes ``proofs.rlp_lists`` (pyrlp's prefixes without its sedes
  inference, held byte-equal to ``rlp.encode``; issue #15).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeAlias

import rlp
from rlp.exceptions import RLPException
from rlp.sedes import big_endian_int
from trie import HexaryTrie
from trie.constants import BLANK_NODE_HASH
from trie.utils.nibbles import bytes_to_nibbles

from core.errors import BadEncoding, BadProof, InvalidInput, RootMismatch, ValueMismatch
from proofs.hashing import keccak256
from proofs.rlp_lists import rlp_of, uint_bytes

RlpItem: TypeAlias = bytes | list["RlpItem"]
Nibbles: TypeAlias = tuple[int, ...]

EMPTY_TRIE_ROOT: bytes = BLANK_NODE_HASH
"""keccak256(rlp(b"")): the root of a trie without keys (``56e81f…b421``)."""

EMPTY_CODE_HASH: bytes = keccak256(b"")
"""keccak256(b""): the code hash of an account without code (``c5d246…a470``)."""

HASH_SIZE = 32
ADDRESS_SIZE = 20
BLOOM_SIZE = 256
MAX_TOPICS = 4
MAX_WORD = 2**256 - 1
MAX_TX_TYPE = 0x7F
"""EIP-2718: a typed envelope starts with a byte in 0x00..0x7f (0 is never used)."""

_BRANCH_WIDTH = 17
_DECODED_NODES = 1024
"""Proof nodes kept decoded (``_decode_node``): a block's shared upper nodes, many blocks."""
_SHARED_NODE_SIZE = 1024
"""Nodes up to this size are kept decoded: a branch of 16 hashes is 532 bytes."""
_HEX_RE = re.compile(r"0x[0-9a-fA-F]*")


# --- small decoding helpers --------------------------------------------------


def decode_rlp(data: bytes) -> RlpItem:
    """Strict RLP decoding (canonical lengths, no trailing bytes); ``BadEncoding`` otherwise."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidInput(f"RLP input must be bytes, not {type(data).__name__}")
    try:
        return rlp.decode(bytes(data), strict=True)
    except RLPException as err:
        raise BadEncoding(f"invalid RLP: {err}") from err


def hex_to_bytes(text: str, what: str = "hex data") -> bytes:
    """``0x``-prefixed hex as JSON-RPC sends it (no whitespace, even length)."""
    if not isinstance(text, str) or not _HEX_RE.fullmatch(text) or len(text) % 2:
        raise BadEncoding(f"{what} is not 0x-prefixed even-length hex: {text!r:.80}")
    return bytes.fromhex(text[2:])


def hex_to_int(text: str, what: str = "quantity") -> int:
    """A JSON-RPC quantity (``0x``-prefixed hex integer, ``0x0`` for zero)."""
    if not isinstance(text, str) or not _HEX_RE.fullmatch(text) or len(text) < 3:
        raise BadEncoding(f"{what} is not a 0x-prefixed hex quantity: {text!r:.80}")
    return int(text, 16)


def proof_from_hex(nodes: Iterable[str]) -> list[bytes]:
    """The node list of an ``eth_getProof`` answer (hex strings) as bytes."""
    if isinstance(nodes, str | bytes):
        raise InvalidInput("proof must be a list of hex strings, not one string")
    return [hex_to_bytes(node, f"proof node {i}") for i, node in enumerate(nodes)]


def _decode_uint(data: bytes, what: str) -> int:
    """A minimal big-endian integer (RLP's scalar encoding: no leading zero bytes)."""
    try:
        return big_endian_int.deserialize(data)
    except RLPException as err:
        raise BadEncoding(f"{what} is not a minimal big-endian integer") from err


def _fixed_bytes(item: RlpItem, size: int, what: str) -> bytes:
    if not isinstance(item, bytes) or len(item) != size:
        raise BadEncoding(f"{what} must be {size} bytes")
    return item


def _require_bytes(value: object, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise InvalidInput(f"{what} must be bytes, not {type(value).__name__}")
    return bytes(value)


def _require_root(root: object, what: str = "root") -> bytes:
    root = _require_bytes(root, what)
    if len(root) != HASH_SIZE:
        raise BadEncoding(f"{what} must be {HASH_SIZE} bytes, got {len(root)}")
    return root


def _require_proof(proof: object) -> list[bytes]:
    if isinstance(proof, str | bytes | bytearray) or not isinstance(proof, Sequence):
        raise InvalidInput("proof must be a sequence of RLP-encoded nodes (bytes)")
    nodes = []
    for i, node in enumerate(proof):
        if isinstance(node, str):
            raise InvalidInput(f"proof node {i} is a str: convert hex with proof_from_hex")
        nodes.append(_require_bytes(node, f"proof node {i}"))
    return nodes


# --- the proof walk (by hand, see the module docstring) ----------------------


def _decode_node(encoded: bytes) -> RlpItem:
    """:func:`decode_rlp` of a proof node; a small one (a branch, an extension) remembered
    by its bytes.

    The proofs of one block's receipts share their upper nodes (the root in every one)
    and a notary verifies hundreds per block (issue #15): each is decoded once. Leaves
    (a whole receipt, unique to its proof, possibly large) are not kept. A pure function
    memoized (no I/O, no clock); the walk only reads the nodes it gets, never changes
    them, so sharing the decoded lists is safe. A node that does not decode raises each
    time (exceptions are not remembered)."""
    if len(encoded) > _SHARED_NODE_SIZE:
        return decode_rlp(encoded)
    return _decode_shared_node(encoded)


@lru_cache(maxsize=_DECODED_NODES)
def _decode_shared_node(encoded: bytes) -> RlpItem:
    return decode_rlp(encoded)


@dataclass
class _Walk:
    """The state of one proof walk: the nodes, the next unread one, the key left."""

    proof: list[bytes]
    remaining: Nibbles
    next_index: int = 0

    def take(self, expected_hash: bytes) -> RlpItem:
        """The next proof node, which must hash to ``expected_hash``."""
        depth = self.next_index
        if depth >= len(self.proof):
            raise BadProof(
                f"proof ends early: node at depth {depth} is missing",
                depth=depth,
                expected=expected_hash.hex(),
            )
        encoded = self.proof[depth]
        if keccak256(encoded) != expected_hash:
            raise BadProof(
                f"node hash mismatch at depth {depth}", depth=depth, expected=expected_hash.hex()
            )
        self.next_index += 1
        return _decode_node(encoded)

    def skip_inline_copy(self, node: list[RlpItem]) -> None:
        """Skip a proof entry that only repeats an inline node (py-trie, ethereumjs)."""
        if self.next_index < len(self.proof) and self.proof[self.next_index] == rlp_of(node):
            self.next_index += 1


def verify_proof(
    root: bytes, key: bytes, proof: Sequence[bytes], *, secure: bool = False
) -> bytes | None:
    """The value ``key`` holds in the trie under ``root``, or ``None`` if it is proven absent.

    ``secure=True`` looks up ``keccak256(key)`` (state and storage tries).
    Raises RootMismatch / BadProof / BadEncoding for a proof that does not
    prove either answer (see the module docstring).
    """
    root = _require_root(root)
    key = _require_bytes(key, "key")
    nodes = _require_proof(proof)
    path = bytes_to_nibbles(keccak256(key) if secure else key)
    if len(nodes) > len(path) + 1:
        raise BadProof(
            f"proof has {len(nodes)} nodes; a key of {len(path)} nibbles has at most "
            f"{len(path) + 1}",
            depth=len(path) + 1,
        )
    if not nodes:
        if root == EMPTY_TRIE_ROOT:
            return None
        raise BadProof("proof is empty but the root is not the empty trie's", depth=0)
    if keccak256(nodes[0]) != root:
        raise RootMismatch(
            "the first proof node does not hash to the root",
            expected=root.hex(),
            actual=keccak256(nodes[0]).hex(),
        )
    walk = _Walk(nodes, path, next_index=1)
    value = _walk_from(walk, _decode_node(nodes[0]))
    if walk.next_index != len(nodes):
        unused = len(nodes) - walk.next_index
        raise BadProof(
            f"proof has {unused} unused node(s) after depth {walk.next_index - 1}",
            depth=walk.next_index,
        )
    return value


def _walk_from(walk: _Walk, node: RlpItem) -> bytes | None:
    """Follow ``walk.remaining`` down from ``node`` until the path ends."""
    while True:
        depth = walk.next_index - 1
        if node == b"":
            if depth != 0:
                raise BadProof(f"blank node below the root at depth {depth}", depth=depth)
            return None
        if not isinstance(node, list):
            raise BadProof(f"node at depth {depth} is a string, not a list", depth=depth)
        if len(node) == _BRANCH_WIDTH:
            step = _branch_step(node, walk.remaining, depth)
        elif len(node) == 2:
            step = _short_node_step(node, walk.remaining, depth)
        else:
            raise BadProof(f"node at depth {depth} has {len(node)} items", depth=depth)
        if isinstance(step, _Found):
            return step.value
        child, consumed = step
        walk.remaining = walk.remaining[consumed:]
        node = _follow(walk, child, depth)


@dataclass(frozen=True, slots=True)
class _Found:
    """The walk ended: ``value`` is the answer (``None`` = proven absence)."""

    value: bytes | None


_Descend: TypeAlias = tuple[RlpItem, int]
"""The walk goes on: the child reference and how many key nibbles the step used."""


def _branch_step(node: list[RlpItem], remaining: Nibbles, depth: int) -> _Found | _Descend:
    """A branch: the key ends here (its value) or continues into child ``remaining[0]``."""
    for i, child in enumerate(node[:16]):
        _check_child_ref(child, depth, f"branch child {i:x}")
    value = node[16]
    if not isinstance(value, bytes):
        raise BadProof(f"branch value at depth {depth} is a list", depth=depth)
    if not remaining:
        return _Found(value or None)
    child = node[remaining[0]]
    if child == b"":
        return _Found(None)
    return child, 1


def _short_node_step(node: list[RlpItem], remaining: Nibbles, depth: int) -> _Found | _Descend:
    """A leaf (the key matches or is proven absent) or an extension (descend or absent)."""
    path, is_leaf = _decode_hex_prefix(node[0], depth)
    if is_leaf:
        value = node[1]
        if not isinstance(value, bytes) or not value:
            raise BadProof(f"leaf at depth {depth} has an empty or list value", depth=depth)
        return _Found(value if remaining == path else None)
    if not path:
        raise BadProof(f"extension at depth {depth} has an empty path", depth=depth)
    child = node[1]
    _check_child_ref(child, depth, "extension child")
    if child == b"":
        raise BadProof(f"extension at depth {depth} has no child", depth=depth)
    if remaining[: len(path)] != path:
        return _Found(None)
    return child, len(path)


def _decode_hex_prefix(encoded: RlpItem, depth: int) -> tuple[Nibbles, bool]:
    """Hex-prefix path of a leaf/extension (Yellow Paper appendix C), strictly checked."""
    if not isinstance(encoded, bytes) or not encoded:
        raise BadProof(f"short node at depth {depth} has no hex-prefix path", depth=depth)
    nibbles = bytes_to_nibbles(encoded)
    flag = nibbles[0]
    if flag > 3:
        raise BadProof(f"hex-prefix flag {flag} at depth {depth}", depth=depth)
    odd = flag & 1
    if not odd and nibbles[1] != 0:
        raise BadProof(f"hex-prefix padding nibble is not zero at depth {depth}", depth=depth)
    return nibbles[1 if odd else 2 :], flag >= 2


def _check_child_ref(child: RlpItem, depth: int, what: str) -> None:
    """A child is absent (b""), a 32-byte hash, or an inline node under 32 bytes."""
    if isinstance(child, bytes):
        if len(child) not in (0, HASH_SIZE):
            raise BadProof(f"{what} at depth {depth} is {len(child)} bytes", depth=depth)
    elif len(rlp_of(child)) >= HASH_SIZE:
        raise BadProof(f"{what} at depth {depth} is inline but 32 bytes or more", depth=depth)


def _follow(walk: _Walk, child: RlpItem, depth: int) -> RlpItem:
    """The child node: embedded in its parent, or the next proof node by hash."""
    if isinstance(child, list):
        walk.skip_inline_copy(child)
        return child
    return walk.take(child)


# --- building tries (in memory, with trie.HexaryTrie) ------------------------


def _build_trie(items: Mapping[bytes, bytes], secure: bool) -> HexaryTrie:
    if not isinstance(items, Mapping):
        raise InvalidInput("items must be a mapping of key bytes to value bytes")
    trie = HexaryTrie({})
    for key, value in items.items():
        key = _require_bytes(key, "key")
        value = _require_bytes(value, "value")
        if not value:
            raise InvalidInput("an Ethereum trie cannot hold an empty value (it means delete)")
        trie.set(keccak256(key) if secure else key, value)
    return trie


def _proof_of(trie: HexaryTrie, trie_key: bytes) -> list[bytes]:
    """``eth_getProof``-shaped proof: the root plus every hashed node, inline ones left out."""
    encoded = [rlp.encode(node) for node in trie.get_proof(trie_key)]
    return [node for i, node in enumerate(encoded) if i == 0 or len(node) >= HASH_SIZE]


def trie_root(items: Mapping[bytes, bytes], *, secure: bool = False) -> bytes:
    """The root of the trie holding ``items`` (``secure``: keys are hashed first)."""
    return _build_trie(items, secure).root_hash


def build_proof(
    items: Mapping[bytes, bytes], key: bytes, *, secure: bool = False
) -> tuple[bytes, list[bytes]]:
    """``(root, proof)`` of ``key`` (present or absent) in the trie holding ``items``."""
    trie = _build_trie(items, secure)
    key = _require_bytes(key, "key")
    return trie.root_hash, _proof_of(trie, keccak256(key) if secure else key)


def ordered_trie_root(values: Sequence[bytes]) -> bytes:
    """Root of the trie mapping ``rlp(i)`` to ``values[i]`` (transactions, receipts, ...)."""
    return _ordered_trie(values).root_hash


def transactions_root(encoded_transactions: Sequence[bytes]) -> bytes:
    """A block's ``transactionsRoot`` from its raw transactions.

    Each item is what ``eth_getRawTransactionByHash`` returns: ``rlp(fields)``
    for a legacy transaction, ``type || rlp(fields)`` for a typed one.
    """
    return ordered_trie_root(encoded_transactions)


def _ordered_trie(values: Sequence[bytes]) -> HexaryTrie:
    if isinstance(values, bytes | str) or not isinstance(values, Sequence):
        raise InvalidInput("values must be a sequence of bytes")
    return _build_trie({rlp.encode(i): value for i, value in enumerate(values)}, secure=False)


# --- EIP-1186: accounts and storage ------------------------------------------


@dataclass(frozen=True, slots=True)
class Account:
    """An account leaf of the state trie: ``rlp([nonce, balance, storageRoot, codeHash])``."""

    nonce: int
    balance: int
    storage_root: bytes = EMPTY_TRIE_ROOT
    code_hash: bytes = EMPTY_CODE_HASH


EMPTY_ACCOUNT = Account(nonce=0, balance=0)
"""What ``eth_getProof`` reports for an account that does not exist."""


def encode_account(account: Account) -> bytes:
    """The state-trie value of ``account``."""
    return rlp.encode([account.nonce, account.balance, account.storage_root, account.code_hash])


def decode_account(data: bytes) -> Account:
    """Parse a state-trie value; ``BadEncoding`` unless it is a 4-item account."""
    item = decode_rlp(data)
    if not isinstance(item, list) or len(item) != 4:
        raise BadEncoding("an account must be an RLP list of 4 items")
    nonce, balance, storage_root, code_hash = item
    if not isinstance(nonce, bytes) or not isinstance(balance, bytes):
        raise BadEncoding("account nonce and balance must be strings")
    return Account(
        nonce=_decode_uint(nonce, "account nonce"),
        balance=_decode_uint(balance, "account balance"),
        storage_root=_fixed_bytes(storage_root, HASH_SIZE, "account storage root"),
        code_hash=_fixed_bytes(code_hash, HASH_SIZE, "account code hash"),
    )


def verify_account_proof(
    state_root: bytes,
    address: bytes,
    account_proof: Sequence[bytes],
    *,
    claimed: Account | None = None,
) -> Account | None:
    """The account at ``address`` under ``state_root``, or ``None`` if it does not exist.

    ``claimed`` (e.g. the fields of an ``eth_getProof`` answer) must equal the
    proven account, or ``EMPTY_ACCOUNT`` when absence is proven; else ValueMismatch.
    """
    address = _require_bytes(address, "address")
    if len(address) != ADDRESS_SIZE:
        raise InvalidInput(f"address must be {ADDRESS_SIZE} bytes, got {len(address)}")
    value = verify_proof(state_root, address, account_proof, secure=True)
    account = None if value is None else decode_account(value)
    if claimed is not None and claimed != (account or EMPTY_ACCOUNT):
        raise ValueMismatch(
            f"account 0x{address.hex()} is {account or 'absent'}, not {claimed}",
            address=address.hex(),
        )
    return account


def decode_storage_value(data: bytes) -> int:
    """A storage-trie value: ``rlp(minimal big-endian word)``, never zero.

    Zero is deletion, so a stored word is 1..32 bytes without a leading zero byte.
    """
    item = decode_rlp(data)
    if not isinstance(item, bytes) or not item or len(item) > HASH_SIZE:
        raise BadEncoding("a storage value must be an RLP string of 1..32 bytes")
    return _decode_uint(item, "storage value")


def verify_storage_proof(
    storage_root: bytes, slot: bytes, proof: Sequence[bytes], *, claimed: int | None = None
) -> int:
    """The word in storage ``slot`` (32 bytes) under ``storage_root``; 0 when proven absent.

    ``claimed``, if given, must equal the proven word (ValueMismatch otherwise).
    """
    slot = _require_bytes(slot, "slot")
    if len(slot) != HASH_SIZE:
        raise InvalidInput(f"storage slot must be {HASH_SIZE} bytes, got {len(slot)}")
    value = verify_proof(storage_root, slot, proof, secure=True)
    word = 0 if value is None else decode_storage_value(value)
    if claimed is not None and claimed != word:
        raise ValueMismatch(
            f"slot 0x{slot.hex()} holds {word:#x}, not {claimed:#x}", slot=slot.hex()
        )
    return word


@dataclass(frozen=True, slots=True)
class ProvenAccount:
    """What one verified ``eth_getProof`` answer proves."""

    address: bytes
    account: Account | None
    storage: Mapping[bytes, int] = field(default_factory=dict)


def verify_eip1186_response(state_root: bytes, response: Mapping[str, Any]) -> ProvenAccount:
    """Verify a whole ``eth_getProof`` result against ``state_root``.

    The account proof must prove the answer's nonce/balance/storageHash/codeHash
    and every storage proof its value against the proven storage root. The
    caller still checks that ``address`` and the slots are the ones it asked for.
    """
    if not isinstance(response, Mapping):
        raise InvalidInput("response must be the eth_getProof result object")
    address = hex_to_bytes(_field(response, "address"), "address")
    claimed = Account(
        nonce=hex_to_int(_field(response, "nonce"), "nonce"),
        balance=hex_to_int(_field(response, "balance"), "balance"),
        storage_root=hex_to_bytes(_field(response, "storageHash"), "storageHash"),
        code_hash=hex_to_bytes(_field(response, "codeHash"), "codeHash"),
    )
    account_proof = proof_from_hex(_field(response, "accountProof"))
    account = verify_account_proof(state_root, address, account_proof, claimed=claimed)
    storage_root = (account or EMPTY_ACCOUNT).storage_root
    storage = {}
    for entry in response.get("storageProof") or []:
        slot = _slot_bytes(_field(entry, "key"))
        proof = proof_from_hex(_field(entry, "proof"))
        value = hex_to_int(_field(entry, "value"), "storage value")
        storage[slot] = verify_storage_proof(storage_root, slot, proof, claimed=value)
    return ProvenAccount(address=address, account=account, storage=storage)


def _slot_bytes(text: str) -> bytes:
    """A storage key as sent to ``eth_getProof`` (may be shorter than 32 bytes) → 32 bytes."""
    slot = hex_to_int(text, "storage key")
    if slot > MAX_WORD:
        raise BadEncoding(f"storage key {text!r:.80} is longer than 32 bytes")
    return slot.to_bytes(HASH_SIZE, "big")


def _field(obj: Mapping[str, Any], name: str) -> Any:
    if not isinstance(obj, Mapping) or name not in obj:
        raise BadEncoding(f"JSON-RPC object has no {name!r}")
    return obj[name]


# --- receipts ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Log:
    """One event log: emitting contract, up to 4 topics, data."""

    address: bytes
    topics: tuple[bytes, ...] = ()
    data: bytes = b""

    def __post_init__(self) -> None:
        if not isinstance(self.address, bytes) or len(self.address) != ADDRESS_SIZE:
            raise InvalidInput(f"log address must be {ADDRESS_SIZE} bytes")
        if len(self.topics) > MAX_TOPICS:
            raise InvalidInput(f"a log has at most {MAX_TOPICS} topics")
        if any(not isinstance(t, bytes) or len(t) != HASH_SIZE for t in self.topics):
            raise InvalidInput(f"log topics must be {HASH_SIZE} bytes each")
        if not isinstance(self.data, bytes):
            raise InvalidInput("log data must be bytes")


@dataclass(frozen=True, slots=True)
class Receipt:
    """A transaction receipt as the receipts trie stores it.

    ``status`` (1 success, 0 failure) since Byzantium; before it, ``post_state``
    (the 32-byte intermediate state root) instead. ``tx_type`` 0 is a legacy
    receipt, any other value the EIP-2718 type byte of its envelope.
    """

    tx_type: int
    status: int | None
    cumulative_gas_used: int
    logs_bloom: bytes
    logs: tuple[Log, ...] = ()
    post_state: bytes | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.tx_type, int) or not 0 <= self.tx_type <= MAX_TX_TYPE:
            raise InvalidInput(f"receipt type must be 0..{MAX_TX_TYPE:#x}")
        if (self.status is None) == (self.post_state is None):
            raise InvalidInput("a receipt has either a status or a post-state root")
        if self.status is not None and self.status not in (0, 1):
            raise InvalidInput("receipt status must be 0 or 1")
        if self.post_state is not None and (
            not isinstance(self.post_state, bytes) or len(self.post_state) != HASH_SIZE
        ):
            raise InvalidInput(f"receipt post-state root must be {HASH_SIZE} bytes")
        if not isinstance(self.cumulative_gas_used, int) or self.cumulative_gas_used < 0:
            raise InvalidInput("cumulative gas used must be a non-negative integer")
        if not isinstance(self.logs_bloom, bytes) or len(self.logs_bloom) != BLOOM_SIZE:
            raise InvalidInput(f"logs bloom must be {BLOOM_SIZE} bytes")
        if not all(isinstance(log, Log) for log in self.logs):
            raise InvalidInput("receipt logs must be Log objects")


def encode_receipt(receipt: Receipt) -> bytes:
    """The receipts-trie value: ``rlp([...])``, prefixed by the type byte when typed."""
    status_or_root = receipt.post_state if receipt.status is None else uint_bytes(receipt.status)
    logs = [[log.address, log.topics, log.data] for log in receipt.logs]
    gas = uint_bytes(receipt.cumulative_gas_used)
    payload = rlp_of([status_or_root, gas, receipt.logs_bloom, logs])
    return payload if receipt.tx_type == 0 else bytes([receipt.tx_type]) + payload


def decode_receipt(data: bytes) -> Receipt:
    """Parse a receipts-trie value (legacy or EIP-2718 typed); ``BadEncoding`` otherwise."""
    data = _require_bytes(data, "receipt")
    if not data:
        raise BadEncoding("empty receipt")
    first = data[0]
    if first >= 0xC0:
        tx_type, payload = 0, data
    elif 0 < first <= MAX_TX_TYPE:
        tx_type, payload = first, data[1:]
    else:
        raise BadEncoding(f"receipt starts with {first:#x}: neither a list nor a type byte")
    item = decode_rlp(payload)
    if not isinstance(item, list) or len(item) != 4:
        raise BadEncoding("a receipt must be an RLP list of 4 items")
    status_or_root, gas, bloom, logs = item
    try:
        return Receipt(
            tx_type=tx_type,
            **_decode_status(status_or_root),
            cumulative_gas_used=_decode_uint(_string(gas, "gas"), "cumulative gas used"),
            logs_bloom=_fixed_bytes(bloom, BLOOM_SIZE, "logs bloom"),
            logs=_decode_logs(logs),
        )
    except InvalidInput as err:
        raise BadEncoding(f"receipt does not decode: {err.message}") from err


def _decode_status(item: RlpItem) -> dict[str, Any]:
    if item == b"":
        return {"status": 0}
    if item == b"\x01":
        return {"status": 1}
    return {"status": None, "post_state": _fixed_bytes(item, HASH_SIZE, "receipt status/root")}


def _decode_logs(item: RlpItem) -> tuple[Log, ...]:
    if not isinstance(item, list):
        raise BadEncoding("receipt logs must be a list")
    logs = []
    for entry in item:
        if not isinstance(entry, list) or len(entry) != 3 or not isinstance(entry[1], list):
            raise BadEncoding("a log must be [address, [topics], data]")
        address, topics, data = entry
        logs.append(Log(_string(address, "log address"), tuple(topics), _string(data, "log data")))
    return tuple(logs)


def _string(item: RlpItem, what: str) -> bytes:
    if not isinstance(item, bytes):
        raise BadEncoding(f"{what} must be an RLP string")
    return item


def receipt_from_rpc(obj: Mapping[str, Any]) -> Receipt:
    """A ``Receipt`` from an ``eth_getTransactionReceipt`` / ``eth_getBlockReceipts`` item.

    Uses ``type`` (absent = legacy), ``status`` or pre-Byzantium ``root``,
    ``cumulativeGasUsed``, ``logsBloom`` and ``logs[address, topics, data]``;
    every other field is not part of the trie and is ignored.
    """
    if not isinstance(obj, Mapping):
        raise InvalidInput("receipt must be a JSON-RPC receipt object")
    status = obj.get("status")
    try:
        return Receipt(
            tx_type=hex_to_int(obj.get("type", "0x0"), "receipt type"),
            status=None if status is None else hex_to_int(status, "status"),
            post_state=None if status is not None else hex_to_bytes(_field(obj, "root"), "root"),
            cumulative_gas_used=hex_to_int(_field(obj, "cumulativeGasUsed"), "cumulativeGasUsed"),
            logs_bloom=hex_to_bytes(_field(obj, "logsBloom"), "logsBloom"),
            logs=tuple(_log_from_rpc(log) for log in _field(obj, "logs")),
        )
    except InvalidInput as err:
        raise BadEncoding(f"receipt object is malformed: {err.message}") from err


def _log_from_rpc(obj: Mapping[str, Any]) -> Log:
    return Log(
        address=hex_to_bytes(_field(obj, "address"), "log address"),
        topics=tuple(hex_to_bytes(t, "log topic") for t in _field(obj, "topics")),
        data=hex_to_bytes(_field(obj, "data"), "log data"),
    )


def receipts_root(receipts: Sequence[Receipt]) -> bytes:
    """A block's ``receiptsRoot`` from its receipts, in transaction order."""
    return ordered_trie_root([encode_receipt(r) for r in receipts])


def prove_receipt(receipts: Sequence[Receipt], index: int) -> tuple[bytes, list[bytes]]:
    """``(receiptsRoot, proof)`` of the receipt at ``index`` (key ``rlp(index)``)."""
    encoded = [encode_receipt(r) for r in receipts]
    if not isinstance(index, int) or not 0 <= index < len(encoded):
        raise InvalidInput(f"receipt index {index} outside a block of {len(encoded)} receipts")
    trie = _ordered_trie(encoded)
    return trie.root_hash, _proof_of(trie, rlp.encode(index))


def verify_receipt_proof(
    receipts_root: bytes,
    index: int,
    proof: Sequence[bytes],
    *,
    claimed: Receipt | bytes | None = None,
) -> bytes:
    """The encoded receipt at ``index`` under ``receipts_root`` (``decode_receipt`` reads it).

    ValueMismatch when the proof shows no receipt at ``index`` or one other than ``claimed``.
    """
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise InvalidInput("receipt index must be a non-negative integer")
    value = verify_proof(receipts_root, rlp.encode(index), proof)
    if value is None:
        raise ValueMismatch(f"the proof shows no receipt at index {index}", index=index)
    if claimed is not None:
        expected = encode_receipt(claimed) if isinstance(claimed, Receipt) else claimed
        if value != expected:
            raise ValueMismatch(f"receipt {index} differs from the claimed one", index=index)
    return value
