"""``FiscoAdapter``: a FISCO BCOS 2.x group's JSON-RPC in the hub's vocabulary (``ChainAdapter``).

* heights: ``getBlockNumber``; PBFT finality, so ``finalized_height ==
  latest_height`` (a sealed 2.x block is final: it carries the commit
  signatures of a quorum of sealers);
* headers: ``getBlockHeaderByNumber`` with its ``signatureList``, packed as
  ``adapters.fisco.light_client`` reads it (RLP of the 13 hashed fields; the
  signatures as evidence). Every header carries its own quorum, so
  ``header_update`` is the target's header whatever the trusted height;
* events: the hub has no bridge contract on FISCO BCOS, so there are no bridge
  events to read: ``events`` checks its range and returns none (never made up);
* proofs: ``getTransactionByHashWithProof`` of an event's transaction, in the
  2.x 16-ary format, against ``transactionsRoot``. Proving a log needs the
  receipt proof and the 2.x receipt encoding, for which there is no real data:
  ``event_from_proof`` refuses. 2.x serves no state proofs: ``prove_state`` refuses;
* writes: the hub signs no FISCO transaction (no maintained Python signer of
  2.x transactions on PyPI): ``submit`` refuses; ``receipt`` reads
  ``getTransactionReceipt`` (``NotFound`` when the node answers ``null``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar

import httpx

from adapters.fisco.client_codec import FiscoClientCodec
from adapters.fisco.light_client import (
    TX_PROOF_KIND,
    FiscoClientState,
    FiscoLightClient,
    encode_header,
    encode_proof_nodes,
    encode_signatures,
)
from adapters.fisco.rpc import FiscoRpc, FiscoRpcError, quantity
from adapters.fisco.settings import FiscoSettings
from adapters.read_only import ReadOnlyFamily
from core.errors import BadEncoding, ConfigError, InvalidInput, NotFound
from core.ids import ChainId, Height
from core.types import ChainAction, ChainEvent, HeaderUpdate, InclusionProof, TxReceipt
from proofs.fisco import decode_header, decode_proof

FAMILY = "fisco"
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_NO_SIGNING = "the hub signs no FISCO BCOS transactions yet"


class FiscoAdapter(ReadOnlyFamily):
    """``core.seams.ChainAdapter`` over one FISCO BCOS 2.x node's JSON-RPC (one group)."""

    family: ClassVar[str] = FAMILY
    seam_version: ClassVar[str] = "2.0"
    settings_model: ClassVar[type[FiscoSettings]] = FiscoSettings
    chain_id_option: ClassVar[str] = "chain_id"
    key_format: ClassVar[str] = ""  # no managed accounts: the hub signs no FISCO tx

    def __init__(
        self, settings: FiscoSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.chain_id = ChainId(settings.chain_id)
        self.rpc = FiscoRpc(
            settings.rpc_url, settings.group_id, timeout=settings.timeout, transport=transport
        )
        self._light = FiscoLightClient()

    # --- heights -------------------------------------------------------------------------

    async def latest_height(self) -> Height:
        return Height(await self.rpc.block_number())

    async def finalized_height(self) -> Height:
        """PBFT finality: every sealed block is final."""
        return await self.latest_height()

    # --- headers -------------------------------------------------------------------------

    async def header(self, height: Height) -> HeaderUpdate:
        """The header at ``height`` with its PBFT signatures; ``NotFound`` above the tip."""
        _require_height(height, "height", minimum=0)
        if height > await self.rpc.block_number():
            raise NotFound(f"block {height} is above the tip of {self.chain_id}")
        doc = await self.rpc.block_header(height)
        if doc is None:
            raise NotFound(f"the node has no block {height}")
        try:
            parsed = decode_header(doc)
        except BadEncoding as err:
            raise FiscoRpcError(f"getBlockHeaderByNumber: {err.message}") from err
        if parsed.number != height:
            raise FiscoRpcError(f"getBlockHeaderByNumber: asked {height}, got {parsed.number}")
        return HeaderUpdate(
            chain_id=self.chain_id,
            height=Height(parsed.number),
            hash=parsed.hash,
            time=parsed.timestamp // 1000,
            encoded=encode_header(parsed),
            evidence=encode_signatures(parsed.signatures),
        )

    async def header_update(self, trusted: Height, target: Height) -> HeaderUpdate:
        """The header at ``target``: its own sealer quorum is the evidence from any height."""
        return await self.header(target)

    # --- events and proofs ---------------------------------------------------------------

    async def events(self, start: Height, end: Height) -> Sequence[ChainEvent]:
        """No bridge of the hub runs on FISCO BCOS: no events, after the range is checked."""
        _require_height(start, "start")
        _require_height(end, "end")
        if start > end:
            raise InvalidInput(f"events: start {start} is above end {end}")
        if end - start + 1 > self.settings.max_event_range:
            raise InvalidInput(f"events: more than {self.settings.max_event_range} blocks asked")
        return []

    async def prove(self, event: ChainEvent) -> InclusionProof:
        """The 2.x proof of the event's transaction at its index under ``transactionsRoot``."""
        if event.chain_id != self.chain_id or not event.position:
            raise InvalidInput("only an event of this chain with its transaction index is provable")
        answer = await self.rpc.transaction_with_proof(event.tx_hash)
        if answer is None:
            raise NotFound(f"the node knows no transaction 0x{event.tx_hash.hex()}")
        tx, steps = answer.get("transaction"), answer.get("txProof")
        if not isinstance(tx, dict) or not isinstance(steps, list):
            raise FiscoRpcError("getTransactionByHashWithProof: no transaction or txProof")
        what = "getTransactionByHashWithProof"
        if (
            _hash(tx.get("hash"), what) != event.tx_hash
            or quantity(tx.get("blockNumber"), what) != event.height
            or quantity(tx.get("transactionIndex"), what) != event.position[0]
        ):
            raise FiscoRpcError(f"{what}: the node answered for another transaction")
        try:
            nodes = encode_proof_nodes(decode_proof(steps))
        except BadEncoding as err:
            raise FiscoRpcError(f"{what}: {err.message}") from err
        return InclusionProof(
            chain_id=self.chain_id,
            height=event.height,
            kind=TX_PROOF_KIND,
            key=event.position[0].to_bytes(8, "big"),
            value=event.tx_hash,
            nodes=nodes,
        )

    def event_from_proof(
        self, event: ChainEvent, proof: InclusionProof, header_hash: bytes
    ) -> ChainEvent:
        """Refused: a transaction proof shows the transaction, not the log an event is."""
        raise InvalidInput(
            "fisco: an event is a receipt's log; its receipt proof and the 2.x receipt "
            "encoding are not implemented (no real data to check them against)",
            check="kind",
        )

    async def prove_state(self, key: bytes, height: Height) -> InclusionProof:
        """Refused: FISCO BCOS 2.x JSON-RPC serves no state proofs."""
        raise ConfigError(f"{self.chain_id}: FISCO BCOS 2.x serves no state proofs")

    # --- writes --------------------------------------------------------------------------

    async def submit(self, action: ChainAction) -> bytes:
        raise ConfigError(f"{self.chain_id}: {_NO_SIGNING}")

    async def receipt(self, tx_hash: bytes) -> TxReceipt:
        """``getTransactionReceipt``: ``NotFound`` while the node answers ``null``."""
        doc = await self.rpc.receipt(tx_hash)
        if doc is None:
            raise NotFound(f"no receipt of 0x{tx_hash.hex()} on {self.chain_id}")
        what = "getTransactionReceipt"
        if _hash(doc.get("transactionHash"), what) != tx_hash:
            raise FiscoRpcError(f"{what}: the node answered for another transaction")
        status = quantity(doc.get("status"), what)
        return TxReceipt(
            chain_id=self.chain_id,
            tx_hash=tx_hash,
            height=Height(quantity(doc.get("blockNumber"), what)),
            success=status == 0,
            reason="" if status == 0 else f"status 0x{status:x}",
        )

    # --- family rules (class-level) and hub capabilities: what this family has --------
    # Addresses are 20 bytes written 0x + 40 hex (FISCO derives them as Ethereum does);
    # the hub has no bridge or HTLC on FISCO BCOS and signs no FISCO transaction yet:
    # those answer None or refuse, naming the family, instead of being missing.

    @classmethod
    def validate_address(cls, value: str, field: str = "address") -> str:
        """``0x`` + 40 hex digits, lower-cased (FISCO 2.x uses no checksum case)."""
        if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
            raise InvalidInput(f"{field}: a fisco address is 0x and 40 hex digits", field=field)
        return value.lower()

    @classmethod
    def address_bytes(cls, value: str) -> bytes:
        return bytes.fromhex(cls.validate_address(value)[2:])

    def light_client(self) -> FiscoLightClient:
        return self._light

    def client_codec(self) -> FiscoClientCodec:
        """Persistence of this group's light-client states (trust options from the settings)."""
        s = self.settings
        client = FiscoClientState(s.chain_id, s.group_id, s.trusting_period, s.max_clock_drift)
        return FiscoClientCodec(client, s.sealer_keys())

    async def aclose(self) -> None:
        await self.rpc.aclose()


def _require_height(value: object, name: str, *, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInput(f"{name} must be a height >= {minimum}", field=name)


def _hash(value: object, what: str) -> bytes:
    if isinstance(value, str):
        try:
            raw = bytes.fromhex(value.removeprefix("0x"))
        except ValueError:
            raw = b""
        if len(raw) == 32:
            return raw
    raise FiscoRpcError(f"{what}: not a 32-byte hash")
