"""Blocks built by ChainMaker's rules with keys made here, for what no real block shows.

Every real block of the vectors holds one transaction, uses ECDSA P-256 over
SHA-256 and never rotates its validators; these builders make multi-transaction
blocks, configuration blocks, SM3 chains and SM2 / public-key-mode validators
with the same encodings the verifier checks on the real data.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from asn1crypto import keys as asn1_keys
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import NameOID

from proofs.chainmaker.encoding import (
    CHAIN_CONFIG_CONTRACT,
    TBFT_QC_KEY,
    compute_block_hash,
    compute_dag_hash,
    compute_merkle_root,
    compute_rwset_hash,
    compute_tx_hash,
    compute_vote_payload,
    encode,
)
from proofs.chainmaker.pb import chainmaker_pb2 as pb
from proofs.hashing import HashFunction
from proofs.sm2 import (
    SM2_CURVE_OID,
    SM2_P256,
    SM2_WITH_SM3_OID,
    compute_sm2_public_key,
    sign_sm2,
)

VERSION = 2030200
NOT_BEFORE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
NOT_AFTER = dt.datetime(2034, 1, 1, tzinfo=dt.UTC)
T0 = 1_710_000_000  # 2024-03, inside the certificates' validity


@dataclass
class Org:
    org_id: str
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()


@dataclass
class Node:
    node_id: str
    org_id: str
    member: pb.Member
    p256: ec.EllipticCurvePrivateKey | None = None
    sm2: bytes | None = None
    pinned: str | None = field(default=None)

    def sign(self, message: bytes, hash_fn: HashFunction) -> bytes:
        if self.sm2 is not None:
            return sign_sm2(self.sm2, message)
        assert self.p256 is not None
        if hash_fn.name == "sha256":
            return self.p256.sign(message, ec.ECDSA(hashes.SHA256()))
        return self.p256.sign(hash_fn(message), ec.ECDSA(utils.Prehashed(hashes.SM3())))


def _name(org_id: str, cn: str, ou: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org_id),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def make_org(org_id: str) -> Org:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(org_id, f"ca.{org_id}", "root-cert")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Org(org_id, key, cert)


def make_cert_node(org: Org, node_id: str, role: str = "consensus") -> Node:
    """A cert-mode consensus node whose certificate the org's CA issued."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(org.org_id, f"{node_id}.sign.{org.org_id}", role))
        .issuer_name(org.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .sign(org.key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    member = pb.Member(org_id=org.org_id, member_type=pb.CERT, member_info=pem)
    return Node(node_id, org.org_id, member, p256=key)


def make_pk_node(org_id: str, node_id: str, curve: str) -> Node:
    """A public-key-mode node (P-256 or SM2), pinned in the trust by its PEM key."""
    if curve == "sm2":
        secret = (secrets.randbelow(SM2_P256.n - 1) + 1).to_bytes(32, "big")
        info = asn1_keys.PublicKeyInfo(
            {
                "algorithm": {
                    "algorithm": "ec",
                    "parameters": asn1_keys.ECDomainParameters(name="named", value=SM2_CURVE_OID),
                },
                "public_key": compute_sm2_public_key(secret),
            }
        )
        pem = asn1_pem.armor("PUBLIC KEY", info.dump())
        member = pb.Member(org_id=org_id, member_type=pb.PUBLIC_KEY, member_info=pem)
        return Node(node_id, org_id, member, sm2=secret, pinned=pem.decode())
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    member = pb.Member(org_id=org_id, member_type=pb.PUBLIC_KEY, member_info=pem)
    return Node(node_id, org_id, member, p256=key, pinned=pem.decode())


def trust_doc(
    chain_id: str,
    config_height: int,
    nodes: Sequence[Node],
    orgs: Sequence[Org] = (),
    hash_type: str = "SHA256",
    auth_type: str = "permissionedwithcert",
) -> dict:
    return {
        "chain_id": chain_id,
        "config_height": config_height,
        "hash_type": hash_type,
        "auth_type": auth_type,
        "validators": [
            {"node_id": n.node_id, "org_id": n.org_id}
            | ({"pinned_public_key": n.pinned} if n.pinned else {})
            for n in nodes
        ],
        "org_cas": {o.org_id: [o.pem] for o in orgs},
    }


def make_tx(chain_id: str, index: int, height: int) -> tuple[pb.Transaction, pb.TxRWSet]:
    tx_id = f"{height:08d}{index:056d}"
    rwset = pb.TxRWSet(
        tx_id=tx_id,
        tx_writes=[pb.TxWrite(key=f"k{index}".encode(), value=b"v" * index, contract_name="c")],
    )
    tx = pb.Transaction(
        payload=pb.Payload(
            chain_id=chain_id, tx_id=tx_id, timestamp=T0, contract_name="c", method="m"
        ),
        result=pb.Result(
            contract_result=pb.ContractResult(result=b"ok", gas_used=100 + index),
        ),
    )
    return tx, rwset


def make_config_tx(
    chain_id: str, height: int, nodes: Sequence[Node], orgs: Sequence[Org], hash_type: str
) -> tuple[pb.Transaction, pb.TxRWSet]:
    by_org: dict[str, list[str]] = {}
    for n in nodes:
        by_org.setdefault(n.org_id, []).append(n.node_id)
    config = pb.ChainConfig(
        chain_id=chain_id,
        version="v2.3.2",
        auth_type="permissionedwithcert",
        sequence=height,
        crypto=pb.CryptoConfig(hash=hash_type),
        consensus=pb.ConsensusConfig(
            type=1, nodes=[pb.OrgConfig(org_id=o, node_id=ids) for o, ids in by_org.items()]
        ),
        trust_roots=[pb.TrustRootConfig(org_id=o.org_id, root=[o.pem]) for o in orgs],
    )
    tx, _ = make_tx(chain_id, 0, height)
    tx.payload.contract_name = CHAIN_CONFIG_CONTRACT
    rwset = pb.TxRWSet(
        tx_id=tx.payload.tx_id,
        tx_writes=[
            pb.TxWrite(
                key=b"CHAIN_CONFIG", value=encode(config), contract_name=CHAIN_CONFIG_CONTRACT
            )
        ],
    )
    return tx, rwset


def make_block(
    *,
    chain_id: str,
    height: int,
    parent: bytes,
    pre_conf_height: int,
    proposer: Node,
    voters: Sequence[Node],
    hash_fn: HashFunction,
    txs: Sequence[tuple[pb.Transaction, pb.TxRWSet]] = (),
    timestamp: int = T0,
    block_type: int = pb.NORMAL_BLOCK,
) -> pb.BlockInfo:
    """A signed block with its body and a TBFT certificate of ``voters``."""
    info = pb.BlockInfo()
    block = info.block
    for tx, rwset in txs:
        tx.result.rw_set_hash = compute_rwset_hash(rwset, hash_fn)
        block.txs.append(tx)
        info.rwset_list.append(rwset)
        block.dag.vertexes.append(pb.DAG.Neighbor())
    header = block.header
    header.block_version = VERSION
    header.block_type = block_type
    header.chain_id = chain_id
    header.block_height = height
    header.pre_block_hash = parent
    header.pre_conf_height = pre_conf_height
    header.tx_count = len(txs)
    if txs:
        header.tx_root = compute_merkle_root(
            [compute_tx_hash(tx, VERSION, hash_fn) for tx in block.txs], hash_fn
        )
        header.rw_set_root = compute_merkle_root(
            [compute_rwset_hash(rw, hash_fn) for rw in info.rwset_list], hash_fn
        )
        header.dag_hash = compute_dag_hash(block.dag, hash_fn)
    header.block_timestamp = timestamp
    header.proposer.CopyFrom(proposer.member)
    header.block_hash = compute_block_hash(header, hash_fn)
    header.signature = proposer.sign(header.block_hash, hash_fn)
    vote_set = pb.VoteSet(
        type=pb.VOTE_PRECOMMIT, height=height, sum=len(voters), maj23=header.block_hash
    )
    for node in voters:
        vote = pb.Vote(
            type=pb.VOTE_PRECOMMIT, voter=node.node_id, height=height, hash=header.block_hash
        )
        vote.endorsement.signer.CopyFrom(node.member)
        vote.endorsement.signature = node.sign(compute_vote_payload(vote), hash_fn)
        vote_set.votes[node.node_id].CopyFrom(vote)
    block.additional_data.extra_data[TBFT_QC_KEY] = encode(vote_set)
    return info


# --- SM2 certificates (cert mode on the national-crypto profile) --------------------------


@dataclass
class SM2Org:
    org_id: str
    secret: bytes
    der: bytes

    @property
    def pem(self) -> str:
        return asn1_pem.armor("CERTIFICATE", self.der).decode()


def _sm2_spki(secret: bytes) -> asn1_keys.PublicKeyInfo:
    return asn1_keys.PublicKeyInfo(
        {
            "algorithm": {
                "algorithm": "ec",
                "parameters": asn1_keys.ECDomainParameters(name="named", value=SM2_CURVE_OID),
            },
            "public_key": compute_sm2_public_key(secret),
        }
    )


def _sm2_cert(
    subject: asn1_x509.Name, issuer: asn1_x509.Name, secret: bytes, issuer_secret: bytes, ca: bool
) -> bytes:
    algorithm = {"algorithm": SM2_WITH_SM3_OID}
    extensions = (
        [{"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": True}}]
        if ca
        else []
    )
    tbs = asn1_x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": secrets.randbits(63),
            "signature": algorithm,
            "issuer": issuer,
            "validity": {
                "not_before": asn1_x509.Time({"utc_time": NOT_BEFORE}),
                "not_after": asn1_x509.Time({"utc_time": NOT_AFTER}),
            },
            "subject": subject,
            "subject_public_key_info": _sm2_spki(secret),
            "extensions": extensions,
        }
    )
    cert = asn1_x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": algorithm,
            "signature_value": sign_sm2(issuer_secret, tbs.dump()),
        }
    )
    return cert.dump()


