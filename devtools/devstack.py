"""``pjgw dev up``: the embedded default deployment, every part a child process.

What it starts, in order (``docs/devstack.md`` says why each choice):

1. a devnet node (``python -m devnet run``, 1 s blocks) from a fixed dev seed,
   so its accounts and notary keys are the same on every run, and anvil
   (1 s blocks, its well-known test mnemonic) side by side;
2. on anvil: ``Bridge`` (committee = the devnet's three genesis notaries,
   threshold two), ``TestToken`` (minted to alice and bob),
   ``ExampleMessageReceiver`` and ``HashedTimelock`` (atomic swaps, docs/htlc.md),
   and a ``PujiangLightClient`` of the devnet anchored at its newest block and
   named by the bridge (so ``devnet-to-anvil`` can be switched to a
   ``light_client`` route, docs/light-client-route.md);
3. the hub's chains file (with the relayers' keys) and the notaries' copy
   (without), both routes devnet <-> anvil, an admin API key, one notary API
   key per notary, a keystore holding alice's devnet key as the managed
   account ``alice`` (so ``from_account`` works with plain ``curl``);
4. the hub (``pjgw serve --chains``: API + relayer on SQLite) and three
   ``pjgw notary run`` processes.

It waits until each is healthy, writes ``stack.json`` (addresses, URLs, the dev
keys: mode 0600, read by ``pjgw transfer`` / ``status`` / ``balances``),
prints the summary and the ready line, then watches. Ctrl-C or SIGTERM stops
everything it started; a child that exits on its own is reported with the
tail of its log and the stack stops.

SECURITY: every key here derives from public constants (the dev seed,
anvil's published mnemonic). This is a development stack, never a deployment.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from core.errors import ConfigError
from devtools.supervisor import ChildSpec, ProcessFailed, Supervisor, http_ok, log_contains

DEVNET_CHAIN = "pujiang-devnet"
EVM_CHAIN = "anvil-31337"
EVM_CHAIN_ID = 31337
ROUTE_OUT = "devnet-to-anvil"
ROUTE_BACK = "anvil-to-devnet"
DEV_SEED = hashlib.sha256(b"pujiang-gateway/dev-stack/v1").digest()
"""Every devnet key of the stack derives from this public seed (devnet/keys.py)."""
ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
"""anvil's default: its accounts are the ones every Ethereum tutorial shows."""
NOTARIES = 3
THRESHOLD = 2
ACCOUNT_NAMES = ("alice", "bob", "carol")  # dev users; devnet "dave" and anvil #3 relay
DEVNET_RELAYER = 3
TOKEN_MINT = 10**24
STACK_FILE = "stack.json"
MARKER = ".pjgw-devstack"
DEFAULT_DIR = Path("var/dev")


@dataclass(frozen=True)
class DevStackOptions:
    """Where the stack lives and listens. Every port can move (tests use free ones)."""

    data_dir: Path = DEFAULT_DIR
    host: str = "127.0.0.1"
    api_port: int = 8080
    devnet_port: int = 26650
    anvil_port: int = 8545
    devnet_block_time: str = "1s"
    anvil_block_time: float = 1.0
    relayer_poll: float = 0.5
    grace: float = 10.0
    # Production-like variants (bench/hub_e2e.py): a PostgreSQL store, the relayer in
    # ``relayers`` separate ``pjgw relay`` processes instead of inside the hub.
    database_url: str | None = field(default=None, repr=False)  # may hold a password
    hub_relays: bool = True
    relayers: int = 0
    python: str = sys.executable

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def devnet_url(self) -> str:
        return f"http://{self.host}:{self.devnet_port}"

    @property
    def anvil_url(self) -> str:
        return f"http://{self.host}:{self.anvil_port}"


@dataclass
class DevAccounts:
    """The dev accounts of both chains: name -> (address, secret) per chain (public test keys)."""

    devnet: dict[str, tuple[str, bytes]] = field(default_factory=dict, repr=False)
    anvil: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    notary_keys: list[bytes] = field(default_factory=list, repr=False)
    notaries: list[str] = field(default_factory=list)


@dataclass
class Contracts:
    bridge: str
    token: str
    receiver: str
    deploy_height: int
    htlc: str | None = None  # HashedTimelock: the swap legs on anvil (docs/htlc.md)
    light_client: str | None = None  # PujiangLightClient of the devnet (light_client routes)


