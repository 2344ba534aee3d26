"""``ChainAdapterConformance``: the adapter conformance kit, written once, run per family.

As web3.py's ``module_testing``: a base class of test methods that a family
subclasses once, providing a fixture ``conformance_target`` (class scope or
wider) that returns its ``ConformanceTarget`` for a LIVE chain::

    class TestMyChain(ChainAdapterConformance):
        @pytest.fixture(scope="class")
        @classmethod
        def conformance_target(cls, my_node):
            return MyChainTarget(my_node.url)

Each check uses only the seams (``ChainAdapter`` and the ``LightClient`` the
adapter names) and the target's hooks, so every family is held to the same
contract: heights, headers that verify from a checkpoint (and broken ones that
do not), events that are found, proven and verified, receipts, bounds. The
plugin (``adapters.testing.plugin``) prints a summary of the checks.

The kit keeps one event loop per test class (``asyncio.Runner``): the adapter
and its pooled connections live on it from the first check to the last.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import pytest

from adapters.testing import MARKER
from adapters.testing.target import ConformanceTarget
from core.errors import (
    BadEncoding,
    ChainRejected,
    InvalidInput,
    NotFound,
    PjgwError,
    VerificationError,
)
from core.ids import ChainId, Height
from core.seams import (
    AnchorChain,
    BridgeChain,
    BridgeLedger,
    ChainAdapter,
    FamilyRules,
    HtlcChain,
    LightClient,
    ManagedKeys,
    SourceChain,
    SourceTransactions,
    is_chain_adapter,
)
from core.types import ChainEvent, EventKind, SendIntent, TxReceipt

T = TypeVar("T")


@dataclass
class BridgeEvent:
    """The ``send_packet`` the kit caused once per class, committed, with its block's events."""

    tx_hash: bytes
    receipt: TxReceipt
    events: Sequence[ChainEvent]

    @property
    def height(self) -> Height:
        assert self.receipt.height is not None
        return self.receipt.height

    @property
    def ours(self) -> ChainEvent:
        found = [
            e for e in self.events if e.tx_hash == self.tx_hash and e.kind is EventKind.SEND_PACKET
        ]
        assert found, (
            f"no send_packet event of tx 0x{self.tx_hash.hex()} among the "
            f"{len(self.events)} events of block {self.height}"
        )
        return found[0]


@dataclass
class Kit:
    """The live chain of one test class: its loop, adapter, light client and target."""

    target: ConformanceTarget
    runner: asyncio.Runner
    adapter: ChainAdapter
    light: LightClient
    _bridge_event: BridgeEvent | None = field(default=None, repr=False)
    _signed_send: tuple[SendIntent, bytes] | None = field(default=None, repr=False)

    def run(self, awaitable: Awaitable[T]) -> T:
        """Run one coroutine on the class's loop (where the adapter's connections live)."""
        return self.runner.run(_as_coroutine(awaitable))

    def verified(self, height: int, checkpoint_height: int | None = None) -> tuple[object, object]:
        """``(client_state, consensus_state)`` of ``height`` verified from a checkpoint below it."""
        cp = (
            checkpoint_height
            if checkpoint_height is not None
            else max(self.target.lowest_height, height - 1)
        )
        client, trusted = self.checkpoint(cp)
        if cp == height:
            return client, trusted
        header = self.run(self.adapter.header(Height(height)))
        return client, self.light.verify_header(client, trusted, header, self.target.now())

    def checkpoint(self, height: int) -> tuple[object, object]:
        header = self.run(self.adapter.header(Height(height)))
        return self.run(self.target.checkpoint(self.adapter, header))

    def require_two_heights(self, top: int, what: str) -> None:
        """Skip the calling check on an offline recording of block 1 alone: no trusted
        block lies below it to verify it from (a live chain grows instead)."""
        if self.target.offline and top <= 1:
            pytest.skip(f"needs two heights ({what}); {self.target.name} records block {top} only")

    def require_live(self, what: str) -> None:
        """Skip the calling check when the target is offline (recorded data): it needs ``what``."""
        if self.target.offline:
            pytest.skip(f"needs a live chain ({what}); {self.target.name} is an offline recording")

    def ensure_history(self) -> None:
        """On a live chain, cause the bridge event so the chain has blocks past the first;
        a recording already holds its history."""
        if not self.target.offline:
            self.bridge_event()

    def bridge_event(self) -> BridgeEvent:
        """Cause one ``send_packet`` (first call only) and wait for it to be committed."""
        self.require_live("a triggered send_packet")
        if self._bridge_event is None:
            tx_hash = self.run(self.target.trigger_send_packet(self.adapter))
            receipt = self.run(self.wait_for(tx_hash))
            assert receipt.success, f"the triggered send_packet failed: {receipt.reason}"
            assert receipt.height is not None
            events = self.run(self.adapter.events(receipt.height, receipt.height))
            self._bridge_event = BridgeEvent(tx_hash, receipt, events)
        return self._bridge_event

    def source_transactions(self) -> SourceTransactions:
        """The adapter's source-transaction rules (skips when the family has none)."""
        rules = (
            self.adapter.source_transactions() if isinstance(self.adapter, SourceChain) else None
        )
        if rules is None:
            pytest.skip(f"{self.target.name}: the family starts no transfers through the API")
        return rules

    def signed_send(self) -> tuple[SendIntent, bytes]:
        """The target's client-signed send (first call only); skips when it offers none."""
        if self._signed_send is None:
            self._signed_send = self.run(self.target.signed_send(self.adapter))
        if self._signed_send is None:
            pytest.skip(f"{self.target.name}: the target offers no client-signed send")
        return self._signed_send

    async def wait_for(self, tx_hash: bytes) -> TxReceipt:
        """Poll the receipt until the chain decided (the kit may loop; an adapter never does)."""
        deadline = time.monotonic() + self.target.wait_timeout
        while True:
            try:
                receipt = await self.adapter.receipt(tx_hash)
                if receipt.success is not None:
                    return receipt
            except NotFound:
                pass  # not yet visible on this node
            if time.monotonic() > deadline:
                pytest.fail(
                    f"tx 0x{tx_hash.hex()} not committed within {self.target.wait_timeout}s"
                )
            await self.target.produce_block(self.adapter)
            await asyncio.sleep(0.05)


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _expect_refused(check: Any, *args: object) -> PjgwError | None:
    """The refusal ``check(*args)`` raised (bad input or a failed check), or None."""
    try:
        check(*args)
    except (InvalidInput, VerificationError) as err:
        return err
    return None


