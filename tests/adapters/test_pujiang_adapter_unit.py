"""PujiangAdapter against a scripted node: chunking, paging, decoding, actions, bounds.

The node is an ``httpx.MockTransport`` (a mock of the node's transport) that
serves hand-built wire objects, so each test pins one behaviour of the adapter
without a chain; the same adapter runs against the real devnet in
``test_pujiang_asgi.py`` and ``test_pujiang_conformance.py``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import rlp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from adapters.pujiang import PujiangAdapter, PujiangSettings, actions
from core.errors import ChainError, ConfigError, InvalidInput, NotFound
from core.ids import Height
from core.types import ChainAction, EventKind
from proofs.hashing import SHA256
from proofs.pujiang import codec

CHAIN = "pj-test"
SEED = bytes(range(32))

Route = Callable[[httpx.Request], httpx.Response | dict[str, Any]]


class MockNodeTransport:
    """Routes by path prefix to canned answers; records every request."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for prefix, route in self.routes.items():
            if request.url.path.startswith(prefix):
                answer = route(request)
                return (
                    answer
                    if isinstance(answer, httpx.Response)
                    else httpx.Response(200, json=answer)
                )
        return httpx.Response(404, json={"detail": f"no route {request.url.path}"})

    def paths(self, prefix: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith(prefix)]


def run(mock: MockNodeTransport, call: Callable[[PujiangAdapter], Any], **options: Any) -> Any:
    base = {"url": "http://node.test", "chain_id": CHAIN, "retry_attempts": 1}
    adapter = PujiangAdapter(
        PujiangSettings(**(base | options)), transport=httpx.MockTransport(mock)
    )

    async def go() -> Any:
        async with adapter:
            return await call(adapter)

    return asyncio.run(go())


def event_leaf(kind: str, index: int, **attrs: bytes) -> bytes:
    attributes = [[k.encode(), v] for k, v in attrs.items()]
    return codec.encode(
        codec.Event(kind=kind.encode(), tx_index=index, event_index=0, attributes=attributes)
    )


PACKET = codec.Packet(
    source_chain=CHAIN.encode(),
    dest_chain=b"evm-1",
    sequence=7,
    sender=b"\x01" * 20,
    receiver=b"\x02" * 20,
    denom=b"upj",
    amount=10**20,
    payload=b"",
    timeout_height=0,
    timeout_time_ms=1_900_000_000_000,
)


def packet_leaf(kind: str, index: int) -> bytes:
    values = {name: getattr(PACKET, name) for name in PACKET_FIELDS}
    as_bytes = {k: (v if isinstance(v, bytes) else codec.to_raw(v)) for k, v in values.items()}
    return event_leaf(kind, index, **as_bytes)  # type: ignore[arg-type]


PACKET_FIELDS = [name for name, _ in codec.Packet._meta.fields]


def row(height: int, index: int, leaf: bytes, tx: int = 0) -> dict[str, Any]:
    return {
        "height": height,
        "index": index,
        "kind": codec.decode_event(leaf).kind.decode(),
        "tx_hash": "0x" + bytes([tx]).hex() * 32,
        "event": "0x" + leaf.hex(),
        "attributes": {},
    }


# --- heights and identity ------------------------------------------------------------


def test_latest_and_finalized_height_come_from_status() -> None:
    mock = MockNodeTransport({"/v1/status": lambda r: {"chain_id": CHAIN, "latest_height": 42}})
    assert run(mock, lambda a: a.latest_height()) == 42
    assert run(mock, lambda a: a.finalized_height()) == 42


def test_a_node_of_another_chain_is_a_config_error() -> None:
    mock = MockNodeTransport({"/v1/status": lambda r: {"chain_id": "other", "latest_height": 1}})
    with pytest.raises(ConfigError, match="serves chain 'other'"):
        run(mock, lambda a: a.latest_height())


def test_a_node_with_another_hash_profile_is_a_config_error() -> None:
    status = {"chain_id": CHAIN, "latest_height": 1, "hash_profile": "sm3"}
    mock = MockNodeTransport({"/v1/status": lambda r: status})
    with pytest.raises(ConfigError, match="sm3"):
        run(mock, lambda a: a.latest_height())


def test_malformed_status_field_is_a_chain_error_naming_it() -> None:
    mock = MockNodeTransport({"/v1/status": lambda r: {"chain_id": CHAIN, "latest_height": "7"}})
    with pytest.raises(ChainError, match="latest_height"):
        run(mock, lambda a: a.latest_height())


# --- events ----------------------------------------------------------------------------


