"""The servers API over raw HTTP: bad input, isolation between projects, states, microversions,
filters and pages, faults, instance actions, and every server body checked against Tempest's
strict response schemas of its microversion."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.compute import C, Compute, check_schema, newest_schema
from tests.support.fixtures import member_of_new_project, unique

NANO, TINY = "0", "1"  # the ids of m1.nano and m1.tiny
# Microversions whose server bodies Tempest has a schema module for (up to ours, 2.96).
SCHEMA_VERSIONS = ["2.1", "2.3", "2.9", "2.16", "2.19", "2.26", "2.47", "2.63", "2.71", "2.73",
                   "2.96"]  # fmt: skip


def schema(mv: str, name: str) -> dict[str, Any]:
    """Tempest's schema ``name`` of the servers module of the newest version <= ``mv``."""
    return newest_schema(mv, "servers", name)


def check(resp: httpx.Response, mv: str, name: str) -> Any:
    return check_schema(resp, schema(mv, name))


class Servers(Compute):
    """The compute client with the servers' own helpers (boot, poll, act)."""

    def boot(self, name: str, mv: str = "2.1", status: int = 202, **fields: Any) -> Any:
        body = {"server": {"name": name, "flavorRef": NANO, **fields}}
        if "imageRef" not in fields:
            body["server"]["imageRef"] = IMAGE[0]
        if "networks" not in fields and int(mv.split(".")[1]) >= 37:
            body["server"]["networks"] = "none"
        resp = self("POST", "/servers", mv, json=body)
        assert resp.status_code == status, resp.text
        return resp.json()

    def create(self, mv: str = "2.1", **server: Any) -> httpx.Response:
        """``POST /servers`` of ``server`` over a nano server of the module's image."""
        body = {"name": "x", "imageRef": IMAGE[0], "flavorRef": NANO, **server}
        return self("POST", "/servers", mv, json={"server": body})

    def show(self, uuid: str, mv: str = "2.1") -> dict[str, Any]:
        resp = self("GET", f"/servers/{uuid}", mv)
        assert resp.status_code == 200, resp.text
        server: dict[str, Any] = resp.json()["server"]
        return server

    def until(self, uuid: str, status: str, timeout: float = 30) -> dict[str, Any]:
        """Poll until the server has ``status`` and no task under way."""
        deadline = time.monotonic() + timeout
        while True:
            server = self.show(uuid)
            if server["status"] == status and server["OS-EXT-STS:task_state"] is None:
                return server
            assert status == "ERROR" or server["status"] != "ERROR", server.get("fault")
            assert time.monotonic() < deadline, f"{uuid}: {server['status']} != {status}"
            time.sleep(0.02)

    def act(self, uuid: str, body: dict[str, Any], mv: str = "2.1") -> httpx.Response:
        return self("POST", f"/servers/{uuid}/action", mv, json=body)

    def running(self, name: str) -> str:
        """A new nano server, ACTIVE: its id."""
        uuid = str(self.boot(name)["server"]["id"])
        self.until(uuid, "ACTIVE")
        return uuid

    def running_from(self, name: str, image: str) -> str:
        """A new nano server of ``image``, ACTIVE: its id."""
        uuid = str(self.boot(name, imageRef=image)["server"]["id"])
        self.until(uuid, "ACTIVE")
        return uuid

    def delete(self, uuid: str) -> None:
        """Delete the server and wait until it is gone."""
        assert self("DELETE", f"/servers/{uuid}").status_code == 204
        self.gone(uuid)

    def gone(self, uuid: str) -> None:
        deadline = time.monotonic() + 30
        while self("GET", f"/servers/{uuid}").status_code != 404:
            assert time.monotonic() < deadline
            time.sleep(0.02)


# The module's bootable image, set by the ``world`` fixture (boot() reads it).
IMAGE: list[str] = []


def fault_of(resp: httpx.Response, status: int) -> str:
    """Nova's error body: ``{"<kind>": {"code": status, "message": ...}}``; its message."""
    assert resp.status_code == status, resp.text
    (err,) = resp.json().values()
    assert err["code"] == status
    return str(err["message"])


@dataclass
class World:
    admin: Servers
    mine: Servers  # a member of a project of the module's own
    other: Servers  # a member of a second project
    project: str
    other_project: str
    network: str
    big_image: str
    admin_raw: httpx.Client


def upload_image(client: httpx.Client, name: str, **fields: Any) -> str:
    body = {"name": name, "disk_format": "raw", "container_format": "bare", **fields}
    resp = client.post("/image/v2/images", json=body)
    assert resp.status_code == 201, resp.text
    image_id = str(resp.json()["id"])
    resp = client.put(
        f"/image/v2/images/{image_id}/file",
        content=b"\0" * 4096,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert resp.status_code == 204, resp.text
    return image_id


@pytest.fixture(scope="module")
def world(cloud: Cloud) -> Iterator[World]:
    first, second = member_of_new_project(cloud), member_of_new_project(cloud)
    mine, project = first.client, first.project_id
    other, other_project = second.client, second.project_id
    admin = cloud.http(cloud.token())
    IMAGE[:] = [upload_image(mine, unique("img"))]
    big = upload_image(mine, unique("big"), min_disk=100, min_ram=100000)
    net = mine.post("/network/v2.0/networks", json={"network": {"name": "private"}})
    assert net.status_code == 201, net.text
    network = str(net.json()["network"]["id"])
    sub = {"subnet": {"network_id": network, "cidr": "10.62.0.0/24", "ip_version": 4}}
    assert mine.post("/network/v2.0/subnets", json=sub).status_code == 201
    # The project boots many servers here: room for them.
    quota = {"quota_set": {"instances": -1, "cores": -1, "ram": -1}}
    assert admin.put(f"{C}/os-quota-sets/{project}", json=quota).status_code == 200
    yield World(Servers(admin), Servers(mine), Servers(other), project, other_project, network,
                big, admin)  # fmt: skip
    for client in (mine, other, admin):
        client.close()


def new_flavor(world: World, prefix: str, ram: int) -> str:
    body = {"flavor": {"name": unique(prefix), "ram": ram, "vcpus": 1, "disk": 1}}
    resp = world.admin("POST", "/flavors", json=body)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["flavor"]["id"])