def _expect_rejected(check: Any, *args: object) -> PjgwError | None:
    """The ``VerificationError`` ``check(*args)`` raised, or None if it accepted."""
    try:
        check(*args)
    except VerificationError as err:
        return err
    return None


@getattr(pytest.mark, MARKER)
class ChainAdapterConformance:
    """The checks every ``ChainAdapter`` must pass against a live chain.

    CONTRACT: subclasses provide the fixture ``conformance_target`` (scope
    ``class`` or wider) returning a ``ConformanceTarget``.
    """

    @pytest.fixture(scope="class")
    @classmethod
    def kit(cls, conformance_target: ConformanceTarget) -> Iterator[Kit]:
        runner = asyncio.Runner()
        adapter = conformance_target.make_adapter()
        try:
            kit = Kit(conformance_target, runner, adapter, adapter.light_client())
            yield kit
        finally:
            runner.run(_as_coroutine(conformance_target.close_adapter(adapter)))
            runner.close()

    # --- identity and heights ------------------------------------------------------

    def test_identity_and_seams_are_declared(self, kit: Kit) -> None:
        """The adapter names its family and chain, and implements both seams."""
        assert is_chain_adapter(kit.adapter), "the adapter lacks a ChainAdapter method"
        assert isinstance(kit.adapter.family, str)
        assert kit.adapter.family
        assert isinstance(kit.adapter.chain_id, ChainId)
        assert isinstance(kit.light, LightClient), "light_client() is not a LightClient"

    def test_latest_height_is_monotonic(self, kit: Kit) -> None:
        """latest_height never goes down between reads, and is a Height ≥ 1."""
        first = kit.run(kit.adapter.latest_height())
        kit.run(kit.target.produce_block(kit.adapter))
        second = kit.run(kit.adapter.latest_height())
        assert isinstance(first, Height)
        assert first >= 1
        assert second >= first

    def test_finalized_height_is_monotonic_and_not_ahead(self, kit: Kit) -> None:
        """finalized_height never goes down and never passes latest_height."""
        first = kit.run(kit.adapter.finalized_height())
        latest = kit.run(kit.adapter.latest_height())
        second = kit.run(kit.adapter.finalized_height())
        assert isinstance(first, Height)
        assert first <= latest
        assert second >= first

    # --- headers -----------------------------------------------------------------------

    def test_header_is_the_requested_one(self, kit: Kit) -> None:
        """header(h) is of this chain at height h, with its encoding and evidence."""
        height = kit.run(kit.adapter.finalized_height())
        header = kit.run(kit.adapter.header(height))
        assert header.chain_id == kit.adapter.chain_id
        assert header.height == height
        assert header.encoded
        assert header.hash
        assert header.time > 0

    def test_header_verifies_from_a_checkpoint(self, kit: Kit) -> None:
        """The finalized header verifies, skipping, from an older trusted checkpoint."""
        kit.ensure_history()  # at least one block after the first
        top = kit.run(kit.adapter.finalized_height())
        kit.require_two_heights(top, "a checkpoint below the finalized header")
        checkpoint = max(kit.target.lowest_height, top - 2 * kit.target.header_span)
        assert checkpoint < top, "the chain is too short to verify anything"
        client, trusted = kit.checkpoint(checkpoint)
        header = kit.run(kit.adapter.header_update(Height(checkpoint), top))
        kit.light.verify_header(client, trusted, header, kit.target.now())

    def test_header_range_verifies_one_by_one(self, kit: Kit) -> None:
        """Consecutive headers each verify from the consensus state of the one before."""
        kit.ensure_history()
        top = kit.run(kit.adapter.finalized_height())
        kit.require_two_heights(top, "consecutive headers")
        start = max(kit.target.lowest_height, top - kit.target.header_span)
        client, consensus = kit.checkpoint(start)
        for height in range(start + 1, top + 1):
            header = kit.run(kit.adapter.header(Height(height)))
            consensus = kit.light.verify_header(client, consensus, header, kit.target.now())

    def test_tampered_headers_are_rejected(self, kit: Kit) -> None:
        """Each malleation of a header or its evidence (commit) raises a VerificationError."""
        top = kit.run(kit.adapter.finalized_height())
        kit.require_two_heights(top, "a trusted block below the tampered one")
        client, trusted = kit.checkpoint(max(kit.target.lowest_height, top - 1))
        if top == 1:
            pytest.fail("the chain needs two blocks for this check")
        header = kit.run(kit.adapter.header(top))
        cases = kit.target.header_malleations(header)
        assert cases, "the target offers no header malleations"
        accepted = [
            name
            for name, bad in cases.items()
            if _expect_rejected(kit.light.verify_header, client, trusted, bad, kit.target.now())
            is None
        ]
        assert not accepted, f"tampered headers were accepted: {accepted}"

    def test_client_codec_round_trips_and_anchors_only_the_trusted_hash(self, kit: Kit) -> None:
        """``client_codec()``: verified states survive encode/decode unchanged, report the
        header's height, hash and time; a header anchors only under its own hash, and
        damaged stored bytes are refused (``BadEncoding``), never misread."""
        kit.ensure_history()
        codec = kit.adapter.client_codec()
        top = kit.run(kit.adapter.finalized_height())
        kit.require_two_heights(top, "a verified state to round-trip")
        base = max(codec.min_height, top - 1)
        client, trusted = kit.checkpoint(base)
        header = kit.run(kit.adapter.header_update(Height(base), top))
        state = kit.light.verify_header(client, trusted, header, kit.target.now())
        client_again = codec.decode_client(codec.encode_client(client))
        assert codec.encode_client(client_again) == codec.encode_client(client)
        decoded = codec.decode_consensus(codec.encode_consensus(state), client_again)
        assert codec.encode_consensus(decoded) == codec.encode_consensus(state)
        assert codec.state_height(decoded) == int(top)
        assert codec.state_hash(decoded) == codec.header_hash(header) == header.hash
        assert codec.state_time_ms(decoded) // 1000 == header.time
        assert codec.trusting_period(client_again) == codec.trusting_period(client) > 0
        plain = kit.run(kit.adapter.header(top))
        anchored = codec.anchor(client, plain, codec.header_hash(plain), kit.target.now())
        assert codec.state_hash(anchored) == codec.state_hash(state)
        with pytest.raises(VerificationError):
            codec.anchor(client, plain, bytes(32), kit.target.now())
        with pytest.raises(BadEncoding):
            codec.decode_consensus(b"\xff not a stored state", client)

    def test_header_above_the_tip_is_not_found(self, kit: Kit) -> None:
        """header(h) far above the tip raises NotFound (not an empty or made-up header)."""
        top = kit.run(kit.adapter.latest_height())
        with pytest.raises(NotFound):
            kit.run(kit.adapter.header(Height(top + 1_000_000)))

    # --- events and proofs -------------------------------------------------------------

    def test_triggered_event_is_found_in_its_block(self, kit: Kit) -> None:
        """The send_packet the target caused is in events() of its block, with its tx hash."""
        bridge = kit.bridge_event()
        event = bridge.ours
        assert event.chain_id == kit.adapter.chain_id
        assert event.height == bridge.height
        assert event.position, "an event must locate itself for prove()"

    def test_events_are_in_chain_order(self, kit: Kit) -> None:
        """events(a, b) lists heights in [a, b] ascending, positions ascending per height."""
        bridge = kit.bridge_event()
        start = max(kit.target.lowest_height, bridge.height - kit.target.header_span)
        events = kit.run(kit.adapter.events(Height(start), bridge.height))
        keys = [(e.height, e.position) for e in events]
        assert keys == sorted(keys)
        assert len(set(keys)) == len(keys), "an event is listed twice"
        assert all(start <= e.height <= bridge.height for e in events)

    def test_events_do_not_depend_on_how_a_range_is_split(self, kit: Kit) -> None:
        """events(a, b) == events(a, m) + events(m+1, b): chunking loses and repeats nothing."""
        bridge = kit.bridge_event()
        start = max(kit.target.lowest_height, bridge.height - kit.target.header_span)
        end = bridge.height
        whole = kit.run(kit.adapter.events(Height(start), end))
        parts: list[ChainEvent] = []
        for height in range(start, end + 1):
            parts.extend(kit.run(kit.adapter.events(Height(height), Height(height))))
        assert [(e.height, e.position, e.raw) for e in parts] == [
            (e.height, e.position, e.raw) for e in whole
        ]

    def test_events_are_proven_and_verify(self, kit: Kit) -> None:
        """Every event of the triggered block has a proof the light client accepts."""
        bridge = kit.bridge_event()
        assert bridge.events
        for event in bridge.events:
            proof = kit.run(kit.adapter.prove(event))
            assert proof.chain_id == kit.adapter.chain_id
            # The root that commits a block's events may sit in a later header (CometBFT:
            # the app hash of h+1 covers block h's results); never in an earlier one.
            assert proof.height >= event.height
            _, consensus = kit.verified(proof.height)
            kit.light.verify_membership(consensus, proof)

    def test_tampered_proofs_are_rejected(self, kit: Kit) -> None:
        """Each malleation of an event proof raises a VerificationError."""
        bridge = kit.bridge_event()
        proof = kit.run(kit.adapter.prove(bridge.ours))
        _, consensus = kit.verified(proof.height)
        cases = kit.target.proof_malleations(proof)
        assert cases, "the target offers no proof malleations"
        accepted = [
            name
            for name, bad in cases.items()
            if _expect_rejected(kit.light.verify_membership, consensus, bad) is None
        ]
        assert not accepted, f"tampered proofs were accepted: {accepted}"

    def test_proof_against_another_block_is_rejected(self, kit: Kit) -> None:
        """A valid proof checked against the verified state of another block is rejected."""
        bridge = kit.bridge_event()
        proof = kit.run(kit.adapter.prove(bridge.ours))
        _, other = kit.verified(bridge.height - 1) if bridge.height > 1 else (None, None)
        if other is None:
            pytest.fail("the event is in block 1; no earlier block to check against")
        relabelled = replace(proof, height=Height(bridge.height - 1))  # reach the root check
        accepted = [
            name
            for name, candidate in (("as is", proof), ("relabelled", relabelled))
            if _expect_rejected(kit.light.verify_membership, other, candidate) is None
        ]
        assert not accepted, f"a proof verified against another block's root: {accepted}"

    def test_event_from_proof_gives_back_the_event_and_no_other(self, kit: Kit) -> None:
        """The triggered event, decoded again from its verified proof, is the event listed;
        the same proof offered for an event at another position is refused."""
        bridge = kit.bridge_event()
        event = bridge.ours
        proof = kit.run(kit.adapter.prove(event))
        _, consensus = kit.verified(proof.height)
        kit.light.verify_membership(consensus, proof)
        header_hash = kit.run(kit.adapter.header(proof.height)).hash
        again = kit.adapter.event_from_proof(event, proof, header_hash)
        assert (again.kind, again.height, again.tx_hash, again.position) == (
            event.kind,
            event.height,
            event.tx_hash,
            event.position,
        )
        assert kit.adapter.bridge().packet_of(again) == kit.adapter.bridge().packet_of(event)
        moved = replace(event, position=(event.position[0] + 1, *event.position[1:]))
        with pytest.raises(InvalidInput):
            kit.adapter.event_from_proof(moved, proof, header_hash)

    def test_state_proofs_show_a_packet_not_received_and_refuse_a_forged_value(
        self, kit: Kit
    ) -> None:
        """``prove_state`` of the receipt key of a packet this chain never received is an
        absence (empty value) the light client accepts; the same proof claiming a value is
        refused."""
        bridge = kit.bridge_event()
        packet = kit.adapter.bridge().packet_of(bridge.ours)
        key = kit.adapter.bridge().receipt_key(packet)
        height = bridge.height
        proof = kit.run(kit.adapter.prove_state(key, height))
        assert proof.value == b"", "the chain holds a receipt of a packet it never received"
        _, consensus = kit.verified(proof.height)
        kit.light.verify_membership(consensus, proof)
        forged = replace(proof, value=(1).to_bytes(32, "big"))
        assert _expect_rejected(kit.light.verify_membership, consensus, forged) is not None

    # --- writes and receipts -----------------------------------------------------------

    def test_receipt_of_a_submitted_tx_reports_success(self, kit: Kit) -> None:
        """The triggered transaction's receipt names its chain, hash, height and success."""
        bridge = kit.bridge_event()
        receipt = kit.run(kit.adapter.receipt(bridge.tx_hash))
        assert receipt.chain_id == kit.adapter.chain_id
        assert receipt.tx_hash == bridge.tx_hash
        assert receipt.height == bridge.height
        assert receipt.success is True

    def test_receipt_of_an_unknown_tx_is_not_found(self, kit: Kit) -> None:
        """receipt() of a hash the chain never saw raises NotFound."""
        with pytest.raises(NotFound):
            kit.run(kit.adapter.receipt(kit.target.unknown_tx_hash()))

    def test_submitting_twice_executes_once(self, kit: Kit) -> None:
        """The same action submitted twice succeeds at most once on the chain."""
        kit.require_live("a transaction the chain commits")
        action = kit.run(kit.target.submittable_action(kit.adapter))
        hashes: list[bytes] = []
        for _ in range(2):
            # A node refusing the replay outright (ChainRejected) is also fine.
            with contextlib.suppress(ChainRejected):
                hashes.append(kit.run(kit.adapter.submit(action)))
        assert hashes, "the first submission was refused"
        receipts = [kit.run(kit.wait_for(h)) for h in dict.fromkeys(hashes)]
        assert sum(bool(r.success) for r in receipts) == 1, receipts

    # --- bounds ------------------------------------------------------------------------

    def test_bad_ranges_are_rejected_clearly(self, kit: Kit) -> None:
        """A reversed range or a negative height raises InvalidInput before any request."""
        top = kit.run(kit.adapter.latest_height())
        with pytest.raises(InvalidInput):
            kit.run(kit.adapter.events(Height(top), Height(top - 1)))
        with pytest.raises(InvalidInput):
            kit.run(kit.adapter.events(-1, top))  # type: ignore[arg-type]
        with pytest.raises(InvalidInput):
            kit.run(kit.adapter.header(-5))  # type: ignore[arg-type]

    # --- what the hub asks above adapters/ (core.seams capabilities) ----------------------

    def test_hub_capabilities_are_declared(self, kit: Kit) -> None:
        """Every capability the hub asks above adapters/ is declared, by adapter and class.

        The adapter: source transactions, HTLC and bridge endpoints; its class: the
        family's address rules and managed keys.
        """
        instance = (SourceChain, HtlcChain, BridgeChain)
        missing = [p.__name__ for p in instance if not isinstance(kit.adapter, p)]
        classes = (FamilyRules, ManagedKeys)
        missing += [p.__name__ for p in classes if not isinstance(type(kit.adapter), p)]
        assert not missing, f"capabilities not declared: {missing}"

    def test_an_anchored_digest_is_found_under_its_account_at_its_block(self, kit: Kit) -> None:
        """A chain declaring ``AnchorChain`` (the audit log's anchors) records a digest in the
        block its receipt names and finds it there; a digest never anchored, or the same one
        under another account, is not found."""
        if not isinstance(kit.adapter, AnchorChain):
            pytest.skip("the family does not declare AnchorChain (anchoring is refused by name)")
        account = kit.adapter.anchor_account
        if account is None:
            pytest.skip("the adapter has no signing key to anchor with")
        kit.require_live("a transaction the chain commits")
        digest = hashlib.sha256(f"{kit.adapter.chain_id}/{time.time_ns()}".encode()).digest()
        receipt = kit.run(kit.wait_for(kit.run(kit.adapter.anchor_digest(digest))))
        assert receipt.success is True, receipt
        assert kit.run(kit.adapter.anchored_height(digest, account)) == receipt.height
        other = hashlib.sha256(digest).digest()
        assert kit.run(kit.adapter.anchored_height(other, account)) is None
        stranger = bytes(len(account))
        assert kit.run(kit.adapter.anchored_height(digest, stranger)) is None

    def test_the_bridge_books_read_zero_for_what_never_crossed(self, kit: Kit) -> None:
        """A chain declaring ``BridgeLedger`` (the conservation breaker's reads) answers 0,
        as an ``int``, for the escrow of a denomination never sent to a chain it never saw
        and for the supply of a voucher never minted."""
        if not isinstance(kit.adapter, BridgeLedger):
            pytest.skip("the family does not declare BridgeLedger (no conservation check)")
        kit.require_live("a node serving the bridge's books")
        nowhere = ChainId("kit-nowhere-1")
        escrowed = kit.run(kit.adapter.escrowed(nowhere, "kit-never-escrowed"))
        supply = kit.run(kit.adapter.voucher_supply("kit-nowhere-1/kit-never-minted"))
        assert (type(escrowed), escrowed) == (int, 0)
        assert (type(supply), supply) == (int, 0)

    def test_an_htlc_comes_with_the_chains_timing(self, kit: Kit) -> None:
        """A chain with an HTLC endpoint gives the timing its timelocks need, all sane."""
        if not isinstance(kit.adapter, HtlcChain):
            pytest.fail("the adapter does not declare HtlcChain")
        timing = kit.adapter.chain_timing()
        if kit.adapter.htlc() is not None:
            assert timing is not None, "an HTLC without chain_timing()"
        if timing is not None:
            assert timing.block_time > 0
            assert timing.confirmations >= 0
            assert timing.clock_drift >= 0

    def test_a_client_signed_send_is_accepted(self, kit: Kit) -> None:
        """A client-signed send of the intent it carries is accepted, keyed by its tx hash.

        The journaled action's idempotency key names the transaction hash, so a
        resend after a crash is the same transaction.
        """
        rules = kit.source_transactions()
        intent, raw = kit.signed_send()
        sent = rules.validate_signed_send(intent, raw)
        assert sent.tx_hash
        assert sent.action.idempotency_key
        assert sent.tx_hash.hex() in sent.action.idempotency_key

    def test_forged_signed_sends_are_refused(self, kit: Kit) -> None:
        """Each malleation of a signed send or of its intent is refused, never accepted.

        Refused means ``InvalidInput`` or a ``VerificationError`` (``BadSignature``).
        """
        rules = kit.source_transactions()
        intent, raw = kit.signed_send()
        cases = kit.target.signed_send_malleations(intent, raw)
        assert cases, "the target offers no signed-send malleations"
        accepted = [
            name
            for name, (bad_intent, bad_raw) in cases.items()
            if _expect_refused(rules.validate_signed_send, bad_intent, bad_raw) is None
        ]
        assert not accepted, f"forged signed sends were accepted: {accepted}"

    def test_the_senders_account_nonce_is_read(self, kit: Kit) -> None:
        """account_nonce of the signed send's sender is a non-negative integer."""
        kit.require_live("an account on the chain")
        kit.source_transactions()
        intent, _ = kit.signed_send()
        assert isinstance(kit.adapter, SourceChain)
        nonce = kit.run(kit.adapter.account_nonce(intent.sender))
        assert isinstance(nonce, int)
        assert nonce >= 0

    def test_a_checked_signed_send_is_the_transaction_the_chain_executes(self, kit: Kit) -> None:
        """The journaled action of an accepted send is the transaction the chain executes.

        Submitted, it has the same hash, commits, and its block holds its send_packet.
        """
        kit.require_live("a transaction the chain commits")
        rules = kit.source_transactions()
        intent, raw = kit.signed_send()
        sent = rules.validate_signed_send(intent, raw)
        tx_hash = kit.run(kit.adapter.submit(sent.action))
        assert tx_hash == sent.tx_hash
        receipt = kit.run(kit.wait_for(tx_hash))
        assert receipt.success, receipt.reason
        assert receipt.height is not None
        events = kit.run(kit.adapter.events(receipt.height, receipt.height))
        kinds = [e.kind for e in events if e.tx_hash == tx_hash]
        assert EventKind.SEND_PACKET in kinds, kinds
