"""The BLS facade beyond the vectors: keys, PoP, the validator-set cache, backend choice."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from py_ecc.bls.g2_primitives import G1_to_pubkey, pubkey_to_G1
from py_ecc.optimized_bls12_381 import G1, add, multiply, neg

import proofs.bls as bls
from core.errors import (
    BadEncoding,
    BadSignature,
    ConfigError,
    InfinityPoint,
    InvalidInput,
    NotInSubgroup,
)
from tests.fixtures.vectors import REPO_ROOT
from tests.proofs.test_bls_vectors import BACKEND_PARAMS, make_backend

# From deserialization_G1/deserialization_fails_not_in_G1.json: on the curve, off G1.
OFF_SUBGROUP_PUBKEY = bytes.fromhex(
    "8123456789abcdef0123456789abcdef0123456789abcdef"
    "0123456789abcdef0123456789abcdef0123456789abcdef"
)
MESSAGE = b"pujiang header 42"


@pytest.fixture(params=BACKEND_PARAMS, scope="module")
def backend(request: pytest.FixtureRequest) -> bls.Backend:
    return make_backend(request.param)


@pytest.fixture(scope="module")
def fast() -> bls.Backend:
    """Fast backend for building fixtures (signing many keys with py_ecc is slow)."""
    return bls.get_backend("milagro")


@pytest.fixture(scope="module")
def secret_keys() -> list[int]:
    return [bls.keygen(bytes([i + 1]) * 32) for i in range(6)]


@pytest.fixture(scope="module")
def pubkeys(secret_keys: list[int], fast: bls.Backend) -> list[bytes]:
    return [bls.sk_to_pk(sk, backend=fast) for sk in secret_keys]


@pytest.fixture
def restore_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests that change the module's default backend get it back afterwards."""
    monkeypatch.setattr(bls, "_default", None)


# --- keys --------------------------------------------------------------------------

# EIP-2333 test cases 0-2: derive_master_SK(seed) is IETF KeyGen with empty key_info.
EIP2333_MASTER_KEYS = [
    (
        "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e5349553"
        "1f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04",
        6083874454709270928345386274498605044986640685124978867557563392430687146096,
    ),
    (
        "3141592653589793238462643383279502884197169399375105820974944592",
        29757020647961307431480504535336562678282505419141012933316116377660817309383,
    ),
    (
        "0099ff991111002299dd7744ee3355bbdd8844115566cc55663355668888cc00",
        27580842291869792442942448775674722299803720648445448686099262467207037398656,
    ),
]


@pytest.mark.parametrize(("seed", "expected"), EIP2333_MASTER_KEYS)
def test_keygen_known_answers(seed: str, expected: int) -> None:
    assert bls.keygen(bytes.fromhex(seed)) == expected


def test_keygen_is_deterministic_and_domain_separated() -> None:
    seed = bytes(range(32))
    assert bls.keygen(seed) == bls.keygen(seed)
    assert bls.keygen(seed) != bls.keygen(bytes(range(1, 33)))
    assert bls.keygen(seed) != bls.keygen(seed, key_info=b"pujiang")
    assert 0 < bls.keygen(seed) < bls.CURVE_ORDER


@pytest.mark.parametrize("seed", [b"", bytes(31), "x" * 32, None])
def test_keygen_refuses_short_or_non_bytes_seeds(seed: object) -> None:
    with pytest.raises(InvalidInput):
        bls.keygen(seed)  # type: ignore[arg-type]


@pytest.mark.parametrize("secret", [0, bls.CURVE_ORDER, -1, True, "1", 1.0])
def test_out_of_range_secret_keys_are_refused(secret: object, backend: bls.Backend) -> None:
    with pytest.raises(InvalidInput):
        bls.sign(secret, MESSAGE, backend=backend)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        bls.sk_to_pk(secret, backend=backend)  # type: ignore[arg-type]


