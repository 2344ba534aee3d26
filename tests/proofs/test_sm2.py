"""The SM2 facade on the published examples: GB/T 32918.2 Annex A and the recommended curve.

Annex A works on its own 256-bit test curve with the id ``ALICE123@YAHOO.COM``;
the second example is the recommended curve (GB/T 32918.5) with the default id
``1234567812345678``. Each gives the key, Z, e and (with the fixed nonce k) the
signature, so a wrong Z formula, a wrong SM3 or a wrong curve fails here.
"""

from __future__ import annotations

import base64

import pytest
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from proofs.sm2 import (
    SM2_CURVE_OID,
    SM2_DEFAULT_UID,
    SM2_P256,
    SM2Curve,
    SM2KeyInvalid,
    SM2SignatureInvalid,
    SM2SignatureMalformed,
    compute_sm2_digest,
    compute_sm2_public_key,
    compute_sm2_z,
    decode_sm2_public_key,
    is_valid_sm2_signature,
    sign_sm2,
    verify_sm2,
)


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def i(text: str) -> int:
    return int(text.replace(" ", ""), 16)


ANNEX_A = SM2Curve(
    name="GB/T 32918.2 Annex A test curve",
    p=i("8542D69E 4C044F18 E8B92435 BF6FF7DE 45728391 5C45517D 722EDB8B 08F1DFC3"),
    a=i("787968B4 FA32C3FD 2417842E 73BBFEFF 2F3C848B 6831D7E0 EC65228B 3937E498"),
    b=i("63E4C6D3 B23B0C84 9CF84241 484BFE48 F61D59A5 B16BA06E 6E12D1DA 27C5249A"),
    gx=i("421DEBD6 1B62EAB6 746434EB C3CC315E 32220B3B ADD50BDC 4C4E6C14 7FEDD43D"),
    gy=i("0680512B CBB42C07 D47349D2 153B70C4 E5D7FDFC BFA36EA1 A85841B9 E46E09A2"),
    n=i("8542D69E 4C044F18 E8B92435 BF6FF7DD 29772063 0485628D 5AE74EE7 C32E79B7"),
)
MESSAGE = b"message digest"

