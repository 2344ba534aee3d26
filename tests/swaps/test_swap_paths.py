"""Every path of an HTLC swap, on a real anvil and a devnet node, with the hub as watchtower.

Each test ends by checking the balances: every party's equal exactly one of
"both legs done" or "both refunded" (fees paid on anvil accounted).
"""

from __future__ import annotations

import pytest

from core.states import SwapState
from core.swaps import NATIVE_ASSET, LegState
from core.types import EventKind
from devnet.txs import Reason
from proofs.htlc.errors import HashlockReused, Leg1NotFinal, WrongPreimage
from proofs.htlc.rules import validate_preimage
from tests.devnet.test_transactions import reason_of
from tests.swaps.helpers import A_CHAIN, B_CHAIN, Hub
from tests.swaps.parties import World, devnet_address, leg, make_world, new_secret

S = SwapState
UCNY = "ucny"
DRIFT = 16  # past a timelock by more than either chain's clock drift (anvil: 15 s)


def devnet_to_evm(world: World, hashlock: bytes, *, asset: str, **delegation: bool):  # type: ignore[no-untyped-def]
    """Alice gives 1000 ucny on the devnet (leg 1) for Bob's ``asset`` on anvil (leg 2)."""
    now = int(world.hub.clock.now())
    t2, t1 = now + 120, now + 200
    amount2 = 10**18 if asset == NATIVE_ASSET else 500
    swap = world.propose(
        leg(A_CHAIN, UCNY, 1000, devnet_address(world.devnet, 0), devnet_address(world.devnet, 1),
            t1, claim_delegated=delegation.get("bob_claims", True),
            refund_delegated=delegation.get("alice_refunds", True)),
        leg(B_CHAIN, asset, amount2, world.bob.evm, world.alice.evm, t2,
            claim_delegated=delegation.get("alice_claims", False),
            refund_delegated=delegation.get("bob_refunds", True)),
        hashlock,
    )  # fmt: skip
    return swap


def evm_to_devnet(world: World, hashlock: bytes, **delegation: bool):  # type: ignore[no-untyped-def]
    """Alice gives 1 ether on anvil (leg 1) for Bob's 700 ucny on the devnet (leg 2)."""
    now = int(world.hub.clock.now())
    t2, t1 = now + 120, now + 200
    return world.propose(
        leg(B_CHAIN, NATIVE_ASSET, 10**18, world.alice.evm, world.bob.evm, t1,
            claim_delegated=True, refund_delegated=True),
        leg(A_CHAIN, UCNY, 700, devnet_address(world.devnet, 1), devnet_address(world.devnet, 0),
            t2, claim_delegated=delegation.get("alice_claims", False), refund_delegated=True),
        hashlock,
    )  # fmt: skip


def lock_leg1(world: World, swap) -> bytes:  # type: ignore[no-untyped-def]
    l1 = swap.leg1
    if l1.chain_id == A_CHAIN:
        return world.devnet_lock(world.alice, world.bob, l1.asset, l1.amount, swap.hashlock,
                                 l1.timelock)  # fmt: skip
    return world.evm_lock(world.alice, world.bob, l1.asset, l1.amount, swap.hashlock, l1.timelock)


def lock_leg2(world: World, swap) -> bytes:  # type: ignore[no-untyped-def]
    l2 = swap.leg2
    if l2.chain_id == A_CHAIN:
        return world.devnet_lock(world.bob, world.alice, l2.asset, l2.amount, swap.hashlock,
                                 l2.timelock)  # fmt: skip
    return world.evm_lock(world.bob, world.alice, l2.asset, l2.amount, swap.hashlock, l2.timelock)


def both_locked(world: World, hub: Hub, swap):  # type: ignore[no-untyped-def]
    """Leg 1 locked and seen final by the hub, the hub agrees to leg 2, leg 2 locked."""
    hub.step()  # the watchtower starts following both chains
    with pytest.raises(Leg1NotFinal):  # Bob asks the hub before locking: not yet
        hub.run(hub.tower.check_leg2_lock(swap.id))  # type: ignore[union-attr]
    lock_leg1(world, swap)
    hub.drive(swap.id, S.INITIATOR_LOCKED)
    hub.run(hub.tower.check_leg2_lock(swap.id))  # type: ignore[union-attr]
    lock_leg2(world, swap)
    return hub.drive(swap.id, S.RESPONDER_LOCKED)


# --- happy paths ------------------------------------------------------------------------


