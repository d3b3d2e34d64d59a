"""The QEMU virt driver: one detached ``qemu-system-x86_64`` per instance, driven over QMP
(the machines themselves: ``machines.py``).

A soft reboot is a clean shutdown and a new start (as Nova's libvirt driver does; it becomes a
hard one when the guest ignores the button), a hard reboot starts a new QEMU at once; both pick
up the current spec. Suspend writes the guest's RAM and device state to ``memory.state`` with an
outgoing migration and ends QEMU; resume starts QEMU waiting for an incoming migration from that
file. Operations on one instance run one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
from dataclasses import replace
from pathlib import Path
from typing import Any

from onestack.common.logging import get_logger
from onestack.compute.drivers.base import (
    NIC,
    ComputeDriver,
    Consoles,
    CrashDump,
    Diagnostics,
    DriverError,
    GuestAgentPart,
    GuestAgentUnavailable,
    GuestBusy,
    GuestGone,
    GuestStats,
    HostInfo,
    InstanceInfo,
    InstanceSpec,
    InterfaceHotplug,
    PowerState,
    Rescue,
    Resizing,
    Snapshots,
    Statistics,
    Volume,
    VolumeHotplug,
)
from onestack.compute.drivers.qemu import disks, hotplug
from onestack.compute.drivers.qemu import record as records
from onestack.compute.drivers.qemu.cmdline import MAX_ROOT_PORTS, QEMU, SPARE_ROOT_PORTS, Layout
from onestack.compute.drivers.qemu.diagnostics import collect
from onestack.compute.drivers.qemu.guest_agent import GuestAgent
from onestack.compute.drivers.qemu.host import host_info
from onestack.compute.drivers.qemu.machines import Machines
from onestack.compute.drivers.qemu.monitor import Monitor, MonitorBusy
from onestack.compute.drivers.qemu.paths import InstancePaths
from onestack.compute.drivers.qemu.record import Record
from onestack.compute.drivers.qemu.stats import collect_stats

log = get_logger(__name__)

MIGRATION_TIMEOUT = 600.0


class QemuDriver(
    ComputeDriver,
    Consoles,
    Diagnostics,
    Snapshots,
    Resizing,
    Rescue,
    CrashDump,
    VolumeHotplug,
    InterfaceHotplug,
    GuestAgentPart,
    Statistics,
):
    """``accelerator``: auto (KVM when it really works here), kvm or tcg. ``stop_timeout``:
    how long resize, rebuild and soft reboot wait for the guest to shut down by itself."""

    name = "qemu"

    def __init__(
        self,
        instances_dir: Path,
        *,
        accelerator: str = "auto",
        qemu: str = QEMU,
        qemu_img: str = disks.QEMU_IMG,
        stop_timeout: float = 60.0,
        spare_root_ports: int = SPARE_ROOT_PORTS,
    ) -> None:
        if accelerator not in ("auto", "kvm", "tcg"):
            raise DriverError(f"unknown accelerator {accelerator!r} (auto, kvm, tcg)")
        self.instances_dir = Path(instances_dir)
        self.stop_timeout = stop_timeout
        self.machines = Machines(
            self.instances_dir,
            accelerator=accelerator,
            qemu=qemu,
            qemu_img=qemu_img,
            spare_root_ports=spare_root_ports,
        )

    # --- the host -------------------------------------------------------------------------------

    async def init_host(self) -> HostInfo:
        self.instances_dir.mkdir(parents=True, exist_ok=True)
        accelerator = await self.machines.accelerator()
        info = await host_info(self.machines.qemu, accelerator, self.instances_dir)
        for paths in self.machines.instance_dirs():
            if self.machines.pid(paths) is not None:
                try:
                    await self.machines.monitor(paths).execute("query-status")
                except DriverError as exc:
                    log.warning("instance %s runs but its monitor does not answer: %s",
                                paths.uuid, exc)  # fmt: skip
        return info

    async def list_instances(self) -> dict[str, InstanceInfo]:
        found = {}
        for paths in self.machines.instance_dirs():
            state = await self.machines.state(paths)
            found[paths.uuid] = InstanceInfo(paths.uuid, state, self.machines.pid(paths))
        return found

    async def close(self) -> None:
        await self.machines.close()

    # --- life cycle -----------------------------------------------------------------------------

    async def spawn(self, spec: InstanceSpec) -> None:
        paths = self.machines.paths(spec.uuid)
        async with self.machines.lock(spec.uuid):
            if self.machines.pid(paths) is not None:
                return
            paths.dir.mkdir(parents=True, exist_ok=True)
            try:
                await self.machines.make_disks(paths, spec)
                await self.machines.start_planned(paths, spec)
            except Exception:
                await self.machines.wipe(paths)
                raise

    async def destroy(self, uuid: str) -> None:
        paths = self.machines.paths(uuid)
        async with self.machines.lock(uuid):
            await self.machines.wipe(paths)
        self.machines.forget_lock(uuid)

    async def power_off(self, uuid: str, timeout: float = 60.0) -> None:
        paths = self.machines.known(uuid)
        async with self.machines.lock(uuid):
            paths.memory_state.unlink(missing_ok=True)
            await self.machines.stop(paths, timeout)

    async def power_on(self, spec: InstanceSpec) -> None:
        paths = self.machines.known(spec.uuid)
        async with self.machines.lock(spec.uuid):
            if self.machines.pid(paths) is not None:
                return
            root = spec.root_volume.path if spec.root_volume else paths.disk
            if not root.exists():
                raise DriverError(f"instance {spec.uuid} has no disk")
            paths.memory_state.unlink(missing_ok=True)
            if spec.config_drive is not None and not paths.config_drive.exists():
                await self.machines.write_config_drive(paths, spec)
            await self.machines.start_planned(paths, spec)

    async def reboot(self, spec: InstanceSpec, hard: bool) -> None:
        paths = self.machines.known(spec.uuid)
        async with self.machines.lock(spec.uuid):
            await self.machines.stop(paths, 0 if hard else self.stop_timeout)
            paths.memory_state.unlink(missing_ok=True)
            await self.machines.start_planned(paths, spec)

    async def pause(self, uuid: str) -> None:
        paths = self.machines.known(uuid)
        async with self.machines.lock(uuid):
            await self.machines.require(paths, "pause", PowerState.RUNNING, PowerState.PAUSED)
            await self.machines.monitor(paths).execute("stop")

    async def inject_nmi(self, uuid: str) -> None:
        paths = self.machines.known(uuid)
        async with self.machines.lock(uuid):
            await self.machines.require(
                paths, "send an NMI to", PowerState.RUNNING, PowerState.PAUSED
            )
            await self.machines.monitor(paths).execute("inject-nmi")

    async def unpause(self, uuid: str) -> None:
        paths = self.machines.known(uuid)
        async with self.machines.lock(uuid):
            await self.machines.require(paths, "unpause", PowerState.RUNNING, PowerState.PAUSED)
            await self.machines.monitor(paths).execute("cont")

    async def suspend(self, uuid: str) -> None:
        paths = self.machines.known(uuid)
        async with self.machines.lock(uuid):
            state = await self.machines.state(paths)
            if state == PowerState.SUSPENDED:
                return
            await self.machines.require(paths, "suspend", PowerState.RUNNING, PowerState.PAUSED)
            monitor = self.machines.monitor(paths)
            await monitor.execute("stop")
            partial = paths.memory_state.with_name(f"{paths.memory_state.name}.partial")
            try:
                await monitor.execute("migrate-set-parameters", {"max-bandwidth": 2**40})
                await monitor.execute("migrate", {"uri": f"exec:cat > {shlex.quote(str(partial))}"})
                await self._migration_done(monitor, "query-migrate")
                partial.replace(paths.memory_state)
            except DriverError:
                partial.unlink(missing_ok=True)
                if state == PowerState.RUNNING:
                    with contextlib.suppress(DriverError):
                        await monitor.execute("cont")
                raise
            await self.machines.stop(paths, 0)

    @staticmethod
    async def _migration_done(monitor: Monitor, query: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MIGRATION_TIMEOUT
        while loop.time() < deadline:
            status = await monitor.execute(query)
            if status.get("status") == "completed":
                return
            if status.get("status") in ("failed", "cancelled"):
                raise DriverError(f"saving the guest's memory failed: {status.get('error-desc')}")
            await asyncio.sleep(0.05)
        raise DriverError(f"saving the guest's memory took over {MIGRATION_TIMEOUT:.0f}s")

    async def resume(self, spec: InstanceSpec) -> None:
        paths = self.machines.known(spec.uuid)
        async with self.machines.lock(spec.uuid):
            if self.machines.pid(paths) is not None:
                await self.machines.require(paths, "resume", PowerState.RUNNING, PowerState.PAUSED)
                return
            if not paths.memory_state.exists():
                raise DriverError(f"instance {spec.uuid} is not suspended")
            # The saved state fits only the machine it was saved from: start that one.
            saved = self.machines.record(paths)
            await self.machines.start(paths, saved.spec, saved.layout, incoming=True)
            monitor = self.machines.monitor(paths)
            source = shlex.quote(str(paths.memory_state))
            await monitor.execute("migrate-incoming", {"uri": f"exec:cat {source}"})
            loop = asyncio.get_running_loop()
            deadline = loop.time() + MIGRATION_TIMEOUT
            while (await monitor.execute("query-status"))["status"] == "inmigrate":
                if loop.time() > deadline:
                    raise DriverError("loading the guest's memory timed out")
                await asyncio.sleep(0.05)
            await monitor.execute("cont")
            paths.memory_state.unlink()

    async def snapshot(self, uuid: str, target: Path) -> str:
        paths = self.machines.known(uuid)
        async with self.machines.lock(uuid):
            running = await self.machines.state(paths) == PowerState.RUNNING
            # With an agent, as Nova's libvirt driver: the file systems are frozen (flushed,
            # consistent) first; a paused guest then writes nothing while the disk is copied.
            frozen = running and await self._quiesce(paths, True)
            if running:
                await self.machines.monitor(paths).execute("stop")
            try:
                await disks.flatten(paths.disk, target, self.machines.qemu_img)
            finally:
                if running:
                    await self.machines.monitor(paths).execute("cont")
                if frozen:
                    await self._quiesce(paths, False)
        return "qcow2"

    async def _quiesce(self, paths: InstancePaths, freeze: bool) -> bool:
        """Freeze (or thaw) the guest's file systems when it has an agent; whether it did."""
        agent = GuestAgent(paths.guest_agent_socket)
        try:
            count = await (agent.freeze() if freeze else agent.thaw())
        except GuestAgentUnavailable:
            return False
        except DriverError as exc:  # an agent that does not answer: snapshot unquiesced
            log.warning("instance %s: %s", paths.uuid, exc)
            return False
        log.info("instance %s: %s %d file systems", paths.uuid,
                 "froze" if freeze else "thawed", count)  # fmt: skip
        return True

    async def set_admin_password(self, uuid: str, user: str, password: str) -> None:
        paths = self.machines.known(uuid)
        await GuestAgent(paths.guest_agent_socket).set_user_password(user, password)

    async def resize(self, old: InstanceSpec, new: InstanceSpec) -> None:
        paths = self.machines.known(old.uuid)
        async with self.machines.lock(old.uuid):
            await self.machines.stop(paths, self.stop_timeout)
            paths.memory_state.unlink(missing_ok=True)
            if new.root_volume is not None:  # a volume's size is the volume's own affair
                await self.machines.start_planned(paths, new)
                return
            if not paths.resize_backup.exists():
                partial = paths.resize_backup.with_name(f"{paths.resize_backup.name}.partial")
                await disks.copy(paths.disk, partial)
                partial.replace(paths.resize_backup)
            await disks.grow(paths.disk, new.root_gb, self.machines.qemu_img)
            await self.machines.start_planned(paths, new)

    async def rescue(self, spec: InstanceSpec) -> None:
        if spec.rescue is None:
            raise DriverError(f"instance {spec.uuid}: no rescue image given")
        paths = self.machines.known(spec.uuid)
        async with self.machines.lock(spec.uuid):
            await self.machines.stop(paths, self.stop_timeout)
            paths.memory_state.unlink(missing_ok=True)
            await self.machines.overlay(spec.rescue, paths.rescue_disk, 0)
            if spec.config_drive is not None:
                await self.machines.write_config_drive(paths, spec)
            await self.machines.start_planned(paths, spec)

    async def unrescue(self, spec: InstanceSpec) -> None:
        paths = self.machines.known(spec.uuid)
        normal = replace(spec, rescue=None)
        async with self.machines.lock(spec.uuid):
            await self.machines.stop(paths, 0)  # the rescue system's state is not kept (Nova's too)
            paths.rescue_disk.unlink(missing_ok=True)
            await self.machines.start_planned(paths, normal)

    async def confirm_resize(self, uuid: str) -> None:
        paths = self.machines.known(uuid)
        paths.resize_backup.unlink(missing_ok=True)

    async def revert_resize(self, spec: InstanceSpec) -> None:
        paths = self.machines.known(spec.uuid)
        async with self.machines.lock(spec.uuid):
            if spec.root_volume is not None:
                await self.machines.stop(paths, self.stop_timeout)
                await self.machines.start_planned(paths, spec)
                return
            if not paths.resize_backup.exists():
                raise DriverError(f"instance {spec.uuid} has no resize to revert")
            await self.machines.stop(paths, self.stop_timeout)
            paths.resize_backup.replace(paths.disk)
            await self.machines.start_planned(paths, spec)

    async def rebuild(self, spec: InstanceSpec) -> None:
        paths = self.machines.known(spec.uuid)
        async with self.machines.lock(spec.uuid):
            await self.machines.stop(paths, self.stop_timeout)
            paths.memory_state.unlink(missing_ok=True)
            await self.machines.make_disks(paths, spec)
            await self.machines.start_planned(paths, spec)

    # --- consoles -------------------------------------------------------------------------------

    async def console_output(self, uuid: str, length: int | None = None) -> str:
        paths = self.machines.known(uuid)
        text = await asyncio.to_thread(read_tail, paths.console_log)
        if length is None:
            return text
        lines = text.splitlines(keepends=True)
        return "".join(lines[-length:]) if length > 0 else ""

    async def _running_socket(self, uuid: str, socket: Path) -> Path:
        paths = self.machines.known(uuid)
        if self.machines.pid(paths) is None:
            raise DriverError(f"instance {uuid} is not running")
        return socket

    async def vnc_socket(self, uuid: str) -> Path:
        return await self._running_socket(uuid, self.machines.paths(uuid).vnc_socket)

    async def serial_socket(self, uuid: str) -> Path:
        return await self._running_socket(uuid, self.machines.paths(uuid).serial_socket)

    # --- devices --------------------------------------------------------------------------------

    async def _port_for(self, paths: InstancePaths, layout: Layout) -> tuple[Layout, int, bool]:
        """(layout, free port, whether the guest runs); a stopped guest gets more ports."""
        await self.machines.require(
            paths, "attach a device to", PowerState.RUNNING, PowerState.PAUSED, PowerState.SHUTDOWN
        )
        running = self.machines.pid(paths) is not None
        port = layout.free_port()
        if port is None:
            if running:
                raise DriverError(f"instance {paths.uuid} has no free slot for another device")
            if layout.root_ports >= MAX_ROOT_PORTS:
                raise DriverError(f"instance {paths.uuid} has {MAX_ROOT_PORTS} devices already")
            port = layout.root_ports
            layout = Layout(layout.root_ports + 1, layout.nics, layout.volumes)
        return layout, port, running

    async def attach_volume(self, uuid: str, volume: Volume) -> None:
        paths = self.machines.known(uuid)
        async with self.machines.lock(uuid):
            saved = self.machines.record(paths)
            if saved.layout.volume(volume.volume_id) is not None:
                return
            layout, port, running = await self._port_for(paths, saved.layout)
            if running:
                await hotplug.plug_volume(self.machines.monitor(paths), port, volume)
            records.save(paths.record, Record(saved.spec, layout.with_volume(port, volume)))

    async def detach_volume(self, uuid: str, volume_id: str) -> None:
        paths = self.machines.known(uuid)
        async with self.machines.lock(uuid):
            saved = self.machines.record(paths)
            if saved.layout.volume(volume_id) is None:
                return
            await self._detachable(paths)
            if self.machines.pid(paths) is not None:
                await hotplug.unplug_volume(self.machines.monitor(paths), volume_id)
            records.save(paths.record, Record(saved.spec, saved.layout.without_volume(volume_id)))

    async def extend_volume(self, uuid: str, volume_id: str, size_bytes: int) -> None:
        paths = self.machines.known(uuid)
        async with self.machines.lock(uuid):
            if self.machines.pid(paths) is None:
                raise DriverError(f"server {uuid} is not running: its volume grows offline")
            await hotplug.resize_volume(self.machines.monitor(paths), volume_id, size_bytes)

    async def attach_interface(self, uuid: str, nic: NIC) -> None:
        paths = self.machines.known(uuid)
        async with self.machines.lock(uuid):
            saved = self.machines.record(paths)
            if saved.layout.nic(nic.port_id) is not None:
                return
            layout, port, running = await self._port_for(paths, saved.layout)
            if running:
                await hotplug.plug_nic(self.machines.monitor(paths), port, nic)
            records.save(paths.record, Record(saved.spec, layout.with_nic(port, nic)))

    async def detach_interface(self, uuid: str, port_id: str) -> None:
        paths = self.machines.known(uuid)
        async with self.machines.lock(uuid):
            saved = self.machines.record(paths)
            if saved.layout.nic(port_id) is None:
                return
            await self._detachable(paths)
            if self.machines.pid(paths) is not None:
                await hotplug.unplug_nic(self.machines.monitor(paths), port_id)
            records.save(paths.record, Record(saved.spec, saved.layout.without_nic(port_id)))

    async def _detachable(self, paths: InstancePaths) -> None:
        # A paused guest cannot answer the unplug request; a suspended one must keep its
        # machine as saved.
        await self.machines.require(
            paths, "detach a device from", PowerState.RUNNING, PowerState.SHUTDOWN
        )

    async def guest_stats(self, uuid: str) -> GuestStats:
        try:
            paths = self.machines.known(uuid)
        except DriverError:
            raise GuestGone(f"instance {uuid} is not on this host") from None
        pid = self.machines.pid(paths)
        if pid is None:
            raise GuestGone(f"instance {uuid} is not running")
        try:
            state = await self.machines.state(paths, if_idle=True)
        except MonitorBusy as exc:
            raise GuestBusy(f"instance {uuid}: {exc}") from None
        if state == PowerState.NOSTATE:  # its process lives: not gone, only not readable now
            raise GuestBusy(f"instance {uuid}: its monitor does not answer")
        if state != PowerState.RUNNING:
            raise GuestGone(f"instance {uuid} is not running")
        return await collect_stats(self.machines.record(paths), pid, self.machines.monitor(paths))

    async def guests_to_poll(self) -> list[str]:
        # From the processes, not the monitors: listing power states over QMP would wait on a
        # connect an action started; ``guest_stats`` tells the paused and busy apart.
        return [p.uuid for p in self.machines.instance_dirs() if self.machines.pid(p) is not None]

    async def diagnostics(self, uuid: str) -> dict[str, Any]:
        paths = self.machines.known(uuid)
        state = await self.machines.state(paths)
        pid = self.machines.pid(paths)
        started = None
        with contextlib.suppress(OSError):
            started = paths.pidfile.stat().st_mtime
        hypervisor = "kvm" if await self.machines.accelerator() == "kvm" else "qemu"
        return await collect(
            self.machines.record(paths),
            state,
            pid,
            self.machines.monitor(paths),
            hypervisor,
            started,
        )


CONSOLE_TAIL_BYTES = 1024 * 1024


def read_tail(path: Path, limit: int = CONSOLE_TAIL_BYTES) -> str:
    """The last ``limit`` bytes of a log, from a line start; '' when there is no log yet."""
    try:
        with path.open("rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - limit))
            data = f.read()
    except FileNotFoundError:
        return ""
    if size > limit:
        data = data.split(b"\n", 1)[-1]
    return data.decode(errors="replace")
