"""Notary certificates: the quorum the devnet's bridge trusts for foreign packets.

A certificate is ``rlp([[signature, ...]])`` (``codec.Certificate``), each
signature 65 bytes ``r ‖ s ‖ v`` over a 32-byte digest
(``codec.compute_packet_digest`` or ``compute_nondelivery_digest``). The
committee (``notaries`` state entry: ``rlp([threshold, [address, ...], epoch])``;
an entry without ``epoch``, as every genesis so far wrote it, is epoch 1)
names members by Ethereum-style address, ``keccak256(x ‖ y)[12:]`` of the
uncompressed secp256k1 key, so one notary key serves both the EVM bridge and
Pujiang subchains.

``validate_certificate`` checks, in order, cheapest first:

1. the certificate decodes and holds at least ``threshold`` signatures;
2. for each signature: ``v`` is 27 or 28, ``0 < r < n`` and ``0 < s <= n/2``
   (low s: no malleated twin counts twice);
3. the public key recovers (libsecp256k1 through coincurve) and its address is
   a member;
4. no member signs twice.

Any bad signature rejects the whole certificate (a relayer must not pad one
with junk). SECURITY: the devnet trusts any packet a quorum of its committee
signs; the notaries are the ones who run light clients of the source chain.
"""

from __future__ import annotations

from typing import cast

import rlp
from coincurve import PublicKey

from devnet.modules.context import as_serializable
from devnet.state import NOTARIES_KEY, Reader
from devnet.txs import Reason, TxRejected
from proofs.hashing import keccak256
from proofs.pujiang import codec

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = SECP256K1_N // 2


def read_committee(state: Reader) -> tuple[int, frozenset[bytes]]:
    """``(threshold, members)`` from the ``notaries`` entry."""
    threshold, members, _ = _committee_entry(state)
    return threshold, members


def read_committee_epoch(state: Reader) -> int:
    """The committee's epoch (1 for an entry of the two-item form)."""
    return _committee_entry(state)[2]


def _committee_entry(state: Reader) -> tuple[int, frozenset[bytes], int]:
    value = state.get(NOTARIES_KEY)
    if value is None:
        raise TxRejected(Reason.BAD_CERTIFICATE, "this chain has no notary committee")
    items = rlp.decode(value)
    threshold, members = items[0], items[1]
    epoch = codec.raw_int(items[2], "epoch") if len(items) > 2 else 1
    return codec.raw_int(threshold, "threshold"), frozenset(members), epoch


def recover_address(signature: bytes, digest: bytes) -> bytes:
    """The signer's address; ``TxRejected`` for a malformed, high-s or unrecoverable one."""
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if v not in (27, 28):
        raise TxRejected(Reason.BAD_CERTIFICATE, f"signature v is {v}, not 27 or 28")
    if not 0 < r < SECP256K1_N:
        raise TxRejected(Reason.BAD_CERTIFICATE, "signature r is outside 1 .. n-1")
    if not 0 < s <= HALF_N:
        raise TxRejected(Reason.BAD_CERTIFICATE, "signature s is not in the lower half (low s)")
    try:
        key = PublicKey.from_signature_and_message(
            signature[:64] + bytes([v - 27]), digest, hasher=None
        )
    except Exception as err:  # coincurve raises bare Exception/ValueError on recovery failure
        raise TxRejected(Reason.BAD_CERTIFICATE, "no public key recovers from a signature") from err
    return keccak256(key.format(compressed=False)[1:])[12:]


def validate_certificate(item: object, digest: bytes, state: Reader) -> list[bytes]:
    """The signers' addresses when ``item`` (raw RLP) is a quorum certificate over ``digest``."""
    certificate = cast(codec.Certificate, as_serializable(item, codec.Certificate, "certificate"))
    threshold, members = read_committee(state)
    if len(certificate.signatures) < threshold:
        raise TxRejected(
            Reason.BAD_CERTIFICATE,
            f"{len(certificate.signatures)} signatures, the committee needs {threshold}",
        )
    signers: list[bytes] = []
    for index, signature in enumerate(certificate.signatures):
        address = recover_address(signature, digest)
        if address not in members:
            raise TxRejected(
                Reason.BAD_CERTIFICATE,
                f"signature {index} is by 0x{address.hex()}, not a member of the committee",
            )
        if address in signers:
            raise TxRejected(
                Reason.BAD_CERTIFICATE, f"notary 0x{address.hex()} signs twice (signature {index})"
            )
        signers.append(address)
    return signers
