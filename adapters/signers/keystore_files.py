"""The encrypted keystore's file formats, readable below the gateway (notary and relayer keys).

Two formats, as ``gateway.keystore`` writes them (its module docstring says why):

* ``eth-keystore-v3``: Ethereum's keystore v3 JSON (scrypt + AES-128-CTR +
  keccak MAC) through ``eth-account``; interoperates with geth, Foundry, MetaMask.
* ``pjgw-aead-v1``: the 32-byte secret sealed with scrypt (RFC 7914) and
  AES-256-GCM from ``cryptography``; the family, name and address are the
  associated data, so a renamed or tampered file fails to open.

``open_key_file`` turns one file into a ``LocalSigner`` (secp256k1 for a v3
file; the scheme the caller names for an AEAD one): that is how a notary or a
relayer key lives in the same keystore as the hub's managed accounts.

SECURITY: a password or secret never appears in an error; scrypt parameters
of a planted file are bounded before any work.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from eth_account import Account

from adapters.signers.local import LocalSigner
from core.errors import ConfigError
from core.seams import SECP256K1

MAX_KEY_FILE = 64 * 1024
MAX_SCRYPT_N = 2**20


def aad(name: str, family: str, address: str) -> bytes:
    """The associated data binding an AEAD file to its account."""
    return f"pjgw-keystore/v1|{family}|{name}|{address}".encode()


def seal(secret: bytes, password: str, associated: bytes, n: int) -> dict[str, Any]:
    """A ``pjgw-aead-v1`` document of ``secret`` (without the account's members)."""
    salt = secrets.token_bytes(32)
    nonce = secrets.token_bytes(12)
    key = Scrypt(salt=salt, length=32, n=n, r=8, p=1).derive(password.encode())
    ciphertext = AESGCM(key).encrypt(nonce, secret, associated)
    return {
        "version": 1,
        "crypto": {
            "kdf": "scrypt",
            "kdfparams": {"n": n, "r": 8, "p": 1, "dklen": 32, "salt": salt.hex()},
            "cipher": "aes-256-gcm",
            "nonce": nonce.hex(),
            "ciphertext": ciphertext.hex(),
        },
    }


def unseal(document: dict[str, Any], password: str, associated: bytes) -> bytes:
    """The secret of a ``pjgw-aead-v1`` document (``ConfigError`` when it does not open)."""
    try:
        crypto = document["crypto"]
        params = crypto["kdfparams"]
        if crypto["kdf"] != "scrypt" or crypto["cipher"] != "aes-256-gcm":
            raise ValueError("unsupported")
        n, r, p = int(params["n"]), int(params["r"]), int(params["p"])
        if n > MAX_SCRYPT_N or r != 8 or p != 1:  # bound the work a planted file can cost
            raise ValueError("unsupported")
        key = Scrypt(salt=bytes.fromhex(params["salt"]), length=32, n=n, r=r, p=p).derive(
            password.encode()
        )
        return AESGCM(key).decrypt(
            bytes.fromhex(crypto["nonce"]), bytes.fromhex(crypto["ciphertext"]), associated
        )
    except InvalidTag:
        raise ConfigError("managed account does not unlock (password or file)") from None
    except (KeyError, TypeError, ValueError):
        raise ConfigError("managed account: keystore file is malformed") from None


def decrypt_v3(document: dict[str, Any], password: str, name: str) -> bytes:
    """The secret of an Ethereum keystore v3 document (``ConfigError`` when it does not open)."""
    try:
        params = document.get("crypto", {}).get("kdfparams", {})
        if int(params.get("n", 0)) > MAX_SCRYPT_N:
            raise ConfigError(f"keystore key {name!r}: scrypt parameters above the bound")
        return bytes(Account.decrypt(document, password))
    except (ValueError, TypeError, KeyError, AttributeError):
        raise ConfigError(f"keystore key {name!r} does not unlock") from None


def read_document(path: Path) -> dict[str, Any]:
    """A keystore file's JSON, bounded in size (``ConfigError`` naming the path, not content)."""
    try:
        with Path(path).open("rb") as f:
            raw = f.read(MAX_KEY_FILE + 1)
        if len(raw) > MAX_KEY_FILE:
            raise ValueError("too large")
        document = json.loads(raw)
        if not isinstance(document, dict):
            raise ValueError("not an object")
        return document
    except FileNotFoundError:
        raise ConfigError(f"no keystore file {path}") from None
    except (OSError, ValueError):
        raise ConfigError(f"keystore file {path} is unreadable") from None


def open_key_file(path: Path, password: str, scheme: str = SECP256K1) -> LocalSigner:
    """The signer of one keystore file: v3 files hold secp256k1 keys; an AEAD file's
    key is of ``scheme``. The label is ``keystore:<name>`` (the file's pjgw name)."""
    document = read_document(path)
    meta = document.get("pjgw") if isinstance(document.get("pjgw"), dict) else {}
    name = str(meta.get("name") or Path(path).stem)
    crypto = document.get("crypto") if isinstance(document.get("crypto"), dict) else {}
    if crypto.get("cipher") == "aes-256-gcm":
        family = str(meta.get("family", ""))
        address = "0x" + str(document.get("address", "")).lower().removeprefix("0x")
        secret = unseal(document, password, aad(name, family, address))
    else:
        secret = decrypt_v3(document, password, name)
        scheme = SECP256K1
    signer = LocalSigner(secret, scheme, label=f"keystore:{name}")
    expected = str(document.get("address", "")).lower().removeprefix("0x")
    if scheme == SECP256K1 and expected and _eth_address(signer.public_key) != expected:
        raise ConfigError(f"keystore key {name!r}: the key does not match its address")
    return signer


def write_v3(path: Path, secret: bytes, password: str, name: str, *, scrypt_n: int) -> None:
    """Write a secp256k1 ``secret`` as a v3 file (mode 0600, never over an existing file)."""
    import os

    document = Account.encrypt(secret, password, kdf="scrypt", iterations=scrypt_n)
    document["pjgw"] = {"name": name, "family": "", "role": "signer"}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(document, out)


def _eth_address(public_key: bytes) -> str:
    from proofs.hashing import keccak256

    return keccak256(public_key[1:])[12:].hex()


__all__ = ["aad", "decrypt_v3", "open_key_file", "read_document", "seal", "unseal", "write_v3"]
