"""The QEMU machines of one host, one per instance: where their files are, their QMP monitors
and processes, their records, and starting and stopping one.

Stopping: ACPI power button (``system_powerdown``), then ``quit``, then SIGKILL. The driver's
operations build on these; each holds the instance's ``lock`` while it changes the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from dataclasses import replace
from pathlib import Path

from onestack.common.logging import get_logger
from onestack.compute.drivers.base import BootSource, DriverError, InstanceSpec, PowerState
from onestack.compute.drivers.qemu import accel, disks, process
from onestack.compute.drivers.qemu import record as records
from onestack.compute.drivers.qemu.cmdline import LaunchOptions, Layout, build_command, plan
from onestack.compute.drivers.qemu.monitor import Monitor, MonitorBusy
from onestack.compute.drivers.qemu.paths import BASE_DIR, SAFE_NAME, InstancePaths, base_image
from onestack.compute.drivers.qemu.record import Record

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
QUIT_TIMEOUT = 5.0
POWER_BUTTON_INTERVAL = 10.0


class Machines:
    """``accelerator``: auto (KVM when it really works here), kvm or tcg."""

    def __init__(
        self,
        instances_dir: Path,
        *,
        accelerator: str,
        qemu: str,
        qemu_img: str,
        spare_root_ports: int,
    ) -> None:
        self.instances_dir = Path(instances_dir)
        self.wanted_accelerator = accelerator
        self.qemu = qemu
        self.qemu_img = qemu_img
        self.spare_root_ports = spare_root_ports
        self._accel: str | None = None
        self._tsc_khz = accel.host_tsc_khz()
        self._monitors: dict[str, Monitor] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    # --- bookkeeping ----------------------------------------------------------------------------

    def paths(self, uuid: str) -> InstancePaths:
        return InstancePaths.of(self.instances_dir, uuid)

    def known(self, uuid: str) -> InstancePaths:
        """The instance's paths; ``DriverError`` when it has no files on this host."""
        paths = self.paths(uuid)
        if not paths.dir.is_dir():
            raise DriverError(f"instance {uuid} is not on this host")
        return paths

    def lock(self, uuid: str) -> asyncio.Lock:
        return self._locks.setdefault(uuid, asyncio.Lock())

    def forget_lock(self, uuid: str) -> None:
        self._locks.pop(uuid, None)

    def monitor(self, paths: InstancePaths) -> Monitor:
        monitor = self._monitors.get(paths.uuid)
        if monitor is None:
            monitor = self._monitors[paths.uuid] = Monitor(paths.qmp_socket, paths.uuid[:8])
        return monitor

    @staticmethod
    def pid(paths: InstancePaths) -> int | None:
        return process.live_pid(paths.pidfile, paths.uuid)

    @staticmethod
    def record(paths: InstancePaths) -> Record:
        record = records.load(paths.record)
        if record is None:
            raise DriverError(f"instance {paths.uuid} was never started on this host")
        return record

    async def accelerator(self) -> str:
        if self._accel is None:
            self._accel = await accel.choose(self.qemu, self.wanted_accelerator)
        return self._accel

    async def state(self, paths: InstancePaths, *, if_idle: bool = False) -> PowerState:
        """``if_idle``: ``MonitorBusy`` instead of waiting for another caller's connect."""
        if self.pid(paths) is None:
            return PowerState.SUSPENDED if paths.memory_state.exists() else PowerState.SHUTDOWN
        try:
            status = (await self.monitor(paths).execute("query-status", if_idle=if_idle))["status"]
        except MonitorBusy:
            raise
        except DriverError:
            return PowerState.NOSTATE
        return RUN_STATES.get(str(status), PowerState.NOSTATE)

    async def require(self, paths: InstancePaths, action: str, *allowed: PowerState) -> None:
        state = await self.state(paths)
        if state not in allowed:
            raise DriverError(
                f"cannot {action} instance {paths.uuid} in power state {state.name.lower()}"
            )

    def instance_dirs(self) -> list[InstancePaths]:
        try:
            entries = list(self.instances_dir.iterdir())
        except FileNotFoundError:
            return []
        return [
            InstancePaths(entry)
            for entry in sorted(entries)
            if entry.is_dir() and SAFE_NAME.match(entry.name) and not entry.name.startswith("_")
        ]

    async def close(self) -> None:
        monitors, self._monitors = list(self._monitors.values()), {}
        for monitor in monitors:
            await monitor.close()

    # --- starting and stopping ------------------------------------------------------------------

    async def start(
        self, paths: InstancePaths, spec: InstanceSpec, layout: Layout, incoming: bool = False
    ) -> None:
        accelerator = await self.accelerator()
        for stale in (paths.qmp_socket, paths.serial_socket, paths.vnc_socket, paths.pidfile):
            stale.unlink(missing_ok=True)
        options = LaunchOptions(
            layout=layout, tsc_khz=self._tsc_khz, incoming=incoming, qemu=self.qemu
        )
        spec = await self.cached_boot_files(spec)
        argv = build_command(spec, paths, accelerator, options)
        if spec.rescue is None:  # a rescue ended by any start: its disk is no longer used
            await asyncio.to_thread(paths.rescue_disk.unlink, True)
        records.save(paths.record, Record(spec, layout))
        await self.monitor(paths).close()
        await process.launch(argv, paths.dir, paths.qemu_log)

    async def start_planned(self, paths: InstancePaths, spec: InstanceSpec) -> None:
        """Start the guest with ``spec``, its devices where they were before (new ones added)."""
        await self.local_disks(paths, spec)
        await self.start(paths, spec, self.plan(spec, paths))

    def plan(self, spec: InstanceSpec, paths: InstancePaths) -> Layout:
        previous = records.load(paths.record)
        try:
            return plan(spec, previous.layout if previous else None, self.spare_root_ports)
        except ValueError as exc:
            raise DriverError(str(exc)) from exc

    async def stop(self, paths: InstancePaths, timeout: float) -> None:
        """ACPI power-down and up to ``timeout`` seconds for the guest to end, then quit."""
        pid = self.pid(paths)
        if pid is None:
            return
        monitor = self.monitor(paths)
        if timeout > 0 and await self.state(paths) == PowerState.RUNNING:
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

    async def wipe(self, paths: InstancePaths) -> None:
        """Kill the guest and delete every file of the instance."""
        pid = self.pid(paths)
        if pid is not None:
            await process.kill(pid, paths.uuid)
        monitor = self._monitors.pop(paths.uuid, None)
        if monitor is not None:
            await monitor.close()
        await asyncio.to_thread(shutil.rmtree, paths.dir, True)

    # --- disks ----------------------------------------------------------------------------------

    async def make_disks(self, paths: InstancePaths, spec: InstanceSpec) -> None:
        if spec.root_volume is None:  # a volume is its own root disk: nothing to make
            await self.overlay(spec.boot, paths.disk, spec.root_gb)
        # Made anew, as Nova's rebuild does without preserve_ephemeral.
        paths.ephemeral.unlink(missing_ok=True)
        paths.swap.unlink(missing_ok=True)
        await self.local_disks(paths, spec)
        await self.write_config_drive(paths, spec)

    @staticmethod
    async def local_disks(paths: InstancePaths, spec: InstanceSpec) -> None:
        """The flavor's ephemeral and swap disks, each made if it is missing (a resize to a
        flavor that has one, a guest from before)."""
        if spec.ephemeral_gb and not paths.ephemeral.exists():
            size = spec.ephemeral_gb * disks.GiB
            await disks.make_local_disk(paths.ephemeral, size, disks.EPHEMERAL_MKFS)
        if spec.swap_mb and not paths.swap.exists():
            await disks.make_local_disk(paths.swap, spec.swap_mb * 1024**2, disks.SWAP_MKFS)

    async def overlay(self, boot: BootSource, disk: Path, root_gb: int) -> None:
        """A fresh qcow2 ``disk`` on the cached (raw) base of ``boot``'s image."""
        base = await disks.cache_base(
            self.instances_dir / BASE_DIR,
            base_image(self.instances_dir, boot.image_id),
            boot,
            self.qemu_img,
        )
        await asyncio.to_thread(disk.unlink, True)
        await disks.create_overlay(base, disks.BASE_FORMAT, disk, root_gb, self.qemu_img)

    async def cached_boot_files(self, spec: InstanceSpec) -> InstanceSpec:
        """``spec`` with its kernel and ramdisk (and its rescue image's) read from the image
        cache, put there first if need be."""
        boot = await self._cached(spec.boot)
        rescue = await self._cached(spec.rescue) if spec.rescue is not None else None
        return replace(spec, boot=boot, rescue=rescue)

    async def _cached(self, boot: BootSource) -> BootSource:
        kernel = await self._cached_file(boot.kernel_path, boot.kernel_id)
        ramdisk = await self._cached_file(boot.ramdisk_path, boot.ramdisk_id)
        return replace(boot, kernel_path=kernel, ramdisk_path=ramdisk)

    async def _cached_file(self, source: Path | None, image_id: str) -> Path | None:
        if source is None or not image_id:
            return source
        target = base_image(self.instances_dir, image_id)
        return await disks.cache_file(self.instances_dir / BASE_DIR, target, source, image_id)

    @staticmethod
    async def write_config_drive(paths: InstancePaths, spec: InstanceSpec) -> None:
        if spec.config_drive is None:
            paths.config_drive.unlink(missing_ok=True)
        else:
            await disks.write_config_drive(spec.config_drive, paths.config_drive)