def _sm2_name(org_id: str, cn: str, ou: str) -> asn1_x509.Name:
    return asn1_x509.Name.build(
        {"organization_name": org_id, "organizational_unit_name": ou, "common_name": cn}
    )


def _sm2_secret() -> bytes:
    return (secrets.randbelow(SM2_P256.n - 1) + 1).to_bytes(32, "big")


def make_sm2_org(org_id: str) -> SM2Org:
    secret = _sm2_secret()
    name = _sm2_name(org_id, f"ca.{org_id}", "root-cert")
    return SM2Org(org_id, secret, _sm2_cert(name, name, secret, secret, ca=True))


def make_sm2_cert_node(org: SM2Org, node_id: str) -> Node:
    """A cert-mode consensus node with an SM2 key and an SM2-with-SM3 certificate."""
    secret = _sm2_secret()
    ca_subject = asn1_x509.Certificate.load(org.der)["tbs_certificate"]["subject"]
    subject = _sm2_name(org.org_id, f"{node_id}.sign.{org.org_id}", "consensus")
    der = _sm2_cert(subject, ca_subject, secret, org.secret, ca=False)
    pem = asn1_pem.armor("CERTIFICATE", der)
    member = pb.Member(org_id=org.org_id, member_type=pb.CERT, member_info=pem)
    return Node(node_id, org.org_id, member, sm2=secret)
