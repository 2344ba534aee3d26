"""The conformance kit fails adapters that break the contract (a lax kit proves nothing).

Each row wraps the real ``PujiangAdapter`` (on an in-process devnet) with one
deliberate bug and runs the one kit check that must catch it, directly on a
``Kit``; the check must fail (an assertion, a ``pytest.fail``, or the light
client's ``VerificationError`` escaping).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

import pytest

from adapters.pujiang import PujiangAdapter
from adapters.pujiang.conformance import PujiangTarget, target_from_config
from adapters.pujiang.source_tx import PujiangSourceTransactions
from adapters.testing import ChainAdapterConformance, Kit
from core.errors import VerificationError
from core.ids import Height
from core.seams import ChainAdapter, LightClient
from core.types import ChainEvent, EventKind, HeaderUpdate, InclusionProof, SendIntent, SourceSend
from proofs.pujiang.codec import compute_tx_hash, decode_transaction
from tests.fixtures.devnet import CHAIN_ID, InProcessDevnet, account_seed


class WrongLeafProofs(PujiangAdapter):
    """Proves the right position with the leaf of another event."""

    async def prove(self, event: ChainEvent) -> InclusionProof:
        proof = await super().prove(event)
        return replace(proof, value=proof.value[:-1] + bytes([proof.value[-1] ^ 1]))


class OverlappingChunks(PujiangAdapter):
    """An off-by-one chunker: the last height of a chunk is read again by the next one."""

    async def events(self, start: Height, end: Height) -> Sequence[ChainEvent]:
        found = list(await super().events(start, end))
        if end > start:
            found += await super().events(end, end)
        return found


class FinalityAhead(PujiangAdapter):
    async def finalized_height(self) -> Height:
        return Height(await self.latest_height() + 1)


class HeaderMadeUpAboveTip(PujiangAdapter):
    async def header(self, height: Height) -> HeaderUpdate:
        return await super().header(min(height, await self.latest_height()))


class ForgivingRanges(PujiangAdapter):
    async def events(self, start: Height, end: Height) -> Sequence[ChainEvent]:
        if isinstance(start, int) and isinstance(end, int) and 1 <= end < start:
            return []
        return await super().events(start, end)


class HidesSendPackets(PujiangAdapter):
    async def events(self, start: Height, end: Height) -> Sequence[ChainEvent]:
        return [e for e in await super().events(start, end) if e.kind != EventKind.SEND_PACKET]


class LaxLightClient:
    """Accepts any header that decodes: the commit is never checked."""

    def __init__(self, real: LightClient) -> None:
        self.real = real

    def verify_header(
        self, client: object, trusted: object, header: HeaderUpdate, now: int
    ) -> object:
        try:
            return self.real.verify_header(client, trusted, header, now)
        except VerificationError as err:
            if err.details.get("check") == "encoding":
                raise
            return trusted

    def verify_membership(self, consensus: object, proof: InclusionProof) -> None:
        self.real.verify_membership(consensus, proof)

    def check_misbehaviour(self, *args: object, **kwargs: object) -> bool:
        return False


class LaxVerification(PujiangAdapter):
    def light_client(self) -> LightClient:
        return LaxLightClient(super().light_client())  # type: ignore[return-value]


class LaxSourceRules(PujiangSourceTransactions):
    """Believes the signature: a send by the sender is taken for whatever the intent says."""

    def validate_signed_send(self, intent: SendIntent, raw: bytes) -> SourceSend:
        tx = decode_transaction(raw)
        return self._journaled(raw, compute_tx_hash(tx, self.hash_fn))


class LaxSignedSends(PujiangAdapter):
    def source_transactions(self) -> PujiangSourceTransactions:
        return LaxSourceRules(self.chain_id, self.hash_fn)


class MisnamedSourceRules(PujiangSourceTransactions):
    """Journals the right transaction under another hash."""

    def validate_signed_send(self, intent: SendIntent, raw: bytes) -> SourceSend:
        sent = super().validate_signed_send(intent, raw)
        return replace(sent, tx_hash=self.hash_fn(sent.tx_hash))


class MisnamedSignedSends(PujiangAdapter):
    def source_transactions(self) -> PujiangSourceTransactions:
        return MisnamedSourceRules(self.chain_id, self.hash_fn)


class HtlcWithoutTiming(PujiangAdapter):
    def chain_timing(self) -> None:  # type: ignore[override]
        return None


class BrokenTarget(PujiangTarget):
    adapter_class: type[PujiangAdapter] = PujiangAdapter

    def make_adapter(self) -> ChainAdapter:
        return self.adapter_class(self.settings, transport=self.transport)


@pytest.fixture
def kit_for(devnet_node: InProcessDevnet) -> Iterator[Callable[[type[PujiangAdapter]], Kit]]:
    made: list[tuple[asyncio.Runner, BrokenTarget, ChainAdapter]] = []

    def make(adapter_class: type[PujiangAdapter]) -> Kit:
        base = target_from_config(
            {"url": devnet_node.url, "chain_id": CHAIN_ID},
            {"sender_key": account_seed(0).hex(), "produce_blocks": True, "wait_timeout": 10},
            transport=devnet_node.transport,
        )
        target = BrokenTarget(base.settings, base.options, transport=devnet_node.transport)
        target.adapter_class = adapter_class
        runner = asyncio.Runner()
        adapter = target.make_adapter()
        made.append((runner, target, adapter))
        return Kit(target, runner, adapter, adapter.light_client())

    yield make
    for runner, target, adapter in made:
        runner.run(target.close_adapter(adapter))  # type: ignore[arg-type]
        runner.close()


CAUGHT = (AssertionError, VerificationError, pytest.fail.Exception)


@pytest.mark.parametrize(
    ("broken", "check"),
    [
        (WrongLeafProofs, "test_events_are_proven_and_verify"),
        (OverlappingChunks, "test_events_do_not_depend_on_how_a_range_is_split"),
        (OverlappingChunks, "test_events_are_in_chain_order"),
        (FinalityAhead, "test_finalized_height_is_monotonic_and_not_ahead"),
        (HeaderMadeUpAboveTip, "test_header_above_the_tip_is_not_found"),
        (ForgivingRanges, "test_bad_ranges_are_rejected_clearly"),
        (HidesSendPackets, "test_triggered_event_is_found_in_its_block"),
        (LaxVerification, "test_tampered_headers_are_rejected"),
        (LaxSignedSends, "test_forged_signed_sends_are_refused"),
        (MisnamedSignedSends, "test_a_checked_signed_send_is_the_transaction_the_chain_executes"),
        (HtlcWithoutTiming, "test_an_htlc_comes_with_the_chains_timing"),
    ],
)
def test_the_kit_fails_an_adapter_with_one_bug(
    kit_for: Callable[[type[PujiangAdapter]], Kit], broken: type[PujiangAdapter], check: str
) -> None:
    kit = kit_for(broken)
    with pytest.raises(CAUGHT):
        getattr(ChainAdapterConformance(), check)(kit)


def test_the_same_checks_pass_on_the_unbroken_adapter(
    kit_for: Callable[[type[PujiangAdapter]], Kit],
) -> None:
    """The control row: without the bug, every check above passes on this very chain."""
    kit = kit_for(PujiangAdapter)
    suite = ChainAdapterConformance()
    for check in (
        "test_events_are_proven_and_verify",
        "test_events_do_not_depend_on_how_a_range_is_split",
        "test_events_are_in_chain_order",
        "test_finalized_height_is_monotonic_and_not_ahead",
        "test_header_above_the_tip_is_not_found",
        "test_bad_ranges_are_rejected_clearly",
        "test_triggered_event_is_found_in_its_block",
        "test_tampered_headers_are_rejected",
        "test_forged_signed_sends_are_refused",
        "test_a_checked_signed_send_is_the_transaction_the_chain_executes",
        "test_an_htlc_comes_with_the_chains_timing",
    ):
        getattr(suite, check)(kit)
