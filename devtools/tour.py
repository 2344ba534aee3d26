"""``pjgw transfer``, ``pjgw status ID`` and ``pjgw balances``: the tour from the command line.

* ``transfer`` creates a transfer through the hub's API (``POST /v1/transfers``).
  From a Pujiang chain the hub signs with its managed account (``from_account``,
  the keystore ``pjgw dev up`` fills); from an EVM chain the source transaction
  is signed here with the dev key of ``--from`` (the API has no hub-signed EVM
  sends yet) and handed over as ``signed_tx``: a voucher is burned with
  ``Bridge.sendToken``, an ERC-20 is approved then locked, ``native`` is sent
  with ``sendNative``.
* ``status`` follows a transfer until it is terminal (``GET /v1/transfers/{id}``
  twice a second): a live table on a terminal, one line per new state otherwise.
* ``balances`` reads both chains directly (the devnet's REST API, anvil over
  JSON-RPC), not the hub: it is how the tour shows the hub did what it says.

The hub URL and API key come from ``--hub`` / ``--api-key``, else ``PJGW_HUB_URL``
/ ``PJGW_API_KEY``, else the running dev stack's ``stack.json`` (``PJGW_DEV_DIR``,
default ``var/dev``), else ``http://127.0.0.1:8080`` and no key.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.spinner import Spinner
from rich.table import Table

from core.errors import ConfigError, InvalidInput, NotFound, PjgwError
from core.states import DELIVERY_PATH

console = Console(highlight=False)
PATH_STATES = tuple(str(state) for state in DELIVERY_PATH)
FAILED_STATES = ("rejected", "refunded")
TERMINAL = ("completed", *FAILED_STATES)
DEFAULT_HUB = "http://127.0.0.1:8080"
NATIVE = "native"
EXIT_FAILED, EXIT_TIMEOUT = 1, 3

HubOption = Annotated[str | None, typer.Option("--hub", envvar="PJGW_HUB_URL", help="Hub base URL")]
KeyOption = Annotated[
    str | None,
    typer.Option("--api-key", envvar="PJGW_API_KEY", help="API key", show_default=False),
]
DevDirOption = Annotated[
    Path | None,
    typer.Option("--dev-dir", envvar="PJGW_DEV_DIR", help="The dev stack's data directory"),
]


class HubError(PjgwError):
    """The hub answered with a problem (its code and detail are kept)."""

    code = "hub-error"


# --- where the hub is ----------------------------------------------------------------------------


def _stack(dev_dir: Path | None) -> dict[str, Any]:
    from devtools.devstack import load_stack_file

    return load_stack_file(dev_dir) or {}


def _hub(hub: str | None, stack: dict[str, Any]) -> str:
    return (hub or stack.get("api") or DEFAULT_HUB).rstrip("/")


def _headers(api_key: str | None, stack: dict[str, Any]) -> dict[str, str]:
    key = api_key or stack.get("api_key")
    return {"X-API-Key": key} if key else {}


@contextlib.contextmanager
def _reaching(url: str) -> Iterator[None]:
    """A hub or chain that does not answer is one readable line, not a traceback."""
    try:
        yield
    except httpx.TransportError as err:
        raise HubError(
            f"cannot reach {url} ({type(err).__name__}): is `pjgw dev up` running?"
        ) from None


def _check(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            problem = response.json()
            detail = f"{problem.get('code', response.status_code)}: {problem.get('detail', '')}"
        except ValueError:
            detail = f"HTTP {response.status_code}"
        raise HubError(f"{response.request.method} {response.request.url.path}: {detail}")
    return response.json()


def _route_and_chains(
    client: httpx.Client, route_id: str
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    routes = {r["route_id"]: r for r in _check(client.get("/v1/routes"))}
    if route_id not in routes:
        raise NotFound(f"the hub has no route {route_id!r} (it has: {', '.join(sorted(routes))})")
    chains = {c["chain_id"]: c for c in _check(client.get("/v1/chains"))}
    route = routes[route_id]
    return route, chains[route["source"]], chains[route["destination"]]


def _dev_account(stack: dict[str, Any], name: str, chain_id: str) -> dict[str, Any]:
    account = stack.get("accounts", {}).get(name, {}).get(chain_id)
    if account is None:
        raise ConfigError(
            f"no dev account {name!r} on {chain_id} in stack.json: start `pjgw dev up`, "
            "or pass --sender (a Pujiang source with a managed account)"
        )
    return account  # type: ignore[no-any-return]


# --- EVM: the source transaction, signed here ---------------------------------------------------


async def _evm_source_tx(
    chain: dict[str, Any],
    key: str,
    *,
    dest_chain: str,
    receiver: str,
    denom: str,
    amount: int,
    timeout_unix: int,
    say: Any,
) -> tuple[str, bytes]:
    """``(sender, signed raw transaction)`` of the bridge send; an ERC-20 is approved first."""
    from eth_account import Account
    from eth_hash.auto import keccak
    from eth_utils import to_checksum_address

    from adapters.evm.artifacts import load_artifact
    from adapters.evm.rpc import JsonRpcClient

    settings = chain["settings"]
    bridge_address = settings.get("bridge_address")
    if not bridge_address:
        raise ConfigError(f"chain {chain['chain_id']} lists no bridge_address")
    account = Account.from_key(key)
    bridge, token_art = load_artifact("Bridge"), load_artifact("WrappedToken")
    receiver_bytes = bytes.fromhex(receiver.removeprefix("0x"))
    async with JsonRpcClient(settings["rpc_url"], timeout=10.0) as rpc:

        async def view(to: str, data: bytes) -> bytes:
            out = await rpc.call("eth_call", {"to": to, "data": "0x" + data.hex()}, "latest")
            return bytes.fromhex(out[2:])

        async def sign(to: str, data: bytes, value: int = 0) -> bytes:
            nonce = int(await rpc.call("eth_getTransactionCount", account.address, "pending"), 16)
            call = {"from": account.address, "to": to, "data": "0x" + data.hex()}
            if value:
                call["value"] = hex(value)
            gas = int(int(await rpc.call("eth_estimateGas", call), 16) * 1.3)
            base = int(
                (await rpc.call("eth_getBlockByNumber", "latest", False))["baseFeePerGas"], 16
            )
            tip = 10**9
            tx = {
                "chainId": int(settings["evm_chain_id"]),
                "nonce": nonce,
                "to": to_checksum_address(to),
                "data": data,
                "value": value,
                "gas": gas,
                "maxPriorityFeePerGas": tip,
                "maxFeePerGas": 2 * base + tip,
                "type": 2,
            }
            return bytes(account.sign_transaction(tx).raw_transaction)

        async def mined(tx_hash: str) -> None:
            deadline = time.monotonic() + 60
            while (receipt := await rpc.call("eth_getTransactionReceipt", tx_hash)) is None:
                if time.monotonic() > deadline:
                    raise HubError(f"{tx_hash} was not mined within a minute")
                await asyncio.sleep(0.2)
            if int(receipt["status"], 16) != 1:
                raise HubError(f"{tx_hash} failed on {chain['chain_id']}")

        tail = (dest_chain, receiver_bytes, 0, timeout_unix)
        if denom == NATIVE:
            data = bridge.encode_call("sendNative", *tail)
            return account.address.lower(), await sign(bridge_address, data, amount)
        if denom.startswith("0x") and len(denom) == 42:  # a local ERC-20: approve, then lock
            token = denom
            approve = token_art.encode_call("approve", bridge_address, amount)
            say(f"approving {amount} of {token} for the bridge (sent to the chain directly)")
            await mined(
                await rpc.call("eth_sendRawTransaction", "0x" + (await sign(token, approve)).hex())
            )
        else:  # a voucher of this bridge, e.g. pujiang-devnet/upj: burned on the way home
            found = await view(
                bridge_address, bridge.encode_call("voucherOf", keccak(denom.encode()))
            )
            token = bridge.decode_output("voucherOf", found)
            if int(token, 16) == 0:
                raise InvalidInput(
                    f"{chain['chain_id']} has no voucher of {denom!r}", field="denom"
                )
        data = bridge.encode_call("sendToken", token, amount, *tail)
        return account.address.lower(), await sign(bridge_address, data)


# --- commands ------------------------------------------------------------------------------------


def transfer(
    route: Annotated[str, typer.Option(help="Route id, e.g. devnet-to-anvil")],
    to: Annotated[str, typer.Option("--to", help="Receiver on the destination chain")],
    amount: Annotated[str, typer.Option(help="Amount in base units (a decimal integer)")],
    denom: Annotated[
        str, typer.Option(help="Denomination: upj, a voucher path, an ERC-20 address, native")
    ] = "upj",
    from_: Annotated[
        str | None,
        typer.Option("--from", help="Dev account (alice, bob, carol) or managed account name"),
    ] = None,
    sender: Annotated[
        str | None, typer.Option(help="Sender address (default: the --from account's)")
    ] = None,
    timeout: Annotated[int, typer.Option(help="Seconds until the packet times out")] = 3600,
    idempotency_key: Annotated[str | None, typer.Option(help="Default: a new UUID")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Then follow it like `status`")] = False,
    quiet: Annotated[bool, typer.Option(help="Print only the transfer id")] = False,
    hub: HubOption = None,
    api_key: KeyOption = None,
    dev_dir: DevDirOption = None,
) -> None:
    """Create a transfer through the hub's API and print its id."""
    stack = _stack(dev_dir)
    if not from_:
        raise ConfigError("--from is required: a dev account (alice) or a managed account")
    base = _hub(hub, stack)
    with (
        _reaching(base),
        httpx.Client(base_url=base, headers=_headers(api_key, stack), timeout=30) as c,
    ):
        route_rec, source, dest = _route_and_chains(c, route)
        body: dict[str, Any] = {
            "route_id": route,
            "kind": "asset",
            "receiver": to,
            "denom": denom,
            "amount": str(int(amount)),
            "timeout_seconds": int(time.time()) + timeout,
        }
        if source["family"] == "evm":
            key = _dev_account(stack, from_, source["chain_id"])["key"]
            say = (lambda _: None) if quiet else (lambda text: console.print(f"[dim]{text}[/]"))
            body["sender"], raw = asyncio.run(
                _evm_source_tx(
                    source,
                    key,
                    dest_chain=dest["chain_id"],
                    receiver=to,
                    denom=denom,
                    amount=int(amount),
                    timeout_unix=body["timeout_seconds"],
                    say=say,
                )
            )
            body["signed_tx"] = "0x" + raw.hex()
        else:
            body["from_account"] = from_
            body["sender"] = sender or _dev_account(stack, from_, source["chain_id"])["address"]
        headers = {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}
        created = _check(c.post("/v1/transfers", json=body, headers=headers))
    if quiet:
        print(created["id"])
    else:
        console.print(
            f"[green]transfer[/] {created['id']} {escape(amount)} {escape(denom)} "
            f"{route_rec['source']} -> {route_rec['destination']}: {created['state']}"
        )
        console.print(f"follow it: pjgw status {created['id']}")
    if wait:
        status(created["id"], hub=hub, api_key=api_key, dev_dir=dev_dir)


