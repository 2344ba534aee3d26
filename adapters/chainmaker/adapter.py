"""``ChainMakerAdapter``: a ChainMaker (Chang'an Chain) v2.3 chain in the hub's vocabulary.

Reads go to a gateway/SDK bridge serving the SDK's answers as JSON over HTTP
(``adapters.chainmaker.client``): a node's gRPC cannot be reached from Python
without ChainMaker's SDK, so a live node needs such a bridge in front of it.

* heights: the bridge's current height; TBFT finality, so ``finalized_height ==
  latest_height`` (a block with a quorum certificate is final);
* headers: ``encoded`` = the protobuf ``BlockHeader``, ``evidence`` = the
  ``BlockInfo`` without header (the TBFT quorum certificate; the body too for a
  configuration block) (``adapters.chainmaker.light_client``);
* events: only the hub's bridge contract's ``send_packet`` contract events, when
  ``bridge_contract`` is configured; none is deployed on any chain yet, so this
  is an empty list on real chains, never made-up data;
* proofs: a transaction's Merkle path in ``tx_root`` (ChainMaker's padded tree,
  v2.3 transaction hash), the event being inside the proven transaction's
  result; headers commit no state root, so ``prove_state`` is refused;
* writes: refused (the hub cannot build or sign ChainMaker transactions yet);
  ``receipt`` reads a transaction by id (the hub's ``tx_hash`` is the 32 bytes
  of ChainMaker's hex ``tx_id``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar

import httpx
from google.protobuf import json_format
from google.protobuf.message import DecodeError

from adapters.chainmaker.client import FAMILY, ChainMakerHttp
from adapters.chainmaker.client_codec import ChainMakerClientCodec
from adapters.chainmaker.light_client import (
    TX_PROOF_KIND,
    ChainMakerClient,
    ChainMakerLightClient,
    encode_evidence,
)
from adapters.chainmaker.settings import ChainMakerSettings
from adapters.read_only import ReadOnlyFamily
from core.errors import ChainError, ConfigError, InvalidInput, NotFound, VerificationError
from core.ids import ChainId, Height
from core.types import ChainAction, ChainEvent, EventKind, HeaderUpdate, InclusionProof, TxReceipt
from proofs.chainmaker.encoding import (
    compute_merkle_path,
    compute_tx_hash,
    decode_block_info,
    encode,
)
from proofs.chainmaker.light_client import ClientState
from proofs.chainmaker.pb import chainmaker_pb2 as pb
from proofs.hashing import HashFunction

SEND_PACKET_TOPIC = "send_packet"
_ADDRESS = re.compile(r"^(?:0x)?([0-9a-fA-F]{40})$")
_TX_ID = re.compile(r"^[0-9a-f]{64}$")


class ChainMakerAdapter(ReadOnlyFamily):
    """``core.seams.ChainAdapter`` over one ChainMaker chain's gateway/SDK bridge."""

    family: ClassVar[str] = FAMILY
    seam_version: ClassVar[str] = "2.0"
    settings_model: ClassVar[type[ChainMakerSettings]] = ChainMakerSettings
    chain_id_option: ClassVar[str] = "chain_id"
    key_format: ClassVar[str] = ""  # no managed accounts: the hub signs no ChainMaker tx

    def __init__(
        self, settings: ChainMakerSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.chain_id = ChainId(settings.chain_id)
        self.trusts = settings.load_trusts()
        self.http = ChainMakerHttp(
            settings.rpc_url, settings.chain_id, timeout=settings.timeout, transport=transport
        )
        self._light = ChainMakerLightClient()

    # --- heights -------------------------------------------------------------------------

    async def latest_height(self) -> Height:
        return Height(await self.http.height())

    async def finalized_height(self) -> Height:
        """TBFT finality: every certified block is final."""
        return await self.latest_height()

    # --- headers -------------------------------------------------------------------------

    async def _block(self, height: int) -> pb.BlockInfo:
        doc = await self.http.block(height)
        try:
            info = decode_block_info(doc)
        except VerificationError as err:
            raise ChainError(f"block {height}: {err.message}", family=FAMILY) from err
        header = info.block.header
        if header.block_height != height:
            raise ChainError(f"asked block {height}, got {header.block_height}", family=FAMILY)
        if header.chain_id != self.settings.chain_id:
            raise ChainError("the bridge serves a block of another chain", family=FAMILY)
        return info

    async def header(self, height: Height) -> HeaderUpdate:
        """The header at ``height`` and its quorum certificate (body for config blocks)."""
        _require_height(height, "height")
        info = await self._block(int(height))
        header = info.block.header
        return HeaderUpdate(
            chain_id=self.chain_id,
            height=Height(header.block_height),
            hash=bytes(header.block_hash),
            time=int(header.block_timestamp),
            encoded=encode(header),
            evidence=encode_evidence(info),
        )

    async def header_update(self, trusted: Height, target: Height) -> HeaderUpdate:
        """The header at ``target``: its own certificate is the evidence from any trusted
        height (a skip over a configuration change is refused by ``pre_conf_height``)."""
        return await self.header(target)

    # --- events and proofs ---------------------------------------------------------------

    async def events(self, start: Height, end: Height) -> Sequence[ChainEvent]:
        """``send_packet`` events of the bridge contract in ``[start, end]``, in chain order."""
        _require_height(start, "start")
        _require_height(end, "end")
        if start > end:
            raise InvalidInput(f"events: start {start} is above end {end}")
        if end - start + 1 > self.settings.max_event_range:
            raise InvalidInput(f"events: more than {self.settings.max_event_range} blocks asked")
        if self.settings.bridge_contract is None:
            return []  # no bridge contract of the hub on this chain: nothing to relay
        found: list[ChainEvent] = []
        for height in range(int(start), int(end) + 1):
            info = await self._block(height)
            for tx_index, tx in enumerate(info.block.txs):
                found.extend(self._tx_events(Height(height), tx_index, tx))
        return found

    def _tx_events(self, height: Height, tx_index: int, tx: pb.Transaction) -> list[ChainEvent]:
        bridge = self.settings.bridge_contract
        if tx.result.code != 0 or tx.payload.contract_name != bridge:
            return []
        return [
            _event(self.chain_id, height, tx_index, event_index, tx, event)
            for event_index, event in enumerate(tx.result.contract_result.contract_event)
            if event.contract_name == bridge and event.topic == SEND_PACKET_TOPIC
        ]

    async def prove(self, event: ChainEvent) -> InclusionProof:
        """The proof of the transaction whose result holds ``event``."""
        if event.chain_id != self.chain_id or len(event.position) != 2:
            raise InvalidInput("only this chain's events at (tx index, event index) are provable")
        return await self.prove_transaction(event.height, event.position[0])

    async def prove_transaction(self, height: Height, index: int) -> InclusionProof:
        """Transaction ``index`` of block ``height`` with its path in ``tx_root``."""
        _require_height(height, "height")
        info = await self._block(int(height))
        txs = info.block.txs
        if not txs:
            raise NotFound(f"block {height} was served without its transactions")
        if not 0 <= index < len(txs):
            raise NotFound(f"block {height} has no transaction {index}")
        header = info.block.header
        hash_fn = self._hash_fn(header.pre_conf_height)
        leaves = [compute_tx_hash(tx, header.block_version, hash_fn) for tx in txs]
        return InclusionProof(
            chain_id=self.chain_id,
            height=Height(header.block_height),
            kind=TX_PROOF_KIND,
            key=index.to_bytes(8, "big"),
            value=encode(txs[index]),
            nodes=tuple(compute_merkle_path(leaves, index, hash_fn)),
        )

    def event_from_proof(
        self, event: ChainEvent, proof: InclusionProof, header_hash: bytes
    ) -> ChainEvent:
        """``event`` decoded again from the proven transaction (its contract event)."""
        if proof.kind != TX_PROOF_KIND or len(event.position) != 2:
            raise InvalidInput("not a transaction proof of a ChainMaker event", check="kind")
        if int.from_bytes(proof.key, "big") != event.position[0] or proof.height != event.height:
            raise InvalidInput("the proof is for another transaction", check="position")
        tx = pb.Transaction()
        try:
            tx.ParseFromString(proof.value)
        except DecodeError as err:
            raise InvalidInput("the proven transaction does not decode", check="value") from err
        found = self._tx_events(event.height, event.position[0], tx)
        again = [e for e in found if e.position == event.position]
        if not again:
            raise InvalidInput("the proven transaction holds no such bridge event", check="value")
        return again[0]

    async def prove_state(self, key: bytes, height: Height) -> InclusionProof:
        raise InvalidInput(
            "ChainMaker headers commit no state root (only the block's transactions and "
            "read-write sets): a state key cannot be proven present or absent",
            field="key",
        )

    # --- writes --------------------------------------------------------------------------

    async def submit(self, action: ChainAction) -> bytes:
        raise ConfigError(
            f"{self.chain_id}: the hub cannot build or sign ChainMaker transactions yet "
            "(their payloads and endorsements need ChainMaker's SDK)"
        )

    async def receipt(self, tx_hash: bytes) -> TxReceipt:
        """The transaction of id ``tx_hash.hex()``: committed ones only (``NotFound`` else)."""
        if len(tx_hash) != 32:
            raise InvalidInput("a ChainMaker tx id is 32 bytes", field="tx_hash")
        doc = await self.http.tx(tx_hash.hex())
        info = pb.TransactionInfo()
        try:
            json_format.ParseDict(doc, info)
        except (json_format.ParseError, TypeError, ValueError) as err:
            raise ChainError("the bridge sent a malformed TransactionInfo", family=FAMILY) from err
        if info.transaction.payload.tx_id != tx_hash.hex():
            raise ChainError("the bridge sent another transaction", family=FAMILY)
        code = info.transaction.result.code
        return TxReceipt(
            chain_id=self.chain_id,
            tx_hash=tx_hash,
            height=Height(info.block_height),
            success=code == 0,
            reason="" if code == 0 else f"code {code}: {info.transaction.result.message[:200]}",
        )

    # --- family rules (class-level) and hub capabilities --------------------------------
    # An account address is 20 bytes written as 40 hex digits (ChainMaker's default
    # address type, with or without 0x). The hub neither signs ChainMaker transactions
    # nor checks client-signed ones, and no bridge or HTLC of the hub is deployed on a
    # ChainMaker chain: those answer None or refuse, naming the family.

    @classmethod
    def validate_address(cls, value: str, field: str = "address") -> str:
        match = _ADDRESS.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            raise InvalidInput(
                f"{field}: a chainmaker address is 40 hex digits (20 bytes)", field=field
            )
        return match.group(1).lower()

    @classmethod
    def address_bytes(cls, value: str) -> bytes:
        return bytes.fromhex(cls.validate_address(value))

    def light_client(self) -> ChainMakerLightClient:
        return self._light

    def client_codec(self) -> ChainMakerClientCodec:
        """Persistence of this chain's light-client states (trust from the trust file)."""
        s = self.settings
        params = ClientState(s.chain_id, s.trusting_period, s.max_clock_drift)
        return ChainMakerClientCodec(ChainMakerClient(params, dict(self.trusts)))

    async def aclose(self) -> None:
        await self.http.aclose()

    def _hash_fn(self, config_height: int) -> HashFunction:
        trust = self.trusts.get(config_height) or next(iter(self.trusts.values()))
        return trust.hash_fn


def _event(
    chain_id: ChainId,
    height: Height,
    tx_index: int,
    event_index: int,
    tx: pb.Transaction,
    event: pb.ContractEvent,
) -> ChainEvent:
    tx_id = tx.payload.tx_id
    return ChainEvent(
        chain_id=chain_id,
        height=height,
        kind=EventKind.SEND_PACKET,
        tx_hash=bytes.fromhex(tx_id) if _TX_ID.fullmatch(tx_id) else tx_id.encode(),
        position=(tx_index, event_index),
        attributes={"topic": event.topic, "event_data": list(event.event_data)},
        raw=encode(event),
    )


def _require_height(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{name} must be a height >= 1", field=name)
