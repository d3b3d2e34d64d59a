"""Instances in Chromium: the launch dialog, every family of actions through the page (the
state checked through the API), the detail page's tabs, bad input, and isolation."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import api, image, server, shot, token
from tests.support.cloud import Cloud
from tests.support.keystone import unique

COMPUTE = "/compute/v2.1"
NEW = {"openstack-api-version": "compute 2.96"}


def _server(cloud: Cloud, tok: str, server_id: str) -> dict[str, Any]:
    found = api(cloud, "GET", f"{COMPUTE}/servers/{server_id}", tok, headers=NEW)
    return dict(found["server"])


def _until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait for a state the fake drivers reach quickly (their work runs on the bus)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the state was not reached in time"
        time.sleep(0.2)


def _status(cloud: Cloud, tok: str, server_id: str, status: str) -> None:
    def reached() -> bool:
        s = _server(cloud, tok, server_id)
        return bool(s["status"] == status and not s.get("OS-EXT-STS:task_state"))

    _until(reached)


def _menu(page: Page, cloud: Cloud, server_id: str, item: str) -> None:
    """Open the instance's action menu on its row of the list and choose ``item``."""
    page.goto(f"{cloud.url}/dashboard/project/instances/")
    row = page.locator(f"#instance-{server_id}")
    row.get_by_text("Actions").click()
    menu = row.locator(".menu")
    menu.get_by_role("button", name=item, exact=True).or_(
        menu.get_by_role("link", name=item, exact=True)
    ).click()


def _flavor(cloud: Cloud, name: str) -> str:
    flavors = api(cloud, "GET", f"{COMPUTE}/flavors", token(cloud))["flavors"]
    return str(next(f["id"] for f in flavors if f["name"] == name))


Made = Callable[..., dict[str, Any]]


@pytest.fixture
def made(cloud: Cloud) -> Iterator[Made]:
    """Servers of the demo project made for the test (ACTIVE), deleted after it: the
    project's quota of 10 is shared by every test of the session."""
    tok = token(cloud)
    ids: list[str] = []

    def make(**extra: Any) -> dict[str, Any]:
        sid = server(cloud, tok, unique("dash-vm"), **extra)["id"]
        ids.append(sid)
        _status(cloud, tok, sid, "ACTIVE")
        return _server(cloud, tok, sid)

    yield make
    _delete(cloud, tok, ids)


def _ports(cloud: Cloud, tok: str, server_id: str) -> list[Any]:
    return list(api(cloud, "GET", f"/network/v2.0/ports?device_id={server_id}", tok)["ports"])


def _delete(cloud: Cloud, tok: str, ids: list[str]) -> None:
    for sid in ids:
        headers = {"x-auth-token": tok}
        httpx.delete(f"{cloud.url}{COMPUTE}/servers/{sid}", headers=headers, timeout=60)


def test_launch_through_the_dialog(demo_page: Page, cloud: Cloud) -> None:
    page, tok = demo_page, token(cloud)
    image(cloud)
    name = unique("dash-launch")
    page.goto(f"{cloud.url}/dashboard/project/instances/")
    shot(page, "instances")
    page.get_by_role("link", name="Launch Instance").click()
    page.get_by_label("Instance Name").fill(name)
    page.get_by_label("Image", exact=True).select_option(image(cloud))
    page.get_by_label("Flavor").select_option(_flavor(cloud, "m1.tiny"))
    tiny = page.get_by_label("Flavor").locator("option", has_text="m1.tiny")
    expect(tiny).to_have_text(re.compile(r"^m1\.tiny \(\d+ VCPU, \d+ MB RAM, \d+ GB disk\)$"))
    page.get_by_label("Count").fill("2")
    page.get_by_label("Customization Script (user data)").fill("#!/bin/sh\necho hi\n")
    shot(page, "instance-launch")
    page.get_by_role("button", name="Launch Instance").click()
    expect(page.get_by_role("status")).to_contain_text(f'Launched 2 instances "{name}"')
    expect(page.locator("tbody tr", has_text=name)).to_have_count(2)
    found = api(cloud, "GET", f"{COMPUTE}/servers/detail?name={name}", tok, headers=NEW)
    assert len(found["servers"]) == 2
    assert {s["flavor"]["original_name"] for s in found["servers"]} == {"m1.tiny"}
    # The rows turn ACTIVE live (the page polls while a row is busy).
    try:
        for s in found["servers"]:
            expect(page.locator(f"#instance-{s['id']} .status")).to_have_text(
                "ACTIVE", timeout=20_000
            )
        # Delete one through its confirmation page.
        first = found["servers"][0]["id"]
        _menu(page, cloud, first, "Delete Instance")
        page.get_by_role("button", name="Delete Instance").click()
        expect(page.get_by_role("status")).to_contain_text("Scheduled deletion")
        _until(lambda: first not in _ids(cloud, tok, name))
    finally:
        _delete(cloud, tok, [s["id"] for s in found["servers"]])


