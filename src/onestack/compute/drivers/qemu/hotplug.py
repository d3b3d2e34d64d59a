"""Plugging volumes and NICs into a running guest, and out again, over QMP.

Unplugging asks the guest: QEMU presses the root port's attention button, the guest's PCIe
hot-plug driver lets go of the device (Linux waits 5 s for a cancel first) and QEMU then sends
``DEVICE_DELETED``; only then may the disk's block node or the NIC's tap backend go.
"""

from __future__ import annotations

import contextlib

from onestack.compute.drivers.base import NIC, DriverError, Volume
from onestack.compute.drivers.qemu.cmdline import nic_ids, volume_ids
from onestack.compute.drivers.qemu.monitor import CommandFailed, Monitor

UNPLUG_TIMEOUT = 30.0


async def plug_volume(monitor: Monitor, port: int, volume: Volume) -> None:
    device, node = volume_ids(volume.volume_id)
    await monitor.execute(
        "blockdev-add",
        {
            "driver": volume.format,
            "node-name": node,
            "file": {"driver": "file", "filename": str(volume.path)},
        },
    )
    try:
        await monitor.execute(
            "device_add",
            {
                "driver": "virtio-blk-pci",
                "id": device,
                "drive": node,
                "bus": f"rp{port}",
                "serial": volume.serial[:20],
            },
        )
    except DriverError:
        with contextlib.suppress(DriverError):
            await monitor.execute("blockdev-del", {"node-name": node})
        raise


async def unplug_volume(monitor: Monitor, volume_id: str, timeout: float = UNPLUG_TIMEOUT) -> None:
    device, node = volume_ids(volume_id)
    await _unplug(monitor, device, timeout)
    await _forget(monitor, "blockdev-del", {"node-name": node})


async def plug_nic(monitor: Monitor, port: int, nic: NIC) -> None:
    device, netdev = nic_ids(nic.port_id)
    await monitor.execute(
        "netdev_add",
        {
            "type": "tap",
            "id": netdev,
            "ifname": nic.tap,
            "script": "no",
            "downscript": "no",
            "vhost": False,
        },
    )
    try:
        await monitor.execute(
            "device_add",
            {
                "driver": "virtio-net-pci",
                "id": device,
                "netdev": netdev,
                "mac": nic.mac_address,
                "bus": f"rp{port}",
                "host_mtu": nic.mtu,
            },
        )
    except DriverError:
        with contextlib.suppress(DriverError):
            await monitor.execute("netdev_del", {"id": netdev})
        raise


async def unplug_nic(monitor: Monitor, port_id: str, timeout: float = UNPLUG_TIMEOUT) -> None:
    device, netdev = nic_ids(port_id)
    await _unplug(monitor, device, timeout)
    await _forget(monitor, "netdev_del", {"id": netdev})


async def _unplug(monitor: Monitor, device: str, timeout: float) -> None:
    async with monitor.events("DEVICE_DELETED") as listener:
        try:
            await monitor.execute("device_del", {"id": device})
        except CommandFailed as exc:
            if exc.error_class == "DeviceNotFound":
                return  # not plugged (any more): what we wanted
            raise
        await monitor.wait_for_event(listener, lambda data: data.get("device") == device, timeout)


async def _forget(monitor: Monitor, command: str, arguments: dict[str, str]) -> None:
    """Remove a backend; one that is not there is fine."""
    try:
        await monitor.execute(command, arguments)
    except CommandFailed as exc:
        if "not found" not in str(exc).lower() and exc.error_class != "DeviceNotFound":
            raise