def test_secret_key_bytes_round_trip(secret_keys: list[int]) -> None:
    for sk in secret_keys:
        assert bls.secret_key_from_bytes(bls.secret_key_to_bytes(sk)) == sk
    with pytest.raises(InvalidInput):
        bls.secret_key_from_bytes(bls.CURVE_ORDER.to_bytes(32, "big"))
    with pytest.raises(InvalidInput):
        bls.secret_key_from_bytes(bytes(31) + b"\x01" + b"\x00")


# --- sign / verify -----------------------------------------------------------------


def test_sign_verify_round_trip(secret_keys: list[int], backend: bls.Backend) -> None:
    sk = secret_keys[0]
    pk = bls.sk_to_pk(sk, backend=backend)
    sig = bls.sign(sk, MESSAGE, backend=backend)
    assert bls.verify(pk, MESSAGE, sig, backend=backend)
    assert not bls.verify(pk, MESSAGE + b"!", sig, backend=backend)
    bls.validate_verify(pk, MESSAGE, sig, backend=backend)
    with pytest.raises(BadSignature):
        bls.validate_verify(pk, MESSAGE + b"!", sig, backend=backend)


@pytest.mark.parametrize(
    ("pubkey", "message", "signature"),
    [
        (b"\xa0" * 47, MESSAGE, bls.INFINITY_SIGNATURE),
        (bls.INFINITY_PUBKEY, "text", bls.INFINITY_SIGNATURE),
        (bls.INFINITY_PUBKEY, MESSAGE, None),
        (None, MESSAGE, bls.INFINITY_SIGNATURE),
    ],
)
def test_verify_is_false_on_malformed_input(
    pubkey: object, message: object, signature: object, backend: bls.Backend
) -> None:
    assert bls.verify(pubkey, message, signature, backend=backend) is False  # type: ignore[arg-type]
    assert not bls.fast_aggregate_verify([pubkey], message, signature, backend=backend)  # type: ignore[arg-type,list-item]
    assert not bls.batch_verify([(pubkey, message, signature)], backend=backend)  # type: ignore[list-item]


def test_list_shapes_are_checked(pubkeys: list[bytes], backend: bls.Backend) -> None:
    sig = bls.INFINITY_SIGNATURE
    assert not bls.aggregate_verify(pubkeys[:2], [MESSAGE], sig, backend=backend)
    assert not bls.fast_aggregate_verify(pubkeys[0], MESSAGE, sig, backend=backend)  # type: ignore[arg-type]
    assert not bls.batch_verify([], backend=backend)
    with pytest.raises(InvalidInput):
        bls.validate_aggregate_verify(pubkeys[:2], [MESSAGE], sig, backend=backend)
    with pytest.raises(InvalidInput):
        bls.aggregate_pubkeys([], backend=backend)
    with pytest.raises(BadEncoding):
        bls.aggregate([b"\x00" * 95], backend=backend)


def test_signatures_agree_across_backends(secret_keys: list[int]) -> None:
    reference = bls.get_backend("py_ecc")
    for name in ("milagro", "milagro+arkworks"):
        if name == "milagro+arkworks" and not _arkworks_installed():
            continue
        other = make_backend(name)
        sk = secret_keys[1]
        assert bls.sk_to_pk(sk, backend=other) == bls.sk_to_pk(sk, backend=reference)
        assert bls.sign(sk, MESSAGE, backend=other) == bls.sign(sk, MESSAGE, backend=reference)
        assert bls.pop_prove(sk, backend=other) == bls.pop_prove(sk, backend=reference)


def _arkworks_installed() -> bool:
    milagro = pytest.importorskip("proofs.bls._milagro")
    return bool(milagro.arkworks_available())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.binary(min_size=32, max_size=64), message=st.binary(max_size=128))
def test_round_trip_property_on_fast_backend(seed: bytes, message: bytes) -> None:
    fast = bls.get_backend("milagro")
    sk = bls.keygen(seed)
    pk = bls.sk_to_pk(sk, backend=fast)
    sig = bls.sign(sk, message, backend=fast)
    assert bls.verify(pk, message, sig, backend=fast)
    assert not bls.verify(pk, message + b"\x00", sig, backend=fast)


# --- proof of possession -----------------------------------------------------------


