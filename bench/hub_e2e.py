"""End-to-end transfers through the whole hub, devnet -> anvil (and back): throughput, latency.

    .venv/bin/python bench/hub_e2e.py                        # 300 transfers, three set-ups
    .venv/bin/python bench/hub_e2e.py --transfers 600 --setups sqlite
    .venv/bin/python bench/hub_e2e.py --setups pg-1 --modes batch,packet --rate 200 --duration 20
    .venv/bin/python bench/hub_e2e.py --directions back --setups sqlite  # anvil -> devnet

``--directions``: ``out`` (devnet ``bridge_send`` -> anvil, the default), ``back``
(anvil ``Bridge.sendNative`` -> the devnet; the destination has no gas to read), or
both. The devnet load is posted up to 100 transactions per ``POST /v1/txs`` (one per
request capped the poster near 150/s on this machine); anvil's one
``eth_sendRawTransaction`` each. The load average before each run is printed with it.

Attestation modes (issue #15, ``--modes``): ``batch`` (one notary statement per
batch of packets, the default) and ``packet`` (one certificate per packet),
each a full run of every set-up, with the ratio printed. ``--rate R
--duration D`` offers ``R`` transfers/s for ``D`` s instead of the burst of
``--transfers``. Per-process CPU seconds (relayers, notaries, chains, and the
benchmark itself posting and watching) and the destination's gas per packet
(every bridge transaction on anvil during the run, from its receipts) are
printed too.

Each set-up is the dev stack of ``make run`` (``devtools/devstack.py``: a devnet
node and anvil as processes, both with 1 s blocks, the Bridge deployed, three
``pjgw notary run`` processes, threshold two) with a different relayer:

* ``sqlite``: the hub process relays (``pjgw serve``), SQLite store;
* ``pg-1``: the API alone (``pjgw serve --no-relay``) + 1 ``pjgw relay``
  process, on a throw-away PostgreSQL cluster;
* ``pg-2``: the same with 2 ``pjgw relay`` processes sharing the work
  through the store's leases;
* ``sqlite-lc``: ``sqlite`` with ``devnet-to-anvil`` switched to a
  ``light_client`` route (``POST /v1/routes``) once the stack is up: anvil's
  ``PujiangLightClient`` checks the devnet's commits, no notary signature is
  used (the notaries still run) — ``docs/light-client-route.md``.

The load is ``--transfers`` signed devnet ``bridge_send`` transactions from
the three funded dev accounts (each sender's nonces in order), posted to the
devnet node as fast as it takes them; the relayer's watcher turns each packet
into a transfer. A watcher in this process polls both chains every 50 ms and
notes, per packet sequence, when its ``send_packet`` block appeared on the
devnet and when its ``RecvPacket`` block appeared on anvil. Latency is the
difference (source commit -> destination commit, as an observer polling both
chains sees it); throughput is transfers / (last destination commit - first
source commit). Both chains make a block a second, so the issue's latency
target is 2 block times + 1 s = 3 s.

At an offered rate that throughput cannot reach the rate even for a hub that costs
nothing: the last transfer is sent at the end of the window and delivered a latency
later, so 300/s offered for 30 s measures at most 9,000 / (30 s + latency). The
``steady`` figure is the delivery rate in the middle of the run: 80 % of the transfers
over the time between the 10th and the 90th percentile of their destination commits
(what the hub sustains while loaded, without the ramp-up and the drain).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.net import free_port  # noqa: E402 - importable once the root is on the path

SENDERS = ("alice", "bob", "carol")
AMOUNT = 7


@dataclass
class Observed:
    sent: dict[int, float] = field(default_factory=dict)  # sequence -> wall time seen on devnet
    received: dict[int, float] = field(default_factory=dict)  # sequence -> seen on anvil


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A throw-away PostgreSQL cluster (the tests' own), a fresh database; its URL."""
    import psycopg

    from tests.fixtures.postgres import PgCluster, find_pg_bin

    cluster = PgCluster(find_pg_bin())  # fsync off: a throw-away cluster, see docs/benchmarks.md
    cluster.start()
    try:
        with psycopg.connect(
            host="127.0.0.1",
            port=cluster.port,
            user=cluster.user,
            dbname="postgres",
            autocommit=True,
        ) as conn:
            conn.execute("CREATE DATABASE bench")
        yield cluster.url.rsplit("/", 1)[0] + "/bench"
    finally:
        cluster.stop()


