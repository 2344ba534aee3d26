"""Built blocks for what the real ones do not show: many transactions, SM3, SM2 and
public-key mode, and the light client across a configuration block."""

from __future__ import annotations

import dataclasses

import pytest

from proofs.chainmaker import (
    ClientState,
    compute_chain_trust,
    create_trusted_block,
    update_client,
    verify_block,
    verify_block_body,
    verify_rwset_inclusion,
    verify_tx_inclusion,
)
from proofs.chainmaker import errors as E
from proofs.chainmaker.encoding import (
    TBFT_QC_KEY,
    compute_merkle_path,
    compute_rwset_hash,
    compute_tx_hash,
    encode,
)
from proofs.chainmaker.pb import chainmaker_pb2 as pb
from proofs.hashing import SHA256, SM3, HashFunction
from tests.proofs.chainmaker.builder import (
    T0,
    VERSION,
    Node,
    Org,
    make_block,
    make_cert_node,
    make_config_tx,
    make_org,
    make_pk_node,
    make_sm2_cert_node,
    make_sm2_org,
    make_tx,
    trust_doc,
)

CHAIN = "synth"


@pytest.fixture(scope="module")
def cert_chain() -> tuple[list[Org], list[Node]]:
    orgs = [make_org(f"org{i}.example") for i in range(5)]
    nodes = [make_cert_node(org, f"QmNode{i}") for i, org in enumerate(orgs)]
    return orgs, nodes


@pytest.mark.parametrize("hash_fn", [SHA256, SM3], ids=lambda h: h.name)
def test_multi_tx_block_body_and_every_inclusion_proof(
    cert_chain: tuple[list[Org], list[Node]], hash_fn: HashFunction
) -> None:
    orgs, nodes = cert_chain
    four = nodes[:4]
    trust = compute_chain_trust(trust_doc(CHAIN, 0, four, orgs[:4], hash_fn.name.upper()))
    txs = [make_tx(CHAIN, i, 5) for i in range(7)]
    info = make_block(
        chain_id=CHAIN, height=5, parent=bytes(32), pre_conf_height=0,
        proposer=four[0], voters=four[:3], hash_fn=hash_fn, txs=txs,
    )  # fmt: skip
    verify_block(info, trust)
    verify_block_body(info, trust)
    header = info.block.header
    tx_leaves = [compute_tx_hash(tx, VERSION, hash_fn) for tx in info.block.txs]
    rw_leaves = [compute_rwset_hash(rw, hash_fn) for rw in info.rwset_list]
    for i in range(7):
        verify_tx_inclusion(
            header, info.block.txs[i], i, compute_merkle_path(tx_leaves, i, hash_fn), trust
        )
        verify_rwset_inclusion(
            header, info.rwset_list[i], i, compute_merkle_path(rw_leaves, i, hash_fn), trust
        )
    path = compute_merkle_path(tx_leaves, 6, hash_fn)
    with pytest.raises(E.BadMerklePath):  # index bounded by tx_count
        verify_tx_inclusion(header, info.block.txs[6], 7, path, trust)
    tampered = pb.Transaction()
    tampered.CopyFrom(info.block.txs[3])
    tampered.payload.method = "n"
    with pytest.raises(E.ProofRootMismatch):
        verify_tx_inclusion(header, tampered, 3, compute_merkle_path(tx_leaves, 3, hash_fn), trust)


@pytest.mark.parametrize("curve", ["sm2", "p256"])
def test_public_key_mode_sm3_chain(curve: str) -> None:
    """SM2 over SM3 (default uid) or ECDSA P-256 over SM3, keys pinned in the trust."""
    nodes = [make_pk_node(f"org{i}", f"QmPk{i}", curve) for i in range(4)]
    trust = compute_chain_trust(trust_doc(CHAIN, 0, nodes, hash_type="SM3", auth_type="public"))
    info = make_block(
        chain_id=CHAIN, height=1, parent=bytes(32), pre_conf_height=0,
        proposer=nodes[1], voters=nodes, hash_fn=SM3, txs=[make_tx(CHAIN, 0, 1)],
    )  # fmt: skip
    assert verify_block(info, trust).signers == tuple(n.node_id for n in nodes)
    verify_block_body(info, trust)

    unpinned = dataclasses.replace(
        trust, validators=tuple(dataclasses.replace(v, pinned=None) for v in trust.validators)
    )
    with pytest.raises(E.UntrustedIdentity) as caught:
        verify_block(info, unpinned)
    assert caught.value.details["check"] == "unpinned-key"

    vote_set = pb.VoteSet()
    vote_set.ParseFromString(info.block.additional_data.extra_data[TBFT_QC_KEY])
    vote = vote_set.votes[nodes[2].node_id]
    vote.endorsement.signature = nodes[2].sign(b"something else", SM3)
    info.block.additional_data.extra_data[TBFT_QC_KEY] = encode(vote_set)
    with pytest.raises(E.BadVoteSignature):
        verify_block(info, trust)


