"""Assets both ways between the devnet and anvil, through the relayer (both routes).

Each test moves value with real transactions on both chains (the devnet in
process, a real anvil), lets one ``Relayer`` on a ``SqlStore`` carry every
packet (the test signs as the three notaries), reads the balances from the
chains, and ends by checking the conservation law on the chains themselves.
"""

from __future__ import annotations

from core.states import TransferState
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.flows.conservation import NATIVE, Asset, check_conservation
from tests.flows.helpers import ANVIL_TO_DEVNET, DEVNET_TO_ANVIL, Flows

AMOUNT = 1234
UPJ = Asset(DEVNET_CHAIN, "upj")


def voucher_on_anvil(flows: Flows, path: str) -> str:
    from eth_hash.auto import keccak

    address = str(flows.evm.bridge.view("voucherOf", keccak(path.encode())))
    if int(address, 16) == 0:
        raise AssertionError(f"no voucher {path} on anvil")
    return address


def anvil_voucher_balance(flows: Flows, path: str, holder: str) -> int:
    token = flows.evm.chain.at("WrappedToken", voucher_on_anvil(flows, path))
    return int(token.view("balanceOf", holder))


def test_devnet_upj_goes_to_anvil_as_a_voucher_and_comes_back_released_from_escrow(
    flows: Flows,
) -> None:
    node, evm = flows.devnet.node, flows.evm
    start = node.balance(flows.alice_devnet, "upj")

    out_tx = flows.devnet_send(flows.alice_anvil, "upj", AMOUNT)
    check_conservation(*flows.views(), [UPJ])  # in flight: escrowed, nothing minted yet
    out = flows.run(DEVNET_CHAIN, out_tx)
    assert out.route_id == DEVNET_TO_ANVIL
    assert anvil_voucher_balance(flows, f"{DEVNET_CHAIN}/upj", evm.alice) == AMOUNT
    assert node.balance(flows.alice_devnet, "upj") == start - AMOUNT
    ledger = check_conservation(*flows.views(), [UPJ])[0]
    assert (ledger.escrowed, ledger.outstanding, ledger.in_flight) == (AMOUNT, AMOUNT, 0)

    voucher = voucher_on_anvil(flows, f"{DEVNET_CHAIN}/upj")
    back = flows.evm.bridge.transact(
        "sendToken",
        voucher,
        AMOUNT,
        DEVNET_CHAIN,
        flows.alice_devnet,
        0,
        flows.anvil_deadline_s(),
        sender=evm.alice,
    )
    ledger = check_conservation(*flows.views(), [UPJ])[0]
    assert (ledger.outstanding, ledger.in_flight_back) == (0, AMOUNT)  # burned, not released
    home = flows.run(LOCAL_CHAIN, flows.anvil_tx_hash(back))
    assert home.route_id == ANVIL_TO_DEVNET
    assert home.state is TransferState.COMPLETED
    assert anvil_voucher_balance(flows, f"{DEVNET_CHAIN}/upj", evm.alice) == 0
    assert node.balance(flows.alice_devnet, "upj") == start
    ledger = check_conservation(*flows.views(), [UPJ])[0]
    assert (ledger.escrowed, ledger.outstanding, ledger.in_flight) == (0, 0, 0)


def test_an_anvil_erc20_goes_to_the_devnet_as_a_voucher_with_its_path_and_comes_back(
    flows: Flows,
) -> None:
    node, evm, token = flows.devnet.node, flows.evm, flows.token
    asset = flows.token_asset()
    voucher = f"{LOCAL_CHAIN}/{token.address.lower()}"
    start = int(token.view("balanceOf", evm.alice))
    token.transact("approve", evm.bridge.address, AMOUNT, sender=evm.alice)
    out = evm.bridge.transact(
        "sendToken",
        token.address,
        AMOUNT,
        DEVNET_CHAIN,
        flows.alice_devnet,
        0,
        flows.anvil_deadline_s(),
        sender=evm.alice,
    )
    check_conservation(*flows.views(), [asset])
    done = flows.run(LOCAL_CHAIN, flows.anvil_tx_hash(out))
    assert done.denom == token.address.lower()
    assert node.balance(flows.alice_devnet, voucher) == AMOUNT
    assert int(token.view("balanceOf", evm.bridge.address)) == AMOUNT  # escrowed by the bridge
    ledger = check_conservation(*flows.views(), [asset])[0]
    assert (ledger.escrowed, ledger.outstanding, ledger.in_flight) == (AMOUNT, AMOUNT, 0)

    back_tx = flows.devnet_send(flows.alice_anvil, voucher, AMOUNT)
    assert node.balance(flows.alice_devnet, voucher) == 0  # burned on the devnet
    ledger = check_conservation(*flows.views(), [asset])[0]
    assert ledger.in_flight_back == AMOUNT
    home = flows.run(DEVNET_CHAIN, back_tx)
    assert home.route_id == DEVNET_TO_ANVIL
    assert int(token.view("balanceOf", evm.alice)) == start
    ledger = check_conservation(*flows.views(), [asset])[0]
    assert (ledger.escrowed, ledger.outstanding, ledger.in_flight) == (0, 0, 0)


def test_the_anvil_native_coin_goes_to_the_devnet_and_comes_back(flows: Flows) -> None:
    node, evm = flows.devnet.node, flows.evm
    asset = Asset(LOCAL_CHAIN, NATIVE)
    voucher = f"{LOCAL_CHAIN}/{NATIVE}"
    wei = 10**15
    out = evm.bridge.transact(
        "sendNative",
        DEVNET_CHAIN,
        flows.alice_devnet,
        0,
        flows.anvil_deadline_s(),
        sender=evm.alice,
        value=wei,
    )
    flows.run(LOCAL_CHAIN, flows.anvil_tx_hash(out))
    assert node.balance(flows.alice_devnet, voucher) == wei
    assert evm.chain.balance(evm.bridge.address) == wei
    ledger = check_conservation(*flows.views(), [asset])[0]
    assert (ledger.escrowed, ledger.outstanding) == (wei, wei)

    bob = evm.node.accounts[1 + 1].address  # back to another account: gas does not blur it
    before = evm.chain.balance(bob)
    back_tx = flows.devnet_send(bytes.fromhex(bob[2:]), voucher, wei)
    flows.run(DEVNET_CHAIN, back_tx)
    assert evm.chain.balance(bob) == before + wei
    assert evm.chain.balance(evm.bridge.address) == 0
    ledger = check_conservation(*flows.views(), [asset])[0]
    assert (ledger.escrowed, ledger.outstanding, ledger.in_flight) == (0, 0, 0)
