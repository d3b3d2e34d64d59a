"""Virt drivers: the seam (``base.py``), the fake one and QEMU. The compute agent picks one by
its configured name (``compute.dataplane``); ``why_not_real`` says why QEMU cannot run
here."""

from __future__ import annotations

import os
import shutil

from onestack.compute.drivers.base import ComputeDriver, DriverError

QEMU_TOOLS = ("qemu-system-x86_64", "qemu-img")


def why_not_real() -> str | None:
    """Why the QEMU driver cannot run here (for ``auto`` and the start-up banner), None if
    it can."""
    if os.geteuid() != 0:
        return "not root"
    missing = [tool for tool in QEMU_TOOLS if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not found"
    return None


__all__ = ["ComputeDriver", "DriverError", "why_not_real"]
