"""The node's HTTP API through ``httpx.ASGITransport``: the table of docs/pujiang-chain.md,
its bounds and its problem+json errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from devnet.api import create_app
from devnet.state import nonce_key
from proofs.pujiang import codec
from tests.devnet.test_bridge import FAR, foreign_packet, recv, send
from tests.fixtures.devnet_chain import Chain

PROBLEM = "application/problem+json"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def client_for(chain: Chain) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(chain.node))
    return httpx.AsyncClient(transport=transport, base_url="http://devnet")


@pytest.fixture
async def api(chain: Chain) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(chain) as client:
        yield client


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == code
    assert body["type"] == f"https://pujiang.dev/problems/{code}"
    return body


@pytest.mark.anyio
async def test_status_block_and_validators(api: httpx.AsyncClient, chain: Chain) -> None:
    status = (await api.get("/v1/status")).json()
    assert set(status) == {
        "chain_id",
        "hash_profile",
        "latest_height",
        "latest_hash",
        "latest_time_ms",
        "genesis_hash",
    }
    block = (await api.get("/v1/blocks/1")).json()
    assert set(block) == {"height", "hash", "header", "commit"}
    assert block["hash"] == status["latest_hash"]
    header = codec.decode_header(bytes.fromhex(block["header"][2:]))
    valset = (await api.get("/v1/validators/1")).json()
    validators = codec.decode_validator_set(bytes.fromhex(valset["validators"][2:]))
    assert "0x" + header.validators_hash.hex() == valset["validators_hash"]
    assert len(validators) == 4
    assert (await api.get("/v1/validators/2")).status_code == 200  # the tip + 1 is known
    assert_problem(await api.get("/v1/validators/3"), 404, "not-found")
    assert_problem(await api.get("/v1/blocks/2"), 404, "not-found")
    assert_problem(await api.get("/v1/blocks/0"), 422, "invalid-input")
    assert_problem(await api.get("/v1/blocks/abc"), 422, "invalid-input")


@pytest.mark.anyio
async def test_submit_then_receipt_pending_then_committed(
    api: httpx.AsyncClient, chain: Chain
) -> None:
    tx = chain.sign(0, "transfer", [chain.address(1), b"upj", 42])
    response = await api.post("/v1/txs", json={"tx": "0x" + tx.hex()})
    assert response.status_code == 202
    tx_hash = response.json()["tx_hash"]
    assert tx_hash == "0x" + chain.hash_fn(tx).hex()
    pending = (await api.get(f"/v1/txs/{tx_hash}")).json()
    assert pending["status"] == "pending"
    assert pending["height"] is None
    made = (await api.post("/v1/blocks")).json()
    assert made["height"] == 2
    receipt = (await api.get(f"/v1/txs/{tx_hash}")).json()
    assert set(receipt) == {"tx_hash", "status", "height", "index", "reason", "events"}
    assert (receipt["status"], receipt["height"], receipt["index"]) == ("committed", 2, 0)
    account = (await api.get(f"/v1/accounts/0x{chain.address(1).hex()}")).json()
    assert account["balances"]["upj"] == str(10**15 + 42)


@pytest.mark.anyio
async def test_refused_submissions_are_problems_with_a_reason(
    api: httpx.AsyncClient, chain: Chain
) -> None:
    tx = codec.decode_transaction(chain.sign(0, "transfer", [chain.address(1), b"upj", 1]))
    forged = codec.encode(tx.copy(signature=bytes(64)))
    body = assert_problem(
        await api.post("/v1/txs", json={"tx": "0x" + forged.hex()}), 422, "bad-signature"
    )
    assert body["reason"] == "bad-signature"
    gap = chain.sign(1, "transfer", [chain.address(0), b"upj", 1], nonce=9)
    body = assert_problem(await api.post("/v1/txs", json={"tx": "0x" + gap.hex()}), 409, "conflict")
    assert body["reason"] == "wrong-nonce"
    good = chain.sign(2, "transfer", [chain.address(0), b"upj", 1])
    assert (await api.post("/v1/txs", json={"tx": "0x" + good.hex()})).status_code == 202
    assert_problem(await api.post("/v1/txs", json={"tx": "0x" + good.hex()}), 409, "conflict")
    assert_problem(await api.post("/v1/txs", json={"tx": "beef"}), 422, "invalid-input")
    assert_problem(await api.post("/v1/txs", json={"tx": "0xabc"}), 422, "invalid-input")
    assert_problem(await api.post("/v1/txs", json={}), 422, "invalid-input")
    assert_problem(
        await api.post("/v1/txs", json={"tx": "0x" + "00" * 70_000}), 422, "invalid-input"
    )
    huge = b'{"tx": "0x' + b"00" * (2 << 20) + b'"}'  # over the 4 MiB bound of a batch
    assert_problem(await api.post("/v1/txs", content=huge), 413, "too-large")
    big = b'{"blob": "' + b"00" * 200_000 + b'"}'  # other bodies: 256 KiB
    assert_problem(await api.post("/v1/faults/offline", content=big), 413, "too-large")
    assert_problem(await api.get("/v1/txs/0x" + "00" * 32), 404, "not-found")
    assert_problem(await api.get("/v1/txs/0x1234"), 422, "invalid-input")


@pytest.mark.anyio
async def test_events_and_their_proofs(api: httpx.AsyncClient, chain: Chain) -> None:
    send(chain)
    recv(chain, foreign_packet(chain))
    answer = (await api.get("/v1/events", params={"from": 1, "to": 10})).json()
    events = answer["events"]
    assert [e["kind"] for e in events] == ["send_packet", "recv_packet"]
    assert set(events[0]) == {"height", "index", "kind", "tx_hash", "event", "attributes"}
    assert events[0]["attributes"]["dest_chain"] == "evm-1"
    only = (await api.get("/v1/events", params={"from": 1, "kind": "recv_packet"})).json()
    assert [e["kind"] for e in only["events"]] == ["recv_packet"]
    by_dest = (await api.get("/v1/events", params={"from": 1, "dest_chain": "evm-1"})).json()
    assert len(by_dest["events"]) == 1
    proof = (await api.get(f"/v1/proofs/event/{events[1]['height']}/0")).json()
    assert set(proof) == {"height", "index", "event", "path"}
    assert proof["event"] == events[1]["event"]
    assert_problem(
        await api.get("/v1/events", params={"from": 1, "to": 1002}), 422, "invalid-input"
    )
    assert_problem(
        await api.get("/v1/events", params={"from": 1, "limit": 1001}), 422, "invalid-input"
    )
    assert_problem(await api.get("/v1/events"), 422, "invalid-input")
    assert_problem(await api.get("/v1/proofs/event/2/9"), 404, "not-found")


@pytest.mark.anyio
async def test_events_page_inside_a_block_from_an_event_index(
    api: httpx.AsyncClient, chain: Chain
) -> None:
    args = [b"evm-1", b"\xee" * 20, b"upj", 100, 0, FAR]
    receipts = chain.run(*(chain.sign(0, "bridge_send", args) for _ in range(5)))
    (block,) = {r["height"] for r in receipts}
    whole = (await api.get("/v1/events", params={"from": block, "to": block})).json()["events"]
    page = {"from": block, "to": block + 1, "limit": 2, "from_index": 2}
    rest = (await api.get("/v1/events", params=page)).json()["events"]
    assert [(e["height"], e["index"]) for e in rest] == [(block, 2), (block, 3)]
    assert rest == whole[2:4]
    assert_problem(
        await api.get("/v1/events", params={"from": block, "from_index": -1}),
        422,
        "invalid-input",
    )


@pytest.mark.anyio
async def test_event_proofs_of_a_block_in_one_answer_equal_the_single_ones(
    api: httpx.AsyncClient, chain: Chain
) -> None:
    args = [b"evm-1", b"\xee" * 20, b"upj", 100, 0, FAR]
    receipts = chain.run(*(chain.sign(0, "bridge_send", args) for _ in range(5)))
    (block,) = {r["height"] for r in receipts}
    answer = (await api.get(f"/v1/proofs/events/{block}", params={"from": 1, "to": 3})).json()
    assert (answer["height"], answer["count"]) == (block, 5)
    assert [p["index"] for p in answer["proofs"]] == [1, 2, 3]
    for proof in answer["proofs"]:
        single = (await api.get(f"/v1/proofs/event/{block}/{proof['index']}")).json()
        assert (proof["event"], proof["path"]) == (single["event"], single["path"])
    assert_problem(
        await api.get(f"/v1/proofs/events/{block}", params={"from": 0, "to": 5}), 404, "not-found"
    )
    assert_problem(
        await api.get(f"/v1/proofs/events/{block}", params={"from": 3, "to": 2}),
        422,
        "invalid-input",
    )
    assert_problem(
        await api.get(f"/v1/proofs/events/{block}", params={"from": 0, "to": 1000}),
        422,
        "invalid-input",
    )
    assert_problem(await api.get(f"/v1/proofs/events/{block}"), 422, "invalid-input")
    assert_problem(
        await api.get("/v1/proofs/events/99", params={"from": 0, "to": 0}), 404, "not-found"
    )


@pytest.mark.anyio
async def test_state_proofs(api: httpx.AsyncClient, chain: Chain) -> None:
    chain.run1(0, "transfer", [chain.address(1), b"upj", 1])
    key = "0x" + nonce_key(chain.address(0)).hex()
    present = (await api.get("/v1/proofs/state", params={"key": key})).json()
    assert set(present) == {"height", "key", "value", "index", "path"}
    assert present["value"] == "0x01"
    assert present["height"] == 2
    absent_key = "0x" + nonce_key(chain.address(0)).hex()
    absent = (await api.get("/v1/proofs/state", params={"key": absent_key, "height": 1})).json()
    assert set(absent) == {"height", "key", "value", "left", "right"}
    assert absent["value"] is None
    assert_problem(await api.get("/v1/proofs/state", params={"key": "zz"}), 422, "invalid-input")
    assert_problem(
        await api.get("/v1/proofs/state", params={"key": key, "height": 9}), 404, "not-found"
    )


@pytest.mark.anyio
async def test_post_blocks_is_refused_on_a_timer_node(chain_factory: Callable[..., Chain]) -> None:
    chain = chain_factory(block_time=1.0)  # timer not started: nothing moves under the test
    async with client_for(chain) as api:
        assert_problem(await api.post("/v1/blocks"), 409, "conflict")
        assert_problem(await api.post("/v1/faults/equivocate"), 404, "not-found")


@pytest.mark.anyio
async def test_instant_mode_commits_each_tx_in_its_own_block(
    chain_factory: Callable[..., Chain],
) -> None:
    chain = chain_factory(instant=True)
    async with client_for(chain) as api:
        for _ in range(2):
            tx = chain.sign(0, "transfer", [chain.address(1), b"upj", 1])
            tx_hash = (await api.post("/v1/txs", json={"tx": "0x" + tx.hex()})).json()["tx_hash"]
            receipt = (await api.get(f"/v1/txs/{tx_hash}")).json()
            assert receipt["status"] == "committed"
        assert chain.node.height == 3
        assert (await api.post("/v1/blocks")).json()["height"] == 4


@pytest.mark.anyio
async def test_fault_endpoints(chain_factory: Callable[..., Chain]) -> None:
    chain = chain_factory(faults=True)
    async with client_for(chain) as api:
        forged = (await api.post("/v1/faults/equivocate", json={"signers": [0, 1, 2]})).json()
        header = codec.decode_header(bytes.fromhex(forged["header"][2:]))
        stored = (await api.get("/v1/blocks/1")).json()
        assert header.height == 1
        assert forged["hash"] != stored["hash"]
        commit = codec.decode_commit(bytes.fromhex(forged["commit"][2:]))
        assert codec.decode_signers(commit.signers, 4) == [0, 1, 2]
        assert (await api.post("/v1/faults/equivocate")).status_code == 200
        assert (await api.post("/v1/faults/offline", json={"validators": [1]})).json() == {
            "offline": [1]
        }
        assert_problem(
            await api.post("/v1/faults/offline", json={"validators": [0, 1]}), 422, "invalid-input"
        )
        assert_problem(
            await api.post("/v1/faults/equivocate", json={"height": 7}), 404, "not-found"
        )


@pytest.mark.anyio
async def test_a_batch_answers_each_entry_in_order(api: httpx.AsyncClient, chain: Chain) -> None:
    good = [chain.sign(0, "transfer", [chain.address(1), b"upj", 1]) for _ in range(3)]
    forged = codec.encode(
        codec.decode_transaction(chain.sign(1, "transfer", [chain.address(0), b"upj", 1])).copy(
            signature=bytes(64)
        )
    )
    gap = chain.sign(2, "transfer", [chain.address(0), b"upj", 1], nonce=9)
    entries = ["0x" + good[0].hex(), "0xabc", "0x" + forged.hex(), "0x" + good[1].hex()]
    entries += ["0x" + good[1].hex(), "0x" + gap.hex(), "0x" + good[2].hex()]
    response = await api.post("/v1/txs", json={"txs": entries})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == [202, 422, 422, 202, 409, 409, 202]
    assert [r.get("code") for r in results] == [
        None, "invalid-input", "bad-signature", None, "conflict", "conflict", None
    ]  # fmt: skip
    assert results[5]["reason"] == "wrong-nonce"
    assert results[1]["instance"] == "/v1/txs#1"
    assert [r["tx_hash"] for r in results if r["status"] == 202] == [
        "0x" + chain.hash_fn(tx).hex() for tx in good
    ]
    chain.node.produce_block()
    for tx in good:
        assert chain.node.query_tx(chain.hash_fn(tx))["status"] == "committed"


@pytest.mark.anyio
async def test_a_batch_is_bounded_and_exclusive_with_tx(api: httpx.AsyncClient) -> None:
    one = "0x" + "00" * 8
    assert_problem(await api.post("/v1/txs", json={"tx": one, "txs": [one]}), 422, "invalid-input")
    assert_problem(await api.post("/v1/txs", json={"txs": []}), 422, "invalid-input")
    assert_problem(await api.post("/v1/txs", json={"txs": [one] * 1001}), 422, "invalid-input")
    assert (await api.post("/v1/txs", json={"txs": [one] * 1000})).status_code == 200


@pytest.mark.anyio
async def test_an_instant_node_commits_a_batch_in_one_block(
    chain_factory: Callable[..., Chain],
) -> None:
    chain = chain_factory(instant=True)
    before = chain.node.height
    txs = [chain.sign(0, "transfer", [chain.address(1), b"upj", 1]) for _ in range(5)]
    async with client_for(chain) as api:
        response = await api.post("/v1/txs", json={"txs": ["0x" + t.hex() for t in txs]})
    assert [r["status"] for r in response.json()["results"]] == [202] * 5
    assert chain.node.height == before + 1
    assert chain.node.header(chain.node.height).tx_count == 5
