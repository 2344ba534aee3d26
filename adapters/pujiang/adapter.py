"""``PujiangAdapter``: a Pujiang subchain node's HTTP API as a ``core.seams.ChainAdapter``.

Methods are grouped by verb, as hermes' chain endpoint does: *queries* read the
node (retried), *builds* make a signed transaction without sending it,
*sends* write (``submit``). The adapter never verifies: what it returns is
untrusted until the light client from ``light_client()`` accepted it, and it
never loops waiting for the chain.

BFT finality: a Pujiang block is final once committed, and the node serves
only committed blocks, so ``finalized_height == latest_height``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, ClassVar, Self

import httpx
import rlp

from adapters.pujiang import actions, source_tx, state_proofs, wire
from adapters.pujiang.bridge import PujiangBridge
from adapters.pujiang.client import NodeClient, Sleep
from adapters.pujiang.client_codec import PujiangClientCodec
from adapters.pujiang.evm_client_update import (
    ONCHAIN_CLIENT_KIND,
    encode_packet_proof,
    encode_update,
)
from adapters.pujiang.settings import PujiangSettings
from adapters.pujiang.source_tx import PujiangAccount, PujiangSourceTransactions
from adapters.signers import open_signer
from adapters.signers.refs import warn_plaintext
from core.committee import CommitteeState
from core.errors import (
    BadEncoding,
    ChainError,
    ChainRejected,
    ChainUnavailable,
    ConfigError,
    InvalidInput,
    NotFound,
)
from core.ids import ChainId, Height
from core.seams import LightClient, OnChainUpdate
from core.types import (
    ChainAction,
    ChainEvent,
    EventKind,
    HeaderUpdate,
    InclusionProof,
    TxReceipt,
)
from proofs.htlc.timing import ChainTiming
from proofs.pujiang import codec
from proofs.pujiang.envelope import decode_header_evidence
from proofs.pujiang.escrow import escrow_address
from proofs.pujiang.light_client import (
    EVENT_PROOF_KIND,
    PujiangLightClient,
    encode_header_evidence,
)

if TYPE_CHECKING:
    from adapters.pujiang.htlc import PujiangHtlc

VALSET_CACHE = 8
"""Validator sets kept by hash: a set signs many consecutive headers."""
EVENT_PROOFS_SPAN = 1000
"""Most leaf indices one ``GET /v1/proofs/events/{height}`` request covers (the node's bound)."""
DECODED_LEAVES = 4096
"""Event leaves whose decoding is kept for ``event_from_proof`` (a block of a few thousand
packets, proven batch by batch after its listing; about 1.7 kB each)."""

PROOF_KIND = EVENT_PROOF_KIND
"""``InclusionProof.kind`` of an event proof (``rfc6962-event``), as the light client reads it."""


log = logging.getLogger("pjgw.adapters.pujiang")

NOTARIES_KEY = b"notaries"
"""The bridge module's committee entry (``docs/pujiang-chain.md``; ``devnet.state``)."""


class NonceAhead(ChainRejected):
    """The node refused a signed transaction whose nonce is ahead of the account's.

    The account's earlier transactions are not in yet (a client signed
    several and the hub submits them in parallel): sending the same bytes
    again later succeeds, so it is retryable, unlike other refusals.
    """

    code = "nonce-ahead"
    retryable = True


def _relayer_signer(settings: PujiangSettings) -> actions.TxSigner | None:
    """The relayer account: ``relayer_signer`` (the signer seam) or the dev ``relayer_key``.

    One account per process here, not a pool: the devnet orders an account's
    transactions by nonce as EVM does, but its blocks come every second with no
    fee market, so nothing is stuck behind a low fee (docs/operator-guide.md)."""
    if settings.relayer_signer is not None and settings.relayer_key is not None:
        raise ConfigError(
            f"chain {settings.chain_id}: give relayer_signer or relayer_key, not both"
        )
    if settings.relayer_signer is not None:
        signer = open_signer(
            settings.relayer_signer,
            settings.account_scheme,
            insecure_plaintext=settings.insecure_plaintext_key,
        )
        return actions.TxSigner(signer, settings.account_scheme)
    seed = settings.relayer_seed
    if seed is None:
        return None
    warn_plaintext(settings.chain_id, "relayer_key")
    return actions.TxSigner(seed, settings.account_scheme)


class PujiangAdapter:
    """One Pujiang subchain, reached over HTTP. Use as ``async with`` or call ``aclose()``.

    ``transport`` is the seam for tests (``httpx.ASGITransport`` of the devnet's
    app, ``httpx.MockTransport``); ``None`` opens real sockets.
    """

    family = "pujiang"
    seam_version = "2.0"
    """The adapter seam version this family was written for (``adapters.sdk.SEAM_VERSION``)."""
    chain_id_option: ClassVar[str] = "chain_id"
    key_format: ClassVar[str] = source_tx.KEY_FORMAT

    def __init__(
        self,
        settings: PujiangSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.settings = settings
        self.chain_id = ChainId(settings.chain_id)
        self.hash_fn = codec.hash_profile(settings.hash_profile)
        extra = {"sleep": sleep} if sleep is not None else {}
        self.node = NodeClient(settings, transport=transport, **extra)
        self._signer = _relayer_signer(settings)
        self._next_nonce: int | None = None
        # One send at a time: a nonce is taken and posted before the next is taken. The
        # node admits an account's transactions in nonce order only (no queue of future
        # nonces), so two sends racing (the relayer steps batches concurrently) posted
        # n + 1 before n: refused as "nonce ahead", under load again and again.
        self._sending = asyncio.Lock()
        self._valsets: OrderedDict[bytes, bytes] = OrderedDict()
        self._leaves = _DecodedLeaves(DECODED_LEAVES)

    @classmethod
    def from_options(cls, options: dict[str, object], **kwargs: object) -> Self:
        """Build from a chain's opaque options (``ConfigError`` on bad ones)."""
        return cls(PujiangSettings.from_options(dict(options)), **kwargs)  # type: ignore[arg-type]

    # --- queries: heights ----------------------------------------------------------

    async def status(self) -> dict[str, object]:
        """``GET /v1/status``, checked to be the configured chain and hash profile."""
        answer = await self.node.get("/v1/status")
        served = wire.field(answer, "chain_id", "status")
        if served != self.chain_id:
            raise ConfigError(
                f"node at {self.node.base_url} serves chain {served!r}, "
                f"configured as {self.chain_id!r}"
            )
        profile = answer.get("hash_profile", self.settings.hash_profile)
        if profile != self.settings.hash_profile:
            raise ConfigError(
                f"chain {self.chain_id} hashes with {profile!r}, "
                f"configured as {self.settings.hash_profile!r}"
            )
        scheme = answer.get("account_scheme", "ed25519")  # absent: a standard chain
        if scheme != self.settings.account_scheme:
            raise ConfigError(
                f"chain {self.chain_id} accounts sign with {scheme!r}, "
                f"configured as {self.settings.account_scheme!r}"
            )
        return answer

    async def latest_height(self) -> Height:
        """The node's newest committed block."""
        return Height(wire.int_field(await self.status(), "latest_height", "status"))

    async def finalized_height(self) -> Height:
        """Instant BFT finality: the newest committed block is final."""
        return await self.latest_height()

    # --- queries: headers ----------------------------------------------------------

    async def header(self, height: Height) -> HeaderUpdate:
        """Header RLP in ``encoded``; ``evidence = rlp([commit, validators])`` for the light client.

        ``NotFound`` above the tip.
        """
        height = _height(height, "height")
        if height < 1:
            raise InvalidInput("Pujiang heights start at 1", field="height")
        what = f"block {height}"
        block = await self.node.get(f"/v1/blocks/{height}")
        encoded = wire.hex_field(block, "header", what)
        commit = wire.hex_field(block, "commit", what)
        try:
            decoded = codec.decode_header(encoded)
        except BadEncoding as err:
            raise ChainError(f"{what}: node served a header that does not decode") from err
        if decoded.height != height:
            raise ChainError(f"{what}: node served the header of height {decoded.height}")
        validators = await self._validators(height, decoded.validators_hash)
        return HeaderUpdate(
            chain_id=self.chain_id,
            height=height,
            hash=self.hash_fn(encoded),
            time=decoded.time_ms // 1000,
            encoded=encoded,
            evidence=encode_header_evidence(commit, validators),
        )

    async def _validators(self, height: int, validators_hash: bytes) -> bytes:
        """The set signing ``height``; sets seen before are reused by hash (one GET saved).

        Only a set whose computed hash is the header's is cached; anything else
        is passed on as served, for the light client to reject.
        """
        cached = self._valsets.get(validators_hash)
        if cached is not None:
            self._valsets.move_to_end(validators_hash)
            return cached
        answer = await self.node.get(f"/v1/validators/{height}")
        validators = wire.hex_field(answer, "validators", f"validators of block {height}")
        try:
            computed = codec.compute_validators_hash(
                codec.decode_validator_set(validators), self.hash_fn
            )
        except BadEncoding:
            return validators
        if computed == validators_hash:
            self._valsets[validators_hash] = validators
            while len(self._valsets) > VALSET_CACHE:
                self._valsets.popitem(last=False)
        return validators

    # --- queries: events and proofs ------------------------------------------------

    async def events(self, start: Height, end: Height) -> Sequence[ChainEvent]:
        """Bridge and HTLC events of ``[start, end]`` in chain order.

        Split into requests of ``range_size`` heights (the API allows 1000) and
        paged by ``page_limit`` events; consensus events are left out.
        """
        start, end = _height(start, "start"), _height(end, "end")
        if start < 1 or end < start:
            raise InvalidInput(f"event range [{start}, {end}] is empty or starts below 1")
        found: list[ChainEvent] = []
        chunk_start = int(start)
        while chunk_start <= end:
            chunk_end = min(int(end), chunk_start + self.settings.range_size - 1)
            found.extend(await self._events_chunk(chunk_start, chunk_end))
            chunk_start = chunk_end + 1
        return found

    async def _events_chunk(self, start: int, end: int) -> list[ChainEvent]:
        """One range of heights, paged by ``page_limit`` events.

        Each page starts where the last one ended, inside a block if need be (the
        node's ``from_index``): a block may hold more events than a page.
        """
        limit = self.settings.page_limit
        out: list[ChainEvent] = []
        cursor, index = start, 0
        while True:
            params = {"from": cursor, "to": end, "limit": limit}
            if index:
                params["from_index"] = index
            answer = await self.node.get("/v1/events", params)
            rows = wire.field(answer, "events", "events")
            if not isinstance(rows, list):
                raise ChainError("events: node answered a non-list 'events'")
            page = [self._event(row) for row in rows]
            for height, at, event in page:
                if (height, at) < (cursor, index) or height > end:
                    raise ChainError(
                        f"events: node answered event {height}/{at} outside the page asked "
                        f"for (from {cursor}/{index} to height {end})"
                    )
                cursor, index = height, at + 1
                if event is not None:
                    out.append(event)
            if len(rows) < limit:
                return out

    def _event(self, row: object) -> tuple[int, int, ChainEvent | None]:
        if not isinstance(row, dict):
            raise ChainError("events: node answered a non-object event")
        height = wire.int_field(row, "height", "event")
        index = wire.int_field(row, "index", "event")
        what = f"event {height}/{index}"
        leaf = wire.hex_field(row, "event", what)
        decoded = wire.decode_event_leaf(leaf, what)
        kind = wire.EVENT_KINDS.get(decoded.kind)
        if kind is None:
            return height, index, None
        event = ChainEvent(
            chain_id=self.chain_id,
            height=Height(height),
            kind=kind,
            tx_hash=wire.hex_field(row, "tx_hash", what),
            position=(index,),
            attributes=wire.event_attributes(decoded),
            raw=leaf,
        )
        self._leaves.put(leaf, kind, event.attributes)
        return height, index, event

    async def prove(self, event: ChainEvent) -> InclusionProof:
        """The RFC 6962 inclusion proof of ``event``'s leaf in the events root of its block.

        ``key`` is the leaf index (uint64 big-endian), ``value`` the leaf as the
        node serves it, ``nodes`` the audit path, leaf side first. The tree size
        is not in the proof: the light client takes it from the verified header.
        """
        if event.chain_id != self.chain_id:
            raise InvalidInput(f"event of chain {event.chain_id} given to {self.chain_id}")
        if len(event.position) != 1 or not isinstance(event.position[0], int):
            raise InvalidInput("a Pujiang event's position is (leaf index,)")
        height, index = _height(event.height, "height"), event.position[0]
        what = f"proof of event {height}/{index}"
        answer = await self.node.get(f"/v1/proofs/event/{height}/{index}")
        path = wire.field(answer, "path", what)
        if not isinstance(path, list):
            raise ChainError(f"{what}: node answered a non-list 'path'")
        return InclusionProof(
            chain_id=self.chain_id,
            height=height,
            kind=EVENT_PROOF_KIND,
            key=encode_leaf_index(index),
            value=wire.hex_field(answer, "event", what),
            nodes=tuple(wire.hex_field({"node": n}, "node", what) for n in path),
        )

    async def prove_many(self, events: Sequence[ChainEvent]) -> list[InclusionProof]:
        """The proofs of ``events``, in order: one ``GET /v1/proofs/events/{height}`` per
        block for the span of leaf indices it needs (at most ``EVENT_PROOFS_SPAN`` a
        request), each proof the one ``prove`` returns (``core.seams.ManyProofs``)."""
        wanted: dict[int, set[int]] = {}
        for event in events:
            if event.chain_id != self.chain_id:
                raise InvalidInput(f"event of chain {event.chain_id} given to {self.chain_id}")
            if len(event.position) != 1 or not isinstance(event.position[0], int):
                raise InvalidInput("a Pujiang event's position is (leaf index,)")
            wanted.setdefault(int(_height(event.height, "height")), set()).add(event.position[0])
        found: dict[tuple[int, int], InclusionProof] = {}
        for height, indices in wanted.items():
            ordered = sorted(indices)
            while ordered:
                first = ordered[0]
                last = max(i for i in ordered if i < first + EVENT_PROOFS_SPAN)
                try:
                    found.update(await self._event_proofs(height, first, last))
                except NotFound:
                    # A node without the bulk route (or a leaf it lacks): one request per
                    # event, whose own answer says which event is missing.
                    return [await self.prove(e) for e in events]
                ordered = [i for i in ordered if i > last]
        return [found[(int(e.height), e.position[0])] for e in events]

    async def _event_proofs(
        self, height: int, first: int, last: int
    ) -> dict[tuple[int, int], InclusionProof]:
        what = f"proofs of events {height}/{first}..{last}"
        answer = await self.node.get(f"/v1/proofs/events/{height}", {"from": first, "to": last})
        rows = wire.field(answer, "proofs", what)
        if not isinstance(rows, list) or len(rows) != last - first + 1:
            raise ChainError(f"{what}: node answered {type(rows).__name__} of another length")
        out = {}
        for expected, row in enumerate(rows, start=first):
            if not isinstance(row, dict) or wire.int_field(row, "index", what) != expected:
                raise ChainError(f"{what}: node answered the proofs out of order")
            path = wire.field(row, "path", what)
            if not isinstance(path, list):
                raise ChainError(f"{what}: node answered a non-list 'path'")
            out[(height, expected)] = InclusionProof(
                chain_id=self.chain_id,
                height=Height(height),
                kind=EVENT_PROOF_KIND,
                key=encode_leaf_index(expected),
                value=wire.hex_field(row, "event", what),
                nodes=tuple(wire.hex_field({"node": n}, "node", what) for n in path),
            )
        return out

    async def receipt(self, tx_hash: bytes) -> TxReceipt:
        """The node's record of ``tx_hash``; ``NotFound`` if it never saw it."""
        if len(tx_hash) != codec.HASH_LENGTH:
            raise InvalidInput(f"a Pujiang tx hash is {codec.HASH_LENGTH} bytes")
        answer = await self.node.get(f"/v1/txs/0x{tx_hash.hex()}")
        what = f"tx 0x{tx_hash.hex()}"
        status = wire.field(answer, "status", what)
        if status == "pending":
            return TxReceipt(self.chain_id, tx_hash, None, None)
        if status not in ("committed", "failed"):
            raise ChainError(f"{what}: unknown status {status!r}")
        # A tx refused before it reached a block (bad signature, say) fails without a height.
        height = None
        if status == "committed" or answer.get("height") is not None:
            height = Height(wire.int_field(answer, "height", what))
        reason = answer.get("reason") or ""
        return TxReceipt(self.chain_id, tx_hash, height, status == "committed", str(reason))

    async def prove_state(self, key: bytes, height: Height) -> InclusionProof:
        """Membership or absence proof of the state ``key`` at ``height`` (see
        ``adapters.pujiang.state_proofs``)."""
        height = _height(height, "height")
        answer = await self.node.get(
            "/v1/proofs/state", {"key": "0x" + key.hex(), "height": height}
        )
        return state_proofs.state_proof(self.chain_id, key, height, answer)

    def event_from_proof(
        self, event: ChainEvent, proof: InclusionProof, header_hash: bytes
    ) -> ChainEvent:
        """``event`` decoded again from its proven events-tree leaf.

        Decoding is a pure function of the leaf's bytes: when the PROVEN bytes are a leaf
        this adapter's listing decoded (``_DecodedLeaves``, looked up by those bytes), that
        decoding is the answer, not done twice (a notary proves every member of a batch,
        issue #15); else ``state_proofs.event_from_proof`` decodes them, with its checks.
        """
        known = self._leaves.get(proof.value)
        if known is None or int.from_bytes(proof.key, "big") != event.position[0]:
            return state_proofs.event_from_proof(event, proof)
        kind, attributes = known
        return ChainEvent(
            chain_id=event.chain_id,
            height=event.height,
            kind=kind,
            tx_hash=event.tx_hash,
            position=event.position,
            attributes=dict(attributes),
            raw=proof.value,
        )

    async def account_nonce(self, address: bytes) -> int:
        """The committed nonce of ``address`` (0 for an unknown account)."""
        key = b"nonce/" + address
        answer = await self.node.get("/v1/proofs/state", {"key": "0x" + key.hex()})
        if answer.get("value") is None:
            return 0
        # State values of uints are minimal big-endian bytes (devnet ``state.encode_uint``).
        value = wire.hex_field(answer, "value", f"nonce of 0x{address.hex()}")
        return int.from_bytes(value, "big")

    # --- builds ----------------------------------------------------------------------

    async def build_transaction(self, action: ChainAction) -> bytes:
        """The signed transaction ``action`` stands for, not sent.

        A ``raw_tx`` is returned as is; a ``bridge_recv`` / ``bridge_timeout`` is
        signed with the relayer key at the payload's ``nonce``, or at the next
        nonce of the relayer account (committed nonce, or one past the last
        transaction this adapter built, whichever is higher).
        """
        if action.kind == actions.RAW_TX:
            tx = actions.payload_bytes(action.payload, "tx")
            try:
                codec.decode_transaction(tx)
            except BadEncoding as err:
                raise InvalidInput(f"raw_tx does not decode: {err.message}") from err
            return tx
        if action.kind not in actions.SIGNED_KINDS:
            known = ", ".join(actions.ACTION_KINDS)
            raise InvalidInput(f"unknown Pujiang action {action.kind!r} (known: {known})")
        signer = self._require_signer()
        args_rlp = actions.tx_args_rlp(action.kind, action.payload)
        nonce = actions.payload_nonce(action.payload)
        if nonce is None:
            committed = await self.account_nonce(signer.address(self.hash_fn))
            nonce = max(committed, self._next_nonce or 0)
        tx = actions.build_signed_tx_rlp(signer, self.chain_id, nonce, action.kind, args_rlp)
        self._next_nonce = nonce + 1
        return tx

    def reload_signers(self, options: Mapping[str, object]) -> dict[str, list[str]]:
        """Rotate the relayer account without stopping delivery (a config reload): the
        ``relayer_signer`` the reloaded options name signs every transaction from now on;
        the old account takes no new nonce, and what it already signed is committed by
        the chain on its own (nothing of it is kept here). ``ConfigError`` if the reference
        does not open: then nothing changes."""
        ref = options.get("relayer_signer")
        if ref is None:
            return {"added": [], "retiring": []}
        if not isinstance(ref, str):
            raise ConfigError(f"{self.chain_id}: relayer_signer is a signer reference")
        fresh = _relayer_signer(
            self.settings.model_copy(update={"relayer_signer": ref, "relayer_key": None})
        )
        if fresh is None:
            return {"added": [], "retiring": []}
        old = self._signer
        if old is not None and old.pubkey == fresh.pubkey:
            return {"added": [], "retiring": []}
        self._signer = fresh
        self._next_nonce = None  # the new account's nonce is read from the chain
        retiring = [] if old is None else ["0x" + old.address(self.hash_fn).hex()]
        added = ["0x" + fresh.address(self.hash_fn).hex()]
        log.info("chain %s: relayer account %s replaces %s", self.chain_id, added, retiring)
        return {"added": added, "retiring": retiring}

    def _require_signer(self) -> actions.TxSigner:
        if self._signer is None:
            raise ConfigError(f"chain {self.chain_id}: no relayer_key configured to sign with")
        return self._signer

    @property
    def relayer_address(self) -> bytes | None:
        return self._signer.address(self.hash_fn) if self._signer else None

    # --- sends -----------------------------------------------------------------------

    async def submit(self, action: ChainAction) -> bytes:
        """Build (if needed) and post the transaction; its hash, without waiting.

        ``ChainRejected`` when the node refuses it (signature, nonce, replay).
        """
        async with self._sending:
            return await self._submit(action)

    async def _submit(self, action: ChainAction) -> bytes:
        tx = await self.build_transaction(action)
        # ``compute_tx_hash`` of the decoded bytes is ``H(tx)`` itself (a strict decode keeps
        # the canonical bytes it read as the encoding), so the batch is not decoded again.
        tx_hash = self.hash_fn(tx)
        try:
            answer = await self.node.post_tx(tx, tx_hash)
        except ChainRejected as err:
            self._next_nonce = None  # re-read the committed nonce next time
            if err.details.get("reason_code") == "wrong-nonce":
                decoded = codec.decode_transaction(tx)
                sender = codec.compute_address(decoded.pubkey, self.hash_fn)
                if decoded.body.nonce >= await self.account_nonce(sender):
                    raise NonceAhead(
                        f"{err.message} (earlier nonces not in yet)", **err.details
                    ) from err
            raise
        except Exception:
            self._next_nonce = None  # re-read the committed nonce next time
            raise
        served = wire.hex_field(answer, "tx_hash", "submit")
        if served != tx_hash:
            raise ChainError(f"node named the tx 0x{served.hex()}, its hash is 0x{tx_hash.hex()}")
        return tx_hash

    # --- audit anchors (core.seams.AnchorChain) ---------------------------------------

    @property
    def anchor_account(self) -> bytes | None:
        return self.relayer_address

    async def anchor_digest(self, digest: bytes) -> bytes:
        """An ``anchor`` transaction of ``digest`` signed with the relayer key; its hash."""
        if len(digest) != 32:
            raise InvalidInput("an anchored digest is 32 bytes", field="digest")
        action = ChainAction(
            actions.ANCHOR, {"digest": "0x" + digest.hex()}, f"anchor:{digest.hex()}"
        )
        return await self.submit(action)

    async def anchored_height(self, digest: bytes, account: bytes) -> Height | None:
        """The height stored under ``anchor/ account / digest`` (the node's committed state)."""
        if len(digest) != 32 or len(account) != 20:
            raise InvalidInput("a digest is 32 bytes and an account 20", field="digest")
        key = b"anchor/" + account + b"/" + digest
        answer = await self.node.get("/v1/proofs/state", {"key": "0x" + key.hex()})
        if answer.get("value") is None:
            return None
        value = wire.hex_field(answer, "value", f"anchor 0x{digest.hex()}")
        return Height(int.from_bytes(value, "big"))

    # --- the bridge's books (core.seams.BridgeLedger) ----------------------------------

    async def escrowed(self, counterparty: ChainId, denom: str) -> int:
        """The balance in ``denom`` of the escrow account for ``counterparty``
        (``proofs.pujiang.escrow``), from the node's ``GET /v1/accounts/{address}``."""
        escrow = escrow_address(str(counterparty).encode(), self.hash_fn)
        answer = await self.node.get(f"/v1/accounts/0x{escrow.hex()}")
        balances = answer.get("balances")
        if not isinstance(balances, dict):
            raise BadEncoding("the node's account answer has no balances", check="balances")
        return _amount(balances.get(denom, "0"), "escrow balance")

    async def voucher_supply(self, path: str) -> int:
        """The total of ``path`` held by every account, from the node's ``GET /v1/supply``."""
        answer = await self.node.get("/v1/supply", {"denom": path})
        return _amount(answer.get("supply"), "supply")

    # --- family rules (class-level: the API asks them with only a ChainRecord) ----------

    @classmethod
    def validate_address(cls, value: str, field: str = "address") -> str:
        """``0x`` + 40 hex digits, lower-cased (``FamilyRules``)."""
        return source_tx.validate_address(value, field)

    @classmethod
    def address_bytes(cls, value: str) -> bytes:
        return source_tx.address_bytes(value)

    @classmethod
    def validate_asset(cls, value: str, field: str = "asset") -> str:
        """A leg's asset is a bank denom, kept as written."""
        if not value:
            raise InvalidInput(f"{field}: a pujiang asset is a denom", field=field)
        return value

    @classmethod
    def account_signer(cls, secret: bytes) -> PujiangAccount:
        """A managed account's signer from its 32-byte seed (``ManagedKeys``; Ed25519, or SM2
        on a gm chain: ``PujiangAccount.signer_for``)."""
        return PujiangAccount(secret)

    # --- capabilities the hub uses (core.seams: SourceChain, HtlcChain) ---------------

    def source_transactions(self) -> PujiangSourceTransactions:
        """Client-signed sends checked, hub-signed ones built, for this chain."""
        return PujiangSourceTransactions(self.chain_id, self.hash_fn, self.settings.account_scheme)

    def htlc(self) -> PujiangHtlc:
        """The devnet ``htlc`` module of this chain (every Pujiang chain has it)."""
        from adapters.pujiang.htlc import PujiangHtlc  # the endpoint wraps this adapter

        return PujiangHtlc(self)

    def chain_timing(self) -> ChainTiming:
        """Block time and clock drift from the settings; BFT, so final when committed."""
        return self.settings.chain_timing()

    # --- the light client ------------------------------------------------------------

    async def header_update(self, trusted: Height, target: Height) -> HeaderUpdate:
        """The header at ``target`` with its own commit: BFT commits verify from any trusted
        height (skipping verification), so ``trusted`` does not change what is fetched."""
        return await self.header(target)

    def light_client(self) -> LightClient:
        """The pure Pujiang light client (``proofs.pujiang.light_client``) for this chain.

        Its client state (chain id, hash profile, trusting period) is the
        caller's: the light client is stateless, the relayer persists states.
        """
        return PujiangLightClient(hash_profile=self.settings.hash_profile)

    def client_codec(self) -> PujiangClientCodec:
        """Persistence of this chain's light-client states (with its hash profile)."""
        return PujiangClientCodec(str(self.chain_id), self.settings.hash_profile)

    # --- light_client routes: updates and proofs for on-chain clients ------------------

    onchain_client_kinds: ClassVar[frozenset[str]] = frozenset({ONCHAIN_CLIENT_KIND})

    async def onchain_client_update(
        self, kind: str, trusted: Height, target: Height
    ) -> OnChainUpdate:
        """The header at ``target``, its commit and the keys an on-chain client holding
        ``trusted`` needs (``evm_client_update``); the sha256 profile only."""
        _check_kind(kind)
        update = await self.header(target)
        commit, validators = decode_header_evidence(update.evidence)
        _, trusted_validators = decode_header_evidence((await self.header(trusted)).evidence)
        data = encode_update(
            int(trusted),
            update.encoded,
            commit,
            validators,
            trusted_validators,
            hash_profile=self.settings.hash_profile,
        )
        return OnChainUpdate(kind, update.height, update.hash, data)

    def onchain_packet_proof(self, kind: str, event: ChainEvent, proof: InclusionProof) -> bytes:
        """Where the event sits (height, its transaction and event index, leaf index) and its
        audit path: the contract rebuilds the leaf from the packet it is given."""
        _check_kind(kind)
        leaf = codec.decode_event(proof.value)
        index = int.from_bytes(proof.key, "big")
        return encode_packet_proof(
            int(proof.height), leaf.tx_index, leaf.event_index, index, list(proof.nodes)
        )

    def bridge(self) -> PujiangBridge:
        """The ``BridgeEndpoint`` of this chain's bridge module (committee as configured, or
        the newer one adopted after a rotation)."""
        bridge = PujiangBridge(
            self.chain_id,
            self.hash_fn,
            self.settings.committee_threshold,
            self.settings.committee,
            self.settings.committee_epoch,
        )
        if self._adopted is not None:
            bridge.adopt_committee(self._adopted)
        return bridge

    # --- the live committee (core.seams.CommitteeChain) --------------------------------

    _adopted: CommitteeState | None = None

    async def committee_onchain(self) -> CommitteeState:
        """The ``notaries`` state entry ``rlp([threshold, [member, ...], epoch])`` at the
        latest height, read through a state proof (an entry without an epoch is epoch 1)."""
        height = await self.latest_height()
        proof = await self.prove_state(NOTARIES_KEY, height)
        if not proof.value:
            raise ConfigError(f"{self.chain_id} has no notary committee")
        try:
            items = rlp.decode(proof.value)
            threshold = codec.raw_int(items[0], "threshold") if items[0] else 0
            members = tuple("0x" + bytes(m).hex() for m in items[1])
            epoch = codec.raw_int(items[2], "epoch") if len(items) > 2 else 1
        except (rlp.DecodingError, BadEncoding, IndexError, TypeError) as err:
            raise ChainUnavailable(f"{self.chain_id}: malformed notaries entry") from err
        return CommitteeState(epoch, threshold, tuple(sorted(members)))

    def adopt_committee(self, committee: CommitteeState) -> None:
        if self._adopted is None or committee.epoch > self._adopted.epoch:
            self._adopted = committee

    # --- lifecycle -------------------------------------------------------------------

    async def aclose(self) -> None:
        await self.node.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"PujiangAdapter(chain_id={self.chain_id!r}, url={self.node.base_url!r})"


class _DecodedLeaves:
    """What the event leaves this adapter listed decode to, by the leaf's bytes: a bounded
    memo of a pure function (the same bytes always decode to the same kind and
    attributes), kept as immutable tuples so no caller's dict can change it. Only leaves
    that decoded to a known kind are kept; the oldest go first. Nothing is kept until
    ``event_from_proof`` is first asked (``wanted``): only a notary re-decodes proven
    events, and the hub's and the relayer's adapters then hold no copy of what they list."""

    __slots__ = ("_by_leaf", "size", "wanted")

    def __init__(self, size: int) -> None:
        self.size = size
        self.wanted = False
        self._by_leaf: dict[bytes, tuple[EventKind, tuple[tuple[str, object], ...]]] = {}

    def put(self, leaf: bytes, kind: EventKind, attributes: Mapping[str, object]) -> None:
        if not self.wanted or leaf in self._by_leaf:
            return
        self._by_leaf[leaf] = (kind, tuple(attributes.items()))
        if len(self._by_leaf) > self.size:
            del self._by_leaf[next(iter(self._by_leaf))]

    def get(self, leaf: bytes) -> tuple[EventKind, tuple[tuple[str, object], ...]] | None:
        self.wanted = True
        return self._by_leaf.get(leaf)


def encode_leaf_index(index: int) -> bytes:
    """``InclusionProof.key`` of an event proof: the leaf index as uint64 big-endian."""
    return index.to_bytes(8, "big")


def _amount(value: object, what: str) -> int:
    """A decimal amount the node wrote as a string (uint256)."""
    if not isinstance(value, str) or not value.isdigit() or len(value) > 78:
        raise BadEncoding(f"the node's {what} is not a decimal amount", check="amount")
    return int(value)


def _height(value: int, name: str) -> Height:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be an integer height", field=name)
    return Height(value)


__all__ = ["PROOF_KIND", "PujiangAdapter", "encode_leaf_index"]


def _check_kind(kind: str) -> None:
    if kind != ONCHAIN_CLIENT_KIND:
        raise ConfigError(f"a Pujiang chain encodes updates for {ONCHAIN_CLIENT_KIND}, not {kind}")
