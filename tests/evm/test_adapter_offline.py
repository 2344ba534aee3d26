"""EVM adapter pieces without a node: settings and secrets, retries, chunking, fees, hash store.

A scripted JSON-RPC node runs behind ``httpx.MockTransport``: each test says
what it answers per method, and counts what it was asked.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from eth_account import Account
from pydantic import ValidationError

from adapters.evm.adapter import EvmAdapter
from adapters.evm.fees import FeeLimits, FeeOracle
from adapters.evm.rpc import JsonRpcClient
from adapters.evm.scanner import LogScanner, MemoryBlockHashStore, Reader, fetch_logs
from adapters.evm.settings import EvmChainSettings
from core.errors import ChainRejected, ChainUnavailable, ReorgDetected
from core.types import ChainAction
from proofs.evm.bft import BftFinality, BftVariant
from proofs.evm.finality import ConfirmationDepth

KEY = "0x" + "4f" * 32  # a throwaway key: the tests look for it in every text they can get
Answer = Callable[[list[Any]], Any]


class FakeNode:
    """Answers JSON-RPC (single and batch) from ``answers[method](params)``.

    An answer that is an ``Exception`` instance becomes a JSON-RPC error; the
    string ``"503"`` makes the whole HTTP request fail with status 503.
    """

    def __init__(self, answers: dict[str, Answer]) -> None:
        self.answers = answers
        self.calls: Counter[str] = Counter()
        self.params: dict[str, list[Any]] = {}

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        items = body if isinstance(body, list) else [body]
        replies = []
        for item in items:
            method = item["method"]
            self.calls[method] += 1
            self.params.setdefault(method, []).append(item["params"])
            result = self.answers[method](item["params"])
            if result == "503":
                return httpx.Response(503, text="busy")
            if isinstance(result, Exception):
                error = {"code": -32000, "message": str(result)}
                replies.append({"jsonrpc": "2.0", "id": item["id"], "error": error})
            else:
                replies.append({"jsonrpc": "2.0", "id": item["id"], "result": result})
        return httpx.Response(200, json=replies if isinstance(body, list) else replies[0])


def _settings(**changes: object) -> EvmChainSettings:
    values: dict[str, object] = {
        "chain": "evm-offline",
        "rpc_url": "http://node.test",
        "evm_chain_id": 31337,
        "insecure_plaintext_key": True,
        "signer_key": KEY,
        "retry_backoff": 0.0,
    }
    return EvmChainSettings(**(values | changes))


# --- settings and secrets ---------------------------------------------------------------------


def test_the_signer_key_never_shows_in_reprs_dumps_or_errors() -> None:
    settings = _settings()
    bare = KEY[2:]
    texts = [repr(settings), str(settings), settings.model_dump_json(), repr(settings.signer_key)]
    texts.append(repr(EvmAdapter(settings, transport=httpx.MockTransport(lambda r: None))))
    for bad in (KEY[:-2] + "zz", KEY + "00"):
        with pytest.raises(ValidationError) as info:
            _settings(insecure_plaintext_key=True, signer_key=bad)
        texts.append(str(info.value))
    with pytest.raises(ValidationError) as info:
        _settings(signer_kee=KEY)  # a typo in the field name is refused, quietly
    texts.append(str(info.value))
    for text in texts:
        assert bare.lower() not in text.lower(), text
    assert settings.signer_key is not None
    assert settings.signer_key.get_secret_value() == KEY


def test_errors_of_a_refused_send_do_not_carry_the_key() -> None:
    node = FakeNode(
        {
            "eth_getBlockByNumber": lambda p: {"baseFeePerGas": hex(10**9), "number": "0x1"},
            "eth_maxPriorityFeePerGas": lambda p: hex(10**9),
            "eth_getTransactionCount": lambda p: "0x0",
            "eth_sendRawTransaction": lambda p: ValueError("insufficient funds for gas * price"),
        }
    )

    async def scenario() -> ChainRejected:
        async with EvmAdapter(_settings(), transport=node.transport()) as adapter:
            action = ChainAction("raw", {"to": "0x" + "11" * 20, "gas": 21_000}, "k")
            with pytest.raises(ChainRejected) as info:
                await adapter.submit(action)
            return info.value

    error = asyncio.run(scenario())
    assert KEY[2:] not in f"{error} {error.details} {error!r}"


@pytest.mark.parametrize(
    "changes",
    [
        {"chain": "Not A Chain Id"},
        {"rpc_url": "ftp://node"},
        {"evm_chain_id": 0},
        {"bridge_address": "0x1234"},
        {"confirmations": -1},
        {"log_range": 0},
        {"rpc_timeout": 0},
        {"read_retries": 11},
        {"max_fee_per_gas_cap": 10**9, "max_priority_fee_cap": 2 * 10**9},
        {"default_priority_fee": 6 * 10**9},
        {"finality": "proof-of-work"},
    ],
)
def test_settings_bounds_are_checked(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        _settings(**changes)


def test_settings_choose_the_finality_policy_and_normalise_addresses() -> None:
    assert _settings(confirmations=4).finality_policy() == ConfirmationDepth(4)
    assert _settings(finality="qbft").finality_policy() == BftFinality(BftVariant.QBFT)
    assert _settings(finality="ibft2").finality_policy() == BftFinality(BftVariant.IBFT2)
    mixed = "0x" + "aB" * 20
    assert _settings(bridge_address=mixed).bridge_address == mixed.lower()
    assert _settings(trusting_period=3600).client_state().trusting_period == 3600


# --- reads are retried, writes are not ---------------------------------------------------------


def _flaky(failures: int, result: object) -> Answer:
    remaining = [failures]

    def answer(params: list[Any]) -> object:
        if remaining[0] > 0:
            remaining[0] -= 1
            return "503"
        return result

    return answer


def test_reads_are_retried_on_unavailability_only() -> None:
    node = FakeNode(
        {
            "eth_blockNumber": _flaky(2, "0x10"),
            "eth_chainId": _flaky(5, "0x1"),
            "eth_getBalance": lambda p: ValueError("invalid address"),
        }
    )

    async def scenario() -> None:
        async with JsonRpcClient("http://node.test", transport=node.transport()) as rpc:
            reader = Reader(rpc, retries=2, backoff=0.0)
            assert await reader.call("eth_blockNumber") == "0x10"
            with pytest.raises(ChainUnavailable):
                await reader.call("eth_chainId")
            with pytest.raises(ChainRejected):
                await reader.call("eth_getBalance", "0xzz", "latest")

    asyncio.run(scenario())
    assert node.calls == Counter({"eth_blockNumber": 3, "eth_chainId": 3, "eth_getBalance": 1})


def test_a_send_that_timed_out_is_not_retried_but_resent_as_the_same_bytes_on_resubmit() -> None:
    sends: list[str] = []

    def send(params: list[Any]) -> object:
        sends.append(params[0])
        if len(sends) == 1:
            return "503"
        return ValueError("already known")

    node = FakeNode(
        {
            "eth_getBlockByNumber": lambda p: {"baseFeePerGas": hex(10**9), "number": "0x1"},
            "eth_maxPriorityFeePerGas": lambda p: hex(10**9),
            "eth_getTransactionCount": lambda p: "0x7",
            "eth_sendRawTransaction": send,
        }
    )
    action = ChainAction("raw", {"to": "0x" + "11" * 20, "value": 5, "gas": 21_000}, "once")

    async def scenario() -> None:
        async with EvmAdapter(_settings(), transport=node.transport()) as adapter:
            with pytest.raises(ChainUnavailable):
                await adapter.submit(action)
            assert len(sends) == 1  # the write was not retried
            assert adapter.nonces.outstanding == frozenset()
            tx_hash = await adapter.submit(action)  # same key: the same signed bytes again
            assert sends[1] == sends[0]
            signed = Account.from_key(KEY).sign_transaction(
                {
                    "to": "0x" + "11" * 20,
                    "value": 5,
                    "data": b"",
                    "gas": 21_000,
                    "nonce": 7,
                    "chainId": 31337,
                    "maxFeePerGas": 3 * 10**9,
                    "maxPriorityFeePerGas": 10**9,
                    "type": 2,
                }
            )
            assert tx_hash == bytes(signed.hash)
            assert sends[0] == "0x" + bytes(signed.raw_transaction).hex()
            assert await adapter.submit(action) == tx_hash
            assert len(sends) == 2  # accepted now: a third submit sends nothing

    asyncio.run(scenario())


# --- chunked log reading ------------------------------------------------------------------------


def _log(height: int, index: int, block_hash: str | None = None) -> dict[str, Any]:
    return {
        "address": "0x" + "bb" * 20,
        "topics": ["0x" + "01" * 32],
        "data": "0x",
        "blockNumber": hex(height),
        "logIndex": hex(index),
        "transactionIndex": "0x0",
        "transactionHash": "0x" + "cc" * 32,
        "blockHash": block_hash or _block_hash(height),
    }


def _block_hash(height: int, fork: int = 0) -> str:
    return "0x" + f"{fork:02x}" * 28 + f"{height:08x}"


def test_a_refused_log_range_is_halved_until_the_node_accepts_it() -> None:
    def get_logs(params: list[Any]) -> object:
        low, high = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
        if high - low + 1 > 3:
            return ValueError("query returned more than 10000 results")
        return [_log(h, 0) for h in range(low, high + 1) if h % 2 == 0]

    node = FakeNode({"eth_getLogs": get_logs})

    async def scenario() -> list[dict[str, Any]]:
        async with JsonRpcClient("http://node.test", transport=node.transport()) as rpc:
            reader = Reader(rpc, retries=0)
            return await fetch_logs(reader, 0, 20, addresses=["0x" + "bb" * 20], log_range=16)

    logs = asyncio.run(scenario())
    assert [int(log["blockNumber"], 16) for log in logs] == list(range(0, 21, 2))
    windows = [(p[0]["fromBlock"], p[0]["toBlock"]) for p in node.params["eth_getLogs"]]
    assert windows[:3] == [("0x0", "0xf"), ("0x0", "0x7"), ("0x0", "0x3")]


def test_a_chunk_read_across_a_reorg_is_refused_and_not_advanced() -> None:
    node = FakeNode(
        {
            "eth_getLogs": lambda p: [_log(3, 0, block_hash=_block_hash(3, fork=1))],
            "eth_getBlockByNumber": lambda p: {"hash": _block_hash(int(p[0], 16))},
        }
    )

    async def scenario() -> None:
        async with JsonRpcClient("http://node.test", transport=node.transport()) as rpc:
            scanner = LogScanner(Reader(rpc, retries=0), addresses=["0x" + "bb" * 20], start=1)
            with pytest.raises(ReorgDetected):
                await scanner.scan(5)
            assert scanner.next_height == 1

    asyncio.run(scenario())


def test_memory_hash_store_keeps_the_newest_heights_and_rewinds() -> None:
    store = MemoryBlockHashStore(keep=3)
    for height in (5, 1, 9, 7):
        store.put(height, bytes([height]) * 32)
    assert [h for h, _ in store.recent(10)] == [9, 7, 5]
    assert store.get(1) is None
    store.rewind(6)
    assert store.recent(10) == [(5, b"\x05" * 32)]
    assert store.recent(0) == []


# --- fees -------------------------------------------------------------------------------------


def _oracle(node: FakeNode, clock: Callable[[], float], **limits: Any) -> Callable[[], Any]:
    values = {"max_fee_per_gas_cap": 100 * 10**9, "max_priority_fee_cap": 2 * 10**9}
    values |= {"default_priority_fee": 10**9, "quote_ttl": 1.0} | limits

    async def quote() -> Any:
        async with JsonRpcClient("http://node.test", transport=node.transport()) as rpc:
            oracle = FeeOracle(Reader(rpc, retries=0), FeeLimits(**values), clock=clock)
            first = await oracle.quote()
            second = await oracle.quote()
            return first, second

    return quote


def test_fee_quote_uses_base_fee_and_a_clamped_tip_and_is_reused_within_its_ttl() -> None:
    node = FakeNode(
        {
            "eth_getBlockByNumber": lambda p: {"baseFeePerGas": hex(7 * 10**9)},
            "eth_maxPriorityFeePerGas": lambda p: hex(9 * 10**9),  # above the tip cap
        }
    )
    first, second = asyncio.run(_oracle(node, lambda: 0.0)())
    assert first is second
    assert node.calls["eth_getBlockByNumber"] == 1
    assert first.tx_fields() == {
        "maxFeePerGas": 2 * 7 * 10**9 + 2 * 10**9,
        "maxPriorityFeePerGas": 2 * 10**9,
        "type": 2,
    }


def test_fee_quote_falls_back_to_the_default_tip_and_to_legacy_gas_price() -> None:
    no_tip = FakeNode(
        {
            "eth_getBlockByNumber": lambda p: {"baseFeePerGas": hex(10**9)},
            "eth_maxPriorityFeePerGas": lambda p: ValueError("the method does not exist"),
        }
    )
    ticks = iter([0.0, 5.0])
    first, _ = asyncio.run(_oracle(no_tip, lambda: next(ticks))())
    assert first.max_priority_fee_per_gas == 10**9
    assert no_tip.calls["eth_getBlockByNumber"] == 2  # the quote had expired

    legacy = FakeNode(
        {
            "eth_getBlockByNumber": lambda p: {"number": "0x5"},
            "eth_maxPriorityFeePerGas": lambda p: ValueError("the method does not exist"),
            "eth_gasPrice": lambda p: hex(3 * 10**9),
        }
    )
    quote, _ = asyncio.run(_oracle(legacy, lambda: 0.0)())
    assert quote.tx_fields() == {"gasPrice": 3 * 10**9}
    pricey = FakeNode(legacy.answers | {"eth_gasPrice": lambda p: hex(101 * 10**9)})
    with pytest.raises(ChainRejected) as info:
        asyncio.run(_oracle(pricey, lambda: 0.0)())
    assert info.value.details["check"] == "fee-cap"
