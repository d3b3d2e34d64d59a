"""Power states as the compute agent decides them: what a power operation leaves behind, and
what the power-state sync changes in a server's row given what the hypervisor shows (pure
decisions, applied by ``ComputeAgent.power`` and ``ComputeAgent.sync_power_states``)."""

from __future__ import annotations

from typing import Any

from onestack.common.db import utcnow
from onestack.common.logging import get_logger
from onestack.compute import models as m
from onestack.compute import states
from onestack.compute.drivers.base import PowerState
from onestack.compute.service.records import fault

log = get_logger(__name__)

NOT_RUNNING = (PowerState.SHUTDOWN, PowerState.NOSTATE, PowerState.CRASHED)

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


def changes(row: m.Instance, power: PowerState, at_start: bool) -> dict[str, Any]:
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


def recovered(row: m.Instance, power: PowerState) -> dict[str, Any]:
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


def resumes_on_boot(row: m.Instance, power: PowerState) -> bool:
    """Nova's ``resume_guests_state_on_host_boot``: at the agent's start, a server the database
    says is ACTIVE and running, with no task, whose guest is gone (the host rebooted), is
    started again rather than marked SHUTOFF."""
    return (
        row.task_state is None
        and row.vm_state == states.ACTIVE
        and row.power_state == int(PowerState.RUNNING)
        and power in NOT_RUNNING
    )
