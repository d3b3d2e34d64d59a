"""The boot of a server after ``POST /servers`` answered: place it, give it its ports, have
the host's agent spawn it; a failed spawn tries another host up to ``max_attempts`` times,
then the server goes to ERROR with the last failure as its fault (at once when no host could
do better: ``BuildRefused``)."""

from __future__ import annotations

import asyncio
import weakref
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from onestack.common import errors
from onestack.common.db import utcnow
from onestack.common.logging import get_logger
from onestack.compute import models, states
from onestack.compute.scheduler_glue import Placement, place, release
from onestack.compute.service.base import ComputeContext, compute_topic
from onestack.compute.service.block_devices import BlockDevices, VolumeNotReady
from onestack.compute.service.networking import Networking, NicRequest
from onestack.compute.service.records import fault, record_event, touch

log = get_logger(__name__)

NO_VALID_HOST = "No valid host was found. There are not enough hosts available."
# A boot not yet on a host whose row has not moved for this long lost the API process that
# drove it (a crash, a kill -9): another API process (or this one after a restart) takes it
# over. Placing one takes well under a second, even queued behind a burst.
STALLED_AFTER = 15.0
RECOVERY_INTERVAL = 5.0


class BuildAborted(Exception):
    """The server was deleted while it was being built: nothing more to do."""


class BuildRefused(errors.OneStackError):
    """A build that would fail on every host alike (the image's kernel cannot be had): no
    other host is tried, and the server goes to ERROR with this as its fault (Nova's
    ``BuildAbortException``)."""