def _ids(cloud: Cloud, tok: str, name: str) -> set[str]:
    found = api(cloud, "GET", f"{COMPUTE}/servers?name={name}", tok)["servers"]
    return {str(s["id"]) for s in found}


def test_launch_refusals_are_shown_beside_the_field(demo_page: Page, cloud: Cloud) -> None:
    page = demo_page
    admin = token(cloud, "admin", "admin")
    big = api(
        cloud, "POST", "/image/v2/images", admin,
        json={"name": unique("dash-big"), "disk_format": "qcow2", "container_format": "bare",
              "visibility": "public", "min_disk": 500},
    )  # fmt: skip
    api(
        cloud, "PUT", f"/image/v2/images/{big['id']}/file", admin, content=b"\0" * 1024,
        headers={"content-type": "application/octet-stream"},
    )  # fmt: skip
    page.goto(f"{cloud.url}/dashboard/project/instances/launch/")
    # No name: refused before any call.
    page.get_by_label("Flavor").select_option(_flavor(cloud, "m1.tiny"))
    page.get_by_role("button", name="Launch Instance").click()
    expect(page.locator("#err_name")).to_have_text("This field is required.")
    # A flavor too small for the image: Nova's 400, next to the flavor.
    name = unique("dash-small")
    page.get_by_label("Instance Name").fill(name)
    page.get_by_label("Image", exact=True).select_option(big["id"])
    page.get_by_role("button", name="Launch Instance").click()
    refusal = "Flavor's disk is smaller than the minimum size"
    expect(page.locator("#err_flavor")).to_contain_text(refusal)
    expect(page.get_by_label("Instance Name")).to_have_value(name)
    shot(page, "instance-launch-error")


def test_power_actions_and_lock_through_the_menu(demo_page: Page, cloud: Cloud, made: Made) -> None:
    page, tok = demo_page, token(cloud)
    vm = made()
    sid = vm["id"]
    _menu(page, cloud, sid, "Shut Off Instance")
    expect(page.get_by_role("heading", name="Shut Off Instance")).to_be_visible()
    page.get_by_role("button", name="Shut Off Instance").click()
    expect(page.get_by_role("status")).to_contain_text("Shutting off")
    _status(cloud, tok, sid, "SHUTOFF")
    _menu(page, cloud, sid, "Start Instance")
    expect(page.get_by_role("status")).to_contain_text("Started")
    _status(cloud, tok, sid, "ACTIVE")
    for item, status, undo in (
        ("Pause Instance", "PAUSED", "Resume Instance"),
        ("Suspend Instance", "SUSPENDED", "Resume Suspended Instance"),
    ):
        _menu(page, cloud, sid, item)
        page.get_by_role("button", name=item).click()
        _status(cloud, tok, sid, status)
        _menu(page, cloud, sid, undo)
        _status(cloud, tok, sid, "ACTIVE")
    _menu(page, cloud, sid, "Hard Reboot Instance")
    page.get_by_role("button", name="Hard Reboot Instance").click()
    expect(page.get_by_role("status")).to_contain_text("Hard rebooting")
    _status(cloud, tok, sid, "ACTIVE")
    _menu(page, cloud, sid, "Lock Instance")
    assert _server(cloud, tok, sid)["locked"] is True
    # Locked: only unlock (and delete) is offered to a member.
    page.locator(f"#instance-{sid}").get_by_text("Actions").click()
    expect(page.locator(f"#instance-{sid} .menu li")).to_have_count(2)
    _menu(page, cloud, sid, "Unlock Instance")
    assert _server(cloud, tok, sid)["locked"] is False


