"""Virt drivers: ``load_driver(name, instances_dir)`` picks one by its configured name."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from onestack.compute.drivers.base import ComputeDriver, DriverError

DRIVERS = ("auto", "qemu", "fake")
QEMU_TOOLS = ("qemu-system-x86_64", "qemu-img")


def why_not_real() -> str | None:
    """Why ``auto`` would choose the fake driver here (for the start-up banner), None if not."""
    if os.geteuid() != 0:
        return "not root"
    missing = [tool for tool in QEMU_TOOLS if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not found"
    return None


def load_driver(name: str, instances_dir: Path, **options: Any) -> ComputeDriver:
    """The driver called ``name``; ``auto`` is qemu when :func:`why_not_real` has no objection.

    ``options`` go to the driver's constructor (``fail_spawn`` for fake; ``accelerator``,
    ``stop_timeout`` ... for qemu)."""
    if name not in DRIVERS:
        raise DriverError(f"unknown compute driver {name!r} (available: {', '.join(DRIVERS)})")
    if name == "auto":
        name = "fake" if why_not_real() else "qemu"
    if name == "fake":
        from onestack.compute.drivers.fake import FakeDriver

        return FakeDriver(instances_dir, **options)
    from onestack.compute.drivers.qemu import QemuDriver

    return QemuDriver(instances_dir, **options)


__all__ = ["DRIVERS", "ComputeDriver", "DriverError", "load_driver", "why_not_real"]
