"""The issue's "Done when" on real processes, and light-client facts on the real devnet chain.

* ``pjgw devnet run`` (the installed console script) starts a subchain; a
  SECOND process — this module run as ``python -m tests.devnet.test_gaps``,
  which never imports ``devnet`` — follows it with ``PujiangAdapter`` over TCP
  and the light client: a checkpoint, N adjacent headers, a skip, an event
  proof, and a fork made by the node's fault mode that freezes its client;
* the node is then stopped and RESTARTED on another free port from the same
  data directory, and a new follower run continues from the last verified
  header: the chain goes on at the next height with the same hashes;
* in-process (same node code, no socket): a fault-mode fork freezes the
  client and a minority fork does not; a validator set replaced by more than
  2/3 of its power cannot be skipped over without bisection, one that keeps
  more than 1/3 can.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.errors import ClientFrozen, InsufficientPower
from proofs.pujiang import codec
from proofs.pujiang.light_client import (
    ClientState,
    ConsensusState,
    PujiangLightClient,
    create_checkpoint,
    decode_header_evidence,
    process_update,
    verify_bisection,
    verify_header,
)
from tests.fixtures.tiers import starts
from tests.net import free_port

REPO = Path(__file__).resolve().parents[2]
PJGW = Path(sys.executable).with_name("pjgw")
CHAIN = "pj-gaps"
SEED_HEX = "9a" * 32
BLOCK_TIME = "200ms"
FOLLOW = 5
DAY_MS = 24 * 3600 * 1000
DRIFT_MS = 10_000


# --- the follower: a second process that uses only the adapter and the light client --------------


def follower_client() -> ClientState:
    return ClientState(
        chain_id=CHAIN.encode(), trusting_period_ms=14 * DAY_MS, max_clock_drift_ms=DRIFT_MS
    )


async def follow(job: dict[str, Any]) -> dict[str, Any]:
    """Checkpoint at ``trusted``; verify ``follow`` adjacent headers, then skip to the tip;
    prove every send_packet event in the verified range; then try each ``forks`` entry
    (header and commit hex at a verified height) with ``process_update``."""
    from adapters.pujiang.adapter import PujiangAdapter  # the follower only

    report: dict[str, Any] = {"headers": {}, "events": [], "frozen": None}
    report["refuses_after_freeze"] = False
    client = follower_client()
    async with PujiangAdapter.from_options({"url": job["url"], "chain_id": CHAIN}) as adapter:
        seam = adapter.light_client()
        assert isinstance(seam, PujiangLightClient)
        first = await adapter.header(job["trusted_height"])
        _, validators = decode_header_evidence(first.evidence)
        state = create_checkpoint(
            client,
            first.encoded,
            validators,
            trusted_height=job["trusted_height"],
            trusted_hash=bytes.fromhex(job["trusted_hash"]),
            now_ms=time.time_ns() // 1_000_000,
        )
        states = {state.height: state}
        last = state.height + job["follow"]
        deadline = time.monotonic() + 30
        while await adapter.latest_height() < last + 2:
            assert time.monotonic() < deadline, "the chain did not grow"
            await asyncio.sleep(0.1)
        for height in range(state.height + 1, last + 1):  # adjacent, through the seam
            state = seam.verify_header(
                client, state, await adapter.header(height), int(time.time())
            )
            states[height] = state
        tip = await adapter.latest_height()
        skipped = seam.verify_header(client, state, await adapter.header(tip), int(time.time()))
        states[tip] = skipped
        report["skip"] = [state.height, skipped.height]
        report["headers"] = {h: s.header_hash.hex() for h, s in sorted(states.items())}
        for event in await adapter.events(job["trusted_height"] + 1, last):
            if event.kind != "send_packet":
                continue
            proof = await adapter.prove(event)
            seam.verify_membership(states[int(event.height)], proof, client_state=client)
            report["events"].append([int(event.height), event.position[0]])
        for fork in job.get("forks", []):
            header = bytes.fromhex(fork["header"][2:])
            height = codec.decode_header(header).height
            _, validators = decode_header_evidence((await adapter.header(height)).evidence)
            update = process_update(
                client,
                states[job["trusted_height"]],
                header,
                bytes.fromhex(fork["commit"][2:]),
                validators,
                time.time_ns() // 1_000_000,
                known=[s for h, s in states.items() if h != job["trusted_height"]],
            )
            evidence = update.client_state.evidence
            report["frozen"] = None if evidence is None else [evidence.kind, evidence.height]
            try:
                seam.verify_header(
                    update.client_state, state, await adapter.header(tip), int(time.time())
                )
            except ClientFrozen:
                report["refuses_after_freeze"] = True
    report["devnet_imported"] = any(m == "devnet" or m.startswith("devnet.") for m in sys.modules)
    return report


def run_follower(job: dict[str, Any]) -> dict[str, Any]:
    """This module as a separate ``python`` process: the job on stdin, the report on stdout."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.devnet.test_gaps"],
        cwd=REPO,
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


