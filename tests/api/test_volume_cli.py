"""Block storage through the real ``openstack`` client (which speaks through openstacksdk):
the acceptance lines of the volume service that need no guest."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import unique

pytestmark = pytest.mark.cli


def wait_status(cloud: Cloud, name: str, status: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    shown: dict[str, Any] = {}
    while time.monotonic() < deadline:
        shown = cloud.openstack("volume", "show", name)
        if shown["status"] == status:
            return shown
        time.sleep(0.1)
    raise AssertionError(f"{name} is {shown.get('status')}, not {status}")


def test_volume_create_set_extend_delete(cloud: Cloud) -> None:
    name = unique("v1")
    made = cloud.openstack("volume", "create", "--size", "1", name)
    assert made["size"] == 1 and made["name"] == name
    shown = wait_status(cloud, name, "available")
    assert shown["bootable"] in (False, "false") and shown["type"] == "__DEFAULT__"
    renamed = unique("v1b")
    cloud.openstack(
        "volume", "set", "--name", renamed, "--property", "tier=gold", "--size", "2", name,
        json_output=False,
    )  # fmt: skip
    shown = wait_status(cloud, renamed, "available")
    assert shown["size"] == 2
    assert shown["properties"] == {"tier": "gold"}
    listed = cloud.openstack("volume", "list")
    assert any(v["Name"] == renamed and v["Size"] == 2 for v in listed)
    cloud.openstack("volume", "delete", renamed, json_output=False)
    deadline = time.monotonic() + 30
    while any(v["Name"] == renamed for v in cloud.openstack("volume", "list")):
        assert time.monotonic() < deadline, "the volume was not deleted"
        time.sleep(0.1)


def test_volume_types_chosen_at_create(cloud: Cloud) -> None:
    tname = unique("gold")
    cloud.openstack("volume", "type", "create", "--property", "volume_backend_name=file", tname)
    cloud.openstack("volume", "type", "set", "--property", "tier=1", tname, json_output=False)
    shown = cloud.openstack("volume", "type", "show", tname)
    assert shown["properties"] == {"volume_backend_name": "file", "tier": "1"}
    vname = unique("typed")
    cloud.openstack("volume", "create", "--size", "1", "--type", tname, vname)
    assert wait_status(cloud, vname, "available")["type"] == tname
    # A type in use cannot go.
    refused = cloud.openstack("volume", "type", "delete", tname, check=False, json_output=False)
    assert refused.returncode != 0
    cloud.openstack("volume", "delete", vname, json_output=False)


def test_unknown_type_is_refused(cloud: Cloud) -> None:
    out = cloud.openstack(
        "volume", "create", "--size", "1", "--type", "no-such-type", unique("x"),
        check=False, json_output=False,
    )  # fmt: skip
    assert out.returncode != 0
    assert "no-such-type" in out.stderr


def test_quota_limits_zones_services(cloud: Cloud) -> None:
    quota = {q["Resource"]: q["Limit"] for q in cloud.openstack("quota", "show", "--volume")}
    assert quota["volumes"] == 10 and quota["gigabytes"] == 1000
    cloud.openstack("quota", "set", "--volumes", "25", "demo", json_output=False)
    demo = {q["Resource"]: q["Limit"] for q in cloud.openstack("quota", "show", "--volume", "demo")}
    assert demo["volumes"] == 25
    limits = {r["Name"]: r["Value"] for r in cloud.openstack("limits", "show", "--absolute")}
    assert limits["max_total_volumes"] == 10
    zones = cloud.openstack("availability", "zone", "list", "--volume")
    assert [z["Zone Name"] for z in zones] == ["nova"]
    services = cloud.openstack("volume", "service", "list")
    binaries = {s["Binary"]: s for s in services}
    assert binaries["cinder-volume"]["State"] == "up"
    assert binaries["cinder-volume"]["Host"].endswith("@file")


@pytest.mark.parametrize("size", ["0", "-1"])
def test_bad_sizes_are_refused(cloud: Cloud, size: str) -> None:
    out = cloud.openstack(
        "volume", "create", "--size", size, unique("bad"), check=False, json_output=False
    )
    assert out.returncode != 0
