"""The two built-in families declare the light-client route capabilities, for one kind."""

from __future__ import annotations

import asyncio

import pytest

from adapters.evm.adapter import EvmAdapter
from adapters.evm.onchain_clients import CLIENT_KIND
from adapters.evm.settings import EvmChainSettings
from adapters.pujiang import PujiangAdapter, PujiangSettings
from adapters.pujiang.evm_client_update import ONCHAIN_CLIENT_KIND, update_tuple
from core.errors import InvalidInput
from core.seams import OnChainClientHost, OnChainClientSource


def test_evm_hosts_and_pujiang_sources_the_same_kind() -> None:
    evm = EvmAdapter(
        EvmChainSettings(
            chain="anvil-1",
            rpc_url="http://127.0.0.1:1",
            evm_chain_id=1,
            bridge_address="0x" + "11" * 20,
        )
    )
    pujiang = PujiangAdapter(PujiangSettings(url="http://127.0.0.1:1", chain_id="pj-1"))
    try:
        assert isinstance(evm, OnChainClientHost)
        assert isinstance(pujiang, OnChainClientSource)
        assert not isinstance(pujiang, OnChainClientHost)
        assert CLIENT_KIND == ONCHAIN_CLIENT_KIND
        assert ONCHAIN_CLIENT_KIND in pujiang.onchain_client_kinds
    finally:
        asyncio.run(evm.aclose())
        asyncio.run(pujiang.aclose())


def test_the_gm_profile_is_refused_with_its_reason() -> None:
    with pytest.raises(InvalidInput, match="no SM3 precompile"):
        update_tuple(1, b"", b"", b"", hash_profile="sm3")