# -- bad input --------------------------------------------------------------------------------


def test_unknown_image_flavor_network(world: World) -> None:
    c = world.mine
    missing = "8bfb1d0a-91ab-4b32-bc5b-1b1d7b2f6a33"
    msg = fault_of(c.create(imageRef=missing, networks="none"), 400)
    assert msg == f"Image {missing} could not be found."
    resp = c.create(flavorRef="no-such-flavor", networks="none")
    assert "Flavor no-such-flavor could not be found" in fault_of(resp, 400)
    resp = c.create(networks=[{"uuid": missing}])
    assert fault_of(resp, 400) == f"Network {missing} could not be found."
    # The body's own shape: 400 too.
    assert c("POST", "/servers", json={"server": {"imageRef": IMAGE[0]}}).status_code == 400


def test_kernel_and_ramdisk_of_an_image_are_checked_as_the_caller(world: World) -> None:
    """Direct kernel boot (issue #10): an image's ``kernel_id``/``ramdisk_id`` must name images
    the caller may see, or the boot, rebuild or rescue is Nova's fail-fast 400 naming them; a
    kernel image that holds no data ends the build at once, ERROR with a fault naming it."""
    c = world.mine
    kernel = upload_image(c.client, unique("vmlinuz"), disk_format="aki", container_format="aki")
    ramdisk = upload_image(c.client, unique("initrd"), disk_format="ari", container_format="ari")
    direct = upload_image(c.client, unique("direct"), kernel_id=kernel, ramdisk_id=ramdisk,
                          os_command_line="console=ttyS0")  # fmt: skip
    ok = c.running_from(unique("direct"), direct)
    no_kernel = upload_image(c.client, unique("nokernel"), kernel_id="nokernel")
    c.running_from(unique("nokernel"), no_kernel)

    theirs = upload_image(world.other.client, unique("their-vmlinuz"), disk_format="aki",
                          container_format="aki")  # fmt: skip
    missing = "5d1c2a43-7c3b-4f6e-9a55-0c6e2b9d8f10"
    for props, named in (({"kernel_id": theirs}, theirs),
                         ({"kernel_id": kernel, "ramdisk_id": missing}, missing)):  # fmt: skip
        bad = upload_image(c.client, unique("bad"), **props)
        msg = fault_of(c.create(imageRef=bad, networks="none"), 400)
        assert named in msg and f"of image {bad}" in msg and "could not be found" in msg, msg
        rebuilt = c.act(ok, {"rebuild": {"imageRef": bad}})
        assert named in fault_of(rebuilt, 400)
        rescued = c.act(ok, {"rescue": {"rescue_image_ref": bad}}, mv="2.87")
        assert named in fault_of(rescued, 400)
    assert c.show(ok)["status"] == "ACTIVE"

    queued = c.client.post(
        "/image/v2/images", json={"name": unique("empty"), "disk_format": "aki",
                                  "container_format": "aki"},
    ).json()["id"]  # fmt: skip
    empty = upload_image(c.client, unique("empty-kernel"), kernel_id=queued)
    uuid = str(c.boot(unique("empty-kernel"), imageRef=empty)["server"]["id"])
    fault = c.until(uuid, "ERROR")["fault"]
    assert fault["message"].startswith(
        f"Build of instance {uuid} aborted: The kernel image "
        f"{queued} (kernel_id of image {empty}) cannot be used"
    )
    for server in (ok, uuid):
        c.delete(server)
    assert c("POST", "/servers", json={"servr": {}}).status_code == 400
    assert c.boot("x", status=400, bogus=1)
    assert c("GET", "/servers", params={"name": "x"}).json()["servers"] == []


def test_flavor_too_small_for_the_image(world: World) -> None:
    resp = world.mine.create(imageRef=world.big_image, networks="none")
    assert fault_of(resp, 400) == "Flavor's memory is too small for requested image."
    # A flavor with memory enough but a 1 GB disk.
    flavor = new_flavor(world, "roomy", 200000)
    resp = world.mine.create(imageRef=world.big_image, flavorRef=flavor, networks="none")
    assert fault_of(resp, 400) == (
        "Flavor's disk is smaller than the minimum size specified in image metadata. "
        f"Flavor disk is {2**30} bytes, minimum size is {100 * 2**30} bytes."
    )
    world.admin("DELETE", f"/flavors/{flavor}")


def test_rebuild_and_resize_check_the_image_min_ram_as_nova(world: World) -> None:
    """Nova validates the flavor against the image at rebuild and resize too (issue #10)."""
    c = world.mine
    uuid = c.running(unique("fit"))
    resp = c.act(uuid, {"rebuild": {"imageRef": world.big_image}})
    assert fault_of(resp, 400) == "Flavor's memory is too small for requested image."
    needs_128 = upload_image(c.client, unique("needs128"), min_ram=128)
    booted = c.boot(unique("fit2"), imageRef=needs_128, flavorRef=TINY)
    uuid2 = str(booted["server"]["id"])
    c.until(uuid2, "ACTIVE")
    small = new_flavor(world, "small", 100)
    resp = c.act(uuid2, {"resize": {"flavorRef": small}})
    assert fault_of(resp, 400) == "Flavor's memory is too small for requested image."
    assert c.show(uuid2)["status"] == "ACTIVE"
    world.admin("DELETE", f"/flavors/{small}")
    for server in (uuid, uuid2):
        c.delete(server)


