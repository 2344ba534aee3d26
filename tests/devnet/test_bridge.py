"""The bridge module: sends, notary-certified receives, timeouts, and conservation of value."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import rlp
from coincurve import PrivateKey

from devnet import keys
from devnet.modules.bridge import escrow_address
from devnet.modules.notary import SECP256K1_N
from devnet.state import inbox_key, packet_key, recv_key, seq_key
from devnet.txs import Reason
from proofs.pujiang import codec
from tests.devnet.test_transactions import reason_of
from tests.fixtures.devnet_chain import CHAIN, OTHER, START_MS, Chain

FAR = START_MS + 3_600_000


def send(
    chain: Chain, who: int = 0, denom: bytes = b"upj", amount: int = 100, **kw: object
) -> dict[str, object]:
    args = [
        kw.get("dest", OTHER.encode()),
        kw.get("receiver", b"\xee" * 20),
        denom,
        amount,
        kw.get("timeout_height", 0),
        kw.get("timeout_time_ms", FAR),
    ]
    return chain.run1(who, "bridge_send", args)


def foreign_packet(
    chain: Chain,
    sequence: int = 1,
    *,
    denom: bytes = b"uusdc",
    amount: int = 100,
    payload: bytes = b"",
    receiver: bytes | None = None,
    source: bytes = OTHER.encode(),
    dest: bytes = CHAIN.encode(),
    timeout_height: int = 0,
    timeout_time_ms: int = FAR,
) -> codec.Packet:
    return codec.Packet(
        source_chain=source,
        dest_chain=dest,
        sequence=sequence,
        sender=b"\x0a" * 20,
        receiver=chain.address(1) if receiver is None else receiver,
        denom=denom,
        amount=amount,
        payload=payload,
        timeout_height=timeout_height,
        timeout_time_ms=timeout_time_ms,
    )


def recv(
    chain: Chain, packet: codec.Packet, certificate: object = None, who: int = 2
) -> dict[str, object]:
    if certificate is None:
        certificate = chain.certificate(codec.compute_packet_digest(packet, chain.hash_fn))
    return chain.run1(who, "bridge_recv", [packet, certificate])


def timeout(chain: Chain, packet: codec.Packet, certificate: object = None) -> dict[str, object]:
    if certificate is None:
        certificate = chain.certificate(codec.compute_nondelivery_digest(packet, chain.hash_fn))
    return chain.run1(3, "bridge_timeout", [packet, certificate])


def sent_packet(receipt: dict[str, object]) -> codec.Packet:
    events = receipt["events"]
    assert isinstance(events, list)
    assert events[0]["kind"] == "send_packet"
    event = codec.decode_event(bytes.fromhex(events[0]["event"][2:]))
    raw = {k.decode(): v for k, v in event.attributes}
    fields = [name for name, _ in codec.Packet._meta.fields]
    return codec.decode_packet(rlp.encode([raw[f] for f in fields]))


def escrow(chain: Chain, denom: str = "upj", counterparty: str = OTHER) -> int:
    return chain.balance(escrow_address(counterparty.encode(), chain.hash_fn), denom)


# --- sending ----------------------------------------------------------------------------


def test_send_native_escrows_and_emits_a_packet_with_sequence_one(chain: Chain) -> None:
    receipt = send(chain, amount=100)
    assert receipt["status"] == "committed"
    assert chain.balance(0, "upj") == 10**15 - 100
    assert escrow(chain) == 100
    packet = sent_packet(receipt)
    assert (packet.source_chain, packet.dest_chain, packet.sequence) == (b"pj-test", b"evm-1", 1)
    assert packet.sender == chain.address(0)
    assert packet.denom == b"upj"
    assert packet.amount == 100
    attributes = receipt["events"][0]["attributes"]  # type: ignore[index]
    assert attributes["amount"] == "100"
    assert attributes["sequence"] == 1
    commitment = chain.node.state_value(packet_key(b"evm-1", 1))
    assert commitment == chain.hash_fn(rlp.encode(packet))


def test_sequences_count_per_destination_from_one(chain: Chain) -> None:
    assert sent_packet(send(chain)).sequence == 1
    assert sent_packet(send(chain)).sequence == 2
    assert sent_packet(send(chain, dest=b"other-2")).sequence == 1
    assert chain.node.state_value(seq_key(b"evm-1")) == b"\x02"


def test_send_message_carries_the_payload_and_no_asset(chain: Chain) -> None:
    args = [OTHER.encode(), b"\x42" * 20, b"hello hub", 0, FAR]
    packet = sent_packet(chain.run1(0, "bridge_send_message", args))
    assert (packet.denom, packet.amount, packet.payload) == (b"", 0, b"hello hub")
    assert packet.sequence == 1


def test_sending_a_voucher_home_burns_it(chain: Chain) -> None:
    recv(chain, foreign_packet(chain, denom=b"uusdc", amount=80))
    assert chain.balance(1, "evm-1/uusdc") == 80
    receipt = send(chain, who=1, denom=b"evm-1/uusdc", amount=30)
    assert receipt["status"] == "committed"
    assert chain.balance(1, "evm-1/uusdc") == 50
    assert escrow(chain, "evm-1/uusdc") == 0  # burned, not escrowed
    assert sent_packet(receipt).denom == b"evm-1/uusdc"


def test_sending_a_third_chain_voucher_escrows_it(chain: Chain) -> None:
    recv(chain, foreign_packet(chain, denom=b"uatom", amount=10, source=b"cosmos-1"))
    send(chain, who=1, denom=b"cosmos-1/uatom", amount=10)  # to evm-1: not its home
    assert escrow(chain, "cosmos-1/uatom") == 10


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"dest": CHAIN.encode()}, Reason.WRONG_DESTINATION),
        ({"dest": b"Not A Chain"}, Reason.BAD_ARGS),
        ({"timeout_time_ms": 0}, Reason.BAD_ARGS),
        ({"timeout_time_ms": START_MS - 1}, Reason.BAD_ARGS),
        ({"receiver": b""}, Reason.BAD_ARGS),
        ({"amount": 10**16}, Reason.INSUFFICIENT_FUNDS),
    ],
)
def test_send_rejections(chain: Chain, overrides: dict[str, object], reason: Reason) -> None:
    amount = overrides.pop("amount", 100)
    receipt = send(chain, amount=amount, **overrides)  # type: ignore[arg-type]
    assert reason_of(receipt) == reason
    assert escrow(chain) == 0
    assert chain.node.state_value(seq_key(b"evm-1")) is None


# --- receiving --------------------------------------------------------------------------


def test_recv_mints_a_voucher_named_by_its_source(chain: Chain) -> None:
    packet = foreign_packet(chain, amount=500)
    receipt = recv(chain, packet)
    assert receipt["status"] == "committed"
    assert chain.balance(1, "evm-1/uusdc") == 500
    assert chain.node.state_value(recv_key(b"evm-1", 1)) == chain.hash_fn(rlp.encode(packet))
    assert receipt["events"][0]["kind"] == "recv_packet"  # type: ignore[index]


def test_recv_of_our_own_token_releases_the_escrow(chain: Chain) -> None:
    send(chain, amount=100)
    back = foreign_packet(chain, denom=b"pj-test/upj", amount=60)
    assert recv(chain, back)["status"] == "committed"
    assert chain.balance(1, "upj") == 10**15 + 60
    assert escrow(chain) == 40


def test_recv_cannot_release_more_than_the_route_escrowed(chain: Chain) -> None:
    send(chain, amount=10)
    receipt = recv(chain, foreign_packet(chain, denom=b"pj-test/upj", amount=11))
    assert reason_of(receipt) == Reason.ESCROW_SHORT
    assert escrow(chain) == 10


def test_recv_message_lands_in_the_receivers_inbox(chain: Chain) -> None:
    packet = foreign_packet(chain, sequence=7, denom=b"", amount=0, payload=b"\x01call")
    assert recv(chain, packet)["status"] == "committed"
    key = inbox_key(chain.address(1), b"evm-1", 7)
    assert chain.node.state_value(key) == b"\x01call"


def test_recv_replay_is_rejected(chain: Chain) -> None:
    packet = foreign_packet(chain)
    recv(chain, packet)
    assert reason_of(recv(chain, packet)) == Reason.REPLAYED_PACKET
    assert chain.balance(1, "evm-1/uusdc") == 100


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"dest": b"elsewhere"}, Reason.WRONG_DESTINATION),
        ({"source": CHAIN.encode()}, Reason.WRONG_DESTINATION),
        ({"timeout_height": 2}, Reason.PACKET_TIMED_OUT),
        ({"timeout_time_ms": START_MS}, Reason.PACKET_TIMED_OUT),
        ({"receiver": b"\x01" * 32}, Reason.BAD_ARGS),
        ({"sequence": 0}, Reason.BAD_ARGS),
        ({"denom": b"uusdc", "amount": 0}, Reason.BAD_ARGS),
    ],
)
def test_recv_rejections(chain: Chain, overrides: dict[str, object], reason: Reason) -> None:
    packet = foreign_packet(chain, **overrides)  # type: ignore[arg-type]
    assert reason_of(recv(chain, packet)) == reason


def test_recv_accepts_a_packet_at_the_last_height_before_its_timeout(chain: Chain) -> None:
    assert recv(chain, foreign_packet(chain, timeout_height=3))["status"] == "committed"


# --- notary certificates ------------------------------------------------------------------


def _malleate_high_s(signature: bytes) -> bytes:
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - signature[64]])


CertificateFactory = Callable[[Chain, bytes], object]

CERTIFICATES: dict[str, tuple[CertificateFactory, str]] = {
    "below threshold": (lambda c, d: c.certificate(d, [0]), "the committee needs 2"),
    "duplicate signer": (lambda c, d: c.certificate(d, [0, 0]), "signs twice"),
    "non-member": (
        lambda c, d: keys.sign_certificate([c.notaries[0], PrivateKey(b"\x07" * 32)], d),
        "not a member",
    ),
    "high s": (
        lambda c, d: codec.Certificate(
            signatures=[
                keys.sign_digest(c.notaries[0], d),
                _malleate_high_s(keys.sign_digest(c.notaries[1], d)),
            ]
        ),
        "low s",
    ),
    "bad v": (
        lambda c, d: codec.Certificate(
            signatures=[
                keys.sign_digest(c.notaries[0], d),
                keys.sign_digest(c.notaries[1], d)[:64] + b"\x01",
            ]
        ),
        "not 27 or 28",
    ),
    "zero r": (
        lambda c, d: codec.Certificate(
            signatures=[keys.sign_digest(c.notaries[0], d), bytes(32) + b"\x01" * 32 + b"\x1b"]
        ),
        "r is outside",
    ),
    "over another digest": (lambda c, d: c.certificate(b"\x99" * 32), "not a member"),
    "as bytes": (lambda c, d: codec.encode(c.certificate(d)), "must be an RLP list"),
    "short signature": (lambda c, d: [[b"\x01" * 64, b"\x02" * 65]], "not canonical"),
}


@pytest.mark.parametrize("case", sorted(CERTIFICATES))
def test_recv_rejects_a_bad_certificate(chain: Chain, case: str) -> None:
    make, why = CERTIFICATES[case]
    packet = foreign_packet(chain)
    receipt = recv(chain, packet, make(chain, codec.compute_packet_digest(packet, chain.hash_fn)))
    assert receipt["status"] == "failed"
    assert reason_of(receipt) in (Reason.BAD_CERTIFICATE, Reason.BAD_ARGS)
    assert why in str(receipt["reason"])
    assert chain.balance(1, "evm-1/uusdc") == 0


def test_recv_accepts_every_member_signing(chain: Chain) -> None:
    packet = foreign_packet(chain)
    digest = codec.compute_packet_digest(packet, chain.hash_fn)
    assert recv(chain, packet, chain.certificate(digest, [2, 0, 1]))["status"] == "committed"


def test_nondelivery_certificate_cannot_deliver(chain: Chain) -> None:
    packet = foreign_packet(chain)
    wrong = chain.certificate(codec.compute_nondelivery_digest(packet, chain.hash_fn))
    assert reason_of(recv(chain, packet, wrong)) == Reason.BAD_CERTIFICATE


# --- timeouts -----------------------------------------------------------------------------


def test_timeout_refunds_escrow_after_the_timeout_time(chain: Chain) -> None:
    packet = sent_packet(send(chain, amount=100, timeout_time_ms=START_MS + 10_000))
    assert reason_of(timeout(chain, packet)) == Reason.NOT_TIMED_OUT
    chain.clock.advance(10_000)
    receipt = timeout(chain, packet)
    assert receipt["status"] == "committed"
    assert receipt["events"][0]["kind"] == "timeout_packet"  # type: ignore[index]
    assert chain.balance(0, "upj") == 10**15
    assert escrow(chain) == 0
    assert chain.node.state_value(packet_key(b"evm-1", 1)) is None
    assert reason_of(timeout(chain, packet)) == Reason.UNKNOWN_PACKET


def test_timeout_remints_a_burned_voucher(chain: Chain) -> None:
    recv(chain, foreign_packet(chain, amount=50))
    packet = sent_packet(
        send(chain, who=1, denom=b"evm-1/uusdc", amount=50, timeout_height=100, timeout_time_ms=0)
    )
    assert chain.balance(1, "evm-1/uusdc") == 0
    assert timeout(chain, packet)["status"] == "committed"  # height-only: the certificate decides
    assert chain.balance(1, "evm-1/uusdc") == 50


def test_timeout_rejections(chain: Chain) -> None:
    packet = sent_packet(send(chain, amount=100, timeout_time_ms=START_MS + 100))
    chain.clock.advance(100)
    delivery = chain.certificate(codec.compute_packet_digest(packet, chain.hash_fn))
    assert reason_of(timeout(chain, packet, delivery)) == Reason.BAD_CERTIFICATE
    altered = packet.copy(amount=101)
    assert reason_of(timeout(chain, altered)) == Reason.UNKNOWN_PACKET
    foreign = foreign_packet(chain)
    assert reason_of(timeout(chain, foreign)) == Reason.WRONG_DESTINATION
    assert escrow(chain) == 100


def test_escrow_equals_vouchers_out_plus_in_flight(chain: Chain) -> None:
    """Conservation on this side of the route: what left is escrowed until it returns."""
    out = 0
    for amount in (100, 250, 40):
        send(chain, amount=amount)
        out += amount
    returned = 90
    recv(chain, foreign_packet(chain, denom=b"pj-test/upj", amount=returned))
    late = sent_packet(send(chain, amount=5, timeout_time_ms=START_MS + 100))
    chain.clock.advance(100)
    timeout(chain, late)
    assert escrow(chain) == out - returned
    total = sum(chain.balance(i, "upj") for i in range(4)) + escrow(chain)
    assert total == 4 * 10**15
