"""Beacon-chain light-client objects: typed values, chain configuration, SSZ and JSON codecs.

The objects of the consensus-specs light-client sync protocol (altair, with
the capella/deneb/electra ``LightClientHeader``) as frozen dataclasses, plus:

* :class:`BeaconConfig`: the preset (slots per epoch, epochs per sync-committee
  period, committee size) and fork schedule (versions and epochs) of a chain,
  with :data:`MAINNET` built in and :func:`config_from_spec` for a
  consensus-spec ``config.yaml``;
* SSZ decoding (``decode_*``) of each object for a given data fork and
  ``hash_tree_root`` of the containers the protocol hashes.

SSZ library: ``remerkleable`` (the ``eth-remerkleable`` distribution, the
Ethereum Foundation's maintained continuation of protolambda's package). It
is what the consensus-specs pyspec itself runs on, so container layouts,
offsets and merkleization match the spec by construction; py-ssz
(``ssz``) lags the forks and is not used by the spec. Only decoding and
hashing go through it; the protocol logic works on the dataclasses here.

Data forks: ``capella`` (execution header without blob fields; branches of
5/5/6 nodes), ``deneb`` (+ ``blob_gas_used``, ``excess_blob_gas``), ``electra``
(deneb execution header; branches of 6/6/7 nodes because the electra
``BeaconState`` has more than 32 fields). ``fulu`` uses the electra format.
"""

# No ``from __future__ import annotations`` here: remerkleable reads the
# container annotations as real types when the classes are built.

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any, Final

from remerkleable.basic import uint64, uint256
from remerkleable.bitfields import Bitvector
from remerkleable.byte_arrays import ByteList, Bytes32, Bytes48, Bytes96, ByteVector
from remerkleable.complex import Container, Vector

from core.errors import BadEncoding, ConfigError
from proofs.hashing import sha256

FAR_FUTURE_EPOCH: Final = 2**64 - 1
ZERO_ROOT: Final = bytes(32)
ZERO_PUBKEY: Final = bytes(48)
EXECUTION_PAYLOAD_GINDEX: Final = 25
DATA_FORKS: Final = ("capella", "deneb", "electra", "fulu")
MAX_EXTRA_DATA_BYTES: Final = 32
BYTES_PER_LOGS_BLOOM: Final = 256

# Generalized indices (consensus-specs light-client sync-protocol constants).
FINALIZED_ROOT_GINDEX: Final = 105
CURRENT_SYNC_COMMITTEE_GINDEX: Final = 54
NEXT_SYNC_COMMITTEE_GINDEX: Final = 55
FINALIZED_ROOT_GINDEX_ELECTRA: Final = 169
CURRENT_SYNC_COMMITTEE_GINDEX_ELECTRA: Final = 86
NEXT_SYNC_COMMITTEE_GINDEX_ELECTRA: Final = 87


def floorlog2(value: int) -> int:
    return value.bit_length() - 1


# --- configuration --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BeaconConfig:
    """What the sync protocol needs to know about one beacon chain.

    ``fork_versions`` lists ``(epoch, version)`` in ascending epoch order, the
    genesis version first at epoch 0; ``compute_fork_version`` picks the last
    one whose epoch is reached.
    """

    name: str
    slots_per_epoch: int
    epochs_per_sync_committee_period: int
    sync_committee_size: int
    genesis_validators_root: bytes
    fork_versions: tuple[tuple[int, bytes], ...]
    capella_fork_epoch: int
    deneb_fork_epoch: int
    electra_fork_epoch: int
    min_sync_committee_participants: int = 1

    def __post_init__(self) -> None:
        if len(self.genesis_validators_root) != 32:
            raise ConfigError("genesis_validators_root must be 32 bytes")
        epochs = [epoch for epoch, _ in self.fork_versions]
        if not epochs or epochs[0] != 0 or epochs != sorted(epochs):
            raise ConfigError("fork_versions must be ascending and start at epoch 0")
        if any(len(version) != 4 for _, version in self.fork_versions):
            raise ConfigError("a fork version is 4 bytes")
        if self.sync_committee_size <= 0 or self.sync_committee_size % 8:
            raise ConfigError("sync committee size must be a positive multiple of 8")

    @property
    def slots_per_period(self) -> int:
        return self.slots_per_epoch * self.epochs_per_sync_committee_period

    @property
    def update_timeout(self) -> int:
        """``UPDATE_TIMEOUT``: one sync-committee period in slots."""
        return self.slots_per_period

    def with_genesis_validators_root(self, root: bytes) -> "BeaconConfig":
        return replace(self, genesis_validators_root=root)


