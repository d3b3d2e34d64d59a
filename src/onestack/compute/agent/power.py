"""A guest's power: stop, start, reboot, pause, suspend and back; a crash dump (NMI); rescue and
unrescue, which start the guest anew from another disk."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from onestack.common.agent import handler
from onestack.compute import models, states
from onestack.compute.agent import power_sync
from onestack.compute.agent.base import AgentBase
from onestack.compute.drivers.base import CrashDump, InstanceSpec, PowerState, Rescue
from onestack.compute.service.records import fault


def power_event(payload: dict[str, Any]) -> str:
    """The event a power operation's result (or failure) is recorded as."""
    return power_sync.RESULTS[payload["op"]][0]


class PowerHandlers(AgentBase):
    @handler(power_event)
    async def power(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid, op = payload["uuid"], payload["op"]
        event, vm_state, power = power_sync.RESULTS[op]
        row = await self.row(uuid)
        if row is None:
            return None
        await self._power(row, op, payload)
        await self.finish(uuid, event, vm_state=vm_state, task_state=None, power_state=int(power))
        return None

    async def _power(self, row: models.Instance, op: str, payload: dict[str, Any]) -> None:
        uuid = row.uuid
        if op == "stop":
            timeout = float(payload.get("timeout", self.runtime.settings.compute.shutdown_timeout))
            await self.driver.power_off(uuid, timeout)
        elif op == "pause":
            await self.driver.pause(uuid)
        elif op == "unpause":
            await self.driver.unpause(uuid)
        elif op == "suspend":
            await self.driver.suspend(uuid)
        else:
            spec = await self.specs.instance_spec(row)
            if op == "start":
                await self.driver.power_on(spec)
            elif op == "resume":
                await self.driver.resume(spec)
            else:
                await self.driver.reboot(spec, hard=op == "reboot_hard")

    @handler("compute_trigger_crash_dump")
    async def crash_dump(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid = payload["uuid"]
        await self.part(CrashDump).inject_nmi(uuid)
        await self.event(uuid, "compute_trigger_crash_dump")
        return None

    @handler("compute_rescue_instance")
    async def rescue(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        # Nova's InstanceNotRescuable: a failed rescue leaves the server in ERROR.
        await self._restart(
            payload["uuid"],
            "compute_rescue_instance",
            lambda spec: self.part(Rescue).rescue(spec),
            states.RESCUED,
            rescue_image_id=payload["image_id"],
            fatal=True,
        )
        return None

    @handler("compute_unrescue_instance")
    async def unrescue(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        await self._restart(
            payload["uuid"],
            "compute_unrescue_instance",
            lambda spec: self.part(Rescue).unrescue(spec),
            states.ACTIVE,
        )
        return None

    async def _restart(
        self,
        uuid: str,
        event: str,
        act: Callable[[InstanceSpec], Awaitable[None]],
        vm_state: str,
        *,
        rescue_image_id: str | None = None,
        fatal: bool = False,
    ) -> None:
        """Start ``uuid``'s guest anew through the driver's ``act``: running in ``vm_state``
        after; on failure (recorded by the handler) ERROR with a fault when ``fatal``."""
        row = await self.row(uuid)
        if row is None:
            return
        try:
            spec = await self.specs.instance_spec(row, rescue_image_id=rescue_image_id)
            await act(spec)
        except Exception as exc:
            if fatal:
                await self.svc.tasks.update(uuid, vm_state=states.ERROR, fault=fault(str(exc)))
            raise
        await self.finish(
            uuid, event, vm_state=vm_state, task_state=None, power_state=int(PowerState.RUNNING)
        )
