"""A guest started with another flavor (resize, confirmed or reverted) or from a fresh root
disk (rebuild)."""

from __future__ import annotations

import asyncio
from typing import Any

from onestack.common.agent import handler
from onestack.common.db import utcnow
from onestack.common.logging import get_logger
from onestack.common.runtime import ServiceNotRunning
from onestack.compute import states
from onestack.compute.agent.base import AgentBase
from onestack.compute.drivers.base import PowerState, Resizing
from onestack.compute.service.records import fault

log = get_logger(__name__)
# Seconds a rebuild waits for the volume service to rewrite a root volume (a full image copy).
REIMAGE_TIMEOUT = 600.0


class ResizeHandlers(AgentBase):
    @handler("compute_resize_instance")
    async def resize(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid = payload["uuid"]
        row = await self.row(uuid)
        if row is None or row.new_flavor is None or row.old_flavor is None:
            return None
        try:
            old = await self.specs.instance_spec(row, flavor=row.old_flavor)
            new = await self.specs.instance_spec(row, flavor=row.new_flavor)
            await self.part(Resizing).resize(old, new)
            # A server resized while stopped stays stopped, as Nova's finish_resize does.
            power = PowerState.RUNNING
            if row.power_state != int(PowerState.RUNNING):
                await self.driver.power_off(uuid, timeout=0)
                power = PowerState.SHUTDOWN
        except Exception:
            await self.svc.actions.resize_failed(uuid)
            raise
        await self.svc.migrations.set_status(uuid, "finished")
        await self.finish(
            uuid,
            "compute_finish_resize",
            vm_state=states.RESIZED,
            task_state=None,
            flavor=row.new_flavor,
            power_state=int(power),
        )
        return None

    @handler("compute_confirm_resize", record=False)
    async def confirm_resize(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid = payload["uuid"]
        row = await self.row(uuid)
        if row is None:
            return None
        try:
            await self.part(Resizing).confirm_resize(uuid)
        except Exception as exc:
            log.warning("server %s: confirm resize: %s", uuid, exc)
        # The event first: whoever sees the server ACTIVE again finds it.
        await self.event(uuid, "compute_confirm_resize")
        await self.svc.actions.resize_confirmed(uuid)
        return None

    @handler("compute_revert_resize")
    async def revert_resize(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid = payload["uuid"]
        row = await self.row(uuid)
        if row is None or row.old_flavor is None:
            return None
        spec = await self.specs.instance_spec(row, flavor=row.old_flavor)
        await self.part(Resizing).revert_resize(spec)
        await self.event(uuid, "compute_finish_revert_resize")
        await self.svc.actions.resize_reverted(uuid)
        return None

    @handler("compute_rebuild_instance")
    async def rebuild(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid = payload["uuid"]
        row = await self.row(uuid)
        if row is None:
            return None
        try:
            if payload.get("reimage"):
                await self.reimage_root(uuid, payload["reimage"])
            spec = await self.specs.instance_spec(row)
            await self.driver.rebuild(spec)
            # A stopped server is rebuilt stopped, as Nova does.
            vm_state, power = states.ACTIVE, PowerState.RUNNING
            if row.vm_state == states.STOPPED:
                await self.driver.power_off(uuid, timeout=0)
                vm_state, power = states.STOPPED, PowerState.SHUTDOWN
        except Exception as exc:
            await self.svc.tasks.update(uuid, vm_state=states.ERROR, fault=fault(str(exc)))
            raise
        await self.finish(
            uuid,
            "compute_rebuild_instance",
            vm_state=vm_state,
            task_state=None,
            power_state=int(power),
            launched_at=utcnow(),
        )
        return None

    async def reimage_root(self, uuid: str, reimage: dict[str, str]) -> None:
        """2.93's rebuild of a volume-backed server: the guest stops, the volume service
        rewrites the root volume from the new image (Cinder's ``os-reimage``, Nova's wait for
        ``volume-reimaged``), then the guest starts from it."""
        volumes = self.svc.context.volume
        if volumes is None:
            raise ServiceNotRunning(name="volume")
        await self.driver.power_off(uuid, timeout=0)
        await volumes.reimage(reimage["volume_id"], reimage["image_id"])
        deadline = asyncio.get_running_loop().time() + REIMAGE_TIMEOUT
        while (vol := await volumes.get(None, reimage["volume_id"]))["status"] == "downloading":
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"volume {vol['id']} was not reimaged in time")
            await asyncio.sleep(0.2)
        if vol["status"] == "error":
            raise RuntimeError(f"volume {vol['id']} could not be reimaged")
