"""The EVM light client: headers, the parent chain, finality policies, event proofs.

Pure verification (no I/O, no clock reads; time and slots are parameters).
Modules:

* :mod:`proofs.evm.header`: :class:`EvmHeader` for every fork up to Prague, canonical
  RLP, ``keccak256(rlp(header))`` and JSON-RPC conversion;
* :mod:`proofs.evm.chain`: parent links from a trusted checkpoint and optional
  header-only rules;
* :mod:`proofs.evm.finality`: the :class:`FinalityPolicy` protocol and
  :class:`ConfirmationDepth`;
* :mod:`proofs.evm.bft`: QBFT / IBFT 2.0 committed seals (:class:`BftFinality`);
* :mod:`proofs.evm.beacon` and :mod:`proofs.evm.sync_committee`: the Ethereum
  proof-of-stake sync-committee light client (:class:`SyncCommitteeFinality`);
* :mod:`proofs.evm.events`: logs and account state proven against a verified header.

See ``docs/evm-light-client.md`` for layouts, trust assumptions and vectors.
"""

from proofs.evm.bft import (
    BftExtraData,
    BftFinality,
    BftVariant,
    BftVote,
    compute_bft_block_hash,
    compute_bft_quorum,
    compute_committed_seal_hash,
    decode_bft_extra_data,
    encode_bft_extra_data,
    recover_seal_signer,
    validate_bft_header,
)
from proofs.evm.chain import (
    ETHEREUM_POST_MERGE_RULES,
    HeaderRules,
    compute_base_fee,
    validate_header_chain,
    validate_header_link,
    validate_header_rules,
)
from proofs.evm.events import verify_account_state, verify_log_inclusion, verify_receipt
from proofs.evm.finality import ConfirmationDepth, FinalityPolicy, verify_final_header
from proofs.evm.header import (
    EvmHeader,
    compute_header_hash,
    decode_block_header,
    decode_header,
    encode_header,
    header_from_rpc,
    header_to_rpc,
    validate_header_hash,
)
from proofs.evm.sync_committee import (
    LightClientStore,
    SyncCommitteeFinality,
    initialize_light_client_store,
    process_light_client_finality_update,
    process_light_client_optimistic_update,
    process_light_client_store_force_update,
    process_light_client_update,
    validate_light_client_update,
)

__all__ = [
    "ETHEREUM_POST_MERGE_RULES",
    "BftExtraData",
    "BftFinality",
    "BftVariant",
    "BftVote",
    "ConfirmationDepth",
    "EvmHeader",
    "FinalityPolicy",
    "HeaderRules",
    "LightClientStore",
    "SyncCommitteeFinality",
    "compute_base_fee",
    "compute_bft_block_hash",
    "compute_bft_quorum",
    "compute_committed_seal_hash",
    "compute_header_hash",
    "decode_bft_extra_data",
    "decode_block_header",
    "decode_header",
    "encode_bft_extra_data",
    "encode_header",
    "header_from_rpc",
    "header_to_rpc",
    "initialize_light_client_store",
    "process_light_client_finality_update",
    "process_light_client_optimistic_update",
    "process_light_client_store_force_update",
    "process_light_client_update",
    "recover_seal_signer",
    "validate_bft_header",
    "validate_header_chain",
    "validate_header_hash",
    "validate_header_link",
    "validate_header_rules",
    "validate_light_client_update",
    "verify_account_state",
    "verify_final_header",
    "verify_log_inclusion",
    "verify_receipt",
]
