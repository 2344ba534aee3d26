"""JsonRpcClient: failures become ChainUnavailable / ChainRejected; batches keep their order."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from eth_abi import encode

from adapters.evm.rpc import JsonRpcClient, decode_revert_reason
from core.errors import ChainError, ChainRejected, ChainUnavailable
from tests.evm.chain import Chain

Handler = Callable[[httpx.Request], httpx.Response]


def _run(handler: Handler, method: str = "eth_blockNumber", *params: Any) -> Any:
    async def go() -> Any:
        async with JsonRpcClient("http://node.test", transport=httpx.MockTransport(handler)) as rpc:
            return await rpc.call(method, *params)

    return asyncio.run(go())


def _error(code: int, message: str, data: object = None) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        error = {"code": code, "message": message, "data": data}
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"], "error": error})

    return handler


def _raise(exc: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


def test_call_returns_the_result() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert body == {
            "jsonrpc": "2.0",
            "id": body["id"],
            "method": "eth_getBalance",
            "params": ["0xab", "latest"],
        }
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"], "result": "0x10"})

    assert _run(handler, "eth_getBalance", "0xab", "latest") == "0x10"


@pytest.mark.parametrize(
    "handler",
    [
        _raise(httpx.ReadTimeout("slow")),
        _raise(httpx.ConnectError("refused")),
        lambda request: httpx.Response(503, text="busy"),
        lambda request: httpx.Response(429, text="slow down"),
        lambda request: httpx.Response(200, text="<html>proxy error</html>"),
    ],
    ids=["timeout", "connect_error", "http_503", "http_429", "not_json"],
)
def test_transport_failures_are_chain_unavailable_and_retryable(handler: Handler) -> None:
    with pytest.raises(ChainUnavailable) as info:
        _run(handler)
    assert info.value.retryable


def test_an_http_4xx_without_rpc_error_is_a_non_retryable_chain_error() -> None:
    with pytest.raises(ChainError) as info:
        _run(lambda request: httpx.Response(401, json={"message": "unauthorized"}))
    assert not isinstance(info.value, ChainUnavailable | ChainRejected)
    assert not info.value.retryable


def test_an_http_4xx_with_an_rpc_error_is_chain_rejected() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        error = {"code": -32602, "message": "invalid params"}
        return httpx.Response(400, json={"jsonrpc": "2.0", "id": 1, "error": error})

    with pytest.raises(ChainRejected, match="invalid params"):
        _run(handler)


def test_a_closed_port_is_chain_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    async def go() -> None:
        async with JsonRpcClient(f"http://127.0.0.1:{port}", timeout=2.0) as rpc:
            await rpc.call("eth_chainId")

    with pytest.raises(ChainUnavailable) as info:
        asyncio.run(go())
    assert isinstance(info.value.__cause__, httpx.HTTPError)


def test_a_revert_is_chain_rejected_with_its_reason() -> None:
    data = "0x08c379a0" + encode(["string"], ["Bridge: paused"]).hex()
    with pytest.raises(ChainRejected) as info:
        _run(_error(3, "execution reverted", data), "eth_call", {})
    assert not info.value.retryable
    assert info.value.details["reason"] == "Bridge: paused"
    assert info.value.details["rpc_code"] == 3
    assert "Bridge: paused" in str(info.value)


def test_revert_data_nested_in_an_object_is_decoded() -> None:
    data = {"data": "0x4e487b71" + encode(["uint256"], [0x11]).hex()}
    with pytest.raises(ChainRejected) as info:
        _run(_error(-32000, "execution reverted", data), "eth_estimateGas", {})
    assert info.value.details["reason"] == "panic 0x11"


def test_an_error_without_revert_data_keeps_the_node_message() -> None:
    with pytest.raises(ChainRejected) as info:
        _run(_error(-32000, "nonce too low"), "eth_sendRawTransaction", "0x00")
    assert info.value.details["reason"] is None
    assert "nonce too low" in str(info.value)


def test_custom_errors_and_garbage_are_not_decoded() -> None:
    assert decode_revert_reason(bytes.fromhex("deadbeef") + bytes(32)) is None
    assert decode_revert_reason(bytes.fromhex("08c379a0") + b"\x01") is None


def test_batch_results_follow_the_call_order_even_when_answers_do_not() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        answers = []
        for item in reversed(json.loads(request.content)):
            if item["method"] == "bad":
                answers.append(
                    {
                        "jsonrpc": "2.0",
                        "id": item["id"],
                        "error": {"code": -32601, "message": "nope"},
                    }
                )
            else:
                answers.append({"jsonrpc": "2.0", "id": item["id"], "result": item["params"][0]})
        return httpx.Response(200, json=answers)

    async def go() -> tuple[list[Any], list[Any]]:
        async with JsonRpcClient("http://node.test", transport=httpx.MockTransport(handler)) as rpc:
            ok = await rpc.batch([("echo", [1]), ("echo", [2]), ("echo", [3])])
            mixed = await rpc.batch([("echo", [1]), ("bad", [0])], strict=False)
            with pytest.raises(ChainRejected):
                await rpc.batch([("echo", [1]), ("bad", [0])])
            return ok, mixed

    ok, mixed = asyncio.run(go())
    assert ok == [1, 2, 3]
    assert mixed[0] == 1
    assert isinstance(mixed[1], ChainRejected)


def test_batch_against_anvil(chain: Chain) -> None:
    chain_id, block, balance = chain.run(
        chain.rpc.batch(
            [
                ("eth_chainId", []),
                ("eth_blockNumber", []),
                ("eth_getBalance", ["0x" + "00" * 20, "latest"]),
            ]
        )
    )
    assert int(chain_id, 16) == 31337
    assert int(block, 16) >= 0
    assert balance.startswith("0x")


def test_unknown_method_on_anvil_is_rejected(chain: Chain) -> None:
    with pytest.raises(ChainRejected):
        chain.call("pjgw_noSuchMethod")
