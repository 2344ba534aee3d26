"""``EvmAdapter``: one EVM chain behind the ``core.seams.ChainAdapter`` seam.

What it adds to the JSON-RPC client (``rpc.py``):

* reads retried on ``ChainUnavailable`` only (``scanner.Reader``), writes never;
* headers with the evidence the light client (``proofs.evm.client``) needs:
  ``rlp([ancestors, descendants])`` of header RLPs;
* Bridge and HashedTimelock events decoded with eth-abi into ``ChainEvent``,
  read in chunks of ``log_range`` blocks; a log is ABI-decoded once (kept by its
  receipt bytes), when listed, not again when its proof is checked;
* receipt-log proofs (kind ``"mpt-receipt"``) built from ``eth_getBlockReceipts``:
  the receipts trie of a block is built once (``proofs.evm.ordered_trie``) and serves
  every event of it;
* transactions signed through the signer seam (``core.seams.Signer``: keystore,
  PKCS#11, or ``signer_key`` for development) by a pool of accounts (``pool.py``),
  fees capped (``fees.py``), nonces from one ``NonceManager`` per account so that
  many can be in flight; stuck ones replaced with higher fees, balances watched;
  a ``raw_tx`` signed elsewhere (an API client's ``signed_tx``) is sent as is;
* a ``LogScanner`` factory for the relayer's reorg-aware scanning (``scanner.py``).

It never verifies anything (the light client does) and never loops waiting
for the chain, except in ``wait_receipt``/``wait_receipts``, which are for
tools, tests and benchmarks and are bounded by ``receipt_timeout``.

SECURITY: the signer keys live only inside their ``Signer`` objects (or their
HSM); no key is ever put in a repr, a log line or an exception message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self

import httpx
import rlp
from eth_utils import event_abi_to_log_topic, to_checksum_address
from pydantic import SecretStr

from adapters.evm import source_tx
from adapters.evm.artifacts import Artifact, load_artifact
from adapters.evm.bridge import EvmBridge, batch_capacity_for
from adapters.evm.certificate import BridgeDomain, Packet
from adapters.evm.client_codec import EvmClientCodec
from adapters.evm.fees import FeeLimits, FeeOracle, FeeQuote
from adapters.evm.ledger import EvmBridgeLedger
from adapters.evm.nonces import NonceManager, NonceTaken, is_already_known, is_nonce_used
from adapters.evm.onchain_clients import EvmClientHost
from adapters.evm.pool import InFlight, PoolAccount, SignerPool
from adapters.evm.rpc import MAX_BATCH, JsonRpcClient
from adapters.evm.scanner import (
    BlockHashStore,
    Coalescer,
    LogScanner,
    Reader,
    RpcLog,
    fetch_logs,
)
from adapters.evm.settings import EvmChainSettings
from adapters.evm.source_tx import EvmAccount, EvmSourceTransactions
from adapters.signers import LocalSigner, open_signer
from adapters.signers.refs import warn_plaintext
from core.committee import CommitteeState
from core.errors import (
    ChainError,
    ChainRejected,
    ChainUnavailable,
    ConfigError,
    InvalidInput,
    NotFound,
    ReorgDetected,
)
from core.ids import ChainId, Height
from core.seams import SECP256K1, OnChainClientStatus, OnChainUpdate, Signer
from core.types import ChainAction, ChainEvent, EventKind, HeaderUpdate, InclusionProof, TxReceipt
from core.types import Packet as CorePacket
from proofs.evm.client import (
    PROOF_KIND,
    STORAGE_PROOF_KIND,
    EvmLightClient,
    decode_log_key,
    encode_header_evidence,
    encode_log,
    encode_log_key,
)
from proofs.evm.header import EvmHeader, encode_header, header_from_rpc
from proofs.evm.ordered_trie import OrderedTrie, build_ordered_trie
from proofs.hashing import keccak256
from proofs.htlc.timing import ChainTiming
from proofs.mpt import Receipt, encode_receipt, receipt_from_rpc
from proofs.rlp_lists import rlp_of, uint_bytes

if TYPE_CHECKING:
    from adapters.evm.htlc import EvmHtlc

FAMILY = "evm"

EVENT_KINDS: Mapping[tuple[str, str], EventKind] = {
    ("Bridge", "SendPacket"): EventKind.SEND_PACKET,
    ("Bridge", "RecvPacket"): EventKind.RECEIVE_PACKET,
    ("Bridge", "AcknowledgePacket"): EventKind.ACKNOWLEDGE_PACKET,
    ("Bridge", "TimeoutPacket"): EventKind.TIMEOUT_PACKET,
    ("Bridge", "PacketFailed"): EventKind.PACKET_FAILED,
    ("HashedTimelock", "Locked"): EventKind.HTLC_LOCKED,
    ("HashedTimelock", "Claimed"): EventKind.HTLC_CLAIMED,
    ("HashedTimelock", "Refunded"): EventKind.HTLC_REFUNDED,
}
"""The events the hub reacts to; the contracts' other events are not read."""

_CONTRACTS = {"bridge": "Bridge", "htlc": "HashedTimelock"}
RAW_TX = "raw_tx"
_NONCE_ATTEMPTS = 3
_log = logging.getLogger(__name__)
"""A transaction signed elsewhere (the API's ``signed_tx``): ``{"tx": "0x…"}``, sent as is."""
_PROOF_CACHE_BLOCKS = 16
_DECODED_LOGS = 4096
"""Logs kept decoded (``EvmAdapter._decoded``): a listed block's logs until their proofs
are checked (``event_from_proof``), for blocks of thousands of bridge events."""
_SUBMITTED_KEYS = 10_000
_METHOD_MISSING = -32601


@dataclass(frozen=True, slots=True)
class _Call:
    """A transaction to build: destination, calldata, value and (optionally) gas, or a
    bound the gas is expected to fit (checked by one execution, ``_gas_of``)."""

    to: str
    data: bytes
    value: int
    gas: int | None
    gas_bound: int | None = None


@dataclass(slots=True)
class _Sent:
    """A signed transaction under an idempotency key (resent as the same bytes if in doubt)."""

    tx_hash: bytes
    raw: bytes
    accepted: bool


@dataclass(frozen=True, slots=True)
class _DecodedLog:
    """A bridge or HTLC log's ABI decoding: what ``decode_event`` makes of its address,
    topics and data (whatever block or transaction it is in)."""

    address: str
    name: str
    kind: EventKind
    arguments: tuple[tuple[str, object], ...]
    """The event's arguments (the packet as a ``Packet``), immutable: no event's dict is it."""


@dataclass(frozen=True, slots=True)
class _BlockReceipts:
    """A block's receipts and their trie: built once, proves every log of the block."""

    block_hash: bytes
    rpc: tuple[Mapping[str, Any], ...]
    receipts: tuple[Receipt, ...]
    trie: OrderedTrie

    @classmethod
    def build(cls, block_hash: bytes, rpc_receipts: Sequence[Mapping[str, Any]]) -> _BlockReceipts:
        # Every node built, encoded and hashed once (proofs.evm.ordered_trie: ~15 µs a
        # receipt where HexaryTrie.set took ~110 µs; issue #15).
        receipts = tuple(receipt_from_rpc(r) for r in rpc_receipts)
        trie = build_ordered_trie([encode_receipt(r) for r in receipts])
        return cls(block_hash, tuple(rpc_receipts), receipts, trie)

    def prove(self, tx_index: int) -> list[bytes]:
        """The shape of proofs.mpt's proofs (and of eth_getProof): the root node, then every
        node referenced by hash; nodes under 32 bytes are inline in their parent. Cut from
        the block's trie rather than with proofs.mpt.prove_receipt, which rebuilds the whole
        trie for each proof (25 ms for 200 receipts instead of 0.1 ms per proof), and with
        each node's RLP as the build made it, not re-encoded per proof (issue #15)."""
        return self.trie.prove(rlp_of(uint_bytes(tx_index)))