def test_change_password_goes_through_the_guest_agent(world: World) -> None:
    """changePassword (issue #10): 202 for an image with hw_qemu_guest_agent=yes, Nova's 409
    without an agent or when the server is not ACTIVE, 400 without adminPass."""
    c = world.mine
    with_agent = upload_image(c.client, unique("qga"), hw_qemu_guest_agent="yes")
    uuid = str(c.boot(unique("pw"), imageRef=with_agent)["server"]["id"])
    c.until(uuid, "ACTIVE")
    assert c.act(uuid, {"changePassword": {"adminPass": "n3w-pass"}}).status_code == 202
    assert fault_of(c.act(uuid, {"changePassword": {}}), 400)
    plain = c.running(unique("nopw"))
    resp = c.act(plain, {"changePassword": {"adminPass": "x"}})
    assert fault_of(resp, 409) == "QEMU guest agent is not enabled"
    assert c.act(uuid, {"os-stop": None}).status_code == 202
    c.until(uuid, "SHUTOFF")
    resp = c.act(uuid, {"changePassword": {"adminPass": "x"}})
    assert "while it is in vm_state stopped" in fault_of(resp, 409)
    for server in (uuid, plain):
        c.delete(server)


def test_user_data_over_64k(world: World) -> None:
    big = base64.b64encode(b"x" * 50000).decode()  # 66668 characters of base64
    resp = world.mine.create(user_data=big)
    assert "user_data" in fault_of(resp, 400)
    resp = world.mine.create(user_data="%%%")
    assert "user_data" in fault_of(resp, 400)


def test_quota_exceeded(world: World, cloud: Cloud) -> None:
    member = member_of_new_project(cloud)
    client, project = member.client, member.project_id
    quota = {"quota_set": {"instances": 1}}
    assert world.admin("PUT", f"/os-quota-sets/{project}", json=quota).status_code == 200
    c = Servers(client)
    # The image is the first project's: share it.
    images = world.mine.client
    resp = images.patch(
        f"/image/v2/images/{IMAGE[0]}",
        json=[{"op": "replace", "path": "/visibility", "value": "shared"}],
        headers={"Content-Type": "application/openstack-images-v2.1-json-patch"},
    )
    assert resp.status_code == 200, resp.text
    resp = images.post(f"/image/v2/images/{IMAGE[0]}/members", json={"member": project})
    assert resp.status_code == 200, resp.text
    first = c.boot("q1", networks="none")["server"]["id"]
    c.until(first, "ACTIVE")
    resp = c.create(name="q2", networks="none")
    assert fault_of(resp, 403) == (
        "Quota exceeded for instances: Requested 1, but already used 1 of 1 instances"
    )
    assert resp.json()["forbidden"]["code"] == 403
    # min_count over the quota: the same 403.
    resp = c.create(name="q3", networks="none", min_count=2)
    assert "Quota exceeded for instances" in fault_of(resp, 403)
    assert c("DELETE", f"/servers/{first}").status_code == 204
    client.close()


# -- isolation, locks and states ----------------------------------------------------------------


@pytest.fixture(scope="module")
def vm(world: World) -> Iterator[str]:
    """An ACTIVE server of the module's project, on its network."""
    uuid = str(world.mine.boot("iso", networks=[{"uuid": world.network}])["server"]["id"])
    world.mine.until(uuid, "ACTIVE")
    yield uuid
    world.admin("DELETE", f"/servers/{uuid}")
    world.admin.gone(uuid)


def test_other_projects_server_is_404(world: World, vm: str) -> None:
    o = world.other
    msg = f"Instance {vm} could not be found."
    assert fault_of(o("GET", f"/servers/{vm}"), 404) == msg
    assert fault_of(o("PUT", f"/servers/{vm}", json={"server": {"name": "mine"}}), 404) == msg
    assert fault_of(o("DELETE", f"/servers/{vm}"), 404) == msg
    assert fault_of(o.act(vm, {"os-stop": None}), 404) == msg
    assert fault_of(o.act(vm, {"reboot": {"type": "HARD"}}), 404) == msg
    assert o("GET", f"/servers/{vm}/os-instance-actions").status_code == 404
    # Not in its lists either, even asking for every project.
    assert vm not in [s["id"] for s in o("GET", "/servers/detail").json()["servers"]]
    assert o("GET", "/servers", params={"all_tenants": "1"}).status_code == 403
    # The owner still has it, untouched; the admin sees it with all_tenants.
    assert world.mine.show(vm)["name"] == "iso"
    listed = world.admin("GET", "/servers", params={"all_tenants": "1", "name": "^iso$"})
    assert vm in [s["id"] for s in listed.json()["servers"]]


def test_locked_server(world: World, vm: str) -> None:
    c = world.mine
    assert c.act(vm, {"lock": {"locked_reason": "audit"}}, "2.73").status_code == 202
    shown = c.show(vm, "2.73")
    assert shown["locked"] is True and shown["locked_reason"] == "audit"
    assert fault_of(c("DELETE", f"/servers/{vm}"), 409) == f"Instance {vm} is locked"
    assert fault_of(c.act(vm, {"os-stop": None}), 409) == f"Instance {vm} is locked"
    # The list can be filtered on it (2.73).
    locked = c("GET", "/servers", "2.73", params={"locked": "true"}).json()["servers"]
    assert [s["id"] for s in locked] == [vm]
    assert c.act(vm, {"unlock": None}).status_code == 202
    assert c.show(vm, "2.73")["locked_reason"] is None
    # An admin's lock: the owner may not lift it.
    assert world.admin.act(vm, {"lock": None}).status_code == 202
    assert c.act(vm, {"unlock": None}).status_code == 403
    assert world.admin.act(vm, {"unlock": None}).status_code == 202
    assert c.show(vm, "2.9")["locked"] is False


