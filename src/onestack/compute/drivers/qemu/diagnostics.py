"""Nova's server diagnostics for a QEMU guest: QMP's block stats and vCPU threads, the host's
view of the process and of the NICs' taps."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from onestack.compute.drivers.base import DriverError, PowerState
from onestack.compute.drivers.diagnostics import STATE_NAMES, disk_details, nic_details
from onestack.compute.drivers.qemu.monitor import Monitor
from onestack.compute.drivers.qemu.record import Record

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def thread_cpu_ns(pid: int, thread: int) -> int | None:
    """CPU time (user + system) of one thread of ``pid``, in nanoseconds."""
    try:
        stat = Path(f"/proc/{pid}/task/{thread}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1_000_000_000 // CLOCK_TICKS


def rss_mb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError):
        pass
    return None


def tap_counters(tap: str) -> tuple[dict[str, int], dict[str, int]]:
    """(rx, tx) as the guest sees them: what the tap sends is what the guest receives."""
    base = Path("/sys/class/net") / tap / "statistics"

    def read(name: str) -> int:
        try:
            return int((base / name).read_text())
        except (OSError, ValueError):
            return 0

    names = {"octets": "bytes", "packets": "packets", "errors": "errors", "drop": "dropped"}
    guest_rx = {ours: read(f"tx_{theirs}") for ours, theirs in names.items()}
    guest_tx = {ours: read(f"rx_{theirs}") for ours, theirs in names.items()}
    return guest_rx, guest_tx


async def collect(
    record: Record,
    state: PowerState,
    pid: int | None,
    monitor: Monitor,
    hypervisor: str,
    started: float | None,
) -> dict[str, Any]:
    spec, layout = record.spec, record.layout
    cpus: list[dict[str, Any]] = []
    disks: list[dict[str, Any]] = []
    if pid is not None:
        try:
            for cpu in await monitor.execute("query-cpus-fast"):
                cpus.append(
                    {
                        "id": cpu.get("cpu-index"),
                        "time": thread_cpu_ns(pid, int(cpu.get("thread-id", 0))),
                        "utilisation": None,
                    }
                )
            for device in await monitor.execute("query-blockstats"):
                stats = device.get("stats", {})
                disks.append(
                    disk_details(
                        stats.get("rd_bytes", 0),
                        stats.get("rd_operations", 0),
                        stats.get("wr_bytes", 0),
                        stats.get("wr_operations", 0),
                        stats.get("failed_rd_operations", 0) + stats.get("failed_wr_operations", 0),
                    )
                )
        except DriverError:
            pass  # the guest went away meanwhile: report what is known
    num_disks = len(disks) if disks else 1 + len(layout.volumes) + (spec.config_drive is not None)
    nics = [nic_details(nic.mac_address, *tap_counters(nic.tap)) for _, nic in layout.nics]
    return {
        "state": STATE_NAMES[state],
        # Nova's schema only knows its own drivers' names; this one does what libvirt does.
        "driver": "libvirt",
        "hypervisor": hypervisor,
        "hypervisor_os": "linux",
        "uptime": int(time.time() - started) if pid is not None and started else 0,
        "config_drive": spec.config_drive is not None,
        "num_cpus": spec.vcpus,
        "num_nics": len(layout.nics),
        "num_disks": num_disks,
        "memory_details": {
            "maximum": spec.memory_mb,
            "used": min(spec.memory_mb, rss_mb(pid) or 0) if pid is not None else 0,
        },
        "cpu_details": cpus,
        "nic_details": nics,
        "disk_details": disks,
    }
