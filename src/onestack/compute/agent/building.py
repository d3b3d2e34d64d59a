"""Guests made and removed: a build (and an unshelve) starts the guest once the network agent
has plugged its ports; a delete removes the guest and gives back what the server held."""

from __future__ import annotations

import asyncio
from typing import Any

from onestack.common.agent import handler
from onestack.common.db import utcnow
from onestack.common.logging import get_logger
from onestack.compute import models, states
from onestack.compute.agent.base import AgentBase
from onestack.compute.drivers.base import PowerState
from onestack.compute.scheduler_glue import release

log = get_logger(__name__)


class BuildHandlers(AgentBase):
    async def _spawn(self, row: models.Instance, image_id: str | None = None) -> None:
        """Start ``row``'s guest once its ports are plugged; a failure leaves nothing behind."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        # What boots is read while the network agent plugs the ports (it does not depend on
        # them): that wait is on the path of every boot with a network (#19).
        source = asyncio.ensure_future(self.specs.source(row, image_id))
        try:
            try:
                # Plugged first: the ports' bindings name the taps the guest's NICs use.
                await self.wait_ports(row.network_info)
            except BaseException:
                source.cancel()
                await asyncio.gather(source, return_exceptions=True)
                raise
            plugged = loop.time()
            spec = await self.specs.instance_spec(row, image_id=image_id, source=await source)
            await self.driver.spawn(spec)
            # Where a boot's time goes before the guest runs (bench/testimage.py --keep).
            log.info(
                "server %s: guest started %.2fs after its build began (ports plugged %.2fs, "
                "spec and disks %.2fs)", row.uuid, loop.time() - began, plugged - began,
                loop.time() - plugged,
            )  # fmt: skip
        except BaseException:
            try:
                await asyncio.shield(self.driver.destroy(row.uuid))
            except Exception:
                log.exception("server %s: cleaning up the failed spawn failed", row.uuid)
            raise

    # A failed build reaches the boot that asked for it, which tries another host.
    @handler("compute__do_build_and_run_instance", record=False)
    async def build_instance(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid = payload["uuid"]
        row = await self.row(uuid)
        if row is None or row.task_state == states.DELETING:
            return None
        await self._spawn(row)
        # Its volumes are in use before anyone sees the server ACTIVE.
        await self.svc.block_devices.attached(uuid)
        await self.finish(
            uuid,
            "compute__do_build_and_run_instance",
            vm_state=states.ACTIVE,
            task_state=None,
            power_state=int(PowerState.RUNNING),
            launched_at=utcnow(),
            progress=0,
        )
        return None

    @handler("compute_terminate_instance", record=False)
    async def delete_instance(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid = payload["uuid"]
        await self.driver.destroy(uuid)
        row = await self.row(uuid, deleted=True)
        if row is not None:
            await self.svc.networking.release(uuid, row.network_info, row.request)
        await release(self.svc.context, uuid)
        await self.svc.servers.finish_delete(uuid)
        await self.event(uuid, "compute_terminate_instance")
        if row is not None:
            await self.notify(
                "delete",
                {
                    "instance_id": uuid,
                    "tenant_id": row.project_id,
                    "user_id": row.user_id,
                    "host": self.host,
                    "state": "deleted",
                },
            )
        return None

    # A failed unshelve reaches the unshelve that asked for it, which records it.
    @handler("compute_unshelve_instance", record=False)
    async def unshelve(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid = payload["uuid"]
        row = await self.row(uuid)
        if row is None:
            return None
        await self._spawn(row, row.request.get("shelved_image_id") or row.image_ref)
        # The image goes before the server shows ACTIVE: whoever sees it running must not
        # still find the shelved image (the guest's disk is a copy already).
        await self.svc.shelve.unshelved(uuid)
        await self.finish(
            uuid,
            "compute_unshelve_instance",
            vm_state=states.ACTIVE,
            task_state=None,
            power_state=int(PowerState.RUNNING),
        )
        return None