def status(
    transfer_id: Annotated[str, typer.Argument(help="The transfer's id (tr_…)")],
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds")] = 300.0,
    interval: Annotated[float, typer.Option(help="Seconds between reads")] = 0.5,
    hub: HubOption = None,
    api_key: KeyOption = None,
    dev_dir: DevDirOption = None,
) -> None:
    """Follow a transfer's states until it completes, is refunded or rejected."""
    stack = _stack(dev_dir)
    deadline = time.monotonic() + timeout
    base = _hub(hub, stack)
    with (
        _reaching(base),
        httpx.Client(base_url=base, headers=_headers(api_key, stack), timeout=10) as c,
    ):

        def read() -> dict[str, Any]:
            return _check(c.get(f"/v1/transfers/{transfer_id}"))  # type: ignore[no-any-return]

        transfer = read()
        paused = route_pause_line(c, transfer["route_id"])
        if paused:
            console.print(paused)
        if console.is_terminal:
            with Live(_render(transfer), console=console, refresh_per_second=8) as live:
                while transfer["state"] not in TERMINAL and time.monotonic() < deadline:
                    time.sleep(interval)
                    transfer = read()
                    live.update(_render(transfer))
        else:  # a pipe or a log: one line per new history entry
            seen = 0
            while True:
                for line in transfer["history"][seen:]:
                    console.print(f"{line['state']:17} {escape(line['reason'])}")
                seen = len(transfer["history"])
                if transfer["state"] in TERMINAL or time.monotonic() >= deadline:
                    break
                time.sleep(interval)
                transfer = read()
        waiting = "" if transfer["state"] in TERMINAL else route_pause_line(c, transfer["route_id"])
    state = transfer["state"]
    if state == "completed":
        for tx in transfer.get("transactions", []):
            console.print(f"  {tx['role']:14} {tx['chain_id']}  {tx['tx_hash']}")
        console.print(f"[green]completed[/] {transfer_id}")
        return
    if state in FAILED_STATES:
        console.print(f"[red]{state}[/] {transfer_id}: {escape(transfer['reason'])}")
        raise typer.Exit(EXIT_FAILED)
    if hold_line(transfer):
        console.print(hold_line(transfer))
    console.print(f"[yellow]still {state}[/] after {timeout:g} s: {escape(transfer['reason'])}")
    if waiting:
        console.print(waiting)
    raise typer.Exit(EXIT_TIMEOUT)