def test_a_refusal_after_the_state_changed_is_shown(
    demo_page: Page, cloud: Cloud, made: Made
) -> None:
    page, tok = demo_page, token(cloud)
    sid = made()["id"]
    page.goto(f"{cloud.url}/dashboard/project/instances/{sid}/action/pause/")
    # Meanwhile someone stops it: pausing a stopped instance is Nova's 409.
    api(cloud, "POST", f"{COMPUTE}/servers/{sid}/action", tok, json={"os-stop": None})
    _status(cloud, tok, sid, "SHUTOFF")
    page.get_by_role("button", name="Pause Instance").click()
    expect(page.get_by_role("alert")).to_contain_text("Unable to pause instance")
    expect(page.get_by_role("alert")).to_contain_text("vm_state stopped")


def test_resize_then_confirm_and_shelve(demo_page: Page, cloud: Cloud, made: Made) -> None:
    page, tok = demo_page, token(cloud)
    sid = made()["id"]
    _menu(page, cloud, sid, "Resize Instance")
    page.get_by_label("New Flavor").select_option(_flavor(cloud, "m1.small"))
    shot(page, "instance-resize")
    page.get_by_role("button", name="Resize").click()
    expect(page.get_by_role("status")).to_contain_text("Resizing")
    _status(cloud, tok, sid, "VERIFY_RESIZE")
    _menu(page, cloud, sid, "Confirm Resize/Migrate")
    expect(page.get_by_role("status")).to_contain_text("Confirmed")
    _status(cloud, tok, sid, "ACTIVE")
    assert _server(cloud, tok, sid)["flavor"]["original_name"] == "m1.small"
    _menu(page, cloud, sid, "Shelve Instance")
    page.get_by_role("button", name="Shelve Instance").click()
    _until(lambda: _server(cloud, tok, sid)["status"].startswith("SHELVED"))
    _until(lambda: not _server(cloud, tok, sid).get("OS-EXT-STS:task_state"))
    _menu(page, cloud, sid, "Unshelve Instance")
    _status(cloud, tok, sid, "ACTIVE")


def test_rebuild_and_snapshot(demo_page: Page, cloud: Cloud, made: Made) -> None:
    page, tok = demo_page, token(cloud)
    sid = made()["id"]
    _menu(page, cloud, sid, "Rebuild Instance")
    page.get_by_label("Select Image").select_option(image(cloud))
    page.get_by_role("button", name="Rebuild").click()
    expect(page.get_by_role("status")).to_contain_text("Rebuilding")
    _status(cloud, tok, sid, "ACTIVE")
    actions = api(cloud, "GET", f"{COMPUTE}/servers/{sid}/os-instance-actions", tok)
    assert "rebuild" in {a["action"] for a in actions["instanceActions"]}
    name = unique("dash-snap")
    _menu(page, cloud, sid, "Create Snapshot")
    page.get_by_label("Snapshot Name").fill(name)
    page.get_by_role("button", name="Create Snapshot").click()
    expect(page.get_by_role("status")).to_contain_text(f'Created snapshot "{name}"')
    images = api(cloud, "GET", f"/image/v2/images?name={name}", tok)["images"]
    assert len(images) == 1
    assert images[0]["owner"] == _server(cloud, tok, sid)["tenant_id"]


