"""Events and state proven against a verified EVM header.

The glue between a header the light client verified and the Merkle-Patricia
proofs of :mod:`proofs.mpt`:

* :func:`verify_log_inclusion`: a receipt proof (key ``rlp(tx_index)``) against
  the header's ``receiptsRoot``, then the log at ``log_index`` of that receipt;
* :func:`verify_account_state`: an ``eth_getProof`` answer against the
  header's ``stateRoot`` (account and storage proofs, absence included).

CONTRACT: ``header`` has been verified (linked to the trusted checkpoint and
final under the chain's policy); these functions trust its roots as given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.errors import InvalidInput, ValueMismatch
from proofs.evm.header import EvmHeader
from proofs.mpt import (
    Log,
    ProvenAccount,
    Receipt,
    decode_receipt,
    verify_eip1186_response,
    verify_receipt_proof,
)


def verify_receipt(header: EvmHeader, tx_index: int, proof: Sequence[bytes]) -> Receipt:
    """The receipt of transaction ``tx_index`` proven against ``header.receipts_root``.

    Raises what :func:`proofs.mpt.verify_receipt_proof` raises (``RootMismatch``,
    ``BadProof``, ``BadEncoding``; ``ValueMismatch`` if no receipt is at that index).
    """
    encoded = verify_receipt_proof(header.receipts_root, tx_index, proof)
    return decode_receipt(encoded)


def verify_log_inclusion(
    header: EvmHeader,
    tx_index: int,
    proof: Sequence[bytes],
    log_index: int,
    *,
    require_success: bool = True,
) -> Log:
    """The log ``log_index`` (within its receipt) of transaction ``tx_index``.

    Checks, in order: ``log_index`` is a non-negative integer (``InvalidInput``);
    the proof against ``receiptsRoot`` (see :func:`verify_receipt`); the
    transaction succeeded when ``require_success`` (``ValueMismatch``: a
    reverted transaction's logs are empty anyway, but a pre-Byzantium receipt
    has no status and is refused); the receipt has that log (``ValueMismatch``).

    Returns the :class:`proofs.mpt.Log` (``address``, ``topics``, ``data``);
    the caller matches address and topics to the event it expects.
    """
    if isinstance(log_index, bool) or not isinstance(log_index, int) or log_index < 0:
        raise InvalidInput("log index must be a non-negative integer")
    receipt = verify_receipt(header, tx_index, proof)
    if require_success and receipt.status != 1:
        raise ValueMismatch(
            f"transaction {tx_index} of block {header.number} did not succeed",
            height=header.number,
            tx_index=tx_index,
        )
    if log_index >= len(receipt.logs):
        raise ValueMismatch(
            f"receipt {tx_index} of block {header.number} has {len(receipt.logs)} log(s), "
            f"no log {log_index}",
            height=header.number,
            tx_index=tx_index,
            log_index=log_index,
        )
    return receipt.logs[log_index]


def verify_account_state(header: EvmHeader, response: Mapping[str, Any]) -> ProvenAccount:
    """An ``eth_getProof`` answer (account + storage proofs) against ``header.state_root``.

    Raises what :func:`proofs.mpt.verify_eip1186_response` raises.
    """
    return verify_eip1186_response(header.state_root, response)