def test_events_are_split_into_requests_of_range_size_heights() -> None:
    mock = MockNodeTransport({"/v1/events": lambda r: {"events": []}})
    assert run(mock, lambda a: a.events(Height(1), Height(2500)), range_size=1000) == []
    ranges = [(r.url.params["from"], r.url.params["to"]) for r in mock.requests]
    assert ranges == [("1", "1000"), ("1001", "2000"), ("2001", "2500")]


def page_after(rows: list[dict[str, Any]], limit: int) -> Any:
    """A node answering ``/v1/events`` from ``rows`` as the devnet does: from ``(from,
    from_index)`` on, in chain order, at most ``limit``."""

    def answer(request: Any) -> dict[str, Any]:
        start = (int(request.url.params["from"]), int(request.url.params.get("from_index", 0)))
        after = [r for r in rows if (r["height"], r["index"]) >= start]
        return {"events": after[:limit]}

    return answer


def test_a_full_page_resumes_after_its_last_event_without_duplicates() -> None:
    leaves = [packet_leaf("send_packet", i) for i in range(3)]
    rows = [row(1, 0, leaves[0]), row(2, 0, leaves[1]), row(3, 0, leaves[2])]
    mock = MockNodeTransport({"/v1/events": page_after(rows, 2)})
    events = run(mock, lambda a: a.events(Height(1), Height(3)), page_limit=2)
    assert [(e.height, e.position) for e in events] == [(1, (0,)), (2, (0,)), (3, (0,))]
    asked = [(r.url.params["from"], r.url.params.get("from_index")) for r in mock.requests]
    assert asked == [("1", None), ("2", "1")]


def test_a_block_with_more_events_than_a_page_is_read_whole_across_pages() -> None:
    """3,000 sends in one devnet block stalled the watcher while the API had no cursor
    inside a block (issue #15's burst); now the page resumes at the next event index."""
    leaf = packet_leaf("send_packet", 0)
    rows = [row(5, i, leaf) for i in range(5)] + [row(7, 0, leaf)]
    mock = MockNodeTransport({"/v1/events": page_after(rows, 2)})
    events = run(mock, lambda a: a.events(Height(5), Height(9)), page_limit=2)
    assert [(e.height, e.position) for e in events] == [(5, (i,)) for i in range(5)] + [(7, (0,))]
    asked = [(r.url.params["from"], r.url.params.get("from_index")) for r in mock.requests]
    assert asked == [("5", None), ("5", "2"), ("5", "4"), ("7", "1")]


def test_a_page_going_backwards_or_past_the_range_is_a_chain_error() -> None:
    leaf = packet_leaf("send_packet", 0)
    backwards = [row(5, 1, leaf), row(5, 0, leaf)]
    mock = MockNodeTransport({"/v1/events": lambda r: {"events": backwards}})
    with pytest.raises(ChainError, match="event 5/0 outside the page asked for"):
        run(mock, lambda a: a.events(Height(5), Height(9)))
    beyond = [row(12, 0, leaf)]
    mock = MockNodeTransport({"/v1/events": lambda r: {"events": beyond}})
    with pytest.raises(ChainError, match="event 12/0 outside the page asked for"):
        run(mock, lambda a: a.events(Height(5), Height(9)))


def test_events_are_decoded_from_the_leaf_and_kinds_mapped() -> None:
    valset = event_leaf("validator_set_changed", 1, epoch=b"\x01")
    rows = [row(4, 0, packet_leaf("recv_packet", 0), tx=9), row(4, 1, valset)]
    mock = MockNodeTransport({"/v1/events": lambda r: {"events": rows}})
    (event,) = run(mock, lambda a: a.events(Height(4), Height(4)))
    assert event.kind is EventKind.RECEIVE_PACKET  # the chain's recv_packet
    assert event.tx_hash == b"\x09" * 32
    assert event.position == (0,)
    assert event.attributes["sequence"] == 7
    assert event.attributes["amount"] == 10**20
    assert event.attributes["dest_chain"] == "evm-1"
    assert event.attributes["sender"] == b"\x01" * 20
    assert event.attributes["packet"] == codec.encode(PACKET)
    assert event.raw == bytes.fromhex(rows[0]["event"][2:])  # the leaf that is proven


def test_an_event_leaf_that_does_not_decode_is_a_chain_error() -> None:
    bad = row(4, 0, packet_leaf("send_packet", 0)) | {"event": "0xc0ff"}
    mock = MockNodeTransport({"/v1/events": lambda r: {"events": [bad]}})
    with pytest.raises(ChainError, match="does not decode"):
        run(mock, lambda a: a.events(Height(4), Height(4)))