class _Signer:
    """A pool account's transaction signing over the signer seam: it prints only its address.

    Transactions are encoded here (EIP-1559 type 2 when the quote has a base
    fee, EIP-155 legacy otherwise) and their signing hash signed by the
    account's ``core.seams.Signer`` (keystore, HSM, or memory), whose r ‖ s ‖ v
    gives the y parity: the same bytes as ``Account.sign_transaction`` for a
    key in memory (the tests compare them).
    """

    __slots__ = ("_signer", "address")

    def __init__(self, signer: Signer) -> None:
        if signer.scheme != SECP256K1:
            raise ConfigError(f"an EVM signer is secp256k1, not {signer.scheme}")
        self._signer = signer
        self.address: str = to_checksum_address(keccak256(signer.public_key[1:])[12:])

    def __repr__(self) -> str:
        return f"_Signer({self.address})"

    def sign(
        self, chain_id: int, call: _Call, gas: int, quote: FeeQuote, nonce: int
    ) -> tuple[bytes, bytes]:
        """``(raw transaction, transaction hash)``."""
        to = bytes.fromhex(call.to.removeprefix("0x"))
        if quote.gas_price is not None:
            body = [nonce, quote.gas_price, gas, to, call.value, call.data]
            y_parity, r, s = self._sign_hash(keccak256(rlp.encode([*body, chain_id, 0, 0])))
            raw = rlp.encode([*body, y_parity + 35 + 2 * chain_id, r, s])
        else:
            fields = quote.tx_fields()
            body = [chain_id, nonce, fields["maxPriorityFeePerGas"], fields["maxFeePerGas"]]
            body += [gas, to, call.value, call.data, []]
            y_parity, r, s = self._sign_hash(keccak256(b"\x02" + rlp.encode(body)))
            raw = b"\x02" + rlp.encode([*body, y_parity, r, s])
        return raw, keccak256(raw)

    def _sign_hash(self, digest: bytes) -> tuple[int, int, int]:
        signature = self._signer.sign_digest(digest)
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big")
        return signature[64] - 27, r, s


def _is_out_of_funds(err: ChainRejected) -> bool:
    text = err.message.lower()
    return "insufficient funds" in text or "insufficient balance" in text


def _plaintext_signer(secret: SecretStr) -> Signer:
    try:
        key = bytes.fromhex(secret.get_secret_value().removeprefix("0x"))
        return LocalSigner(key, SECP256K1, label="signer_key")
    except (ValueError, InvalidInput):  # never quote the value
        raise ConfigError("signer_key is not a valid secp256k1 private key") from None