# (curve, uid, d, xA||yA, Z, e, k, r, s)
EXAMPLES = {
    "gbt32918-annex-a": (
        ANNEX_A,
        b"ALICE123@YAHOO.COM",
        "128B2FA8 BD433C6C 068C8D80 3DFF7979 2A519A55 171B1B65 0C23661D 15897263",
        "0AE4C779 8AA0F119 471BEE11 825BE462 02BB79E2 A5844495 E97C04FF 4DF2548A"
        "7C0240F8 8F1CD4E1 6352A73C 17B7F16F 07353E53 A176D684 A9FE0C6B B798E857",
        "F4A38489 E32B45B6 F876E3AC 2168CA39 2362DC8F 23459C1D 1146FC3D BFB7BC9A",
        "B524F552 CD82B8B0 28476E00 5C377FB1 9A87E6FC 682D48BB 5D42E3D9 B9EFFE76",
        "6CB28D99 385C175C 94F94E93 4817663F C176D925 DD72B727 260DBAAE 1FB2F96F",
        "40F1EC59 F793D9F4 9E09DCEF 49130D41 94F79FB1 EED2CAA5 5BACDB49 C4E755D1",
        "6FC6DAC3 2C5D5CF1 0C77DFB2 0F7C2EB6 67A45787 2FB09EC5 6327A67E C7DEEBE7",
    ),
    "recommended-curve-default-uid": (
        SM2_P256,
        SM2_DEFAULT_UID,
        "3945208F 7B2144B1 3F36E38A C6D39F95 88939369 2860B51A 42FB81EF 4DF7C5B8",
        "09F9DF31 1E5421A1 50DD7D16 1E4BC5C6 72179FAD 1833FC07 6BB08FF3 56F35020"
        "CCEA490C E26775A5 2DC6EA71 8CC1AA60 0AED05FB F35E084A 6632F607 2DA9AD13",
        "B2E14C5C 79C6DF5B 85F4FE7E D8DB7A26 2B9DA7E0 7CCB0EA9 F4747B8C CDA8A4F3",
        "F0B43E94 BA45ACCA ACE692ED 534382EB 17E6AB5A 19CE7B31 F4486FDF C0D28640",
        "59276E27 D506861A 16680F3A D9C02DCC EF3CC1FA 3CDBE4CE 6D54B80D EAC1BC21",
        "F5A03B06 48D2C463 0EEAC513 E1BB81A1 5944DA38 27D5B741 43AC7EAC EEE720B3",
        "B1B6AA29 DF212FD8 763182BC 0D421CA1 BB9038FD 1F7F42D4 840B69C4 85BBC1AA",
    ),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_published_example_key_z_e_and_signature(name: str) -> None:
    curve, uid, d, point, z, e, k, r, s = EXAMPLES[name]
    public = compute_sm2_public_key(h(d), curve)
    assert public == b"\x04" + h(point)
    assert compute_sm2_z(public, uid, curve) == h(z)
    assert compute_sm2_digest(public, MESSAGE, uid, curve) == h(e)
    signature = sign_sm2(h(d), MESSAGE, uid=uid, curve=curve, nonce=i(k))
    assert decode_dss_signature(signature) == (i(r), i(s))
    verify_sm2(public, MESSAGE, signature, uid=uid, curve=curve)
    # the raw 64-byte r||s form and the 64-byte x||y key form verify too
    verify_sm2(h(point), MESSAGE, h(r) + h(s), uid=uid, curve=curve)


def _example_p256() -> tuple[bytes, bytes]:
    _, _, _, point, *_rest, r, s = EXAMPLES["recommended-curve-default-uid"]
    return b"\x04" + h(point), h(r) + h(s)


def test_default_uid_is_the_gm_t_0009_one() -> None:
    assert SM2_DEFAULT_UID == b"1234567812345678"
    public, signature = _example_p256()
    verify_sm2(public, MESSAGE, signature)  # the keyword default is that uid


def _n_minus(value: int) -> bytes:
    return (SM2_P256.n - value).to_bytes(32, "big")


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("other-message", SM2SignatureInvalid),
        ("other-uid", SM2SignatureInvalid),
        ("r-plus-one", SM2SignatureInvalid),
        ("s-negated", SM2SignatureInvalid),
        ("r-zero", SM2SignatureInvalid),
        ("s-is-n", SM2SignatureInvalid),
        ("key-off-curve", SM2KeyInvalid),
        ("key-short", SM2KeyInvalid),
        ("signature-garbage", SM2SignatureMalformed),
    ],
)
def test_malleated_example_is_refused_with_its_reason(case: str, error: type) -> None:
    public, signature = _example_p256()
    r, s = signature[:32], signature[32:]
    message, uid = MESSAGE, SM2_DEFAULT_UID
    if case == "other-message":
        message = b"message digesT"
    elif case == "other-uid":
        uid = b"ALICE123@YAHOO.COM"
    elif case == "r-plus-one":
        signature = (int.from_bytes(r, "big") + 1).to_bytes(32, "big") + s
    elif case == "s-negated":
        signature = r + _n_minus(int.from_bytes(s, "big"))
    elif case == "r-zero":
        signature = bytes(32) + s
    elif case == "s-is-n":
        signature = r + SM2_P256.n.to_bytes(32, "big")
    elif case == "key-off-curve":
        public = public[:-1] + bytes([public[-1] ^ 1])
    elif case == "key-short":
        public = public[:-1]
    elif case == "signature-garbage":
        signature = b"\x30\x03\x02\x01"
    with pytest.raises(error) as caught:
        verify_sm2(public, message, signature, uid=uid)
    assert caught.value.code == error.code
    assert not is_valid_sm2_signature(public, message, signature, uid=uid)


def test_spki_der_and_pem_with_the_sm2_oid_decode_to_the_point() -> None:
    public, signature = _example_p256()
    info = asn1_keys.PublicKeyInfo(
        {
            "algorithm": {
                "algorithm": "ec",
                "parameters": asn1_keys.ECDomainParameters(name="named", value=SM2_CURVE_OID),
            },
            "public_key": public,
        }
    )
    der = info.dump()
    pem = b"-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(der) + b"-----END PUBLIC KEY-----\n"
    x, y = decode_sm2_public_key(public)
    assert decode_sm2_public_key(der) == (x, y)
    assert decode_sm2_public_key(pem) == (x, y)
    verify_sm2(pem, MESSAGE, signature)


def test_spki_on_another_curve_is_refused() -> None:
    public, _ = _example_p256()
    info = asn1_keys.PublicKeyInfo(
        {
            "algorithm": {
                "algorithm": "ec",
                "parameters": asn1_keys.ECDomainParameters(
                    name="named", value="1.2.840.10045.3.1.7"
                ),
            },
            "public_key": public,
        }
    )
    with pytest.raises(SM2KeyInvalid, match="not SM2"):
        decode_sm2_public_key(info.dump())


def test_fresh_signature_round_trips_and_is_randomised() -> None:
    d = bytes.fromhex("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
    public = compute_sm2_public_key(d)
    first, second = sign_sm2(d, b"pujiang"), sign_sm2(d, b"pujiang")
    assert first != second
    verify_sm2(public, b"pujiang", first)
    verify_sm2(public, b"pujiang", second)


def test_raw_signature_whose_r_starts_like_der_still_decodes() -> None:
    """A raw r||s with r[0] = 0x30 (the DER SEQUENCE tag) is read as raw, not refused."""
    public, _ = _example_p256()
    d = h("3945208F 7B2144B1 3F36E38A C6D39F95 88939369 2860B51A 42FB81EF 4DF7C5B8")
    signature = sign_sm2(d, MESSAGE, nonce=65)
    r, s = decode_dss_signature(signature)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert raw[0] == 0x30
    verify_sm2(public, MESSAGE, raw)