def test_actions_in_the_wrong_state(world: World, vm: str) -> None:
    c = world.mine
    msg = fault_of(c.act(vm, {"unpause": None}), 409)
    assert msg == f"Cannot 'unpause' instance {vm} while it is in vm_state active"
    msg = fault_of(c.act(vm, {"confirmResize": None}), 409)
    assert msg == f"Cannot 'confirmResize' instance {vm} while it is in vm_state active"
    assert fault_of(c.act(vm, {"revertResize": None}), 409)
    assert fault_of(c.act(vm, {"os-start": None}), 409)
    assert fault_of(c.act(vm, {"resume": None}), 409)
    # Bad action bodies: 400.
    assert c.act(vm, {"reboot": {"type": "GENTLE"}}).status_code == 400
    assert c.act(vm, {"no-such-action": None}).status_code == 400
    assert c.act(vm, {"resize": {"flavorRef": NANO}}).status_code == 400  # same flavor
    assert c.show(vm)["status"] == "ACTIVE"


def test_migrations_are_refused_clearly(world: World, vm: str) -> None:
    for body in ({"migrate": None}, {"os-migrateLive": {"host": None, "block_migration": "auto"}}):
        msg = fault_of(world.admin.act(vm, body, "2.30"), 400)
        assert "single compute host" in msg and vm in msg
    # Members may not migrate at all.
    assert world.mine.act(vm, {"migrate": None}).status_code == 403
    # The state check comes first, as in Nova: a paused server cannot be cold-migrated (409).
    assert world.mine.act(vm, {"pause": None}).status_code == 202
    world.mine.until(vm, "PAUSED")
    msg = fault_of(world.admin.act(vm, {"migrate": None}), 409)
    assert msg == f"Cannot 'migrate' instance {vm} while it is in vm_state paused"
    assert world.mine.act(vm, {"unpause": None}).status_code == 202
    world.mine.until(vm, "ACTIVE")


def test_reset_state_is_for_admins(world: World, vm: str) -> None:
    assert world.mine.act(vm, {"os-resetState": {"state": "error"}}).status_code == 403
    assert world.admin.act(vm, {"os-resetState": {"state": "error"}}).status_code == 202
    assert world.mine.show(vm)["status"] == "ERROR"
    assert world.admin.act(vm, {"os-resetState": {"state": "bogus"}}).status_code == 400
    assert world.admin.act(vm, {"os-resetState": {"state": "active"}}).status_code == 202
    assert world.mine.show(vm)["status"] == "ACTIVE"
    actions = world.mine("GET", f"/servers/{vm}/os-instance-actions").json()["instanceActions"]
    assert [a["action"] for a in actions[:2]] == ["resetState", "resetState"]


def test_instance_actions_with_events(world: World) -> None:
    c = world.mine
    uuid = c.boot("acts")["server"]["id"]
    c.until(uuid, "ACTIVE")
    assert c.act(uuid, {"os-stop": None}).status_code == 202
    c.until(uuid, "SHUTOFF")
    listed = c("GET", f"/servers/{uuid}/os-instance-actions", "2.58")
    body = check(listed, "2.58", "list_instance_actions")
    assert [a["action"] for a in body["instanceActions"]] == ["stop", "create"]
    stop = body["instanceActions"][0]
    assert stop["instance_uuid"] == uuid and stop["message"] is None
    shown = c("GET", f"/servers/{uuid}/os-instance-actions/{stop['request_id']}", "2.84")
    action = check(shown, "2.84", "show_instance_action")["instanceAction"]
    (event,) = action["events"]
    assert event["event"] == "compute_stop_instance" and event["result"] == "Success"
    assert event["hostId"] and "host" not in event and "traceback" not in event
    # An admin sees the host and the traceback too.
    as_admin = world.admin("GET", f"/servers/{uuid}/os-instance-actions/{stop['request_id']}",
                           "2.84").json()["instanceAction"]  # fmt: skip
    assert as_admin["events"][0]["host"] and "traceback" in as_admin["events"][0]
    missing = c("GET", f"/servers/{uuid}/os-instance-actions/req-nothing")
    assert missing.status_code == 404
    # Pages (2.58).
    page = c("GET", f"/servers/{uuid}/os-instance-actions", "2.58", params={"limit": 1}).json()
    assert [a["action"] for a in page["instanceActions"]] == ["stop"]
    after = c("GET", f"/servers/{uuid}/os-instance-actions", "2.58",
              params={"marker": stop["request_id"]}).json()  # fmt: skip
    assert [a["action"] for a in after["instanceActions"]] == ["create"]
    assert c("DELETE", f"/servers/{uuid}").status_code == 204
    c.gone(uuid)
    # A deleted server's actions stay readable (2.21).
    deleted = c("GET", f"/servers/{uuid}/os-instance-actions", "2.21").json()
    assert [a["action"] for a in deleted["instanceActions"]] == ["delete", "stop", "create"]


def test_bad_integer_query_parameters_are_400s(world: World, vm: str) -> None:
    c = world.mine
    for path, mv in (
        (f"/servers/{vm}/os-instance-actions", "2.58"),
        ("/servers", "2.1"),
        ("/servers/detail", "2.1"),
        (f"/servers/{vm}/os-volume_attachments", "2.1"),
    ):
        for bad in ("abc", "-1", "1.5"):
            message = fault_of(c("GET", path, mv, params={"limit": bad}), 400)
            assert "limit" in message, (path, bad, message)
    assert "badRequest" in c("GET", "/servers", params={"limit": "x"}).json()


