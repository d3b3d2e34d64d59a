"""Choosing and loading the compute agent's virt driver (service side: drivers import nothing
of common): ``[compute] driver`` through the common loader, ``auto`` being qemu where
``why_not_real`` has no objection, else fake; a driver that cannot be had is
``DriverUnavailable``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from onestack.common.agent import LoadedDriver
from onestack.common.agent import load_driver as load_any
from onestack.compute.drivers import why_not_real
from onestack.compute.drivers.base import ComputeDriver

SEAM = "compute"


def _qemu(instances_dir: Path, options: dict[str, Any]) -> ComputeDriver:
    from onestack.compute.drivers.qemu import QemuDriver

    return QemuDriver(instances_dir, **options)


def _fake(instances_dir: Path, options: dict[str, Any]) -> ComputeDriver:
    from onestack.compute.drivers.fake import FakeDriver

    return FakeDriver(instances_dir, **options)


def choose_driver(name: str, instances_dir: Path, **options: Any) -> LoadedDriver[ComputeDriver]:
    """The driver called ``name`` and, for ``auto``, why it is not the real one. ``options``
    go to the driver's constructor (``fail_spawn`` for fake; ``accelerator``,
    ``stop_timeout`` ... for qemu)."""
    return load_any(
        SEAM,
        name,
        {
            "qemu": lambda: _qemu(instances_dir, options),
            "fake": lambda: _fake(instances_dir, options),
        },
        auto=("qemu", "fake"),
        why_not={"qemu": why_not_real},
    )


def load_driver(name: str, instances_dir: Path, **options: Any) -> ComputeDriver:
    """The driver called ``name`` (see ``choose_driver``)."""
    return choose_driver(name, instances_dir, **options).driver
