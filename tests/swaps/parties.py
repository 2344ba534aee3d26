"""What Alice and Bob do with their own keys (lock, claim), and the balance ledger that
checks every test ends in exactly one of the two allowed outcomes."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field

from core.ids import ChainId
from core.swaps import NATIVE_ASSET, NewSwap, NewSwapLeg, SwapRecord
from proofs.htlc.rules import validate_terms
from relayer.swaps import swap_timing
from tests.evm.chain import Receipt
from tests.fixtures.anvil import Env
from tests.fixtures.devnet_chain import Chain as Devnet
from tests.swaps.helpers import A_CHAIN, B_CHAIN, POLICY, Hub, evm_fee

Key = tuple[ChainId, str, str]  # (chain, address, asset)


def new_secret() -> tuple[bytes, bytes]:
    """A fresh 32-byte preimage and its sha256 hashlock."""
    preimage = os.urandom(32)
    return preimage, hashlib.sha256(preimage).digest()


def devnet_address(devnet: Devnet, who: int) -> str:
    return "0x" + devnet.address(who).hex()


@dataclass
class Party:
    """One person's addresses on both chains and the EVM fees they paid."""

    devnet_index: int
    evm: str
    fees: Counter[str] = field(default_factory=Counter)


@dataclass
class World:
    """The chains and the two parties, as the tests act on them."""

    hub: Hub
    alice: Party
    bob: Party

    @property
    def env(self) -> Env:
        return self.hub.env

    @property
    def devnet(self) -> Devnet:
        return self.hub.devnet

    # --- proposing --------------------------------------------------------------------

    def propose(self, leg1: NewSwapLeg, leg2: NewSwapLeg, hashlock: bytes) -> SwapRecord:
        """What ``POST /v1/swaps`` does: check the terms, store the swap."""
        new = NewSwap(hashlock=hashlock, leg1=leg1, leg2=leg2)
        adapters = self.hub.adapters
        timing = swap_timing(adapters[leg1.chain_id], adapters[leg2.chain_id], POLICY)
        validate_terms(new, self.hub.clock.now(), timing)
        record, created = self.hub.store.create_swap(new, self.hub.clock.now())
        assert created
        return record

    # --- Pujiang devnet ---------------------------------------------------------------

    def devnet_lock(
        self, who: Party, receiver: Party, denom: str, amount: int, hashlock: bytes, timelock: int
    ) -> bytes:
        args = [self.devnet.address(receiver.devnet_index), denom.encode(), amount, hashlock,
                timelock * 1000]  # fmt: skip
        receipt = self.devnet.run1(who.devnet_index, "htlc_lock", args)  # type: ignore[arg-type]
        assert receipt["status"] == "committed", receipt
        event = receipt["events"][0]  # type: ignore[index]
        return bytes.fromhex(event["attributes"]["htlc_id"][2:])

    def devnet_claim(self, who: Party, lock_id: bytes, preimage: bytes) -> dict[str, object]:
        return self.devnet.run1(who.devnet_index, "htlc_claim", [lock_id, preimage])

    # --- anvil --------------------------------------------------------------------------

    def _pay(self, who: Party, receipt: Receipt) -> Receipt:
        who.fees[who.evm] += evm_fee(self.env, receipt)
        return receipt

    def evm_lock(
        self, who: Party, receiver: Party, asset: str, amount: int, hashlock: bytes, timelock: int
    ) -> bytes:
        env = self.env
        if asset == NATIVE_ASSET:
            token, value = "0x" + "00" * 20, amount
        else:
            token, value = asset, 0
            self._pay(who, env.token.transact("approve", env.htlc.address, amount, sender=who.evm))
        receipt = self._pay(
            who,
            env.htlc.transact("lock", receiver.evm, hashlock, timelock, token, amount,
                              sender=who.evm, value=value),
        )  # fmt: skip
        (event,) = receipt.named("Locked")
        return bytes(event.args["id"])

    def evm_claim(self, who: Party, lock_id: bytes, preimage: bytes) -> None:
        self._pay(who, self.env.htlc.transact("claim", lock_id, preimage, sender=who.evm))

    def evm_revert_reason(self, who: Party, fn: str, *args: object) -> str:
        before = self.env.chain.balance(who.evm)
        reason = self.env.htlc.revert_reason(fn, *args, sender=who.evm)
        who.fees[who.evm] += before - self.env.chain.balance(who.evm)  # the failed tx's gas
        return reason

    # --- the ledger ---------------------------------------------------------------------

    def balance(self, key: Key) -> int:
        chain, who, asset = key
        if chain == A_CHAIN:
            return self.devnet.balance(bytes.fromhex(who[2:]), asset)
        if asset == NATIVE_ASSET:
            return self.env.chain.balance(who)
        return int(self.env.token.view("balanceOf", who))

    def keys(self, swap: SwapRecord) -> set[Key]:
        found = {(B_CHAIN, p.evm, NATIVE_ASSET) for p in (self.alice, self.bob)}
        for leg in swap.legs:
            found |= {
                (leg.chain_id, leg.sender, leg.asset),
                (leg.chain_id, leg.receiver, leg.asset),
            }
        return found

    def snapshot(self, swap: SwapRecord) -> dict[Key, int]:
        return {key: self.balance(key) for key in self.keys(swap)}

    def expected(self, before: dict[Key, int], swap: SwapRecord, outcome: str) -> dict[Key, int]:
        out = dict(before)
        for party in (self.alice, self.bob):
            out[(B_CHAIN, party.evm, NATIVE_ASSET)] -= party.fees[party.evm]
        if outcome == "completed":
            for leg in swap.legs:
                out[(leg.chain_id, leg.sender, leg.asset)] -= leg.amount
                out[(leg.chain_id, leg.receiver, leg.asset)] += leg.amount
        return out

    def assert_settled(self, before: dict[Key, int], swap: SwapRecord, outcome: str) -> None:
        """Each party's balances equal exactly one allowed outcome: this one."""
        after = self.snapshot(swap)
        both_done = self.expected(before, swap, "completed")
        both_refunded = self.expected(before, swap, "refunded")
        assert [after == both_done, after == both_refunded].count(True) == 1, after
        assert after == (both_done if outcome == "completed" else both_refunded)


def make_world(hub: Hub) -> World:
    env = hub.env
    return World(hub, Party(0, env.alice.lower()), Party(1, env.bob.lower()))


def leg(
    chain: ChainId, asset: str, amount: int, sender: str, receiver: str, timelock: int, **kw: bool
) -> NewSwapLeg:
    return NewSwapLeg(chain, asset, amount, sender, receiver, timelock, **kw)
