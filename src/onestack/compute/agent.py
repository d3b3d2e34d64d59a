"""The compute agent of one host: registers the hypervisor, answers the host's bus topic by
driving the virt driver, and keeps the database's power states true to the hypervisor's.

One operation at a time per server (a lock per uuid), so a delete that arrives during a spawn
waits for it and then removes what it made.
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from onestack.common import errors
from onestack.common.db import utcnow
from onestack.common.logging import get_logger
from onestack.compute import models as m
from onestack.compute import power_sync, states
from onestack.compute.drivers import load_driver, why_not_real
from onestack.compute.drivers.base import (
    ComputeDriver,
    HostInfo,
    InstanceInfo,
    InstanceSpec,
    PowerState,
)
from onestack.compute.scheduler_glue import release
from onestack.compute.service.base import compute_topic
from onestack.compute.service.records import fault, record_event, touch
from onestack.network.facade import PORT_STATUS_TOPIC

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime
    from onestack.compute.service import ComputeService

log = get_logger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]

# Nova's notifications (``compute.instance.<what>.end``) for metering and orchestration.
NOTIFICATIONS = "notifications.compute"
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
PORT_WAIT = 60.0  # seconds a spawn waits for the network agent to plug its ports


def host_name(setting: str) -> str:
    return setting or socket.gethostname()


def instances_dir(runtime: Runtime) -> Path:
    setting = runtime.settings.compute.instances_dir
    return Path(setting) if setting else runtime.settings.data_dir / "instances"


class ComputeAgent:
    def __init__(
        self, runtime: Runtime, svc: ComputeService, driver: ComputeDriver, host: str
    ) -> None:
        self.runtime = runtime
        self.svc = svc
        self.driver = driver
        self.host = host
        self.info: HostInfo | None = None
        self.fallback_reason: str | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._plugged: dict[str, asyncio.Event] = {}  # ports a spawn waits for

    # -- life cycle ---------------------------------------------------------------------
    async def start(self) -> None:
        self.info = await self.driver.init_host()
        await self.svc.hosts.report(self.host, self.info)
        await self.sync_power_states(at_start=True)
        self.runtime.bus.serve(compute_topic(self.host), self.handlers())
        self.runtime.bus.subscribe(PORT_STATUS_TOPIC, self._port_status)
        self._tasks.append(asyncio.create_task(self._heartbeat(), name="compute-heartbeat"))
        self._tasks.append(asyncio.create_task(self._power_sync(), name="compute-power-sync"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # Guests keep running: the next start re-attaches to them.
        await self.driver.close()

    def describe(self) -> dict[str, Any]:
        """What the banner and ``onestack status`` say about this host's hypervisor."""
        return {
            "driver": self.driver.name,
            "accelerator": self.info.accelerator if self.info else "",
            "fallback_reason": self.fallback_reason,
        }

    async def _heartbeat(self) -> None:
        interval = self.runtime.settings.compute.report_interval
        while True:
            await asyncio.sleep(interval)
            try:
                await self.svc.hosts.heartbeat(self.host)
            except Exception:
                log.exception("compute heartbeat failed")

    async def _power_sync(self) -> None:
        interval = self.runtime.settings.compute.sync_power_state_interval
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sync_power_states()
            except Exception:
                log.exception("power state sync failed")

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
            "console_socket": self.console_socket,
            "diagnostics": self.diagnostics,
            "attach_interface": self.attach_interface,
            "detach_interface": self.detach_interface,
            "attach_volume": self.attach_volume,
            "detach_volume": self.detach_volume,
            "sync": self.sync,
        }

    # -- helpers ------------------------------------------------------------------------
    async def _row(self, uuid: str, *, deleted: bool = False) -> m.Instance | None:
        return await self.svc.servers.get_any(uuid, deleted=deleted)

    async def _finish(
        self,
        uuid: str,
        event: str,
        *,
        error: str | None = None,
        **values: Any,
    ) -> None:
        async with self.runtime.db.session() as s:
            row = await s.scalar(select(m.Instance).where(m.Instance.uuid == uuid))
            if row is None:
                return
            for key, value in values.items():
                setattr(row, key, value)
            touch(row)
            await record_event(s, uuid, event, self.host, error)
            payload = {
                "instance_id": uuid,
                "tenant_id": row.project_id,
                "user_id": row.user_id,
                "host": self.host,
                "state": row.vm_state,
                "instance_type": row.flavor.get("name", ""),
            }
        if event in NOTIFY and not error:
            await self.notify(NOTIFY[event], payload)

    async def _event(self, uuid: str, event: str) -> None:
        """Record ``event`` on the server's newest action, on its own."""
        async with self.runtime.db.session() as s:
            await record_event(s, uuid, event, self.host)

    async def notify(self, what: str, payload: dict[str, Any]) -> None:
        try:
            await self.runtime.bus.publish(NOTIFICATIONS, f"compute.instance.{what}.end", payload)
        except Exception:
            log.exception("cannot publish compute.instance.%s.end", what)

    async def _port_status(self, event_type: str, payload: dict[str, Any]) -> None:
        for port_id, status in payload.get("ports", {}).items():
            if status == "ACTIVE" and port_id in self._plugged:
                self._plugged[port_id].set()

    async def _wait_ports(self, network_info: list[dict[str, Any]]) -> None:
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

    # -- build and delete ---------------------------------------------------------------
    async def _spawn(self, row: m.Instance, image_id: str | None = None) -> None:
        """Start ``row``'s guest once its ports are plugged; a failure leaves nothing behind."""
        try:
            # Plugged first: the ports' bindings name the taps the guest's NICs use.
            await self._wait_ports(row.network_info)
            spec = await self.svc.guests.instance_spec(row, image_id=image_id)
            await self.driver.spawn(spec)
        except BaseException:
            try:
                await asyncio.shield(self.driver.destroy(row.uuid))
            except Exception:
                log.exception("server %s: cleaning up the failed spawn failed", row.uuid)
            raise

    async def build_instance(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid = payload["uuid"]
        async with self._locks[uuid]:
            row = await self._row(uuid)
            if row is None or row.task_state == states.DELETING:
                return None
            await self._spawn(row)
            now = utcnow()
            await self._finish(
                uuid,
                "compute__do_build_and_run_instance",
                vm_state=states.ACTIVE,
                task_state=None,
                power_state=int(PowerState.RUNNING),
                launched_at=now,
                progress=0,
            )
        return None

    async def delete_instance(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid = payload["uuid"]
        async with self._locks[uuid]:
            await self.driver.destroy(uuid)
            row = await self._row(uuid, deleted=True)
            if row is not None:
                await self.svc.networking.deallocate(row.network_info)
            await release(self.svc.context, uuid)
            await self.svc.servers.finish_delete(uuid)
            await self._event(uuid, "compute_terminate_instance")
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
        self._locks.pop(uuid, None)
        return None

    # -- power ----------------------------------------------------------------------------
    async def power(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid, op = payload["uuid"], payload["op"]
        event, vm_state, power = power_sync.RESULTS[op]
        async with self._locks[uuid]:
            row = await self._row(uuid)
            if row is None:
                return None
            try:
                if op == "stop":
                    timeout = float(
                        payload.get("timeout", self.runtime.settings.compute.shutdown_timeout)
                    )
                    await self.driver.power_off(uuid, timeout)
                elif op == "pause":
                    await self.driver.pause(uuid)
                elif op == "unpause":
                    await self.driver.unpause(uuid)
                elif op == "suspend":
                    await self.driver.suspend(uuid)
                else:
                    spec = await self.svc.guests.instance_spec(row)
                    if op == "start":
                        await self.driver.power_on(spec)
                    elif op == "resume":
                        await self.driver.resume(spec)
                    else:
                        await self.driver.reboot(spec, hard=op == "reboot_hard")
            except Exception as exc:
                await self._failed(uuid, event, exc)
                return None
            await self._finish(
                uuid, event, vm_state=vm_state, task_state=None, power_state=int(power)
            )
        return None

    async def _failed(self, uuid: str, event: str, exc: BaseException) -> None:
        """An action failed: the server keeps its state (now true to the hypervisor), the
        task ends, and the action's event says why."""
        log.warning("server %s: %s failed: %s", uuid, event, exc)
        info = (await self.driver.list_instances()).get(uuid)
        values: dict[str, Any] = {"task_state": None}
        if info is not None:
            values["power_state"] = int(info.power_state)
        await self._finish(uuid, event, error=str(exc) or type(exc).__name__, **values)

    # -- resize, rebuild, snapshot --------------------------------------------------------
    async def resize(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid = payload["uuid"]
        async with self._locks[uuid]:
            row = await self._row(uuid)
            if row is None or row.new_flavor is None or row.old_flavor is None:
                return None
            try:
                old = await self.svc.guests.instance_spec(row, flavor=row.old_flavor)
                new = await self.svc.guests.instance_spec(row, flavor=row.new_flavor)
                await self.driver.resize(old, new)
                # A server resized while stopped stays stopped, as Nova's finish_resize does.
                power = PowerState.RUNNING
                if row.power_state != int(PowerState.RUNNING):
                    await self.driver.power_off(uuid, timeout=0)
                    power = PowerState.SHUTDOWN
            except Exception as exc:
                await self._failed(uuid, "compute_resize_instance", exc)
                await self.svc.actions.resize_failed(uuid)
                return None
            await self._finish(
                uuid,
                "compute_finish_resize",
                vm_state=states.RESIZED,
                task_state=None,
                flavor=row.new_flavor,
                power_state=int(power),
            )
        return None

    async def confirm_resize(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid = payload["uuid"]
        async with self._locks[uuid]:
            row = await self._row(uuid)
            if row is None:
                return None
            try:
                await self.driver.confirm_resize(uuid)
            except Exception as exc:
                log.warning("server %s: confirm resize: %s", uuid, exc)
            # The event first: whoever sees the server ACTIVE again finds it.
            await self._event(uuid, "compute_confirm_resize")
            await self.svc.actions.resize_confirmed(uuid)
        return None

    async def revert_resize(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid = payload["uuid"]
        async with self._locks[uuid]:
            row = await self._row(uuid)
            if row is None or row.old_flavor is None:
                return None
            try:
                spec = await self.svc.guests.instance_spec(row, flavor=row.old_flavor)
                await self.driver.revert_resize(spec)
            except Exception as exc:
                await self._failed(uuid, "compute_revert_resize", exc)
                return None
            await self._event(uuid, "compute_finish_revert_resize")
            await self.svc.actions.resize_reverted(uuid)
        return None

    async def rebuild(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid = payload["uuid"]
        async with self._locks[uuid]:
            row = await self._row(uuid)
            if row is None:
                return None
            try:
                spec = await self.svc.guests.instance_spec(row)
                await self.driver.rebuild(spec)
                # A stopped server is rebuilt stopped, as Nova does.
                vm_state, power = states.ACTIVE, PowerState.RUNNING
                if row.vm_state == states.STOPPED:
                    await self.driver.power_off(uuid, timeout=0)
                    vm_state, power = states.STOPPED, PowerState.SHUTDOWN
            except Exception as exc:
                await self._failed(uuid, "compute_rebuild_instance", exc)
                await self._finish(
                    uuid, "compute_rebuild_instance", vm_state=states.ERROR, fault=fault(str(exc))
                )
                return None
            await self._finish(
                uuid,
                "compute_rebuild_instance",
                vm_state=vm_state,
                task_state=None,
                power_state=int(power),
                launched_at=utcnow(),
            )
        return None

    async def crash_dump(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid = payload["uuid"]
        async with self._locks[uuid]:
            try:
                await self.driver.inject_nmi(uuid)
            except Exception as exc:
                await self._failed(uuid, "compute_trigger_crash_dump", exc)
                return None
            await self._event(uuid, "compute_trigger_crash_dump")
        return None

    async def rescue(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        # Nova's InstanceNotRescuable: a failed rescue leaves the server in ERROR.
        await self._restart(
            payload["uuid"],
            "compute_rescue_instance",
            self.driver.rescue,
            states.RESCUED,
            rescue_image_id=payload["image_id"],
            fatal=True,
        )
        return None

    async def unrescue(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        await self._restart(
            payload["uuid"], "compute_unrescue_instance", self.driver.unrescue, states.ACTIVE
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
        after, or the event's error (and ERROR with a fault when ``fatal``)."""
        async with self._locks[uuid]:
            row = await self._row(uuid)
            if row is None:
                return
            try:
                spec = await self.svc.guests.instance_spec(row, rescue_image_id=rescue_image_id)
                await act(spec)
            except Exception as exc:
                await self._failed(uuid, event, exc)
                if fatal:
                    await self._finish(uuid, event, vm_state=states.ERROR, fault=fault(str(exc)))
                return
            await self._finish(
                uuid, event, vm_state=vm_state, task_state=None, power_state=int(PowerState.RUNNING)
            )

    async def snapshot(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid, image_id = payload["uuid"], payload["image_id"]
        image = self.svc.context.image
        async with self._locks[uuid]:
            try:
                with tempfile.TemporaryDirectory(dir=instances_dir(self.runtime)) as tmp:
                    target = Path(tmp) / "snapshot"
                    await self._finish(
                        uuid, "compute_snapshot_instance_start", task_state=states.IMAGE_UPLOADING
                    )
                    fmt = await self.driver.snapshot(uuid, target)
                    await image.upload_local_file(image_id, target, fmt)
                if backup := payload.get("backup"):
                    await self._rotate_backups(uuid, backup["type"], backup["rotation"])
            except Exception as exc:
                await self._failed(uuid, "compute_snapshot_instance", exc)
                try:
                    await image.delete_image(image_id)
                except Exception:
                    log.warning("could not delete the failed snapshot image %s", image_id)
                return None
            await self._finish(uuid, "compute_snapshot_instance", task_state=None)
        return None

    async def _rotate_backups(self, uuid: str, backup_type: str, rotation: int) -> None:
        """Delete the server's oldest backups of ``backup_type`` beyond ``rotation`` (the new
        one counts: a rotation of 0 keeps none), as Nova's ``_rotate_backups`` does."""
        row = await self._row(uuid)
        if row is None:
            return
        image = self.svc.context.image
        wanted = {"image_type": "backup", "backup_type": backup_type, "instance_uuid": uuid}
        backups = await image.owned_with_properties(row.project_id, wanted)
        for image_id in backups[rotation:]:
            try:
                await image.delete_image(image_id)
            except errors.OneStackError as exc:
                log.warning("server %s: cannot rotate out backup %s: %s", uuid, image_id, exc)

    async def shelve(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid, image_id = payload["uuid"], payload["image_id"]
        image = self.svc.context.image
        async with self._locks[uuid]:
            try:
                await self.driver.power_off(uuid, self.runtime.settings.compute.shutdown_timeout)
                with tempfile.TemporaryDirectory(dir=instances_dir(self.runtime)) as tmp:
                    target = Path(tmp) / "shelved"
                    fmt = await self.driver.snapshot(uuid, target)
                    await image.upload_local_file(image_id, target, fmt)
                await self.driver.destroy(uuid)
            except Exception as exc:
                await self._failed(uuid, "compute_shelve_instance", exc)
                return None
            await self._event(uuid, "compute_shelve_offload_instance")
        await self.svc.shelve.offloaded(uuid)
        return None

    async def unshelve(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid = payload["uuid"]
        async with self._locks[uuid]:
            row = await self._row(uuid)
            if row is None:
                return None
            await self._spawn(row, row.request.get("shelved_image_id") or row.image_ref)
            # The image goes before the server shows ACTIVE: whoever sees it running must not
            # still find the shelved image (the guest's disk is a copy already).
            await self.svc.shelve.unshelved(uuid)
            await self._finish(
                uuid,
                "compute_unshelve_instance",
                vm_state=states.ACTIVE,
                task_state=None,
                power_state=int(PowerState.RUNNING),
            )
        return None

    # -- reads and devices ----------------------------------------------------------------
    async def console_output(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        length = payload.get("length")
        text = await self.driver.console_output(payload["uuid"])
        if length is not None:
            # Nova's tail: the last ``length`` pieces of the log split on newlines, so a log
            # that ends with one yields length - 1 lines and an empty last piece.
            text = "\n".join(text.split("\n")[-length:]) if length > 0 else ""
        return {"output": text}

    async def console_socket(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        if payload.get("kind") == "serial":
            path = await self.driver.serial_socket(payload["uuid"])
        else:
            path = await self.driver.vnc_socket(payload["uuid"])
        return {"path": str(path)}

    async def diagnostics(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        return await self.driver.diagnostics(payload["uuid"])

    async def attach_interface(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        from onestack.compute.drivers.base import NIC

        uuid = payload["uuid"]
        async with self._locks[uuid]:
            await self._wait_ports([{"port_id": payload["port_id"]}])
            nic = NIC(
                port_id=payload["port_id"],
                mac_address=payload["mac_address"],
                tap=await self.svc.networking.devname(payload["port_id"]),
                mtu=int(payload.get("mtu") or 1500),
            )
            await self.driver.attach_interface(uuid, nic)
        return None

    async def detach_interface(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid = payload["uuid"]
        async with self._locks[uuid]:
            await self.driver.detach_interface(uuid, payload["port_id"])
        return None

    async def attach_volume(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        from onestack.compute.drivers.base import Volume

        uuid = payload["uuid"]
        async with self._locks[uuid]:
            vol = Volume(
                volume_id=payload["volume_id"],
                path=Path(payload["path"]),
                format=payload.get("format", "raw"),
                serial=payload["volume_id"],
                device=payload.get("device", ""),
            )
            await self.driver.attach_volume(uuid, vol)
        return None

    async def detach_volume(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid = payload["uuid"]
        async with self._locks[uuid]:
            await self.driver.detach_volume(uuid, payload["volume_id"])
        return None

    async def sync(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        await self.sync_power_states()
        return None

    # -- power state sync -----------------------------------------------------------------
    async def sync_power_states(self, *, at_start: bool = False) -> None:
        """Make the database agree with the hypervisor: guests that died are SHUTOFF, guests
        nobody owns are stopped, and (at start) tasks a crash interrupted are finished or the
        server goes to ERROR."""
        running = await self.driver.list_instances()
        async with self.runtime.db.session() as s:
            rows = list(await s.scalars(select(m.Instance).where(m.Instance.host == self.host)))
        live = {r.uuid: r for r in rows if not r.deleted}
        for uuid in running:
            if uuid not in live and not self._locks[uuid].locked():
                log.warning("stopping orphan guest %s: no server owns it", uuid)
                await self.driver.destroy(uuid)
        for row in live.values():
            if self._locks[row.uuid].locked():
                continue  # an operation is under way: it will set the state
            await self._sync_one(row, running.get(row.uuid), at_start)

    async def _sync_one(self, row: m.Instance, info: InstanceInfo | None, at_start: bool) -> None:
        power = info.power_state if info is not None else PowerState.NOSTATE
        if at_start and row.task_state == states.DELETING:
            self.runtime.spawn(self._delete_later(row.uuid), f"delete {row.uuid}")
        values = power_sync.changes(row, power, at_start)
        if values:
            async with self.runtime.db.session() as s:
                fresh = await s.scalar(select(m.Instance).where(m.Instance.uuid == row.uuid))
                if fresh is None or fresh.task_state != row.task_state:
                    return
                for key, value in values.items():
                    setattr(fresh, key, value)
                touch(fresh)

    async def _delete_later(self, uuid: str) -> None:
        await self.delete_instance({"uuid": uuid})


async def start_agent(runtime: Runtime, svc: ComputeService) -> ComputeAgent:
    settings = runtime.settings.compute
    directory = instances_dir(runtime)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    reason = why_not_real() if settings.driver == "auto" else None
    driver = load_driver(settings.driver, directory)
    agent = ComputeAgent(runtime, svc, driver, host_name(settings.host))
    agent.fallback_reason = reason
    if reason:
        log.warning("compute: the fake driver runs (no real virtual machines): %s", reason)
    await agent.start()
    log.info("compute agent on %s: driver %s", agent.host, driver.name)
    return agent