def test_detail_tabs_log_and_action_log(demo_page: Page, cloud: Cloud, made: Made) -> None:
    page, tok = demo_page, token(cloud)
    vm = made()
    sid = vm["id"]
    api(cloud, "POST", f"{COMPUTE}/servers/{sid}/action", tok, json={"os-stop": None})
    _status(cloud, tok, sid, "SHUTOFF")
    page.goto(f"{cloud.url}/dashboard/project/instances/{sid}/")
    expect(page.get_by_role("heading", name=f"Instance Details: {vm['name']}")).to_be_visible()
    expect(page.locator("dl.details").first).to_contain_text(sid)
    expect(page.get_by_text("m1.tiny", exact=True)).to_be_visible()
    shot(page, "instance-detail")
    page.get_by_role("link", name="Log", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/instances/{sid}/log/$"))
    expect(page.get_by_label("Log Length")).to_have_value("35")
    page.get_by_label("Log Length").fill("5")
    page.get_by_role("button", name="Go").click()
    expect(page).to_have_url(re.compile(r"length=5"))
    expect(page.get_by_label("Console output")).to_contain_text(f"hostname {vm['name']}")
    shot(page, "instance-log")
    page.get_by_role("link", name="Action Log").click()
    expect(page.locator("tbody tr", has_text="stop")).to_have_count(1)
    expect(page.locator("tbody tr", has_text="create")).to_have_count(1)
    # The detail page's own menu: start it again from there.
    page.locator(".instance-head summary").click()
    page.get_by_role("button", name="Start Instance").click()
    expect(page).to_have_url(re.compile(rf"/instances/{sid}/$"))
    _status(cloud, tok, sid, "ACTIVE")


def test_a_member_opening_another_projects_instance_gets_the_404_page(
    demo_page: Page, cloud: Cloud
) -> None:
    admin = token(cloud, "admin", "admin")
    theirs = server(cloud, admin, unique("dash-theirs"))
    try:
        for tail in ("", "log/", "action/stop/", "resize/", "attach_volume/"):
            url = f"{cloud.url}/dashboard/project/instances/{theirs['id']}/{tail}"
            resp = demo_page.goto(url)
            assert resp is not None and resp.status == 404, tail
        expect(demo_page.get_by_role("heading", name="Not Found")).to_be_visible()
    finally:
        _delete(cloud, admin, [theirs["id"]])


def _network(cloud: Cloud, tok: str, cidr: str, **extra: Any) -> tuple[str, str]:
    """A network with one subnet: their ids."""
    body = {"network": {"name": unique("dash-net"), **extra}}
    net = api(cloud, "POST", "/network/v2.0/networks", tok, json=body)["network"]
    body = {"subnet": {"network_id": net["id"], "cidr": cidr, "ip_version": 4}}
    sub = api(cloud, "POST", "/network/v2.0/subnets", tok, json=body)["subnet"]
    return str(net["id"]), str(sub["id"])


def _attached(cloud: Cloud, tok: str, sid: str) -> list[str]:
    path = f"{COMPUTE}/servers/{sid}/os-volume_attachments"
    return [a["volumeId"] for a in api(cloud, "GET", path, tok)["volumeAttachments"]]


def test_volume_attach_shows_on_the_detail_page_and_detaches(
    demo_page: Page, cloud: Cloud, made: Made
) -> None:
    page, tok = demo_page, token(cloud)
    vm = made()
    sid, project = vm["id"], vm["tenant_id"]
    name = unique("dash-vol")
    body = {"volume": {"size": 1, "name": name}}
    vol = api(cloud, "POST", f"/volume/v3/{project}/volumes", tok, json=body)["volume"]
    path = f"/volume/v3/{project}/volumes/{vol['id']}"
    _until(lambda: api(cloud, "GET", path, tok)["volume"]["status"] == "available")
    try:
        _menu(page, cloud, sid, "Attach Volume")
        page.get_by_label("Volume ID").select_option(vol["id"])
        page.get_by_role("button", name="Attach Volume").click()
        expect(page.get_by_role("status")).to_contain_text("Attaching volume")
        _until(lambda: _attached(cloud, tok, sid) == [vol["id"]])
        page.goto(f"{cloud.url}/dashboard/project/instances/{sid}/")
        expect(page.locator("#volumes-attached")).to_contain_text(name)
        _until(lambda: api(cloud, "GET", path, tok)["volume"]["status"] == "in-use")
        _menu(page, cloud, sid, "Detach Volume")
        page.get_by_label("Attached Volume").select_option(vol["id"])
        page.get_by_role("button", name="Detach Volume").click()
        expect(page.get_by_role("status")).to_contain_text("Detaching volume")
        _until(lambda: _attached(cloud, tok, sid) == [])
    finally:
        _until(lambda: api(cloud, "GET", path, tok)["volume"]["status"] == "available")
        api(cloud, "DELETE", path, tok)


def test_interface_attach_and_detach(demo_page: Page, cloud: Cloud, made: Made) -> None:
    page, tok = demo_page, token(cloud)
    net, _ = _network(cloud, tok, "10.71.3.0/24")
    sid = made()["id"]
    path = f"{COMPUTE}/servers/{sid}/os-interface"
    _menu(page, cloud, sid, "Attach Interface")
    # Neither a network nor a port: refused before any call.
    page.get_by_role("button", name="Attach Interface").click()
    expect(page.locator("#err_network")).to_have_text("Choose a network or a port.")
    page.get_by_label("Network").select_option(net)
    page.get_by_role("button", name="Attach Interface").click()
    expect(page.get_by_role("status")).to_contain_text("Attached an interface")
    ports = api(cloud, "GET", path, tok)["interfaceAttachments"]
    assert [p["net_id"] for p in ports] == [net]
    address = ports[0]["fixed_ips"][0]["ip_address"]
    page.goto(f"{cloud.url}/dashboard/project/instances/{sid}/")
    expect(page.locator("dl.details", has_text=address)).to_have_count(1)
    _menu(page, cloud, sid, "Detach Interface")
    page.get_by_label("Port").select_option(ports[0]["port_id"])
    page.get_by_role("button", name="Detach Interface").click()
    expect(page.get_by_role("status")).to_contain_text("Detached interface")
    _until(lambda: api(cloud, "GET", path, tok)["interfaceAttachments"] == [])


def test_floating_ip_allocated_associated_and_disassociated(
    demo_page: Page, cloud: Cloud, made: Made
) -> None:
    page, tok = demo_page, token(cloud)
    admin = token(cloud, "admin", "admin")
    ext, _ = _network(cloud, admin, "10.72.9.0/24", **{"router:external": True})
    net, sub = _network(cloud, tok, "10.71.4.0/24")
    body = {"router": {"name": unique("dash-router"), "external_gateway_info": {"network_id": ext}}}
    router = api(cloud, "POST", "/network/v2.0/routers", tok, json=body)["router"]
    api(cloud, "PUT", f"/network/v2.0/routers/{router['id']}/add_router_interface", tok,
        json={"subnet_id": sub})  # fmt: skip
    sid = made(networks=[{"uuid": net}])["id"]
    port = api(cloud, "GET", f"/network/v2.0/ports?device_id={sid}", tok)["ports"][0]
    _menu(page, cloud, sid, "Associate Floating IP")
    page.get_by_label("IP Address").select_option(f"pool:{ext}")
    page.get_by_label("Port to be associated").select_option(port["id"])
    shot(page, "instance-associate")
    page.get_by_role("button", name="Associate").click()
    expect(page.get_by_role("status")).to_contain_text("Associated floating IP")
    found = api(cloud, "GET", f"/network/v2.0/floatingips?port_id={port['id']}", tok)
    assert len(found["floatingips"]) == 1
    fip = found["floatingips"][0]
    _menu(page, cloud, sid, "Disassociate Floating IP")
    page.get_by_label("Floating IP").select_option(fip["id"])
    page.get_by_role("button", name="Disassociate").click()
    expect(page.get_by_role("status")).to_contain_text(fip["floating_ip_address"])
    after = api(cloud, "GET", f"/network/v2.0/floatingips/{fip['id']}", tok)["floatingip"]
    assert after["port_id"] is None
    api(cloud, "DELETE", f"/network/v2.0/floatingips/{fip['id']}", tok)


def test_launch_onto_a_new_volume_with_a_network_and_a_key_pair(
    demo_page: Page, cloud: Cloud
) -> None:
    page, tok = demo_page, token(cloud)
    net, _ = _network(cloud, tok, "10.71.5.0/24")
    key = unique("dash-key")
    api(cloud, "POST", f"{COMPUTE}/os-keypairs", tok, json={"keypair": {"name": key}})
    name, img = unique("dash-bfv"), image(cloud)
    body = {"security_group": {"name": unique("dash-sg")}}
    group = api(cloud, "POST", "/network/v2.0/security-groups", tok, json=body)["security_group"]
    page.goto(f"{cloud.url}/dashboard/project/instances/launch/")
    page.get_by_label("Instance Name").fill(name)
    page.get_by_label("Image", exact=True).select_option(img)
    page.get_by_label("Create New Volume").check()
    page.get_by_label("Volume Size (GB)").fill("2")
    page.get_by_label("Delete Volume on Instance Delete").check()
    page.get_by_label("Flavor").select_option(_flavor(cloud, "m1.tiny"))
    page.locator(f"#id_net_{net}").check()
    page.get_by_label("Key Pair").select_option(key)
    page.get_by_label(group["name"], exact=True).check()
    page.get_by_role("button", name="Launch Instance").click()
    expect(page.get_by_role("status")).to_contain_text(f'Launched instance "{name}"')
    sid = _ids(cloud, tok, name).pop()
    try:
        _status(cloud, tok, sid, "ACTIVE")
        vm = _server(cloud, tok, sid)
        assert vm["key_name"] == key
        assert vm["image"] == ""  # booted from the new volume
        assert len(vm["os-extended-volumes:volumes_attached"]) == 1
        ports = api(cloud, "GET", f"/network/v2.0/ports?device_id={sid}", tok)["ports"]
        assert [p["network_id"] for p in ports] == [net]
        assert group["id"] in ports[0]["security_groups"]  # with "default", checked already
        page.goto(f"{cloud.url}/dashboard/project/instances/{sid}/")
        expect(page.get_by_text("None (booted from volume)")).to_be_visible()
        expect(page.locator("#volumes-attached a")).to_have_count(1)
    finally:
        _delete(cloud, tok, [sid])
        api(cloud, "DELETE", f"{COMPUTE}/os-keypairs/{key}", tok)
        # The group is in use until the server's port goes (the demo project's quota of
        # security groups is shared by the session's tests).
        _until(lambda: not _ports(cloud, tok, sid), timeout=30)
        api(cloud, "DELETE", f"/network/v2.0/security-groups/{group['id']}", tok)


def test_the_list_at_a_narrow_width_and_its_filters(
    demo_page: Page, cloud: Cloud, made: Made
) -> None:
    page = demo_page
    vm = made()
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{cloud.url}/dashboard/project/instances/")
    page.get_by_label("Instance Name").fill(vm["name"])
    page.get_by_label("Status").select_option("ACTIVE")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator(f"#instance-{vm['id']}")).to_contain_text("dash-image")
    shot(page, "instances-narrow")
    page.get_by_label("Status").select_option("SHUTOFF")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No items to display.")).to_be_visible()