# --- keys ----------------------------------------------------------------------------------------


def dev_accounts() -> DevAccounts:
    """The devnet accounts and notaries of ``DEV_SEED`` and anvil's mnemonic accounts."""

    from devnet import keys
    from proofs.hashing import SHA256
    from proofs.pujiang import codec

    accounts = DevAccounts()
    for index in range(DEVNET_RELAYER + 1):
        key = keys.account_key(DEV_SEED, index)
        address = "0x" + codec.compute_address(bytes(key.verify_key), SHA256).hex()
        accounts.devnet[keys.account_name(index)] = (address, bytes(key))
    for index, name in enumerate(("admin", *ACCOUNT_NAMES, "relayer")):
        accounts.anvil[name] = anvil_account(index)
    for index in range(NOTARIES):
        notary = keys.notary_key(DEV_SEED, index)
        accounts.notary_keys.append(bytes(notary.secret))
        accounts.notaries.append("0x" + keys.notary_address(notary).hex())
    return accounts


def anvil_account(index: int) -> tuple[str, str]:
    """``(address, private key)`` of anvil's mnemonic account ``index`` (public test keys)."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    path = f"m/44'/60'/0'/0/{index}"
    account = Account.from_mnemonic(ANVIL_MNEMONIC, account_path=path)
    return account.address, account.key.to_0x_hex()


# --- the data directory --------------------------------------------------------------------------


def prepare_data_dir(path: Path) -> Path:
    """A fresh directory: created, or emptied when an earlier ``dev up`` made it.

    A non-empty directory without the marker is refused: it is not ours to wipe.
    """
    path = path.resolve()
    if path.exists() and any(path.iterdir()):
        if not (path / MARKER).exists():
            raise ConfigError(
                f"{path} is not empty and was not made by `pjgw dev up`: choose another --data-dir"
            )
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text("made by pjgw dev up; emptied on its next start\n")
    return path


def check_ports_free(options: DevStackOptions) -> None:
    """Refuse early, naming the option to change, rather than fail inside a child."""
    wanted = {
        "--api-port": options.api_port,
        "--devnet-port": options.devnet_port,
        "--anvil-port": options.anvil_port,
    }
    if len(set(wanted.values())) != len(wanted):
        raise ConfigError("the API, devnet and anvil ports must differ")
    for flag, port in wanted.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((options.host, port))
            except OSError:
                raise ConfigError(f"port {port} is in use: pass {flag} with a free one") from None


def write_secret(path: Path, text: str) -> None:
    """A file only its owner reads (keys, tokens)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


# --- children ------------------------------------------------------------------------------------


def devnet_spec(options: DevStackOptions, data: Path) -> ChildSpec:
    command = [options.python, "-m", "devnet", "run", "--data", str(data / "devnet")]
    command += ["--host", options.host, "--port", str(options.devnet_port)]
    command += ["--seed", DEV_SEED.hex(), "--chain-id", DEVNET_CHAIN]
    command += ["--block-time", options.devnet_block_time, "--log-level", "warning"]
    return ChildSpec("devnet", command, health=http_ok(options.devnet_url + "/healthz"))


def anvil_spec(options: DevStackOptions, data: Path) -> ChildSpec:
    from adapters.evm.node import AnvilConfig, find_anvil_binary

    config = AnvilConfig(
        chain_id=EVM_CHAIN_ID,
        block_time=options.anvil_block_time,
        accounts=len(ACCOUNT_NAMES) + 2 + options.relayers,
        extra_args=("--mnemonic", ANVIL_MNEMONIC),
    )
    command = config.command(find_anvil_binary())
    command[command.index("--port") + 1] = str(options.anvil_port)
    command[command.index("--host") + 1] = options.host
    home = data / "anvil"
    home.mkdir(exist_ok=True)
    # HOME: anvil otherwise dumps its state under ~/.foundry every block (adapters/evm/node.py).
    return ChildSpec(
        "anvil",
        command,
        env={"HOME": str(home)},
        cwd=home,
        health=log_contains("Listening on"),
    )


