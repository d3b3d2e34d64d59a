"""The attach-detach figures of ``bench/volume.py --part qemu``: a real hot-plug into a running
guest, beside the same QMP commands sent by hand to a bare QEMU.

- through the cloud: a private ``onestack up`` with the qemu compute driver and the file volume
  driver, one booted server of the cached test image, one 1 GiB volume; each round POSTs
  ``os-volume_attachments`` (polled every 10 ms until the volume is ``in-use``) and DELETEs it
  (polled until ``available``);
- the QMP commands alone: a QEMU started with the driver's own command line (``build_command``)
  and booted to its ready line, then ``blockdev-add`` + ``device_add`` and ``device_del`` (until
  ``DEVICE_DELETED``) + ``blockdev-del`` of a sparse 1 GiB qcow2 file, as ``hotplug.py`` sends
  them, through ``qemu.qmp``.

The round trip counts the attach and the detach, not the ``--qemu-settle`` seconds between
them (time for the guest to take the new disk before it is asked to let go). On QEMU 7.2 under
TCG with the test image, 0 and 3 s of settle gave the same figures: ``DEVICE_DELETED`` came
~0.1 s after ``device_del``, not the 5 s of the attention button that hotplug.py describes.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from qemu.qmp import QMPClient

from compute import (
    GUEST_MEMORY_MB,
    Admin,
    checked,
    has_marker,
    kill_qemus,
    local_cloud,
    qemu_missing,
    running_cloud,
    server_body,
    wait_until,
)
from figures import figure, ms_since
from onestack.compute.drivers.base import BootSource, InstanceSpec
from onestack.compute.drivers.qemu import (
    InstancePaths,
    LaunchOptions,
    build_command,
    choose_accelerator,
    host_tsc_khz,
)
from onestack.compute.drivers.qemu.monitor import connect_unix
from onestack.image.testimage import cached_image

ATTACH_TARGET_MS = 500.0
POLL_S = 0.01  # volume status polls during a round trip
BOOT_TIMEOUT_S = 180.0
UNPLUG_TIMEOUT_S = 60.0
PORT = 0  # the bare QEMU's first spare root port (no NICs, no volumes at boot)

__all__ = ["measure", "qemu_missing"]


def wait_volume(volumes: httpx.Client, volume_id: str, status: str) -> None:
    deadline = time.monotonic() + UNPLUG_TIMEOUT_S
    while time.monotonic() < deadline:
        got = checked(volumes.get(f"/volumes/{volume_id}"), 200).json()
        now = got["volume"]["status"]
        if now == status:
            return
        if now.startswith("error"):
            raise SystemExit(f"volume {volume_id}: {now}")
        time.sleep(POLL_S)
    raise SystemExit(f"volume {volume_id} not {status} in {UNPLUG_TIMEOUT_S:.0f}s")


def boot_server(admin: Admin, instances: Path) -> str:
    built = cached_image()
    assert built is not None
    image_id = admin.upload_image("onestack-test", built.path, "qcow2")
    flavor_id = admin.flavor("bench.attach", 1, GUEST_MEMORY_MB, 0)
    body = server_body("attach", image_id, flavor_id, "none", config_drive=True)
    server_id: str = checked(admin.compute.post("/servers", json=body), 202).json()["server"]["id"]
    started = time.perf_counter()
    wait_until("the server ACTIVE", lambda: admin.status(server_id) == "ACTIVE", started,
               BOOT_TIMEOUT_S)  # fmt: skip
    # Booted to its ready line: the guest's hot-plug driver answers the unplug.
    console = InstancePaths.of(instances, server_id).console_log
    wait_until("the guest's ready line", lambda: has_marker(console), started, BOOT_TIMEOUT_S)
    return server_id


def cloud_rounds(
    admin: Admin, volumes: httpx.Client, instances: Path, rounds: int, settle: float
) -> tuple[list[float], ...]:
    """(round trips, attaches, detaches) in ms through the API."""
    server_id = boot_server(admin, instances)
    created = checked(volumes.post("/volumes", json={"volume": {"size": 1}}), 202)
    vid: str = created.json()["volume"]["id"]
    wait_volume(volumes, vid, "available")
    url = f"/servers/{server_id}/os-volume_attachments"
    trips: list[float] = []
    attaches: list[float] = []
    detaches: list[float] = []
    for _ in range(rounds):
        started = time.perf_counter()
        checked(admin.compute.post(url, json={"volumeAttachment": {"volumeId": vid}}), 200)
        wait_volume(volumes, vid, "in-use")
        attaches.append(ms_since(started))
        time.sleep(settle)
        unplugging = time.perf_counter()
        checked(admin.compute.delete(f"{url}/{vid}"), 202)
        wait_volume(volumes, vid, "available")
        detaches.append(ms_since(unplugging))
        trips.append(attaches[-1] + detaches[-1])
    checked(admin.compute.delete(f"/servers/{server_id}"), 204)
    return trips, attaches, detaches


def start_bare(root: Path, accelerator: str) -> InstancePaths:
    """The test image under the driver's own command line, booted to its ready line."""
    built = cached_image()
    assert built is not None
    server_id = str(uuid.uuid4())
    paths = InstancePaths.of(root, server_id)
    paths.dir.mkdir(parents=True)
    overlay = ["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(built.path)]
    subprocess.run([*overlay, str(paths.disk)], check=True)
    spec = InstanceSpec(
        uuid=server_id, name="bench-bare", hostname="bare", vcpus=1, memory_mb=GUEST_MEMORY_MB,
        root_gb=0, boot=BootSource(image_id="bench", image_path=built.path, image_format="qcow2"),
    )  # fmt: skip
    argv = build_command(spec, paths, accelerator, LaunchOptions(tsc_khz=host_tsc_khz()))
    with paths.qemu_log.open("ab") as log:
        started = time.perf_counter()
        subprocess.Popen(argv, cwd=paths.dir, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         start_new_session=True)  # fmt: skip
    wait_until("the bare guest's ready line", lambda: has_marker(paths.console_log), started,
               BOOT_TIMEOUT_S)  # fmt: skip
    return paths


async def qmp_rounds(
    socket: Path, disk: Path, rounds: int, settle: float
) -> tuple[list[float], ...]:
    """(round trips, plugs, unplugs) in ms of hotplug.py's commands, sent by hand."""
    client = QMPClient("bench-bare")
    await client.connect(await connect_unix(socket))
    device, node = "vol-bench", "vol-bench-node"
    trips: list[float] = []
    plugs: list[float] = []
    unplugs: list[float] = []
    try:
        for _ in range(rounds):
            started = time.perf_counter()
            await client.execute("blockdev-add", {
                "driver": "qcow2", "node-name": node,
                "file": {"driver": "file", "filename": str(disk)},
            })  # fmt: skip
            await client.execute("device_add", {
                "driver": "virtio-blk-pci", "id": device, "drive": node, "bus": f"rp{PORT}",
                "serial": "bench",
            })  # fmt: skip
            plugs.append(ms_since(started))
            await asyncio.sleep(settle)
            unplugging = time.perf_counter()
            with client.listener("DEVICE_DELETED") as listener:
                await client.execute("device_del", {"id": device})
                while True:
                    event = dict(await asyncio.wait_for(listener.get(), UNPLUG_TIMEOUT_S))
                    data = event.get("data")
                    if isinstance(data, dict) and data.get("device") == device:
                        break
            await client.execute("blockdev-del", {"node-name": node})
            unplugs.append(ms_since(unplugging))
            trips.append(plugs[-1] + unplugs[-1])
    finally:
        await client.disconnect()
    return trips, plugs, unplugs


def bare_rounds(
    root: Path, accelerator: str, rounds: int, settle: float
) -> tuple[list[float], ...]:
    paths = start_bare(root, accelerator)
    disk = root / "volume.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "1G"], check=True)
    return asyncio.run(qmp_rounds(paths.qmp_socket, disk, rounds, settle))


def measure(rounds: int, settle: float = 0.0) -> tuple[str, list[dict[str, Any]]]:
    """(accelerator, figures); every QEMU and the cloud stopped on the way out. ``settle``:
    seconds between the attach and the detach (not counted), for the guest to take the disk."""
    accelerator = asyncio.run(choose_accelerator("qemu-system-x86_64", "auto"))
    root = Path(tempfile.mkdtemp(prefix="onestack-bench-volume-qemu-"))
    instances = root / "instances"
    settings = {
        "ONESTACK_COMPUTE_DRIVER": "qemu",
        "ONESTACK_COMPUTE_INSTANCES_DIR": str(instances),
        "ONESTACK_COMPUTE_SHUTDOWN_TIMEOUT": "0",
        "ONESTACK_VOLUME_DRIVER": "file",
    }
    cloud = local_cloud(settings, "onestack-bench-volume-cloud-")
    try:
        with running_cloud(cloud) as admin:
            base = f"{cloud.url}/volume/v3/{admin.project_id}"
            with httpx.Client(base_url=base, headers=admin.headers, timeout=60) as volumes:
                trips, attaches, detaches = cloud_rounds(admin, volumes, instances, rounds, settle)
        kill_qemus(instances)
        bare_trips, plugs, unplugs = bare_rounds(root / "bare", accelerator, rounds, settle)
    finally:
        with contextlib.suppress(Exception):
            kill_qemus(instances)
        with contextlib.suppress(Exception):
            kill_qemus(root / "bare")
        shutil.rmtree(root, ignore_errors=True)
    api = figure("attach + detach round trip (API, qemu driver)", trips, ATTACH_TARGET_MS)
    qmp = figure("QMP commands alone (bare QEMU)", bare_trips, None)
    api["ratio"] = round(statistics.median(trips) / statistics.median(bare_trips), 2)
    return accelerator, [
        api,
        figure("  attach: POST -> in-use", attaches, None),
        figure("  detach: DELETE -> available", detaches, None),
        qmp,
        figure("  blockdev-add + device_add", plugs, None),
        figure("  device_del .. DEVICE_DELETED + blockdev-del", unplugs, None),
    ]