def signed_sends(info: dict[str, object], count: int) -> list[list[bytes]]:
    """Per sender, its ``bridge_send`` transactions in nonce order (signed up front)."""
    from adapters.pujiang import PujiangAdapter
    from adapters.pujiang.actions import TxSigner, build_signed_tx
    from devtools.devstack import DEVNET_CHAIN, EVM_CHAIN

    accounts = info["accounts"]  # type: ignore[index]
    url = info["chains"][DEVNET_CHAIN]["url"]  # type: ignore[index]
    deadline_ms = (int(time.time()) + 3600) * 1000  # whole seconds: an EVM bridge keeps seconds
    lanes: list[list[bytes]] = []
    for n, name in enumerate(SENDERS):
        signer = TxSigner(bytes.fromhex(accounts[name][DEVNET_CHAIN]["key"]))  # type: ignore[index]
        receiver = bytes.fromhex(accounts[name][EVM_CHAIN]["address"][2:])  # type: ignore[index]

        async def nonce(address: bytes = signer.address()) -> int:
            adapter = PujiangAdapter.from_options({"url": url, "chain_id": DEVNET_CHAIN})
            try:
                return await adapter.account_nonce(address)
            finally:
                await adapter.aclose()

        first = asyncio.run(nonce())
        share = count // len(SENDERS) + (1 if n < count % len(SENDERS) else 0)
        args = [EVM_CHAIN.encode(), receiver, b"upj", AMOUNT, 0, deadline_ms]
        lanes.append(
            [
                build_signed_tx(signer, DEVNET_CHAIN, first + i, "bridge_send", args)
                for i in range(share)
            ]
        )
    return lanes


def signed_evm_sends(info: dict[str, object], count: int) -> list[list[bytes]]:
    """Per sender, its anvil ``Bridge.sendNative`` transactions to the devnet in nonce order
    (signed up front: fixed gas and fees, so no estimate per transaction)."""
    from eth_account import Account
    from eth_utils import to_checksum_address

    from adapters.evm.artifacts import load_artifact
    from devtools.devstack import DEVNET_CHAIN, EVM_CHAIN, EVM_CHAIN_ID

    accounts = info["accounts"]  # type: ignore[index]
    chain = info["chains"][EVM_CHAIN]  # type: ignore[index]
    bridge = load_artifact("Bridge")
    deadline_s = int(time.time()) + 3600
    lanes: list[list[bytes]] = []
    with httpx.Client(timeout=30) as client:
        for n, name in enumerate(SENDERS):
            account = Account.from_key(accounts[name][EVM_CHAIN]["key"])  # type: ignore[index]
            receiver = bytes.fromhex(accounts[name][DEVNET_CHAIN]["address"].removeprefix("0x"))  # type: ignore[index]
            body = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "eth_getTransactionCount",
                "params": [account.address, "pending"],
            }
            first = int(client.post(str(chain["rpc_url"]), json=body).json()["result"], 16)
            share = count // len(SENDERS) + (1 if n < count % len(SENDERS) else 0)
            data = bridge.encode_call("sendNative", DEVNET_CHAIN, receiver, 0, deadline_s)
            lanes.append(
                [
                    bytes(
                        account.sign_transaction(
                            {
                                "chainId": EVM_CHAIN_ID,
                                "nonce": first + i,
                                "to": to_checksum_address(str(chain["bridge"])),
                                "data": data,
                                "value": AMOUNT,
                                "gas": 300_000,
                                "maxPriorityFeePerGas": 10**9,
                                "maxFeePerGas": 100 * 10**9,
                                "type": 2,
                            }
                        ).raw_transaction
                    )
                    for i in range(share)
                ]
            )
    return lanes