def hub_spec(
    options: DevStackOptions, data: Path, chains: Path, keystore_password: str
) -> ChildSpec:
    pjgw = str(Path(options.python).parent / "pjgw")
    command = [pjgw, "serve", "--chains", str(chains)]
    command += ["--host", options.host, "--port", str(options.api_port)]
    if not options.hub_relays:
        command.append("--no-relay")
    env = hub_env(options, data, keystore_password)
    return ChildSpec(
        "hub", command, env=env, health=http_ok(options.api_url + "/readyz"), ready_timeout=90
    )


def relayer_spec(
    options: DevStackOptions, data: Path, chains: Path, keystore_password: str, index: int
) -> ChildSpec:
    """A ``pjgw relay`` process on the hub's store (leases share the work)."""
    pjgw = str(Path(options.python).parent / "pjgw")
    return ChildSpec(
        f"relayer-{index}",
        [pjgw, "relay", "--chains", str(chains)],
        env=hub_env(options, data, keystore_password),
        health=log_contains("relayer on the store"),
    )


def hub_env(options: DevStackOptions, data: Path, keystore_password: str) -> dict[str, str]:
    poll = f"{options.relayer_poll:g}"
    env = {
        "PJGW_DATA_DIR": str(data / "hub"),
        "PJGW_KEYSTORE_DIR": str(data / "keystore"),
        "PJGW_KEYSTORE_PASSWORD": keystore_password,
        "PJGW_LOG_LEVEL": "warning",
        "PJGW_RELAYER_POLL_INTERVAL": poll,
        "PJGW_RELAYER_WAIT_INTERVAL": poll,
        "PJGW_RELAYER_BACKOFF_BASE": poll,
    }
    if options.database_url:
        env["PJGW_DATABASE_URL"] = options.database_url
    return env


def notary_spec(
    options: DevStackOptions, data: Path, index: int, config: Path, token: str
) -> ChildSpec:
    pjgw = str(Path(options.python).parent / "pjgw")
    home = data / f"notary-{index}"
    # The dev stack's keys derive from public constants: plaintext is fine here, explicitly.
    command = [pjgw, "notary", "run", "--insecure-plaintext-key"]
    command += ["--key-file", str(home / "notary.key")]
    command += ["--hub", options.api_url, "--config", str(config), "--data", str(home / "state")]
    command += ["--poll-interval", f"{options.relayer_poll:g}"]
    # The API key travels in the environment, not on the command line (ps shows argv).
    return ChildSpec(
        f"notary-{index}",
        command,
        env={"PJGW_NOTARY_API_KEY": token},
        health=log_contains(" polling "),
    )


# --- anvil: contracts ----------------------------------------------------------------------------


async def keep_timestamps_increasing(url: str, block_time: float) -> None:
    """Stamp each anvil block ``block_time`` (whole seconds, at least one) after its parent.

    Ethereum requires a block's timestamp to be after its parent's, and the hub's EVM
    light client refuses a header that is not (``proofs/evm/chain.py``). anvil's interval
    miner, behind under load, mined two blocks with the same timestamp, and every transfer
    from the second on was refused (a benchmark at 300 transfers/s: 6,327 of 9,000; since
    then such a transfer waits for an operator, ``relayer/retry.py``). When anvil mines late, its
    clock runs behind the wall clock by the delay (docs/devstack.md); the tests' anvil
    has run this way from the start.
    """
    from adapters.evm.rpc import JsonRpcClient

    async with JsonRpcClient(url, timeout=10.0) as rpc:
        await rpc.call("anvil_setBlockTimestampInterval", max(1, round(block_time)))