def test_resize_then_revert(demo_page: Page, cloud: Cloud, made: Made) -> None:
    page, tok = demo_page, token(cloud)
    sid = made()["id"]
    _menu(page, cloud, sid, "Resize Instance")
    # The current flavor is not offered; none chosen is refused before any call.
    expect(page.get_by_label("New Flavor").locator("option", has_text="m1.tiny")).to_have_count(0)
    page.get_by_label("New Flavor").evaluate("select => select.removeAttribute('required')")
    page.get_by_role("button", name="Resize").click()
    expect(page.locator("#err_flavor")).to_have_text("This field is required.")
    page.get_by_label("New Flavor").select_option(_flavor(cloud, "m1.small"))
    page.get_by_role("button", name="Resize").click()
    _status(cloud, tok, sid, "VERIFY_RESIZE")
    _menu(page, cloud, sid, "Revert Resize/Migrate")
    page.get_by_role("button", name="Revert Resize/Migrate").click()
    expect(page.get_by_role("status")).to_contain_text("Reverting")
    _status(cloud, tok, sid, "ACTIVE")
    assert _server(cloud, tok, sid)["flavor"]["original_name"] == "m1.tiny"


def _cinder(cloud: Cloud, tok: str, method: str, path: str, **kw: Any) -> Any:
    found = api(cloud, "GET", "/identity/v3/auth/tokens", tok, headers={"x-subject-token": tok})
    return api(cloud, method, f"/volume/v3/{found['token']['project']['id']}{path}", tok, **kw)