_MAINNET_FORKS: Final = (
    (0, bytes.fromhex("00000000")),  # phase0
    (74240, bytes.fromhex("01000000")),  # altair
    (144896, bytes.fromhex("02000000")),  # bellatrix
    (194048, bytes.fromhex("03000000")),  # capella
    (269568, bytes.fromhex("04000000")),  # deneb
    (364032, bytes.fromhex("05000000")),  # electra
    (411392, bytes.fromhex("06000000")),  # fulu
)

MAINNET: Final = BeaconConfig(
    name="mainnet",
    slots_per_epoch=32,
    epochs_per_sync_committee_period=256,
    sync_committee_size=512,
    genesis_validators_root=bytes.fromhex(
        "4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95"
    ),
    fork_versions=_MAINNET_FORKS,
    capella_fork_epoch=194048,
    deneb_fork_epoch=269568,
    electra_fork_epoch=364032,
)
"""Ethereum mainnet (mainnet preset, fork schedule up to Fulu)."""

PRESETS: Final[Mapping[str, tuple[int, int, int]]] = {
    # name: (SLOTS_PER_EPOCH, EPOCHS_PER_SYNC_COMMITTEE_PERIOD, SYNC_COMMITTEE_SIZE)
    "mainnet": (32, 256, 512),
    "minimal": (8, 8, 32),
}

_FORK_NAMES: Final = ("ALTAIR", "BELLATRIX", "CAPELLA", "DENEB", "ELECTRA", "FULU")


def config_from_spec(
    chain_config: Mapping[str, Any], genesis_validators_root: bytes, *, name: str = "custom"
) -> BeaconConfig:
    """A :class:`BeaconConfig` from a consensus-spec ``config.yaml`` mapping.

    Reads ``PRESET_BASE`` and the ``*_FORK_VERSION`` / ``*_FORK_EPOCH`` keys;
    a fork without an epoch is scheduled at ``FAR_FUTURE_EPOCH``.
    """
    preset = str(chain_config.get("PRESET_BASE", "mainnet")).strip("'\"")
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}")
    slots, epochs, size = PRESETS[preset]

    def version(key: str) -> bytes:
        raw = chain_config[key]
        if isinstance(raw, int):  # YAML reads 0x01000001 as an int
            return raw.to_bytes(4, "big")
        return bytes.fromhex(str(raw).removeprefix("0x"))

    def epoch(key: str) -> int:
        return int(chain_config.get(key, FAR_FUTURE_EPOCH))

    try:
        forks = [(0, version("GENESIS_FORK_VERSION"))]
        forks += [
            (epoch(f"{fork}_FORK_EPOCH"), version(f"{fork}_FORK_VERSION"))
            for fork in _FORK_NAMES
            if f"{fork}_FORK_VERSION" in chain_config
        ]
    except (KeyError, ValueError, OverflowError) as err:
        raise ConfigError(f"chain config has a malformed fork entry: {err}") from err
    # Stable sort: forks scheduled at the same epoch keep their order, the newest last.
    scheduled = sorted(((e, v) for e, v in forks if e != FAR_FUTURE_EPOCH), key=lambda f: f[0])
    return BeaconConfig(
        name=name,
        slots_per_epoch=slots,
        epochs_per_sync_committee_period=epochs,
        sync_committee_size=size,
        genesis_validators_root=genesis_validators_root,
        fork_versions=tuple(scheduled),
        capella_fork_epoch=epoch("CAPELLA_FORK_EPOCH"),
        deneb_fork_epoch=epoch("DENEB_FORK_EPOCH"),
        electra_fork_epoch=epoch("ELECTRA_FORK_EPOCH"),
    )


