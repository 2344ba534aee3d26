"""The parent chain from a trusted checkpoint.

A light client that trusts one header (the checkpoint) trusts a later header
only through an unbroken chain of parent hashes. :func:`validate_header_chain`
checks each link and the two cheap consistency rules every EVM chain obeys:
heights go up by exactly one and timestamps strictly increase.

:class:`HeaderRules` adds optional, chain-specific header-only checks
(Ethereum's 32-byte extra-data limit, gas-limit bounds, post-merge constants,
the EIP-1559 base fee). They are opt-in because consortium chains differ: a
QBFT chain carries hundreds of bytes of extra data and difficulty 1.

What no header-only check can see (SECURITY): a wrong state, receipts or
transactions root, gas used or logs bloom. Those need the block body or its
execution; a light client relies on the finality policy (validators, sync
committee, confirmations) for them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from core.errors import InvalidHeader, RootMismatch
from proofs.evm.header import EMPTY_OMMERS_HASH, EvmHeader, compute_header_hash

HeaderHasher = Callable[[EvmHeader], bytes]
"""How a chain hashes its headers (``compute_header_hash``, or the BFT on-chain hash)."""

ELASTICITY_MULTIPLIER: Final = 2
BASE_FEE_MAX_CHANGE_DENOMINATOR: Final = 8
GAS_LIMIT_BOUND_DIVISOR: Final = 1024
MIN_GAS_LIMIT: Final = 5000
MAX_EXTRA_DATA_BYTES: Final = 32
ZERO_NONCE: Final = bytes(8)


@dataclass(frozen=True, slots=True)
class HeaderRules:
    """Optional header-only rules checked on each link (all off by default).

    * ``max_extra_data``: maximum ``extraData`` length (32 on Ethereum).
    * ``check_gas``: ``gasUsed <= gasLimit``, ``gasLimit >= 5000`` and the
      parent bound ``|gasLimit - parent.gasLimit| < parent.gasLimit // 1024``.
    * ``post_merge``: difficulty 0, nonce 0 and the empty ommers hash (the
      Paris rules, EIP-3675).
    * ``check_base_fee``: ``baseFeePerGas`` equals the EIP-1559 value computed
      from the parent (only between two London-or-later headers).
    """

    max_extra_data: int | None = None
    check_gas: bool = False
    post_merge: bool = False
    check_base_fee: bool = False


ETHEREUM_POST_MERGE_RULES: Final = HeaderRules(
    max_extra_data=MAX_EXTRA_DATA_BYTES, check_gas=True, post_merge=True, check_base_fee=True
)
"""The header-only rules of Ethereum mainnet and its testnets after the merge."""


def _chain_error(message: str, height: int, check: str, **details: object) -> InvalidHeader:
    return InvalidHeader(message, height=height, check=check, **details)


def compute_base_fee(parent: EvmHeader) -> int:
    """The EIP-1559 base fee of the child of ``parent`` (a London-or-later header)."""
    if parent.base_fee_per_gas is None:
        raise InvalidHeader(
            f"header {parent.number} predates London: no base fee to derive from",
            height=parent.number,
            check="base-fee",
        )
    base_fee = parent.base_fee_per_gas
    target = parent.gas_limit // ELASTICITY_MULTIPLIER
    if target == 0 or parent.gas_used == target:
        return base_fee
    if parent.gas_used > target:
        delta = base_fee * (parent.gas_used - target) // target // BASE_FEE_MAX_CHANGE_DENOMINATOR
        return base_fee + max(delta, 1)
    delta = base_fee * (target - parent.gas_used) // target // BASE_FEE_MAX_CHANGE_DENOMINATOR
    return base_fee - delta


def validate_header_rules(parent: EvmHeader, header: EvmHeader, rules: HeaderRules) -> None:
    """Raise ``InvalidHeader`` (``details['check']`` names the rule) on the first broken rule.

    Checks, in order: extra-data length, post-merge constants (difficulty,
    nonce, ommers), gas used and gas-limit bounds, base fee.
    """
    height = header.number
    if rules.max_extra_data is not None and len(header.extra_data) > rules.max_extra_data:
        raise _chain_error(
            f"header {height}: extraData is {len(header.extra_data)} bytes "
            f"(max {rules.max_extra_data})",
            height,
            "extra-data",
        )
    if rules.post_merge:
        if header.difficulty != 0:
            raise _chain_error(f"header {height}: difficulty must be 0", height, "difficulty")
        if header.nonce != ZERO_NONCE:
            raise _chain_error(f"header {height}: nonce must be 0", height, "nonce")
        if header.ommers_hash != EMPTY_OMMERS_HASH:
            raise _chain_error(f"header {height}: ommers are not allowed", height, "ommers")
    if rules.check_gas:
        if header.gas_used > header.gas_limit:
            raise _chain_error(f"header {height}: gasUsed exceeds gasLimit", height, "gas-used")
        bound = parent.gas_limit // GAS_LIMIT_BOUND_DIVISOR
        if header.gas_limit < MIN_GAS_LIMIT or abs(header.gas_limit - parent.gas_limit) >= bound:
            raise _chain_error(
                f"header {height}: gasLimit {header.gas_limit} outside the bound of parent "
                f"gasLimit {parent.gas_limit}",
                height,
                "gas-limit",
            )
    if rules.check_base_fee and parent.base_fee_per_gas is not None:
        expected = compute_base_fee(parent)
        if header.base_fee_per_gas != expected:
            raise _chain_error(
                f"header {height}: baseFeePerGas {header.base_fee_per_gas}, expected {expected}",
                height,
                "base-fee",
            )


def validate_header_link(
    parent: EvmHeader,
    header: EvmHeader,
    *,
    hasher: HeaderHasher = compute_header_hash,
    rules: HeaderRules | None = None,
) -> None:
    """Check that ``header`` is the child of the (trusted) ``parent``.

    Checks, in order (cheapest first):

    1. height continuity: ``header.number == parent.number + 1``
       (``InvalidHeader``, ``check='number'``);
    2. timestamps strictly increase (``InvalidHeader``, ``check='timestamp'``);
    3. ``header.parent_hash == hasher(parent)`` (``RootMismatch``, ``check='parent-hash'``);
    4. the optional ``rules`` (:func:`validate_header_rules`).
    """
    height = header.number
    if height != parent.number + 1:
        raise _chain_error(
            f"header {height} does not follow header {parent.number}",
            height,
            "number",
            expected=parent.number + 1,
        )
    if header.timestamp <= parent.timestamp:
        raise _chain_error(
            f"header {height}: timestamp {header.timestamp} is not after its parent's "
            f"{parent.timestamp}",
            height,
            "timestamp",
        )
    parent_hash = hasher(parent)
    if header.parent_hash != parent_hash:
        raise RootMismatch(
            f"header {height}: parentHash 0x{header.parent_hash.hex()} is not the hash of "
            f"header {parent.number} (0x{parent_hash.hex()})",
            height=height,
            check="parent-hash",
            expected="0x" + parent_hash.hex(),
        )
    if rules is not None:
        validate_header_rules(parent, header, rules)


def validate_header_chain(
    trusted_checkpoint: EvmHeader,
    headers: Sequence[EvmHeader],
    *,
    hasher: HeaderHasher = compute_header_hash,
    rules: HeaderRules | None = None,
) -> EvmHeader:
    """Check that ``headers`` extend ``trusted_checkpoint`` link by link; return the last.

    ``headers`` are in ascending order, the first being the checkpoint's
    child. Each link is checked with :func:`validate_header_link`; the first
    failure raises, naming the failing height in its message and in
    ``details['height']``. An empty ``headers`` returns the checkpoint.

    SECURITY: this proves the headers descend from the checkpoint, not that
    they are final; apply a :class:`~proofs.evm.finality.FinalityPolicy` next.
    CONTRACT: ``trusted_checkpoint`` was obtained out of band (configuration,
    a previous verification) and is trusted as is.
    """
    parent = trusted_checkpoint
    for header in headers:
        validate_header_link(parent, header, hasher=hasher, rules=rules)
        parent = header
    return parent
