"""What every part of the compute agent shares: its host, driver and service layer, the lock
per server, and how an operation's end (or failure) is written back and announced."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from onestack.common.agent import KeyedLocks
from onestack.common.logging import get_logger
from onestack.compute import models
from onestack.compute.agent.specs import Specs
from onestack.compute.drivers.base import ComputeDriver, DriverError, DriverPart, HostInfo
from onestack.compute.service.base import NOTIFICATIONS

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime
    from onestack.compute.service import ComputeService

log = get_logger(__name__)

P = TypeVar("P", bound=DriverPart)

PORT_WAIT = 60.0  # seconds a spawn waits for the network agent to plug its ports

# Nova's notifications (``compute.instance.<what>.end``) for metering and orchestration.
NOTIFY = {
    "compute__do_build_and_run_instance": "create",
    "compute_terminate_instance": "delete",
    "compute_stop_instance": "power_off",
    "compute_start_instance": "power_on",
    "compute_reboot_instance": "reboot",
    "compute_pause_instance": "pause",
    "compute_unpause_instance": "unpause",
    "compute_suspend_instance": "suspend",
    "compute_resume_instance": "resume",
    "compute_finish_resize": "resize",
    "compute_rebuild_instance": "rebuild",
    "compute_snapshot_instance": "snapshot",
    "compute_unshelve_instance": "unshelve",
    "compute_rescue_instance": "rescue",
    "compute_unrescue_instance": "unrescue",
}


def host_name(setting: str) -> str:
    return setting or socket.gethostname()


def instances_dir(runtime: Runtime) -> Path:
    setting = runtime.settings.compute.instances_dir
    return Path(setting) if setting else runtime.settings.data_dir / "instances"


class AgentBase:
    """One operation at a time per server (``locks``, taken by ``common.agent.handler``), so
    a delete that arrives during a spawn waits for it and then removes what it made."""

    def __init__(
        self, runtime: Runtime, svc: ComputeService, driver: ComputeDriver, host: str
    ) -> None:
        self.runtime = runtime
        self.svc = svc
        self.driver = driver
        self.host = host
        self.info: HostInfo | None = None
        self.fallback_reason: str | None = None
        self.locks = KeyedLocks()
        self.specs = Specs(svc)
        self._plugged: dict[str, asyncio.Event] = {}  # ports a spawn waits for

    def part(self, kind: type[P]) -> P:
        """The driver as the part ``kind`` (resize, rescue, consoles...); ``DriverError`` when
        the driver has no such capability."""
        if isinstance(self.driver, kind):
            return self.driver
        raise DriverError(f"{kind.provides} is not supported by the {self.driver.name} driver")

    async def port_status(self, event_type: str, payload: dict[str, Any]) -> None:
        """The network's port status events (``PORT_STATUS_TOPIC``): wake the spawns."""
        for port_id, status in payload.get("ports", {}).items():
            if status == "ACTIVE" and port_id in self._plugged:
                self._plugged[port_id].set()

    async def wait_ports(self, network_info: list[dict[str, Any]]) -> None:
        """Until the network agent has plugged every port (its tap exists and is bridged):
        woken by the network's port status events, re-reading the database now and then in
        case an event was missed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PORT_WAIT
        pending = [n["port_id"] for n in network_info]
        events = {p: self._plugged.setdefault(p, asyncio.Event()) for p in pending}
        try:
            while pending:
                pending = [
                    p
                    for p in pending
                    if not events[p].is_set()
                    and await self.svc.networking.port_status(p) != "ACTIVE"
                ]
                if not pending:
                    return
                if loop.time() > deadline:
                    raise RuntimeError(f"ports {', '.join(pending)} were not plugged in time")
                waits = [asyncio.ensure_future(events[p].wait()) for p in pending]
                await asyncio.wait(waits, timeout=1.0)
                for w in waits:
                    w.cancel()
        finally:
            for p in events:
                self._plugged.pop(p, None)

    async def row(self, uuid: str, *, deleted: bool = False) -> models.Instance | None:
        return await self.svc.servers.get_any(uuid, deleted=deleted)

    async def finish(
        self, uuid: str, event: str, *, error: str | None = None, **values: Any
    ) -> None:
        """Write the operation's end: ``values`` on the server and its action's ``event``
        (an error when ``error``); a success Nova announces is announced."""
        owner = await self.svc.tasks.finish(uuid, event, self.host, error=error, **values)
        if owner is not None and event in NOTIFY and not error:
            await self.notify(
                NOTIFY[event],
                {
                    "instance_id": uuid,
                    "tenant_id": owner.project_id,
                    "user_id": owner.user_id,
                    "host": self.host,
                    "state": owner.vm_state,
                    "instance_type": owner.flavor_name,
                },
            )

    async def event(self, uuid: str, event: str) -> None:
        """Record ``event`` on the server's newest action, on its own."""
        await self.svc.tasks.event(uuid, event, self.host)

    async def notify(self, what: str, payload: dict[str, Any]) -> None:
        try:
            await self.runtime.bus.publish(NOTIFICATIONS, f"compute.instance.{what}.end", payload)
        except Exception:
            log.exception("cannot publish compute.instance.%s.end", what)

    async def record_failure(self, key: str, action: str, exc: Exception) -> None:
        """An operation failed (``common.agent.handler``): the server keeps its state (now
        true to the hypervisor), the task ends, and the action's event says why."""
        info = (await self.driver.list_instances()).get(key)
        values: dict[str, Any] = {"task_state": None}
        if info is not None:
            values["power_state"] = int(info.power_state)
        await self.finish(key, action, error=str(exc) or type(exc).__name__, **values)