@pytest.mark.parametrize(("start", "end"), [(5, 4), (0, 3), (-1, 3), (True, 3), (1.5, 3)])
def test_bad_event_ranges_are_invalid_input_before_any_request(start: Any, end: Any) -> None:
    mock = MockNodeTransport({})
    with pytest.raises(InvalidInput):
        run(mock, lambda a: a.events(start, end))
    assert mock.requests == []


# --- headers, proofs, receipts ----------------------------------------------------------


def test_header_zero_is_invalid_and_above_the_tip_is_not_found() -> None:
    mock = MockNodeTransport({"/v1/blocks": lambda r: httpx.Response(404, json={"detail": "no"})})
    with pytest.raises(InvalidInput):
        run(mock, lambda a: a.header(Height(0)))
    with pytest.raises(NotFound):
        run(mock, lambda a: a.header(Height(10**9)))


def test_proof_carries_index_leaf_and_path() -> None:
    leaf = packet_leaf("send_packet", 0)
    path = [b"\xaa" * 32, b"\xbb" * 32]
    answer = {
        "height": 4,
        "index": 3,
        "event": "0x" + leaf.hex(),
        "path": ["0x" + p.hex() for p in path],
    }
    mock = MockNodeTransport(
        {
            "/v1/events": lambda r: {"events": [row(4, 3, leaf)]},
            "/v1/proofs/event/4/3": lambda r: answer,
        }
    )

    async def go(a: PujiangAdapter) -> Any:
        (event,) = await a.events(Height(4), Height(4))
        return await a.prove(event)

    proof = run(mock, go)
    assert (proof.kind, proof.height, proof.key) == ("rfc6962-event", 4, (3).to_bytes(8, "big"))
    assert proof.value == leaf
    assert proof.nodes == tuple(path)


def _bulk(height: int, first: int, last: int, leaves: dict[int, bytes]) -> dict[str, Any]:
    return {
        "height": height,
        "count": len(leaves),
        "proofs": [
            {"index": i, "event": "0x" + leaves[i].hex(), "path": ["0x" + bytes([i]).hex() * 32]}
            for i in range(first, last + 1)
        ],
    }


def test_prove_many_asks_once_per_block_and_gives_what_prove_gives() -> None:
    leaves = {i: packet_leaf("send_packet", i) for i in range(4)}

    def bulk(r: httpx.Request) -> dict[str, Any]:
        height = int(r.url.path.rsplit("/", 1)[1])
        first, last = int(r.url.params["from"]), int(r.url.params["to"])
        return _bulk(height, first, last, leaves)

    def single(r: httpx.Request) -> dict[str, Any]:
        _, height, index = r.url.path.rsplit("/", 2)
        answer = _bulk(int(height), int(index), int(index), leaves)["proofs"][0]
        return answer | {"height": int(height)}

    mock = MockNodeTransport(
        {
            "/v1/events": lambda r: {
                "events": [row(4, 1, leaves[1]), row(4, 3, leaves[3]), row(5, 0, leaves[0])]
            },
            "/v1/proofs/events/": bulk,
            "/v1/proofs/event/": single,
        }
    )

    async def go(a: PujiangAdapter) -> Any:
        events = await a.events(Height(4), Height(5))
        return await a.prove_many(events), [await a.prove(e) for e in events]

    many, one_by_one = run(mock, go)
    assert many == one_by_one
    bulk_requests = mock.paths("/v1/proofs/events/")
    assert [(r.url.path, dict(r.url.params)) for r in bulk_requests] == [
        ("/v1/proofs/events/4", {"from": "1", "to": "3"}),
        ("/v1/proofs/events/5", {"from": "0", "to": "0"}),
    ]


