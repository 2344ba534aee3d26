"""CometBFT's light-block data: headers, commits, validator sets, read from RPC JSON.

The objects are immutable and already checked against CometBFT's
``ValidateBasic`` rules that need no other object (sizes of hashes and
addresses, flags, key type, address = first 20 bytes of sha256(pub key));
the checks that relate two objects (hashes, commit against header) belong to
:mod:`proofs.cometbft.verifier`.

Times are integers of nanoseconds since the unix epoch (proto ``Timestamp``
precision); :func:`parse_time` reads RFC 3339 as the RPC writes it, without
going through ``datetime`` (which keeps microseconds only).

SECURITY: everything here is untrusted input until the verifier accepted it;
parsing only rejects what is malformed.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Final

from proofs.cometbft.errors import MalformedBlock

HASH_SIZE: Final = 32
ADDRESS_SIZE: Final = 20
ED25519_KEY_SIZE: Final = 32
ED25519_SIGNATURE_SIZE: Final = 64
MAX_CHAIN_ID_LENGTH: Final = 50
MAX_TOTAL_VOTING_POWER: Final = (2**63 - 1) // 8
"""CometBFT's bound on a set's total power (``MaxTotalVotingPower``): sums never overflow int64."""
NS_PER_SECOND: Final = 1_000_000_000
ED25519_KEY_TYPES: Final = frozenset({"tendermint/PubKeyEd25519", "ed25519"})

_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$"
)


class BlockIdFlag(IntEnum):
    """How a validator's slot in a commit is filled (``tendermint.types.BlockIDFlag``)."""

    ABSENT = 1
    COMMIT = 2
    NIL = 3


# --- scalar parsing ---------------------------------------------------------------------


def parse_time(text: object) -> int:
    """RFC 3339 (``2020-09-14T16:33:54.21191421Z``) to nanoseconds since the epoch."""
    if not isinstance(text, str) or not (m := _TIME.match(text)):
        raise MalformedBlock(f"not an RFC 3339 time: {text!r}")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction, offset = m.group(7) or "", m.group(8)
    try:
        seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    except (ValueError, OverflowError) as err:  # pragma: no cover - regex bounds the digits
        raise MalformedBlock(f"not an RFC 3339 time: {text!r}") from err
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 60):
        raise MalformedBlock(f"time out of range: {text!r}")
    if offset not in ("Z", "z"):
        sign = 1 if offset[0] == "+" else -1
        seconds -= sign * (int(offset[1:3]) * 3600 + int(offset[4:6]) * 60)
    return seconds * NS_PER_SECOND + int(fraction.ljust(9, "0") or 0)


def format_time(ns: int) -> str:
    """Nanoseconds since the epoch as RFC 3339 UTC, trailing zeros of the fraction dropped."""
    seconds, nanos = divmod(ns, NS_PER_SECOND)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))  # converts, reads no clock
    return f"{stamp}.{nanos:09d}".rstrip("0").rstrip(".") + "Z"


def parse_hex(value: object, name: str, *, size: int | None = None, empty: bool = True) -> bytes:
    """Hex (any case; ``""``/``None`` is empty bytes when ``empty``) of exactly ``size`` bytes."""
    if value is None or value == "":
        if not empty:
            raise MalformedBlock(f"{name} is required")
        return b""
    if not isinstance(value, str):
        raise MalformedBlock(f"{name} must be a hex string")
    try:
        raw = bytes.fromhex(value)
    except ValueError as err:
        raise MalformedBlock(f"{name} is not hex") from err
    if size is not None and len(raw) != size:
        raise MalformedBlock(f"{name} must be {size} bytes, not {len(raw)}")
    return raw


def parse_base64(value: object, name: str) -> bytes:
    if value is None or value == "":
        return b""
    if not isinstance(value, str):
        raise MalformedBlock(f"{name} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as err:
        raise MalformedBlock(f"{name} is not base64") from err


def parse_int(value: object, name: str, *, minimum: int = 0, maximum: int = 2**63 - 1) -> int:
    """A JSON integer or decimal string (CometBFT writes int64 as strings) in bounds."""
    if isinstance(value, bool):
        raise MalformedBlock(f"{name} must be an integer")
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,20}", value):
        value = int(value)
    if not isinstance(value, int):
        raise MalformedBlock(f"{name} must be an integer")
    if not minimum <= value <= maximum:
        raise MalformedBlock(f"{name} {value} outside {minimum}..{maximum}")
    return value


