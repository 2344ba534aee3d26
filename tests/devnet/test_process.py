"""The devnet as a real process: served on a loopback port, used by two clients at once,
killed (SIGKILL) and restarted, stopped (SIGTERM) and restarted, via both command lines."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

import proofs.bls as bls
from devnet import keys
from proofs import merkle
from proofs.hashing import SHA256
from proofs.pujiang import codec
from tests.fixtures.devnet_chain import SEED
from tests.fixtures.tiers import starts
from tests.net import free_port

REPO = Path(__file__).resolve().parents[2]
CHAIN = "pj-proc"
BLOCK_TIME = "150ms"


@dataclass
class NodeProcess:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"node exited {self.process.returncode}: {self.log.read_text()}"
                )
            try:
                if httpx.get(self.url + "/v1/status", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"node not ready in {timeout}s: {self.log.read_text()}")

    def signal(self, signum: int) -> int:
        os.kill(self.process.pid, signum)
        return self.process.wait(timeout=20)


@pytest.fixture
@starts("chain")
def start_node(tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    started: list[NodeProcess] = []

    def start(data: Path, *extra: str, command: tuple[str, ...] | None = None) -> NodeProcess:
        port = free_port()
        log = tmp_path / f"node-{len(started)}.log"
        argv = command or (sys.executable, "-m", "devnet")
        args = [
            *argv,
            "run",
            "--data",
            str(data),
            "--port",
            str(port),
            "--block-time",
            BLOCK_TIME,
            *extra,
        ]
        with log.open("wb") as out:
            process = subprocess.Popen(args, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        node = NodeProcess(process, f"http://127.0.0.1:{port}", log)
        started.append(node)
        return node

    yield start
    for node in started:  # by our own pids only
        if node.process.poll() is None:
            os.kill(node.process.pid, signal.SIGKILL)
            node.process.wait(timeout=20)


def get(client: httpx.Client, path: str, **params: object) -> dict:  # type: ignore[type-arg]
    response = client.get(path, params=params or None)
    assert response.status_code == 200, response.text
    return response.json()


def unhex(text: str) -> bytes:
    return bytes.fromhex(text[2:])


def verified_header(client: httpx.Client, height: int) -> tuple[dict, codec.Header]:  # type: ignore[type-arg]
    block = get(client, f"/v1/blocks/{height}")
    header = codec.decode_header(unhex(block["header"]))
    commit = codec.decode_commit(unhex(block["commit"]))
    validators = codec.decode_validator_set(
        unhex(get(client, f"/v1/validators/{height}")["validators"])
    )
    signers = codec.decode_signers(commit.signers, len(validators))
    assert codec.has_quorum(
        sum(validators[i].power for i in signers), sum(v.power for v in validators)
    )
    payload = codec.compute_commit_signing_payload(
        header.chain_id, height, commit.round, commit.header_hash
    )
    assert commit.header_hash == codec.compute_header_hash(header, SHA256)
    assert bls.fast_aggregate_verify(
        [validators[i].bls_pubkey for i in signers], payload, commit.aggregate_signature
    )
    return block, header


def client_work(
    url: str, sender: int, receiver: int, count: int, results: dict[int, list[str]]
) -> None:
    """One client: ``count`` transfers, then a bridge send; waits for every receipt."""
    key = keys.account_key(SEED, sender)
    to = keys.Account(keys.account_key(SEED, receiver)).address
    hashes: list[str] = []
    with httpx.Client(base_url=url, timeout=10) as client:
        for nonce in range(count):
            tx = keys.sign_tx(key, CHAIN, nonce, "transfer", [to, b"upj", 1 + nonce])
            response = client.post("/v1/txs", json={"tx": "0x" + tx.hex()})
            assert response.status_code == 202, response.text
            hashes.append(response.json()["tx_hash"])
            get(client, "/v1/status")
        far = int(time.time() * 1000) + 3_600_000
        tx = keys.sign_tx(
            key, CHAIN, count, "bridge_send", [b"evm-1", b"\x01" * 20, b"ucny", 5, 0, far]
        )
        hashes.append(client.post("/v1/txs", json={"tx": "0x" + tx.hex()}).json()["tx_hash"])
        deadline = time.monotonic() + 20
        for tx_hash in hashes:
            while get(client, f"/v1/txs/{tx_hash}")["status"] == "pending":
                assert time.monotonic() < deadline, "transactions not committed in 20 s"
                time.sleep(0.05)
    results[sender] = hashes


def test_two_clients_then_kill_and_restart_continues_the_chain(tmp_path: Path, start_node) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    node = start_node(data, "--chain-id", CHAIN, "--seed", SEED.hex(), "--validators", "4")
    node.wait_ready()
    results: dict[int, list[str]] = {}
    workers = [
        threading.Thread(target=client_work, args=(node.url, 0, 1, 12, results)),
        threading.Thread(target=client_work, args=(node.url, 2, 3, 12, results)),
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(results) == [0, 2]

    with httpx.Client(base_url=node.url, timeout=10) as client:
        for hashes in results.values():
            receipts = [get(client, f"/v1/txs/{h}") for h in hashes]
            assert all(r["status"] == "committed" for r in receipts), receipts
        send_receipt = get(client, f"/v1/txs/{results[0][-1]}")
        event = send_receipt["events"][0]
        proof = get(client, f"/v1/proofs/event/{event['height']}/{event['index']}")
        _, header = verified_header(client, event["height"])
        merkle.verify_inclusion(
            unhex(proof["event"]),
            proof["index"],
            header.event_count,
            [unhex(p) for p in proof["path"]],
            header.events_root,
        )
        tip = get(client, "/v1/status")["latest_height"]
        before = [verified_header(client, h)[0] for h in range(1, tip + 1)]

    assert node.signal(signal.SIGKILL) == -signal.SIGKILL
    again = start_node(data)  # options come from the genesis now
    again.wait_ready()
    with httpx.Client(base_url=again.url, timeout=10) as client:
        assert [get(client, f"/v1/blocks/{h}") for h in range(1, tip + 1)] == before
        deadline = time.monotonic() + 10
        while get(client, "/v1/status")["latest_height"] < tip + 3:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        previous = codec.decode_header(unhex(before[-1]["header"]))
        for height in range(tip + 1, tip + 4):
            _, header = verified_header(client, height)
            assert header.parent_hash == codec.compute_header_hash(previous, SHA256)
            assert header.time_ms > previous.time_ms
            previous = header
        alice = keys.account_key(SEED, 0)
        to = keys.Account(keys.account_key(SEED, 1)).address
        tx = keys.sign_tx(alice, CHAIN, 13, "transfer", [to, b"upj", 1])  # the nonce carries on
        assert client.post("/v1/txs", json={"tx": "0x" + tx.hex()}).status_code == 202


def test_sigterm_stops_cleanly_and_pjgw_resumes_it(tmp_path: Path, start_node) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    node = start_node(data, "--chain-id", CHAIN, "--hash", "sm3", "--validators", "3")
    node.wait_ready()
    time.sleep(0.5)
    assert node.signal(signal.SIGTERM) == 0
    assert "stopped at height" in node.log.read_text()
    stopped_at = int(node.log.read_text().split("stopped at height ")[1].split()[0])
    pjgw = (str(Path(sys.executable).with_name("pjgw")), "devnet")
    again = start_node(data, "--instant", command=pjgw)
    again.wait_ready()
    with httpx.Client(base_url=again.url, timeout=10) as client:
        status = get(client, "/v1/status")
        assert status["hash_profile"] == "sm3"
        assert status["latest_height"] == stopped_at
        made = client.post("/v1/blocks").json()
        assert made["height"] == stopped_at + 1
    conflicting = start_node(data, "--validators", "5")
    assert conflicting.process.wait(timeout=30) == 2
    assert "holds chain" in conflicting.log.read_text()


def test_crypto_gm_starts_an_sm3_chain_whose_accounts_sign_with_sm2(
    tmp_path: Path, start_node
) -> None:  # type: ignore[no-untyped-def]
    from proofs.hashing import sm3
    from proofs.pujiang.accounts import SM2

    data = tmp_path / "data"
    node = start_node(data, "--chain-id", CHAIN, "--crypto", "gm", "--seed", SEED.hex())
    node.wait_ready()
    with httpx.Client(base_url=node.url, timeout=10) as client:
        status = get(client, "/v1/status")
        assert status["hash_profile"] == "sm3"
        assert status["account_scheme"] == "sm2"
        alice = keys.scheme_account_key(SEED, 0, SM2)
        to = keys.Account(keys.scheme_account_key(SEED, 1, SM2), sm3).address
        tx = keys.sign_tx(alice, CHAIN, 0, "transfer", [to, b"upj", 1])
        assert client.post("/v1/txs", json={"tx": "0x" + tx.hex()}).status_code == 202
        ed = keys.sign_tx(keys.account_key(SEED, 0), CHAIN, 1, "transfer", [to, b"upj", 1])
        refused = client.post("/v1/txs", json={"tx": "0x" + ed.hex()})
        assert refused.status_code == 422
        assert "bad-signature" in refused.text
    conflicting = start_node(data, "--crypto", "standard")
    assert conflicting.process.wait(timeout=30) == 2
    assert "holds chain" in conflicting.log.read_text()