def _available(cloud: Cloud, tok: str, path: str, key: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def ready() -> bool:
        found.update(_cinder(cloud, tok, "GET", path)[key])
        assert found["status"] != "error", found
        return found["status"] == "available"

    _until(ready, 30)
    return found


def _drop(cloud: Cloud, tok: str, paths: list[str]) -> None:
    """Delete the volumes and snapshots at ``paths`` (in order) once the deleted servers let
    go of them: the demo project's volume quota (10) is shared by the session's tests."""
    found = api(cloud, "GET", "/identity/v3/auth/tokens", tok, headers={"x-subject-token": tok})
    base = f"{cloud.url}/volume/v3/{found['token']['project']['id']}"
    headers = {"x-auth-token": tok}

    def gone(path: str) -> bool:
        resp = httpx.get(f"{base}{path}", headers=headers, timeout=60)
        if resp.status_code == 404:
            return True
        if next(iter(resp.json().values()))["status"] in ("available", "error"):
            httpx.delete(f"{base}{path}", headers=headers, timeout=60)
        return False

    for path in paths:
        _until(lambda p=path: gone(p), 30)


def _launch_from(page: Page, cloud: Cloud, name: str, source: str, label: str, uuid: str) -> None:
    page.goto(f"{cloud.url}/dashboard/project/instances/launch/")
    page.get_by_label("Instance Name").fill(name)
    page.get_by_label("Select Boot Source").select_option(source)
    choice = page.get_by_label(label, exact=True)
    expect(choice).to_be_visible()  # the chosen source's select, the others hidden
    expect(page.get_by_label("Image", exact=True)).to_be_hidden()
    choice.select_option(uuid)
    page.get_by_label("Flavor").select_option(_flavor(cloud, "m1.tiny"))
    page.get_by_role("button", name="Launch Instance").click()
    expect(page.get_by_role("status")).to_contain_text(f'Launched instance "{name}"')


def test_launch_from_a_bootable_volume_and_a_volume_snapshot(demo_page: Page, cloud: Cloud) -> None:
    page, tok, name = demo_page, token(cloud), unique("dash-bootsrc")
    body = {"volume": {"size": 1, "name": name, "imageRef": image(cloud)}}
    vol = _cinder(cloud, tok, "POST", "/volumes", json=body)["volume"]
    vol = _available(cloud, tok, f"/volumes/{vol['id']}", "volume")
    assert str(vol["bootable"]).lower() == "true"
    body = {"snapshot": {"volume_id": vol["id"], "name": name + "-snap"}}
    snap = _cinder(cloud, tok, "POST", "/snapshots", json=body)["snapshot"]
    _available(cloud, tok, f"/snapshots/{snap['id']}", "snapshot")
    sids: list[str] = []
    paths = [f"/snapshots/{snap['id']}", f"/volumes/{vol['id']}"]
    try:
        _launch_from(page, cloud, name + "-vol", "volume", "Volume", vol["id"])
        sids.append(_ids(cloud, tok, name + "-vol").pop())
        _launch_from(page, cloud, name + "-snap", "volume_snapshot", "Volume Snapshot", snap["id"])
        sids.append(_ids(cloud, tok, name + "-snap").pop())
        for sid in sids:
            _status(cloud, tok, sid, "ACTIVE")
            assert _server(cloud, tok, sid)["image"] == ""  # booted from a volume
        # The first boots from the volume itself, the second from a new volume of the snapshot.
        assert _attached(cloud, tok, sids[0]) == [vol["id"]]
        [made] = _attached(cloud, tok, sids[1])
        paths.insert(0, f"/volumes/{made}")
        assert _cinder(cloud, tok, "GET", f"/volumes/{made}")["volume"]["snapshot_id"] == snap["id"]
        page.goto(f"{cloud.url}/dashboard/project/instances/{sids[0]}/")
        expect(page.get_by_text("None (booted from volume)")).to_be_visible()
    finally:
        _delete(cloud, tok, sids)
        _drop(cloud, tok, paths)
