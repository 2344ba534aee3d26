"""The adapter conformance kit against a real anvil with the bridge deployed.

The same suite the Pujiang adapter passes (``adapters.testing``), driven by
``adapters.evm.conformance.EvmTarget``: packets are ``Bridge.sendNative``
calls, headers verify through the parent-hash chain with ``header_update``,
events are proven by receipt MPT proofs. The class's chain state is rolled
back when it ends, like every other anvil test's.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.evm.conformance import EvmTarget, target_from_config
from adapters.evm.node import AnvilNode
from adapters.testing import ChainAdapterConformance
from tests.fixtures.anvil import CHAIN_ID, LOCAL_CHAIN, Env


class TestEvmConformance(ChainAdapterConformance):
    """The kit against anvil over its JSON-RPC socket (automine; a block per transaction)."""

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_target(cls, anvil: AnvilNode, deployed: Env) -> Iterator[EvmTarget]:
        relayer_key = next(a.private_key for a in anvil.accounts if a.address == deployed.relayer)
        snapshot = deployed.chain.snapshot()
        # Ethereum's rule (timestamp > parent's) that anvil's instant mining would break.
        deployed.chain.call("anvil_setBlockTimestampInterval", 1)
        deployed.chain.call("anvil_mine", "0x10")  # history for the checkpoint checks
        options = {
            "chain": LOCAL_CHAIN,
            "rpc_url": anvil.url,
            "evm_chain_id": CHAIN_ID,
            "bridge_address": deployed.bridge.address,
            "htlc_address": deployed.htlc.address,
            "confirmations": 0,
            "insecure_plaintext_key": True,
            "signer_key": relayer_key,
            "receipt_poll_interval": 0.01,
        }
        yield target_from_config(options, {"mine_blocks": True})
        deployed.chain.call("anvil_removeBlockTimestampInterval")
        deployed.chain.revert(snapshot)
