"""The QEMU virt driver: one detached ``qemu-system-x86_64`` per instance, driven over QMP.

Stopping: ACPI power button (``system_powerdown``), then ``quit``, then SIGKILL. A soft reboot
is a clean shutdown and a new start (as Nova's libvirt driver does; it becomes a hard one when
the guest ignores the button), a hard reboot starts a new QEMU at once; both pick up the
current spec. Suspend writes the guest's RAM and device state to ``memory.state`` with an
outgoing migration and ends QEMU; resume starts QEMU waiting for an incoming migration from that
file. Operations on one instance run one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from onestack.common.logging import get_logger
from onestack.compute.drivers.base import (
    NIC,
    BootSource,
    ComputeDriver,
    DriverError,
    GuestAgentUnavailable,
    HostInfo,
    InstanceInfo,
    InstanceSpec,
    PowerState,
    Volume,
)
from onestack.compute.drivers.qemu import accel, disks, hotplug, process
from onestack.compute.drivers.qemu import record as records
from onestack.compute.drivers.qemu.cmdline import (
    MAX_ROOT_PORTS,
    QEMU,
    SPARE_ROOT_PORTS,
    LaunchOptions,
    Layout,
    build_command,
    plan,
)
from onestack.compute.drivers.qemu.diagnostics import collect
from onestack.compute.drivers.qemu.guest_agent import GuestAgent
from onestack.compute.drivers.qemu.monitor import Monitor
from onestack.compute.drivers.qemu.paths import BASE_DIR, SAFE_NAME, InstancePaths, base_image
from onestack.compute.drivers.qemu.record import Record
from onestack.compute.drivers.qemu.tools import run

log = get_logger(__name__)

# QEMU's run states (query-status) as Nova's power states.
RUN_STATES = {
    "running": PowerState.RUNNING,
    "paused": PowerState.PAUSED,
    "postmigrate": PowerState.PAUSED,
    "finish-migrate": PowerState.PAUSED,
    "save-vm": PowerState.PAUSED,
    "restore-vm": PowerState.PAUSED,
    "io-error": PowerState.PAUSED,
    "watchdog": PowerState.PAUSED,
    "debug": PowerState.PAUSED,
    "suspended": PowerState.SUSPENDED,  # the guest's own S3 sleep
    "shutdown": PowerState.SHUTDOWN,
    "guest-panicked": PowerState.CRASHED,
    "internal-error": PowerState.CRASHED,
}
MIGRATION_TIMEOUT = 600.0
QUIT_TIMEOUT = 5.0
POWER_BUTTON_INTERVAL = 10.0


class QemuDriver(ComputeDriver):
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
        self.accelerator = accelerator
        self.qemu = qemu
        self.qemu_img = qemu_img
        self.stop_timeout = stop_timeout
        self.spare_root_ports = spare_root_ports
        self._accel: str | None = None
        self._tsc_khz = accel.host_tsc_khz()
        self._monitors: dict[str, Monitor] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    # --- bookkeeping ----------------------------------------------------------------------------

    def _paths(self, uuid: str) -> InstancePaths:
        return InstancePaths.of(self.instances_dir, uuid)

    def _known(self, uuid: str) -> InstancePaths:
        paths = self._paths(uuid)
        if not paths.dir.is_dir():
            raise DriverError(f"instance {uuid} is not on this host")
        return paths

    def _lock(self, uuid: str) -> asyncio.Lock:
        return self._locks.setdefault(uuid, asyncio.Lock())

    def _monitor(self, paths: InstancePaths) -> Monitor:
        monitor = self._monitors.get(paths.uuid)
        if monitor is None:
            monitor = self._monitors[paths.uuid] = Monitor(paths.qmp_socket, paths.uuid[:8])
        return monitor

    @staticmethod
    def _pid(paths: InstancePaths) -> int | None:
        return process.live_pid(paths.pidfile, paths.uuid)

    @staticmethod
    def _record(paths: InstancePaths) -> Record:
        record = records.load(paths.record)
        if record is None:
            raise DriverError(f"instance {paths.uuid} was never started on this host")
        return record

    async def _accelerator(self) -> str:
        if self._accel is None:
            self._accel = await accel.choose(self.qemu, self.accelerator)
        return self._accel

    async def _state(self, paths: InstancePaths) -> PowerState:
        if self._pid(paths) is None:
            return PowerState.SUSPENDED if paths.memory_state.exists() else PowerState.SHUTDOWN
        try:
            status = (await self._monitor(paths).execute("query-status"))["status"]
        except DriverError:
            return PowerState.NOSTATE
        return RUN_STATES.get(str(status), PowerState.NOSTATE)

    async def _require(self, paths: InstancePaths, action: str, *allowed: PowerState) -> None:
        state = await self._state(paths)
        if state not in allowed:
            raise DriverError(
                f"cannot {action} instance {paths.uuid} in power state {state.name.lower()}"
            )

    # --- starting and stopping ------------------------------------------------------------------

    async def _start(
        self, paths: InstancePaths, spec: InstanceSpec, layout: Layout, incoming: bool = False
    ) -> None:
        accelerator = await self._accelerator()
        for stale in (paths.qmp_socket, paths.serial_socket, paths.vnc_socket, paths.pidfile):
            stale.unlink(missing_ok=True)
        options = LaunchOptions(
            layout=layout, tsc_khz=self._tsc_khz, incoming=incoming, qemu=self.qemu
        )
        argv = build_command(spec, paths, accelerator, options)
        if spec.rescue is None:  # a rescue ended by any start: its disk is no longer used
            await asyncio.to_thread(paths.rescue_disk.unlink, True)
        records.save(paths.record, Record(spec, layout))
        await self._monitor(paths).close()
        await process.launch(argv, paths.dir, paths.qemu_log)

    def _plan(self, spec: InstanceSpec, paths: InstancePaths) -> Layout:
        previous = records.load(paths.record)
        try:
            return plan(spec, previous.layout if previous else None, self.spare_root_ports)
        except ValueError as exc:
            raise DriverError(str(exc)) from exc

    async def _stop(self, paths: InstancePaths, timeout: float) -> None:
        """ACPI power-down and up to ``timeout`` seconds for the guest to end, then quit."""
        pid = self._pid(paths)
        if pid is None:
            return
        monitor = self._monitor(paths)
        if timeout > 0 and await self._state(paths) == PowerState.RUNNING:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            # Pressed again now and then, as Nova does: a guest still booting misses a press.
            while (left := deadline - loop.time()) > 0:
                with contextlib.suppress(DriverError):
                    await monitor.execute("system_powerdown")
                # Not connected while QEMU goes away: the library would report a lost connection.
                await monitor.close()
                if await process.wait_gone(pid, paths.uuid, min(left, POWER_BUTTON_INTERVAL)):
                    return
            log.info("instance %s ignored the power button for %ss", paths.uuid, timeout)
        with contextlib.suppress(DriverError):
            await monitor.execute("quit", timeout=QUIT_TIMEOUT)
        await monitor.close()
        if not await process.wait_gone(pid, paths.uuid, QUIT_TIMEOUT):
            await process.kill(pid, paths.uuid)

    async def _make_disks(self, paths: InstancePaths, spec: InstanceSpec) -> None:
        await self._overlay(spec.boot, paths.disk, spec.root_gb)
        await self._write_config_drive(paths, spec)

    async def _overlay(self, boot: BootSource, disk: Path, root_gb: int) -> None:
        """A fresh qcow2 ``disk`` on the cached base of ``boot``'s image."""
        base = await disks.cache_base(
            self.instances_dir / BASE_DIR,
            base_image(self.instances_dir, boot.image_id),
            boot,
            self.qemu_img,
        )
        await asyncio.to_thread(disk.unlink, True)
        await disks.create_overlay(base, boot.image_format, disk, root_gb, self.qemu_img)

    @staticmethod
    async def _write_config_drive(paths: InstancePaths, spec: InstanceSpec) -> None:
        if spec.config_drive is None:
            paths.config_drive.unlink(missing_ok=True)
        else:
            await disks.write_config_drive(spec.config_drive, paths.config_drive)

    async def _wipe(self, paths: InstancePaths) -> None:
        pid = self._pid(paths)
        if pid is not None:
            await process.kill(pid, paths.uuid)
        monitor = self._monitors.pop(paths.uuid, None)
        if monitor is not None:
            await monitor.close()
        await asyncio.to_thread(shutil.rmtree, paths.dir, True)

    # --- the host -------------------------------------------------------------------------------

    def _instance_dirs(self) -> list[InstancePaths]:
        try:
            entries = list(self.instances_dir.iterdir())
        except FileNotFoundError:
            return []
        return [
            InstancePaths(entry)
            for entry in sorted(entries)
            if entry.is_dir() and SAFE_NAME.match(entry.name) and not entry.name.startswith("_")
        ]

    async def init_host(self) -> HostInfo:
        self.instances_dir.mkdir(parents=True, exist_ok=True)
        accelerator = await self._accelerator()
        version = await self._qemu_version()
        for paths in self._instance_dirs():
            if self._pid(paths) is not None:
                try:
                    await self._monitor(paths).execute("query-status")
                except DriverError as exc:
                    log.warning("instance %s runs but its monitor does not answer: %s",
                                paths.uuid, exc)  # fmt: skip
        cpus = os.cpu_count() or 1
        return HostInfo(
            hypervisor_type="QEMU",
            hypervisor_version=version,
            vcpus=cpus,
            memory_mb=host_memory_mb(),
            local_gb=shutil.disk_usage(self.instances_dir).total // disks.GiB,
            accelerator=accelerator,
            cpu_info={
                "arch": "x86_64",
                "model": "host" if accelerator == "kvm" else "qemu64",
                "vendor": host_cpu_vendor(),
                "topology": {"cells": 1, "sockets": 1, "cores": cpus, "threads": 1},
                "features": [],
            },
        )

    async def _qemu_version(self) -> int:
        out = await run([self.qemu, "--version"], timeout=30)
        match = re.search(r"version (\d+)\.(\d+)\.(\d+)", out)
        if not match:
            raise DriverError(f"cannot tell the version of {self.qemu}")
        major, minor, micro = (int(part) for part in match.groups())
        return major * 1_000_000 + minor * 1_000 + micro

    async def list_instances(self) -> dict[str, InstanceInfo]:
        found = {}
        for paths in self._instance_dirs():
            state = await self._state(paths)
            found[paths.uuid] = InstanceInfo(paths.uuid, state, self._pid(paths))
        return found

    async def close(self) -> None:
        monitors, self._monitors = list(self._monitors.values()), {}
        for monitor in monitors:
            await monitor.close()

    # --- life cycle -----------------------------------------------------------------------------

    async def spawn(self, spec: InstanceSpec) -> None:
        paths = self._paths(spec.uuid)
        async with self._lock(spec.uuid):
            if self._pid(paths) is not None:
                return
            paths.dir.mkdir(parents=True, exist_ok=True)
            try:
                await self._make_disks(paths, spec)
                await self._start(paths, spec, self._plan(spec, paths))
            except Exception:
                await self._wipe(paths)
                raise

    async def destroy(self, uuid: str) -> None:
        paths = self._paths(uuid)
        async with self._lock(uuid):
            await self._wipe(paths)
        self._locks.pop(uuid, None)

    async def power_off(self, uuid: str, timeout: float = 60.0) -> None:
        paths = self._known(uuid)
        async with self._lock(uuid):
            paths.memory_state.unlink(missing_ok=True)
            await self._stop(paths, timeout)

    async def power_on(self, spec: InstanceSpec) -> None:
        paths = self._known(spec.uuid)
        async with self._lock(spec.uuid):
            if self._pid(paths) is not None:
                return
            if not paths.disk.exists():
                raise DriverError(f"instance {spec.uuid} has no disk")
            paths.memory_state.unlink(missing_ok=True)
            if spec.config_drive is not None and not paths.config_drive.exists():
                await self._write_config_drive(paths, spec)
            await self._start(paths, spec, self._plan(spec, paths))

    async def reboot(self, spec: InstanceSpec, hard: bool) -> None:
        paths = self._known(spec.uuid)
        async with self._lock(spec.uuid):
            await self._stop(paths, 0 if hard else self.stop_timeout)
            paths.memory_state.unlink(missing_ok=True)
            await self._start(paths, spec, self._plan(spec, paths))

    async def pause(self, uuid: str) -> None:
        paths = self._known(uuid)
        async with self._lock(uuid):
            await self._require(paths, "pause", PowerState.RUNNING, PowerState.PAUSED)
            await self._monitor(paths).execute("stop")

    async def inject_nmi(self, uuid: str) -> None:
        paths = self._known(uuid)
        async with self._lock(uuid):
            await self._require(paths, "send an NMI to", PowerState.RUNNING, PowerState.PAUSED)
            await self._monitor(paths).execute("inject-nmi")

    async def unpause(self, uuid: str) -> None:
        paths = self._known(uuid)
        async with self._lock(uuid):
            await self._require(paths, "unpause", PowerState.RUNNING, PowerState.PAUSED)
            await self._monitor(paths).execute("cont")

    async def suspend(self, uuid: str) -> None:
        paths = self._known(uuid)
        async with self._lock(uuid):
            state = await self._state(paths)
            if state == PowerState.SUSPENDED:
                return
            await self._require(paths, "suspend", PowerState.RUNNING, PowerState.PAUSED)
            monitor = self._monitor(paths)
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
            await self._stop(paths, 0)

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
        paths = self._known(spec.uuid)
        async with self._lock(spec.uuid):
            if self._pid(paths) is not None:
                await self._require(paths, "resume", PowerState.RUNNING, PowerState.PAUSED)
                return
            if not paths.memory_state.exists():
                raise DriverError(f"instance {spec.uuid} is not suspended")
            # The saved state fits only the machine it was saved from: start that one.
            saved = self._record(paths)
            await self._start(paths, saved.spec, saved.layout, incoming=True)
            monitor = self._monitor(paths)
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
        paths = self._known(uuid)
        async with self._lock(uuid):
            running = await self._state(paths) == PowerState.RUNNING
            # With an agent, as Nova's libvirt driver: the file systems are frozen (flushed,
            # consistent) first; a paused guest then writes nothing while the disk is copied.
            frozen = running and await self._quiesce(paths, True)
            if running:
                await self._monitor(paths).execute("stop")
            try:
                await disks.flatten(paths.disk, target, self.qemu_img)
            finally:
                if running:
                    await self._monitor(paths).execute("cont")
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
        paths = self._known(uuid)
        await GuestAgent(paths.guest_agent_socket).set_user_password(user, password)

    async def resize(self, old: InstanceSpec, new: InstanceSpec) -> None:
        paths = self._known(old.uuid)
        async with self._lock(old.uuid):
            await self._stop(paths, self.stop_timeout)
            paths.memory_state.unlink(missing_ok=True)
            if not paths.resize_backup.exists():
                partial = paths.resize_backup.with_name(f"{paths.resize_backup.name}.partial")
                await disks.copy(paths.disk, partial)
                partial.replace(paths.resize_backup)
            await disks.grow(paths.disk, new.root_gb, self.qemu_img)
            await self._start(paths, new, self._plan(new, paths))

    async def rescue(self, spec: InstanceSpec) -> None:
        if spec.rescue is None:
            raise DriverError(f"instance {spec.uuid}: no rescue image given")
        paths = self._known(spec.uuid)
        async with self._lock(spec.uuid):
            await self._stop(paths, self.stop_timeout)
            paths.memory_state.unlink(missing_ok=True)
            await self._overlay(spec.rescue, paths.rescue_disk, 0)
            if spec.config_drive is not None:
                await self._write_config_drive(paths, spec)
            await self._start(paths, spec, self._plan(spec, paths))

    async def unrescue(self, spec: InstanceSpec) -> None:
        paths = self._known(spec.uuid)
        normal = replace(spec, rescue=None)
        async with self._lock(spec.uuid):
            await self._stop(paths, 0)  # the rescue system's state is not kept (Nova's too)
            paths.rescue_disk.unlink(missing_ok=True)
            await self._start(paths, normal, self._plan(normal, paths))

    async def confirm_resize(self, uuid: str) -> None:
        paths = self._known(uuid)
        paths.resize_backup.unlink(missing_ok=True)

    async def revert_resize(self, spec: InstanceSpec) -> None:
        paths = self._known(spec.uuid)
        async with self._lock(spec.uuid):
            if not paths.resize_backup.exists():
                raise DriverError(f"instance {spec.uuid} has no resize to revert")
            await self._stop(paths, self.stop_timeout)
            paths.resize_backup.replace(paths.disk)
            await self._start(paths, spec, self._plan(spec, paths))

    async def rebuild(self, spec: InstanceSpec) -> None:
        paths = self._known(spec.uuid)
        async with self._lock(spec.uuid):
            await self._stop(paths, self.stop_timeout)
            paths.memory_state.unlink(missing_ok=True)
            await self._make_disks(paths, spec)
            await self._start(paths, spec, self._plan(spec, paths))

    # --- consoles -------------------------------------------------------------------------------

    async def console_output(self, uuid: str, length: int | None = None) -> str:
        paths = self._known(uuid)
        text = await asyncio.to_thread(read_tail, paths.console_log)
        if length is None:
            return text
        lines = text.splitlines(keepends=True)
        return "".join(lines[-length:]) if length > 0 else ""

    async def _running_socket(self, uuid: str, socket: Path) -> Path:
        paths = self._known(uuid)
        if self._pid(paths) is None:
            raise DriverError(f"instance {uuid} is not running")
        return socket

    async def vnc_socket(self, uuid: str) -> Path:
        return await self._running_socket(uuid, self._paths(uuid).vnc_socket)

    async def serial_socket(self, uuid: str) -> Path:
        return await self._running_socket(uuid, self._paths(uuid).serial_socket)

    # --- devices --------------------------------------------------------------------------------

    async def _port_for(self, paths: InstancePaths, layout: Layout) -> tuple[Layout, int, bool]:
        """(layout, free port, whether the guest runs); a stopped guest gets more ports."""
        await self._require(
            paths, "attach a device to", PowerState.RUNNING, PowerState.PAUSED, PowerState.SHUTDOWN
        )
        running = self._pid(paths) is not None
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
        paths = self._known(uuid)
        async with self._lock(uuid):
            saved = self._record(paths)
            if saved.layout.volume(volume.volume_id) is not None:
                return
            layout, port, running = await self._port_for(paths, saved.layout)
            if running:
                await hotplug.plug_volume(self._monitor(paths), port, volume)
            records.save(paths.record, Record(saved.spec, layout.with_volume(port, volume)))

    async def detach_volume(self, uuid: str, volume_id: str) -> None:
        paths = self._known(uuid)
        async with self._lock(uuid):
            saved = self._record(paths)
            if saved.layout.volume(volume_id) is None:
                return
            await self._detachable(paths)
            if self._pid(paths) is not None:
                await hotplug.unplug_volume(self._monitor(paths), volume_id)
            records.save(paths.record, Record(saved.spec, saved.layout.without_volume(volume_id)))

    async def attach_interface(self, uuid: str, nic: NIC) -> None:
        paths = self._known(uuid)
        async with self._lock(uuid):
            saved = self._record(paths)
            if saved.layout.nic(nic.port_id) is not None:
                return
            layout, port, running = await self._port_for(paths, saved.layout)
            if running:
                await hotplug.plug_nic(self._monitor(paths), port, nic)
            records.save(paths.record, Record(saved.spec, layout.with_nic(port, nic)))

    async def detach_interface(self, uuid: str, port_id: str) -> None:
        paths = self._known(uuid)
        async with self._lock(uuid):
            saved = self._record(paths)
            if saved.layout.nic(port_id) is None:
                return
            await self._detachable(paths)
            if self._pid(paths) is not None:
                await hotplug.unplug_nic(self._monitor(paths), port_id)
            records.save(paths.record, Record(saved.spec, saved.layout.without_nic(port_id)))

    async def _detachable(self, paths: InstancePaths) -> None:
        # A paused guest cannot answer the unplug request; a suspended one must keep its
        # machine as saved.
        await self._require(paths, "detach a device from", PowerState.RUNNING, PowerState.SHUTDOWN)

    async def diagnostics(self, uuid: str) -> dict[str, Any]:
        paths = self._known(uuid)
        state = await self._state(paths)
        pid = self._pid(paths)
        started = None
        with contextlib.suppress(OSError):
            started = paths.pidfile.stat().st_mtime
        hypervisor = "kvm" if await self._accelerator() == "kvm" else "qemu"
        return await collect(
            self._record(paths), state, pid, self._monitor(paths), hypervisor, started
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


def host_memory_mb() -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    return 0


def host_cpu_vendor() -> str:
    with contextlib.suppress(OSError):
        text = Path("/proc/cpuinfo").read_text()
        if "GenuineIntel" in text:
            return "Intel"
        if "AuthenticAMD" in text:
            return "AMD"
    return "unknown"