@pytest.mark.parametrize(
    "broken",
    [
        lambda a: a | {"proofs": a["proofs"][:-1]},  # one proof short
        lambda a: a | {"proofs": a["proofs"][::-1]},  # out of order
        lambda a: a | {"proofs": "all"},  # not a list
        lambda a: a | {"proofs": [p | {"path": "0x00"} for p in a["proofs"]]},  # path not a list
    ],
    ids=["short", "out-of-order", "not-a-list", "path-not-a-list"],
)
def test_prove_many_refuses_a_malformed_bulk_answer(
    broken: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    leaves = {i: packet_leaf("send_packet", i) for i in range(3)}
    mock = MockNodeTransport(
        {
            "/v1/events": lambda r: {"events": [row(4, 0, leaves[0]), row(4, 2, leaves[2])]},
            "/v1/proofs/events/4": lambda r: broken(_bulk(4, 0, 2, leaves)),
        }
    )

    async def go(a: PujiangAdapter) -> Any:
        return await a.prove_many(await a.events(Height(4), Height(4)))

    with pytest.raises(ChainError):
        run(mock, go)


def test_prove_many_falls_back_to_one_request_per_event_on_a_node_without_the_route() -> None:
    leaf = packet_leaf("send_packet", 0)
    answer = {"height": 4, "index": 3, "event": "0x" + leaf.hex(), "path": []}
    mock = MockNodeTransport(
        {
            "/v1/events": lambda r: {"events": [row(4, 3, leaf)]},
            "/v1/proofs/event/4/3": lambda r: answer,
        }
    )

    async def go(a: PujiangAdapter) -> Any:
        (event,) = await a.events(Height(4), Height(4))
        return await a.prove_many([event])

    (proof,) = run(mock, go)
    assert (proof.height, proof.key, proof.value) == (4, (3).to_bytes(8, "big"), leaf)
    assert len(mock.paths("/v1/proofs/event/4/3")) == 1


@pytest.mark.parametrize(
    ("answer", "height", "success"),
    [
        ({"status": "pending", "height": None}, None, None),
        ({"status": "committed", "height": 8, "reason": ""}, 8, True),
        ({"status": "failed", "height": 9, "reason": "replayed-packet: seen"}, 9, False),
        ({"status": "failed", "height": None, "reason": "bad-signature: no"}, None, False),
    ],
)
def test_receipt_maps_the_node_status(
    answer: dict[str, Any], height: int | None, success: bool | None
) -> None:
    mock = MockNodeTransport({"/v1/txs/": lambda r: answer | {"tx_hash": "0x" + "11" * 32}})
    receipt = run(mock, lambda a: a.receipt(b"\x11" * 32))
    assert (receipt.height, receipt.success) == (height, success)
    if success is False:
        assert receipt.reason == answer["reason"]


def test_receipt_of_an_unknown_tx_is_not_found_and_a_short_hash_invalid() -> None:
    mock = MockNodeTransport(
        {"/v1/txs/": lambda r: httpx.Response(404, json={"detail": "unknown"})}
    )
    with pytest.raises(NotFound):
        run(mock, lambda a: a.receipt(b"\x11" * 32))
    with pytest.raises(InvalidInput):
        run(mock, lambda a: a.receipt(b"\x11" * 31))


# --- actions -----------------------------------------------------------------------------


def certificate() -> bytes:
    return codec.encode(codec.Certificate(signatures=[b"\x01" * 65, b"\x02" * 65]))


def accept_tx(posted: list[bytes]) -> Route:
    def route(request: httpx.Request) -> dict[str, Any]:
        tx = bytes.fromhex(json.loads(request.content)["tx"][2:])
        posted.append(tx)
        return {"tx_hash": "0x" + SHA256(tx).hex()}

    return route


def nonce_route(nonce: int) -> Route:
    value = nonce.to_bytes((nonce.bit_length() + 7) // 8, "big")
    return lambda r: {
        "height": 3,
        "key": r.url.params["key"],
        "value": "0x" + value.hex(),
        "index": 0,
        "path": [],
    }


def test_bridge_recv_is_signed_by_the_relayer_key_at_the_committed_nonce_then_the_next() -> None:
    posted: list[bytes] = []
    mock = MockNodeTransport({"/v1/txs": accept_tx(posted), "/v1/proofs/state": nonce_route(5)})
    action = actions.bridge_recv_action(PACKET, certificate())
    assert action.idempotency_key == f"bridge_recv:{CHAIN}/evm-1/7"

    async def go(a: PujiangAdapter) -> list[bytes]:
        return [await a.submit(action), await a.submit(action)]

    hashes = run(mock, go, insecure_plaintext_key=True, relayer_key=SEED.hex())
    txs = [codec.decode_transaction(tx) for tx in posted]
    assert [tx.body.nonce for tx in txs] == [5, 6]
    assert hashes == [SHA256(tx) for tx in posted]
    tx = txs[0]
    assert tx.body.kind == b"bridge_recv"
    assert tx.body.chain_id == CHAIN.encode()
    packet_item, certificate_item = tx.body.args
    assert rlp.encode(packet_item) == codec.encode(PACKET)  # nested lists, as the chain wants
    assert rlp.encode(certificate_item) == certificate()
    Ed25519PublicKey.from_public_bytes(tx.pubkey).verify(
        tx.signature, codec.compute_tx_signing_message(tx.body)
    )
    assert tx.pubkey == actions.TxSigner(SEED).pubkey
    state_key = bytes.fromhex(mock.paths("/v1/proofs/state")[0].url.params["key"][2:])
    assert state_key == b"nonce/" + actions.TxSigner(SEED).address()


def test_an_explicit_nonce_in_the_payload_is_used_without_asking_the_node() -> None:
    posted: list[bytes] = []
    mock = MockNodeTransport({"/v1/txs": accept_tx(posted)})
    action = actions.bridge_timeout_action(codec.encode(PACKET), certificate(), nonce=11)
    run(mock, lambda a: a.submit(action), insecure_plaintext_key=True, relayer_key=SEED.hex())
    assert codec.decode_transaction(posted[0]).body.nonce == 11
    assert codec.decode_transaction(posted[0]).body.kind == b"bridge_timeout"
    assert mock.paths("/v1/proofs/state") == []


def test_raw_tx_is_posted_as_is_and_its_hash_computed_locally() -> None:
    tx = actions.build_signed_tx(
        actions.TxSigner(SEED), CHAIN, 0, "transfer", [b"\x02" * 20, b"upj", 1]
    )
    posted: list[bytes] = []
    mock = MockNodeTransport({"/v1/txs": accept_tx(posted)})
    tx_hash = run(mock, lambda a: a.submit(actions.raw_tx_action(tx)))
    assert posted == [tx]
    assert tx_hash == SHA256(tx)


def test_a_node_naming_another_tx_hash_is_a_chain_error() -> None:
    tx = actions.build_signed_tx(
        actions.TxSigner(SEED), CHAIN, 0, "transfer", [b"\x02" * 20, b"upj", 1]
    )
    mock = MockNodeTransport({"/v1/txs": lambda r: {"tx_hash": "0x" + "00" * 32}})
    with pytest.raises(ChainError, match="its hash is"):
        run(mock, lambda a: a.submit(actions.raw_tx_action(tx)))


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (ChainAction("mint_anything", {}, "k"), "unknown Pujiang action"),
        (ChainAction("raw_tx", {"tx": "0xzz"}, "k"), "0x-hex"),
        (ChainAction("raw_tx", {"tx": "0xc0"}, "k"), "does not decode"),
        (ChainAction("bridge_recv", {"packet": "0xc0", "certificate": "0xc0"}, "k"), "packet"),
        (
            ChainAction(
                "bridge_recv",
                {"packet": "0x" + codec.encode(PACKET).hex(), "certificate": "0x01"},
                "k",
            ),
            "certificate",
        ),
        (
            ChainAction(
                "bridge_recv",
                {"packet": "0x" + codec.encode(PACKET).hex(), "certificate": "0xc1c0", "nonce": -1},
                "k",
            ),
            "nonce",
        ),
    ],
)
def test_malformed_actions_are_invalid_input_before_any_request(
    action: ChainAction, message: str
) -> None:
    mock = MockNodeTransport({})
    with pytest.raises(InvalidInput, match=message):
        run(mock, lambda a: a.submit(action), insecure_plaintext_key=True, relayer_key=SEED.hex())
    assert mock.requests == []