def _obj(value: object, name: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise MalformedBlock(f"{name} must be an object")
    return value


def _is_hash(value: bytes) -> bool:
    return len(value) in (0, HASH_SIZE)


# --- block ids and headers ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BlockId:
    """``tendermint.types.BlockID``: the header hash and the part-set header."""

    hash: bytes = b""
    part_set_total: int = 0
    part_set_hash: bytes = b""

    @property
    def is_zero(self) -> bool:
        return not self.hash and not self.part_set_total and not self.part_set_hash

    @classmethod
    def from_json(cls, data: object, name: str = "block_id") -> BlockId:
        if data is None:
            return cls()
        obj = _obj(data, name)
        psh = obj.get("part_set_header") or obj.get("parts") or {}
        psh = _obj(psh, f"{name}.part_set_header")
        block_id = cls(
            hash=parse_hex(obj.get("hash"), f"{name}.hash"),
            part_set_total=parse_int(psh.get("total", 0), f"{name}.total", maximum=2**32 - 1),
            part_set_hash=parse_hex(psh.get("hash"), f"{name}.part_set_header.hash"),
        )
        if not _is_hash(block_id.hash) or not _is_hash(block_id.part_set_hash):
            raise MalformedBlock(f"{name} hashes must be 32 bytes")
        return block_id


@dataclass(frozen=True, slots=True)
class Header:
    """``tendermint.types.Header`` (the 14 fields its hash commits to)."""

    version_block: int
    version_app: int
    chain_id: str
    height: int
    time_ns: int
    last_block_id: BlockId
    last_commit_hash: bytes
    data_hash: bytes
    validators_hash: bytes
    next_validators_hash: bytes
    consensus_hash: bytes
    app_hash: bytes
    last_results_hash: bytes
    evidence_hash: bytes
    proposer_address: bytes

    @classmethod
    def from_json(cls, data: object) -> Header:
        """Parse the RPC JSON of a header; ``MalformedBlock`` names the first bad field.

        Checks (CometBFT ``Header.ValidateBasic``): chain id at most 50 bytes,
        height > 0, every hash empty or 32 bytes, validators hashes 32 bytes,
        proposer address 20 bytes. ``app_hash`` is free-form (the app decides).
        """
        obj = _obj(data, "header")
        version = _obj(obj.get("version") or {}, "header.version")
        chain_id = obj.get("chain_id")
        if not isinstance(chain_id, str) or len(chain_id.encode()) > MAX_CHAIN_ID_LENGTH:
            raise MalformedBlock("header.chain_id must be a string of at most 50 bytes")
        header = cls(
            version_block=parse_int(version.get("block", 0), "version.block", maximum=2**64 - 1),
            version_app=parse_int(version.get("app", 0), "version.app", maximum=2**64 - 1),
            chain_id=chain_id,
            height=parse_int(obj.get("height"), "header.height", minimum=1),
            time_ns=parse_time(obj.get("time")),
            last_block_id=BlockId.from_json(obj.get("last_block_id"), "last_block_id"),
            last_commit_hash=parse_hex(obj.get("last_commit_hash"), "last_commit_hash"),
            data_hash=parse_hex(obj.get("data_hash"), "data_hash"),
            validators_hash=parse_hex(
                obj.get("validators_hash"), "validators_hash", size=HASH_SIZE, empty=False
            ),
            next_validators_hash=parse_hex(
                obj.get("next_validators_hash"), "next_validators_hash", size=HASH_SIZE, empty=False
            ),
            consensus_hash=parse_hex(obj.get("consensus_hash"), "consensus_hash"),
            app_hash=parse_hex(obj.get("app_hash"), "app_hash"),
            last_results_hash=parse_hex(obj.get("last_results_hash"), "last_results_hash"),
            evidence_hash=parse_hex(obj.get("evidence_hash"), "evidence_hash"),
            proposer_address=parse_hex(
                obj.get("proposer_address"), "proposer_address", size=ADDRESS_SIZE, empty=False
            ),
        )
        for name in ("last_commit_hash", "data_hash", "consensus_hash", "last_results_hash"):
            if not _is_hash(getattr(header, name)):
                raise MalformedBlock(f"header.{name} must be empty or 32 bytes")
        if not _is_hash(header.evidence_hash):
            raise MalformedBlock("header.evidence_hash must be empty or 32 bytes")
        return header


# --- commits ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommitSig:
    """One validator's slot in a commit: its flag, address, vote time and signature."""

    flag: BlockIdFlag
    validator_address: bytes
    timestamp_ns: int
    signature: bytes

    @classmethod
    def from_json(cls, data: object, index: int) -> CommitSig:
        """Checks (``CommitSig.ValidateBasic``): a known flag; absent slots carry no
        address or signature; others a 20-byte address and a 64-byte signature."""
        obj = _obj(data, f"signatures[{index}]")
        try:
            flag = BlockIdFlag(parse_int(obj.get("block_id_flag"), "block_id_flag"))
        except ValueError as err:
            raise MalformedBlock(f"signatures[{index}] has an unknown block_id_flag") from err
        address = parse_hex(obj.get("validator_address"), f"signatures[{index}].validator_address")
        signature = parse_base64(obj.get("signature"), f"signatures[{index}].signature")
        if flag is BlockIdFlag.ABSENT:
            if address or signature:
                raise MalformedBlock(f"absent signatures[{index}] carries an address or signature")
            return cls(flag, b"", 0, b"")
        if len(address) != ADDRESS_SIZE:
            raise MalformedBlock(f"signatures[{index}].validator_address must be 20 bytes")
        if len(signature) != ED25519_SIGNATURE_SIZE:
            raise MalformedBlock(f"signatures[{index}].signature must be 64 bytes")
        return cls(flag, address, parse_time(obj.get("timestamp")), signature)


@dataclass(frozen=True, slots=True)
class Commit:
    """``tendermint.types.Commit``: +2/3 precommits for ``block_id`` at ``(height, round)``."""

    height: int
    round: int
    block_id: BlockId
    signatures: tuple[CommitSig, ...]

    @classmethod
    def from_json(cls, data: object) -> Commit:
        """Checks: height > 0, round >= 0 (int32), a 32-byte block hash, one signature at least."""
        obj = _obj(data, "commit")
        sigs = obj.get("signatures")
        if not isinstance(sigs, Sequence) or isinstance(sigs, str | bytes) or not sigs:
            raise MalformedBlock("commit.signatures must be a non-empty list")
        commit = cls(
            height=parse_int(obj.get("height"), "commit.height", minimum=1),
            round=parse_int(obj.get("round", 0), "commit.round", maximum=2**31 - 1),
            block_id=BlockId.from_json(obj.get("block_id"), "commit.block_id"),
            signatures=tuple(CommitSig.from_json(s, i) for i, s in enumerate(sigs)),
        )
        if len(commit.block_id.hash) != HASH_SIZE:
            raise MalformedBlock("commit.block_id.hash must be 32 bytes")
        return commit


# --- validators ------------------------------------------------------------------------------


def address_of(pub_key: bytes) -> bytes:
    """CometBFT's ed25519 address: the first 20 bytes of sha256(pub key)."""
    return hashlib.sha256(pub_key).digest()[:ADDRESS_SIZE]


@dataclass(frozen=True, slots=True)
class Validator:
    """An ed25519 validator: address, public key, voting power."""

    address: bytes
    pub_key: bytes
    voting_power: int

    @classmethod
    def from_json(cls, data: object, index: int = 0) -> Validator:
        """Checks (``Validator.ValidateBasic``): an ed25519 key of 32 bytes, power >= 0,
        and an address that is the key's address."""
        obj = _obj(data, f"validators[{index}]")
        key = _obj(obj.get("pub_key"), f"validators[{index}].pub_key")
        if key.get("type") not in ED25519_KEY_TYPES:
            raise MalformedBlock(f"validators[{index}] key type {key.get('type')!r} unsupported")
        pub_key = parse_base64(key.get("value"), f"validators[{index}].pub_key")
        if len(pub_key) != ED25519_KEY_SIZE:
            raise MalformedBlock(f"validators[{index}].pub_key must be 32 bytes")
        validator = cls(
            address=parse_hex(obj.get("address"), f"validators[{index}].address", size=20),
            pub_key=pub_key,
            voting_power=parse_int(obj.get("voting_power"), f"validators[{index}].voting_power"),
        )
        if validator.address != address_of(pub_key):
            raise MalformedBlock(f"validators[{index}].address is not its key's address")
        return validator


@dataclass(frozen=True, slots=True)
class ValidatorSet:
    """A validator set in CometBFT's order: voting power descending, then address.

    The order is the one ``validators_hash`` is computed over (CometBFT keeps
    its sets sorted so; tendermint-rs re-sorts what it receives the same way),
    so a set given in another order still hashes canonically.
    """

    validators: tuple[Validator, ...]
    total_power: int = field(init=False)
    _by_address: dict[bytes, Validator] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.validators, key=lambda v: (-v.voting_power, v.address)))
        by_address = {v.address: v for v in ordered}
        if len(by_address) != len(ordered):
            raise MalformedBlock("validator set holds a validator twice")
        total = sum(v.voting_power for v in ordered)
        if total > MAX_TOTAL_VOTING_POWER:
            raise MalformedBlock(f"total voting power {total} exceeds {MAX_TOTAL_VOTING_POWER}")
        object.__setattr__(self, "validators", ordered)
        object.__setattr__(self, "total_power", total)
        object.__setattr__(self, "_by_address", by_address)

    def get(self, address: bytes) -> Validator | None:
        return self._by_address.get(address)

    def __len__(self) -> int:
        return len(self.validators)

    @classmethod
    def from_json(cls, data: object) -> ValidatorSet:
        """``{"validators": [...]}`` (RPC ``/validators`` or a light block's set; may be empty)."""
        obj = _obj(data, "validator_set")
        items = obj.get("validators")
        # An empty set is well formed (it hashes to sha256("")): the model-based vectors use an
        # empty NEXT set for a halting chain. A block's own empty set fails at its commit.
        if not isinstance(items, Sequence) or isinstance(items, str | bytes):
            raise MalformedBlock("validator_set.validators must be a list")
        return cls(tuple(Validator.from_json(v, i) for i, v in enumerate(items)))