@pytest.mark.parametrize("token", [True, False], ids=["erc20", "native"])
def test_devnet_asset_for_evm_asset_completes_and_the_hub_claims_leg1_for_bob(
    hub: Hub, token: bool
) -> None:
    world = make_world(hub)
    preimage, hashlock = new_secret()
    asset = world.env.token.address if token else NATIVE_ASSET
    swap = devnet_to_evm(world, hashlock, asset=asset)
    before = world.snapshot(swap)
    swap = both_locked(world, hub, swap)

    world.evm_claim(world.alice, swap.leg2.lock_id, preimage)  # reveals the preimage on anvil
    done = hub.drive(swap.id, S.COMPLETED)

    assert done.leg1.state is done.leg2.state is LegState.CLAIMED
    assert done.preimage == preimage
    claim = hub.store.swap_action(swap.id, "claim_leg1")
    assert claim is not None
    assert claim.tx_hash == done.leg1.claim_tx
    assert hub.clock.now() < done.leg1.timelock
    world.assert_settled(before, done, "completed")


def test_evm_native_for_devnet_asset_completes_with_both_claims_delegated(hub: Hub) -> None:
    world = make_world(hub)
    preimage, hashlock = new_secret()
    swap = evm_to_devnet(world, hashlock, alice_claims=True)
    before = world.snapshot(swap)
    swap = both_locked(world, hub, swap)

    validate_preimage(preimage, swap.hashlock)  # what POST /v1/swaps/{id}/claim checks
    hub.store.set_swap_preimage(swap.id, preimage, hub.clock.now())
    done = hub.drive(swap.id, S.COMPLETED)

    assert hub.store.swap_action(swap.id, "claim_leg2") is not None  # for Alice, on the devnet
    assert hub.store.swap_action(swap.id, "claim_leg1") is not None  # for Bob, on anvil
    world.assert_settled(before, done, "completed")
    history = [h.state for h in hub.store.swap_history(swap.id)]
    assert history[0] is S.PROPOSED
    assert history[-1] is S.COMPLETED
    assert S.RESPONDER_CLAIMED in history


# --- refunds ----------------------------------------------------------------------------


def test_responder_never_locks_and_the_initiator_is_refunded_after_t1(hub: Hub) -> None:
    world = make_world(hub)
    _, hashlock = new_secret()
    swap = devnet_to_evm(world, hashlock, asset=world.env.token.address)
    before = world.snapshot(swap)
    hub.step()
    lock_leg1(world, swap)
    hub.drive(swap.id, S.INITIATOR_LOCKED)

    hub.clock.advance(swap.leg2.timelock - int(hub.clock.now()) + DRIFT)  # T2 passes, no leg 2
    assert hub.drive(swap.id, S.INITIATOR_LOCKED, passes=2).leg1.state is LegState.LOCKED
    hub.clock.advance(swap.leg1.timelock - int(hub.clock.now()) + DRIFT)  # T1 passes
    done = hub.drive(swap.id, S.REFUNDED)

    assert done.leg1.state is LegState.REFUNDED
    assert done.leg2.state is LegState.PENDING
    assert hub.store.swap_action(swap.id, "refund_leg1") is not None
    world.assert_settled(before, done, "refunded")


def test_initiator_never_claims_and_both_legs_are_refunded(hub: Hub) -> None:
    world = make_world(hub)
    _, hashlock = new_secret()
    swap = evm_to_devnet(world, hashlock)
    before = world.snapshot(swap)
    swap = both_locked(world, hub, swap)

    hub.clock.advance(swap.leg2.timelock - int(hub.clock.now()) + DRIFT)
    hub.drive(swap.id, S.RESPONDER_REFUNDED)  # Bob's leg back at T2
    hub.clock.advance(swap.leg1.timelock - int(hub.clock.now()) + DRIFT)
    done = hub.drive(swap.id, S.REFUNDED)  # Alice's at T1

    assert done.leg1.state is done.leg2.state is LegState.REFUNDED
    world.assert_settled(before, done, "refunded")


def test_a_claim_after_the_timelock_is_rejected_on_chain_and_both_are_refunded(hub: Hub) -> None:
    world = make_world(hub)
    preimage, hashlock = new_secret()
    swap = devnet_to_evm(world, hashlock, asset=NATIVE_ASSET)
    before = world.snapshot(swap)
    swap = both_locked(world, hub, swap)

    hub.clock.advance(swap.leg2.timelock - int(hub.clock.now()) + DRIFT)
    reason = world.evm_revert_reason(world.alice, "claim", swap.leg2.lock_id, preimage)
    assert reason == "HTLC: timelock expired"
    hub.drive(swap.id, S.RESPONDER_REFUNDED)
    hub.clock.advance(swap.leg1.timelock - int(hub.clock.now()) + DRIFT)
    late = world.devnet_claim(world.bob, swap.leg1.lock_id, preimage)  # Bob, too late on A
    assert reason_of(late) == Reason.HTLC_EXPIRED
    done = hub.drive(swap.id, S.REFUNDED)

    world.assert_settled(before, done, "refunded")


# --- refusals ----------------------------------------------------------------------------