def test_pop_prove_and_verify(secret_keys: list[int], backend: bls.Backend) -> None:
    sk, other = secret_keys[0], secret_keys[1]
    pk = bls.sk_to_pk(sk, backend=backend)
    proof = bls.pop_prove(sk, backend=backend)
    assert bls.pop_verify(pk, proof, backend=backend)
    bls.validate_pop(pk, proof, backend=backend)
    # A proof made by another key does not prove possession of this one.
    assert not bls.pop_verify(pk, bls.pop_prove(other, backend=backend), backend=backend)
    # Domain separation: an ordinary signature over the key bytes is not a proof.
    assert not bls.pop_verify(pk, bls.sign(sk, pk, backend=backend), backend=backend)
    with pytest.raises(BadSignature):
        bls.validate_pop(pk, bls.sign(sk, pk, backend=backend), backend=backend)
    with pytest.raises(InfinityPoint):
        bls.validate_pop(pk, bls.INFINITY_SIGNATURE, backend=backend)


def test_rogue_key_is_stopped_by_proof_of_possession(
    secret_keys: list[int], pubkeys: list[bytes], backend: bls.Backend
) -> None:
    """pk_rogue = a·G1 - pk_victim makes the pair's aggregate a·G1, so the attacker alone
    can "co-sign" for the victim; only the PoP check at registration stops it."""
    victim_pk = pubkeys[0]
    a = 0xC0FFEE
    rogue_pk = G1_to_pubkey(add(multiply(G1, a), neg(pubkey_to_G1(victim_pk))))
    forged = bls.sign(a, MESSAGE, backend=backend)
    assert bls.fast_aggregate_verify([victim_pk, rogue_pk], MESSAGE, forged, backend=backend)
    # The attacker cannot prove possession of rogue_pk's secret key; a best try fails.
    rogue_proof = bls.sign(a, rogue_pk, backend=backend)
    proofs = [bls.pop_prove(secret_keys[0], backend=backend), rogue_proof]
    with pytest.raises(BadSignature) as caught:
        bls.ValidatorSetKeys([victim_pk, rogue_pk], proofs=proofs, backend=backend)
    assert caught.value.details["index"] == 1


# --- key and signature checks ------------------------------------------------------


@pytest.mark.parametrize(
    ("pubkey", "error"),
    [
        (bls.INFINITY_PUBKEY, InfinityPoint),
        (OFF_SUBGROUP_PUBKEY, NotInSubgroup),
        (b"\xc0" + bytes(46) + b"\x01", BadEncoding),  # identity flag with x set
        (b"\x00" * 48, BadEncoding),  # compression flag missing
        (b"\xa0" * 47, BadEncoding),
        ("not bytes", BadEncoding),
    ],
)
def test_validate_pubkey_says_why(pubkey: object, error: type, backend: bls.Backend) -> None:
    with pytest.raises(error):
        bls.validate_pubkey(pubkey, backend=backend)  # type: ignore[arg-type]
    assert not bls.key_validate(pubkey, backend=backend)  # type: ignore[arg-type]


def test_identity_decodes_only_when_allowed(backend: bls.Backend) -> None:
    assert bls.is_valid_pubkey(bls.INFINITY_PUBKEY, allow_infinity=True, backend=backend)
    assert bls.is_valid_signature(bls.INFINITY_SIGNATURE, backend=backend)
    with pytest.raises(InfinityPoint):
        bls.validate_signature(bls.INFINITY_SIGNATURE, allow_infinity=False, backend=backend)


# --- the validator-set cache -------------------------------------------------------


@pytest.mark.parametrize(
    ("bad_key", "error"),
    [
        (bls.INFINITY_PUBKEY, InfinityPoint),
        (OFF_SUBGROUP_PUBKEY, NotInSubgroup),
        (b"\x00" * 48, BadEncoding),
        (b"\xa0" * 49, BadEncoding),
    ],
)
def test_validator_set_refuses_bad_keys_at_construction(
    pubkeys: list[bytes], bad_key: bytes, error: type, backend: bls.Backend
) -> None:
    with pytest.raises(error) as caught:
        bls.ValidatorSetKeys([*pubkeys[:3], bad_key, pubkeys[3]], backend=backend)
    assert caught.value.details["index"] == 3


