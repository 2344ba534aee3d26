"""The notary signer service against a real devnet node and a real anvil.

The notary holds its own adapters and light clients; every attestation here
is of a packet really sent on a chain, and every refusal is the typed one.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from adapters.evm.adapter import EvmAdapter
from adapters.evm.settings import EvmChainSettings
from adapters.follower import Anchor, FilePersistence, FollowerSettings, LightClientFollower
from adapters.pujiang import PujiangAdapter, PujiangSettings
from core.errors import ConfigError
from core.ids import ChainId
from core.types import ChainAction, EventKind
from devnet import keys
from notary import (
    EventNotFound,
    Notary,
    PacketMismatch,
    Route,
    TimeoutNotReached,
    UnknownRoute,
    WorkItem,
    WouldEquivocate,
)
from proofs.notary.ecdsa import recover
from proofs.pujiang import codec
from tests.fixtures.anvil import LOCAL_CHAIN, Env
from tests.fixtures.devnet import CHAIN_ID as DEVNET
from tests.fixtures.devnet import DEVNET_SEED, InProcessDevnet, account_seed

OWN_ANVIL = True  # an anvil of its own, not the folder's (tests.fixtures.anvil)
Settings = Callable[..., EvmChainSettings]
NOTARY_KEY = bytes(keys.notary_key(DEVNET_SEED, 0).secret)
OUT = "devnet-to-anvil"
IN = "anvil-to-devnet"
ROUTES = {OUT: Route(OUT, DEVNET, LOCAL_CHAIN), IN: Route(IN, LOCAL_CHAIN, DEVNET)}


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessDevnet]:
    from devnet.api import create_app
    from devnet.config import NodeConfig
    from devnet.node import DevnetNode

    config = NodeConfig(
        data_dir=tmp_path_factory.mktemp("devnet-notary"), block_time=None, seed=DEVNET_SEED
    )
    node = DevnetNode(config)
    try:
        yield InProcessDevnet(node, httpx.ASGITransport(app=create_app(node)))
    finally:
        node.close()


def make_notary(
    devnet: InProcessDevnet, evm_settings: Settings, data: Path, **evm_changes: object
) -> Notary:
    pujiang = PujiangAdapter(
        PujiangSettings(url=devnet.url, chain_id=DEVNET, retry_attempts=1),
        transport=devnet.transport,
    )
    evm = EvmAdapter(evm_settings(**evm_changes))
    return Notary(NOTARY_KEY, {DEVNET: pujiang, LOCAL_CHAIN: evm}, ROUTES, data)


async def close(notary: Notary) -> None:
    for adapter in notary.adapters.values():
        await adapter.aclose()
    notary.close()


def send_from_devnet(devnet: InProcessDevnet, **kw: int) -> WorkItem:
    alice = keys.account_key(DEVNET_SEED, 0)
    nonce = devnet.node.committed_nonce(codec.compute_address(bytes(alice.verify_key)))
    deadline = kw.get("timeout_time_ms", (int(time.time()) + 3600) * 1000)
    args = [LOCAL_CHAIN.encode(), b"\x33" * 20, b"upj", 10, kw.get("timeout_height", 0), deadline]
    tx_hash = devnet.node.submit(keys.sign_tx(alice, DEVNET, nonce, "bridge_send", args))
    tip = devnet.node.produce_block()
    found = devnet.node.query_events(tip.height, tip.height)["events"]  # type: ignore[index]
    (row,) = [r for r in found if r["tx_hash"] == "0x" + tx_hash.hex()]  # type: ignore[index]
    return WorkItem(
        transfer_id=f"t-{tip.height}",
        route_id=OUT,
        source_chain=DEVNET,
        dest_chain=LOCAL_CHAIN,
        sequence=int(row["attributes"]["sequence"]),  # type: ignore[index]
        height=tip.height,
        tx_hash=tx_hash,
        position=(int(row["index"]),),  # type: ignore[index]
    )


def test_a_notary_attests_a_devnet_packet_with_the_anvil_delivery_digest(
    devnet: InProcessDevnet, env: Env, evm_settings: Settings, tmp_path: Path
) -> None:
    async def scenario() -> tuple[object, ...]:
        notary = make_notary(devnet, evm_settings, tmp_path)
        try:
            first = await notary.verifiers[DEVNET].latest_verified()  # TOFU before the send
            work = send_from_devnet(devnet)
            attestation = await notary.attest(work)
            again = await notary.attest(work)
            tip = await notary.adapters[DEVNET].latest_height()
            (event,) = [
                e
                for e in await notary.adapters[DEVNET].events(tip, tip)
                if e.kind is EventKind.SEND_PACKET
            ]
            packet = notary.adapters[DEVNET].bridge().packet_of(event)
            expected = notary.adapters[LOCAL_CHAIN].bridge().delivery_digest(packet)
            return notary.address, first, work, attestation, again, expected
        finally:
            await close(notary)

    address, first, work, attestation, again, expected = asyncio.run(scenario())
    assert first.height < work.height  # type: ignore[attr-defined]
    assert attestation.digest == expected  # type: ignore[attr-defined]
    assert attestation.notary == address  # type: ignore[attr-defined]
    assert "0x" + recover(expected, attestation.signature).hex() == address  # type: ignore[attr-defined, arg-type]
    assert again == attestation
    # The notary's own light-client file: verified forward from the TOFU anchor to the packet.
    doc = json.loads((tmp_path / "clients" / f"{DEVNET}.json").read_text())
    assert doc["trusted_height"] == work.height  # type: ignore[attr-defined]
    assert sorted(map(int, doc["consensus_states"])) == [first.height, work.height]  # type: ignore[attr-defined]
    assert NOTARY_KEY.hex() not in repr(attestation) + repr(address)


def test_a_notary_attests_an_anvil_packet_below_its_checkpoint_through_hash_links(
    devnet: InProcessDevnet, env: Env, evm_settings: Settings, tmp_path: Path
) -> None:
    deadline = max(env.chain.timestamp(), int(time.time())) + 3600
    send = ChainAction(
        "bridge.sendNative",
        {"args": [DEVNET, b"\x44" * 20, 0, deadline], "value": 3},
        "notary-send-1",
    )

    async def scenario() -> tuple[object, ...]:
        notary = make_notary(devnet, evm_settings, tmp_path)
        evm: EvmAdapter = notary.adapters[LOCAL_CHAIN]
        try:
            receipt = await evm.wait_receipt(await evm.submit(send))
            assert receipt.height is not None
            for _ in range(3):  # the TOFU checkpoint lands above the packet
                await evm.reader.call("evm_mine")
            (event,) = [
                e
                for e in await evm.events(receipt.height, receipt.height)
                if e.kind is EventKind.SEND_PACKET
            ]
            work = WorkItem(
                "t-evm", IN, LOCAL_CHAIN, DEVNET, 1, receipt.height, event.tx_hash, event.position
            )
            packet = evm.bridge().packet_of(event)
            attestation = await notary.attest(work)
            record = notary.follower.persistence.load(ChainId(LOCAL_CHAIN))
            expected = notary.adapters[DEVNET].bridge().delivery_digest(packet)
            return attestation, expected, record, receipt.height
        finally:
            await close(notary)

    attestation, expected, record, height = asyncio.run(scenario())
    assert attestation.digest == expected  # type: ignore[attr-defined]
    # Anchored (TOFU) above the packet, then reached down to it by parent-hash links.
    assert min(record.consensus_states) == height  # type: ignore[attr-defined]
    assert int(record.trusted_height) > height  # type: ignore[attr-defined]


def test_a_work_item_without_its_event_or_with_another_identity_is_refused(
    devnet: InProcessDevnet, env: Env, evm_settings: Settings, tmp_path: Path
) -> None:
    work = send_from_devnet(devnet)
    wrong = {
        "no event at that position": (
            WorkItem(**{**_fields(work), "position": (work.position[0] + 5,)}),
            EventNotFound,
        ),
        "another transaction": (
            WorkItem(**{**_fields(work), "tx_hash": b"\x01" * 32}),
            EventNotFound,
        ),
        "another sequence": (
            WorkItem(**{**_fields(work), "sequence": work.sequence + 1}),
            PacketMismatch,
        ),
        "another route end": (
            WorkItem(
                **{
                    **_fields(work),
                    "route_id": IN,
                    "source_chain": LOCAL_CHAIN,
                    "dest_chain": DEVNET,
                }
            ),
            EventNotFound,
        ),
        "an unknown route": (WorkItem(**{**_fields(work), "route_id": "nowhere"}), UnknownRoute),
        "non-delivery before the timeout": (
            WorkItem(**{**_fields(work), "kind": "nondelivery"}),
            TimeoutNotReached,
        ),
    }

    async def scenario() -> dict[str, BaseException]:
        notary = make_notary(devnet, evm_settings, tmp_path)
        errors: dict[str, BaseException] = {}
        try:
            for name, (item, _) in wrong.items():
                try:
                    await notary.attest(item)
                except Exception as err:
                    errors[name] = err
            assert notary.signed_log.signed(OUT, work.sequence) is None
        finally:
            await close(notary)
        return errors

    errors = asyncio.run(scenario())
    for name, (_, expected) in wrong.items():
        assert isinstance(errors.get(name), expected), (name, errors.get(name))


def test_a_second_different_digest_for_one_sequence_is_refused(
    devnet: InProcessDevnet, env: Env, evm_settings: Settings, tmp_path: Path
) -> None:
    work = send_from_devnet(devnet)

    async def scenario() -> BaseException | None:
        notary = make_notary(devnet, evm_settings, tmp_path)
        try:
            await notary.attest(work)
        finally:
            await close(notary)
        # the same notary (same data dir) after the destination bridge was redeployed:
        # another EIP-712 domain, so another digest for the same (route, sequence)
        moved = make_notary(devnet, evm_settings, tmp_path, bridge_address=env.receiver.address)
        try:
            await moved.attest(work)
        except WouldEquivocate as err:
            return err
        finally:
            await close(moved)
        return None

    refused = asyncio.run(scenario())
    assert isinstance(refused, WouldEquivocate)
    assert refused.code == "notary-would-equivocate"


def test_a_configured_checkpoint_anchors_the_notary_instead_of_trust_on_first_use(
    devnet: InProcessDevnet, tmp_path: Path
) -> None:
    for _ in range(4):
        devnet.node.produce_block()
    trusted = codec.compute_header_hash(devnet.node.header(1))

    async def scenario(anchor: Anchor) -> object:
        adapter = PujiangAdapter(
            PujiangSettings(url=devnet.url, chain_id=DEVNET, retry_attempts=1),
            transport=devnet.transport,
        )
        follower = LightClientFollower(
            FilePersistence(tmp_path / anchor.hash.hex()[:8]),
            {ChainId(DEVNET): adapter},
            FollowerSettings(
                checkpoints={DEVNET: anchor},
                trusting_period=lambda _: (3600, 15),
                tofu_below_target=False,
            ),
            time.time,
        )
        try:
            verified = await follower.latest_verified(ChainId(DEVNET))
            record = follower.persistence.load(ChainId(DEVNET))
            return verified, record
        except ConfigError as err:
            return err
        finally:
            await adapter.aclose()

    verified, record = asyncio.run(scenario(Anchor(1, trusted)))  # type: ignore[misc]
    assert min(record.consensus_states) == 1  # anchored at the checkpoint, not the tip
    assert int(verified.height) == devnet.node.height  # then verified forward to the tip
    refused = asyncio.run(scenario(Anchor(1, b"\xab" * 32)))
    assert isinstance(refused, ConfigError)
    assert "does not match the configured checkpoint" in refused.message


def _fields(work: WorkItem) -> dict[str, object]:
    return {name: getattr(work, name) for name in WorkItem.__dataclass_fields__}


def test_a_work_item_parses_from_the_hubs_json() -> None:
    item = WorkItem.from_json(
        {
            "transfer_id": "t1",
            "route_id": OUT,
            "source_chain": DEVNET,
            "dest_chain": LOCAL_CHAIN,
            "sequence": 4,
            "height": 9,
            "tx_hash": "0x" + "ab" * 32,
            "position": [2],
            "kind": "delivery",
        }
    )
    assert item.position == (2,)
    assert item.tx_hash == b"\xab" * 32
    assert account_seed(0)  # the devnet helpers import cleanly here


def test_the_chains_file_builds_read_only_adapters_and_routes(tmp_path: Path) -> None:
    from adapters.key_files import read_key_file
    from notary.config import load_config

    config = tmp_path / "chains.toml"
    config.write_text(
        f"""
[chains.{DEVNET}]
family = "pujiang"
url = "http://127.0.0.1:1"
checkpoint_height = 5
checkpoint_hash = "0x{"ab" * 32}"

[chains.{LOCAL_CHAIN}]
family = "evm"
rpc_url = "http://127.0.0.1:2"
evm_chain_id = 31337

[routes.{OUT}]
source = "{DEVNET}"
destination = "{LOCAL_CHAIN}"
"""
    )
    loaded = load_config(config)
    assert set(loaded.adapters) == {DEVNET, LOCAL_CHAIN}
    assert loaded.routes[OUT] == ROUTES[OUT]
    assert loaded.chain_options[DEVNET]["checkpoint_height"] == 5
    key = tmp_path / "key"
    key.write_text("0x" + NOTARY_KEY.hex())
    assert read_key_file(key) == NOTARY_KEY
    key.write_text("not a key " + NOTARY_KEY.hex())
    from core.errors import ConfigError

    with pytest.raises(ConfigError) as refused:
        read_key_file(key)
    assert NOTARY_KEY.hex() not in str(refused.value)
    asyncio.run(loaded.adapters[DEVNET].aclose())
    asyncio.run(loaded.adapters[LOCAL_CHAIN].aclose())
