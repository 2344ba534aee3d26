"""``DevnetNode``: the whole node in one object, usable in-process or behind HTTP.

The node ties the parts together: genesis on first start (and block 1 at
once, so a chain always has a tip), the store, the committed state and its
tree, the validator schedule, the mempool and block production. Tests drive
it directly (``produce_block()``, ``submit()``, ``query_*``); the API calls the
same methods; ``start()`` adds the block timer for a served node.

Concurrency: one re-entrant lock serialises block production and the few
reads of the live state tree; every other read goes to SQLite (one
connection per thread, WAL), so queries keep answering while a block is made.
A block becomes visible (tip, state, receipts) only after its single store
transaction committed.

Restart: the store holds every block, the state and the validator schedule;
``__init__`` reloads them, rebuilds the state tree and refuses to run when its
root differs from the last header's ``state_root``. The next block is
``tip + 1``; the validator keys come back from the genesis seed.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.errors import ConfigError, InvalidInput, NotFound, PjgwError
from devnet.chain import (
    COMMITTED,
    FAILED,
    PENDING,
    Receipt,
    ValidatorSchedule,
    build_header,
    execute_block,
    sign_commit,
)
from devnet.config import NodeConfig
from devnet.events import dest_chain_of, read_attributes
from devnet.genesis import (
    Genesis,
    check_matches,
    create_genesis,
    decode_valset_value,
    load_genesis,
    save_genesis,
)
from devnet.keys import Keyring
from devnet.mempool import Mempool
from devnet.modules.context import ADDRESS_LENGTH as ADDRESS_BYTES
from devnet.modules.context import BlockScope
from devnet.state import (
    BALANCE_PREFIX,
    VALSET_KEY,
    Committed,
    StateTree,
    balance_key,
    decode_uint,
    nonce_key,
)
from devnet.store import BlockRow, BlockWrite, EventRow, Store
from devnet.txs import CheckedTx, TxRejected, check_tx, core_error
from proofs.merkle import inclusion_proof, inclusion_proofs
from proofs.pujiang import codec

log = logging.getLogger("pjgw.devnet")

MAX_RANGE = 1000
MAX_LIMIT = 1000
MAX_STATE_KEY = 1024
HISTORY_TREES = 4
"""Past-height state trees kept for proofs (each is rebuilt from the history table)."""


PROOF_BLOCKS = 8
"""Blocks whose event proofs the node keeps hashed (``DevnetNode._block_proofs``)."""


@functools.lru_cache(maxsize=65_536)
def _event_json(row: EventRow) -> dict[str, object]:
    """An event as ``GET /v1/events`` answers it, decoded once per committed event: the
    relayer, every notary and any observer list the same blocks (issue #15's profile: the
    node spent a quarter of its time decoding the same leaves again). Callers must not
    change the answer (FastAPI only reads it)."""
    event = codec.decode_event(row.leaf)
    return {
        "height": row.height,
        "index": row.index,
        "kind": row.kind,
        "tx_hash": hex0x(row.tx_hash),
        "event": hex0x(row.leaf),
        "attributes": read_attributes(event),
    }


def hex0x(data: bytes) -> str:
    return "0x" + data.hex()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class Tip:
    height: int
    hash: bytes
    header: codec.Header
    commit: codec.Commit


class DevnetNode:
    """A Pujiang subchain node; see the module docstring."""

    def __init__(self, config: NodeConfig, *, clock: Callable[[], int] = now_ms) -> None:
        self.config = config
        self._clock = clock
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._offline: frozenset[bytes] = frozenset()
        self._served_forks: dict[int, tuple[codec.Header, codec.Commit]] = {}
        self._proof_cache: OrderedDict[int, list[dict[str, object]]] = OrderedDict()
        self._proof_lock = threading.Lock()  # the cache's own: block production holds _lock
        self._history: OrderedDict[int, StateTree] = OrderedDict()
        self.txs_committed = 0
        """Transactions included in blocks made by this process (for the metrics)."""
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(config.db_path)
        try:
            self.genesis = self._open_genesis()
            self.hash_fn = self.genesis.hash_fn
            self.chain_id = self.genesis.chain_id_bytes
            self.keyring = Keyring(self.genesis.seed, self.genesis.keyring_size)
            self.mempool = Mempool(config.mempool_size)
            self._load()
            if self._tip is None:
                self.produce_block()
        except BaseException:
            self.store.close()
            raise

    # --- opening ----------------------------------------------------------------

    def _open_genesis(self) -> Genesis:
        genesis = load_genesis(self.config.data_dir)
        if genesis is None:
            if self.store.get_meta("genesis_hash") is not None:
                raise ConfigError(f"{self.config.data_dir} has a chain but no genesis.json")
            genesis = create_genesis(self.config, self._clock())
            save_genesis(genesis, self.config.data_dir)
            log.info("created chain %s in %s", genesis.chain_id, self.config.data_dir)
        else:
            check_matches(genesis, self.config)
        stored = self.store.get_meta("genesis_hash")
        if stored is None:
            self.store.save_genesis_state(
                genesis.initial_state(), 0, codec.encode(list(genesis.validators))
            )
            self.store.set_meta("genesis_hash", genesis.hash())
        elif stored != genesis.hash():
            raise ConfigError(f"{self.config.data_dir}: the store belongs to another genesis")
        return genesis

    def _load(self) -> None:
        self._schedule = ValidatorSchedule(self.hash_fn)
        for from_height, _epoch, validators in self.store.valsets():
            self._schedule.add(from_height, codec.decode_validator_set(validators))
        self._committed = Committed(self.store.current_state())
        self._tree = StateTree(self.hash_fn, self._committed.items)
        latest = self.store.latest_block()
        self._tip = None
        if latest is None:
            return
        header = codec.decode_header(latest.header)
        if (self._tree.root, len(self._tree)) != (header.state_root, header.state_size):
            raise ConfigError(
                f"stored state does not match block {latest.height}'s state root: "
                f"the data directory {self.config.data_dir} is damaged"
            )
        self._tip = Tip(latest.height, latest.hash, header, codec.decode_commit(latest.commit))
        log.info("chain %s resumes after height %d", self.genesis.chain_id, latest.height)

    # --- running ----------------------------------------------------------------

    def start(self) -> None:
        """Make a block every ``block_time`` in a background thread (not in instant mode)."""
        if self.config.instant or self.config.block_time is None or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="devnet-blocks", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        interval = self.config.block_time or 1.0
        next_at = time.monotonic() + interval
        while not self._stop.wait(max(0.0, next_at - time.monotonic())):
            try:
                self.produce_block()
            except Exception:
                log.exception("block production failed; retrying at the next tick")
            next_at = max(next_at + interval, time.monotonic())

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def close(self) -> None:
        self.stop()
        self.store.close()

    def __enter__(self) -> DevnetNode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transactions and blocks --------------------------------------------------

    def committed_nonce(self, address: bytes) -> int:
        return decode_uint(self._committed.get(nonce_key(address)))

    def submit(self, raw: bytes) -> bytes:
        """Admit a transaction (signature and nonce checked); its hash. Instant mode commits it.

        Raises ``TxRejected`` (see ``devnet.txs.core_error`` for the API's mapping),
        ``Conflict`` when it is already queued, ``MempoolFull``.
        """
        checked = check_tx(raw, self.chain_id, self.hash_fn, self.genesis.account_scheme)
        self.mempool.add(checked, self.committed_nonce)
        if self.config.instant:
            self.produce_block()
        return checked.hash

    def submit_many(self, raws: Sequence[bytes]) -> list[bytes | PjgwError]:
        """``submit`` for each, in order: its hash or its error (one refusal stops nothing).

        Instant mode commits the accepted ones in one block, not a block each.
        """
        results: list[bytes | PjgwError] = []
        for raw in raws:
            try:
                checked = check_tx(raw, self.chain_id, self.hash_fn, self.genesis.account_scheme)
                self.mempool.add(checked, self.committed_nonce)
            except TxRejected as rejection:
                results.append(core_error(rejection))
            except PjgwError as err:  # already queued, mempool full
                results.append(err)
            else:
                results.append(checked.hash)
        if self.config.instant and any(isinstance(r, bytes) for r in results):
            self.produce_block()
        return results

    def produce_block(self, txs: Sequence[bytes] | None = None) -> Tip:
        """Make, sign and store the next block: from the mempool, or exactly ``txs``.

        ``txs`` (in-process tests) bypasses the mempool: each is checked here and
        one failing the stateless checks gets a ``failed`` receipt without a height.
        """
        with self._lock:
            if txs is None:
                batch = self.mempool.take(self.config.max_block_txs, self.config.max_block_bytes)
                try:
                    return self._commit_block(batch, [])
                finally:
                    self.mempool.done(batch)
            checked: list[CheckedTx] = []
            refused: list[Receipt] = []
            for raw in txs:
                try:
                    checked.append(
                        check_tx(raw, self.chain_id, self.hash_fn, self.genesis.account_scheme)
                    )
                except TxRejected as rejection:
                    refused.append(Receipt(self.hash_fn(raw), FAILED, None, None, rejection.text))
            return self._commit_block(checked, refused)

    def _scope(self, height: int, time_ms: int) -> BlockScope:
        epoch, _ = decode_valset_value(self._committed.items[VALSET_KEY])
        return BlockScope(
            chain_id=self.chain_id,
            hash_fn=self.hash_fn,
            height=height,
            time_ms=time_ms,
            signing_set=self._schedule.set_at(height),
            known_validator_keys=frozenset(self.keyring.secrets),
            epoch=epoch,
            valset_pending=self._schedule.last_start > height,
        )

    def _commit_block(self, batch: list[CheckedTx], refused: list[Receipt]) -> Tip:
        parent = self._tip
        height = 1 if parent is None else parent.height + 1
        time_ms = self._clock()
        if parent is not None:
            time_ms = max(time_ms, parent.header.time_ms + 1)
        execution = execute_block(self._scope(height, time_ms), self._committed, batch, height)
        changes = execution.state.changes()
        undo = {k: self._committed.get(k) for k in changes}
        self._tree.apply(changes)
        try:
            header = build_header(
                chain_id=self.chain_id,
                height=height,
                time_ms=time_ms,
                parent_hash=codec.ZERO_HASH if parent is None else parent.hash,
                last_commit_hash=(
                    codec.ZERO_HASH
                    if parent is None
                    else codec.compute_commit_hash(parent.commit, self.hash_fn)
                ),
                txs=[tx.raw for tx in execution.included],
                event_leaves=[e.leaf for e in execution.events],
                state_root=self._tree.root,
                state_size=len(self._tree),
                schedule=self._schedule,
                hash_fn=self.hash_fn,
            )
            header_hash = codec.compute_header_hash(header, self.hash_fn)
            validators = self._schedule.set_at(height)
            signers = [i for i, v in enumerate(validators) if v.bls_pubkey not in self._offline]
            commit = sign_commit(header, header_hash, validators, self.keyring, signers)
            raws = {tx.hash: tx.raw for tx in execution.included}
            valset = None
            if execution.accepted_valset is not None:
                epoch, new_set = execution.accepted_valset
                valset = (height + 2, epoch, codec.encode(new_set))
            self.store.save_block(
                BlockWrite(
                    height=height,
                    hash=header_hash,
                    header=codec.encode(header),
                    commit=codec.encode(commit),
                    time_ms=time_ms,
                    txs=[
                        (r.tx_hash, r.height, r.index, raws.get(r.tx_hash), r.status, r.reason)
                        for r in [*refused, *execution.receipts]
                    ],
                    events=[
                        (
                            e.index,
                            e.event.tx_index,
                            e.tx_hash,
                            e.event.kind.decode(),
                            dest_chain_of(e.event),
                            e.leaf,
                        )
                        for e in execution.events
                    ],
                    changes=changes,
                    valset=valset,
                )
            )
        except BaseException:
            self._tree.apply(undo)
            raise
        for key, value in changes.items():
            if value is None:
                self._committed.items.pop(key, None)
            else:
                self._committed.items[key] = value
        if execution.accepted_valset is not None:
            self._schedule.add(height + 2, execution.accepted_valset[1])
        self._tip = Tip(height, header_hash, header, commit)
        self.txs_committed += len(execution.included)
        log.debug("block %d: %d txs, %d events", height, header.tx_count, header.event_count)
        return self._tip

    # --- faults (tests of light-client misbehaviour handling) ---------------------

    def equivocate(
        self, height: int | None = None, signers: Sequence[int] | None = None, round_: int = 0
    ) -> tuple[codec.Header, codec.Commit]:
        """A second header at ``height`` (default: the tip) signed by ``signers`` (default all).

        It differs from the stored one only in ``time_ms`` (+1), so both are valid
        headers: two commits for different hashes at one height is misbehaviour.
        Nothing is stored; the chain goes on with its own block.
        """
        with self._lock:
            tip = self.tip
            target = tip.height if height is None else height
            row = self.store.block(target)
            if row is None:
                raise NotFound(f"no block at height {target} (tip {tip.height})")
            header = codec.decode_header(row.header)
            forged = header.copy(time_ms=header.time_ms + 1)
            validators = self._schedule.set_at(target)
            chosen = list(range(len(validators))) if signers is None else sorted(set(signers))
            if not chosen or any(not 0 <= i < len(validators) for i in chosen):
                raise InvalidInput(f"signers must be indices of a set of {len(validators)}")
            forged_hash = codec.compute_header_hash(forged, self.hash_fn)
            commit = sign_commit(forged, forged_hash, validators, self.keyring, chosen, round_)
            return forged, commit

    def serve_fork(self, first: int, last: int | None = None) -> list[int]:
        """From now on, answer ``GET /v1/blocks/{h}`` for ``h`` in ``[first, last]`` (default
        to the tip) with a second valid header there; the heights so served.

        The headers :meth:`equivocate` makes (signed by the whole set), served in
        place of the stored ones: what a light client sees from a node on the
        other side of a fork. The chain itself, its state and its events do not
        change. Faults mode only (tests of the follower's fork detection).
        """
        last = self.tip.height if last is None else last
        if not 1 <= first <= last <= self.tip.height:
            raise InvalidInput(f"a fork spans 1 <= first <= last <= {self.tip.height}")
        forged = {h: self.equivocate(h) for h in range(first, last + 1)}
        with self._lock:
            self._served_forks.update(forged)
        return sorted(forged)

    def set_offline(self, indices: Sequence[int]) -> list[int]:
        """Validators (indices of the set signing the next block) that stop signing.

        The rest must keep more than 2/3 of the power: a real chain without a
        quorum halts, and a devnet that halts is of no use to a test.
        """
        with self._lock:
            validators = self._schedule.set_at(self.tip.height + 1)
            if any(not 0 <= i < len(validators) for i in indices):
                raise InvalidInput(f"indices must be within a set of {len(validators)}")
            down = {validators[i].bls_pubkey for i in indices}
            online = sum(v.power for v in validators if v.bls_pubkey not in down)
            if not codec.has_quorum(online, sum(v.power for v in validators)):
                raise InvalidInput("the validators left online would hold 2/3 or less of the power")
            self._offline = frozenset(down)
            return sorted(set(indices))

    # --- typed reads ----------------------------------------------------------------

    @property
    def tip(self) -> Tip:
        tip = self._tip
        if tip is None:
            raise NotFound("the chain has no block yet")
        return tip

    @property
    def height(self) -> int:
        return self.tip.height

    def header(self, height: int) -> codec.Header:
        return codec.decode_header(self._block_row(height).header)

    def commit(self, height: int) -> codec.Commit:
        return codec.decode_commit(self._block_row(height).commit)

    def validators(self, height: int) -> list[codec.Validator]:
        """The set that signs ``height`` (known up to the tip + 1)."""
        if not 1 <= height <= self.tip.height + 1:
            raise NotFound(f"the set signing {height} is not known (tip {self.tip.height})")
        return self._schedule.set_at(height)

    def balance(self, address: bytes, denom: str | bytes) -> int:
        key = balance_key(address, denom.encode() if isinstance(denom, str) else denom)
        return decode_uint(self._committed.get(key))

    def state_value(self, key: bytes) -> bytes | None:
        return self._committed.get(key)

    def _block_row(self, height: int) -> BlockRow:
        row = self.store.block(height)
        if row is None:
            raise NotFound(f"no block at height {height} (tip {self.tip.height})")
        return row

    # --- the API's answers (JSON-ready) ---------------------------------------------

    def query_status(self) -> dict[str, object]:
        tip = self.tip
        status: dict[str, object] = {
            "chain_id": self.genesis.chain_id,
            "hash_profile": self.genesis.hash_profile,
            "latest_height": tip.height,
            "latest_hash": hex0x(tip.hash),
            "latest_time_ms": tip.header.time_ms,
            "genesis_hash": hex0x(self.genesis.hash()),
        }
        if self.genesis.account_scheme != "ed25519":
            # absent means Ed25519: a standard chain answers exactly as before SM2
            status["account_scheme"] = self.genesis.account_scheme
        return status

    def query_block(self, height: int) -> dict[str, object]:
        row = self._block_row(height)
        fork = self._served_forks.get(height)
        if fork is not None:
            header, commit = fork
            return {
                "height": height,
                "hash": hex0x(commit.header_hash),
                "header": hex0x(codec.encode(header)),
                "commit": hex0x(codec.encode(commit)),
            }
        return {
            "height": row.height,
            "hash": hex0x(row.hash),
            "header": hex0x(row.header),
            "commit": hex0x(row.commit),
        }

    def query_validators(self, height: int) -> dict[str, object]:
        validators = self.validators(height)
        return {
            "height": height,
            "validators": hex0x(codec.encode(validators)),
            "validators_hash": hex0x(codec.compute_validators_hash(validators, self.hash_fn)),
        }

    def query_events(
        self,
        first: int,
        last: int | None = None,
        kind: str | None = None,
        dest_chain: str | None = None,
        limit: int = 100,
        from_index: int = 0,
    ) -> dict[str, object]:
        """Events of ``[first, last]`` in chain order, at most ``limit``; the first block's
        from its event ``from_index`` on (the cursor a page ends at, inside a block)."""
        if last is None:
            last = min(first + MAX_RANGE, self.tip.height)
        if first < 1 or last < first:
            raise InvalidInput("events need 1 <= from <= to")
        if last - first > MAX_RANGE:
            raise InvalidInput(f"to - from is {last - first}, at most {MAX_RANGE}")
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be 1..{MAX_LIMIT}")
        rows = self.store.events(first, last, kind, dest_chain, limit, from_index)
        return {"events": [_event_json(r) for r in rows]}

    def query_event_proof(self, height: int, index: int) -> dict[str, object]:
        self._block_row(height)
        leaves = [r.leaf for r in self.store.block_events(height)]
        if not 0 <= index < len(leaves):
            raise NotFound(f"block {height} has {len(leaves)} events, no index {index}")
        path = inclusion_proof(leaves, index, hash_fn=self.hash_fn)
        return {
            "height": height,
            "index": index,
            "event": hex0x(leaves[index]),
            "path": [hex0x(p) for p in path],
        }

    def query_event_proofs(self, height: int, first: int, last: int) -> dict[str, object]:
        """The audit paths of events ``first..last`` of block ``height`` in ONE answer (at
        most ``MAX_LIMIT``): one store read and one tree hashing for all of them, where a
        proof per request reads and hashes the whole block again for each event."""
        if not 0 <= first <= last or last - first >= MAX_LIMIT:
            raise InvalidInput(f"event proofs need 0 <= from <= to and at most {MAX_LIMIT}")
        self._block_row(height)
        proofs = self._block_proofs(height)
        if last >= len(proofs):
            raise NotFound(f"block {height} has {len(proofs)} events, no index {last}")
        return {"height": height, "count": len(proofs), "proofs": proofs[first : last + 1]}

    def _block_proofs(self, height: int) -> list[dict[str, object]]:
        """Every event proof of a committed block, hashed once and kept for the newest
        ``PROOF_BLOCKS`` blocks asked for: the relayer and each notary ask for the same
        block's proofs, and a committed block's events never change (a served fork changes
        only the headers ``GET /v1/blocks`` answers)."""
        with self._proof_lock:
            cached = self._proof_cache.get(height)
            if cached is not None:
                self._proof_cache.move_to_end(height)
                return cached
        leaves = [r.leaf for r in self.store.block_events(height)]
        paths = inclusion_proofs(leaves, range(len(leaves)), hash_fn=self.hash_fn)
        proofs: list[dict[str, object]] = [
            {"index": i, "event": hex0x(leaf), "path": [hex0x(p) for p in path]}
            for i, (leaf, path) in enumerate(zip(leaves, paths, strict=True))
        ]
        with self._proof_lock:
            self._proof_cache[height] = proofs
            while len(self._proof_cache) > PROOF_BLOCKS:
                self._proof_cache.popitem(last=False)
        return proofs

    def query_state_proof(self, key: bytes, height: int | None = None) -> dict[str, object]:
        """Membership (``value``, ``index``, ``path``) or non-membership (``left``, ``right``)."""
        if len(key) > MAX_STATE_KEY:
            raise InvalidInput(f"state keys are at most {MAX_STATE_KEY} bytes")
        with self._lock:
            tip = self.tip.height
            if height is None or height == tip:
                return _state_proof(self._tree, key, tip)
        if not 1 <= height <= tip:
            raise NotFound(f"no state at height {height} (tip {tip})")
        return _state_proof(self._tree_at(height), key, height)

    def _tree_at(self, height: int) -> StateTree:
        with self._lock:
            tree = self._history.get(height)
            if tree is not None:
                self._history.move_to_end(height)
                return tree
        tree = StateTree(self.hash_fn, dict(self.store.state_at(height)))
        with self._lock:
            self._history[height] = tree
            while len(self._history) > HISTORY_TREES:
                self._history.popitem(last=False)
        return tree

    def query_tx(self, tx_hash: bytes) -> dict[str, object]:
        if tx_hash in self.mempool:
            return {
                "tx_hash": hex0x(tx_hash),
                "status": PENDING,
                "height": None,
                "index": None,
                "reason": None,
                "events": [],
            }
        row = self.store.tx(tx_hash)
        if row is None:
            raise NotFound(f"no transaction 0x{tx_hash.hex()}")
        events = []
        if row.status == COMMITTED and row.height is not None and row.index is not None:
            events = [_event_json(r) for r in self.store.tx_events(row.height, row.index)]
        return {
            "tx_hash": hex0x(row.hash),
            "status": row.status,
            "height": row.height,
            "index": row.index,
            "reason": row.reason,
            "events": events,
        }

    def query_supply(self, denom: bytes) -> dict[str, object]:
        """Devnet extension: the total held of ``denom`` over every account, committed state.

        What a conservation check reads for a voucher denomination (vouchers
        outstanding here). A scan of the balance keys: O(accounts), fine for a devnet.
        """
        total = 0
        holders = 0
        with self._lock:
            for key, value in self._tree.prefixed(BALANCE_PREFIX):
                rest = key[len(BALANCE_PREFIX) :]
                if (
                    rest[ADDRESS_BYTES : ADDRESS_BYTES + 1] == b"/"
                    and rest[ADDRESS_BYTES + 1 :] == denom
                ):
                    total += decode_uint(value)
                    holders += 1
            height = self.tip.height
        return {
            "denom": denom.decode(errors="replace"),
            "supply": str(total),
            "holders": holders,
            "height": height,
        }

    def query_account(self, address: bytes) -> dict[str, object]:
        """Devnet extension: an account's nonce and balances (from the committed state)."""
        prefix = BALANCE_PREFIX + address + b"/"
        with self._lock:
            balances = {
                k[len(prefix) :].decode(errors="replace"): str(decode_uint(v))
                for k, v in self._tree.prefixed(prefix)
            }
            nonce = self.committed_nonce(address)
        return {"address": hex0x(address), "nonce": nonce, "balances": balances}


def _proof_entry(tree: StateTree, index: int) -> dict[str, object]:
    key = tree.keys[index]
    return {
        "key": hex0x(key),
        "value": hex0x(tree.values[key]),
        "index": index,
        "path": [hex0x(p) for p in tree.audit_path(index)],
    }


def _state_proof(tree: StateTree, key: bytes, height: int) -> dict[str, object]:
    index = tree.index(key)
    if index is not None:
        entry = _proof_entry(tree, index)
        return {"height": height, **entry, "key": hex0x(key)}
    left, right = tree.neighbours(key)
    return {
        "height": height,
        "key": hex0x(key),
        "value": None,
        "left": None if left is None else _proof_entry(tree, left),
        "right": None if right is None else _proof_entry(tree, right),
    }