class EvmAdapter:
    """The ``ChainAdapter`` of one EVM chain (see the module docstring).

    Use as ``async with EvmAdapter(settings) as adapter`` or call ``aclose()``.
    ``transport`` lets tests run over ``httpx.MockTransport``.
    """

    family: ClassVar[str] = FAMILY
    seam_version: ClassVar[str] = "2.0"
    chain_id_option: ClassVar[str] = "chain"
    key_format: ClassVar[str] = source_tx.KEY_FORMAT

    def __init__(
        self,
        settings: EvmChainSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.chain_id: ChainId = settings.chain_id
        self._rpc = JsonRpcClient(
            settings.rpc_url,
            timeout=settings.rpc_timeout,
            transport=transport,
            max_connections=settings.max_connections,
        )
        self.reader = Reader(
            self._rpc,
            retries=settings.read_retries,
            backoff=settings.retry_backoff,
            timeout=settings.rpc_timeout,
            batch_timeout=settings.batch_timeout,
            batching=settings.rpc_batching,
        )
        # Writes are never retried; concurrent sends still share one request.
        self._sender = Coalescer(
            lambda method, params: self._rpc.call(method, *params),
            lambda calls: self._rpc.batch(calls, strict=False, timeout=settings.batch_timeout),
        )
        self.fees = FeeOracle(
            self.reader,
            FeeLimits(
                max_fee_per_gas_cap=settings.max_fee_per_gas_cap,
                max_priority_fee_cap=settings.max_priority_fee_cap,
                default_priority_fee=settings.default_priority_fee,
                base_fee_multiplier=settings.base_fee_multiplier,
                gas_limit_multiplier=settings.gas_limit_multiplier,
                max_gas_per_tx=settings.max_gas_per_tx,
                quote_ttl=settings.fee_quote_ttl,
            ),
        )
        self.pool = SignerPool(
            str(settings.chain_id),
            self._pool_accounts(settings),
            alarm_wei=settings.balance_alarm_wei,
            bump_percent=settings.fee_bump_percent,
            replace_after=settings.replace_after,
        )
        self._signer_or_none: _Signer | None = None
        self.address: str | None = None
        self.nonces = NonceManager(self._pending_nonce)
        self._refresh_first()
        self._flights: dict[bytes, InFlight] = {}
        self._replaced: OrderedDict[bytes, InFlight] = OrderedDict()
        self._maintainer: asyncio.Task[None] | None = None
        self._submitted: OrderedDict[str, _Sent] = OrderedDict()
        self._proof_cache: OrderedDict[bytes, asyncio.Task[_BlockReceipts]] = OrderedDict()
        # Decoded logs by their receipt bytes (rlp([address, topics, data]), all the ABI
        # decoding reads), so that a log is decoded once: listed, then proven and decoded
        # again from the proven bytes (event_from_proof). eth-abi's decoding was a third
        # of a notary's CPU on the anvil -> devnet path (issue #15). Bounded, first out;
        # nothing is kept until event_from_proof is first asked (only a notary decodes
        # proven events again: the hub's and the relayer's adapters keep no copy).
        self._decoded: OrderedDict[bytes, _DecodedLog] = OrderedDict()
        self._decoded_wanted = False
        self._artifacts: dict[str, Artifact] = {}
        self._topics: list[str] | None = None
        self._waiters: dict[bytes, list[asyncio.Future[TxReceipt]]] = {}
        self._poller: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return (
            f"EvmAdapter(chain={self.chain_id!r}, evm_chain_id={self.settings.evm_chain_id}, "
            f"signer={self.address!r})"
        )

    def _pool_accounts(self, settings: EvmChainSettings) -> list[PoolAccount]:
        """The signer pool: ``signer_key`` (plaintext, development) first, then ``signers``."""
        signers: list[Signer] = []
        if settings.signer_key is not None:
            signers.append(_plaintext_signer(settings.signer_key))
            warn_plaintext(settings.chain, "signer_key")
        for ref in settings.signers:
            signers.append(
                open_signer(ref, SECP256K1, insecure_plaintext=settings.insecure_plaintext_key)
            )
        self._tx_signers: dict[str, _Signer] = {}
        accounts = []
        for signer in signers:
            tx_signer = _Signer(signer)
            if tx_signer.address in self._tx_signers:
                raise ConfigError(f"{settings.chain}: signer {tx_signer.address} is listed twice")
            self._tx_signers[tx_signer.address] = tx_signer
            accounts.append(
                PoolAccount(signer, tx_signer.address, NonceManager(self._pending_of(tx_signer)))
            )
        return accounts

    def _refresh_first(self) -> None:
        """The adapter's own account (``address``, ``nonces``): the first active one."""
        active = self.pool.active()
        first = active[0] if active else None
        if first is None:
            return
        self._signer_or_none = self._tx_signers[first.address]
        self.address = first.address
        self.nonces = first.nonces

    def reload_signers(self, options: Mapping[str, object]) -> dict[str, list[str]]:
        """``rotate_signers`` with the chain's options as a reloaded chains file gives them
        (``signers``; ``insecure_plaintext_key`` as configured at start)."""
        refs = options.get("signers", ())
        if not isinstance(refs, list | tuple) or not all(isinstance(r, str) for r in refs):
            raise ConfigError(f"{self.chain_id}: signers is a list of signer references")
        return self.rotate_signers(list(refs))

    def rotate_signers(
        self, refs: Sequence[str], *, insecure_plaintext: bool | None = None
    ) -> dict[str, list[str]]:
        """Rotate the pool's keys without stopping delivery (a config reload).

        The accounts of ``refs`` not in the pool join it and take new sends at once;
        pool accounts ``refs`` no longer names (the plaintext ``signer_key`` aside)
        retire: no new nonce is taken on them, and each is removed once its
        transactions are mined (``maintain``). ``ConfigError`` if a reference does not
        open: then nothing changes."""
        allow = (
            self.settings.insecure_plaintext_key
            if insecure_plaintext is None
            else (insecure_plaintext)
        )
        opened = [open_signer(ref, SECP256K1, insecure_plaintext=allow) for ref in refs]
        wanted: set[str] = set()
        if self.settings.signer_key is not None and self.pool.accounts:
            wanted.add(self.pool.accounts[0].address)  # the file's own key stays
        added: list[str] = []
        for signer in opened:
            tx_signer = _Signer(signer)
            wanted.add(tx_signer.address)
            known = self.pool.by_address(tx_signer.address)
            if known is not None:
                known.retiring = False  # named again: back in service
                continue
            self._tx_signers[tx_signer.address] = tx_signer
            self.pool.add(
                PoolAccount(signer, tx_signer.address, NonceManager(self._pending_of(tx_signer)))
            )
            added.append(tx_signer.address)
        retiring = [a.address for a in self.pool.active() if a.address not in wanted]
        for address in retiring:
            self.pool.retire(address)
        self._refresh_first()
        self._drop_drained()
        with contextlib.suppress(RuntimeError):  # no running loop: the next send starts it
            asyncio.get_running_loop()
            if self.pool.active():
                self._start_maintenance()
        return {"added": added, "retiring": retiring}

    def _drop_drained(self) -> None:
        for account in self.pool.drop_drained():
            self._tx_signers.pop(account.address, None)
            close = getattr(account.signer, "close", None)
            if close is not None:
                close()
        self._refresh_first()

    def _pending_of(self, signer: _Signer) -> Callable[[], Awaitable[int]]:
        async def pending() -> int:
            return _int(
                await self.reader.call("eth_getTransactionCount", signer.address, "pending"),
                "eth_getTransactionCount",
            )

        return pending

    # --- lifecycle ------------------------------------------------------------------------

    async def aclose(self) -> None:
        if self._maintainer is not None:
            self._maintainer.cancel()
        for account in self.pool.accounts:
            close = getattr(account.signer, "close", None)
            if close is not None:
                close()
        if self._poller is not None:
            self._poller.cancel()
        for task in self._proof_cache.values():
            task.cancel()
        self._proof_cache.clear()
        await self._rpc.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def check_chain(self) -> None:
        """``ConfigError`` unless the node serves the configured EIP-155 chain id."""
        served = _int(await self.reader.call("eth_chainId"), "eth_chainId")
        if served != self.settings.evm_chain_id:
            raise ConfigError(
                f"{self.settings.rpc_url} serves chain id {served}, the settings of "
                f"{self.chain_id} say {self.settings.evm_chain_id}",
                chain=str(self.chain_id),
            )

    # --- heights and headers --------------------------------------------------------------

    async def latest_height(self) -> Height:
        return Height(_int(await self.reader.call("eth_blockNumber"), "eth_blockNumber"))

    async def finalized_height(self) -> Height:
        """By the configured policy: ``latest - confirmations``, or ``latest`` on BFT chains.

        Untrusted like everything here: the light client decides what is final.
        """
        latest = await self.latest_height()
        if self.settings.finality == "confirmations":
            return Height(max(0, latest - self.settings.confirmations))
        return latest

    def _descendants_needed(self) -> int:
        return self.settings.confirmations if self.settings.finality == "confirmations" else 0

    async def header(self, height: Height) -> HeaderUpdate:
        """The header at ``height``, with the descendants its finality needs as evidence.

        Verifiable from the consensus state at ``height - 1``; use
        :meth:`header_update` to verify from an older trusted height.
        """
        if not isinstance(height, int) or isinstance(height, bool) or height < 0:
            raise InvalidInput(f"height {height!r} is not a block number", field="height")
        if height == 0:
            return await self._header_segment(0, 0)
        return await self.header_update(height - 1, height)

    async def header_update(self, trusted_height: Height, height: Height) -> HeaderUpdate:
        """The header at ``height`` with every ancestor above ``trusted_height`` as evidence."""
        if not 0 <= trusted_height < height:
            raise InvalidInput(
                f"trusted height {trusted_height} must be below the header's {height}",
                field="trusted_height",
            )
        return await self._header_segment(trusted_height + 1, height)

    async def _header_segment(self, first: int, height: int) -> HeaderUpdate:
        last = height + self._descendants_needed()
        if last - first + 1 > self.settings.max_header_segment:
            raise InvalidInput(
                f"an update from {first - 1} to {height} needs {last - first + 1} headers; "
                f"max_header_segment is {self.settings.max_header_segment}",
                field="height",
            )
        blocks = await self.blocks(range(first, last + 1))
        target = blocks[height - first]
        if target is None:
            raise NotFound(f"{self.chain_id} has no block {height} yet", height=height)
        headers: list[EvmHeader] = []
        for block in blocks:
            if block is None:
                break
            headers.append(header_from_rpc(block))
        if len(headers) <= height - first:
            raise ReorgDetected(f"an ancestor of block {height} vanished", height=height)
        offset = height - first
        header = headers[offset]
        return HeaderUpdate(
            chain_id=self.chain_id,
            height=Height(height),
            hash=_hash(target.get("hash"), "block hash"),
            time=header.timestamp,
            encoded=encode_header(header),
            evidence=encode_header_evidence(headers[:offset], headers[offset + 1 :]),
        )

    async def blocks(self, heights: Sequence[int]) -> list[Mapping[str, Any] | None]:
        """``eth_getBlockByNumber`` (no transaction bodies) for each height, in batches."""
        size = self.settings.header_batch
        found: list[Mapping[str, Any] | None] = []
        for first in range(0, len(heights), size):
            chunk = heights[first : first + size]
            answers = await self.reader.batch(
                [("eth_getBlockByNumber", [hex(h), False]) for h in chunk]
            )
            found += [a if isinstance(a, Mapping) else None for a in answers]
        return found

    # --- events and proofs ----------------------------------------------------------------

    def _contract_addresses(self) -> list[str]:
        return [a for a in (self.settings.bridge_address, self.settings.htlc_address) if a]

    def _artifact_at(self, address: str) -> Artifact:
        if address == self.settings.bridge_address:
            name = "Bridge"
        elif address == self.settings.htlc_address:
            name = "HashedTimelock"
        else:
            raise InvalidInput(f"{address} is neither the bridge nor the HTLC contract")
        if name not in self._artifacts:
            self._artifacts[name] = load_artifact(name)
        return self._artifacts[name]

    def _event_topics(self) -> list[str]:
        if self._topics is None:
            topics = []
            for contract, event in EVENT_KINDS:
                artifact = self._artifacts.get(contract) or load_artifact(contract)
                self._artifacts[contract] = artifact
                abi = next(i for i in artifact.abi if i["type"] == "event" and i["name"] == event)
                topics.append("0x" + event_abi_to_log_topic(abi).hex())
            self._topics = topics
        return self._topics

    async def events(self, start: Height, end: Height) -> list[ChainEvent]:
        """Bridge and HTLC events in ``[start, end]`` in chain order (chunks of ``log_range``)."""
        _check_range(start, end)
        addresses = self._contract_addresses()
        if not addresses:
            return []
        logs = await fetch_logs(
            self.reader,
            start,
            end,
            addresses=addresses,
            topics=[self._event_topics()],
            log_range=self.settings.log_range,
        )
        return [event for log in logs if (event := self.decode_event(log)) is not None]

    def scanner(self, start: int, store: BlockHashStore | None = None) -> LogScanner:
        """A reorg-aware scanner over the bridge and HTLC events (``decode_event`` its logs)."""
        return LogScanner(
            self.reader,
            addresses=self._contract_addresses(),
            topics=[self._event_topics()],
            start=start,
            store=store,
            log_range=self.settings.log_range,
            max_reorg_depth=self.settings.max_reorg_depth,
        )

    async def prove_state(self, key: bytes, height: Height) -> InclusionProof:
        """An EIP-1186 storage proof of ``key`` = contract address (20) ‖ slot (32) at
        ``height`` (``proofs.evm.client.STORAGE_PROOF_KIND``)."""
        if len(key) != 52:
            raise InvalidInput("an EVM state key is a 20-byte address and a 32-byte slot")
        if not isinstance(height, int) or isinstance(height, bool) or height < 0:
            raise InvalidInput(f"height {height!r} is not a block number", field="height")
        address, slot = "0x" + key[:20].hex(), "0x" + key[20:].hex()
        answer = await self.reader.call("eth_getProof", address, [slot], hex(height))
        if not isinstance(answer, dict):
            raise ChainError("eth_getProof did not answer an object")
        values = [e.get("value") for e in answer.get("storageProof") or [] if isinstance(e, dict)]
        value = _int(values[0], "storage value") if values else 0
        return InclusionProof(
            self.chain_id,
            Height(height),
            STORAGE_PROOF_KIND,
            key,
            value.to_bytes(32, "big") if value else b"",
            (json.dumps(answer, sort_keys=True).encode(),),
        )

    def event_from_proof(
        self, event: ChainEvent, proof: InclusionProof, header_hash: bytes
    ) -> ChainEvent:
        """``event`` decoded again from its proven receipt log (``proof.value``).

        The proof's key is ``(transaction index, log index IN the receipt)`` and the event's
        position ``(transaction index, log index in the BLOCK)``: the transaction must be
        the event's, the receipt index no larger than the block's, and the proven log the
        very bytes the listing gave (comparing the two log indices as equal refused every
        log but the block's first receipt's: found by the hub benchmark, issue #15)."""
        tx_index, log_index = decode_log_key(proof.key)
        if (
            tx_index != event.position[0]
            or log_index > event.position[1]
            or (event.raw and proof.value != event.raw)
        ):
            raise InvalidInput("the proof is for another log than the event", check="position")
        log: RpcLog = {
            "blockHash": "0x" + header_hash.hex(),
            "blockNumber": hex(event.height),
            "transactionHash": "0x" + event.tx_hash.hex(),
            "transactionIndex": hex(tx_index),
            "logIndex": hex(event.position[1]),
        }
        self._decoded_wanted = True
        known = self._decoded.get(proof.value)
        if known is not None:
            # These very bytes were decoded by this adapter (its listing): decoding them
            # again gives the same address, topics, data and arguments (issue #15).
            fresh = self._event_of(known, proof.value, log)
        else:
            try:
                address, topics, data = rlp.decode(proof.value)
            except Exception as err:  # rlp raises several classes
                raise InvalidInput("the proven log does not decode", check="encoding") from err
            fresh = self.decode_event(
                log
                | {
                    "address": "0x" + bytes(address).hex(),
                    "topics": ["0x" + bytes(t).hex() for t in topics],
                    "data": "0x" + bytes(data).hex(),
                }
            )
        if fresh is None:
            raise InvalidInput("the proven log is not a bridge event", check="kind")
        return fresh

    def decode_event(self, log: RpcLog) -> ChainEvent | None:
        """A ``ChainEvent`` from an ``eth_getLogs`` item; None for an event the hub ignores."""
        address = str(log["address"]).lower()
        artifact = self._artifact_at(address)
        topics = [_hash(t, "topic") for t in log["topics"]]
        data = _bytes(log["data"], "log data")
        # The log as its receipt stores it (encode_log's bytes; the address is the bridge's
        # or the HTLC's, checked above): what the proof will carry, and the decode's key.
        raw = rlp_of([bytes.fromhex(address[2:]), topics, data])
        known = self._decoded.get(raw)
        if known is None:
            known = self._decode_log(artifact, address, topics, data)
            if known is None:
                return None
            if self._decoded_wanted:
                # First in, first out, one C call per change: a notary checks proofs in a
                # worker thread (event_from_proof) while its loop lists the next block.
                self._decoded[raw] = known
                if len(self._decoded) > _DECODED_LOGS:
                    with contextlib.suppress(KeyError):
                        self._decoded.popitem(last=False)
        return self._event_of(known, raw, log)

    @staticmethod
    def _decode_log(
        artifact: Artifact, address: str, topics: list[bytes], data: bytes
    ) -> _DecodedLog | None:
        decoded = artifact.decode_log(topics, data)
        if decoded is None:
            return None
        name, args = decoded
        kind = EVENT_KINDS.get((artifact.name, name))
        if kind is None:
            return None
        arguments = tuple((k, Packet.from_abi(v) if k == "packet" else v) for k, v in args.items())
        return _DecodedLog(address, name, kind, arguments)

    def _event_of(self, known: _DecodedLog, raw: bytes, log: RpcLog) -> ChainEvent:
        """The event of a decoded log at the place ``log`` gives (block, transaction, index)."""
        block_hash = _hash(log["blockHash"], "blockHash")
        attributes: dict[str, object] = {
            "event": known.name,
            "contract": known.address,
            "block_hash": block_hash,
            **dict(known.arguments),
        }
        return ChainEvent(
            chain_id=self.chain_id,
            height=Height(_int(log["blockNumber"], "blockNumber")),
            kind=known.kind,
            tx_hash=_hash(log["transactionHash"], "transactionHash"),
            position=(
                _int(log["transactionIndex"], "transactionIndex"),
                _int(log["logIndex"], "logIndex"),
            ),
            attributes=attributes,
            raw=raw,
        )

    def _forget_decoded(self) -> None:
        """Forget the decoded logs (benchmarks and tests: a cold adapter)."""
        self._decoded.clear()

    async def prove(self, event: ChainEvent) -> InclusionProof:
        """The receipt-log proof of ``event`` (``position`` = transaction index, block log index).

        ``ReorgDetected`` when the block at the event's height is no longer the
        one the event was read from (``attributes["block_hash"]``).
        """
        return (await self.prove_many([event]))[0]

    async def prove_many(self, events: Sequence[ChainEvent]) -> list[InclusionProof]:
        """Proofs of several events; one canonical-hash check and one trie per block."""
        requests = []
        for event in events:
            block_hash = event.attributes.get("block_hash")
            if len(event.position) != 2 or not isinstance(block_hash, bytes):
                raise InvalidInput(
                    "an EVM event has position (transaction index, log index) and a block_hash"
                )
            requests.append((int(event.height), block_hash, *event.position))
        return await self._prove_logs(requests)

    async def prove_log(
        self, height: int, block_hash: bytes, tx_index: int, block_log_index: int
    ) -> InclusionProof:
        """The proof of log ``block_log_index`` (block-wide index) of transaction ``tx_index``."""
        return (await self._prove_logs([(height, block_hash, tx_index, block_log_index)]))[0]

    async def _prove_logs(
        self, requests: Sequence[tuple[int, bytes, int, int]]
    ) -> list[InclusionProof]:
        wanted = dict.fromkeys((height, block_hash) for height, block_hash, _, _ in requests)
        # A cached block is served only while it is still the chain's block at its height.
        cached = [(h, bh) for h, bh in wanted if bh in self._proof_cache]
        if cached:
            canonical = await self.blocks([h for h, _ in cached])
            for (height, block_hash), block in zip(cached, canonical, strict=True):
                found = _hash(block.get("hash"), "block hash") if block is not None else None
                if found != block_hash:
                    self._proof_cache.pop(block_hash, None)
                    raise ReorgDetected(
                        f"block {height} is no longer 0x{block_hash.hex()}", height=height
                    )
        blocks = {bh: await self._block_receipts(h, bh) for h, bh in wanted}
        return [self._proof_of(blocks[bh], h, tx, index) for h, bh, tx, index in requests]

    def _proof_of(
        self, block: _BlockReceipts, height: int, tx_index: int, block_log_index: int
    ) -> InclusionProof:
        if not 0 <= tx_index < len(block.receipts):
            raise InvalidInput(f"block {height} has no transaction {tx_index}")
        rpc_logs = block.rpc[tx_index].get("logs") or []
        indices = [_int(item["logIndex"], "logIndex") for item in rpc_logs]
        if block_log_index not in indices:
            raise InvalidInput(
                f"transaction {tx_index} of block {height} has no log {block_log_index}"
            )
        in_receipt = indices.index(block_log_index)
        return InclusionProof(
            chain_id=self.chain_id,
            height=Height(height),
            kind=PROOF_KIND,
            key=encode_log_key(tx_index, in_receipt),
            value=encode_log(block.receipts[tx_index].logs[in_receipt]),
            nodes=tuple(block.prove(tx_index)),
        )

    async def _block_receipts(self, height: int, block_hash: bytes) -> _BlockReceipts:
        # One load per block even when many events of it are proven at once.
        task = self._proof_cache.get(block_hash)
        if task is None:
            task = asyncio.ensure_future(self._load_block_receipts(height, block_hash))
            self._proof_cache[block_hash] = task
            while len(self._proof_cache) > _PROOF_CACHE_BLOCKS:
                self._proof_cache.popitem(last=False)
        else:
            self._proof_cache.move_to_end(block_hash)
        try:
            return await asyncio.shield(task)
        except BaseException:
            if task.done() and self._proof_cache.get(block_hash) is task:
                del self._proof_cache[block_hash]
            raise

    async def _load_block_receipts(self, height: int, block_hash: bytes) -> _BlockReceipts:
        receipts = await self._fetch_receipts(height)
        receipts = sorted(receipts, key=lambda r: _int(r["transactionIndex"], "transactionIndex"))
        for i, receipt in enumerate(receipts):
            if _hash(receipt.get("blockHash"), "blockHash") != block_hash:
                raise ReorgDetected(
                    f"block {height} is no longer 0x{block_hash.hex()}", height=height
                )
            if _int(receipt["transactionIndex"], "transactionIndex") != i:
                raise ChainUnavailable(f"receipts of block {height} are incomplete")
        if not receipts:
            block = (await self.blocks([height]))[0]
            if block is None or _hash(block.get("hash"), "block hash") != block_hash:
                raise ReorgDetected(f"block {height} is no longer 0x{block_hash.hex()}")
        # Building a trie of hundreds of receipts is CPU work: keep it off the event loop.
        return await asyncio.to_thread(_BlockReceipts.build, block_hash, receipts)

    async def _fetch_receipts(self, height: int) -> list[Mapping[str, Any]]:
        try:
            receipts = await self.reader.call("eth_getBlockReceipts", hex(height))
        except ChainRejected as err:
            if err.details.get("rpc_code") != _METHOD_MISSING:
                raise
            block = await self.reader.call("eth_getBlockByNumber", hex(height), False)
            if not isinstance(block, Mapping):
                raise NotFound(f"{self.chain_id} has no block {height}") from err
            hashes = block.get("transactions") or []
            receipts = await self.reader.batch([("eth_getTransactionReceipt", [h]) for h in hashes])
        if not isinstance(receipts, list) or not all(isinstance(r, Mapping) for r in receipts):
            raise NotFound(f"{self.chain_id} has no receipts for block {height}")
        return receipts

    # --- transactions ---------------------------------------------------------------------

    def _signer(self) -> _Signer:
        if self._signer_or_none is None:
            raise ConfigError(f"no signer_key is configured for {self.chain_id}: read-only")
        return self._signer_or_none

    def _call_of(self, action: ChainAction) -> _Call:
        """Turn an action into a transaction.

        Kinds: ``bridge.<function>`` / ``htlc.<function>`` with ``payload["args"]``
        (a list, ABI-encoded with the contract's artifact); ``raw`` with
        ``payload["to"]`` and optional ``payload["data"]`` (bytes). All take an
        optional ``value`` (wei), ``gas`` (skips the estimate) and ``gas_bound`` (gas
        the call is known to fit, checked by one execution instead of the estimate:
        ``_gas_of``). ``raw_tx`` (already signed) never gets here: ``submit`` sends it
        as is.
        """
        payload = action.payload
        value = _payload_int(payload, "value", 0)
        gas = payload.get("gas")
        if gas is not None:
            gas = _payload_int(payload, "gas", 0)
        bound = payload.get("gas_bound")
        if bound is not None:
            bound = _payload_int(payload, "gas_bound", 0)
        contract, _, function = action.kind.partition(".")
        if action.kind == "raw":
            to = payload.get("to")
            data = payload.get("data", b"")
            if not isinstance(to, str) or not isinstance(data, bytes):
                raise InvalidInput("a raw action needs payload 'to' (address) and bytes 'data'")
            return _Call(to.lower(), data, value, gas, bound)
        if contract not in _CONTRACTS or not function:
            raise InvalidInput(
                f"unknown action kind {action.kind!r}: use bridge.<fn>, htlc.<fn> or raw"
            )
        address = (
            self.settings.bridge_address if contract == "bridge" else self.settings.htlc_address
        )
        if address is None:
            raise ConfigError(f"no {contract} address is configured for {self.chain_id}")
        args = payload.get("args", [])
        if not isinstance(args, list | tuple):
            raise InvalidInput("payload 'args' must be a list")
        artifact = self._artifact_at(address)
        try:
            data = artifact.encode_call(function, *args)
        except InvalidInput:
            raise
        except Exception as err:  # eth-abi raises several unrelated classes
            raise InvalidInput(f"{action.kind}: arguments do not encode: {err}") from err
        return _Call(address, data, value, gas, bound)

    def _sign(self, call: _Call, gas: int, quote: FeeQuote, nonce: int) -> tuple[bytes, bytes]:
        return self._signer().sign(self.settings.evm_chain_id, call, gas, quote, nonce)

    def _sign_as(
        self, account: PoolAccount, call: _Call, gas: int, quote: FeeQuote, nonce: int
    ) -> tuple[bytes, bytes]:
        signer = self._tx_signers[account.address]
        return signer.sign(self.settings.evm_chain_id, call, gas, quote, nonce)

    async def submit(self, action: ChainAction) -> bytes:
        """Sign and send ``action`` from an account of the pool; return its transaction hash.

        Gas is estimated (a reverting call raises the node's ``ChainRejected``
        with its reason) and fees are capped before a nonce is taken; the
        account is the least-loaded one that can pay (``SignerEmpty`` when none
        can). The same ``idempotency_key`` is never sent as two transactions by
        this process: a key already accepted returns its hash, a key whose send
        timed out is resent as the same signed bytes. A nonce another sender
        took is recovered at once by re-reading the account's pending nonce and
        signing again (``NonceTaken`` only after ``_NONCE_ATTEMPTS``). Across
        processes the contracts reject replays.
        """
        if action.kind == RAW_TX:
            return await self._submit_raw(action)
        self._signer()
        key = action.idempotency_key
        known = self._submitted.get(key)
        if known is not None and (known.accepted or await self._resend(key, known)):
            return known.tx_hash
        call = self._call_of(action)
        self._start_maintenance()
        gas = await self._gas_of(call)
        quote = await self.fees.quote()
        for attempt in range(_NONCE_ATTEMPTS):
            account = self.pool.pick(gas * quote.price_ceiling)
            try:
                return await self._submit_from(account, key, call, gas, quote)
            except ChainRejected as err:
                if _is_out_of_funds(err) and call.value == 0:  # fresher than the last read
                    self.pool.record_balance(account, 0)
                    continue
                if not isinstance(err, NonceTaken) or attempt == _NONCE_ATTEMPTS - 1:
                    raise
                await account.nonces.recover()
        self.pool.pick(gas * quote.price_ceiling)  # SignerEmpty when every account is out
        raise ChainRejected(f"no signer of {self.chain_id} could send: out of funds")

    async def _submit_from(
        self, account: PoolAccount, key: str, call: _Call, gas: int, quote: FeeQuote
    ) -> bytes:
        nonce = await account.nonces.reserve()
        try:
            raw, tx_hash = self._sign_as(account, call, gas, quote, nonce)
        except BaseException:
            account.nonces.release(nonce)
            raise
        sent = self._remember(key, _Sent(tx_hash, raw, accepted=False))
        try:
            await self._send_raw(raw)
        except ChainRejected as err:
            if is_already_known(err):
                account.nonces.confirm(nonce)
                sent.accepted = True
                self._in_flight(account, key, nonce, call, gas, quote, tx_hash)
                return tx_hash
            account.nonces.settle(nonce, err)
            self._submitted.pop(key, None)
            if "underpriced" in err.message.lower():
                self.fees.forget()
            if is_nonce_used(err):  # our counter was behind: re-read, sign again
                raise NonceTaken(err.message, **err.details) from err
            raise
        except BaseException:
            account.nonces.doubt(nonce)  # it may have reached the node: keep the bytes to resend
            raise
        account.nonces.confirm(nonce)
        sent.accepted = True
        self._in_flight(account, key, nonce, call, gas, quote, tx_hash)
        return tx_hash

    def _replacement(self, tx_hash: bytes) -> InFlight | None:
        """The transaction ``tx_hash`` started when a fee bump replaced it (else None)."""
        flight = self._flights.get(tx_hash) or self._replaced.get(tx_hash)
        return flight if flight is not None and len(flight.hashes) > 1 else None

    async def _gas_of(self, call: _Call) -> int:
        """The gas to send ``call`` with: its own, else its bound when one execution at the
        bound (``eth_call`` on the pending state) does not revert, else the estimate (a
        reverting call raises the node's ``ChainRejected`` there, before any nonce).

        Why a bound: ``eth_estimateGas`` searches for the least gas that does not revert,
        one execution per step. A ``receiveBatch`` must keep the gas of a whole delivery
        in reserve for each member, far above what it uses, so the node's first guess
        fails and the search took about ten executions of the batch: 90 % of anvil's CPU
        at 200 transfers/s (``docs/benchmarks.md``). A bound that runs is as safe as the
        estimate (the same state decides both); one that does not costs one execution
        more than the estimate alone.
        """
        if call.gas is not None:
            return call.gas
        tx = {"from": self._estimator(), "to": call.to, "data": call.data, "value": call.value}
        if call.gas_bound is not None:
            gas = min(call.gas_bound, self.fees.limits.max_gas_per_tx)
            if await self.fees.runs_within(tx, gas):
                return gas
            _log.debug("%s: the call does not run within %d gas; estimating", self.chain_id, gas)
        return await self.fees.estimate_gas(tx)

    def _estimator(self) -> str:
        """The ``from`` of gas estimates: the pool's first account (contracts here do not
        depend on which relayer account sends)."""
        return self._signer().address

    def _in_flight(
        self,
        account: PoolAccount,
        key: str,
        nonce: int,
        call: _Call,
        gas: int,
        quote: FeeQuote,
        tx_hash: bytes,
    ) -> None:
        flight = InFlight(
            key, nonce, call, gas, quote, tx_hash, tx_hash, time.monotonic(), account.address
        )
        account.in_flight[nonce] = flight
        self._flights[tx_hash] = flight
        while len(self._flights) > _SUBMITTED_KEYS:
            stale = next(iter(self._flights))
            self._land(self._flights[stale])

    def _land(self, flight: InFlight) -> None:
        """``flight`` is mined (or its nonce used): forget it, except that a replaced one's
        hashes keep naming it (bounded), so its first hash still answers for it."""
        for tx_hash in flight.hashes:
            self._flights.pop(tx_hash, None)
            if len(flight.hashes) > 1:
                self._replaced[tx_hash] = flight
        while len(self._replaced) > _SUBMITTED_KEYS:
            self._replaced.popitem(last=False)
        account = self.pool.by_address(flight.address)
        if account is not None and account.in_flight.get(flight.nonce) is flight:
            del account.in_flight[flight.nonce]

    async def _submit_raw(self, action: ChainAction) -> bytes:
        """Send a transaction signed elsewhere (``raw_tx`` ``{"tx": hex}``) as is; its hash.

        Idempotent: a node that already has it (in the pool, or mined: the
        nonce is then used and the hash known) is not an error. Needs no signer.
        """
        raw = _raw_tx_bytes(action.payload)
        tx_hash = keccak256(raw)
        try:
            await self._send_raw(raw)
        except ChainRejected as err:
            if is_already_known(err):
                return tx_hash
            if is_nonce_used(err):
                found = await self.reader.call("eth_getTransactionByHash", "0x" + tx_hash.hex())
                if found is not None:
                    return tx_hash
            raise
        return tx_hash

    async def _resend(self, key: str, sent: _Sent) -> bool:
        """Resend a transaction whose first send timed out; False if it must be rebuilt."""
        try:
            await self._send_raw(sent.raw)
        except ChainRejected as err:
            landed = is_already_known(err)
            if not landed and is_nonce_used(err):
                found = await self.reader.call(
                    "eth_getTransactionByHash", "0x" + sent.tx_hash.hex()
                )
                landed = found is not None
            if not landed:
                self._submitted.pop(key, None)
                return False
        sent.accepted = True
        return True

    async def _send_raw(self, raw: bytes) -> None:
        if self.settings.rpc_batching:
            await self._sender.call("eth_sendRawTransaction", "0x" + raw.hex())
        else:
            await self._rpc.call("eth_sendRawTransaction", "0x" + raw.hex())

    def _remember(self, key: str, sent: _Sent) -> _Sent:
        self._submitted[key] = sent
        while len(self._submitted) > _SUBMITTED_KEYS:
            self._submitted.popitem(last=False)
        return sent

    async def submit_many(self, actions: Sequence[ChainAction]) -> list[bytes | ChainRejected]:
        """Submit ``actions`` with batched JSON-RPC: one estimate batch, then per pool account
        one send batch per 1,000, the actions spread evenly over the accounts.

        Returns, per action, its transaction hash or the ``ChainRejected`` that
        refused it (a revert in the estimate, a node refusal). Actions whose key
        was submitted before, and those refused for a nonce another sender took
        (after the account's nonce is re-read), go through :meth:`submit` one by one.
        """
        self._signer()
        self._start_maintenance()
        results: list[bytes | ChainRejected | None] = [None] * len(actions)
        fresh = []
        for i, action in enumerate(actions):
            if action.idempotency_key in self._submitted or action.kind == RAW_TX:
                results[i] = await self.submit(action)
            else:
                fresh.append(i)
        calls = {i: self._call_of(actions[i]) for i in fresh}
        gas: dict[int, int] = {i: g for i in fresh if (g := calls[i].gas) is not None}
        for i in fresh:
            if calls[i].gas is None and calls[i].gas_bound is not None:
                try:
                    gas[i] = await self._gas_of(calls[i])
                except ChainRejected as err:
                    results[i] = err
        to_estimate = [i for i in fresh if calls[i].gas is None and calls[i].gas_bound is None]
        estimates = await self.fees.estimate_many(
            [
                {"from": self._estimator(), "to": c.to, "data": c.data, "value": c.value}
                for c in (calls[i] for i in to_estimate)
            ]
        )
        for i, estimate in zip(to_estimate, estimates, strict=True):
            if isinstance(estimate, ChainRejected):
                results[i] = estimate
            else:
                gas[i] = estimate
        ready = [i for i in fresh if i in gas]
        if ready:
            quote = await self.fees.quote()
            cost = max(gas[i] for i in ready) * quote.price_ceiling  # the fee, not the value
            groups: dict[str, list[int]] = {}
            for i, account in zip(ready, self.pool.spread(len(ready), cost), strict=True):
                groups.setdefault(account.address, []).append(i)
            retry: list[int] = []
            for address, indices in groups.items():
                account = self.pool.by_address(address)
                assert account is not None
                nonces = await account.nonces.reserve_many(len(indices))
                signed = {
                    i: self._sign_as(account, calls[i], gas[i], quote, n)
                    for i, n in zip(indices, nonces, strict=True)
                }
                for first in range(0, len(indices), MAX_BATCH):
                    chunk = indices[first : first + MAX_BATCH]
                    chunk_nonces = nonces[first : first + MAX_BATCH]
                    await self._send_batch(
                        account, actions, chunk, chunk_nonces, signed, results, (calls, gas, quote)
                    )
                taken = [i for i in indices if isinstance(results[i], NonceTaken)]
                if taken:
                    await account.nonces.recover()
                    retry += taken
            for i in retry:
                try:
                    results[i] = await self.submit(actions[i])
                except ChainRejected as err:
                    results[i] = err
        return [r if r is not None else ChainRejected("not sent") for r in results]

    async def _send_batch(
        self,
        account: PoolAccount,
        actions: Sequence[ChainAction],
        chunk: list[int],
        nonces: list[int],
        signed: Mapping[int, tuple[bytes, bytes]],
        results: list[bytes | ChainRejected | None],
        built: tuple[Mapping[int, _Call], Mapping[int, int], FeeQuote],
    ) -> None:
        calls, gas, quote = built
        for i in chunk:
            raw, tx_hash = signed[i]
            self._remember(actions[i].idempotency_key, _Sent(tx_hash, raw, accepted=False))
        batch = [("eth_sendRawTransaction", ["0x" + signed[i][0].hex()]) for i in chunk]
        try:
            if self.settings.rpc_batching:
                answers = await self._rpc.batch(
                    batch, strict=False, timeout=self.settings.batch_timeout
                )
            else:
                answers = [await self._send_one_collecting(method, p) for method, p in batch]
        except BaseException:
            for nonce in nonces:
                account.nonces.doubt(nonce)
            raise
        for i, nonce, answer in zip(chunk, nonces, answers, strict=True):
            key = actions[i].idempotency_key
            if isinstance(answer, ChainRejected) and not is_already_known(answer):
                account.nonces.settle(nonce, answer)
                self._submitted.pop(key, None)
                taken = is_nonce_used(answer)
                results[i] = NonceTaken(answer.message, **answer.details) if taken else answer
                continue
            account.nonces.confirm(nonce)
            self._submitted[key].accepted = True
            results[i] = signed[i][1]
            self._in_flight(account, key, nonce, calls[i], gas[i], quote, signed[i][1])

    async def _send_one_collecting(self, method: str, params: list[Any]) -> Any:
        try:
            return await self._rpc.call(method, *params)
        except ChainRejected as err:
            return err

    async def receipt(self, tx_hash: bytes) -> TxReceipt:
        """The receipt of ``tx_hash``; height and success are None while it is pending."""
        (found,) = await self.receipts([tx_hash])
        return found

    async def receipts(self, tx_hashes: Sequence[bytes]) -> list[TxReceipt]:
        """Receipts of several transactions in one batch.

        A transaction without a receipt is pending if the node knows it
        (``eth_getTransactionByHash``), else ``NotFound``: a relayer must not wait
        forever on a hash the chain never saw (dropped from the pool, or wrong).
        """
        replaced = {h: f for h in tx_hashes if (f := self._replacement(h)) is not None}
        if replaced:
            return await self._receipts_across_replacements(tx_hashes, replaced)
        answers = await self._receipt_answers(tx_hashes)
        for h, a in zip(tx_hashes, answers, strict=True):
            if isinstance(a, Mapping) and a.get("blockNumber") is not None and h in self._flights:
                self._land(self._flights[h])
        missing = [h for h, a in zip(tx_hashes, answers, strict=True) if not isinstance(a, Mapping)]
        if missing:
            known = await self.reader.batch(
                [("eth_getTransactionByHash", ["0x" + h.hex()]) for h in missing]
            )
            unknown = [h for h, tx in zip(missing, known, strict=True) if tx is None]
            if unknown:
                raise NotFound(
                    f"{self.chain_id} knows no transaction 0x{unknown[0].hex()}",
                    tx_hash="0x" + unknown[0].hex(),
                )
        return [self._tx_receipt(h, a) for h, a in zip(tx_hashes, answers, strict=True)]

    async def _receipts_across_replacements(
        self, tx_hashes: Sequence[bytes], replaced: Mapping[bytes, InFlight]
    ) -> list[TxReceipt]:
        """Receipts where some hashes were replaced by a fee bump: each answers with the
        receipt of whichever of its transactions (same nonce) was mined, that one's hash in
        ``TxReceipt.tx_hash``; pending while none is."""
        out = []
        for tx_hash in tx_hashes:
            flight = replaced.get(tx_hash)
            if flight is None:
                out.extend(await self.receipts([tx_hash]))
                continue
            hashes = list(reversed(flight.hashes))
            answers = await self._receipt_answers(hashes)
            mined = [
                (h, a)
                for h, a in zip(hashes, answers, strict=True)
                if isinstance(a, Mapping) and a.get("blockNumber") is not None
            ]
            if mined:
                self._land(flight)
                out.append(self._tx_receipt(*mined[0]))
            else:
                out.append(TxReceipt(self.chain_id, flight.tx_hash, height=None, success=None))
        return out

    async def _receipt_answers(self, tx_hashes: Sequence[bytes]) -> list[object]:
        return list(
            await self.reader.batch(
                [("eth_getTransactionReceipt", ["0x" + h.hex()]) for h in tx_hashes]
            )
        )

    def _tx_receipt(self, tx_hash: bytes, answer: object) -> TxReceipt:
        if not isinstance(answer, Mapping) or answer.get("blockNumber") is None:
            return TxReceipt(self.chain_id, tx_hash, height=None, success=None)
        success = _int(answer.get("status", "0x1"), "status") == 1
        return TxReceipt(
            self.chain_id,
            tx_hash,
            height=Height(_int(answer["blockNumber"], "blockNumber")),
            success=success,
            reason="" if success else "reverted",
        )

    async def wait_receipt(self, tx_hash: bytes, *, timeout: float | None = None) -> TxReceipt:
        """Wait until ``tx_hash`` is mined (tools and tests; the relayer polls ``receipt``)."""
        (found,) = await self.wait_receipts([tx_hash], timeout=timeout)
        return found

    async def wait_receipts(
        self, tx_hashes: Sequence[bytes], *, timeout: float | None = None
    ) -> list[TxReceipt]:
        """Wait until every transaction is mined; ``ChainUnavailable`` after ``timeout``.

        All waiters share one poller, which asks for every awaited receipt in
        one batch per ``receipt_poll_interval``: fifty concurrent waiters cost
        one request per interval, not fifty.
        """
        limit = timeout if timeout is not None else self.settings.receipt_timeout
        loop = asyncio.get_running_loop()
        futures = []
        for tx_hash in tx_hashes:
            future: asyncio.Future[TxReceipt] = loop.create_future()
            self._waiters.setdefault(tx_hash, []).append(future)
            futures.append(future)
        if self._poller is None or self._poller.done():
            self._poller = asyncio.ensure_future(self._poll_receipts())
        try:
            async with asyncio.timeout(limit):
                return list(await asyncio.gather(*futures))
        except TimeoutError as err:
            waiting = sum(1 for f in futures if not f.done())
            raise ChainUnavailable(f"{waiting} transaction(s) not mined within {limit} s") from err
        finally:
            for tx_hash, future in zip(tx_hashes, futures, strict=True):
                if not future.done():
                    future.cancel()
                elif not future.cancelled():
                    future.exception()  # retrieved: gather raised only the first one
                pending = self._waiters.get(tx_hash)
                if pending is not None and future in pending:
                    pending.remove(future)
                    if not pending:
                        del self._waiters[tx_hash]

    async def _poll_receipts(self) -> None:
        while self._waiters:
            hashes = list(self._waiters)
            try:  # one cheap batch per poll: a hash not yet known to the node just waits
                replaced = {h: f for h in hashes if (f := self._replacement(h)) is not None}
                plain = [h for h in hashes if h not in replaced]
                answers = await self._receipt_answers(plain) if plain else []
                found = [(h, self._tx_receipt(h, a)) for h, a in zip(plain, answers, strict=True)]
                if replaced:  # a fee bump replaced it: whichever of its transactions is mined
                    bumped = await self._receipts_across_replacements(list(replaced), replaced)
                    found += list(zip(replaced, bumped, strict=True))
            except Exception as err:  # the waiters get the failure; a new wait restarts polling
                for futures in self._waiters.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(err)
                return
            for waited, receipt in found:
                if receipt.height is not None:
                    for future in self._waiters.pop(waited, []):
                        if not future.done():
                            future.set_result(receipt)
            if self._waiters:
                await asyncio.sleep(self.settings.receipt_poll_interval)

    async def _pending_nonce(self) -> int:
        address = self._signer().address
        return _int(
            await self.reader.call("eth_getTransactionCount", address, "pending"),
            "eth_getTransactionCount",
        )

    # --- the signer pool: balances, stuck transactions (pool.py) ---------------------------

    def signer_alarms(self) -> list[str]:
        """Accounts below the balance alarm at the last read (``SignerHealth``)."""
        return self.pool.alarms()

    def signer_balances(self) -> dict[str, int | None]:
        """Each pool account's balance at the last read (wei; None before the first)."""
        return self.pool.balances()

    def _start_maintenance(self) -> None:
        """The pool's schedule (balances, replacements) runs while the adapter sends."""
        if self._maintainer is None or self._maintainer.done():
            self._maintainer = asyncio.ensure_future(self._maintain_forever())

    async def _maintain_forever(self) -> None:
        while True:
            try:
                await self.maintain()
            except asyncio.CancelledError:
                raise
            except Exception as err:  # a node hiccup must not end the schedule
                _log.warning("signer pool of %s: %s", self.chain_id, type(err).__name__)
            await asyncio.sleep(self.settings.balance_check_interval)

    async def maintain(self, now: float | None = None) -> None:
        """One scheduled pass: read every account's balance (alarm at the threshold), forget
        mined transactions, replace those unmined for ``replace_after`` seconds with higher
        fees (same nonce, capped). ``now``: monotonic seconds (tests pass their own)."""
        if not self.pool:
            return
        now = time.monotonic() if now is None else now
        accounts = self.pool.accounts
        reads = [("eth_getBalance", [a.address, "latest"]) for a in accounts]
        reads += [("eth_getTransactionCount", [a.address, "latest"]) for a in accounts]
        answers = await self.reader.batch(reads, strict=False)
        for account, balance, count in zip(
            accounts, answers[: len(accounts)], answers[len(accounts) :], strict=True
        ):
            if isinstance(balance, str):
                self.pool.record_balance(account, _int(balance, "eth_getBalance"))
            if isinstance(count, str):
                mined_below = _int(count, "eth_getTransactionCount")
                for flight in [f for n, f in account.in_flight.items() if n < mined_below]:
                    self._land(flight)
        self._drop_drained()  # retired accounts whose transactions are all mined
        stuck = [
            f
            for a in accounts
            for f in a.in_flight.values()
            if now - f.sent_at >= self.pool.replace_after
        ]
        if not stuck:
            return
        self.fees.forget()
        fresh = await self.fees.quote()
        for flight in stuck:
            await self._replace(flight, fresh, now)

    async def _replace(self, flight: InFlight, fresh: FeeQuote, now: float) -> None:
        """Re-sign ``flight`` at its nonce with bumped fees and send it; its key and hashes
        follow the replacement (``receipts`` of the first hash answers for it)."""
        limits = self.fees.limits
        quote = self.pool.bumped(
            flight.quote, fresh, limits.max_fee_per_gas_cap, limits.max_priority_fee_cap
        )
        account = self.pool.by_address(flight.address)
        if quote is None or account is None:
            _log.warning(
                "%s: transaction 0x%s (nonce %d of %s) is unmined at the fee cap",
                self.chain_id,
                flight.tx_hash.hex(),
                flight.nonce,
                flight.address,
            )
            flight.sent_at = now
            return
        call = flight.call
        assert isinstance(call, _Call)
        raw, tx_hash = self._sign_as(account, call, flight.gas, quote, flight.nonce)
        try:
            await self._send_raw(raw)
        except ChainRejected as err:
            if "underpriced" not in err.message.lower() and is_nonce_used(err):
                self._land(flight)  # the earlier one was mined meanwhile
            else:
                _log.warning("%s: replacement refused: %s", self.chain_id, err.message[:200])
            return
        flight.hashes.append(tx_hash)
        flight.tx_hash, flight.quote, flight.sent_at = tx_hash, quote, now
        flight.replacements += 1
        self.pool.replaced += 1
        self._flights[tx_hash] = flight
        sent = self._submitted.get(flight.key)
        if sent is not None:
            sent.tx_hash, sent.raw = tx_hash, raw
        _log.info(
            "%s: replaced nonce %d of %s with 0x%s (max fee %s)",
            self.chain_id,
            flight.nonce,
            flight.address,
            tx_hash.hex(),
            quote.price_ceiling,
        )

    # --- family rules (class-level: the API asks them with only a ChainRecord) ------------

    @classmethod
    def validate_address(cls, value: str, field: str = "address") -> str:
        """``0x`` + 40 hex digits, EIP-55 when mixed case, lower-cased (``FamilyRules``)."""
        return source_tx.validate_address(value, field)

    @classmethod
    def address_bytes(cls, value: str) -> bytes:
        return source_tx.address_bytes(value)

    @classmethod
    def validate_asset(cls, value: str, field: str = "asset") -> str:
        """``native`` (the chain's coin) or an ERC-20's address."""
        return source_tx.validate_asset(value, field)

    @classmethod
    def account_signer(cls, secret: bytes) -> EvmAccount:
        """A managed account's signer from its secp256k1 key (``ManagedKeys``)."""
        return EvmAccount(secret)

    # --- capabilities the hub uses (core.seams: SourceChain, HtlcChain) -----------------

    def source_transactions(self) -> EvmSourceTransactions:
        """Client-signed ``Bridge`` calls checked for this chain."""
        return EvmSourceTransactions(
            self.chain_id, self.settings.evm_chain_id, self.settings.bridge_address
        )

    async def account_nonce(self, address: bytes) -> int:
        """The mined nonce of ``address`` (``eth_getTransactionCount`` at ``latest``)."""
        if len(address) != 20:
            raise InvalidInput("an evm address is 20 bytes", field="address")
        return _int(
            await self.reader.call("eth_getTransactionCount", "0x" + address.hex(), "latest"),
            "eth_getTransactionCount",
        )

    def htlc(self) -> EvmHtlc | None:
        """The ``HashedTimelock`` at ``htlc_address``; None when none is configured."""
        if self.settings.htlc_address is None:
            return None
        from adapters.evm.htlc import EvmHtlc  # the endpoint wraps this adapter

        return EvmHtlc(self)

    def chain_timing(self) -> ChainTiming:
        """Block time, finality depth and clock drift from the settings."""
        return self.settings.chain_timing()

    # --- light client ---------------------------------------------------------------------

    def light_client(self) -> EvmLightClient:
        """The light client of this chain, with the configured finality policy."""
        return self.settings.light_client()

    def client_codec(self) -> EvmClientCodec:
        """Persistence of this chain's light-client states; one update spans at most
        ``max_header_segment`` headers, the finality descendants included."""
        descendants = self._descendants_needed()
        step = max(1, self.settings.max_header_segment - descendants - 1)
        return EvmClientCodec(self.light_client(), self.settings.client_state(), step)

    # --- light_client routes: the bridge's on-chain clients (core.seams.OnChainClientHost) ----

    def _client_host(self) -> EvmClientHost:
        if self.settings.bridge_address is None:
            raise ConfigError(f"no bridge_address is configured for {self.chain_id}")
        return EvmClientHost(
            self.reader.call,
            self.settings.bridge_address,
            self.submit,
            from_block=self.settings.start_height,
            log_range=self.settings.log_range,
        )

    async def onchain_client_status(self, source: ChainId, height: Height) -> OnChainClientStatus:
        """The bridge's light client of ``source`` (``ConfigError`` when it names none)."""
        return await self._client_host().status(source, height)

    async def submit_client_update(
        self, status: OnChainClientStatus, update: OnChainUpdate
    ) -> bytes:
        """``updateClient`` on the client; ``InsufficientPower`` (``trust-overlap``) when it
        needs an intermediate header first."""
        return await self._client_host().submit_update(status, update)

    def deliver_with_proof_action(self, packet: CorePacket, proof: bytes) -> ChainAction:
        """``bridge.receivePacketWithProof(packet, proof)``."""
        return self._client_host().deliver_action(packet, proof)

    # --- the bridge's books (core.seams.BridgeLedger) ----------------------------------

    def _ledger(self) -> EvmBridgeLedger:
        if self.settings.bridge_address is None:
            raise ConfigError(f"no bridge_address is configured for {self.chain_id}")
        return EvmBridgeLedger(self.reader.call, self.settings.bridge_address)

    async def escrowed(self, counterparty: ChainId, denom: str) -> int:
        """``Bridge.escrowed`` of the route to ``counterparty`` in ``denom``
        (``native`` or a local token's denomination)."""
        return await self._ledger().escrowed(counterparty, denom)

    async def voucher_supply(self, path: str) -> int:
        """``totalSupply`` of the bridge's voucher of ``path`` (0 when never minted)."""
        return await self._ledger().voucher_supply(path)

    def bridge(self) -> EvmBridge:
        """The ``BridgeEndpoint`` of this chain's ``Bridge`` contract (committee as configured,
        or the newer one adopted after a rotation)."""
        if self.settings.bridge_address is None:
            raise ConfigError(f"no bridge_address is configured for {self.chain_id}")
        domain = BridgeDomain(self.settings.evm_chain_id, self.settings.bridge_address)
        bridge = EvmBridge(
            self.chain_id,
            domain,
            self.settings.committee_threshold,
            self.settings.committee,
            self.settings.committee_epoch,
            capacity=batch_capacity_for(
                self.settings.max_gas_per_tx, self.settings.gas_limit_multiplier
            ),
        )
        if self._adopted is not None:
            bridge.adopt_committee(self._adopted)
        return bridge

    # --- the live committee (core.seams.CommitteeChain) --------------------------------

    _adopted: CommitteeState | None = None

    async def committee_onchain(self) -> CommitteeState:
        """``epoch()``, ``threshold()`` and ``members()`` of the bridge, read now."""
        address = self.settings.bridge_address
        if address is None:
            raise ConfigError(f"no bridge_address is configured for {self.chain_id}")
        artifact = self._artifact_at(address)
        values = []
        for fn in ("epoch", "threshold", "members"):
            answer = await self.reader.call(
                "eth_call", {"to": address, "data": "0x" + artifact.encode_call(fn).hex()}, "latest"
            )
            values.append(artifact.decode_output(fn, _bytes(answer, f"eth_call {fn}()")))
        epoch, threshold, members = values
        return CommitteeState(int(epoch), int(threshold), tuple(str(m).lower() for m in members))

    def adopt_committee(self, committee: CommitteeState) -> None:
        if self._adopted is None or committee.epoch > self._adopted.epoch:
            self._adopted = committee


# --- small conversions of node answers (untrusted: malformed means ChainUnavailable) -------


def _int(value: object, what: str) -> int:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) < 3:
        raise ChainUnavailable(f"{what}: the node answered {value!r:.40}, not a hex quantity")
    try:
        return int(value, 16)
    except ValueError as err:
        raise ChainUnavailable(f"{what}: the node answered a malformed quantity") from err