def route_pause_line(client: httpx.Client, route_id: str) -> str:
    """A line saying the transfer's route is paused and why (an operator's pause or a circuit
    breaker's, ``docs/supervision.md``), or "" when it runs (or the hub cannot say)."""
    try:
        answer = client.get("/v1/routes")
        routes = answer.json() if answer.status_code == 200 else []
    except (httpx.HTTPError, ValueError):
        return ""
    route = next((r for r in routes if r.get("route_id") == route_id), None)
    reason = None if route is None else route.get("paused_reason")
    if not reason:
        return ""
    return (
        f"[yellow]route {escape(route_id)} is paused[/]: {escape(str(reason))} "
        "(its transfers wait until an operator resumes it)"
    )


def _render(transfer: dict[str, Any]) -> Group:
    """The path of states: done ones ticked with their time, the current one spinning."""
    reached: dict[str, dict[str, Any]] = {}
    for line in transfer["history"]:
        reached.setdefault(line["state"], line)
    state = transfer["state"]
    path = list(PATH_STATES)
    if "held" in reached and "held" not in path:  # where it rested: after its origin state
        after = "proven" if transfer.get("source_height") is not None else "requested"
        path.insert(path.index(after) + 1, "held")
    if state in ("timed_out", *FAILED_STATES) or "timed_out" in reached:
        cut = max((path.index(s) for s in reached if s in path), default=0) + 1
        path = path[:cut] + [s for s in ("timed_out", "refunded", "rejected") if s in reached]
    start = transfer["created_at"]
    table = Table.grid(padding=(0, 2))
    for name in path:
        if name in reached and (name != state or state in TERMINAL):
            ok = name not in ("timed_out", *FAILED_STATES)
            mark = "[green]✓[/]" if ok else "[red]✗[/]"
            at = f"+{reached[name]['at'] - start:5.1f} s"
            table.add_row(mark, name, at, escape(reached[name]["reason"][:90]))
        elif name == state:
            table.add_row(Spinner("dots"), f"[bold]{name}[/]", "", escape(transfer["reason"][:90]))
        else:
            table.add_row("[dim]·[/]", f"[dim]{name}[/]", "", "")
    title = (
        f"[bold]{transfer['id']}[/]  {transfer['amount']} {escape(transfer['denom'])} "
        f"on {transfer['route_id']}  {transfer['sender']} -> {transfer['receiver']}"
    )
    hold = hold_line(transfer)
    return Group(title, table, hold) if hold else Group(title, table)