# --- a pjgw devnet process -----------------------------------------------------------------------


@dataclass
class Node:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"node exited {self.process.returncode}: {self.text()}")
            try:
                if httpx.get(self.url + "/v1/status", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"node not ready in {timeout}s: {self.text()}")

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
@starts("chain")
def pjgw_devnet(tmp_path: Path) -> Iterator[Callable[..., Node]]:
    started: list[Node] = []

    def start(data: Path, *extra: str) -> Node:
        port = free_port()
        log = tmp_path / f"pjgw-{len(started)}.log"
        argv = [str(PJGW), "devnet", "run", "--data", str(data), "--port", str(port), *extra]
        with log.open("wb") as out:
            process = subprocess.Popen(argv, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        node = Node(process, f"http://127.0.0.1:{port}", log)
        started.append(node)
        node.wait_ready()
        return node

    yield start
    for node in started:  # our own pids only
        if node.process.poll() is None:
            os.kill(node.process.pid, signal.SIGKILL)
            node.process.wait(timeout=20)


def send_packet(url: str) -> tuple[int, int]:
    """Alice's bridge_send, signed here (the test is the user); its event's (height, index)."""
    from devnet import keys  # never in the follower

    tx = keys.sign_tx(
        keys.account_key(bytes.fromhex(SEED_HEX), 0),
        CHAIN,
        0,
        "bridge_send",
        [b"evm-1", b"\x01" * 20, b"upj", 7, 0, int(time.time() * 1000) + 3_600_000],
    )
    with httpx.Client(base_url=url, timeout=10) as http:
        tx_hash = http.post("/v1/txs", json={"tx": "0x" + tx.hex()}).json()["tx_hash"]
        deadline = time.monotonic() + 20
        while (receipt := http.get(f"/v1/txs/{tx_hash}").json())["status"] == "pending":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert receipt["status"] == "committed", receipt
    event = receipt["events"][0]
    assert event["kind"] == "send_packet"
    return event["height"], event["index"]


def test_pjgw_devnet_is_followed_by_a_second_process_and_continues_after_a_restart(
    tmp_path: Path, pjgw_devnet: Callable[..., Node]
) -> None:
    data = tmp_path / "data"
    node = pjgw_devnet(
        data,
        *("--chain-id", CHAIN, "--validators", "4", "--seed", SEED_HEX),
        *("--block-time", BLOCK_TIME, "--faults", "--log-level", "info"),
    )
    packet_at = send_packet(node.url)
    with httpx.Client(base_url=node.url, timeout=10) as http:
        genesis = http.get("/v1/blocks/1").json()  # the operator's trusted checkpoint
        fork = http.post("/v1/faults/equivocate", json={"height": 2}).json()
    assert fork["hash"] != http_hash(node.url, 2)

    first = run_follower(
        {
            "url": node.url,
            "trusted_height": 1,
            "trusted_hash": genesis["hash"][2:],
            "follow": max(FOLLOW, packet_at[0]),
            "forks": [fork],
        }
    )
    assert not first["devnet_imported"]
    last = 1 + max(FOLLOW, packet_at[0])
    assert set(range(1, last + 1)) <= {int(h) for h in first["headers"]}
    assert first["skip"][1] > first["skip"][0] + 1  # a real skip (stable set: one header)
    assert list(packet_at) in first["events"]
    assert first["frozen"] == ["fork", 2]
    assert first["refuses_after_freeze"] is True

    # Restart: SIGTERM, then the same data directory on another free port, no chain options.
    os.kill(node.process.pid, signal.SIGTERM)
    assert node.process.wait(timeout=20) == 0
    stopped_at = int(node.text().split("stopped at height ")[1].split()[0])
    again = pjgw_devnet(data, "--block-time", BLOCK_TIME)
    assert again.url != node.url
    for height, header_hash in first["headers"].items():
        assert http_hash(again.url, int(height)) == "0x" + header_hash
    newest = max(int(h) for h in first["headers"])
    assert newest <= stopped_at

    # The second follower trusts the newest header the first one verified BEFORE the restart
    # and walks adjacently past the restart: each header after it links by parent hash.
    second = run_follower(
        {
            "url": again.url,
            "trusted_height": newest,
            "trusted_hash": first["headers"][str(newest)],
            "follow": stopped_at - newest + 3,
        }
    )
    assert set(range(newest, stopped_at + 4)) <= {int(h) for h in second["headers"]}
    assert second["frozen"] is None
    assert not second["devnet_imported"]


def http_hash(url: str, height: int) -> str:
    answer = httpx.get(f"{url}/v1/blocks/{height}", timeout=10)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["hash"])


