"""Acceptance of the servers API through the real `openstack` command line (issue #5's walk).

The walk runs in a project of its own (so ``private``, ``mykey`` and ``vm1`` are the names of
the issue, not a random suffix) against the shared cloud and its fake data plane.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.cloud import Cloud
from tests.support.keystone import Admin
from tests.support.osc import OscSession

pytestmark = pytest.mark.cli


@dataclass
class Osc:
    """The CLI as the entries of a clouds.yaml of the module's own."""

    session: OscSession
    config: Path

    def run(self, *args: str, as_: str = "mine") -> subprocess.CompletedProcess[str]:
        env = {"OS_CLIENT_CONFIG_FILE": str(self.config)}
        return self.session.run(["--os-cloud", as_, *args], env)

    def __call__(self, *args: str, as_: str = "mine") -> Any:
        """The command's JSON output (``-f json``); the test fails if the command does."""
        result = self.run(*args, "-f", "json", as_=as_)
        assert result.returncode == 0, f"openstack {' '.join(args)}:\n{result.stderr}"
        # `--wait` prints its progress ("Complete") before the table.
        text = result.stdout[re.search(r"^[\[{]|\Z", result.stdout, re.M).start() :]  # type: ignore[union-attr]
        return json.loads(text) if text.strip() else None

    def do(self, *args: str, as_: str = "mine") -> str:
        """A command without a table to show (``server stop``, ...): its text output."""
        result = self.run(*args, as_=as_)
        assert result.returncode == 0, f"openstack {' '.join(args)}:\n{result.stderr}"
        return result.stdout

    def status(self, server: str) -> str:
        return str(self("server", "show", server, "-c", "status")["status"])

    def until(self, server: str, status: str, timeout: float = 30) -> dict[str, Any]:
        """Poll ``server show`` until the server has ``status`` and no task."""
        deadline = time.monotonic() + timeout
        while True:
            shown: dict[str, Any] = self("server", "show", server)
            if shown["status"] == status and shown["OS-EXT-STS:task_state"] is None:
                return shown
            assert shown["status"] != "ERROR", shown.get("fault")
            assert time.monotonic() < deadline, f"{server}: {shown['status']} != {status}"


def clouds_yaml(cloud: Cloud, path: Path, **users: tuple[str, str, str]) -> Path:
    """A clouds.yaml with the cloud's admin entry and one entry per (user, password, project)."""
    clouds = {"onestack": cloud.cloud_config("onestack")}
    for name, (user, password, project) in users.items():
        auth = {**clouds["onestack"]["auth"], "username": user, "password": password}
        auth["project_name"] = project
        clouds[name] = {**clouds["onestack"], "auth": auth}
    path.write_text(yaml.safe_dump({"clouds": clouds}))
    return path


@pytest.fixture(scope="module")
def osc(cloud: Cloud, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Osc]:
    """The CLI as a member of a new project (``mine``), of a second one (``other``), and as
    the cloud's admin (``onestack``)."""
    admin = Admin(cloud)
    users = {}
    for entry in ("mine", "other"):
        project = admin.project()
        user = admin.user()
        admin.grant(project["id"], user.id, "member")
        users[entry] = (user.name, user.password, project["name"])
    admin.close()
    path = clouds_yaml(cloud, tmp_path_factory.mktemp("osc") / "clouds.yaml", **users)
    session = OscSession(cloud.env)
    yield Osc(session, path)
    session.close()


@dataclass
class World:
    image: dict[str, Any]
    network: dict[str, Any]
    subnet: dict[str, Any]
    vm1: dict[str, Any]