# --- values ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BeaconBlockHeader:
    slot: int = 0
    proposer_index: int = 0
    parent_root: bytes = ZERO_ROOT
    state_root: bytes = ZERO_ROOT
    body_root: bytes = ZERO_ROOT


@dataclass(frozen=True, slots=True)
class ExecutionPayloadHeader:
    """The deneb execution payload header; capella headers have zero blob fields."""

    parent_hash: bytes = ZERO_ROOT
    fee_recipient: bytes = bytes(20)
    state_root: bytes = ZERO_ROOT
    receipts_root: bytes = ZERO_ROOT
    logs_bloom: bytes = bytes(BYTES_PER_LOGS_BLOOM)
    prev_randao: bytes = ZERO_ROOT
    block_number: int = 0
    gas_limit: int = 0
    gas_used: int = 0
    timestamp: int = 0
    extra_data: bytes = b""
    base_fee_per_gas: int = 0
    block_hash: bytes = ZERO_ROOT
    transactions_root: bytes = ZERO_ROOT
    withdrawals_root: bytes = ZERO_ROOT
    blob_gas_used: int = 0
    excess_blob_gas: int = 0


@dataclass(frozen=True, slots=True)
class LightClientHeader:
    beacon: BeaconBlockHeader = field(default_factory=BeaconBlockHeader)
    execution: ExecutionPayloadHeader = field(default_factory=ExecutionPayloadHeader)
    execution_branch: tuple[bytes, ...] = (ZERO_ROOT,) * 4

    def is_empty(self) -> bool:
        """Equal to the SSZ default ``LightClientHeader()``."""
        return (
            self.beacon == BeaconBlockHeader()
            and self.execution == ExecutionPayloadHeader()
            and is_zero_branch(self.execution_branch)
        )


@dataclass(frozen=True, slots=True)
class SyncCommittee:
    pubkeys: tuple[bytes, ...]
    aggregate_pubkey: bytes

    def is_empty(self) -> bool:
        """Equal to the SSZ default ``SyncCommittee()`` (all-zero keys)."""
        return self.aggregate_pubkey == ZERO_PUBKEY and all(k == ZERO_PUBKEY for k in self.pubkeys)


def empty_sync_committee(size: int) -> SyncCommittee:
    return SyncCommittee(pubkeys=(ZERO_PUBKEY,) * size, aggregate_pubkey=ZERO_PUBKEY)


@dataclass(frozen=True, slots=True)
class SyncAggregate:
    sync_committee_bits: tuple[bool, ...]
    sync_committee_signature: bytes

    @property
    def participants(self) -> int:
        return sum(self.sync_committee_bits)


@dataclass(frozen=True, slots=True)
class LightClientBootstrap:
    header: LightClientHeader
    current_sync_committee: SyncCommittee
    current_sync_committee_branch: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class LightClientUpdate:
    """A ``LightClientUpdate``; finality and optimistic updates are widened into one."""

    attested_header: LightClientHeader
    next_sync_committee: SyncCommittee
    next_sync_committee_branch: tuple[bytes, ...]
    finalized_header: LightClientHeader
    finality_branch: tuple[bytes, ...]
    sync_aggregate: SyncAggregate
    signature_slot: int

    def replace(self, **changes: Any) -> "LightClientUpdate":
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class LightClientFinalityUpdate:
    attested_header: LightClientHeader
    finalized_header: LightClientHeader
    finality_branch: tuple[bytes, ...]
    sync_aggregate: SyncAggregate
    signature_slot: int


@dataclass(frozen=True, slots=True)
class LightClientOptimisticUpdate:
    attested_header: LightClientHeader
    sync_aggregate: SyncAggregate
    signature_slot: int