def test_one_key_voting_for_two_node_ids_is_refused(
    cert_chain: tuple[list[Org], list[Node]],
) -> None:
    """The binding trap: node 1's key also signs as node 4 of the same org."""
    orgs, nodes = cert_chain
    twin = Node("QmTwin", nodes[1].org_id, nodes[1].member, p256=nodes[1].p256)
    validators = [*nodes[:4], twin]
    trust = compute_chain_trust(trust_doc(CHAIN, 0, validators, orgs[:4]))
    info = make_block(
        chain_id=CHAIN, height=1, parent=bytes(32), pre_conf_height=0,
        proposer=nodes[0], voters=[nodes[0], nodes[1], twin, nodes[2]], hash_fn=SHA256,
    )  # fmt: skip
    with pytest.raises(E.DuplicateSigner):
        verify_block(info, trust)


def test_a_certificate_without_the_consensus_role_is_refused(cert_chain) -> None:
    orgs, nodes = cert_chain
    client_node = make_cert_node(orgs[3], "QmNode3", role="client")
    validators = [*nodes[:3], client_node]
    trust = compute_chain_trust(trust_doc(CHAIN, 0, validators, orgs[:4]))
    info = make_block(
        chain_id=CHAIN, height=1, parent=bytes(32), pre_conf_height=0,
        proposer=nodes[0], voters=[nodes[0], nodes[1], client_node], hash_fn=SHA256,
    )  # fmt: skip
    with pytest.raises(E.UntrustedIdentity) as caught:
        verify_block(info, trust)
    assert caught.value.details["check"] == "cert-role"


# --- light client ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rotation(cert_chain: tuple[list[Org], list[Node]]):
    """Heights 1..4: config 0 = nodes 0-3; block 2 rotates to nodes 0,1,2,4 (org4 joins)."""
    orgs, nodes = cert_chain
    old, new = nodes[:4], [*nodes[:3], nodes[4]]
    trust0 = compute_chain_trust(trust_doc(CHAIN, 0, old, orgs[:4]))
    b1 = make_block(
        chain_id=CHAIN, height=1, parent=b"\x01" * 32, pre_conf_height=0,
        proposer=old[0], voters=old[:3], hash_fn=SHA256, txs=[make_tx(CHAIN, 0, 1)],
        timestamp=T0 + 10,
    )  # fmt: skip
    b2 = make_block(
        chain_id=CHAIN, height=2, parent=b1.block.header.block_hash, pre_conf_height=0,
        proposer=old[1], voters=old[1:], hash_fn=SHA256,
        txs=[make_config_tx(CHAIN, 2, new, orgs, "SHA256")], timestamp=T0 + 20,
        block_type=pb.CONFIG_BLOCK,
    )  # fmt: skip
    b3 = make_block(
        chain_id=CHAIN, height=3, parent=b2.block.header.block_hash, pre_conf_height=2,
        proposer=new[3], voters=[new[0], new[2], new[3]], hash_fn=SHA256, timestamp=T0 + 30,
    )  # fmt: skip
    b3_old = make_block(
        chain_id=CHAIN, height=3, parent=b2.block.header.block_hash, pre_conf_height=2,
        proposer=old[3], voters=[old[0], old[2], old[3]], hash_fn=SHA256, timestamp=T0 + 30,
    )  # fmt: skip
    client = ClientState(chain_id=CHAIN, trusting_period_s=3600, max_clock_drift_s=10)
    start = create_trusted_block(client, trust0, 0, b"\x01" * 32, T0)
    return client, start, b1, b2, b3, b3_old


