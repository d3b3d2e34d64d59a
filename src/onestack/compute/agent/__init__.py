"""The compute agent of one host: registers the hypervisor, answers the host's bus topic by
driving the virt driver, and keeps the database's power states true to the hypervisor's.

Its handlers, by what they do to a guest: ``building`` (build, delete, unshelve), ``power``
(power, crash dump, rescue), ``resizing`` (resize, rebuild), ``images`` (snapshot, backup,
shelve), ``devices`` (consoles, diagnostics, interfaces), ``volumes``, ``power_sync``; each
that acts on a server runs one at a time per server and records its failure on the server
(``common.agent.handler``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from onestack.common.agent import Periodic, handler
from onestack.common.logging import get_logger
from onestack.compute.agent.base import host_name, instances_dir
from onestack.compute.agent.devices import DeviceHandlers
from onestack.compute.agent.images import ImageHandlers
from onestack.compute.agent.pollsters import Pollsters
from onestack.compute.agent.power import PowerHandlers
from onestack.compute.agent.power_sync import SyncHandlers
from onestack.compute.agent.resizing import ResizeHandlers
from onestack.compute.agent.volumes import VolumeHandlers
from onestack.compute.dataplane import choose_driver
from onestack.compute.drivers.base import (
    ComputeDriver,
    DriverError,
    GuestAgentPart,
    GuestAgentUnavailable,
)
from onestack.compute.service.base import NOTIFICATIONS, compute_topic
from onestack.network.facade import PORT_STATUS_TOPIC
from onestack.volume.facade import VOLUME_NOTIFICATIONS

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime
    from onestack.compute.service import ComputeService

log = get_logger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]


class ComputeAgent(
    SyncHandlers,
    PowerHandlers,
    ResizeHandlers,
    ImageHandlers,
    DeviceHandlers,
    VolumeHandlers,
    Pollsters,
):
    def __init__(
        self, runtime: Runtime, svc: ComputeService, driver: ComputeDriver, host: str
    ) -> None:
        super().__init__(runtime, svc, driver, host)
        self.periodic = Periodic()

    async def start(self) -> None:
        """Register the host in the background: the API serves meanwhile, and boots and calls
        to this host wait for it (``ComputeContext.wait_local_host``); a fresh host's
        accelerator probe takes seconds."""
        registered = asyncio.Event()
        self.svc.context.local_host_registered = registered
        self.runtime.spawn(self._register(registered), "compute-register")

    async def _register(self, registered: asyncio.Event) -> None:
        settings = self.runtime.settings.compute
        try:
            self.info = await self.driver.init_host()
            await self.svc.hosts.report(self.host, self.info)
            await self.sync_power_states(at_start=True)
            self.runtime.bus.serve(compute_topic(self.host), self.handlers())
            self.runtime.bus.subscribe(PORT_STATUS_TOPIC, self.port_status)
            self.runtime.bus.subscribe(VOLUME_NOTIFICATIONS, self.volume_event)
            self.runtime.bus.subscribe(NOTIFICATIONS, self.instance_updated)
        except Exception:
            log.exception("compute agent on %s: cannot register the host", self.host)
            return
        finally:
            registered.set()
        log.info("compute agent on %s: registered (%s)", self.host, self.info.accelerator)
        self.periodic.every(settings.report_interval, self.heartbeat, "compute-heartbeat")
        self.periodic.every(
            settings.sync_power_state_interval, self.sync_power_states, "compute-power-sync"
        )
        metering = self.runtime.settings.metering
        self.periodic.every(lambda: metering.interval, self.poll_guests, "compute-pollsters")

    async def resume_on_boot(self, uuid: str) -> None:
        await self.power({"uuid": uuid, "op": "start"})

    @handler("compute_set_admin_password", record=False)
    async def set_admin_password(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        """changePassword: through the guest agent, for the image's ``os_admin_user`` (root by
        default, as Nova); an error answer becomes the API's 409."""
        uuid = payload["uuid"]
        row = await self.row(uuid)
        if row is None:
            return {"error": f"Instance {uuid} could not be found."}
        user = "root"
        if row.image_ref:
            image = await self.svc.context.image.get_image(None, row.image_ref)
            user = (getattr(image, "properties", {}) or {}).get("os_admin_user") or user
        try:
            await self.part(GuestAgentPart).set_admin_password(uuid, user, payload["password"])
        except GuestAgentUnavailable as exc:
            return {"error": str(exc)}
        except DriverError as exc:
            return {"error": f"Failed to set admin password on {uuid} because {exc}"}
        return {}

    async def heartbeat(self) -> None:
        await self.svc.hosts.heartbeat(self.host)

    async def stop(self) -> None:
        await self.periodic.stop()
        # Guests keep running: the next start re-attaches to them.
        await self.driver.close()

    def describe(self) -> dict[str, Any]:
        """What the banner and ``onestack status`` say about this host's hypervisor."""
        return {
            "driver": self.driver.name,
            "accelerator": self.info.accelerator if self.info else "",
            "fallback_reason": self.fallback_reason,
        }

    def handlers(self) -> dict[str, Handler]:
        return {
            "build_instance": self.build_instance,
            "delete_instance": self.delete_instance,
            "power": self.power,
            "resize": self.resize,
            "confirm_resize": self.confirm_resize,
            "revert_resize": self.revert_resize,
            "rebuild": self.rebuild,
            "snapshot": self.snapshot,
            "rescue": self.rescue,
            "crash_dump": self.crash_dump,
            "unrescue": self.unrescue,
            "shelve": self.shelve,
            "unshelve": self.unshelve,
            "console_output": self.console_output,
            "set_admin_password": self.set_admin_password,
            "console_socket": self.console_socket,
            "diagnostics": self.diagnostics,
            "attach_interface": self.attach_interface,
            "detach_interface": self.detach_interface,
            "attach_volume": self.attach_volume,
            "detach_volume": self.detach_volume,
            "sync": self.sync,
        }


async def start_agent(runtime: Runtime, svc: ComputeService) -> ComputeAgent:
    settings = runtime.settings.compute
    directory = instances_dir(runtime)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    loaded = choose_driver(settings.driver, directory)
    agent = ComputeAgent(runtime, svc, loaded.driver, host_name(settings.host))
    agent.fallback_reason = loaded.fallback_reason
    if loaded.fallback_reason:
        log.warning(
            "compute: the fake driver runs (no real virtual machines): %s", loaded.fallback_reason
        )
    await agent.start()
    log.info("compute agent on %s: driver %s", agent.host, loaded.driver.name)
    return agent


__all__ = ["ComputeAgent", "start_agent"]
