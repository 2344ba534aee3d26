"""A ChainMaker light client: trusted block, trusting period, configuration-block rotation.

Pure: no I/O and no clock; ``now_s`` (unix seconds, ChainMaker's block time
unit) is a parameter.

:func:`update_client` verifies a block above the trusted one, in order:

1. ``chainmaker-non-increasing-height``: the block is above the trusted height;
2. ``chainmaker-trust-expired``: ``now < trusted.timestamp + trusting_period``;
3. ``chainmaker-header-from-future``: ``block time <= now + max_clock_drift``;
4. ``chainmaker-non-increasing-time``: block time not before the trusted one;
5. adjacent only, ``chainmaker-parent-hash``: ``pre_block_hash`` is the trusted hash;
6. the block checks of :func:`proofs.chainmaker.verifier.verify_block` under the
   configuration in force (a block whose ``pre_conf_height`` is newer than the
   client's configuration is ``chainmaker-config-unknown``: feed the
   configuration block first);
7. a configuration block (``block_type`` CONFIG or a ``CHAIN_CONFIG``
   transaction) must come with its body: the body checks, then the
   ``ChainConfig`` its read-write set writes becomes the configuration in
   force from this height on (``chainmaker-config-block`` when missing).

SECURITY: TBFT blocks are final once certified, so any block certified by the
validators in force may be accepted, adjacent or not; what a skipped range
could hide is a configuration change, and ``pre_conf_height`` (inside the
signed header) names the last one, so a skip over a rotation is refused at
step 6. As for any BFT light client, the trust holds while fewer than 1/3 of
the validators in force are faulty, within the trusting period.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import DecodeError

from core.errors import InvalidInput
from proofs.chainmaker.encoding import CHAIN_CONFIG_CONTRACT
from proofs.chainmaker.errors import (
    BadConfigBlock,
    HeaderFromFuture,
    NonIncreasingHeight,
    NonIncreasingTime,
    ParentMismatch,
    TrustExpired,
)
from proofs.chainmaker.identity import ChainTrust, compute_chain_trust_from_config
from proofs.chainmaker.pb import chainmaker_pb2 as pb
from proofs.chainmaker.verifier import verify_block, verify_block_body


@dataclass(frozen=True, slots=True)
class ClientState:
    """The client's fixed parameters (seconds)."""

    chain_id: str
    trusting_period_s: int
    max_clock_drift_s: int = 10

    def __post_init__(self) -> None:
        if self.trusting_period_s <= 0 or self.max_clock_drift_s < 0:
            raise InvalidInput("the trusting period must be positive and the drift not negative")


@dataclass(frozen=True, slots=True)
class TrustedBlock:
    """The latest verified block and the configuration in force after it."""

    height: int
    block_hash: bytes
    timestamp: int
    trust: ChainTrust


def create_trusted_block(
    client: ClientState, trust: ChainTrust, height: int, block_hash: bytes, timestamp: int
) -> TrustedBlock:
    """The first trusted state: a (height, hash, time) and the configuration in force at it.

    SECURITY: all four come from outside the chain's data (an operator's
    choice, as a genesis is); every later block is checked against them.
    """
    if trust.chain_id != client.chain_id:
        raise InvalidInput("the trust is for another chain than the client")
    if height < 0 or len(block_hash) != trust.hash_fn.digest_size:
        raise InvalidInput("a trusted block needs a height and a 32-byte hash")
    return TrustedBlock(height, block_hash, timestamp, trust)


def is_config_block(block: pb.Block) -> bool:
    """A block that changes the chain configuration."""
    return block.header.block_type == pb.CONFIG_BLOCK or any(
        tx.payload.contract_name == CHAIN_CONFIG_CONTRACT for tx in block.txs
    )


def compute_next_trust(info: pb.BlockInfo, trust: ChainTrust) -> ChainTrust:
    """The configuration a (verified) configuration block installs from its height on."""
    header = info.block.header
    for rwset in info.rwset_list:
        for write in rwset.tx_writes:
            if write.contract_name == CHAIN_CONFIG_CONTRACT and write.key == b"CHAIN_CONFIG":
                config = pb.ChainConfig()
                try:
                    config.ParseFromString(write.value)
                    new = compute_chain_trust_from_config(config, header.block_height)
                except (DecodeError, InvalidInput) as err:
                    raise BadConfigBlock("the chain configuration does not decode") from err
                if new.chain_id != trust.chain_id:
                    raise BadConfigBlock("the new configuration is for another chain")
                return new
    raise BadConfigBlock("the configuration block writes no CHAIN_CONFIG")


def update_client(
    client: ClientState, trusted: TrustedBlock, info: pb.BlockInfo, now_s: int
) -> TrustedBlock:
    """Verify ``info`` above ``trusted`` (module table) and return the new trusted block."""
    header = info.block.header
    if header.block_height <= trusted.height:
        raise NonIncreasingHeight(
            f"block {header.block_height} is not above the trusted {trusted.height}"
        )
    if now_s >= trusted.timestamp + client.trusting_period_s:
        raise TrustExpired("the trusted block is older than the trusting period")
    if header.block_timestamp > now_s + client.max_clock_drift_s:
        raise HeaderFromFuture("the block's time is past now + max clock drift")
    if header.block_timestamp < trusted.timestamp:
        raise NonIncreasingTime("the block's time is before the trusted block's")
    if header.block_height == trusted.height + 1 and header.pre_block_hash != trusted.block_hash:
        raise ParentMismatch("the block's parent is not the trusted block")
    verified = verify_block(info, trusted.trust)
    trust = trusted.trust
    if is_config_block(info.block):
        if not info.rwset_list:
            raise BadConfigBlock("a configuration block must come with its body")
        verify_block_body(info, trust)
        trust = compute_next_trust(info, trust)
    return TrustedBlock(verified.height, verified.block_hash, verified.timestamp, trust)
