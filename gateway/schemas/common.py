"""Field types shared by the API's schemas: hex strings, amounts, names, address text.

Addresses are only shaped here (``AddressText``); their chain family checks and
normalizes them once the route names the family (``gateway.families``), so one
request schema serves every route.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

MAX_PAYLOAD_BYTES = 16 * 1024
"""A message payload's bound (bytes), what the source bridges accept comfortably."""
MAX_SIGNED_TX_BYTES = 128 * 1024
UINT256_LIMIT = 2**256
MAX_INT63 = 2**63 - 1

_HEX = re.compile(r"^(0x)?([0-9a-fA-F]{2})*$")
_DECIMAL = re.compile(r"^[0-9]{1,78}$")


def parse_hex(value: str, what: str = "value") -> bytes:
    """``0x``-prefixed (or bare) even-length hex to bytes; ``ValueError`` otherwise."""
    if not _HEX.fullmatch(value):
        raise ValueError(f"{what} must be even-length hex (0x-prefixed)")
    return bytes.fromhex(value.removeprefix("0x"))


def _hex_bounded(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        data = parse_hex(value)
        if len(data) > limit:
            raise ValueError(f"at most {limit} bytes")
        return "0x" + data.hex()

    return AfterValidator(check)


def decimal_below(bound: int) -> str:
    """A regular expression of the decimal strings (leading zeros allowed, at most as many
    digits as ``bound``) whose value is below ``bound``: the schema's form of the rule."""
    digits = str(bound)
    shorter = f"[0-9]{{1,{len(digits) - 1}}}" if len(digits) > 1 else None
    same_length = []
    for i, digit in enumerate(digits):
        if digit != "0":
            low = "0" if digit == "1" else f"[0-{int(digit) - 1}]"
            rest = len(digits) - i - 1
            same_length.append(digits[:i] + low + (f"[0-9]{{{rest}}}" if rest else ""))
    return "^(?:" + "|".join(filter(None, [shorter, *same_length])) + ")$"


UINT256_PATTERN = decimal_below(UINT256_LIMIT)


def _decimal_amount(value: str) -> str:
    if not _DECIMAL.fullmatch(value):
        raise ValueError("amount is a decimal string of digits")
    number = int(value)
    if number >= UINT256_LIMIT:
        raise ValueError("amount must be below 2**256")
    return str(number)


HexPayload = Annotated[
    str, Field(max_length=2 + 2 * MAX_PAYLOAD_BYTES), _hex_bounded(MAX_PAYLOAD_BYTES)
]
HexSignedTx = Annotated[
    str,
    Field(min_length=4, max_length=2 + 2 * MAX_SIGNED_TX_BYTES),
    _hex_bounded(MAX_SIGNED_TX_BYTES),
]
Hex32 = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{64}$"), AfterValidator(str.lower)]
Hex65 = Annotated[
    str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{130}$"), AfterValidator(str.lower)
]
DecimalAmount = Annotated[
    str,
    Field(min_length=1, max_length=78, pattern=UINT256_PATTERN),
    AfterValidator(_decimal_amount),
]
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")]
Denom = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9/:._-]{0,128}$")]
AddressText = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^\S+$")]
SignerAddress = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$")]
"""A secp256k1 signer's 20-byte address (a notary's key), whatever chain it signs for."""


__all__ = [
    "MAX_PAYLOAD_BYTES",
    "AddressText",
    "DecimalAmount",
    "Denom",
    "Hex32",
    "Hex65",
    "HexPayload",
    "HexSignedTx",
    "Name",
    "SignerAddress",
    "parse_hex",
]