async def deploy_contracts(url: str, accounts: DevAccounts) -> Contracts:
    """Bridge, TestToken, ExampleMessageReceiver from anvil's unlocked admin account."""
    from adapters.evm.artifacts import load_artifact
    from adapters.evm.rpc import JsonRpcClient

    admin = accounts.anvil["admin"][0]
    members = sorted(accounts.notaries, key=lambda a: int(a, 16))  # the bridge wants them sorted
    async with JsonRpcClient(url, timeout=10.0) as rpc:
        chain_accounts = {a.lower() for a in await rpc.call("eth_accounts")}
        expected = {address.lower() for address, _ in accounts.anvil.values()}
        if not expected <= chain_accounts:
            raise ConfigError("anvil's accounts are not those of its default mnemonic")

        # Explicit nonces: anvil gives two concurrent eth_sendTransaction of one account the
        # same nonce ("replacement transaction underpriced"), so each send takes the next one.
        nonces = itertools.count(
            int(await rpc.call("eth_getTransactionCount", admin, "pending"), 16)
        )

        async def send(data: bytes, to: str | None = None) -> dict[str, Any]:
            tx = {"from": admin, "data": "0x" + data.hex(), "gas": hex(10**7)}
            tx["nonce"] = hex(next(nonces))
            if to is not None:
                tx["to"] = to
            tx_hash = await rpc.call("eth_sendTransaction", tx)
            deadline = time.monotonic() + 60
            while (receipt := await rpc.call("eth_getTransactionReceipt", tx_hash)) is None:
                if time.monotonic() > deadline:
                    raise ProcessFailed("anvil mined no block for a minute")
                await asyncio.sleep(0.1)
            if int(receipt["status"], 16) != 1:
                raise ProcessFailed(f"a deployment transaction failed on anvil ({tx_hash})")
            return receipt  # type: ignore[no-any-return]

        bridge_art, token_art = load_artifact("Bridge"), load_artifact("TestToken")
        load_artifact("WrappedToken")  # the bridge deploys vouchers: fail now if it is missing
        receiver_art = load_artifact("ExampleMessageReceiver")
        bridge, token = await asyncio.gather(
            send(bridge_art.encode_deploy(EVM_CHAIN, admin, members, THRESHOLD)),
            send(token_art.encode_deploy("Test Token", "TT")),
        )
        bridge_address, token_address = bridge["contractAddress"], token["contractAddress"]
        mints = [
            send(token_art.encode_call("mint", accounts.anvil[name][0], TOKEN_MINT), token_address)
            for name in ACCOUNT_NAMES
        ]
        receiver, htlc, *_ = await asyncio.gather(
            send(receiver_art.encode_deploy(bridge_address)),
            send(load_artifact("HashedTimelock").encode_deploy()),
            *mints,
        )
    return Contracts(
        bridge=bridge_address,
        token=token_address,
        receiver=receiver["contractAddress"],
        deploy_height=int(bridge["blockNumber"], 16),
        htlc=htlc["contractAddress"],
    )


LIGHT_CLIENT_TRUSTING_MS = 14 * 24 * 3600 * 1000
LIGHT_CLIENT_DRIFT_MS = 10_000


async def deploy_light_client(
    anvil_url: str, devnet_url: str, accounts: DevAccounts, bridge: str
) -> str:
    """A ``PujiangLightClient`` of the devnet on anvil, its checkpoint the devnet's newest
    block (trusted: this process started the devnet), set on the bridge by its admin."""
    import httpx

    from adapters.evm.artifacts import load_artifact
    from adapters.evm.rpc import JsonRpcClient

    async with httpx.AsyncClient(base_url=devnet_url, timeout=10.0) as devnet:
        status = (await devnet.get("/v1/status")).raise_for_status().json()
        height = int(status["latest_height"])
        block = (await devnet.get(f"/v1/blocks/{height}")).raise_for_status().json()
    header = bytes.fromhex(block["header"].removeprefix("0x"))
    header_hash = bytes.fromhex(block["hash"].removeprefix("0x"))
    admin = accounts.anvil["admin"][0]
    client_art, bridge_art = load_artifact("PujiangLightClient"), load_artifact("Bridge")
    async with JsonRpcClient(anvil_url, timeout=10.0) as rpc:

        async def send(data: bytes, to: str | None = None) -> dict[str, Any]:
            tx = {"from": admin, "data": "0x" + data.hex(), "gas": hex(10**7)}
            if to is not None:
                tx["to"] = to
            tx_hash = await rpc.call("eth_sendTransaction", tx)
            deadline = time.monotonic() + 60
            while (receipt := await rpc.call("eth_getTransactionReceipt", tx_hash)) is None:
                if time.monotonic() > deadline:
                    raise ProcessFailed("anvil mined no block for a minute")
                await asyncio.sleep(0.1)
            if int(receipt["status"], 16) != 1:
                raise ProcessFailed(f"a light-client transaction failed on anvil ({tx_hash})")
            return receipt  # type: ignore[no-any-return]

        deployed = await send(
            client_art.encode_deploy(DEVNET_CHAIN, LIGHT_CLIENT_TRUSTING_MS, LIGHT_CLIENT_DRIFT_MS)
        )
        client = str(deployed["contractAddress"])
        await send(client_art.encode_call("initialize", height, header_hash, header), client)
        await send(bridge_art.encode_call("setLightClient", DEVNET_CHAIN, client), bridge)
    return client


