"""Plain key files (development only): 32 bytes of hex, read without ever quoting them.

Below the notary and the family tools so both read keys the same way; the
signer seam of the key-management issue replaces this with the keystore and
PKCS#11 back-ends.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import ConfigError


def read_key_file(path: Path) -> bytes:
    """32 bytes of hex (``0x`` optional) from a file; the message never quotes the content."""
    try:
        text = Path(path).read_text().strip().removeprefix("0x")
        key = bytes.fromhex(text)
    except (OSError, ValueError):
        raise ConfigError(f"{path} does not hold a hex secp256k1 key") from None
    if len(key) != 32:
        raise ConfigError(f"{path} does not hold a 32-byte key")
    return key


__all__ = ["read_key_file"]