# -- microversions, networks, counts ----------------------------------------------------------


def test_version_headers(world: World) -> None:
    resp = world.mine("GET", "/servers", "2.47")
    assert resp.headers["OpenStack-API-Version"] == "compute 2.47"
    assert resp.headers["X-OpenStack-Nova-API-Version"] == "2.47"
    assert "OpenStack-API-Version" in resp.headers["Vary"]
    legacy = world.mine.client.get(f"{C}/servers", headers={"X-OpenStack-Nova-API-Version": "2.5"})
    assert legacy.headers["OpenStack-API-Version"] == "compute 2.5"
    latest = world.mine("GET", "/servers", "latest")
    assert latest.headers["OpenStack-API-Version"] == "compute 2.96"
    default = world.mine.client.get(f"{C}/servers")
    assert default.headers["OpenStack-API-Version"] == "compute 2.1"
    too_new = world.mine("GET", "/servers", "2.200")
    assert too_new.status_code == 406
    assert "2.200" in fault_of(too_new, 406)
    assert world.mine("GET", "/servers", "3.0").status_code == 406
    assert world.mine("GET", "/servers", "2.x").status_code == 400


def test_networks_at_237(world: World) -> None:
    c = world.mine
    body = {"server": {"name": "x", "imageRef": IMAGE[0], "flavorRef": NANO}}
    resp = c("POST", "/servers", "2.37", json=body)
    assert "networks" in fault_of(resp, 400)
    body["server"]["networks"] = "everything"
    assert c("POST", "/servers", "2.37", json=body).status_code == 400

    # "auto": the project's one network; "none": no port at all.
    auto = c.boot("auto", "2.37", networks="auto")["server"]["id"]
    none = c.boot("none", "2.37", networks="none")["server"]["id"]
    addresses = c.until(auto, "ACTIVE")["addresses"]
    assert list(addresses) == ["private"]
    assert addresses["private"][0]["addr"].startswith("10.62.0.")
    assert c.until(none, "ACTIVE")["addresses"] == {}
    ports = c.client.get("/network/v2.0/ports", params={"device_id": auto}).json()["ports"]
    assert len(ports) == 1 and ports[0]["device_owner"].startswith("compute:")
    for uuid in (auto, none):
        assert c("DELETE", f"/servers/{uuid}").status_code == 204
    c.gone(auto)
    ports = c.client.get("/network/v2.0/ports", params={"device_id": auto}).json()["ports"]
    assert ports == []


def test_min_and_max_count(world: World) -> None:
    c = world.mine
    name = unique("x")
    made = c.boot(name, min_count=2, max_count=2, return_reservation_id=True)
    reservation = made["reservation_id"]
    listed = c("GET", "/servers/detail", params={"reservation_id": reservation}).json()
    names = sorted(s["name"] for s in listed["servers"])
    assert names == [f"{name}-1", f"{name}-2"]
    for s in listed["servers"]:
        c.until(s["id"], "ACTIVE")
        assert c("DELETE", f"/servers/{s['id']}").status_code == 204
    assert c.boot("x", status=400, min_count=3, max_count=2)
    assert c.boot("x", status=400, min_count=0)


# -- lists: filters, sort, pages ------------------------------------------------------------


def test_list_filters_sort_and_pages(world: World) -> None:
    c = world.mine
    tag = unique("t")
    before = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
    uuids = []
    for i in range(3):
        body = c.boot(f"{tag}-{i}", "2.52", tags=[tag, f"n{i}"])
        uuids.append(body["server"]["id"])
    for uuid in uuids:
        c.until(uuid, "ACTIVE")
    assert c.act(uuids[0], {"os-stop": None}).status_code == 202
    c.until(uuids[0], "SHUTOFF")

    def names(path: str = "/servers", mv: str = "2.1", **params: Any) -> list[str]:
        resp = c("GET", path, mv, params=params)
        assert resp.status_code == 200, resp.text
        return [s["name"] for s in resp.json()["servers"]]

    # Newest first by default; the name is a regular expression.
    assert names(name=f"^{tag}-") == [f"{tag}-2", f"{tag}-1", f"{tag}-0"]
    assert names(name=f"{tag}-[12]$") == [f"{tag}-2", f"{tag}-1"]
    assert names(name=f"^{tag}", status="SHUTOFF") == [f"{tag}-0"]
    assert names(name=f"^{tag}", status="ACTIVE") == [f"{tag}-2", f"{tag}-1"]
    assert names(name=f"^{tag}", status="NOSUCH") == []
    assert names(name=f"^{tag}", sort_key="display_name", sort_dir="asc") == [
        f"{tag}-0", f"{tag}-1", f"{tag}-2"
    ]  # fmt: skip
    assert c("GET", "/servers", params={"sort_key": "nosuch"}).status_code == 400
    since = before.isoformat() + "Z"
    assert len(names("/servers/detail", **{"changes-since": since, "name": f"^{tag}"})) == 3
    future = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert names(**{"changes-since": future}) == []
    assert c("GET", "/servers", params={"changes-since": "yesterday"}).status_code == 400
    # Tags filters (2.26).
    assert names("/servers", "2.26", tags=tag) == [f"{tag}-2", f"{tag}-1", f"{tag}-0"]
    assert names("/servers", "2.26", tags=f"{tag},n1") == [f"{tag}-1"]
    assert names("/servers", "2.26", **{"tags-any": "n0,n2", "name": f"^{tag}"}) == [
        f"{tag}-2", f"{tag}-0"
    ]  # fmt: skip
    assert names("/servers", "2.26", **{"not-tags": "n1", "name": f"^{tag}"}) == [
        f"{tag}-2", f"{tag}-0"
    ]  # fmt: skip
    assert c.show(uuids[1], "2.26")["tags"] == sorted([tag, "n1"])

    # Pages: limit, then the "next" link's marker.
    first = c("GET", "/servers", params={"limit": 2, "name": f"^{tag}"}).json()
    assert [s["name"] for s in first["servers"]] == [f"{tag}-2", f"{tag}-1"]
    (link,) = first["servers_links"]
    assert link["rel"] == "next" and f"marker={uuids[1]}" in link["href"]
    rest = c.client.get(link["href"]).json()
    assert [s["name"] for s in rest["servers"]] == [f"{tag}-0"]
    assert "servers_links" not in rest
    bad_marker = c("GET", "/servers", params={"marker": "8bfb1d0a-0000-0000-0000-000000000000"})
    assert bad_marker.status_code == 400
    for uuid in uuids:
        assert c("DELETE", f"/servers/{uuid}").status_code == 204


