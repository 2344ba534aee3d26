"""Gas and fees for outgoing transactions, with hard caps the hub never exceeds.

Why caps: a relayer that pays whatever the node suggests can be drained by a
fee spike or a misbehaving node. Every quote is checked against the
operator's caps *before* a nonce is taken or anything is signed; above a cap
the transaction is refused with ``ChainRejected`` (``details["check"]`` is
``"fee-cap"``, ``"priority-fee-cap"`` or ``"gas-cap"``) and nothing is sent.

EIP-1559 chains get ``maxFeePerGas = baseFee × multiplier + tip`` with the
tip from ``eth_maxPriorityFeePerGas`` (clamped to its cap; the configured
default when the node has no opinion). Chains without ``baseFeePerGas`` get a
legacy ``gasPrice`` from ``eth_gasPrice``, under the same cap. A quote is
reused for ``quote_ttl`` seconds so that a burst of transactions costs one
fee read, not one per transaction.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from adapters.evm.scanner import Reader
from core.errors import ChainRejected, ChainUnavailable, InvalidInput


@dataclass(frozen=True, slots=True)
class FeeLimits:
    """The caps and margins of one chain (from ``EvmChainSettings``)."""

    max_fee_per_gas_cap: int
    max_priority_fee_cap: int
    default_priority_fee: int
    base_fee_multiplier: int = 2
    gas_limit_multiplier: float = 1.25
    max_gas_per_tx: int = 10_000_000
    quote_ttl: float = 1.0


@dataclass(frozen=True, slots=True)
class FeeQuote:
    """What one transaction offers to pay per gas.

    ``gas_price`` is set on legacy chains (no base fee); otherwise the two
    EIP-1559 fields are.
    """

    base_fee: int | None
    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    gas_price: int | None = None

    def tx_fields(self) -> dict[str, int]:
        """The fee fields of an eth-account transaction dict."""
        if self.gas_price is not None:
            return {"gasPrice": self.gas_price}
        if self.max_fee_per_gas is None or self.max_priority_fee_per_gas is None:
            raise InvalidInput("a fee quote needs a gas price or both EIP-1559 fees")
        return {
            "maxFeePerGas": self.max_fee_per_gas,
            "maxPriorityFeePerGas": self.max_priority_fee_per_gas,
            "type": 2,
        }

    @property
    def price_ceiling(self) -> int:
        """The most one gas can cost under this quote."""
        return self.gas_price if self.gas_price is not None else self.max_fee_per_gas or 0


class FeeOracle:
    """Quotes fees and estimates gas for one chain, enforcing ``FeeLimits``."""

    def __init__(
        self,
        reader: Reader,
        limits: FeeLimits,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = reader
        self.limits = limits
        self._clock = clock
        self._cached: tuple[float, FeeQuote] | None = None
        self._refreshing: asyncio.Task[FeeQuote] | None = None

    async def quote(self) -> FeeQuote:
        """A capped fee quote, reused for ``quote_ttl`` seconds (one refresh at a time)."""
        now = self._clock()
        if self._cached is not None and now - self._cached[0] < self.limits.quote_ttl:
            return self._cached[1]
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.ensure_future(self._fresh_quote())
        quote = await asyncio.shield(self._refreshing)
        self._cached = (now, quote)
        return quote

    def forget(self) -> None:
        """Drop the cached quote (after the node said a transaction is underpriced)."""
        self._cached = None

    async def _fresh_quote(self) -> FeeQuote:
        block, suggested = await self._reader.batch(
            [("eth_getBlockByNumber", ["latest", False]), ("eth_maxPriorityFeePerGas", [])],
            strict=False,
        )
        if not isinstance(block, Mapping):
            raise ChainUnavailable("fees: the node returned no latest block")
        base_fee_hex = block.get("baseFeePerGas")
        if base_fee_hex is None:
            price = _quantity(await self._reader.call("eth_gasPrice"), "eth_gasPrice")
            return check_quote(FeeQuote(base_fee=None, gas_price=price), self.limits)
        base_fee = _quantity(base_fee_hex, "baseFeePerGas")
        if isinstance(suggested, str):
            tip = min(
                _quantity(suggested, "eth_maxPriorityFeePerGas"), self.limits.max_priority_fee_cap
            )
        else:  # not supported by this node (a ChainRejected in the batch)
            tip = self.limits.default_priority_fee
        quote = FeeQuote(
            base_fee=base_fee,
            max_fee_per_gas=base_fee * self.limits.base_fee_multiplier + tip,
            max_priority_fee_per_gas=tip,
        )
        return check_quote(quote, self.limits)

    async def estimate_gas(self, tx: Mapping[str, Any]) -> int:
        """``eth_estimateGas`` with the safety margin, refused above ``max_gas_per_tx``.

        A transaction that would revert raises the node's ``ChainRejected``
        (with the decoded reason) here, before any nonce is used.
        """
        estimate = _quantity(await self._reader.call("eth_estimateGas", _rpc_tx(tx)), "gas")
        return self.margin(estimate)

    async def runs_within(self, tx: Mapping[str, Any], gas: int) -> bool:
        """Whether ``tx`` runs without reverting when given ``gas``: one ``eth_call`` on the
        pending state (so a root sent just before counts, as it does for the estimate).
        A node that cannot be reached raises; a revert is ``False``."""
        try:
            await self._reader.call("eth_call", _rpc_tx({**tx, "gas": gas}), "pending")
        except ChainRejected:
            return False
        return True

    async def estimate_many(self, txs: list[Mapping[str, Any]]) -> list[int | ChainRejected]:
        """Gas for several transactions in one batch; a reverting one gives its error."""
        answers = await self._reader.batch(
            [("eth_estimateGas", [_rpc_tx(tx)]) for tx in txs], strict=False
        )
        out: list[int | ChainRejected] = []
        for answer in answers:
            if isinstance(answer, ChainRejected):
                out.append(answer)
                continue
            try:
                out.append(self.margin(_quantity(answer, "gas")))
            except ChainRejected as err:
                out.append(err)
        return out

    def margin(self, estimate: int) -> int:
        """``estimate`` times the margin, checked against ``max_gas_per_tx``."""
        gas = math.ceil(estimate * self.limits.gas_limit_multiplier)
        return check_gas(gas, self.limits)


def check_gas(gas: int, limits: FeeLimits) -> int:
    """``gas`` unless it is above ``max_gas_per_tx`` (then ``ChainRejected``, ``gas-cap``)."""
    if gas > limits.max_gas_per_tx:
        raise ChainRejected(
            f"refused to send: the transaction needs {gas} gas, above the cap of "
            f"{limits.max_gas_per_tx}",
            check="gas-cap",
            gas=gas,
            cap=limits.max_gas_per_tx,
        )
    return gas


def check_quote(quote: FeeQuote, limits: FeeLimits) -> FeeQuote:
    """``quote`` unless a price is above its cap (then ``ChainRejected``; nothing is sent)."""
    ceiling = quote.price_ceiling
    if ceiling > limits.max_fee_per_gas_cap:
        raise ChainRejected(
            f"refused to send: fee of {ceiling} wei per gas is above the cap of "
            f"{limits.max_fee_per_gas_cap} wei (base fee {quote.base_fee})",
            check="fee-cap",
            max_fee_per_gas=ceiling,
            cap=limits.max_fee_per_gas_cap,
        )
    tip = quote.max_priority_fee_per_gas
    if tip is not None and tip > limits.max_priority_fee_cap:
        raise ChainRejected(
            f"refused to send: tip of {tip} wei per gas is above the cap of "
            f"{limits.max_priority_fee_cap} wei",
            check="priority-fee-cap",
            max_priority_fee_per_gas=tip,
            cap=limits.max_priority_fee_cap,
        )
    return quote


def _quantity(value: object, what: str) -> int:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) < 3:
        raise ChainUnavailable(f"{what}: the node answered {value!r:.40}, not a hex quantity")
    try:
        return int(value, 16)
    except ValueError as err:
        raise ChainUnavailable(f"{what}: the node answered a malformed quantity") from err


def _rpc_tx(tx: Mapping[str, Any]) -> dict[str, Any]:
    """A call object for ``eth_estimateGas``/``eth_call`` (ints as hex, bytes as 0x-hex)."""
    out: dict[str, Any] = {}
    for key, value in tx.items():
        if isinstance(value, bool):
            raise TypeError(f"{key} cannot be a bool")
        if isinstance(value, int):
            out[key] = hex(value)
        elif isinstance(value, bytes):
            out[key] = "0x" + value.hex()
        else:
            out[key] = value
    return out