async def paced(
    txs: list[bytes], per_lane: float, started: float, most: int
) -> AsyncIterator[list[bytes]]:
    """``txs`` in order, in chunks of at most ``most``: at ``per_lane`` a second from
    ``started``, one chunk a ``TICK`` holding what fell due since the last (offered load),
    or back to back (``per_lane`` 0: a burst)."""
    sent = 0
    while sent < len(txs):
        due = len(txs)
        if per_lane:
            await asyncio.sleep(TICK - (time.perf_counter() - started) % TICK)
            due = min(len(txs), int((time.perf_counter() - started) * per_lane) + 1)
            if due <= sent:
                continue
        chunk = txs[sent : min(due, sent + most)]
        yield chunk
        sent += len(chunk)


async def post_evm_lanes(rpc_url: str, lanes: list[list[bytes]], rate: float = 0.0) -> None:
    """``eth_sendRawTransaction`` of every lane's transactions in order, paced as
    ``post_lanes``: what is due goes in one JSON-RPC batch request."""
    async with httpx.AsyncClient(timeout=30) as client:
        started = time.perf_counter()

        async def lane(txs: list[bytes]) -> None:
            per_lane = rate / len(lanes) if rate else 0.0
            async for chunk in paced(txs, per_lane, started, POST_BATCH):
                body = [
                    {
                        "jsonrpc": "2.0",
                        "id": i,
                        "method": "eth_sendRawTransaction",
                        "params": ["0x" + tx.hex()],
                    }
                    for i, tx in enumerate(chunk)
                ]
                answers = (await client.post(rpc_url, json=body)).json()
                errors = [a["error"] for a in answers if "error" in a]
                if errors or len(answers) != len(chunk):
                    raise RuntimeError(f"anvil refused {len(errors)}: {errors[:1]}")

        await asyncio.gather(*(lane(txs) for txs in lanes))


POST_BATCH = 100
"""Transactions one ``POST /v1/txs`` carries (``{"txs": [...]}``; the node takes 1,000)."""

STALLED = 120.0
"""Seconds without a new delivery after which a run is given up (and the hub's view of the
unfinished transfers printed): rejected transfers never arrive, and the overall timeout
grows with the run's size (a run at 300/s would have waited 2.5 hours for 6,327 rejected ones)."""

TICK = 0.05
"""Seconds between two posts of a lane under offered load, each carrying what fell due since
the last. A post per transaction cost the client ~1.5 ms of CPU per transfer and the devnet
an HTTP request each, on the 2 cores the hub is measured on; arrivals grouped within 50 ms
are invisible at 1 s blocks (``docs/benchmarks.md``)."""


