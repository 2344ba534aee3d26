"""The committee rotation driver: drain, collect the old committee's quorum, rotate, adopt.

A rotation (``core.committee``; asked for through the admin API, stored by
``gateway/store/rotations.py``) is driven here, in every relayer process, one
pass per ``poll_interval``:

1. **hold**: while a rotation of chain X is open, no relayer counts a quorum of
   a certificate acting on X (``Context.held``: the notary protocol's ``_quorum``
   and the batch assembler wait), so the OLD committee certifies nothing new;
2. **drain**: once the hold is older than ``rotation_hold_grace`` (a step that
   read the hold list just before it changed has finished), the rotation waits
   until nothing the old committee certified for X is unused
   (``RotationStore.rotation_in_flight``: transfers attested or submitted to X,
   refunds journaled on X, batches acting on X not done);
3. **rotate**: a quorum of the CURRENT committee (read from the chain, not the
   configuration) over ``bridge.rotation_digest`` is collected from the
   notaries' signatures; the state moves to ``submitted`` (the journal: from here
   a crash means "look at the chain first") and the ``rotate`` action is sent;
4. **done**: the chain's committee is read again; at the new epoch the rotation is
   ``done``, every process adopts the new committee (``Context.adopt_committee``)
   and the hold is lifted: new packets are certified by the new committee.

Crash safety: ``newEpoch == epoch + 1`` makes a second rotation fail on chain;
that refusal, or a chain already at the epoch, is read as done, never as an
error. Why drain and not re-attest: ``docs/notary.md`` "Committee rotation".
"""

from __future__ import annotations

import logging

from core.committee import CommitteeState, RotationRecord, RotationState
from core.errors import ChainRejected, ConfigError, PjgwError
from core.ids import ChainId
from relayer.protocols.base import Context
from relayer.quorum import collect_quorum

log = logging.getLogger("pjgw.relayer.rotation")


