"""The hash functions the hub verifies with: sha256, keccak-256 and SM3.

Every root, digest and Merkle node the hub checks goes through one of these,
so each is a plain ``bytes -> bytes`` function with a fixed 32-byte output and
no state. A chain profile names its hash (``"sha256"`` by default, ``"sm3"``
for Pujiang's national-crypto profile, ``"keccak256"`` for EVM chains) and
looks it up with :func:`get_hash_function`; :mod:`proofs.merkle` takes the
resulting :class:`HashFunction` as a parameter.

Backends, and why:

* ``sha256``: the standard library (:mod:`hashlib`, OpenSSL).
* ``keccak256``: ``eth-hash`` pinned to its pycryptodome backend. This is the
  original Keccak padding Ethereum uses, *not* NIST SHA3-256; pinning the
  backend keeps the choice out of the ``ETH_HASH_BACKEND`` environment.
* ``sm3`` (GB/T 32905-2016): pyca/cryptography's ``hashes.SM3()``, i.e. OpenSSL.
  It is maintained, constant in behaviour across platforms and already in
  the dependency tree. The pure-Python alternatives (gmssl, snowland-smx) are
  slow and little maintained, so they are not used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from eth_hash import Keccak256
from eth_hash.backends.pycryptodome import backend as _pycryptodome_backend

from core.errors import ConfigError, InvalidInput

DIGEST_SIZE = 32
"""Every registered hash outputs 32 bytes."""

_KECCAK = Keccak256(_pycryptodome_backend)


def _as_bytes(data: bytes | bytearray | memoryview) -> bytes:
    """Accept bytes-like input only: hashing a ``str`` would hide an encoding choice."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, bytearray | memoryview):
        return bytes(data)
    raise InvalidInput(f"hash input must be bytes, not {type(data).__name__}")


def sha256(data: bytes | bytearray | memoryview) -> bytes:
    """SHA-256 (FIPS 180-4)."""
    return hashlib.sha256(_as_bytes(data)).digest()


def keccak256(data: bytes | bytearray | memoryview) -> bytes:
    """Keccak-256 as Ethereum uses it (original padding, not SHA3-256)."""
    return _KECCAK(_as_bytes(data))


def sm3(data: bytes | bytearray | memoryview) -> bytes:
    """SM3 (GB/T 32905-2016) through OpenSSL.

    Raises ``ConfigError`` when the OpenSSL build lacks SM3 (some FIPS builds):
    that is a property of the installation, not of the input.
    """
    payload = _as_bytes(data)
    try:
        digest = hashes.Hash(hashes.SM3())
    except UnsupportedAlgorithm as err:
        raise ConfigError("SM3 is not available in this OpenSSL build") from err
    digest.update(payload)
    return digest.finalize()


@dataclass(frozen=True, slots=True)
class HashFunction:
    """A named 32-byte hash, the unit chain profiles and Merkle trees choose.

    Callable like the function it wraps: ``SHA256(b"abc")``.
    """

    name: str
    digest_size: int
    function: Callable[[bytes], bytes]

    def __call__(self, data: bytes | bytearray | memoryview) -> bytes:
        return self.function(data)

    def __repr__(self) -> str:
        return f"HashFunction({self.name!r})"


SHA256 = HashFunction("sha256", DIGEST_SIZE, sha256)
KECCAK256 = HashFunction("keccak256", DIGEST_SIZE, keccak256)
SM3 = HashFunction("sm3", DIGEST_SIZE, sm3)

HASH_FUNCTIONS: Mapping[str, HashFunction] = MappingProxyType(
    {h.name: h for h in (SHA256, KECCAK256, SM3)}
)
"""The registry by name; read-only so no caller can swap a hash under the hub."""


def get_hash_function(name: str) -> HashFunction:
    """The registered hash called ``name``; ``InvalidInput`` for an unknown name."""
    try:
        return HASH_FUNCTIONS[name]
    except (KeyError, TypeError) as err:
        known = ", ".join(sorted(HASH_FUNCTIONS))
        raise InvalidInput(f"unknown hash function {name!r} (known: {known})") from err


def hash_function_names() -> tuple[str, ...]:
    """The registered names, sorted (for ``pjgw doctor`` and ``/v1/info``)."""
    return tuple(sorted(HASH_FUNCTIONS))
