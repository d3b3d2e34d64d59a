"""Metering's counters of a QEMU guest: the vCPU threads' CPU time, the process's resident
memory, QMP ``query-blockstats`` per disk, and the tap counters per NIC."""

from __future__ import annotations

from onestack.compute.drivers.base import (
    DiskStats,
    DriverError,
    GuestBusy,
    GuestGone,
    GuestStats,
    NicStats,
)
from onestack.compute.drivers.qemu.cmdline import volume_ids
from onestack.compute.drivers.qemu.diagnostics import rss_mb, tap_counters, thread_cpu_ns
from onestack.compute.drivers.qemu.monitor import Monitor, MonitorBusy
from onestack.compute.drivers.qemu.record import Record


async def collect_stats(record: Record, pid: int, monitor: Monitor) -> GuestStats:
    spec, layout = record.spec, record.layout
    names = {"root-disk": "vda"}
    names.update({volume_ids(v.volume_id)[0]: v.volume_id for _, v in layout.volumes})
    try:
        # A poll never waits on a connect an action started, nor makes one wait on its own.
        cpus = await monitor.execute("query-cpus-fast", if_idle=True)
        blocks = await monitor.execute("query-blockstats", if_idle=True)
    except MonitorBusy as exc:
        raise GuestBusy(f"instance {spec.uuid}: {exc}") from None
    except DriverError as exc:
        raise GuestGone(f"instance {spec.uuid} went away: {exc}") from None
    cpu_ns = 0
    for cpu in cpus:
        used = thread_cpu_ns(pid, int(cpu.get("thread-id", 0)))
        if used is None:  # the process is gone
            raise GuestGone(f"instance {spec.uuid} went away")
        cpu_ns += used
    disks = []
    for device in blocks:
        qdev = str(device.get("qdev") or device.get("device") or "")
        ident = next((part for part in qdev.split("/") if part in names), None)
        if ident is None:
            continue  # the config drive, a rescue disk
        stats = device.get("stats", {})
        disks.append(DiskStats(
            names[ident],
            int(stats.get("rd_bytes", 0)),
            int(stats.get("wr_bytes", 0)),
            int(stats.get("rd_operations", 0)),
            int(stats.get("wr_operations", 0)),
            spec.root_gb * 1024**3 if ident == "root-disk" else 0,
        ))  # fmt: skip
    nics = []
    for _, nic in layout.nics:
        rx, tx = tap_counters(nic.tap)
        nics.append(NicStats(nic.port_id, nic.mac_address, nic.tap, rx["octets"], tx["octets"],
                             rx["packets"], tx["packets"]))  # fmt: skip
    used_mb = rss_mb(pid)
    return GuestStats(
        uuid=spec.uuid,
        cpu_time_ns=cpu_ns,
        vcpus=spec.vcpus,
        memory_mb=spec.memory_mb,
        memory_used_mb=None if used_mb is None else min(spec.memory_mb, used_mb),
        disks=tuple(disks),
        nics=tuple(nics),
    )
