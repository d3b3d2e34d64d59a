"""Plugging volumes and NICs into a running guest, and out again, over QMP.

Unplugging asks the guest: QEMU presses the root port's attention button, the guest's PCIe
hot-plug driver lets go of the device (Linux waits 5 s for a cancel first) and QEMU then sends
``DEVICE_DELETED``; only then may the disk's block node or the NIC's tap backend go. A guest
that was not listening yet (still booting, its hot-plug driver not loaded) never lets go after
the first press, so the request is repeated until the deadline, as Nova's libvirt driver
repeats a detach (``device_detach_attempts``); QEMU takes a repeat once the previous press has
expired (5 s).
"""

from __future__ import annotations

import asyncio
import contextlib

from onestack.compute.drivers.base import NIC, DriverError, Volume
from onestack.compute.drivers.qemu.cmdline import nic_ids, volume_ids
from onestack.compute.drivers.qemu.monitor import CommandFailed, Monitor

UNPLUG_TIMEOUT = 60.0
UNPLUG_ATTEMPT = 20.0  # a press's time before it is repeated (Nova's device_detach_timeout)


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
    limits = throttle_limits(volume.qos)
    if limits:
        # The block backend is the virtio-blk-pci proxy's child device, not the proxy.
        target = f"/machine/peripheral/{device}/virtio-backend"
        try:
            await monitor.execute("block_set_io_throttle", {"id": target, **limits})
        except DriverError:
            with contextlib.suppress(DriverError):
                await unplug_volume(monitor, volume.volume_id)
            raise


# Cinder's front-end QoS keys and QEMU's block throttling arguments.
QOS_KEYS = {
    "total_iops_sec": "iops", "read_iops_sec": "iops_rd", "write_iops_sec": "iops_wr",
    "total_bytes_sec": "bps", "read_bytes_sec": "bps_rd", "write_bytes_sec": "bps_wr",
}  # fmt: skip


def throttle_limits(qos: tuple[tuple[str, str], ...]) -> dict[str, int]:
    """``block_set_io_throttle``'s six limits (0: none) from a volume's QoS specs; {} when the
    specs set none. A total limit wins over its read and write ones (QEMU takes one or the
    others)."""
    limits = {name: 0 for name in QOS_KEYS.values()}
    for key, value in qos:
        if key in QOS_KEYS and value.isdigit():
            limits[QOS_KEYS[key]] = int(value)
    if not any(limits.values()):
        return {}
    for total, parts in (("iops", ("iops_rd", "iops_wr")), ("bps", ("bps_rd", "bps_wr"))):
        if limits[total]:
            for part in parts:
                limits[part] = 0
    return limits


async def resize_volume(monitor: Monitor, volume_id: str, size_bytes: int) -> None:
    """``block_resize``: QEMU grows the file and the guest sees the new capacity."""
    _, node = volume_ids(volume_id)
    await monitor.execute("block_resize", {"node-name": node, "size": size_bytes})


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


async def _unplug(
    monitor: Monitor, device: str, timeout: float, attempt: float = UNPLUG_ATTEMPT
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with monitor.events("DEVICE_DELETED") as listener:
        repeat = False
        while True:
            try:
                await monitor.execute("device_del", {"id": device})
            except CommandFailed as exc:
                if exc.error_class == "DeviceNotFound":
                    return  # not plugged (any more): what we wanted
                if not repeat:
                    raise
                # A repeat QEMU refuses ("already in the process of unplug", "guest is busy"):
                # the previous press still stands; keep waiting for it.
            repeat = True
            left = deadline - asyncio.get_running_loop().time()
            try:
                await monitor.wait_for_event(
                    listener, lambda data: data.get("device") == device, min(attempt, left)
                )
                return
            except DriverError:
                if left <= attempt:
                    raise DriverError(
                        f"QEMU sent no DEVICE_DELETED within {timeout:.0f}s"
                    ) from None


async def _forget(monitor: Monitor, command: str, arguments: dict[str, str]) -> None:
    """Remove a backend; one that is not there is fine."""
    try:
        await monitor.execute(command, arguments)
    except CommandFailed as exc:
        if "not found" not in str(exc).lower() and exc.error_class != "DeviceNotFound":
            raise