# --- in-process: the same node code, no socket ---------------------------------------------------


def signed_at(node: Any, height: int) -> tuple[bytes, bytes, bytes]:
    return (
        codec.encode(node.header(height)),
        codec.encode(node.commit(height)),
        codec.encode(node.validators(height)),
    )


def devnet_checkpoint(node: Any, client: ClientState, now_ms: int) -> ConsensusState:
    header, _, validators = signed_at(node, 1)
    return create_checkpoint(
        client,
        header,
        validators,
        trusted_height=1,
        trusted_hash=node.store.block(1).hash,
        now_ms=now_ms,
    )


def client_of(node: Any) -> ClientState:
    return ClientState(
        chain_id=node.chain_id, trusting_period_ms=14 * DAY_MS, max_clock_drift_ms=DRIFT_MS
    )


@pytest.mark.parametrize(
    ("signers", "freezes"), [(None, True), ([0, 1, 2], True), ([0, 1], False), ([3], False)]
)
def test_a_fault_mode_fork_freezes_the_client_only_with_a_quorum(
    chain_factory: Callable[..., Any], signers: list[int] | None, freezes: bool
) -> None:
    chain = chain_factory(faults=True)
    node = chain.node
    for _ in range(3):
        node.produce_block()
    client = client_of(node)
    now = chain.clock.now + 1_000
    trusted = devnet_checkpoint(node, client, now)
    known = [trusted]
    for height in range(2, node.height + 1):
        known.append(verify_header(client, known[-1], *signed_at(node, height), now))
    header, commit = node.equivocate(3, signers)
    validators = codec.encode(node.validators(3))
    forged = (codec.encode(header), codec.encode(commit), validators)
    if not freezes:
        with pytest.raises(InsufficientPower) as info:
            process_update(client, trusted, *forged, now, known=known[1:])
        assert info.value.details["check"] == "quorum"
        return
    update = process_update(client, trusted, *forged, now, known=known[1:])
    assert update.frozen
    assert update.consensus_state is None
    evidence = update.client_state.evidence
    assert evidence is not None
    assert (evidence.kind, evidence.height) == ("fork", 3)
    assert evidence.trusted_hash == node.store.block(3).hash
    assert evidence.conflicting_hash == chain.hash_fn(forged[0])
    with pytest.raises(ClientFrozen):
        verify_header(update.client_state, known[-1], *signed_at(node, node.height), now)


def rotate(chain: Any, powers: dict[int, int]) -> None:
    """A validator_update to the derived keys ``powers`` (signed by all of the current set)."""
    from tests.devnet.test_validators import update_args

    new_set = chain.node.keyring.make_set(powers)
    receipt = chain.run1(0, "validator_update", update_args(chain, new_set))
    assert receipt["status"] == "committed", receipt["reason"]


@pytest.mark.parametrize(
    ("powers", "skippable"),
    [
        ({4: 10, 5: 10, 6: 10, 7: 10}, False),  # all four replaced: overlap 0
        ({0: 10, 5: 10, 6: 10, 7: 10}, False),  # one kept: 10 of 40, not > 1/3
        ({0: 10, 1: 10, 6: 10, 7: 10}, True),  # two kept: 20 of 40 > 1/3
    ],
)
def test_a_devnet_set_replaced_by_more_than_two_thirds_needs_bisection(
    chain_factory: Callable[..., Any], powers: dict[int, int], skippable: bool
) -> None:
    chain = chain_factory()
    node = chain.node
    node.produce_block()  # 2
    rotate(chain, powers)  # 3: accepted; 4 names the new set; 5 on are signed by it
    for _ in range(5):
        node.produce_block()
    target = node.height
    client = client_of(node)
    now = chain.clock.now + 1_000
    trusted = devnet_checkpoint(node, client, now)
    assert node.header(target).validators_hash != trusted.validators.hash
    fetched: list[int] = []

    def fetch(height: int) -> tuple[bytes, bytes, bytes]:
        fetched.append(height)
        return signed_at(node, height)

    if skippable:
        assert verify_header(client, trusted, *signed_at(node, target), now).height == target
        assert [s.height for s in verify_bisection(client, trusted, target, fetch, now)] == [target]
        return
    with pytest.raises(InsufficientPower) as info:
        verify_header(client, trusted, *signed_at(node, target), now)
    assert info.value.details["check"] == "trust-overlap"
    states = verify_bisection(client, trusted, target, fetch, now)
    heights = [s.height for s in states]
    assert heights[-1] == target
    assert states[-1].header_hash == node.store.block(target).hash
    assert {4, 5} <= set(heights)  # across the rotation only by the adjacent step 4 -> 5
    assert len(fetched) == len(set(fetched))


if __name__ == "__main__":
    print(json.dumps(asyncio.run(follow(json.loads(sys.stdin.read())))))
