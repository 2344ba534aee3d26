"""``transfer``: move an amount of one denomination between two accounts."""

from __future__ import annotations

from devnet.modules.context import TxContext, as_address, as_amount, as_denom, unpack


def transfer(ctx: TxContext, args: object) -> None:
    """``[to (20), denom, amount]``; the sender must hold the amount."""
    to, denom, amount = unpack(args, ("to", "denom", "amount"), "transfer")
    receiver = as_address(to, "to")
    denomination = as_denom(denom)
    value = as_amount(amount)
    ctx.debit(ctx.sender, denomination, value)
    ctx.credit(receiver, denomination, value)
