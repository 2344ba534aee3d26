"""The state machine's transaction handlers, one module per concern, dispatched by kind."""

from __future__ import annotations

from collections.abc import Callable

from devnet.modules import bank, batches, bridge, htlc, validators
from devnet.modules.context import TxContext

Handler = Callable[[TxContext, object], None]

HANDLERS: dict[str, Handler] = {
    "transfer": bank.transfer,
    "bridge_send": bridge.bridge_send,
    "bridge_send_message": bridge.bridge_send_message,
    "bridge_recv": bridge.bridge_recv,
    "bridge_timeout": bridge.bridge_timeout,
    "bridge_store_root": batches.bridge_store_root,
    "bridge_recv_batch": batches.bridge_recv_batch,
    "bridge_refund_batch": batches.bridge_refund_batch,
    "bridge_ack_batch": batches.bridge_ack_batch,
    "htlc_lock": htlc.htlc_lock,
    "htlc_claim": htlc.htlc_claim,
    "htlc_refund": htlc.htlc_refund,
    "validator_update": validators.validator_update,
}