def _bytes(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) % 2:
        raise ChainUnavailable(f"{what}: the node answered {value!r:.40}, not hex data")
    try:
        return bytes.fromhex(value[2:])
    except ValueError as err:
        raise ChainUnavailable(f"{what}: the node answered malformed hex") from err


def _hash(value: object, what: str) -> bytes:
    data = _bytes(value, what)
    if len(data) != 32:
        raise ChainUnavailable(f"{what}: the node answered {len(data)} bytes, not 32")
    return data


def _raw_tx_bytes(payload: Mapping[str, object]) -> bytes:
    value = payload.get("tx")
    if isinstance(value, bytes | bytearray):
        raw = bytes(value)
    elif isinstance(value, str) and value.startswith("0x") and len(value) % 2 == 0:
        try:
            raw = bytes.fromhex(value[2:])
        except ValueError:
            raw = b""
    else:
        raw = b""
    if not raw:
        raise InvalidInput("a raw_tx action needs payload 'tx': the signed bytes (0x-hex)")
    return raw


def _payload_int(payload: Mapping[str, object], name: str, default: int) -> int:
    value = payload.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"payload {name!r} must be a non-negative integer", field=name)
    return value


def _check_range(start: int, end: int) -> None:
    """``InvalidInput`` for a negative or reversed block range, before any request."""
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidInput(f"{name} {value!r} is not a block number", field=name)
    if end < start:
        raise InvalidInput(f"range [{start}, {end}] is reversed", field="end")
