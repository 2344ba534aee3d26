"""``CometBftAdapter``: a CometBFT chain's RPC in the hub's vocabulary (``ChainAdapter``).

* heights: ``/status``; BFT finality, so ``finalized_height == latest_height``
  (a committed CometBFT block is final: forks need > 1/3 faulty power, which
  the light client's misbehaviour check catches, not a confirmation depth);
* headers: ``/commit`` + ``/validators`` at ``h`` and ``h + 1`` (paginated)
  packed into the envelope ``proofs.cometbft.trusted_header`` defines;
* events: ``/block_results`` (CometBFT >= 0.37: attributes are plain strings);
  IBC ``send_packet`` events become ``EventKind.SEND_PACKET``, all others are
  ignored; the transaction hash is ``sha256(tx)`` of ``/block``'s txs;
* proofs: ``/abci_query`` with ``prove=true`` of the IBC packet commitment
  (``commitments/ports/{port}/channels/{channel}/sequences/{seq}`` in the
  ``ibc`` store), i.e. ibc-go's two-level ICS-23 ``MerkleProof``. A query at
  height ``h`` proves the state after block ``h``, whose root is the
  ``app_hash`` of header ``h + 1``: the proof's ``height`` is ``h + 1``;
* writes: ``/broadcast_tx_sync`` of an already signed transaction
  (``ChainAction("cosmos.tx", {"tx": bytes})``) and ``/tx``. Building and
  signing Cosmos SDK transactions is the caller's (no maintained Python
  library signs them for every SDK version); replays are refused by the
  account sequence, so submitting the same bytes twice executes once.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any, ClassVar

import httpx

from adapters.cometbft.client_codec import CometBftClientCodec
from adapters.cometbft.rpc import CometRpc, CometRpcError
from adapters.cometbft.settings import CometBftSettings
from adapters.read_only import ReadOnlyFamily
from core.errors import ChainError, ChainRejected, InvalidInput, NotFound
from core.ids import ChainId, Height
from core.types import ChainAction, ChainEvent, EventKind, HeaderUpdate, InclusionProof, TxReceipt
from proofs.cometbft import (
    ICS23_ABSENCE_PROOF_KIND,
    ICS23_PROOF_KIND,
    CometBftLightClient,
    trusted_header,
)

FAMILY = "cometbft"
SUBMIT_KIND = "cosmos.tx"
SEND_PACKET_EVENT = "send_packet"
_PACKET_KEYS = ("packet_src_port", "packet_src_channel", "packet_sequence")
_ADDRESS = re.compile(r"^\S{1,128}$")
_TX_IN_MEMPOOL_CACHE = 19  # Cosmos SDK ErrTxInMempoolCache: the same bytes are already queued


class CometBftAdapter(ReadOnlyFamily):
    """``core.seams.ChainAdapter`` over one CometBFT node's RPC."""

    family: ClassVar[str] = FAMILY
    seam_version: ClassVar[str] = "2.0"
    settings_model: ClassVar[type[CometBftSettings]] = CometBftSettings
    chain_id_option: ClassVar[str] = "chain_id"
    key_format: ClassVar[str] = ""  # no managed accounts: the hub signs no Cosmos SDK tx

    def __init__(
        self, settings: CometBftSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.chain_id = ChainId(settings.chain_id)
        self.rpc = CometRpc(settings.rpc_url, timeout=settings.timeout, transport=transport)
        self._light = CometBftLightClient()

    # --- heights -------------------------------------------------------------------------

    async def latest_height(self) -> Height:
        status = await self.rpc.status()
        network = (status.get("node_info") or {}).get("network")
        if network != self.settings.chain_id:
            raise ChainError(
                f"the node serves chain {network!r}, not {self.settings.chain_id!r}",
                family=FAMILY,
            )
        return Height(_int((status.get("sync_info") or {}).get("latest_block_height")))

    async def finalized_height(self) -> Height:
        """BFT finality: every committed block is final."""
        return await self.latest_height()

    # --- headers -------------------------------------------------------------------------

    async def header(self, height: Height) -> HeaderUpdate:
        """The light block at ``height`` (signed header, its set, the next set) as an envelope."""
        _require_height(height, "height")
        commit, validators, next_validators = await asyncio.gather(
            self.rpc.commit(height), self._validators(height), self._validators(height + 1)
        )
        signed = commit.get("signed_header")
        if not isinstance(signed, dict) or not isinstance(signed.get("header"), dict):
            raise CometRpcError("commit: no signed_header")
        if str(signed["header"].get("height")) != str(height):
            raise CometRpcError(f"commit: asked height {height}, got another")
        if signed["header"].get("chain_id") != self.settings.chain_id:
            raise ChainError("commit: the header is of another chain", family=FAMILY)
        return trusted_header(
            {
                "signed_header": signed,
                "validator_set": {"validators": validators},
                "next_validator_set": {"validators": next_validators},
            }
        )

    async def _validators(self, height: int) -> list[Any]:
        s = self.settings
        return await self.rpc.validators(
            height, per_page=s.validators_per_page, max_pages=s.max_validator_pages
        )

    # --- events and proofs ---------------------------------------------------------------

    async def events(self, start: Height, end: Height) -> Sequence[ChainEvent]:
        """``send_packet`` events of ``[start, end]``, ordered by (height, tx, event)."""
        _require_height(start, "start")
        _require_height(end, "end")
        if start > end:
            raise InvalidInput(f"events: start {start} is above end {end}")
        if end - start + 1 > self.settings.max_event_range:
            raise InvalidInput(f"events: more than {self.settings.max_event_range} blocks asked")
        found: list[ChainEvent] = []
        for height in range(start, end + 1):
            found.extend(await self._events_at(Height(height)))
        return found

    async def _events_at(self, height: Height) -> list[ChainEvent]:
        results = await self.rpc.block_results(height)
        txs_results = results.get("txs_results") or []
        wanted = [
            (tx_index, event_index, event)
            for tx_index, tx_result in enumerate(txs_results)
            if isinstance(tx_result, dict) and tx_result.get("code", 0) == 0
            for event_index, event in enumerate(tx_result.get("events") or [])
            if isinstance(event, dict) and event.get("type") == SEND_PACKET_EVENT
        ]
        if not wanted:
            return []
        txs = ((await self.rpc.block(height)).get("block") or {}).get("data", {}).get("txs") or []
        if len(txs) != len(txs_results):
            raise CometRpcError(f"block {height}: {len(txs)} txs, {len(txs_results)} results")
        return [
            ChainEvent(
                chain_id=self.chain_id,
                height=height,
                kind=EventKind.SEND_PACKET,
                tx_hash=hashlib.sha256(_b64(txs[tx_index])).digest(),
                position=(tx_index, event_index),
                attributes=_attributes(event),
                raw=json.dumps(event, sort_keys=True, separators=(",", ":")).encode(),
            )
            for tx_index, event_index, event in wanted
        ]

    async def prove(self, event: ChainEvent) -> InclusionProof:
        """The ICS-23 proof of the event's packet commitment, against header ``height + 1``."""
        key = _commitment_key(event, self.chain_id)
        proof = await self._query_proof(key, int(event.height))
        if not proof.value:
            raise NotFound("the packet commitment is gone (acknowledged or timed out)")
        return proof

    async def prove_state(self, key: bytes, height: Height) -> InclusionProof:
        """The ICS-23 membership or absence proof of ``key`` in the IBC store, against the
        app hash of header ``height`` (the state after block ``height - 1``)."""
        _require_height(height, "height")
        if height < 2:
            raise InvalidInput("a state proof needs a height of at least 2", field="height")
        return await self._query_proof(key, int(height) - 1)

    async def _query_proof(self, key: bytes, at: int) -> InclusionProof:
        store = self.settings.ibc_store
        response = await self.rpc.abci_query(f"store/{store}/key", key, Height(at))
        if response.get("code", 0) != 0:
            raise CometRpcError(f"abci_query refused: code {response.get('code')}")
        value = _b64(response.get("value") or "")
        ops = ((response.get("proofOps") or response.get("proof_ops") or {}).get("ops")) or []
        if len(ops) != 2:
            raise CometRpcError(f"abci_query: expected 2 proof ops, got {len(ops)}")
        return InclusionProof(
            chain_id=self.chain_id,
            height=Height(_int(response.get("height")) + 1),
            kind=ICS23_PROOF_KIND if value else ICS23_ABSENCE_PROOF_KIND,
            key=key,
            value=value,
            nodes=(store.encode(), _b64(ops[0].get("data")), _b64(ops[1].get("data"))),
        )

    def event_from_proof(
        self, event: ChainEvent, proof: InclusionProof, header_hash: bytes
    ) -> ChainEvent:
        """``event``, once its attributes are shown to be what the proven commitment commits.

        IBC proves a packet's commitment (ICS-04: ``sha256(timeout timestamp ‖
        timeout revision number ‖ revision height ‖ sha256(data))``), not the
        event: the event's packet fields are recomputed into that commitment and
        compared with the proven value, so none of them is the node's word.
        """
        if proof.key != _commitment_key(event, self.chain_id):
            raise InvalidInput("the proof is for another packet commitment", check="position")
        if proof.value != _commitment(event):
            raise InvalidInput(
                "the event's packet does not hash to the proven commitment", check="value"
            )
        return event

    # --- writes --------------------------------------------------------------------------

    async def submit(self, action: ChainAction) -> bytes:
        """Broadcast a signed transaction (``payload["tx"]``); its hash, without waiting."""
        tx = action.payload.get("tx")
        if action.kind != SUBMIT_KIND or not isinstance(tx, bytes) or not tx:
            raise InvalidInput(f"CometBFT submits {SUBMIT_KIND!r} actions with signed tx bytes")
        result = await self.rpc.broadcast_tx_sync(tx)
        code = result.get("code", 0)
        if code not in (0, _TX_IN_MEMPOOL_CACHE):
            raise ChainRejected(
                f"CheckTx refused: {result.get('codespace', '')} code {code}: "
                f"{str(result.get('log', ''))[:200]}"
            )
        return hashlib.sha256(tx).digest()

    async def receipt(self, tx_hash: bytes) -> TxReceipt:
        """``/tx``: committed transactions only (``NotFound`` while pending or unknown)."""
        result = await self.rpc.tx(tx_hash)
        tx_result = result.get("tx_result") or {}
        code = tx_result.get("code", 0)
        return TxReceipt(
            chain_id=self.chain_id,
            tx_hash=tx_hash,
            height=Height(_int(result.get("height"))),
            success=code == 0,
            reason="" if code == 0 else f"{tx_result.get('codespace', '')} code {code}",
        )

    async def header_update(self, trusted: Height, target: Height) -> HeaderUpdate:
        """The light block at ``target``: its own commit is the evidence from any trusted height."""
        return await self.header(target)

    # --- family rules (class-level) and hub capabilities: what this family has --------
    # Addresses are bech32 text carried as their UTF-8 bytes (an ICS-20 receiver is a
    # string). The hub neither signs Cosmos SDK transactions nor checks client-signed
    # ones yet, and the chain has no bridge or HTLC of the hub's: those answer None
    # or refuse, naming the family, instead of being missing.

    @classmethod
    def validate_address(cls, value: str, field: str = "address") -> str:
        """Shape only (1-128 non-space characters): bech32 prefixes vary per chain."""
        if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
            raise InvalidInput(
                f"{field}: a cometbft address is 1-128 non-space characters", field=field
            )
        return value

    @classmethod
    def address_bytes(cls, value: str) -> bytes:
        return cls.validate_address(value).encode()

    def light_client(self) -> CometBftLightClient:
        return self._light

    def client_codec(self) -> CometBftClientCodec:
        """Persistence of this chain's light-client states (trust options from the settings)."""
        return CometBftClientCodec(self.settings.client_state())

    async def aclose(self) -> None:
        await self.rpc.aclose()


def _commitment_key(event: ChainEvent, chain_id: str) -> bytes:
    if event.kind is not EventKind.SEND_PACKET or event.chain_id != chain_id:
        raise InvalidInput("only this chain's send_packet events are provable")
    attrs = event.attributes
    if not all(isinstance(attrs.get(k), str) for k in _PACKET_KEYS):
        raise InvalidInput("the send_packet event lacks its port, channel or sequence")
    return (
        f"commitments/ports/{attrs['packet_src_port']}/channels/"
        f"{attrs['packet_src_channel']}/sequences/{attrs['packet_sequence']}"
    ).encode()


def _commitment(event: ChainEvent) -> bytes:
    """ICS-04 packet commitment of the send_packet event's packet fields."""
    attrs = event.attributes
    try:
        revision, _, height = str(attrs["packet_timeout_height"]).partition("-")
        timestamp = int(str(attrs["packet_timeout_timestamp"]))
        data = bytes.fromhex(str(attrs["packet_data_hex"]))
        parts = (timestamp, int(revision), int(height))
    except (KeyError, ValueError) as err:
        raise InvalidInput(
            "the send_packet event lacks its timeout or data", check="value"
        ) from err
    encoded = b"".join(p.to_bytes(8, "big") for p in parts)
    return hashlib.sha256(encoded + hashlib.sha256(data).digest()).digest()


def _require_height(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{name} must be a height >= 1", field=name)


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError as err:
        raise CometRpcError("the node sent a non-integer height") from err


def _b64(value: object) -> bytes:
    try:
        return base64.b64decode(str(value or ""), validate=True)
    except (binascii.Error, ValueError) as err:
        raise CometRpcError("the node sent malformed base64") from err


def _attributes(event: dict[str, Any]) -> dict[str, object]:
    attrs: dict[str, object] = {}
    for item in event.get("attributes") or []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            attrs[item["key"]] = item.get("value")
    return attrs