async def post_lanes(url: str, lanes: list[list[bytes]], rate: float = 0.0) -> None:
    """Post every lane's transactions in order; all lanes together at ``rate`` per second
    (offered load), or as fast as the node takes them (``rate`` 0: a burst). Each request
    carries what is due, up to ``POST_BATCH`` of a lane (one transaction per request capped
    the client near 150/s on this machine, ``docs/benchmarks.md``), a ``TICK`` apart under
    offered load: the node still checks and answers each transaction on its own."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        started = time.perf_counter()

        async def lane(txs: list[bytes]) -> None:
            per_lane = rate / len(lanes) if rate else 0.0
            async for chunk in paced(txs, per_lane, started, POST_BATCH):
                response = await client.post(
                    "/v1/txs", json={"txs": ["0x" + tx.hex() for tx in chunk]}
                )
                if response.status_code != 200:
                    raise RuntimeError(response.text)
                refused = [r for r in response.json()["results"] if r.get("status") != 202]
                if refused:
                    raise RuntimeError(f"the node refused {len(refused)}: {refused[0]}")

        await asyncio.gather(*(lane(txs) for txs in lanes))


async def watch(
    info: dict[str, object], count: int, seen: Observed, timeout: float, *, back: bool = False
) -> None:
    """Poll both chains every 50 ms until ``count`` packets were received on the destination
    (anvil; the devnet when ``back``)."""
    from adapters.evm.adapter import EvmAdapter
    from adapters.evm.settings import EvmChainSettings
    from adapters.pujiang import PujiangAdapter
    from core.ids import Height
    from core.types import EventKind
    from devtools.devstack import DEVNET_CHAIN, EVM_CHAIN, EVM_CHAIN_ID

    chains = info["chains"]  # type: ignore[index]
    devnet = PujiangAdapter.from_options(
        {"url": chains[DEVNET_CHAIN]["url"], "chain_id": DEVNET_CHAIN}
    )
    anvil = EvmAdapter(
        EvmChainSettings(
            chain=EVM_CHAIN,
            rpc_url=chains[EVM_CHAIN]["rpc_url"],
            evm_chain_id=EVM_CHAIN_ID,
            bridge_address=chains[EVM_CHAIN]["bridge"],
            confirmations=0,
        )
    )
    try:
        next_d = int(await devnet.latest_height()) + 1
        next_a = int(await anvil.latest_height()) + 1
        deadline = time.monotonic() + timeout
        progress, progressed_at = 0, time.monotonic()
        while len(seen.received) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(seen.received)} of {count} delivered in {timeout} s")
            if len(seen.received) > progress:
                progress, progressed_at = len(seen.received), time.monotonic()
            elif time.monotonic() - progressed_at > STALLED:
                raise TimeoutError(
                    f"no delivery for {STALLED:g} s: {progress} of {count} delivered"
                )
            tip_d, tip_a = int(await devnet.latest_height()), int(await anvil.latest_height())
            now = time.perf_counter()
            # out: devnet sends, anvil receives; back: anvil sends, the devnet receives.
            if tip_d >= next_d:
                for event in await devnet.events(Height(next_d), Height(tip_d)):
                    if event.kind is EventKind.SEND_PACKET and not back:
                        seen.sent.setdefault(devnet.bridge().packet_of(event).sequence, now)
                    elif event.kind is EventKind.RECEIVE_PACKET and back:
                        seen.received.setdefault(int(event.attributes["sequence"]), now)  # type: ignore[call-overload]
                next_d = tip_d + 1
            if tip_a >= next_a:
                for event in await anvil.events(Height(next_a), Height(tip_a)):
                    if event.kind is EventKind.RECEIVE_PACKET and not back:
                        seen.received.setdefault(int(event.attributes["sequence"]), now)
                    elif event.kind is EventKind.SEND_PACKET and back:
                        seen.sent.setdefault(anvil.bridge().packet_of(event).sequence, now)
                next_a = tip_a + 1
            await asyncio.sleep(0.05)
    finally:
        await devnet.aclose()
        await anvil.aclose()


def print_unfinished(info: dict[str, object]) -> None:
    """The hub's view of every transfer not completed: state and reason (a failed run)."""
    if not info:
        return
    states: dict[str, int] = {}
    cursor: str | None = None
    with contextlib.suppress(httpx.HTTPError), httpx.Client(timeout=10) as client:
        for _ in range(50):
            params: dict[str, object] = {"limit": 200} | ({"cursor": cursor} if cursor else {})
            page = client.get(
                f"{info['api']}/v1/transfers",
                params=params,
                headers={"X-API-Key": str(info["api_key"])},
            ).json()
            for item in page.get("items", []):
                states[item.get("state")] = states.get(item.get("state"), 0) + 1
                if item.get("state") != "completed":
                    print(f"unfinished {item}", file=sys.stderr)
            cursor = page.get("next_cursor")
            if not cursor:
                break
    print(f"transfers by state in the hub: {states}", file=sys.stderr)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


PROBE_INTERVAL = 0.25
"""Seconds between two API probes. Every 20 ms (before 2026-12-06) the probe was itself
a load: 30-50 requests a second through the hub's middleware took a third of a core
from the relayer it shares the process with, at any transfer rate."""