def test_a_wrong_preimage_is_rejected_by_both_chains_and_the_hub(hub: Hub) -> None:
    world = make_world(hub)
    preimage, hashlock = new_secret()
    wrong, _ = new_secret()
    swap = devnet_to_evm(world, hashlock, asset=world.env.token.address)
    before = world.snapshot(swap)
    swap = both_locked(world, hub, swap)

    with pytest.raises(WrongPreimage):
        validate_preimage(wrong, swap.hashlock)  # the hub refuses it for a delegated claim
    assert world.evm_revert_reason(world.alice, "claim", swap.leg2.lock_id, wrong) == (
        "HTLC: wrong preimage"
    )
    refused = world.devnet_claim(world.bob, swap.leg1.lock_id, wrong)
    assert reason_of(refused) == Reason.WRONG_PREIMAGE
    assert hub.drive(swap.id, S.RESPONDER_LOCKED, passes=1).preimage is None

    world.evm_claim(world.alice, swap.leg2.lock_id, preimage)
    done = hub.drive(swap.id, S.COMPLETED)
    world.assert_settled(before, done, "completed")


def test_a_hashlock_used_by_another_swap_is_refused_by_the_hub(hub: Hub) -> None:
    world = make_world(hub)
    preimage, hashlock = new_secret()
    first = devnet_to_evm(world, hashlock, asset=NATIVE_ASSET)
    before = world.snapshot(first)
    with pytest.raises(HashlockReused) as refused:
        evm_to_devnet(world, hashlock)  # same hashlock, other terms
    assert refused.value.code == "htlc-hashlock-reused"
    assert refused.value.http_status == 409
    assert [s.id for s in hub.store.list_swaps()[0]] == [first.id]

    first = both_locked(world, hub, first)  # the first swap is unaffected
    world.evm_claim(world.alice, first.leg2.lock_id, preimage)
    done = hub.drive(first.id, S.COMPLETED)
    with pytest.raises(HashlockReused):  # not even once the first is over
        evm_to_devnet(world, hashlock)
    world.assert_settled(before, done, "completed")


# --- crash and restart -------------------------------------------------------------------


class Crash(BaseException):
    """The relayer process dying: not an ``Exception``, so nothing in the relayer catches it."""


class CrashOnSubmit:
    """Wraps the hub's real adapter; its ``submit`` kills the process (before or after the
    node got the transaction). Only stands in for ``kill -9`` at an exact point."""

    def __init__(self, inner: object, *, after_send: bool) -> None:
        self._inner, self._after = inner, after_send

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    async def submit(self, action: object) -> bytes:
        if self._after:
            await self._inner.submit(action)  # type: ignore[attr-defined]
        raise Crash


@pytest.mark.parametrize("after_send", [False, True], ids=["before-send", "after-send"])
def test_relayer_killed_between_preimage_and_counter_claim_still_claims_once_after_restart(
    hub: Hub, after_send: bool
) -> None:
    world = make_world(hub)
    preimage, hashlock = new_secret()
    swap = devnet_to_evm(world, hashlock, asset=world.env.token.address)
    before = world.snapshot(swap)
    swap = both_locked(world, hub, swap)
    world.evm_claim(world.alice, swap.leg2.lock_id, preimage)

    real = hub.adapters[A_CHAIN]
    hub.adapters[A_CHAIN] = CrashOnSubmit(real, after_send=after_send)
    with pytest.raises(Crash):
        hub.step()  # sees the claim on anvil, journals the counter-claim, dies sending it
    journal = hub.store.swap_action(swap.id, "claim_leg1")
    assert journal is not None
    assert journal.tx_hash is None  # died before it could record the hash
    hub.adapters[A_CHAIN] = real

    hub.clock.advance(30)  # down for a while, still well before T1
    hub.restart()
    done = hub.drive(swap.id, S.COMPLETED)

    assert hub.clock.now() < done.leg1.timelock
    claims = [
        e
        for e in hub.run(hub.adapters[A_CHAIN].events(1, hub.devnet.node.tip.height))
        if e.kind is EventKind.HTLC_CLAIMED and e.attributes["htlc_id"] == done.leg1.lock_id
    ]
    assert len(claims) == 1
    assert hub.store.swap_action(swap.id, "claim_leg1#2") is None  # no second attempt
    world.assert_settled(before, done, "completed")


def test_the_relayer_runs_the_watchtower_as_its_second_pass(hub: Hub) -> None:
    from relayer.engine import Relayer

    world = make_world(hub)
    preimage, hashlock = new_secret()
    swap = devnet_to_evm(world, hashlock, asset=world.env.token.address)
    before = world.snapshot(swap)
    swap = both_locked(world, hub, swap)
    relayer = Relayer(hub.store, hub.adapters, worker_id="relayer-1", clock=hub.clock.now)
    assert relayer.swaps is not None

    world.evm_claim(world.alice, swap.leg2.lock_id, preimage)
    for _ in range(6):
        hub.run(relayer.run_once())
        hub.devnet.node.produce_block()
    done = hub.store.swap(swap.id)
    assert done.state is S.COMPLETED
    world.assert_settled(before, done, "completed")