def hold_line(transfer: dict[str, Any]) -> str:
    """While a transfer is held: the rule, why, and when it is released (or who decides)."""
    hold = transfer.get("hold")
    if not hold:
        return ""
    if hold.get("decision"):
        when = f"{hold['decision']}: refunded once its timeout passes"
    elif hold.get("release_at") is None:
        when = "waits for a supervisor"
    else:
        at = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(hold["release_at"]))
        when = f"released by itself at {at}"
    return f"[yellow]held[/] by {escape(hold['rule'])}: {escape(hold['reason'])} — {when}"


def balances(
    names: Annotated[list[str] | None, typer.Argument(help="Dev accounts (default: all)")] = None,
    dev_dir: DevDirOption = None,
) -> None:
    """Balances of the dev accounts on both chains, read from the chains themselves."""
    stack = _stack(dev_dir)
    if not stack:
        raise ConfigError("no dev stack found (stack.json): start one with `pjgw dev up`")
    accounts = stack["accounts"]
    for name in names or list(accounts):
        if name not in accounts:
            raise NotFound(f"no dev account {name!r} (there are: {', '.join(accounts)})")
        table = Table(title=f"{name}, read from each chain", title_justify="left")
        for column in ("chain", "address", "denom"):
            table.add_column(column)
        table.add_column("amount", justify="right")
        for chain_id, chain in stack["chains"].items():
            address = accounts[name][chain_id]["address"]
            with _reaching(chain.get("url") or chain["rpc_url"]):
                shown = _chain_balances(stack, chain, address)
            for i, (denom, amount) in enumerate(sorted(shown.items())):
                table.add_row(chain_id if i == 0 else "", address if i == 0 else "", denom, amount)
        console.print(table)