async def probe_api(api: str, stop: asyncio.Event, latencies: list[float]) -> None:
    """The API's answer time during the run: ``GET /v1/transfers?limit=5`` every
    ``PROBE_INTERVAL`` (a store read answered through the event loop the relayer runs on)."""
    async with httpx.AsyncClient(base_url=api, timeout=30) as client:
        while not stop.is_set():
            began = time.perf_counter()
            answer = await client.get("/v1/transfers", params={"limit": 5})
            if answer.status_code == 200:
                latencies.append(time.perf_counter() - began)
            await asyncio.sleep(PROBE_INTERVAL)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (``/proc/<pid>/stat``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_by_role(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far per role: relayer (the hub, or the relay processes and the hub as
    ``api`` beside them), notaries, chains."""
    roles: dict[str, float] = {}
    split = any(name.startswith("relayer") for name in pids)
    for name, pid in pids.items():
        if name == "hub" and split:
            role = "api"
        elif name == "hub" or name.startswith("relayer"):
            role = "relayer"
        elif name.startswith("notary"):
            role = "notaries"
        else:
            role = name
        roles[role] = roles.get(role, 0.0) + cpu_seconds(pid)
    return roles


def bridge_gas(info: dict[str, object], first_block: int) -> tuple[int, int]:
    """Gas used by every transaction to the bridge on anvil since ``first_block``, and their
    number (``eth_getBlockReceipts``)."""
    from devtools.devstack import EVM_CHAIN

    chain = info["chains"][EVM_CHAIN]  # type: ignore[index]
    bridge = str(chain["bridge"]).lower()
    gas = count = 0
    with httpx.Client(timeout=30) as client:

        def rpc(method: str, *params: object) -> object:
            body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
            return client.post(str(chain["rpc_url"]), json=body).json()["result"]

        tip = int(str(rpc("eth_blockNumber")), 16)
        for number in range(first_block, tip + 1):
            for receipt in rpc("eth_getBlockReceipts", hex(number)) or []:  # type: ignore[union-attr]
                if str(receipt.get("to") or "").lower() == bridge:
                    gas += int(receipt["gasUsed"], 16)
                    count += 1
    return gas, count


def anvil_height(info: dict[str, object]) -> int:
    from devtools.devstack import EVM_CHAIN

    chain = info["chains"][EVM_CHAIN]  # type: ignore[index]
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
    return int(httpx.post(str(chain["rpc_url"]), json=body, timeout=30).json()["result"], 16)


def steady_rate(delivered_at: list[float]) -> float:
    """Deliveries per second between the 10th and the 90th percentile delivery (sorted
    times); 0 when they fall in one instant (a run too small to tell)."""
    low, high = int(0.1 * (len(delivered_at) - 1)), int(0.9 * (len(delivered_at) - 1))
    elapsed = delivered_at[high] - delivered_at[low]
    return (high - low) / elapsed if elapsed > 0 else 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def switch_to_light_client(info: dict[str, object]) -> None:
    """``devnet-to-anvil`` becomes a ``light_client`` route (the tour's step 5)."""
    from devtools.devstack import DEVNET_CHAIN, EVM_CHAIN, ROUTE_OUT

    answer = httpx.post(
        f"{info['api']}/v1/routes",
        headers={"X-API-Key": str(info["api_key"])},
        json={
            "route_id": ROUTE_OUT,
            "source": DEVNET_CHAIN,
            "destination": EVM_CHAIN,
            "protocol": "light_client",
        },
        timeout=10,
    )
    answer.raise_for_status()


def run_setup(
    name: str,
    count: int,
    database_url: str | None,
    relayers: int,
    *,
    mode: str = "batch",
    light_client: bool = False,
    rate: float = 0.0,
    back: bool = False,
    poll: float = 0.2,
) -> dict[str, float]:
    os.environ["PJGW_RELAYER_ATTESTATION"] = mode  # inherited by the stack's processes
    try:
        from devtools.devstack import EVM_CHAIN, DevStack, DevStackOptions
    except ImportError:  # the layout before the re-housing (a baseline checkout)
        from gateway.devstack import DevStack, DevStackOptions  # type: ignore[no-redef]

    keep = os.environ.get("PJGW_BENCH_KEEP")  # a directory: keep the stack's data and logs there
    with tempfile.TemporaryDirectory(prefix=f"pjgw-e2e-{name}-", dir=keep) as tmp:
        if keep:
            tmp = tempfile.mkdtemp(prefix=f"pjgw-e2e-{name}-", dir=keep)
        options = DevStackOptions(
            data_dir=Path(tmp) / "dev",
            api_port=free_port(),
            devnet_port=free_port(),
            anvil_port=free_port(),
            relayer_poll=poll,
            database_url=database_url,
            hub_relays=relayers == 0,
            relayers=relayers,
        )
        stack = DevStack(options)
        try:
            info = stack.up()
            if light_client:
                switch_to_light_client(info)
            lanes = signed_evm_sends(info, count) if back else signed_sends(info, count)
            seen = Observed()
            pids0 = stack.supervisor.pids() if stack.supervisor else {}
            cpu_before = cpu_by_role(pids0)
            first_block = anvil_height(info) + 1
            api_latencies: list[float] = []

            async def drive() -> float:
                watcher = asyncio.create_task(
                    watch(info, count, seen, timeout=120 + count, back=back)
                )
                stop_probe = asyncio.Event()
                probe = asyncio.create_task(probe_api(str(info["api"]), stop_probe, api_latencies))
                await asyncio.sleep(0.2)
                started = time.perf_counter()
                if back:
                    rpc_url = str(info["chains"][EVM_CHAIN]["rpc_url"])  # type: ignore[index]
                    await post_evm_lanes(rpc_url, lanes, rate)
                else:
                    await post_lanes(info["chains"]["pujiang-devnet"]["url"], lanes, rate)  # type: ignore[index]
                admitted = time.perf_counter() - started
                await watcher
                stop_probe.set()
                await probe
                return admitted

            own_before = time.process_time()
            admitted = asyncio.run(drive())
            # This process's own CPU while it posted the (pre-signed) sends and watched both
            # chains: on the same 2 cores as the stack, so it is part of what the run cost.
            own_cpu = time.process_time() - own_before
            pids = stack.supervisor.pids() if stack.supervisor else {}
            relay_pids = [pid for n, pid in pids.items() if n == "hub" or n.startswith("relayer")]
            memory = max(rss_mib(pid) for pid in relay_pids)
            cpu_after = cpu_by_role(pids)
            cpu = {k: v - cpu_before.get(k, 0.0) for k, v in cpu_after.items()}
            cpu["bench"] = own_cpu
            gas, gas_txs = bridge_gas(info, first_block)
        except BaseException:
            for child in stack.supervisor.children.values() if stack.supervisor else []:
                print(f"--- {child.name} ---\n{child.tail(15)}", file=sys.stderr)
            print_unfinished(stack.info)
            raise
        finally:
            stack.down()
    latencies = sorted(seen.received[s] - seen.sent[s] for s in seen.received if s in seen.sent)
    span = max(seen.received.values()) - min(seen.sent.values())
    return {
        "steady_tps": steady_rate(sorted(seen.received.values())),
        "transfers": len(seen.received),
        "admit_s": admitted,
        "span_s": span,
        "tps": len(seen.received) / span,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))],
        "rss": memory,
        "api_p50_ms": 1000 * percentile(api_latencies, 0.5),
        "api_p99_ms": 1000 * percentile(api_latencies, 0.99),
        "api_n": len(api_latencies),
        "cpu": cpu,  # type: ignore[dict-item]
        "gas_per_packet": 0.0 if back else gas / max(1, len(seen.received)),
        "bridge_txs": gas_txs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transfers", type=int, default=300, help="the burst's size")
    parser.add_argument("--setups", default="sqlite,pg-1,pg-2")
    parser.add_argument("--modes", default="batch", help="batch,packet: attestation modes")
    parser.add_argument("--rate", type=float, default=0.0, help="offered transfers/s (0: burst)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of offered load")
    parser.add_argument(
        "--poll",
        type=float,
        default=0.2,
        help="the stack's relayer poll, wait and backoff intervals and notary poll (s)",
    )
    parser.add_argument(
        "--directions",
        default="out",
        help="out (devnet -> anvil), back (anvil -> devnet), or out,back",
    )
    args = parser.parse_args()
    count = round(args.rate * args.duration) if args.rate else args.transfers
    load = f"{args.rate:g}/s for {args.duration:g} s" if args.rate else "a burst"
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cpus, python {platform.python_version()}"
    )
    for direction in args.directions.split(","):
        back = direction == "back"
        path = "anvil -> devnet" if back else "devnet -> anvil"
        print(
            f"{count} transfers {path} as {load}, 1 s blocks, 3 notaries (2 of 3), "
            f"poll {args.poll:g} s"
        )
        report(args, count, back)