def is_zero_branch(branch: Sequence[bytes]) -> bool:
    return all(node == ZERO_ROOT for node in branch)


# --- SSZ types ------------------------------------------------------------------------


def _container(name: str, fields_: Mapping[str, Any]) -> Any:
    return type(name, (Container,), {"__annotations__": dict(fields_)})


_BeaconBlockHeaderSSZ: Final = _container(
    "BeaconBlockHeader",
    {
        "slot": uint64,
        "proposer_index": uint64,
        "parent_root": Bytes32,
        "state_root": Bytes32,
        "body_root": Bytes32,
    },
)
_CAPELLA_EXECUTION_FIELDS: Final = {
    "parent_hash": Bytes32,
    "fee_recipient": ByteVector[20],
    "state_root": Bytes32,
    "receipts_root": Bytes32,
    "logs_bloom": ByteVector[BYTES_PER_LOGS_BLOOM],
    "prev_randao": Bytes32,
    "block_number": uint64,
    "gas_limit": uint64,
    "gas_used": uint64,
    "timestamp": uint64,
    "extra_data": ByteList[MAX_EXTRA_DATA_BYTES],
    "base_fee_per_gas": uint256,
    "block_hash": Bytes32,
    "transactions_root": Bytes32,
    "withdrawals_root": Bytes32,
}
_CapellaExecutionSSZ: Final = _container("ExecutionPayloadHeader", _CAPELLA_EXECUTION_FIELDS)
_DenebExecutionSSZ: Final = _container(
    "ExecutionPayloadHeader",
    {**_CAPELLA_EXECUTION_FIELDS, "blob_gas_used": uint64, "excess_blob_gas": uint64},
)
_ForkDataSSZ: Final = _container(
    "ForkData", {"current_version": ByteVector[4], "genesis_validators_root": Bytes32}
)
_SigningDataSSZ: Final = _container("SigningData", {"object_root": Bytes32, "domain": Bytes32})


def _branch_depths(fork: str) -> tuple[int, int, int]:
    """(current/next sync committee branch, finality branch) depths of a data fork."""
    if fork in ("electra", "fulu"):
        return (
            floorlog2(CURRENT_SYNC_COMMITTEE_GINDEX_ELECTRA),
            floorlog2(NEXT_SYNC_COMMITTEE_GINDEX_ELECTRA),
            floorlog2(FINALIZED_ROOT_GINDEX_ELECTRA),
        )
    return (
        floorlog2(CURRENT_SYNC_COMMITTEE_GINDEX),
        floorlog2(NEXT_SYNC_COMMITTEE_GINDEX),
        floorlog2(FINALIZED_ROOT_GINDEX),
    )


@functools.cache
def _sync_committee_ssz(size: int) -> Any:
    return _container(
        "SyncCommittee", {"pubkeys": Vector[Bytes48, size], "aggregate_pubkey": Bytes48}
    )