# --- chains files --------------------------------------------------------------------------------


def chains_toml(
    options: DevStackOptions,
    accounts: DevAccounts,
    contracts: Contracts,
    *,
    hub: bool,
    anvil_signer: str | None = None,
) -> str:
    """The chains file (``adapters/chains_file.py``); only the hub's copy holds signer keys."""
    committee = ", ".join(f'"{a}"' for a in accounts.notaries)
    devnet = [
        f"[chains.{DEVNET_CHAIN}]",
        'family = "pujiang"',
        f'url = "{options.devnet_url}"',
        f"committee_threshold = {THRESHOLD}",
        f"committee = [{committee}]",
    ]
    anvil = [
        f"[chains.{EVM_CHAIN}]",
        'family = "evm"',
        f'rpc_url = "{options.anvil_url}"',
        f"evm_chain_id = {EVM_CHAIN_ID}",
        f'bridge_address = "{contracts.bridge}"',
        *([f'htlc_address = "{contracts.htlc}"'] if contracts.htlc else []),
        f"start_height = {contracts.deploy_height}",
        "confirmations = 0",
        f"block_time = {options.anvil_block_time:g}",  # HTLC timelocks (docs/htlc.md)
        f"committee_threshold = {THRESHOLD}",
        f"committee = [{committee}]",
    ]
    if hub:
        devnet_relayer = accounts.devnet[_devnet_name(DEVNET_RELAYER)][1]
        # Development keys in the file: the stack opts in to plaintext keys explicitly.
        devnet.append(f'relayer_key = "{devnet_relayer.hex()}"')
        devnet.append("insecure_plaintext_key = true")
        anvil.append(f'signer_key = "{anvil_signer or accounts.anvil["relayer"][1]}"')
        anvil.append("insecure_plaintext_key = true")
    routes = [
        f"[routes.{ROUTE_OUT}]",
        f'source = "{DEVNET_CHAIN}"',
        f'destination = "{EVM_CHAIN}"',
        f"[routes.{ROUTE_BACK}]",
        f'source = "{EVM_CHAIN}"',
        f'destination = "{DEVNET_CHAIN}"',
    ]
    return "\n".join([*devnet, "", *anvil, "", *routes]) + "\n"


def _devnet_name(index: int) -> str:
    from devnet import keys

    return keys.account_name(index)


# --- the stack -----------------------------------------------------------------------------------


