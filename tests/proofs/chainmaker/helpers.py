"""The real ChainMaker v2.3.2 blocks of ``chain1`` and their trust: names and plain helpers
(the fixtures are in this folder's ``conftest.py``; other folders import these from here).

The trust is derived from the vectors: the org CAs of ``wx-org1`` and
``wx-org2`` (``chain1_org1_org2_ca.json``), and for ``wx-org3`` / ``wx-org4``,
whose CAs are not public, the leaf certificates of their votes, pinned. The
node ids and their orgs are those the votes carry (4 validators, one per org).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography import x509

from proofs.chainmaker import ChainTrust, decode_block_info
from proofs.chainmaker.encoding import TBFT_QC_KEY, decode_vote_set
from proofs.chainmaker.pb import chainmaker_pb2 as pb

NODES = {
    "QmVkqwwEEnfPjw7RiKoYUqN7hFN3tcQaG4aUJLZUF6U4L7": "wx-org1.chainmaker.org",
    "QmTKwyspT55Jcq8ien1JMyxckN6AmqgBpCz2vUZyp4NRdX": "wx-org2.chainmaker.org",
    "QmZGKPwu3K9uCdo3x4EsR5N4nmR4qpk7Q56RLzsNdHbKw8": "wx-org3.chainmaker.org",
    "QmUjC29VEBtRcD2jQv8kZLmJnqNeEjwjSJKe17zKuysUsJ": "wx-org4.chainmaker.org",
}
BLOCK_FILES = {
    2: "chain1_h2_block.json",
    3: "chain1_h3_header_qc.json",
    30: "chain1_h30_block.json",
    34: "chain1_h34_header_qc.json",
}
FULL_BLOCKS = (2, 30)


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())


def trust_doc(cm_dir: Path, blocks: dict[int, dict[str, Any]], config_height: int) -> dict:
    """The trust file of chain1 for the configuration at ``config_height`` (0 or 22)."""
    cas = load_json(cm_dir / "chain1_org1_org2_ca.json")[0]
    org_cas: dict[str, list[str]] = {}
    for pem in cas["OrgCAs"]:
        org = "wx-org1.chainmaker.org" if "wx-org1" in _subject(pem) else "wx-org2.chainmaker.org"
        org_cas.setdefault(org, []).append(pem)
    pinned: dict[str, str] = {}
    for height in (3, 30):  # together they hold a vote of every node
        info = decode_block_info(blocks[height])
        _, votes = decode_vote_set(info.block.additional_data.extra_data[TBFT_QC_KEY])
        for key, vote in votes:
            if NODES[key] in ("wx-org3.chainmaker.org", "wx-org4.chainmaker.org"):
                pinned[key] = vote.endorsement.signer.member_info.decode()
    return {
        "chain_id": cas["ChainId"],
        "config_height": config_height,
        "hash_type": cas["HashType"],
        "auth_type": cas["AuthType"],
        "validators": [
            {
                "node_id": node,
                "org_id": org,
                **({"pinned_cert": pinned[node]} if node in pinned else {}),
            }
            for node, org in NODES.items()
        ],
        "org_cas": org_cas,
    }


def _subject(pem: str) -> str:
    return x509.load_pem_x509_certificate(pem.encode()).subject.rfc4514_string()


def trust_for(trusts: dict[int, ChainTrust], info: pb.BlockInfo) -> ChainTrust:
    return trusts[info.block.header.pre_conf_height]


__all__ = ["BLOCK_FILES", "FULL_BLOCKS", "NODES", "load_json", "trust_doc", "trust_for"]