@functools.cache
def ssz_types(fork: str, sync_committee_size: int) -> SimpleNamespace:
    """The remerkleable containers of one data fork and committee size."""
    if fork not in DATA_FORKS:
        raise ConfigError(f"no light-client data format for fork {fork!r}")
    current_depth, next_depth, finality_depth = _branch_depths(fork)
    execution = _CapellaExecutionSSZ if fork == "capella" else _DenebExecutionSSZ
    committee = _sync_committee_ssz(sync_committee_size)
    header = _container(
        "LightClientHeader",
        {
            "beacon": _BeaconBlockHeaderSSZ,
            "execution": execution,
            "execution_branch": Vector[Bytes32, floorlog2(EXECUTION_PAYLOAD_GINDEX)],
        },
    )
    aggregate = _container(
        "SyncAggregate",
        {
            "sync_committee_bits": Bitvector[sync_committee_size],
            "sync_committee_signature": Bytes96,
        },
    )
    return SimpleNamespace(
        LightClientHeader=header,
        SyncCommittee=committee,
        SyncAggregate=aggregate,
        LightClientBootstrap=_container(
            "LightClientBootstrap",
            {
                "header": header,
                "current_sync_committee": committee,
                "current_sync_committee_branch": Vector[Bytes32, current_depth],
            },
        ),
        LightClientUpdate=_container(
            "LightClientUpdate",
            {
                "attested_header": header,
                "next_sync_committee": committee,
                "next_sync_committee_branch": Vector[Bytes32, next_depth],
                "finalized_header": header,
                "finality_branch": Vector[Bytes32, finality_depth],
                "sync_aggregate": aggregate,
                "signature_slot": uint64,
            },
        ),
        LightClientFinalityUpdate=_container(
            "LightClientFinalityUpdate",
            {
                "attested_header": header,
                "finalized_header": header,
                "finality_branch": Vector[Bytes32, finality_depth],
                "sync_aggregate": aggregate,
                "signature_slot": uint64,
            },
        ),
        LightClientOptimisticUpdate=_container(
            "LightClientOptimisticUpdate",
            {"attested_header": header, "sync_aggregate": aggregate, "signature_slot": uint64},
        ),
    )


# --- hash_tree_root -------------------------------------------------------------------


def hash_tree_root_beacon_header(header: BeaconBlockHeader) -> bytes:
    """``hash_tree_root(BeaconBlockHeader)``: the beacon block root."""
    try:
        view = _BeaconBlockHeaderSSZ(
            slot=header.slot,
            proposer_index=header.proposer_index,
            parent_root=header.parent_root,
            state_root=header.state_root,
            body_root=header.body_root,
        )
    except (ValueError, TypeError, OverflowError) as err:
        raise BadEncoding("beacon block header field out of range") from err
    return bytes(view.hash_tree_root())


def hash_tree_root_execution(header: ExecutionPayloadHeader, *, deneb: bool) -> bytes:
    """``hash_tree_root`` of the capella (``deneb=False``) or deneb execution payload header."""
    values = {name: getattr(header, name) for name in _CAPELLA_EXECUTION_FIELDS}
    cls = _CapellaExecutionSSZ
    if deneb:
        values |= {"blob_gas_used": header.blob_gas_used, "excess_blob_gas": header.excess_blob_gas}
        cls = _DenebExecutionSSZ
    try:
        return bytes(cls(**values).hash_tree_root())
    except (ValueError, TypeError, OverflowError) as err:
        raise BadEncoding("execution payload header field out of range") from err


@functools.lru_cache(maxsize=64)
def hash_tree_root_sync_committee(committee: SyncCommittee) -> bytes:
    """``hash_tree_root(SyncCommittee)`` (cached: committees recur across updates)."""
    cls = _sync_committee_ssz(len(committee.pubkeys))
    try:
        view = cls(pubkeys=list(committee.pubkeys), aggregate_pubkey=committee.aggregate_pubkey)
    except (ValueError, TypeError) as err:
        raise BadEncoding("sync committee keys must be 48 bytes") from err
    return bytes(view.hash_tree_root())


def compute_fork_data_root(current_version: bytes, genesis_validators_root: bytes) -> bytes:
    view = _ForkDataSSZ(
        current_version=current_version, genesis_validators_root=genesis_validators_root
    )
    return bytes(view.hash_tree_root())


def compute_signing_root_from_object_root(object_root: bytes, domain: bytes) -> bytes:
    return bytes(_SigningDataSSZ(object_root=object_root, domain=domain).hash_tree_root())


def compute_merkle_root(leaf: bytes, branch: Sequence[bytes], depth: int, index: int) -> bytes:
    """The root a Merkle ``branch`` leads to from ``leaf`` at ``index`` (SHA-256 nodes)."""
    value = leaf
    for i in range(depth):
        right = (index >> i) & 1
        value = sha256(branch[i] + value) if right else sha256(value + branch[i])
    return value


# --- SSZ decoding ---------------------------------------------------------------------