class DevStack:
    """Start, describe, watch and stop the dev stack; ``run()`` is ``pjgw dev up``."""

    def __init__(self, options: DevStackOptions, console: Console | None = None) -> None:
        self.options = options
        self.console = console or Console(highlight=False, soft_wrap=True)
        self.data = options.data_dir
        self.supervisor: Supervisor | None = None
        self.info: dict[str, Any] = {}

    def up(self) -> dict[str, Any]:
        """Start every part and return the stack description (also written to stack.json)."""
        options = self.options
        check_ports_free(options)
        self.data = data = prepare_data_dir(options.data_dir)
        self.supervisor = sup = Supervisor(data / "logs", grace=options.grace)
        accounts = dev_accounts()
        self._say("starting the devnet node and anvil")
        sup.start(devnet_spec(options, data))
        sup.start(anvil_spec(options, data))
        sup.wait_healthy("devnet")
        sup.wait_healthy("anvil")
        asyncio.run(keep_timestamps_increasing(options.anvil_url, options.anvil_block_time))
        self._say("deploying Bridge, TestToken, ExampleMessageReceiver, HashedTimelock on anvil")
        contracts = asyncio.run(deploy_contracts(options.anvil_url, accounts))
        self._say("deploying the devnet's light client on anvil (for light_client routes)")
        contracts.light_client = asyncio.run(
            deploy_light_client(options.anvil_url, options.devnet_url, accounts, contracts.bridge)
        )
        hub_chains, notary_chains = data / "hub.toml", data / "notary.toml"
        write_secret(hub_chains, chains_toml(options, accounts, contracts, hub=True))
        notary_chains.write_text(chains_toml(options, accounts, contracts, hub=False))
        api_key, notary_tokens = self._keys(data)
        password = secrets.token_urlsafe(24)
        self._keystore(data, password, accounts)
        self._say("starting the hub (API + relayer) and three notaries")
        sup.start_healthy(hub_spec(options, data, hub_chains, password))
        for index in range(options.relayers):
            # Each relayer process signs with its own anvil account (as deploy/compose.yaml
            # does): two processes on one account race for its nonces and back off.
            own = data / f"relayer-{index}.toml"
            _, signer = anvil_account(len(ACCOUNT_NAMES) + 2 + index)
            write_secret(
                own, chains_toml(options, accounts, contracts, hub=True, anvil_signer=signer)
            )
            sup.start(relayer_spec(options, data, own, password, index))
        for index, token in enumerate(notary_tokens):
            home = data / f"notary-{index}"
            home.mkdir()
            write_secret(home / "notary.key", accounts.notary_keys[index].hex())
            sup.start(notary_spec(options, data, index, notary_chains, token))
        for index in range(NOTARIES):
            sup.wait_healthy(f"notary-{index}")
        self.info = self._describe(accounts, contracts, api_key)
        write_secret(data / STACK_FILE, json.dumps(self.info, indent=2) + "\n")
        return self.info

    def _keys(self, data: Path) -> tuple[str, list[str]]:
        """The admin key printed for the developer and one notary key per notary (the store's)."""
        from gateway.settings import Settings
        from gateway.store import SqlStore

        (data / "hub").mkdir()
        settings = Settings(data_dir=data / "hub", database_url=self.options.database_url)
        store = SqlStore(settings.store_url())
        try:
            store.migrate()
            now = time.time()
            api_key = store.create_api_key("dev", "admin", now)
            tokens = [store.create_api_key(f"notary-{i}", "notary", now) for i in range(NOTARIES)]
        finally:
            store.close()
        return api_key, tokens

    def _keystore(self, data: Path, password: str, accounts: DevAccounts) -> None:
        """Alice's devnet key as the managed account ``alice``: ``from_account`` in the tour."""
        from pydantic import SecretStr

        from gateway.keystore import FileKeystore

        keystore = FileKeystore(data / "keystore", SecretStr(password))
        for name in ACCOUNT_NAMES:
            keystore.create(name, "pujiang", accounts.devnet[name][1], scrypt_n=2**14)

    def _describe(
        self, accounts: DevAccounts, contracts: Contracts, api_key: str
    ) -> dict[str, Any]:
        options = self.options
        return {
            "api": options.api_url,
            "api_key": api_key,
            "data_dir": str(self.data),
            "chains": {
                DEVNET_CHAIN: {
                    "family": "pujiang",
                    "url": options.devnet_url,
                    "block_time": options.devnet_block_time,
                },
                EVM_CHAIN: {
                    "family": "evm",
                    "rpc_url": options.anvil_url,
                    "evm_chain_id": EVM_CHAIN_ID,
                    "block_time": f"{options.anvil_block_time:g}s",
                    "bridge": contracts.bridge,
                    "test_token": contracts.token,
                    "message_receiver": contracts.receiver,
                    "htlc": contracts.htlc,
                    "light_client": contracts.light_client,
                },
            },
            "routes": {
                ROUTE_OUT: {"source": DEVNET_CHAIN, "destination": EVM_CHAIN},
                ROUTE_BACK: {"source": EVM_CHAIN, "destination": DEVNET_CHAIN},
            },
            "notaries": accounts.notaries,
            "threshold": THRESHOLD,
            "accounts": {
                name: {
                    DEVNET_CHAIN: {
                        "address": accounts.devnet[name][0],
                        "key": accounts.devnet[name][1].hex(),
                        "managed_account": name,
                    },
                    EVM_CHAIN: {
                        "address": accounts.anvil[name][0],
                        "key": accounts.anvil[name][1],
                    },
                }
                for name in ACCOUNT_NAMES
            },
            "pids": self.supervisor.pids() if self.supervisor else {},
        }

    # --- printing -------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        self.console.print(f"[dim]pjgw dev:[/] {text}")

    def print_summary(self) -> None:
        info, out = self.info, self.console
        alice = info["accounts"]["alice"]
        devnet, anvil = info["chains"][DEVNET_CHAIN], info["chains"][EVM_CHAIN]
        out.print()
        out.print("[bold]Pujiang Gateway dev stack[/]")
        out.print(f"  API          {info['api']}   (OpenAPI: {info['api']}/docs)")
        out.print(f"  API key      {info['api_key']}   (admin; for curl: X-API-Key)")
        out.print("  chains")
        out.print(
            f"    {DEVNET_CHAIN:15} pujiang  {devnet['url']:24} blocks {devnet['block_time']}"
        )
        out.print(f"    {EVM_CHAIN:15} evm      {anvil['rpc_url']:24} blocks {anvil['block_time']}")
        out.print(f"                    Bridge {anvil['bridge']}")
        out.print(f"                    TestToken (TT) {anvil['test_token']}")
        out.print(f"                    ExampleMessageReceiver {anvil['message_receiver']}")
        out.print(f"                    HashedTimelock {anvil.get('htlc')}")
        out.print(f"                    PujiangLightClient {anvil.get('light_client')}")
        out.print(f"  routes       {ROUTE_OUT}, {ROUTE_BACK} (notary, {THRESHOLD} of {NOTARIES})")
        out.print("  test accounts (public dev keys in stack.json)")
        for name, chains in info["accounts"].items():
            out.print(
                f"    {name:6} {DEVNET_CHAIN} {chains[DEVNET_CHAIN]['address']}  "
                "10^15 upj, 10^12 ucny"
            )
            out.print(
                f"    {'':6} {EVM_CHAIN}    {chains[EVM_CHAIN]['address']}  10,000 ETH, 10^24 TT"
            )
        out.print(f"  logs         {self.data / 'logs'}")
        out.print()
        out.print("[bold]The tour[/] (README.md), in a second terminal:")
        out.print(
            f"  .venv/bin/pjgw transfer --route {ROUTE_OUT} --from alice "
            f"--to {alice[EVM_CHAIN]['address']} --amount 1000 --denom upj"
        )
        out.print()

    # --- running ---------------------------------------------------------------------------

    def watch(self, stop: Any) -> ProcessFailed | None:
        """Until ``stop`` is set: None; a child that died on its own: its failure."""
        if self.supervisor is None:
            return None
        while not stop.wait(0.5):
            child = self.supervisor.failed()
            if child is not None:
                return ProcessFailed(self.supervisor.describe_exit(child))
        return None

    def down(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop_all()


def run(options: DevStackOptions, console: Console | None = None) -> int:
    """``pjgw dev up``: start, print, watch, stop. Returns the exit status."""
    import threading

    console = console or Console(highlight=False, soft_wrap=True)
    stack = DevStack(options, console)
    stop = threading.Event()
    interrupted: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        interrupted.append(signum)
        stop.set()
        if not stack.info:  # still starting: leave the blocking waits at once
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    status = 0
    try:
        stack.up()
        stack.print_summary()
        print("pjgw dev: ready (Ctrl-C stops everything)", flush=True)
        failure = stack.watch(stop)
        if failure is not None:
            console.print(f"[red]pjgw dev: {escape(failure.message)}[/]")
            console.print("[red]pjgw dev: stopping the stack[/]")
            status = 1
    except KeyboardInterrupt:
        pass
    except ProcessFailed as err:
        console.print(f"[red]pjgw dev: {escape(err.message)}[/]")
        status = 1
    finally:
        # A second Ctrl-C must not cut the shutdown short: children still get SIGKILL later.
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        if interrupted:
            console.print("pjgw dev: stopping every process it started")
        stack.down()
        for sig, handler in previous.items():
            with contextlib.suppress(Exception):
                signal.signal(sig, handler)
        console.print("pjgw dev: stopped")
    return status


def load_stack_file(data_dir: Path | None = None) -> dict[str, Any] | None:
    """The running stack's description (``stack.json``), or None when there is none."""
    directory = data_dir or Path(os.environ.get("PJGW_DEV_DIR", str(DEFAULT_DIR)))
    path = directory / STACK_FILE
    try:
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


__all__ = [
    "DEVNET_CHAIN",
    "DEV_SEED",
    "EVM_CHAIN",
    "ROUTE_BACK",
    "ROUTE_OUT",
    "DevStack",
    "DevStackOptions",
    "load_stack_file",
    "run",
]
