"""m-of-n ECDSA (secp256k1) quorum certificates: the one rule set every notary check uses.

A certificate is a list of 65-byte ``r ‖ s ‖ v`` signatures over one 32-byte
digest. Three verifiers apply it with different knobs (:class:`Rules`):

* ``contracts/Bridge.sol`` (EVM destinations): ``v`` in {27, 28}, low ``s``,
  signers strictly increasing by address;
* ``devnet/modules/notary.py`` (Pujiang destinations): ``v`` in {27, 28}, low
  ``s``, any order, no member twice;
* Wormhole guardians (VAA v1, ``proofs.notary.wormhole``): ``v`` in {0, 1},
  each signature names its guardian index, indices strictly increasing.

:func:`validate_quorum` checks, in this order (cheapest first, as the contract does):

1. at least ``threshold`` signatures (``TooFewSignatures``);
2. per signature: 65 bytes and ``0 < r < n`` (``MalformedSignature``), ``s`` low
   when the rules ask (``HighS``), ``v`` allowed (``BadV``), with indices: the
   index is inside the set (``IndexOutOfRange``);
3. a public key recovers (``Unrecoverable``, libsecp256k1 through coincurve) and its
   address is a member, or the member at the named index (``NotMember``);
4. no member twice (``DuplicateSigner``), and the order the rules demand (``OutOfOrder``).

Any bad signature rejects the whole certificate, as on chain: a relayer must
not pad a certificate with junk. Pure: no I/O, no clock.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from coincurve import PrivateKey, PublicKey

from core.errors import InvalidInput, VerificationError
from proofs.hashing import keccak256
from proofs.notary.errors import (
    BadV,
    DuplicateSigner,
    HighS,
    IndexOutOfRange,
    MalformedSignature,
    NotMember,
    OutOfOrder,
    TooFewSignatures,
    Unrecoverable,
)

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = SECP256K1_N // 2
SIGNATURE_LENGTH = 65
DIGEST_LENGTH = 32
ADDRESS_LENGTH = 20

Address = bytes
"""A 20-byte Ethereum-style address: ``keccak256(x ‖ y)[12:]`` of the uncompressed key."""


@dataclass(frozen=True, slots=True)
class Rules:
    """How one verifier reads a certificate.

    ``v_base``: ``v`` must be ``v_base`` or ``v_base + 1``. ``low_s``: refuse
    ``s > n/2``. ``order``: ``"address"`` (signers strictly increasing),
    ``"index"`` (member indices strictly increasing) or ``"none"``.
    """

    v_base: int = 27
    low_s: bool = True
    order: Literal["none", "address", "index"] = "none"


EVM_BRIDGE = Rules(v_base=27, low_s=True, order="address")
"""``Bridge._verifyCertificate``."""
PUJIANG_BRIDGE = Rules(v_base=27, low_s=True, order="none")
"""``devnet.modules.notary.validate_certificate``."""
WORMHOLE = Rules(v_base=0, low_s=False, order="index")
"""Wormhole's core contract: ``ecrecover(digest, v + 27, r, s)`` at ascending guardian
indices. It does not refuse high ``s`` (ecrecover accepts both twins); indices make a
twin count once anyway, and a VAA is named by its body digest, not its signature bytes."""


def to_address(value: bytes | str) -> Address:
    """A member address from 20 bytes or ``0x`` hex (any case); ``InvalidInput`` otherwise."""
    if isinstance(value, str):
        text = value.removeprefix("0x").removeprefix("0X")
        try:
            value = bytes.fromhex(text)
        except ValueError as err:
            raise InvalidInput(f"{value!r:.50} is not a hex address") from err
    if not isinstance(value, bytes | bytearray) or len(value) != ADDRESS_LENGTH:
        raise InvalidInput("an address is 20 bytes")
    return bytes(value)


def address_of_public_key(key: PublicKey) -> Address:
    return keccak256(key.format(compressed=False)[1:])[12:]


def address_of_private_key(secret: bytes) -> Address:
    """The address a 32-byte secp256k1 secret signs as."""
    return address_of_public_key(PrivateKey(secret).public_key)


def sign(secret: bytes, digest: bytes) -> bytes:
    """``r ‖ s ‖ v`` over ``digest`` with low ``s`` (libsecp256k1 signs low) and ``v`` 27/28."""
    if len(digest) != DIGEST_LENGTH:
        raise InvalidInput("a digest is 32 bytes", field="digest")
    signature = PrivateKey(secret).sign_recoverable(digest, hasher=None)
    return signature[:64] + bytes([27 + signature[64]])


def recover(digest: bytes, signature: bytes, rules: Rules = PUJIANG_BRIDGE) -> Address:
    """The address that signed ``digest``, after the shape, ``s`` and ``v`` checks of ``rules``."""
    if len(digest) != DIGEST_LENGTH:
        raise InvalidInput("a digest is 32 bytes", field="digest")
    if not isinstance(signature, bytes | bytearray) or len(signature) != SIGNATURE_LENGTH:
        raise MalformedSignature("a signature is 65 bytes r ‖ s ‖ v")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if rules.low_s and s > HALF_N:
        raise HighS("signature s is in the upper half of the curve order (malleable)")
    if v not in (rules.v_base, rules.v_base + 1):
        raise BadV(f"signature v is {v}, not {rules.v_base} or {rules.v_base + 1}")
    if not 0 < r < SECP256K1_N or not 0 < s < SECP256K1_N:
        raise MalformedSignature("signature r or s is outside 1 .. n-1")
    try:
        key = PublicKey.from_signature_and_message(
            bytes(signature[:64]) + bytes([v - rules.v_base]), digest, hasher=None
        )
    except Exception as err:  # coincurve raises bare Exception/ValueError on failure
        raise Unrecoverable("no public key recovers from the signature") from err
    return address_of_public_key(key)


def _check_threshold(threshold: int, size: int) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not 1 <= threshold <= size:
        raise InvalidInput(f"a threshold is 1 .. {size} (the committee size), not {threshold!r}")


def validate_quorum(
    digest: bytes,
    signatures: Sequence[bytes],
    committee: Sequence[bytes | str],
    threshold: int,
    rules: Rules,
    *,
    indices: Sequence[int] | None = None,
) -> tuple[Address, ...]:
    """The signers (in signature order) when ``signatures`` are a quorum over ``digest``.

    ``indices`` (Wormhole): the member index each signature claims; the
    recovered address must be the member at that index. Raises the first
    failed check (module docstring).
    """
    members = [to_address(m) for m in committee]
    _check_threshold(threshold, len(members))
    if indices is not None and len(indices) != len(signatures):
        raise InvalidInput("one index per signature")
    if len(signatures) < threshold:
        raise TooFewSignatures(
            f"{len(signatures)} signatures, the committee needs {threshold}",
            signatures=len(signatures),
            threshold=threshold,
        )
    member_set = frozenset(members)
    signers: list[Address] = []
    previous: int | None = None  # the last address (as int) or index, for the order rule
    for position, signature in enumerate(signatures):
        index = indices[position] if indices is not None else None
        if index is not None and not 0 <= index < len(members):
            raise IndexOutOfRange(
                f"signature {position} names member {index} of a set of {len(members)}",
                position=position,
            )
        signer = recover(digest, signature, rules)
        expected_ok = signer == members[index] if index is not None else signer in member_set
        if not expected_ok:
            raise NotMember(
                f"signature {position} is by 0x{signer.hex()}, not a member"
                + (f" (member {index} is 0x{members[index].hex()})" if index is not None else ""),
                position=position,
            )
        if signer in signers:
            raise DuplicateSigner(f"member 0x{signer.hex()} signs twice", position=position)
        key = int.from_bytes(signer, "big") if rules.order == "address" else index
        if rules.order != "none" and previous is not None and key is not None and key <= previous:
            raise OutOfOrder(
                f"signature {position} breaks the strictly increasing {rules.order} order",
                position=position,
            )
        previous = key
        signers.append(signer)
    return tuple(signers)


def verify_ecdsa_quorum(
    digest: bytes,
    signatures: Sequence[bytes],
    committee: Sequence[bytes | str],
    threshold: int,
    *,
    ordered: bool = False,
) -> frozenset[Address]:
    """The signer set of a bridge certificate (``ordered=True``: the EVM bridge's rule).

    Raises the first failed check of :func:`validate_quorum`.
    """
    rules = EVM_BRIDGE if ordered else PUJIANG_BRIDGE
    return frozenset(validate_quorum(digest, signatures, committee, threshold, rules))


def is_ecdsa_quorum(
    digest: bytes,
    signatures: Sequence[bytes],
    committee: Sequence[bytes | str],
    threshold: int,
    *,
    ordered: bool = False,
) -> bool:
    """Whether :func:`verify_ecdsa_quorum` accepts (never raises on a bad certificate)."""
    try:
        verify_ecdsa_quorum(digest, signatures, committee, threshold, ordered=ordered)
    except VerificationError:
        return False
    return True


def order_by_signer(digest: bytes, signatures: Iterable[bytes]) -> list[bytes]:
    """Signatures sorted by the address each recovers to (the EVM bridge's order).

    ``DuplicateSigner`` when two recover to one address; the other checks stay
    the verifier's.
    """
    keyed = sorted(
        ((recover(digest, sig, PUJIANG_BRIDGE), bytes(sig)) for sig in signatures),
        key=lambda pair: pair[0],
    )
    for (a, _), (b, _) in itertools.pairwise(keyed):
        if a == b:
            raise DuplicateSigner(f"member 0x{a.hex()} signs twice")
    return [sig for _, sig in keyed]


__all__ = [
    "EVM_BRIDGE",
    "PUJIANG_BRIDGE",
    "WORMHOLE",
    "Address",
    "Rules",
    "address_of_private_key",
    "address_of_public_key",
    "is_ecdsa_quorum",
    "order_by_signer",
    "recover",
    "sign",
    "to_address",
    "validate_quorum",
    "verify_ecdsa_quorum",
]