class RotationDriver:
    """Drives the store's open rotations with the relayer's context (adapters, clock)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def run_once(self) -> int:
        """One pass: refresh the hold list, adopt finished rotations, drive open ones; the
        number of rotations that moved."""
        ctx = self.ctx
        rotations = await ctx.store.rotations()
        open_ones = [
            r for r in rotations if r.state in (RotationState.DRAINING, RotationState.SUBMITTED)
        ]
        ctx.held = frozenset(r.statement.chain_id for r in open_ones)
        self._adopt_done(rotations)
        moved = 0
        for rotation in open_ones:
            try:
                if await self._drive(rotation):
                    moved += 1
            except PjgwError as err:
                log.warning("rotation %s: %s (retried next pass)", rotation.id, err)
        return moved

    def _adopt_done(self, rotations: list[RotationRecord]) -> None:
        newest: dict[ChainId, CommitteeState] = {}
        for r in rotations:
            if r.state is RotationState.DONE:
                known = newest.get(r.statement.chain_id)
                if known is None or r.statement.epoch > known.epoch:
                    newest[r.statement.chain_id] = r.statement.committee()
        for chain, committee in newest.items():
            if (
                chain in self.ctx.adapters
                and self.ctx.bridge(chain).committee_epoch() < committee.epoch
            ):
                self.ctx.adopt_committee(chain, committee)
                log.info("chain %s: committee of epoch %d adopted", chain, committee.epoch)

    async def _live(self, chain: ChainId) -> CommitteeState:
        read = getattr(self.ctx.adapter(chain), "committee_onchain", None)
        if read is None:
            raise ConfigError(f"the adapter of {chain} cannot read its committee")
        committee: CommitteeState = await read()
        return committee

    async def _drive(self, rotation: RotationRecord) -> bool:
        ctx = self.ctx
        statement = rotation.statement
        chain = statement.chain_id
        current = await self._live(chain)
        if current.epoch >= statement.epoch:
            return await self._done(rotation, current)
        if not statement.follows(current):
            await ctx.store.set_rotation_state(
                rotation.id,
                rotation.state,
                RotationState.FAILED,
                ctx.now(),
                note=f"{chain} is at epoch {current.epoch}; epoch {statement.epoch} cannot follow",
            )
            return True
        if rotation.state is RotationState.SUBMITTED and rotation.tx_hash is not None:
            return await self._check_sent(rotation)
        if rotation.state is RotationState.DRAINING:
            if ctx.now() - rotation.hold_since < ctx.settings.rotation_hold_grace:
                return False
            transfers, batches = await ctx.store.rotation_in_flight(chain)
            if transfers or batches:
                log.info(
                    "rotation %s: draining %s (%d transfers, %d batches in flight)",
                    rotation.id,
                    chain,
                    transfers,
                    batches,
                )
                return False
        bridge = ctx.bridge(chain)
        digest = bridge.rotation_digest(statement)
        signatures = await ctx.store.rotation_signatures(rotation.id)
        quorum = collect_quorum(signatures, digest, (current.threshold, current.members))
        if not quorum.reached:
            log.info(
                "rotation %s: %d of %d signatures of the epoch-%d committee",
                rotation.id,
                len(quorum.signers),
                current.threshold,
                current.epoch,
            )
            return False
        action = bridge.rotate_action(statement, quorum.certificate())
        if rotation.state is RotationState.DRAINING:
            rotation = await ctx.store.set_rotation_state(
                rotation.id,
                RotationState.DRAINING,
                RotationState.SUBMITTED,
                ctx.now(),
                note=f"{quorum.describe()} signed; drained",
            )
        try:
            tx_hash = await ctx.adapter(chain).submit(action)
        except ChainRejected as err:
            return await self._refused(rotation, str(err.details.get("reason") or err.message))
        await ctx.store.set_rotation_state(
            rotation.id,
            RotationState.SUBMITTED,
            RotationState.SUBMITTED,
            ctx.now(),
            tx_hash=tx_hash,
        )
        log.info("rotation %s: sent 0x%s to %s", rotation.id, tx_hash.hex(), chain)
        return True

    async def _check_sent(self, rotation: RotationRecord) -> bool:
        chain = rotation.statement.chain_id
        assert rotation.tx_hash is not None
        receipt = await self.ctx.adapter(chain).receipt(rotation.tx_hash)
        if receipt.success is None:
            return False
        if receipt.success:
            return await self._done(rotation, await self._live(chain))
        return await self._refused(rotation, receipt.reason)

    async def _refused(self, rotation: RotationRecord, reason: str) -> bool:
        """The chain refused the rotation: done when it already rotated (a second send after
        a crash), otherwise back to draining to try again (the note says why)."""
        chain = rotation.statement.chain_id
        current = await self._live(chain)
        if current.epoch >= rotation.statement.epoch:  # a stale refusal: already rotated
            return await self._done(rotation, current)
        await self.ctx.store.set_rotation_state(
            rotation.id,
            rotation.state,
            RotationState.FAILED,
            self.ctx.now(),
            note=f"refused by {chain}: {reason[:300]}",
        )
        log.warning("rotation %s refused by %s: %s", rotation.id, chain, reason[:300])
        return True

    async def _done(self, rotation: RotationRecord, current: CommitteeState) -> bool:
        chain = rotation.statement.chain_id
        if current.epoch == rotation.statement.epoch and current != rotation.statement.committee():
            note = f"{chain} is at epoch {current.epoch} with another committee"
            await self.ctx.store.set_rotation_state(
                rotation.id, rotation.state, RotationState.FAILED, self.ctx.now(), note=note
            )
            return True
        await self.ctx.store.set_rotation_state(
            rotation.id,
            rotation.state,
            RotationState.DONE,
            self.ctx.now(),
            note=f"{chain} trusts the committee of epoch {current.epoch}",
        )
        self.ctx.adopt_committee(chain, current)
        log.info(
            "rotation %s: %s trusts the committee of epoch %d", rotation.id, chain, current.epoch
        )
        return True


__all__ = ["RotationDriver"]