def _decode(cls: Any, data: bytes, what: str) -> Any:
    if not isinstance(data, bytes | bytearray):
        raise BadEncoding(f"{what} must be bytes")
    try:
        return cls.decode_bytes(bytes(data))
    except Exception as err:  # remerkleable raises assorted errors on malformed input
        raise BadEncoding(f"{what} is not a valid SSZ {cls.__name__}") from err


def _beacon_from_view(view: Any) -> BeaconBlockHeader:
    return BeaconBlockHeader(
        slot=int(view.slot),
        proposer_index=int(view.proposer_index),
        parent_root=bytes(view.parent_root),
        state_root=bytes(view.state_root),
        body_root=bytes(view.body_root),
    )


def _execution_from_view(view: Any) -> ExecutionPayloadHeader:
    values: dict[str, Any] = {}
    for name in view.__class__.fields():
        item = getattr(view, name)
        values[name] = int(item) if isinstance(item, uint64 | uint256) else bytes(item)
    return ExecutionPayloadHeader(**values)


def _header_from_view(view: Any) -> LightClientHeader:
    return LightClientHeader(
        beacon=_beacon_from_view(view.beacon),
        execution=_execution_from_view(view.execution),
        execution_branch=tuple(bytes(node) for node in view.execution_branch),
    )


def _committee_from_view(view: Any) -> SyncCommittee:
    return SyncCommittee(
        pubkeys=tuple(bytes(key) for key in view.pubkeys),
        aggregate_pubkey=bytes(view.aggregate_pubkey),
    )


def _aggregate_from_view(view: Any) -> SyncAggregate:
    return SyncAggregate(
        sync_committee_bits=tuple(bool(bit) for bit in view.sync_committee_bits),
        sync_committee_signature=bytes(view.sync_committee_signature),
    )


def _branch(view: Any) -> tuple[bytes, ...]:
    return tuple(bytes(node) for node in view)


def decode_bootstrap(data: bytes, fork: str, config: BeaconConfig) -> LightClientBootstrap:
    """Decode an SSZ ``LightClientBootstrap`` of data fork ``fork``; ``BadEncoding`` otherwise."""
    view = _decode(
        ssz_types(fork, config.sync_committee_size).LightClientBootstrap, data, "bootstrap"
    )
    return LightClientBootstrap(
        header=_header_from_view(view.header),
        current_sync_committee=_committee_from_view(view.current_sync_committee),
        current_sync_committee_branch=_branch(view.current_sync_committee_branch),
    )


def decode_update(data: bytes, fork: str, config: BeaconConfig) -> LightClientUpdate:
    """Decode an SSZ ``LightClientUpdate`` of data fork ``fork``; ``BadEncoding`` otherwise."""
    view = _decode(ssz_types(fork, config.sync_committee_size).LightClientUpdate, data, "update")
    return LightClientUpdate(
        attested_header=_header_from_view(view.attested_header),
        next_sync_committee=_committee_from_view(view.next_sync_committee),
        next_sync_committee_branch=_branch(view.next_sync_committee_branch),
        finalized_header=_header_from_view(view.finalized_header),
        finality_branch=_branch(view.finality_branch),
        sync_aggregate=_aggregate_from_view(view.sync_aggregate),
        signature_slot=int(view.signature_slot),
    )


def decode_finality_update(
    data: bytes, fork: str, config: BeaconConfig
) -> LightClientFinalityUpdate:
    """Decode an SSZ ``LightClientFinalityUpdate``; ``BadEncoding`` otherwise."""
    types = ssz_types(fork, config.sync_committee_size)
    view = _decode(types.LightClientFinalityUpdate, data, "finality update")
    return LightClientFinalityUpdate(
        attested_header=_header_from_view(view.attested_header),
        finalized_header=_header_from_view(view.finalized_header),
        finality_branch=_branch(view.finality_branch),
        sync_aggregate=_aggregate_from_view(view.sync_aggregate),
        signature_slot=int(view.signature_slot),
    )


