"""An anvil whose clock starts at the Pujiang vectors' genesis time, for the light-client tests.

The vectors' headers are stamped from 1 700 000 000 000 ms; a client whose
checkpoint is older than its trusting period refuses it, so this folder's anvil
starts its genesis there (``--timestamp``) instead of at the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.evm.node import AnvilConfig, AnvilNode
from tests.evm.chain import Chain
from tests.fixtures.tiers import starts

VECTORS_GENESIS_S = 1_700_000_000


@pytest.fixture(scope="module")
@starts("chain")
def lc_chain() -> Iterator[Chain]:
    """A fresh anvil (own clock) and its JSON-RPC facade, for one module."""
    node = AnvilNode(
        AnvilConfig(accounts=3, extra_args=("--timestamp", str(VECTORS_GENESIS_S)))
    ).start()
    chain = Chain(node.url)
    try:
        yield chain
    finally:
        chain.close()
        node.stop()


@pytest.fixture(scope="module")
def deployer(lc_chain: Chain) -> str:
    return str(lc_chain.call("eth_accounts")[0])