def test_signing_without_a_relayer_key_is_a_config_error() -> None:
    mock = MockNodeTransport({})
    with pytest.raises(ConfigError, match="relayer_key"):
        run(mock, lambda a: a.submit(actions.bridge_recv_action(PACKET, certificate(), nonce=0)))


def test_the_signer_repr_shows_only_the_public_key() -> None:
    signer = actions.TxSigner(SEED)
    assert SEED.hex() not in repr(signer)
    assert signer.pubkey.hex() in repr(signer)


def test_a_bad_conformance_target_config_names_the_field_not_the_value() -> None:
    from adapters.pujiang.conformance import target_from_config

    secret = "ab" * 31  # one byte short
    with pytest.raises(ConfigError, match="sender_key") as caught:
        target_from_config({"url": "http://node.test", "chain_id": CHAIN}, {"sender_key": secret})
    assert secret not in str(caught.value)


def test_a_pjgw_chain_file_is_parsed_and_its_options_never_printed(tmp_path: Path) -> None:
    from adapters.testing.plugin import load_chain_config

    path = tmp_path / "chain.toml"
    path.write_text(
        'family = "pujiang"\n[options]\nurl = "http://n"\nrelayer_key = "s3cret"\n'
        '[target_options]\nsender_key = "t0psecret"\n'
    )
    config = load_chain_config(path)
    assert (config.family, config.options["url"]) == ("pujiang", "http://n")
    assert "s3cret" not in repr(config)
    assert "t0psecret" not in repr(config)
    (tmp_path / "bad.json").write_text("[1]")
    with pytest.raises(ConfigError, match="needs `family`"):
        load_chain_config(tmp_path / "bad.json")