@pytest.fixture(scope="module")
def world(osc: Osc, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The issue's opening lines: an image, a network, a key pair and ``vm1`` booted on them."""
    files = tmp_path_factory.mktemp("files")
    (files / "cirros.img").write_bytes(b"\x00fake disk\x00" * 100)
    (files / "boot.sh").write_text("#!/bin/sh\necho booted by onestack\n")
    image = osc("image", "create", "--file", str(files / "cirros.img"), "--disk-format", "raw",
                "--container-format", "bare", "cirros")  # fmt: skip
    assert image["status"] == "active"
    network = osc("network", "create", "private")
    subnet = osc("subnet", "create", "--network", "private", "--subnet-range", "10.61.0.0/24",
                 "private-subnet")  # fmt: skip
    # Without a public key, the cloud makes the pair and the CLI prints the private key.
    assert "PRIVATE KEY-----" in osc.do("keypair", "create", "mykey")
    vm1 = osc("server", "create", "--image", "cirros", "--flavor", "m1.tiny", "--network",
              "private", "--key-name", "mykey", "--user-data", str(files / "boot.sh"),
              "--wait", "vm1")  # fmt: skip
    yield World(image, network, subnet, vm1)
    osc.do("server", "delete", "--wait", vm1["id"], as_="onestack")


def test_boot_with_the_cli(osc: Osc, world: World) -> None:
    vm1 = world.vm1
    assert vm1["status"] == "ACTIVE" and vm1["name"] == "vm1"
    assert vm1["key_name"] == "mykey"
    assert vm1["flavor"]["name"] == "m1.tiny"
    assert world.image["id"] in vm1["image"]
    (address,) = vm1["addresses"]["private"]
    assert address.startswith("10.61.0.")
    # Members don't see the host (admin-only attributes).
    assert vm1.get("OS-EXT-SRV-ATTR:host") is None

    log = osc.do("console", "log", "show", "vm1")
    assert any(line.startswith("onestack-guest ready vm1 ") for line in log.splitlines())

    # Issue #4's last line: the server's port, found by the server's name.
    (port,) = osc("port", "list", "--server", "vm1")
    assert port["Fixed IP Addresses"][0]["ip_address"] == address
    assert port["Status"] == "ACTIVE"

    shown = osc("server", "show", "vm1")
    assert shown["id"] == vm1["id"] and shown["security_groups"] == [{"name": "default"}]


POWER_WALK = [
    (("server", "stop"), "SHUTOFF"),
    (("server", "start"), "ACTIVE"),
    (("server", "reboot", "--wait"), "ACTIVE"),
    (("server", "reboot", "--hard", "--wait"), "ACTIVE"),
    (("server", "pause"), "PAUSED"),
    (("server", "unpause"), "ACTIVE"),
    (("server", "suspend"), "SUSPENDED"),
    (("server", "resume"), "ACTIVE"),
]


def test_power_actions_and_events(osc: Osc, world: World) -> None:
    for command, status in POWER_WALK:
        osc.do(*command, "vm1")
        osc.until("vm1", status)

    osc.do("server", "lock", "--reason", "maintenance", "vm1")
    locked = osc("server", "show", "vm1")
    assert locked["locked"] is True and locked["locked_reason"] == "maintenance"
    # A member can't delete a server locked (even by herself): Nova's 409.
    refused = osc.run("server", "delete", "vm1")
    assert refused.returncode != 0 and "is locked" in refused.stderr
    osc.do("server", "unlock", "vm1")
    assert osc("server", "show", "vm1")["locked"] is False

    events = osc("server", "event", "list", "vm1")
    actions = [e["Action"] for e in events]
    # Newest first, every action the walk took.
    assert actions == ["unlock", "lock", "resume", "suspend", "unpause", "pause", "reboot",
                       "reboot", "start", "stop", "create"]  # fmt: skip
    stop = next(e for e in events if e["Action"] == "stop")
    shown = osc("server", "event", "show", "vm1", stop["Request ID"])
    assert shown["action"] == "stop" and shown["message"] is None
    assert [(e["event"], e["result"]) for e in shown["events"]] == [
        ("compute_stop_instance", "Success")
    ]


def test_resize_rebuild_and_snapshot(osc: Osc, world: World) -> None:
    osc.do("server", "resize", "--flavor", "m1.small", "--wait", "vm1")
    resized = osc.until("vm1", "VERIFY_RESIZE")
    assert resized["flavor"]["name"] == "m1.small"
    osc.do("server", "resize", "confirm", "vm1")
    confirmed = osc.until("vm1", "ACTIVE")
    assert confirmed["flavor"]["name"] == "m1.small"

    osc.do("server", "resize", "--flavor", "m1.medium", "--wait", "vm1")
    assert osc.until("vm1", "VERIFY_RESIZE")["flavor"]["name"] == "m1.medium"
    osc.do("server", "resize", "revert", "vm1")
    assert osc.until("vm1", "ACTIVE")["flavor"]["name"] == "m1.small"
    # Only the confirmed flavor counts against the quota now.
    limits = {r["Name"]: r["Value"] for r in osc("limits", "show", "--absolute")}
    assert limits["total_ram_used"] == 2048 and limits["total_cores_used"] == 1

    # The CLI shows the rebuild's answer, as Nova gives it: the task under way.
    rebuilding = osc("server", "rebuild", "--image", "cirros", "--wait", "vm1")
    assert rebuilding["status"] == "REBUILD" and world.image["id"] in rebuilding["image"]
    events = osc("server", "event", "list", "vm1")
    assert events[0]["Action"] == "rebuild"
    assert osc.until("vm1", "ACTIVE")["OS-SRV-USG:launched_at"] is not None

    snap = osc("server", "image", "create", "--name", "vm1-snap", "--wait", "vm1")
    image = osc("image", "show", snap["id"])
    assert image["status"] == "active" and image["size"] > 0
    assert image["properties"]["image_type"] == "snapshot"
    assert image["properties"]["instance_uuid"] == world.vm1["id"]
    assert osc.status("vm1") == "ACTIVE"

    # Backups: a daily rotation of one keeps the newest only.
    first = osc("server", "backup", "create", "--name", "vm1-daily-1", "--type", "daily",
                "--rotate", "1", "--wait", "vm1")  # fmt: skip
    assert osc("image", "show", first["id"])["properties"]["backup_type"] == "daily"
    osc.until("vm1", "ACTIVE")
    second = osc("server", "backup", "create", "--name", "vm1-daily-2", "--type", "daily",
                 "--rotate", "1", "--wait", "vm1")  # fmt: skip
    osc.until("vm1", "ACTIVE")
    kept = osc("image", "list", "--property", "image_type=backup")
    assert [i["ID"] for i in kept] == [second["id"]]
    osc.do("image", "delete", second["id"])

    # Rescue and back.
    osc.do("server", "rescue", "--password", "rescue-pass", "vm1")
    assert osc.until("vm1", "RESCUE")["OS-EXT-STS:vm_state"] == "rescued"
    osc.do("server", "unrescue", "vm1")
    osc.until("vm1", "ACTIVE")

    # A server boots from the snapshot.
    vm2 = osc("server", "create", "--image", "vm1-snap", "--flavor", "m1.tiny", "--network",
              "private", "--wait", "vm2")  # fmt: skip
    assert vm2["status"] == "ACTIVE" and snap["id"] in vm2["image"]
    osc.do("server", "delete", "--wait", "vm2")


def test_security_groups_and_floating_ip(osc: Osc, world: World) -> None:
    group = osc("security", "group", "create", "web")
    osc.do("server", "add", "security", "group", "vm1", "web")
    shown = osc("server", "show", "vm1")
    assert {g["name"] for g in shown["security_groups"]} == {"default", "web"}
    (port,) = osc("port", "list", "--server", "vm1", "--long")
    assert group["id"] in port["Security Groups"]
    osc.do("server", "remove", "security", "group", "vm1", "web")
    assert osc("server", "show", "vm1")["security_groups"] == [{"name": "default"}]

    osc("router", "create", "router1")
    osc.do("router", "set", "router1", "--external-gateway", "public")
    osc.do("router", "add", "subnet", "router1", "private-subnet")
    fip = osc("floating", "ip", "create", "public")["floating_ip_address"]
    osc.do("server", "add", "floating", "ip", "vm1", fip)
    addresses = osc("server", "show", "vm1")["addresses"]["private"]
    assert len(addresses) == 2 and addresses[1] == fip
    osc.do("server", "remove", "floating", "ip", "vm1", fip)
    assert fip not in osc("server", "show", "vm1")["addresses"]["private"]


def test_delete_frees_the_port(osc: Osc, world: World) -> None:
    osc("server", "create", "--image", "cirros", "--flavor", "m1.nano", "--network", "private",
        "--wait", "doomed")  # fmt: skip
    (port,) = osc("port", "list", "--server", "doomed")
    osc.do("server", "delete", "--wait", "doomed")
    gone = osc.run("server", "show", "doomed")
    assert gone.returncode != 0 and "No Server found" in gone.stderr
    assert port["ID"] not in [p["ID"] for p in osc("port", "list", "--network", "private")]
    assert osc.run("port", "show", port["ID"]).returncode != 0


def test_admin_lists_all_projects(osc: Osc, world: World) -> None:
    host = osc("server", "show", world.vm1["id"], as_="onestack")["OS-EXT-SRV-ATTR:host"]
    assert host
    found = osc("server", "list", "--long", "--all-projects", "--status", "ACTIVE", "--name",
                "^vm1$", "--host", host, as_="onestack")  # fmt: skip
    mine = [s for s in found if s["ID"] == world.vm1["id"]]
    assert len(mine) == 1 and mine[0]["Host"] == host and mine[0]["Status"] == "ACTIVE"
    assert all(s["Name"] == "vm1" for s in found)
    # Without --all-projects the admin sees only the admin project's servers.
    own = osc("server", "list", "--name", "^vm1$", as_="onestack")
    assert world.vm1["id"] not in [s["ID"] for s in own]
    # The member's list has it, the other project's doesn't.
    assert [s["Name"] for s in osc("server", "list", "--name", "^vm1$")] == ["vm1"]
    assert osc("server", "list", as_="other") == []


def test_server_group_anti_affinity(osc: Osc, world: World) -> None:
    group = osc("server", "group", "create", "--policy", "anti-affinity", "apart")
    assert group["policy"] == "anti-affinity"
    first = osc("server", "create", "--image", "cirros", "--flavor", "m1.nano", "--no-network",
                "--hint", f"group={group['id']}", "--wait", "apart-1")  # fmt: skip
    assert first["status"] == "ACTIVE"
    assert osc("server", "group", "show", "apart")["members"] == [first["id"]]
    # The fake cloud has one host: a second member of the group has nowhere to go.
    osc("server", "create", "--image", "cirros", "--flavor", "m1.nano", "--no-network",
        "--hint", f"group={group['id']}", "apart-2")  # fmt: skip
    failed = _until_error(osc, "apart-2")
    assert "No valid host was found" in failed["fault"]["message"]
    for name in ("apart-1", "apart-2"):
        osc.do("server", "delete", "--wait", name)


def _until_error(osc: Osc, server: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        shown: dict[str, Any] = osc("server", "show", server)
        if shown["status"] == "ERROR":
            return shown
        assert time.monotonic() < deadline, shown["status"]


def test_quota_limits_and_usage(osc: Osc, world: World) -> None:
    project = osc("project", "show", osc_project(osc, "other"), as_="onestack")
    # The other project boots the walk's image, shared with it.
    osc.do("image", "set", "--shared", "cirros")
    osc.do("image", "add", "project", "cirros", project["id"])
    osc.do("quota", "set", "--instances", "1", project["id"], as_="onestack")
    first = osc("server", "create", "--image", world.image["id"], "--flavor", "m1.nano",
                "--no-network", "--wait", "one", as_="other")  # fmt: skip
    assert first["status"] == "ACTIVE"
    second = osc.run("server", "create", "--image", world.image["id"], "--flavor", "m1.nano",
                     "--no-network", "two", as_="other")  # fmt: skip
    assert second.returncode != 0
    assert "Quota exceeded for instances: Requested 1, but already used 1 of 1 instances" in (
        second.stderr
    )
    assert "403" in second.stderr

    limits = {r["Name"]: r["Value"] for r in osc("limits", "show", "--absolute", as_="other")}
    assert limits["max_total_instances"] == 1 and limits["total_instances_used"] == 1
    assert limits["total_cores_used"] == 1 and limits["total_ram_used"] == 64

    usage = osc("usage", "list", as_="onestack")
    # (-f json shows the "Servers" count as the usages it counts.)
    row = next(u for u in usage if u["Project"] in (project["id"], project["name"]))
    assert [s["name"] for s in row["Servers"]] == ["one"]
    mine = osc("usage", "show", as_="other")
    (server,) = mine["Servers"]
    assert server["instance_id"] == first["id"] and server["state"] == "active"
    assert (server["vcpus"], server["memory_mb"], server["flavor"]) == (1, 64, "m1.nano")
    assert mine["CPU Hours"] > 0
    osc.do("server", "delete", "--wait", "one", as_="other")


def osc_project(osc: Osc, entry: str) -> str:
    config: dict[str, Any] = yaml.safe_load(osc.config.read_text())
    return str(config["clouds"][entry]["auth"]["project_name"])
