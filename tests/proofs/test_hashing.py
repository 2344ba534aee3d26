"""proofs.hashing: published known answers for each hash, and the registry.

Where the expected digests come from (none were computed by this project):

* SHA-256: the FIPS 180-4 examples ("", "abc", the 448-bit
  "abcdbcdecdef…nopq" message), as listed in php/php-src
  ``ext/hash/tests/sha256.phpt`` ("FIPS-180 Vectors").
* Keccak-256: "" and "abc" as in MerosCrypto/Meros
  ``tests/lib/Hash/KeccakTest.nim``; "" is also the self-check built into
  eth-hash itself; "hello world" as in red-swan/keccak256r
  ``tests/testthat/test-keccak256.R`` ("Test vector from Ethereum").
* SM3: the two examples of GB/T 32905-2016 / GM/T 0004-2012 Appendix A
  ("abc" and "abcd" × 16), as in JuneAndGreen/sm-crypto ``test/sm3.test.js``
  and nettle's SM3 test (from draft-shen-sm3-hash-01); the two
  "abcdefghABCDEFGH12345678…" messages from the same sm-crypto test file.
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.exceptions import UnsupportedAlgorithm

from core.errors import ConfigError, InvalidInput
from proofs import hashing
from proofs.hashing import (
    HASH_FUNCTIONS,
    KECCAK256,
    SHA256,
    SM3,
    HashFunction,
    get_hash_function,
    hash_function_names,
    keccak256,
    sha256,
    sm3,
)

SHA256_VECTORS = [
    (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (
        b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ),
]

KECCAK256_VECTORS = [
    (b"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
    (b"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
    (b"hello world", "47173285a8d7341e5e972fc677286384f802f8ef42a5ec5f03bbfa254cb01fad"),
]

SM3_VECTORS = [
    (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
    (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
    (
        b"abcdefghABCDEFGH12345678",
        "d670c7f027fd5f9f0c163f4bfe98f9003fe597d3f52dbab0885ec2ca8dd23e9b",
    ),
    (
        b"abcdefghABCDEFGH12345678abcdefghABCDEFGH12345678abcdefgh",
        "1cf3bafec325d7d9102cd67ba46b09195af4e613b6c2b898122363d810308b11",
    ),
]


@pytest.mark.parametrize(("message", "digest"), SHA256_VECTORS)
def test_sha256_matches_fips_180_4_examples(message: bytes, digest: str) -> None:
    assert sha256(message).hex() == digest


@pytest.mark.parametrize(("message", "digest"), KECCAK256_VECTORS)
def test_keccak256_matches_ethereum_vectors(message: bytes, digest: str) -> None:
    assert keccak256(message).hex() == digest


@pytest.mark.parametrize(("message", "digest"), SM3_VECTORS)
def test_sm3_matches_gbt_32905_examples(message: bytes, digest: str) -> None:
    assert sm3(message).hex() == digest


def test_keccak256_is_not_nist_sha3_256() -> None:
    assert keccak256(b"") != hashlib.sha3_256(b"").digest()


@pytest.mark.parametrize("hash_fn", [SHA256, KECCAK256, SM3], ids=lambda h: h.name)
def test_every_hash_accepts_bytes_like_and_gives_32_bytes(hash_fn: HashFunction) -> None:
    expected = hash_fn(b"abc")
    assert len(expected) == hash_fn.digest_size == hashing.DIGEST_SIZE
    assert hash_fn(bytearray(b"abc")) == expected
    assert hash_fn(memoryview(b"abc")) == expected


@pytest.mark.parametrize("hash_fn", [SHA256, KECCAK256, SM3], ids=lambda h: h.name)
@pytest.mark.parametrize("bad", ["abc", 3, None, [1, 2]])
def test_every_hash_rejects_non_bytes_with_invalid_input(
    hash_fn: HashFunction, bad: object
) -> None:
    with pytest.raises(InvalidInput):
        hash_fn(bad)  # type: ignore[arg-type]


def test_registry_holds_the_three_hashes_by_name() -> None:
    assert hash_function_names() == ("keccak256", "sha256", "sm3")
    assert get_hash_function("sha256") is SHA256
    assert get_hash_function("keccak256") is KECCAK256
    assert get_hash_function("sm3") is SM3
    assert all(h.name == name for name, h in HASH_FUNCTIONS.items())


@pytest.mark.parametrize("name", ["SHA256", "sha3_256", "", "md5"])
def test_registry_unknown_name_raises_invalid_input(name: str) -> None:
    with pytest.raises(InvalidInput, match="unknown hash function"):
        get_hash_function(name)


def test_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        HASH_FUNCTIONS["sha256"] = KECCAK256  # type: ignore[index]


def test_hash_function_is_immutable_and_named_in_repr() -> None:
    with pytest.raises(AttributeError):
        SHA256.name = "other"  # type: ignore[misc]
    assert repr(SM3) == "HashFunction('sm3')"


def test_sm3_missing_from_openssl_raises_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def unsupported(_algorithm: object) -> None:
        raise UnsupportedAlgorithm("no sm3")

    monkeypatch.setattr(hashing.hashes, "Hash", unsupported)
    with pytest.raises(ConfigError, match="SM3") as caught:
        sm3(b"abc")
    assert isinstance(caught.value.__cause__, UnsupportedAlgorithm)