def test_validator_set_needs_keys_and_matching_proofs(
    pubkeys: list[bytes], backend: bls.Backend
) -> None:
    with pytest.raises(InvalidInput):
        bls.ValidatorSetKeys([], backend=backend)
    with pytest.raises(InvalidInput):
        bls.ValidatorSetKeys(pubkeys, proofs=[], backend=backend)


def test_subset_aggregation_matches_aggregate_pubkeys(
    pubkeys: list[bytes], backend: bls.Backend
) -> None:
    keys = bls.ValidatorSetKeys(pubkeys, backend=backend)
    for subset in ([0], [1, 3], [0, 2, 4, 5], list(range(6))):
        expected = bls.aggregate_pubkeys([pubkeys[i] for i in subset], backend=backend)
        assert keys.aggregate_pubkey(subset) == expected
        assert keys.aggregate_pubkey_bitmap(keys.bitmap(subset)) == expected
        assert keys.indices(keys.bitmap(subset)) == tuple(subset)


def test_subset_aggregates_agree_across_backends(pubkeys: list[bytes]) -> None:
    reference = bls.ValidatorSetKeys(pubkeys, backend="py_ecc")
    fast = bls.ValidatorSetKeys(pubkeys, backend="milagro")
    for subset in ([5], [0, 1], [1, 2, 3, 4]):
        assert fast.aggregate_pubkey(subset) == reference.aggregate_pubkey(subset)


def test_bitmap_is_ssz_bit_order(pubkeys: list[bytes], fast: bls.Backend) -> None:
    keys = bls.ValidatorSetKeys(pubkeys * 2, backend=fast)  # 12 validators, 2 bytes
    assert keys.bitmap([0]) == b"\x01\x00"
    assert keys.bitmap([3, 8, 11]) == b"\x08\x09"
    assert keys.indices(b"\x08\x09") == (3, 8, 11)


@pytest.mark.parametrize("signers", [[], [0, 0], [6], [-1], [True], b"\x01", ["0"]], ids=repr)
def test_bad_signer_sets(pubkeys: list[bytes], fast: bls.Backend, signers: object) -> None:
    keys = bls.ValidatorSetKeys(pubkeys, backend=fast)
    with pytest.raises(InvalidInput):
        keys.aggregate_pubkey(signers)  # type: ignore[arg-type]
    assert keys.verify(signers, MESSAGE, bls.INFINITY_SIGNATURE) is False  # type: ignore[arg-type]


@pytest.mark.parametrize("bitmap", [b"", b"\x00", b"\x40", b"\x01\x00", "\x01"], ids=repr)
def test_bad_bitmaps(pubkeys: list[bytes], fast: bls.Backend, bitmap: object) -> None:
    keys = bls.ValidatorSetKeys(pubkeys, backend=fast)  # 6 validators: bits 6, 7 are padding
    with pytest.raises(InvalidInput):
        keys.indices(bitmap)  # type: ignore[arg-type]
    assert keys.verify_bitmap(bitmap, MESSAGE, bls.INFINITY_SIGNATURE) is False  # type: ignore[arg-type]


def test_cached_verification(
    secret_keys: list[int], pubkeys: list[bytes], backend: bls.Backend, fast: bls.Backend
) -> None:
    keys = bls.ValidatorSetKeys(pubkeys, backend=backend, cache_size=2)
    signers = [0, 2, 3]
    signature = bls.aggregate([bls.sign(secret_keys[i], MESSAGE, backend=fast) for i in signers])
    assert keys.verify(signers, MESSAGE, signature)
    assert keys.verify_bitmap(keys.bitmap(signers), MESSAGE, signature)
    assert (keys.cache_misses, keys.cache_hits) == (1, 1)
    keys.validate(signers, MESSAGE, signature)
    assert not keys.verify([0, 2], MESSAGE, signature)  # a signer missing
    assert not keys.verify([0, 2, 3, 4], MESSAGE, signature)  # an extra key
    assert not keys.verify(signers, MESSAGE + b"!", signature)
    with pytest.raises(BadSignature):
        keys.validate([0, 2], MESSAGE, signature)
    with pytest.raises(InfinityPoint):
        keys.validate(signers, MESSAGE, bls.INFINITY_SIGNATURE)
    with pytest.raises(BadEncoding):
        keys.validate(signers, MESSAGE, signature[:-1])
    # Misses: signers, [0,2], [0,2,3,4], signers again (evicted, cache_size 2), [0,2] again.
    assert keys.cache_misses == 5


