"""A guest's life on the real data plane: what it gets at boot (metadata service or config
drive), a floating IP to its web page, power actions, resize, a snapshot that boots, a kill -9
of the whole cloud, a guest that dies, and a delete that leaves nothing."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from pathlib import Path

import pytest

from tests.e2e.compute_cloud.lab import Lab, qemu_pids, wait_page
from tests.support.guests import DATAPLANE_MARKS

pytestmark = [*DATAPLANE_MARKS, pytest.mark.cli]


async def test_a_user_boots_the_test_image_and_the_guest_gets_ip_hostname_key_and_user_data(
    lab: Lab, vm1: str
) -> None:
    assert lab.status("vm1") == "ACTIVE"
    assert qemu_pids(vm1), "no QEMU process runs the server"
    ip = lab.demo("server", "show", "vm1")["addresses"]["private"][0]
    console = lab.first_console["vm1"]
    ready = re.search(r"onestack-guest ready (\S+) (\S+)", console)
    assert ready is not None and ready.groups() == ("vm1", ip), (
        "the guest's DHCP address or hostname is wrong"
    )
    assert "metadata from metadata service" in console
    assert f"MD5:{lab.ids['fingerprint']}" in console, "the key did not reach the guest"
    assert "user-data-ran-vm1" in console


async def test_a_config_drive_carries_the_same_to_a_second_guest(lab: Lab, vm2: str) -> None:
    console = lab.first_console["vm2"]
    ready = re.search(r"onestack-guest ready (\S+) (\S+)", console)
    assert ready is not None and ready.group(1) == "vm2"
    assert "metadata from config drive" in console


async def test_a_floating_ip_reaches_the_guests_web_page(lab: Lab, vm1: str) -> None:
    fip = lab.floating_ip("vm1")
    addresses = lab.demo("server", "show", "vm1")["addresses"]["private"]
    assert fip in addresses
    page = await asyncio.to_thread(wait_page, f"http://{fip}/")  # vm1 may be booting again
    assert "onestack-guest vm1" in page


async def test_power_actions_change_the_guest_for_real(lab: Lab, vm1: str) -> None:
    lab.demo("server", "stop", "vm1")
    lab.wait_status("vm1", "SHUTOFF")
    assert qemu_pids(vm1) == []
    lab.demo("server", "start", "vm1")
    lab.wait_status("vm1", "ACTIVE")
    assert qemu_pids(vm1)
    lab.demo("server", "pause", "vm1")
    lab.wait_status("vm1", "PAUSED")
    lab.demo("server", "unpause", "vm1")
    lab.wait_status("vm1", "ACTIVE")
    lab.demo("server", "reboot", "--hard", "vm1")
    lab.wait_status("vm1", "ACTIVE")
    events = [e["Action"] for e in lab.demo("server", "event", "list", "vm1")]
    assert {"create", "stop", "start", "pause", "unpause", "reboot"} <= set(events)


async def test_resize_to_a_bigger_flavor_then_confirm(lab: Lab, vm2: str) -> None:
    lab.demo("server", "resize", "--flavor", "m1.small", "vm2")
    lab.wait_status("vm2", "VERIFY_RESIZE")
    cmdline = Path(f"/proc/{qemu_pids(vm2)[0]}/cmdline").read_bytes().replace(b"\0", b" ")
    assert b"2048" in cmdline, "the guest does not run with the new flavor's memory"
    lab.demo("server", "resize", "confirm", "vm2")
    server = lab.wait_status("vm2", "ACTIVE")
    assert server["flavor"]["name"] == "m1.small" or "m1.small" in str(server["flavor"])


async def test_a_snapshot_becomes_an_image_that_boots(lab: Lab, vm1: str) -> None:
    lab.demo("server", "image", "create", "--name", "vm1-snap", "--wait", "vm1")
    image = lab.demo("image", "show", "vm1-snap")
    assert image["status"] == "active"
    lab.boot("vm3", image="vm1-snap")
    lab.wait_console("vm3", r"onestack-guest ready vm3 ")


async def test_killing_the_whole_cloud_loses_no_guest(lab: Lab, vm1: str) -> None:
    before = qemu_pids(vm1)
    assert before
    lab.cloud.stop(signal.SIGKILL)
    assert qemu_pids(vm1) == before, "the guest died with the cloud"
    lab.cloud.start()
    assert lab.wait_status("vm1", "ACTIVE")["OS-EXT-STS:power_state"] in (1, "Running")
    assert qemu_pids(vm1) == before
    lab.demo("server", "stop", "vm1")  # proves QMP was re-attached
    lab.wait_status("vm1", "SHUTOFF")
    assert qemu_pids(vm1) == []


async def test_a_guest_that_dies_shows_shutoff(world: Lab) -> None:
    lab = world
    uuid = lab.boot("vm-dies")["id"]
    pids = qemu_pids(uuid)
    assert pids, "no QEMU process runs the server"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    server = lab.wait_status("vm-dies", "SHUTOFF", timeout=30)
    assert server["OS-EXT-STS:power_state"] in (0, 4, "NOSTATE", "Shutdown")


async def test_delete_leaves_no_process_file_or_port(world: Lab) -> None:
    lab = world
    uuid = lab.boot("vm-gone")["id"]
    ports = lab.cli("port", "list", "--device-id", uuid)
    assert ports
    by_server = lab.demo("port", "list", "--server", "vm-gone")
    assert [p["ID"] for p in by_server] == [p["ID"] for p in ports]
    assert qemu_pids(uuid) and (lab.instances / uuid).exists()
    lab.demo("server", "delete", "--wait", "vm-gone")
    del lab.servers["vm-gone"]
    assert qemu_pids(uuid) == []
    assert not (lab.instances / uuid).exists()
    assert lab.cli("port", "list", "--device-id", uuid) == []
    # Metering ends the server's resource (the listener reads the delete's notification).
    deadline = time.monotonic() + 15
    while not (ended := lab.demo("metric", "resource", "show", uuid)["ended_at"]):
        assert time.monotonic() < deadline, "the deleted server's resource never ended"
        await asyncio.sleep(0.5)
    assert ended
