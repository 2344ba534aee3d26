"""A signer pool for one EVM chain: several sending accounts, each with its own nonces.

Why: one account serialises every delivery behind one nonce sequence, so one
stuck transaction (underpriced when the base fee rose) stalls the whole chain's
deliveries, and a drained account surfaces only as failed sends. With a pool:

* transactions are spread over the accounts (the one with the fewest
  transactions in flight that can pay for this one); each account has its own
  ``NonceManager``, so a gap or a stuck nonce stalls only that account;
* every transaction sent is remembered in flight (nonce, fees, signed bytes)
  until a receipt shows it mined; one not mined ``replace_after`` seconds after
  it was sent is replaced: same nonce, both fees raised by ``fee_bump_percent``
  (geth and anvil refuse a replacement below +10 % on each; the default is
  12.5 %) or to the current quote if that is higher, never above the chain's
  fee caps. A transaction already at the cap stays as it is (and is logged);
* balances are read on a schedule (``maintain``): an account under
  ``balance_alarm_wei`` raises the alarm (a log line at the transition, the
  ``pjgw_signer_balance_wei``/``pjgw_signer_low_balance`` figures through
  ``SignerHealth``, ``/readyz`` degraded), and an account whose balance cannot
  pay a transaction's worst-case cost (gas × max fee) is not picked for it; when
  no account can, the send is refused with ``SignerEmpty`` naming the addresses.

The pool only keeps this bookkeeping; the adapter signs and sends. Nothing
here holds key material: an account has its ``core.seams.Signer``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from adapters.evm.fees import FeeQuote
from adapters.evm.nonces import NonceManager
from core.errors import ChainRejected
from core.seams import Signer

log = logging.getLogger(__name__)


class SignerEmpty(ChainRejected):
    """No account of the pool can pay for the transaction (balance below its worst-case cost).

    Retryable: the transfer waits (and the alarm is up) until an operator tops
    an account up; nothing was signed or sent.
    """

    code = "signer-empty"
    retryable = True


@dataclass(slots=True)
class InFlight:
    """A transaction sent and not yet seen mined (what a replacement re-signs)."""

    key: str
    nonce: int
    call: object  # the adapter's _Call
    gas: int
    quote: FeeQuote
    tx_hash: bytes  # the latest (a replacement's after a fee bump)
    first_hash: bytes  # what the caller was given (and journaled)
    sent_at: float  # monotonic seconds, of the latest
    address: str  # the sending account
    replacements: int = 0
    hashes: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.hashes:
            self.hashes = [self.tx_hash]


@dataclass(slots=True)
class PoolAccount:
    """One sending account: its signer, its nonces, its last balance, its transactions in flight."""

    signer: Signer
    address: str  # checksummed
    nonces: NonceManager
    balance: int | None = None
    low: bool = False
    in_flight: dict[int, InFlight] = field(default_factory=dict)
    retiring: bool = False
    """Being rotated out: no new nonce is taken on it; removed once its sends are mined."""

    @property
    def load(self) -> int:
        return len(self.in_flight) + len(self.nonces.outstanding)

    def can_pay(self, cost: int) -> bool:
        """Unknown balance (not read yet) counts as able: the node refuses if not."""
        return self.balance is None or self.balance >= cost


class SignerPool:
    """The accounts of one chain and the rules above (see the module docstring)."""

    def __init__(
        self,
        chain: str,
        accounts: Sequence[PoolAccount],
        *,
        alarm_wei: int,
        bump_percent: float,
        replace_after: float,
    ) -> None:
        self.chain = chain
        self.accounts = list(accounts)
        self.alarm_wei = alarm_wei
        self.bump_percent = bump_percent
        self.replace_after = replace_after
        self.replaced = 0
        self._next = 0

    def __bool__(self) -> bool:
        return bool(self.accounts)

    def by_address(self, address: str) -> PoolAccount | None:
        return next((a for a in self.accounts if a.address == address), None)

    def active(self) -> list[PoolAccount]:
        """The accounts new transactions may use (not retiring)."""
        return [a for a in self.accounts if not a.retiring]

    def add(self, account: PoolAccount) -> None:
        """A new account (a key rotation): it takes new sends at once."""
        if self.by_address(account.address) is not None:
            raise ValueError(f"signer {account.address} is already in the pool")
        self.accounts.append(account)
        log.info("signer %s on %s joins the pool", account.address, self.chain)

    def retire(self, address: str) -> bool:
        """Stop giving ``address`` new nonces; False when it is not in the pool."""
        account = self.by_address(address)
        if account is None:
            return False
        if not account.retiring:
            account.retiring = True
            log.info(
                "signer %s on %s retires: no new sends, %d still in flight",
                address,
                self.chain,
                account.load,
            )
        return True

    def drop_drained(self) -> list[PoolAccount]:
        """Remove the retiring accounts with nothing in flight; those removed."""
        drained = [a for a in self.accounts if a.retiring and a.load == 0]
        for account in drained:
            self.accounts.remove(account)
            log.info("signer %s on %s drained and removed", account.address, self.chain)
        return drained

    def pick(self, cost: int) -> PoolAccount:
        """The least-loaded account that can pay ``cost`` wei (ties: round robin)."""
        able = [a for a in self.active() if a.can_pay(cost)]
        if not able:
            raise SignerEmpty(
                f"refused to send on {self.chain}: no signer can pay {cost} wei "
                + ", ".join(f"{a.address} holds {a.balance} wei" for a in self.accounts),
                check="signer-empty",
                cost=cost,
            )
        start = self._next % len(self.accounts)
        self._next += 1
        ordered = sorted(
            able, key=lambda a: (a.load, (self.accounts.index(a) - start) % len(self.accounts))
        )
        return ordered[0]

    def spread(self, count: int, cost: int) -> list[PoolAccount]:
        """An account for each of ``count`` transactions of ``cost`` wei, evenly by load."""
        able = [a for a in self.active() if a.can_pay(cost)]
        if not able:
            self.pick(cost)  # raises SignerEmpty with the figures
        loads = {id(a): a.load for a in able}
        out = []
        for _ in range(count):
            account = min(able, key=lambda a: loads[id(a)])
            loads[id(account)] += 1
            out.append(account)
        return out

    def record_balance(self, account: PoolAccount, balance: int) -> None:
        """A scheduled read: keep it, and raise or clear the alarm at the transition."""
        account.balance = balance
        low = balance < self.alarm_wei
        if low and not account.low:
            log.warning(
                "signer %s on %s is low: %d wei, alarm below %d wei",
                account.address,
                self.chain,
                balance,
                self.alarm_wei,
            )
        elif account.low and not low:
            log.info("signer %s on %s is funded: %d wei", account.address, self.chain, balance)
        account.low = low

    def alarms(self) -> list[str]:
        return [
            f"{self.chain} signer {a.address}: balance {a.balance} wei below {self.alarm_wei}"
            for a in self.accounts
            if a.low
        ]

    def balances(self) -> dict[str, int | None]:
        return {a.address: a.balance for a in self.accounts}

    def bumped(self, old: FeeQuote, fresh: FeeQuote, cap: int, tip_cap: int) -> FeeQuote | None:
        """The fees of a replacement, or None when ``old`` is at the cap already.

        Each fee is raised by ``bump_percent`` (rounded up: nodes compare
        ``new >= old * 110 / 100`` in integers) or to the fresh quote's, the
        higher; then capped. A result that is not a full bump over ``old`` (the
        cap bit) is None: the node would refuse it as underpriced.
        """
        factor = 1 + self.bump_percent / 100

        def up(value: int, floor: int, limit: int) -> int:
            return min(max(math.ceil(value * factor), floor), limit)

        def enough(new: int, value: int) -> bool:
            return new * 100 >= value * 110 and (new > value or value == 0)

        if old.gas_price is not None:
            price = up(old.gas_price, fresh.gas_price or 0, cap)
            return FeeQuote(old.base_fee, gas_price=price) if enough(price, old.gas_price) else None
        old_fee, old_tip = old.max_fee_per_gas or 0, old.max_priority_fee_per_gas or 0
        tip = up(old_tip, fresh.max_priority_fee_per_gas or 0, tip_cap)
        fee = max(up(old_fee, fresh.max_fee_per_gas or 0, cap), tip)
        if fee > cap or not (enough(fee, old_fee) and enough(tip, old_tip)):
            return None
        return FeeQuote(fresh.base_fee, max_fee_per_gas=fee, max_priority_fee_per_gas=tip)


__all__ = ["InFlight", "PoolAccount", "SignerEmpty", "SignerPool"]