def report(args: argparse.Namespace, count: int, back: bool) -> None:
    """Every mode and set-up of one direction, then the ratios."""
    results: dict[tuple[str, str], dict[str, float]] = {}
    for mode in args.modes.split(","):
        for setup in args.setups.split(","):
            load_avg = os.getloadavg()
            if setup in ("sqlite", "sqlite-lc") or setup.startswith("sqlite-"):
                light = setup == "sqlite-lc"
                r = run_setup(
                    setup,
                    count,
                    None,
                    0 if setup in ("sqlite", "sqlite-lc") else int(setup.split("-")[1]),
                    mode=mode,
                    rate=args.rate,
                    light_client=light,
                    back=back,
                    poll=args.poll,
                )
            else:
                with postgres() as url:
                    relayers = int(setup.split("-")[1])
                    r = run_setup(
                        setup,
                        count,
                        url,
                        relayers,
                        mode=mode,
                        rate=args.rate,
                        back=back,
                        poll=args.poll,
                    )
            results[(mode, setup)] = r
            cpu = "  ".join(f"{k} {v:.1f}" for k, v in sorted(r["cpu"].items()))  # type: ignore[attr-defined]
            print(
                f"  {mode:6} {setup:6}  {r['tps']:6.1f} transfers/s  (span {r['span_s']:.1f} s, "
                f"posted in {r['admit_s']:.1f} s; steady {r['steady_tps']:.1f}/s)  "
                f"latency p50 {r['p50']:.2f} s  "
                f"p99 {r['p99']:.2f} s  relayer RSS {r['rss']:.0f} MiB",
                flush=True,
            )
            gas = "n/a (Pujiang)" if back else f"{r['gas_per_packet']:,.0f}"
            print(
                f"                 gas/packet {gas} ({r['bridge_txs']} bridge txs on anvil)  "
                f"CPU s: {cpu}  load average before {load_avg[0]:.1f}",
                flush=True,
            )
            print(
                f"                 API during the run (GET /v1/transfers, {r['api_n']} requests): "
                f"p50 {r['api_p50_ms']:.1f} ms  p99 {r['api_p99_ms']:.1f} ms",
                flush=True,
            )
    for mode in args.modes.split(","):
        if (mode, "sqlite") in results and (mode, "sqlite-lc") in results:
            ratio = results[(mode, "sqlite-lc")]["tps"] / results[(mode, "sqlite")]["tps"]
            print(f"  {mode}: light-client route / notary route on SQLite: x{ratio:.2f}")
        if (mode, "pg-1") in results and (mode, "pg-2") in results:
            ratio = results[(mode, "pg-2")]["tps"] / results[(mode, "pg-1")]["tps"]
            print(f"  {mode}: 2 relayers / 1 relayer on PostgreSQL: x{ratio:.2f}")
    for setup in args.setups.split(","):
        if ("batch", setup) in results and ("packet", setup) in results:
            b, p = results[("batch", setup)], results[("packet", setup)]
            print(
                f"  {setup}: batch / packet: throughput x{b['tps'] / p['tps']:.2f}, "
                f"latency p50 x{b['p50'] / p['p50']:.2f}, "
                f"gas/packet x{b['gas_per_packet'] / max(1.0, p['gas_per_packet']):.2f}"
            )


if __name__ == "__main__":
    main()
