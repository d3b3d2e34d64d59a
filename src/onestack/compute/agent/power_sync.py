"""Keeping the database's power states true to the hypervisor's: what a power operation leaves
behind, what the power-state sync changes in a server's row given what the hypervisor shows
(pure decisions), and the sync itself (at start and periodically)."""

from __future__ import annotations

from typing import Any

from onestack.common.db import utcnow
from onestack.common.logging import get_logger
from onestack.compute import models, states
from onestack.compute.agent.building import BuildHandlers
from onestack.compute.drivers.base import InstanceInfo, PowerState
from onestack.compute.service.records import fault

log = get_logger(__name__)

NOSTATE = PowerState.NOSTATE
NOT_RUNNING = (PowerState.SHUTDOWN, NOSTATE, PowerState.CRASHED)

# What a power operation leaves behind: (its event, vm_state, power_state).
RESULTS: dict[str, tuple[str, str, PowerState]] = {
    "stop": ("compute_stop_instance", states.STOPPED, PowerState.SHUTDOWN),
    "start": ("compute_start_instance", states.ACTIVE, PowerState.RUNNING),
    "reboot_soft": ("compute_reboot_instance", states.ACTIVE, PowerState.RUNNING),
    "reboot_hard": ("compute_reboot_instance", states.ACTIVE, PowerState.RUNNING),
    "pause": ("compute_pause_instance", states.PAUSED, PowerState.PAUSED),
    "unpause": ("compute_unpause_instance", states.ACTIVE, PowerState.RUNNING),
    "suspend": ("compute_suspend_instance", states.SUSPENDED, PowerState.SUSPENDED),
    "resume": ("compute_resume_instance", states.ACTIVE, PowerState.RUNNING),
}


def changes(row: models.Instance, power: PowerState, at_start: bool) -> dict[str, Any]:
    """The row's new values: a guest that died makes its server SHUTOFF, one that runs makes
    a SHUTOFF server ACTIVE; a task under way is left alone, except at start, when a crash
    interrupted it (see ``recovered``)."""
    values: dict[str, Any] = {}
    if row.task_state is not None:
        if not at_start:
            return {}
        values.update(recovered(row, power))
    elif row.vm_state == states.ACTIVE and power in NOT_RUNNING:
        log.warning("server %s: its guest is not running; now SHUTOFF", row.uuid)
        values = {"vm_state": states.STOPPED}
    elif row.vm_state == states.STOPPED and power == PowerState.RUNNING:
        values = {"vm_state": states.ACTIVE}
    if int(power) != row.power_state:
        values["power_state"] = int(power)
    return values


def recovered(row: models.Instance, power: PowerState) -> dict[str, Any]:
    """A task a crash interrupted, finished from what the hypervisor shows. A delete changes
    nothing here: the agent deletes the server again."""
    log.warning("server %s: task %s was interrupted", row.uuid, row.task_state)
    if row.task_state == states.DELETING:
        return {}
    if row.vm_state == states.BUILDING:
        if power == PowerState.RUNNING:
            return {"vm_state": states.ACTIVE, "task_state": None, "launched_at": utcnow()}
        return {
            "vm_state": states.ERROR,
            "task_state": None,
            "fault": fault("The build was interrupted by a restart of the compute host."),
        }
    vm = {
        PowerState.RUNNING: states.ACTIVE,
        PowerState.PAUSED: states.PAUSED,
        PowerState.SUSPENDED: states.SUSPENDED,
    }.get(power, states.STOPPED)
    if row.vm_state == states.RESIZED:
        vm = states.RESIZED
    return {"vm_state": vm, "task_state": None}


def resumes_on_boot(row: models.Instance, power: PowerState) -> bool:
    """Nova's ``resume_guests_state_on_host_boot``: at the agent's start, a server the database
    says is ACTIVE and running, with no task, whose guest is gone (the host rebooted), is
    started again rather than marked SHUTOFF."""
    return (
        row.task_state is None
        and row.vm_state == states.ACTIVE
        and row.power_state == int(PowerState.RUNNING)
        and power in NOT_RUNNING
    )


class SyncHandlers(BuildHandlers):
    """The sync finishes at start the deletes a crash interrupted: it deletes, as a build's
    handlers do."""

    async def sync(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        await self.sync_power_states()
        return None

    async def sync_power_states(self, *, at_start: bool = False) -> None:
        """Make the database agree with the hypervisor: guests that died are SHUTOFF, guests
        nobody owns are stopped, and (at start) tasks a crash interrupted are finished or the
        server goes to ERROR."""
        running = await self.driver.list_instances()
        rows = await self.svc.tasks.on_host(self.host)
        live = {r.uuid: r for r in rows if not r.deleted}
        for uuid in running:
            if uuid not in live and not self.locks.held(uuid):
                log.warning("stopping orphan guest %s: no server owns it", uuid)
                await self.driver.destroy(uuid)
        for row in live.values():
            if self.locks.held(row.uuid):
                continue  # an operation is under way: it will set the state
            await self._sync_one(row, running.get(row.uuid), at_start)

    async def _sync_one(
        self, row: models.Instance, info: InstanceInfo | None, at_start: bool
    ) -> None:
        power = info.power_state if info is not None else PowerState.NOSTATE
        if not at_start and info is not None and info.pid is not None and power == NOSTATE:
            # Its process lives but its monitor did not answer in time (a guest busy booting
            # under TCG): not a guest that died. The next sync asks again.
            return
        if at_start and row.task_state == states.DELETING:
            self.runtime.spawn(self._delete_later(row.uuid), f"delete {row.uuid}")
        resume = self.runtime.settings.compute.resume_guests_state_on_host_boot
        if at_start and resume and resumes_on_boot(row, power):
            log.info("server %s ran before the host restarted: starting it again", row.uuid)
            self.runtime.spawn(self.resume_on_boot(row.uuid), f"resume {row.uuid}")
            return
        values = changes(row, power, at_start)
        if values:
            await self.svc.tasks.correct(row.uuid, row.task_state, values)

    async def resume_on_boot(self, uuid: str) -> None:
        """Start the guest again (the agent's power handler does it)."""
        raise NotImplementedError

    async def _delete_later(self, uuid: str) -> None:
        await self.delete_instance({"uuid": uuid})
