"""What the QEMU driver reports of its host: the hypervisor's version, CPUs, memory and disk."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path

from onestack.compute.drivers.base import DriverError, HostInfo
from onestack.compute.drivers.qemu import disks
from onestack.compute.drivers.qemu.tools import run


async def host_info(qemu: str, accelerator: str, instances_dir: Path) -> HostInfo:
    cpus = os.cpu_count() or 1
    return HostInfo(
        hypervisor_type="QEMU",
        hypervisor_version=await qemu_version(qemu),
        vcpus=cpus,
        memory_mb=host_memory_mb(),
        local_gb=shutil.disk_usage(instances_dir).total // disks.GiB,
        accelerator=accelerator,
        cpu_info={
            "arch": "x86_64",
            "model": "host" if accelerator == "kvm" else "qemu64",
            "vendor": host_cpu_vendor(),
            "topology": {"cells": 1, "sockets": 1, "cores": cpus, "threads": 1},
            "features": [],
        },
    )


async def qemu_version(qemu: str) -> int:
    """Nova's encoding of the version: 8002001 for 8.2.1."""
    out = await run([qemu, "--version"], timeout=30)
    match = re.search(r"version (\d+)\.(\d+)\.(\d+)", out)
    if not match:
        raise DriverError(f"cannot tell the version of {qemu}")
    major, minor, micro = (int(part) for part in match.groups())
    return major * 1_000_000 + minor * 1_000 + micro


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
