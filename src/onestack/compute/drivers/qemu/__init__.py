"""The QEMU virt driver (see ``driver.py``); ``build_command`` gives the command line it runs,
for tools that want to start the same guest by hand (benchmarks)."""

from __future__ import annotations

from onestack.compute.drivers.qemu.accel import choose as choose_accelerator
from onestack.compute.drivers.qemu.accel import host_tsc_khz
from onestack.compute.drivers.qemu.cmdline import LaunchOptions, Layout, build_command, plan
from onestack.compute.drivers.qemu.driver import QemuDriver
from onestack.compute.drivers.qemu.paths import InstancePaths

__all__ = [
    "InstancePaths",
    "LaunchOptions",
    "Layout",
    "QemuDriver",
    "build_command",
    "choose_accelerator",
    "host_tsc_khz",
    "plan",
]
