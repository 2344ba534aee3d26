"""Known-answer self-check of the verification core, for ``pjgw doctor``.

An operator runs it on a new host before trusting the hub there: a broken
OpenSSL without SM3, a fast BLS backend that disagrees with the reference, or a
missing binding shows up here, by name, instead of as a rejected header later.
"""

from __future__ import annotations

from collections.abc import Iterator

from core.errors import ConfigError
from proofs import bls
from proofs.hashing import keccak256, sha256, sm3

# Published known answers: FIPS 180-4 "abc"; Keccak-256 of the empty string;
# GB/T 32905-2016 example 1 ("abc").
_HASH_KATS = (
    ("sha256", sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ("keccak256", keccak256, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
    ("sm3", sm3, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
)


def run_selfcheck() -> Iterator[tuple[str, bool, str]]:
    """Yield ``(check, ok, detail)`` rows; never raises for a failed check."""
    for name, fn, expected in _HASH_KATS:
        message = b"" if name == "keccak256" else b"abc"
        try:
            ok = fn(message).hex() == expected
            yield f"hash {name}", ok, "known answer" if ok else "wrong digest"
        except ConfigError as err:
            yield f"hash {name}", False, str(err)

    yield from _bls_rows()


def _bls_rows() -> Iterator[tuple[str, bool, str]]:
    secret = bls.keygen(b"pjgw doctor self-check seed, 32+ bytes long")
    message = b"pujiang gateway self-check"
    reference = bls.get_backend("py_ecc")
    expected_sig = bls.sign(secret, message, backend=reference)
    pubkey = bls.sk_to_pk(secret, backend=reference)
    for name in ("py_ecc", "milagro"):
        try:
            backend = bls.get_backend(name)
        except ConfigError as err:
            yield f"bls {name}", False, str(err)
            continue
        same_sig = bls.sign(secret, message, backend=backend) == expected_sig
        verifies = bls.verify(pubkey, message, expected_sig, backend=backend)
        rejects = not bls.verify(pubkey, message + b"!", expected_sig, backend=backend)
        ok = same_sig and verifies and rejects
        yield (
            f"bls {name}",
            ok,
            "sign/verify agree with the reference"
            if ok
            else (f"signature equal={same_sig} verifies={verifies} rejects tampered={rejects}"),
        )
    chosen = bls.current_backend()
    yield "bls backend in use", True, f"{chosen.name} ({'fast' if chosen.is_fast else 'reference'})"
