"""``validator_update``: the current validators hand the chain to a new set.

Rule (the one the light client relies on): an update committed in block ``h``
is written into header ``h + 1`` as its ``next_validators_hash``, and the new
set signs from height ``h + 2`` on. Header ``h`` itself still names, as its
``next_validators_hash``, the set that signs ``h + 1`` (fixed one block
earlier), so no header ever announces a set change it was not yet committed
to. One update may be pending at a time: a second one is refused until the
first signs (``valset-pending``).

Checks, in order: the args' shapes and the new set's shape
(``codec.decode_validator_set``: sorted, distinct, 1..1024, powers); ``epoch``
is the current epoch + 1 (a signed update cannot be replayed); no update is
pending; this node holds every new key (a devnet limitation: one process signs
for all, so it can only hand over to keys it derived); the signer bitmap
against the set signing this block; more than 2/3 of its power; the BLS
aggregate over ``rlp([b"pujiang/valset/v1", chain_id, epoch, H(rlp(new_set))])``;
last, each new key's proof of possession.
"""

from __future__ import annotations

import rlp

import proofs.bls as bls
from core.errors import BadEncoding, VerificationError
from devnet.genesis import encode_valset_value
from devnet.modules.context import TxContext, as_bytes, as_uint, unpack
from devnet.state import VALSET_KEY
from devnet.txs import Reason, TxRejected
from proofs.pujiang import codec


def validator_update(ctx: TxContext, args: object) -> None:
    """``[epoch, new_set, signers, aggregate_signature]``."""
    names = ("epoch", "new_set", "signers", "aggregate_signature")
    epoch_item, set_item, signers_item, signature_item = unpack(args, names, "validator_update")
    epoch = as_uint(epoch_item, "epoch")
    if not isinstance(set_item, list):
        raise TxRejected(Reason.BAD_ARGS, "new_set must be an RLP list of validators")
    try:
        new_set = codec.decode_validator_set(rlp.encode(set_item))
    except BadEncoding as err:
        raise TxRejected(Reason.BAD_VALIDATOR_SET, err.message) from err
    bitmap = as_bytes(signers_item, "signers", max_size=codec.MAX_VALIDATORS // 8)
    signature = as_bytes(signature_item, "aggregate_signature", size=codec.SIGNATURE_LENGTH)

    block = ctx.block
    if epoch != block.epoch + 1:
        raise TxRejected(Reason.WRONG_EPOCH, f"epoch {epoch}, the next epoch is {block.epoch + 1}")
    if block.valset_pending or block.accepted_valset is not None:
        raise TxRejected(
            Reason.VALSET_PENDING, "a validator-set change is waiting to sign; retry in two blocks"
        )
    unknown = [v.bls_pubkey for v in new_set if v.bls_pubkey not in block.known_validator_keys]
    if unknown:
        raise TxRejected(
            Reason.UNKNOWN_VALIDATOR_KEY,
            f"this devnet holds no secret for 0x{unknown[0].hex()} (only its derived keys)",
        )
    current = block.signing_set
    try:
        indices = codec.decode_signers(bitmap, len(current))
    except BadEncoding as err:
        raise TxRejected(Reason.BAD_ARGS, err.message) from err
    signed = sum(current[i].power for i in indices)
    total = sum(v.power for v in current)
    if not codec.has_quorum(signed, total):
        raise TxRejected(
            Reason.INSUFFICIENT_POWER, f"signers hold {signed} of {total} power, need more than 2/3"
        )
    payload = codec.compute_valset_update_payload(
        block.chain_id, epoch, ctx.hash_fn(codec.encode(new_set))
    )
    if not bls.fast_aggregate_verify([current[i].bls_pubkey for i in indices], payload, signature):
        raise TxRejected(Reason.BAD_SIGNATURE, "the aggregate signature does not verify")
    for index, validator in enumerate(new_set):
        try:
            bls.validate_pop(validator.bls_pubkey, validator.pop)
        except VerificationError as err:
            raise TxRejected(Reason.BAD_VALIDATOR_SET, f"validator {index}: {err.message}") from err

    ctx.state.set(VALSET_KEY, encode_valset_value(epoch, new_set))
    block.accepted_valset = (epoch, new_set)
    ctx.emit(
        "validator_set_changed",
        {
            "epoch": epoch,
            "validators_hash": codec.compute_validators_hash(new_set, ctx.hash_fn),
            "effective_height": block.height + 2,
        },
    )
