"""The byte envelopes around Pujiang headers: what travels together, and how.

``rlp([commit, validators])`` is ``HeaderUpdate.evidence`` at the
``core.seams.LightClient`` seam; ``rlp([header, commit, validators])`` is one
signed header in misbehaviour evidence. Items are nested as the RLP of their
own objects (lists), not wrapped in byte strings, and are split here without
being decoded, so a stable validator set is compared by bytes and decoded once.
"""

from __future__ import annotations

import rlp
from rlp.codec import consume_length_prefix

from core.errors import BadEncoding
from proofs.rlp_lists import rlp_list_of_encoded


def split_rlp_list(data: bytes, count: int, what: str) -> list[bytes]:
    """The encodings of the items of an RLP list of ``count`` items, without decoding them."""
    items: list[bytes] = []
    try:
        _, kind, length, start = consume_length_prefix(data, 0)
        if kind is not list or start + length != len(data):
            raise BadEncoding(f"{what} is not one RLP list", check="encoding", object=what)
        position = start
        while position < len(data):
            _, _, item_length, item_start = consume_length_prefix(data, position)
            end = item_start + item_length
            if end > len(data):
                raise BadEncoding(f"{what} item overruns the list", check="encoding", object=what)
            items.append(bytes(data[position:end]))
            position = end
    except (rlp.exceptions.RLPException, IndexError) as err:
        raise BadEncoding(f"{what} is not canonical RLP", check="encoding", object=what) from err
    if len(items) != count:
        raise BadEncoding(
            f"{what} has {len(items)} items, not {count}", check="encoding", object=what
        )
    return items


def encode_header_evidence(commit: bytes, validators: bytes) -> bytes:
    """``HeaderUpdate.evidence``: ``rlp([commit, validators])`` (nested, not wrapped)."""
    return rlp_list_of_encoded((commit, validators))


def decode_header_evidence(evidence: bytes) -> tuple[bytes, bytes]:
    """``(commit, validators)`` encodings from ``HeaderUpdate.evidence``."""
    if not isinstance(evidence, bytes | bytearray):
        raise BadEncoding("evidence must be bytes", check="encoding", object="evidence")
    commit, validators = split_rlp_list(bytes(evidence), 2, "evidence")
    return commit, validators


def encode_signed_header(header: bytes, commit: bytes, validators: bytes) -> bytes:
    """``rlp([header, commit, validators])`` from the three canonical encodings."""
    return rlp_list_of_encoded((header, commit, validators))