def test_flavor_embedded_at_247(world: World, vm: str) -> None:
    old = world.mine.show(vm, "2.46")["flavor"]
    assert old["id"] == NANO and old["links"][0]["rel"] == "bookmark"
    assert old["links"][0]["href"].endswith(f"/compute/flavors/{NANO}")
    new = world.mine.show(vm, "2.47")["flavor"]
    assert new == {"vcpus": 1, "ram": 64, "disk": 1, "ephemeral": 0, "swap": 0,
                   "original_name": "m1.nano", "extra_specs": {}}  # fmt: skip


def test_admin_only_fields(world: World, vm: str) -> None:
    for mv in ("2.1", "2.3", "2.16", "2.90"):
        member = world.mine.show(vm, mv)
        admin = world.admin.show(vm, mv)
        hidden = {k for k in member if k.startswith("OS-EXT-SRV-ATTR:")}
        assert hidden == ({"OS-EXT-SRV-ATTR:hostname"} if mv == "2.90" else set()), mv
        assert admin["OS-EXT-SRV-ATTR:host"] and admin["OS-EXT-SRV-ATTR:instance_name"]
        assert ("host_status" in admin) is (mv in ("2.16", "2.90"))
        assert "host_status" not in member
    # A member may not list by host, nor see other projects' servers.
    listed = world.mine("GET", "/servers", params={"host": "nowhere"}).json()["servers"]
    assert vm in [s["id"] for s in listed]  # the filter is ignored for members


def test_unplaceable_boot_is_error_with_fault(world: World) -> None:
    # More memory than the fake host's 1 TiB.
    flavor = new_flavor(world, "huge", 4 * 1024 * 1024)
    uuid = world.mine.boot("huge", flavorRef=flavor)["server"]["id"]
    server = world.mine.until(uuid, "ERROR")
    assert server["fault"]["code"] == 500
    assert server["fault"]["message"].startswith("No valid host was found")
    assert "details" not in server["fault"]  # a 500's details are for admins
    assert server["OS-EXT-STS:vm_state"] == "error"
    for mv in SCHEMA_VERSIONS:
        check(world.mine("GET", f"/servers/{uuid}", mv), mv, "get_server")
        check(world.admin("GET", f"/servers/{uuid}", mv), mv, "get_server")
    actions = world.mine("GET", f"/servers/{uuid}/os-instance-actions").json()["instanceActions"]
    assert actions[0]["action"] == "create" and actions[0]["message"] == "Error"
    # An ERROR server deletes at once.
    assert world.mine("DELETE", f"/servers/{uuid}").status_code == 204
    world.mine.gone(uuid)
    world.admin("DELETE", f"/flavors/{flavor}")


def test_update_server(world: World, vm: str) -> None:
    c = world.mine
    resp = c("PUT", f"/servers/{vm}", "2.19", json={"server": {"description": "the iso one"}})
    assert resp.status_code == 200 and resp.json()["server"]["description"] == "the iso one"
    assert c("PUT", f"/servers/{vm}", json={"server": {"description": "x"}}).status_code == 400
    assert c("PUT", f"/servers/{vm}", json={"server": {"name": ""}}).status_code == 400
    assert c("PUT", f"/servers/{vm}", json={"server": {"flavor": "x"}}).status_code == 400


# -- schemas ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mv", SCHEMA_VERSIONS)
def test_server_bodies_match_tempest(world: World, vm: str, mv: str) -> None:
    for client in (world.mine, world.admin):
        body = check(client("GET", f"/servers/{vm}", mv), mv, "get_server")
        assert body["server"]["id"] == vm
        params = {"all_tenants": "1"} if client is world.admin else {}
        check(client("GET", "/servers/detail", mv, params=params), mv, "list_servers_detail")
        check(client("GET", "/servers", mv, params=params), mv, "list_servers")
        check(client("PUT", f"/servers/{vm}", mv, json={"server": {"name": "iso"}}), mv,
              "update_server")  # fmt: skip