# --- light blocks ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedHeader:
    header: Header
    commit: Commit

    @classmethod
    def from_json(cls, data: object) -> SignedHeader:
        obj = _obj(data, "signed_header")
        return cls(Header.from_json(obj.get("header")), Commit.from_json(obj.get("commit")))


@dataclass(frozen=True, slots=True)
class LightBlock:
    """A signed header with the validator sets that sign it and that sign the next one.

    ``next_validators`` may be ``None`` (as in tendermint-rs): the header's
    ``next_validators_hash`` is then unchecked here and the block cannot become
    a trusted state for skipping verification until the set is supplied.
    """

    signed_header: SignedHeader
    validators: ValidatorSet
    next_validators: ValidatorSet | None = None

    @property
    def header(self) -> Header:
        return self.signed_header.header

    @property
    def commit(self) -> Commit:
        return self.signed_header.commit

    @property
    def height(self) -> int:
        return self.signed_header.header.height

    @classmethod
    def from_json(cls, data: object) -> LightBlock:
        """``{"signed_header", "validator_set", "next_validator_set"?}`` as the RPC and the
        tendermint-rs vectors write a light block."""
        obj = _obj(data, "light_block")
        nxt = obj.get("next_validator_set")
        return cls(
            SignedHeader.from_json(obj.get("signed_header")),
            ValidatorSet.from_json(obj.get("validator_set")),
            None if nxt is None else ValidatorSet.from_json(nxt),
        )


__all__ = [
    "ADDRESS_SIZE",
    "HASH_SIZE",
    "NS_PER_SECOND",
    "BlockId",
    "BlockIdFlag",
    "Commit",
    "CommitSig",
    "Header",
    "LightBlock",
    "SignedHeader",
    "Validator",
    "ValidatorSet",
    "address_of",
    "format_time",
    "parse_time",
]
