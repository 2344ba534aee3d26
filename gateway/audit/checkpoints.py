"""The hub's signed checkpoints of the audit head (``proofs.audit`` signs and verifies).

The key is a secp256k1 secret from ``Settings.audit_key`` or the file
``Settings.audit_key_file``; it is held as bytes only while signing and never
logged or returned (only its address is).
"""

from __future__ import annotations

from core.errors import ConfigError, Conflict
from gateway.settings import Settings
from gateway.store.audit import AuditStoreMixin, CheckpointRecord
from proofs.audit import sign_checkpoint, signer_address
from proofs.notary.ecdsa import SECP256K1_N


def checkpoint_key(settings: Settings) -> bytes:
    """The checkpoint secret; ``ConfigError`` when none is configured or it is malformed
    (the message never holds the key)."""
    text: str | None = None
    if settings.audit_key is not None:
        text = settings.audit_key.get_secret_value()
    elif settings.audit_key_file is not None:
        try:
            text = settings.audit_key_file.read_text().strip()
        except OSError as err:
            raise ConfigError("cannot read the audit key file") from err
    if not text:
        raise ConfigError("no audit checkpoint key (PJGW_AUDIT_KEY or PJGW_AUDIT_KEY_FILE)")
    try:
        secret = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise ConfigError("the audit checkpoint key is not hex") from None
    if len(secret) != 32 or not 0 < int.from_bytes(secret, "big") < SECP256K1_N:
        raise ConfigError("the audit checkpoint key is not a secp256k1 secret (32 bytes)")
    return secret


def make_checkpoint(store: AuditStoreMixin, secret: bytes, now: float) -> CheckpointRecord:
    """Sign the current head and keep the checkpoint (``Conflict`` on an empty log)."""
    seq, head = store.audit_head()
    if seq == 0:
        raise Conflict("the audit log is empty: nothing to checkpoint")
    at_ms = round(now * 1000)
    record = CheckpointRecord(
        seq=seq,
        hash=head,
        at_ms=at_ms,
        signer="0x" + signer_address(secret).hex(),
        signature=sign_checkpoint(secret, seq, head, at_ms),
    )
    return store.add_audit_checkpoint(record, now)


__all__ = ["checkpoint_key", "make_checkpoint"]