def test_create_and_action_bodies_match_tempest(world: World) -> None:
    c = world.mine
    resp = c.create(name="shape")
    uuid = check(resp, "2.1", "create_server_with_admin_pass")["server"]["id"]
    assert resp.headers["Location"].endswith(f"/compute/v2.1/servers/{uuid}")
    c.until(uuid, "ACTIVE")
    walk = [("os-stop", "SHUTOFF"), ("os-start", "ACTIVE"), ("pause", "PAUSED"),
            ("unpause", "ACTIVE"), ("suspend", "SUSPENDED"), ("resume", "ACTIVE")]  # fmt: skip
    for op, status in walk:
        assert c.act(uuid, {op: None}).status_code == 202
        server = c.until(uuid, status)
        check(c("GET", f"/servers/{uuid}", "2.96"), "2.96", "get_server")
        assert server["status"] == status
    # Before 2.75 a rebuild answers with fewer fields than a show; key_name from 2.54,
    # user_data from 2.57; the password always (Nova's enable_instance_password).
    for mv in ("2.1", "2.54", "2.57", "2.71", "2.75", "2.96"):
        rebuilt = c.act(uuid, {"rebuild": {"imageRef": IMAGE[0], "name": f"re-{mv}"}}, mv)
        body = check(rebuilt, mv, "rebuild_server_with_admin_pass")["server"]
        assert body["name"] == f"re-{mv}" and body["status"] == "REBUILD"
        assert ("key_name" in body) is (mv != "2.1")
        assert ("OS-EXT-STS:vm_state" in body) is (mv in ("2.75", "2.96"))
        assert "OS-EXT-SRV-ATTR:user_data" not in body
        c.until(uuid, "ACTIVE")
    resized = c.act(uuid, {"resize": {"flavorRef": TINY}})
    assert resized.status_code == 202
    server = c.until(uuid, "VERIFY_RESIZE")
    check(c("GET", f"/servers/{uuid}", "2.96"), "2.96", "get_server")
    assert server["flavor"]["id"] == TINY
    assert c.act(uuid, {"confirmResize": None}).status_code == 204
    assert c.until(uuid, "ACTIVE")["flavor"]["id"] == TINY
    snap = c.act(uuid, {"createImage": {"name": "shape-snap"}}, "2.45")
    image_id = snap.json()["image_id"]
    deadline = time.monotonic() + 30
    while c.client.get(f"/image/v2/images/{image_id}").json()["status"] != "active":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    console = c.act(uuid, {"os-getConsoleOutput": {"length": 5}})
    assert console.status_code == 200 and "onestack-guest ready" in console.json()["output"]
    assert c("DELETE", f"/servers/{uuid}").status_code == 204
    c.gone(uuid)
    assert c("GET", f"/servers/{uuid}").status_code == 404