def _chain_balances(stack: dict[str, Any], chain: dict[str, Any], address: str) -> dict[str, str]:
    if chain["family"] == "pujiang":
        found = _check(httpx.get(f"{chain['url']}/v1/accounts/{address}", timeout=10))
        return dict(found["balances"])
    devnet = next(c for c, v in stack["chains"].items() if v["family"] == "pujiang")
    return asyncio.run(_evm_balances(chain, address, devnet))


async def _evm_balances(chain: dict[str, Any], holder: str, devnet: str) -> dict[str, str]:
    """ETH (wei), the test token and the vouchers of the devnet's two dev denominations."""
    from eth_hash.auto import keccak

    from adapters.evm.artifacts import load_artifact
    from adapters.evm.rpc import JsonRpcClient

    bridge, erc20 = load_artifact("Bridge"), load_artifact("WrappedToken")
    async with JsonRpcClient(chain["rpc_url"], timeout=10.0) as rpc:

        async def call(to: str, artifact: Any, fn: str, *args: Any) -> Any:
            data = "0x" + artifact.encode_call(fn, *args).hex()
            out = await rpc.call("eth_call", {"to": to, "data": data}, "latest")
            return artifact.decode_output(fn, bytes.fromhex(out[2:]))

        shown = {"wei": str(int(await rpc.call("eth_getBalance", holder, "latest"), 16))}
        if chain.get("test_token"):
            shown["TT"] = str(await call(chain["test_token"], erc20, "balanceOf", holder))
        for base in ("upj", "ucny"):
            path = f"{devnet}/{base}"
            voucher = await call(chain["bridge"], bridge, "voucherOf", keccak(path.encode()))
            if int(voucher, 16):
                shown[path] = str(await call(voucher, erc20, "balanceOf", holder))
    return shown


def register(app: typer.Typer) -> None:
    """Add ``transfer``, ``status`` and ``balances`` to the ``pjgw`` app."""
    app.command("transfer")(transfer)
    app.command("status")(status)
    app.command("balances")(balances)


__all__ = ["balances", "register", "route_pause_line", "status", "transfer"]