def test_keys_summing_to_identity(
    secret_keys: list[int], pubkeys: list[bytes], backend: bls.Backend
) -> None:
    """pk and -pk are both valid keys (the owner of sk holds both); their sum is not."""
    negated = G1_to_pubkey(neg(pubkey_to_G1(pubkeys[0])))
    keys = bls.ValidatorSetKeys([pubkeys[0], negated, pubkeys[1]], backend=backend)
    assert keys.aggregate_pubkey([0, 1]) == bls.INFINITY_PUBKEY
    assert not keys.verify([0, 1], MESSAGE, bls.INFINITY_SIGNATURE)
    with pytest.raises(InfinityPoint):
        keys.validate([0, 1], MESSAGE, bls.INFINITY_SIGNATURE)
    assert not bls.fast_aggregate_verify(
        [pubkeys[0], negated], MESSAGE, bls.INFINITY_SIGNATURE, backend=backend
    )
    with pytest.raises(InfinityPoint):
        bls.validate_fast_aggregate_verify(
            [pubkeys[0], negated], MESSAGE, bls.INFINITY_SIGNATURE, backend=backend
        )


# --- backend selection -------------------------------------------------------------


@pytest.mark.usefixtures("restore_default")
def test_backend_names_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert bls.get_backend("py_ecc").name == "py_ecc"
    assert bls.get_backend("fast").is_fast
    assert bls.get_backend("MILAGRO").is_fast
    assert bls.get_backend("auto").is_fast  # milagro is installed with the dev extras
    monkeypatch.setenv(bls.BACKEND_ENV_VAR, "py_ecc")
    assert bls.current_backend().name == "py_ecc"
    assert bls.use_backend("fast").is_fast
    assert bls.current_backend().is_fast
    monkeypatch.setenv(bls.BACKEND_ENV_VAR, "nonsense")
    with pytest.raises(ConfigError, match="unknown BLS backend"):
        bls.use_backend()
    with pytest.raises(ConfigError):
        bls.get_backend("blst")


@pytest.mark.usefixtures("restore_default")
def test_forcing_the_fast_backend_without_milagro_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "milagro_bls_binding", None)  # import now fails
    monkeypatch.delitem(sys.modules, "proofs.bls._milagro", raising=False)
    with pytest.raises(ConfigError, match="milagro-bls-binding"):
        bls.get_backend("milagro")
    monkeypatch.setenv(bls.BACKEND_ENV_VAR, "fast")
    with pytest.raises(ConfigError):
        bls.current_backend()
    assert bls.get_backend("auto").name == "py_ecc"


def test_forcing_arkworks_without_it_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    milagro = pytest.importorskip("proofs.bls._milagro")
    monkeypatch.setattr(milagro, "_ark", None)
    with pytest.raises(ConfigError, match="py_arkworks_bls12381"):
        milagro.MilagroBackend(use_arkworks=True)
    assert milagro.MilagroBackend().name == "milagro"


def test_facade_imports_without_milagro() -> None:
    script = (
        "import sys; sys.modules['milagro_bls_binding'] = None\n"
        "import proofs.bls as bls\n"
        "from core.errors import ConfigError\n"
        "assert bls.get_backend('auto').name == 'py_ecc'\n"
        "try:\n"
        "    bls.get_backend('fast')\n"
        "except ConfigError as err:\n"
        "    print(err)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "[config-invalid]" in done.stdout