def test_light_client_follows_a_validator_rotation(rotation) -> None:
    client, start, b1, b2, b3, _ = rotation
    s1 = update_client(client, start, b1, T0 + 15)
    s2 = update_client(client, s1, b2, T0 + 25)
    assert s2.trust.config_height == 2
    assert {v.node_id for v in s2.trust.validators} == {"QmNode0", "QmNode1", "QmNode2", "QmNode4"}
    s3 = update_client(client, s2, b3, T0 + 35)
    assert s3.height == 3
    assert s3.block_hash == b3.block.header.block_hash


def test_the_old_set_cannot_sign_after_the_rotation(rotation) -> None:
    client, start, b1, b2, _, b3_old = rotation
    s2 = update_client(client, update_client(client, start, b1, T0 + 15), b2, T0 + 25)
    with pytest.raises(E.UnknownVoter):
        update_client(client, s2, b3_old, T0 + 35)


def test_skipping_the_config_block_is_refused(rotation) -> None:
    client, start, b1, _, b3, _ = rotation
    s1 = update_client(client, start, b1, T0 + 15)
    with pytest.raises(E.UnknownConfig):
        update_client(client, s1, b3, T0 + 35)


def test_a_config_block_without_its_body_is_refused(rotation) -> None:
    client, start, b1, b2, _, _ = rotation
    s1 = update_client(client, start, b1, T0 + 15)
    header_only = pb.BlockInfo()
    header_only.block.CopyFrom(b2.block)
    with pytest.raises(E.BadConfigBlock):
        update_client(client, s1, header_only, T0 + 25)


@pytest.mark.parametrize(
    ("row", "now", "trusted_height", "parent", "error"),
    [
        ("trusting period over", T0 + 3600, 0, None, E.TrustExpired),
        ("block from the future", T0 - 1, 0, None, E.HeaderFromFuture),
        ("height not above", T0 + 15, 1, None, E.NonIncreasingHeight),
        ("parent hash", T0 + 15, 0, b"\x02" * 32, E.ParentMismatch),
    ],
)
def test_light_client_refusals(rotation, row, now, trusted_height, parent, error) -> None:
    client, start, b1, _, _, _ = rotation
    trusted = dataclasses.replace(
        start, height=trusted_height, block_hash=parent or start.block_hash
    )
    with pytest.raises(error):
        update_client(client, trusted, b1, now)


def test_time_going_backwards_is_refused(rotation) -> None:
    client, start, b1, _, _, _ = rotation
    with pytest.raises(E.NonIncreasingTime):
        update_client(client, dataclasses.replace(start, timestamp=T0 + 11), b1, T0 + 15)


def test_sm2_cert_mode_chain_verifies_against_sm2_org_cas() -> None:
    """SM2 keys in SM2-with-SM3 certificates issued by SM2 org CAs, SM3 chain hash."""
    orgs = [make_sm2_org(f"gm-org{i}.example") for i in range(4)]
    nodes = [make_sm2_cert_node(org, f"QmGm{i}") for i, org in enumerate(orgs)]
    doc = trust_doc(CHAIN, 0, nodes, hash_type="SM3")
    doc["org_cas"] = {o.org_id: [o.pem] for o in orgs}
    trust = compute_chain_trust(doc)
    info = make_block(
        chain_id=CHAIN, height=1, parent=bytes(32), pre_conf_height=0,
        proposer=nodes[0], voters=nodes[:3], hash_fn=SM3,
    )  # fmt: skip
    assert len(verify_block(info, trust).signers) == 3

    doc["org_cas"][orgs[1].org_id] = [orgs[2].pem]  # org1's CA replaced by org2's
    with pytest.raises(E.UntrustedIdentity) as caught:
        verify_block(info, compute_chain_trust(doc))
    assert caught.value.details["check"] == "cert-chain"

    impostor = make_sm2_org(orgs[1].org_id)  # same CA name, another key: the signature decides
    doc["org_cas"][orgs[1].org_id] = [impostor.pem]
    with pytest.raises(E.UntrustedIdentity) as caught:
        verify_block(info, compute_chain_trust(doc))
    assert caught.value.details["check"] == "cert-chain"