def decode_optimistic_update(
    data: bytes, fork: str, config: BeaconConfig
) -> LightClientOptimisticUpdate:
    """Decode an SSZ ``LightClientOptimisticUpdate``; ``BadEncoding`` otherwise."""
    types = ssz_types(fork, config.sync_committee_size)
    view = _decode(types.LightClientOptimisticUpdate, data, "optimistic update")
    return LightClientOptimisticUpdate(
        attested_header=_header_from_view(view.attested_header),
        sync_aggregate=_aggregate_from_view(view.sync_aggregate),
        signature_slot=int(view.signature_slot),
    )


# --- beacon-API JSON ------------------------------------------------------------------


def _json_bytes(value: object, size: int | None, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise BadEncoding(f"{what} must be 0x-prefixed hex")
    try:
        out = bytes.fromhex(value[2:])
    except ValueError as err:
        raise BadEncoding(f"{what} is not hex") from err
    if size is not None and len(out) != size:
        raise BadEncoding(f"{what} must be {size} bytes, got {len(out)}")
    return out


def _json_uint(value: object, what: str, bits: int = 64) -> int:
    if not isinstance(value, str) or not value.isdigit():
        raise BadEncoding(f"{what} must be a decimal string")
    number = int(value)
    if number >= 2**bits:
        raise BadEncoding(f"{what} does not fit in uint{bits}")
    return number


def _json_get(obj: object, key: str) -> Any:
    if not isinstance(obj, Mapping) or key not in obj:
        raise BadEncoding(f"light-client JSON lacks {key!r}")
    return obj[key]


def _json_branch(value: object, what: str) -> tuple[bytes, ...]:
    if not isinstance(value, list):
        raise BadEncoding(f"{what} must be a list")
    return tuple(_json_bytes(node, 32, what) for node in value)


def light_client_header_from_json(obj: Mapping[str, Any]) -> LightClientHeader:
    """A ``LightClientHeader`` from beacon-API JSON (decimal strings, 0x-hex bytes)."""
    beacon = _json_get(obj, "beacon")
    execution = _json_get(obj, "execution")
    ints = {
        "block_number",
        "gas_limit",
        "gas_used",
        "timestamp",
        "blob_gas_used",
        "excess_blob_gas",
    }
    sizes = {
        "fee_recipient": 20,
        "logs_bloom": BYTES_PER_LOGS_BLOOM,
        "extra_data": None,
    }
    values: dict[str, Any] = {}
    for name in ExecutionPayloadHeader.__dataclass_fields__:
        if name not in execution:
            if name in ("blob_gas_used", "excess_blob_gas"):
                continue  # capella
            raise BadEncoding(f"execution header lacks {name!r}")
        if name in ints:
            values[name] = _json_uint(execution[name], name)
        elif name == "base_fee_per_gas":
            values[name] = _json_uint(execution[name], name, bits=256)
        else:
            values[name] = _json_bytes(execution[name], sizes.get(name, 32), name)
    if len(values["extra_data"]) > MAX_EXTRA_DATA_BYTES:
        raise BadEncoding("execution extra_data exceeds 32 bytes")
    return LightClientHeader(
        beacon=BeaconBlockHeader(
            slot=_json_uint(_json_get(beacon, "slot"), "slot"),
            proposer_index=_json_uint(_json_get(beacon, "proposer_index"), "proposer_index"),
            parent_root=_json_bytes(_json_get(beacon, "parent_root"), 32, "parent_root"),
            state_root=_json_bytes(_json_get(beacon, "state_root"), 32, "state_root"),
            body_root=_json_bytes(_json_get(beacon, "body_root"), 32, "body_root"),
        ),
        execution=ExecutionPayloadHeader(**values),
        execution_branch=_json_branch(_json_get(obj, "execution_branch"), "execution_branch"),
    )


def _committee_from_json(obj: object, config: BeaconConfig) -> SyncCommittee:
    pubkeys = _json_get(obj, "pubkeys")
    if not isinstance(pubkeys, list) or len(pubkeys) != config.sync_committee_size:
        raise BadEncoding(f"a sync committee has {config.sync_committee_size} pubkeys")
    return SyncCommittee(
        pubkeys=tuple(_json_bytes(k, 48, "pubkey") for k in pubkeys),
        aggregate_pubkey=_json_bytes(_json_get(obj, "aggregate_pubkey"), 48, "aggregate_pubkey"),
    )


def _aggregate_from_json(obj: object, config: BeaconConfig) -> SyncAggregate:
    raw = _json_bytes(
        _json_get(obj, "sync_committee_bits"), config.sync_committee_size // 8, "bits"
    )
    bits = tuple(bool(raw[i // 8] >> (i % 8) & 1) for i in range(config.sync_committee_size))
    signature = _json_bytes(_json_get(obj, "sync_committee_signature"), 96, "signature")
    return SyncAggregate(sync_committee_bits=bits, sync_committee_signature=signature)


def _unwrap(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """Accept both ``{"version", "data": {...}}`` envelopes and bare objects."""
    return obj["data"] if isinstance(obj, Mapping) and "data" in obj else obj


def bootstrap_from_json(obj: Mapping[str, Any], config: BeaconConfig) -> LightClientBootstrap:
    """``/eth/v1/beacon/light_client/bootstrap`` JSON to a bootstrap."""
    data = _unwrap(obj)
    return LightClientBootstrap(
        header=light_client_header_from_json(_json_get(data, "header")),
        current_sync_committee=_committee_from_json(
            _json_get(data, "current_sync_committee"), config
        ),
        current_sync_committee_branch=_json_branch(
            _json_get(data, "current_sync_committee_branch"), "current_sync_committee_branch"
        ),
    )


def update_from_json(obj: Mapping[str, Any], config: BeaconConfig) -> LightClientUpdate:
    """``/eth/v1/beacon/light_client/updates`` item JSON to an update."""
    data = _unwrap(obj)
    return LightClientUpdate(
        attested_header=light_client_header_from_json(_json_get(data, "attested_header")),
        next_sync_committee=_committee_from_json(_json_get(data, "next_sync_committee"), config),
        next_sync_committee_branch=_json_branch(
            _json_get(data, "next_sync_committee_branch"), "next_sync_committee_branch"
        ),
        finalized_header=light_client_header_from_json(_json_get(data, "finalized_header")),
        finality_branch=_json_branch(_json_get(data, "finality_branch"), "finality_branch"),
        sync_aggregate=_aggregate_from_json(_json_get(data, "sync_aggregate"), config),
        signature_slot=_json_uint(_json_get(data, "signature_slot"), "signature_slot"),
    )


def finality_update_from_json(
    obj: Mapping[str, Any], config: BeaconConfig
) -> LightClientFinalityUpdate:
    """``/eth/v1/beacon/light_client/finality_update`` JSON."""
    data = _unwrap(obj)
    return LightClientFinalityUpdate(
        attested_header=light_client_header_from_json(_json_get(data, "attested_header")),
        finalized_header=light_client_header_from_json(_json_get(data, "finalized_header")),
        finality_branch=_json_branch(_json_get(data, "finality_branch"), "finality_branch"),
        sync_aggregate=_aggregate_from_json(_json_get(data, "sync_aggregate"), config),
        signature_slot=_json_uint(_json_get(data, "signature_slot"), "signature_slot"),
    )


def optimistic_update_from_json(
    obj: Mapping[str, Any], config: BeaconConfig
) -> LightClientOptimisticUpdate:
    """``/eth/v1/beacon/light_client/optimistic_update`` JSON."""
    data = _unwrap(obj)
    return LightClientOptimisticUpdate(
        attested_header=light_client_header_from_json(_json_get(data, "attested_header")),
        sync_aggregate=_aggregate_from_json(_json_get(data, "sync_aggregate"), config),
        signature_slot=_json_uint(_json_get(data, "signature_slot"), "signature_slot"),
    )
