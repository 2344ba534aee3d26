"""Configuration-block rotation through the adapter's header updates and codec, on built blocks.

No real configuration block is in the vectors (``docs/chainmaker.md``), so this
uses blocks built with ChainMaker's rules (``tests/proofs/chainmaker/builder.py``):
block 2 rotates the validators (org4 joins). Through the seam's ``HeaderUpdate``
(the header's protobuf bytes, the canonical evidence with the body of the
configuration block), the light client follows the rotation, the stored state
keeps the new configuration; a configuration block stripped of its body is
refused (``chainmaker-config-block``), an ordinary block padded with a body too
(not the canonical evidence).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapters.chainmaker.client_codec import ChainMakerClientCodec
from adapters.chainmaker.light_client import (
    ChainMakerClient,
    ChainMakerConsensus,
    ChainMakerLightClient,
    encode_evidence,
)
from core.ids import ChainId, Height
from core.types import HeaderUpdate
from proofs.chainmaker import compute_chain_trust
from proofs.chainmaker import errors as cm
from proofs.chainmaker.encoding import encode
from proofs.chainmaker.light_client import ClientState, create_trusted_block
from proofs.chainmaker.pb import chainmaker_pb2 as pb
from proofs.hashing import SHA256
from tests.proofs.chainmaker.builder import (
    T0,
    make_block,
    make_cert_node,
    make_config_tx,
    make_org,
    make_tx,
    trust_doc,
)

CHAIN = "synth"
Rotation = tuple[ChainMakerClient, ChainMakerConsensus, list[pb.BlockInfo]]


def _update(info: pb.BlockInfo) -> HeaderUpdate:
    header = info.block.header
    return HeaderUpdate(
        chain_id=ChainId(CHAIN),
        height=Height(header.block_height),
        hash=bytes(header.block_hash),
        time=int(header.block_timestamp),
        encoded=encode(header),
        evidence=encode_evidence(info),
    )


@pytest.fixture(scope="module")
def rotation() -> Rotation:
    orgs = [make_org(f"org{i}.example") for i in range(5)]
    nodes = [make_cert_node(org, f"QmNode{i}") for i, org in enumerate(orgs)]
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
    params = ClientState(chain_id=CHAIN, trusting_period_s=3600, max_clock_drift_s=10)
    client = ChainMakerClient(params, {0: trust0})
    start = ChainMakerConsensus(create_trusted_block(params, trust0, 0, b"\x01" * 32, T0), b"")
    return client, start, [b1, b2, b3]


def test_the_light_client_follows_a_rotation_through_header_updates(rotation: Rotation) -> None:
    client, start, (b1, b2, b3) = rotation
    light = ChainMakerLightClient()
    s1 = light.verify_header(client, start, _update(b1), T0 + 15)
    ordinary, config = pb.BlockInfo(), pb.BlockInfo()
    ordinary.ParseFromString(_update(b1).evidence)
    config.ParseFromString(_update(b2).evidence)
    assert not ordinary.block.txs  # the certificate only
    assert config.block.txs  # the body the rotation needs
    assert config.rwset_list
    s2 = light.verify_header(client, s1, _update(b2), T0 + 25)
    assert s2.trusted.trust.config_height == 2
    s3 = light.verify_header(client, s2, _update(b3), T0 + 35)
    assert s3.trusted.height == 3
    codec = ChainMakerClientCodec(client)
    stored = codec.decode_consensus(codec.encode_consensus(s3), client)
    assert stored == s3
    assert {v.node_id for v in stored.trusted.trust.validators} == {
        "QmNode0",
        "QmNode1",
        "QmNode2",
        "QmNode4",
    }


def test_a_configuration_block_without_its_body_is_refused(rotation: Rotation) -> None:
    client, start, (b1, b2, _) = rotation
    light = ChainMakerLightClient()
    s1 = light.verify_header(client, start, _update(b1), T0 + 15)
    header_only = pb.BlockInfo()
    header_only.block.header.CopyFrom(b2.block.header)
    header_only.block.additional_data.CopyFrom(b2.block.additional_data)
    stripped = replace(_update(b2), evidence=encode_evidence(header_only))
    with pytest.raises(cm.BadConfigBlock):
        light.verify_header(client, s1, stripped, T0 + 25)


def test_an_ordinary_block_padded_with_a_body_is_refused(rotation: Rotation) -> None:
    client, start, (b1, _, _) = rotation
    padded = pb.BlockInfo()
    padded.block.additional_data.CopyFrom(b1.block.additional_data)
    padded.block.txs.extend(b1.block.txs)
    update = replace(_update(b1), evidence=encode(padded))
    with pytest.raises(cm.MalformedBlock):
        ChainMakerLightClient().verify_header(client, start, update, T0 + 15)