def test_trigger_crash_dump_sends_an_nmi(world: World) -> None:
    c = world.mine
    uuid = c.running("dumped")
    assert c.act(uuid, {"trigger_crash_dump": None}, "2.16").status_code == 404  # from 2.17
    assert fault_of(c.act(uuid, {"trigger_crash_dump": {"now": True}}, "2.17"), 400)
    assert world.other.act(uuid, {"trigger_crash_dump": None}, "2.17").status_code == 404
    assert c.act(uuid, {"trigger_crash_dump": None}, "2.17").status_code == 202
    deadline = time.monotonic() + 30
    while "NMI received" not in c.act(uuid, {"os-getConsoleOutput": {}}).json()["output"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    (action, *_) = c("GET", f"/servers/{uuid}/os-instance-actions").json()["instanceActions"]
    assert action["action"] == "trigger_crash_dump"
    assert c.act(uuid, {"os-stop": None}).status_code == 202
    c.until(uuid, "SHUTOFF")
    assert fault_of(c.act(uuid, {"trigger_crash_dump": None}, "2.17"), 409)  # not running
    c.delete(uuid)


def test_rescue_and_unrescue(world: World) -> None:
    c = world.mine
    uuid = c.running("rescued")
    rescued = c.act(uuid, {"rescue": {"adminPass": "s3cret-rescue"}})
    assert check(rescued, "2.1", "rescue_server_with_admin_pass") == {"adminPass": "s3cret-rescue"}
    server = c.until(uuid, "RESCUE")
    assert server["OS-EXT-STS:vm_state"] == "rescued" and server["OS-EXT-STS:power_state"] == 1
    output = c.act(uuid, {"os-getConsoleOutput": {}}).json()["output"]
    assert f"rescue from image {IMAGE[0]}" in output
    # What a rescued server refuses: Nova's 409s.
    refused = [{"rescue": None}, {"reboot": {"type": "SOFT"}}, {"resize": {"flavorRef": TINY}},
               {"rebuild": {"imageRef": IMAGE[0]}}, {"shelve": None}]  # fmt: skip
    for body in refused:
        assert fault_of(c.act(uuid, body), 409)
    assert c.act(uuid, {"unrescue": None}).status_code == 202
    assert c.until(uuid, "ACTIVE")["OS-EXT-STS:power_state"] == 1
    assert fault_of(c.act(uuid, {"unrescue": None}), 409)  # not rescued
    # A stopped server can be rescued too, from another image; a password is made up.
    assert c.act(uuid, {"os-stop": None}).status_code == 202
    c.until(uuid, "SHUTOFF")
    rescue_image = upload_image(c.client, unique("rescue"))
    again = c.act(uuid, {"rescue": {"rescue_image_ref": rescue_image}}, "2.96")
    assert again.status_code == 200 and len(again.json()["adminPass"]) >= 8
    c.until(uuid, "RESCUE")
    assert f"rescue from image {rescue_image}" in c.act(uuid, {"os-getConsoleOutput": {}}).text
    actions = c("GET", f"/servers/{uuid}/os-instance-actions").json()["instanceActions"]
    assert [a["action"] for a in actions[:3]] == ["rescue", "stop", "unrescue"]
    assert c.act(uuid, {"unrescue": None}).status_code == 202
    c.until(uuid, "ACTIVE")
    # Bad input, another project's server, a locked one.
    for bad_body in ({"color": "red"}, {"adminPass": 7}, {"rescue_image_ref": 7}, []):
        assert fault_of(c.act(uuid, {"rescue": bad_body}), 400)
    unknown = c.act(uuid, {"rescue": {"rescue_image_ref": "5f0c3a1e-0000-4000-8000-000000000000"}})
    assert fault_of(unknown, 400)
    assert world.other.act(uuid, {"rescue": None}).status_code == 404
    assert world.admin.act(uuid, {"lock": None}).status_code == 202
    assert fault_of(c.act(uuid, {"rescue": None}), 409)
    assert world.admin.act(uuid, {"unlock": None}).status_code == 202
    c.delete(uuid)


def test_backups_rotate_out_the_oldest_of_their_type(world: World) -> None:
    c = world.mine
    uuid = c.running("backed")

    def backups(kind: str) -> list[str]:
        params = {"image_type": "backup", "backup_type": kind, "instance_uuid": uuid,
                  "sort_key": "created_at", "sort_dir": "asc"}  # fmt: skip
        images = world.admin_raw.get("/image/v2/images", params=params).json()["images"]
        return [i["name"] for i in images]

    def backup(name: str, kind: str = "daily", rotation: Any = 2, mv: str = "2.45") -> Any:
        body = {"name": name, "backup_type": kind, "rotation": rotation}
        resp = c.act(uuid, {"createBackup": body}, mv)
        assert resp.status_code == 202, resp.text
        c.until(uuid, "ACTIVE")  # the rotation is done before the server leaves its task
        return resp

    image_id = check(backup("b1"), "2.45", "create_backup")["image_id"]
    image = world.admin_raw.get(f"/image/v2/images/{image_id}").json()
    assert image["status"] == "active" and image["image_type"] == "backup"
    assert image["backup_type"] == "daily" and image["instance_uuid"] == uuid
    backup("b2", rotation="2")  # Nova takes a string of digits too
    assert backups("daily") == ["b1", "b2"]
    backup("b3")
    assert backups("daily") == ["b2", "b3"]  # b1 rotated out
    assert world.admin_raw.get(f"/image/v2/images/{image_id}").status_code == 404
    # Another type keeps its own count; before 2.45 the image is in the Location header.
    weekly = backup("w1", kind="weekly", rotation=1, mv="2.1")
    assert weekly.headers["Location"].endswith("/images/" + backups_id(world, "w1"))
    assert backups("daily") == ["b2", "b3"] and backups("weekly") == ["w1"]
    # A rotation of 0 keeps none, the new one included, and names no image.
    assert "Location" not in backup("w2", kind="weekly", rotation=0, mv="2.1").headers
    assert backups("weekly") == []
    actions = c("GET", f"/servers/{uuid}/os-instance-actions").json()["instanceActions"]
    assert actions[0]["action"] == "createBackup"
    # Bad input: Nova's schema.
    good = {"name": "x", "backup_type": "daily", "rotation": 1}
    bad_bodies = [{k: v for k, v in good.items() if k != missing} for missing in good]
    bad_bodies += [{**good, "rotation": -1}, {**good, "rotation": "two"},
                   {**good, "backup_type": 7}, {**good, "color": "red"}]  # fmt: skip
    for bad_body in bad_bodies:
        assert fault_of(c.act(uuid, {"createBackup": bad_body}), 400)
    # Another project's server is not there; a shelved one can't be backed up.
    other = world.other.act(
        uuid, {"createBackup": {"name": "x", "backup_type": "d", "rotation": 1}}
    )
    assert other.status_code == 404
    assert c.act(uuid, {"shelve": None}).status_code == 202
    c.until(uuid, "SHELVED_OFFLOADED")
    refused = c.act(uuid, {"createBackup": {"name": "x", "backup_type": "d", "rotation": 1}})
    assert fault_of(refused, 409)
    c("DELETE", f"/servers/{uuid}")
    c.gone(uuid)
    for name in ("b2", "b3"):
        world.admin_raw.delete(f"/image/v2/images/{backups_id(world, name)}")


def backups_id(world: World, name: str) -> str:
    images = world.admin_raw.get("/image/v2/images", params={"name": name}).json()["images"]
    assert len(images) == 1, images
    return str(images[0]["id"])


def test_shelve_offloads_and_unshelve_boots_again(world: World) -> None:
    c = world.mine
    uuid = str(c.boot("shelf", networks=[{"uuid": world.network}])["server"]["id"])
    c.until(uuid, "ACTIVE")
    port_before = c.show(uuid)["addresses"]
    assert c.act(uuid, {"shelve": None}).status_code == 202
    shelved = c.until(uuid, "SHELVED_OFFLOADED")
    assert shelved["OS-EXT-STS:power_state"] == 4
    images = world.admin_raw.get("/image/v2/images", params={"name": "shelf-shelved"}).json()
    assert [i["status"] for i in images["images"]] == ["active"]
    assert fault_of(c.act(uuid, {"shelve": None}), 409)  # already shelved
    assert c.act(uuid, {"unshelve": None}).status_code == 202
    assert c.until(uuid, "ACTIVE")["addresses"] == port_before  # the same port and address
    images = world.admin_raw.get("/image/v2/images", params={"name": "shelf-shelved"}).json()
    assert images["images"] == []  # the shelved image is gone once the server runs again
    # Deleting a shelved server deletes its image too.
    assert c.act(uuid, {"shelve": None}).status_code == 202
    c.until(uuid, "SHELVED_OFFLOADED")
    c("DELETE", f"/servers/{uuid}")
    c.gone(uuid)
    images = world.admin_raw.get("/image/v2/images", params={"name": "shelf-shelved"}).json()
    assert images["images"] == []


def test_summary_and_detail_lists_filter_on_addresses(world: World, vm: str) -> None:
    addr = next(iter(world.mine.show(vm)["addresses"].values()))[0]["addr"]
    for path in ("/servers", "/servers/detail"):
        for query in ({"ip": addr}, {"ip": addr.rsplit(".", 1)[0] + r"\."}):
            resp = world.mine("GET", path, params=query)
            assert resp.status_code == 200, resp.text
            assert vm in [s["id"] for s in resp.json()["servers"]], (path, query)
        resp = world.mine("GET", path, params={"ip": "10.254.254.254"})
        assert vm not in [s["id"] for s in resp.json()["servers"]]