class Boot:
    def __init__(
        self, context: ComputeContext, networking: Networking, block_devices: BlockDevices
    ) -> None:
        self.context = context
        self.networking = networking
        self.block_devices = block_devices
        # This process's boots place one at a time: racing each other for the same node's
        # generation, the losers of a burst (20 boots at once on one host) ran out of retries
        # and went to ERROR with "No valid host". Other processes' claims still race, and the
        # claim's compare-and-swap keeps those correct.
        self._placing = asyncio.Lock()
        self._networking: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._running: set[str] = set()  # this process's boots under way

    def networking_lock(self, uuid: str) -> asyncio.Lock:
        """Held while a boot gives the server its ports (and by a delete, to wait for that)."""
        lock = self._networking.get(uuid)
        if lock is None:
            lock = self._networking[uuid] = asyncio.Lock()
        return lock

    async def _row(self, uuid: str) -> models.Instance:
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Instance).where(models.Instance.uuid == uuid))
            if row is None or row.deleted or row.task_state == states.DELETING:
                raise BuildAborted()
            return row

    async def _set(self, uuid: str, **values: Any) -> None:
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Instance).where(models.Instance.uuid == uuid))
            if row is None or row.deleted or row.task_state == states.DELETING:
                raise BuildAborted()
            for key, value in values.items():
                setattr(row, key, value)
            touch(row)

    async def run(self, uuid: str) -> None:
        """Build one server (a background task of the API process)."""
        self._running.add(uuid)
        try:
            await self._run(uuid)
        finally:
            self._running.discard(uuid)

    async def recover_stalled(self) -> list[str]:
        """Take over the boots a dead API process left before they had a host (BUILD,
        scheduling, untouched for ``STALLED_AFTER`` s): each is claimed by a compare-and-set
        of its ``updated_at`` (one process wins it), its claim is released and its boot run
        again here. The servers taken over."""
        cutoff = utcnow() - timedelta(seconds=STALLED_AFTER)
        async with self.context.db.session() as s:
            stalled = (
                await s.execute(
                    select(models.Instance.uuid, models.Instance.updated_at).where(
                        models.Instance.deleted.is_(False),
                        models.Instance.vm_state == states.BUILDING,
                        models.Instance.task_state == states.SCHEDULING,
                        models.Instance.host.is_(None),
                        models.Instance.updated_at < cutoff,
                    )
                )
            ).all()
        taken = []
        for uuid, seen in stalled:
            if uuid in self._running:
                continue
            async with self.context.db.session() as s:
                won = await s.execute(
                    update(models.Instance)
                    .where(models.Instance.uuid == uuid, models.Instance.updated_at == seen)
                    .values(updated_at=utcnow())
                    .execution_options(synchronize_session=False)
                )
            if won.rowcount != 1:  # type: ignore[attr-defined]
                continue
            log.warning("server %s: its boot was interrupted before placement; resuming", uuid)
            await release(self.context, uuid)
            self.context.runtime.spawn(self.run(uuid), f"boot {uuid}")
            taken.append(uuid)
        return taken

    async def _run(self, uuid: str) -> None:
        tried: list[str] = []
        last_error = NO_VALID_HOST
        await self.context.wait_local_host()
        try:
            # The volumes first, once: a failure there (quota, an image that cannot be
            # written) would fail on every host alike.
            try:
                await self._row(uuid)
                await self.block_devices.prepare(uuid)
            except (VolumeNotReady, errors.OneStackError) as exc:
                message = exc.message if isinstance(exc, errors.OneStackError) else str(exc)
                log.warning("server %s: its volumes: %s", uuid, message)
                await self._error(uuid, message)
                return
            for _attempt in range(self.context.settings.compute.max_attempts):
                row = await self._row(uuid)
                try:
                    async with self._placing:
                        placement = await place(self.context, row, tried)
                except errors.OneStackError as exc:
                    log.info("server %s: no host (%s)", uuid, exc.message)
                    last_error = NO_VALID_HOST
                    break
                try:
                    await self._build_on(row, placement)
                    return
                except BuildAborted:
                    await release(self.context, uuid)
                    raise
                except BuildRefused as exc:
                    log.warning("server %s: build refused: %s", uuid, exc.message)
                    await self._undo(uuid)
                    await release(self.context, uuid)
                    await self._error(uuid, f"Build of instance {uuid} aborted: {exc.message}")
                    return
                except Exception as exc:
                    last_error = str(exc) or type(exc).__name__
                    log.warning(
                        "server %s: build on %s failed: %s", uuid, placement.host, last_error
                    )
                    tried.append(placement.host)
                    await self._undo(uuid)
                    await release(self.context, uuid)
            await self._error(uuid, last_error)
        except BuildAborted:
            log.info("server %s was deleted while building", uuid)

    async def _build_on(self, row: models.Instance, placement: Placement) -> None:
        uuid = row.uuid
        zone = placement.availability_zone
        # A delete waits while the ports are being made, so that once the server is gone
        # its ports are too (else a project's security group could still be in use).
        async with self.networking_lock(uuid):
            await self._set(
                uuid,
                host=placement.host,
                node=placement.hypervisor_hostname,
                availability_zone=row.availability_zone or zone,
                task_state=states.NETWORKING,
            )
            nics = [NicRequest(**n) for n in row.request.get("nics", [])]
            info = await self.networking.allocate(
                row.project_id,
                uuid,
                placement.host,
                row.availability_zone or zone,
                nics,
                row.request.get("security_group_ids"),
            )
            try:
                await self._set(uuid, network_info=info, task_state=states.SPAWNING)
            except BuildAborted:
                await self.networking.deallocate(info)
                raise
        await self.context.bus.call(
            compute_topic(placement.host), "build_instance", {"uuid": uuid}, timeout=900
        )

    async def _undo(self, uuid: str) -> None:
        """Give back what a failed attempt took on its host (the ports). The ports go first:
        a crash in between leaves the server on its host (the agent's start sets it to ERROR,
        its delete gives back the rest), never unplaced with ports nobody records."""
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Instance).where(models.Instance.uuid == uuid))
            info = list(row.network_info) if row is not None else []
        await self.networking.deallocate(info)
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Instance).where(models.Instance.uuid == uuid))
            if row is not None:
                row.network_info = []
                row.host = None
                row.node = None
                row.task_state = states.SCHEDULING

    async def _error(self, uuid: str, message: str) -> None:
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Instance).where(models.Instance.uuid == uuid))
            if row is None or row.deleted:
                return
            row.vm_state = states.ERROR
            row.task_state = None
            code = 500
            row.fault = fault(message, code, "" if message == NO_VALID_HOST else message)
            touch(row)
            await record_event(s, uuid, "conductor_schedule_and_build_instances", None, message)
