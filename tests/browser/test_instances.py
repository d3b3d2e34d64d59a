"""Instances in Chromium: the launch dialog, every family of actions through the page (the
state checked through the API), the detail page's tabs, bad input, and isolation."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

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


def _made(cloud: Cloud, tok: str) -> dict[str, Any]:
    made = server(cloud, tok, unique("dash-vm"))
    _status(cloud, tok, made["id"], "ACTIVE")
    return _server(cloud, tok, made["id"])


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
    for s in found["servers"]:
        expect(page.locator(f"#instance-{s['id']} .status")).to_have_text("ACTIVE", timeout=20_000)


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


def test_power_actions_and_lock_through_the_menu(demo_page: Page, cloud: Cloud) -> None:
    page, tok = demo_page, token(cloud)
    made = _made(cloud, tok)
    sid = made["id"]
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


def test_a_refusal_after_the_state_changed_is_shown(demo_page: Page, cloud: Cloud) -> None:
    page, tok = demo_page, token(cloud)
    sid = _made(cloud, tok)["id"]
    page.goto(f"{cloud.url}/dashboard/project/instances/{sid}/action/pause/")
    # Meanwhile someone stops it: pausing a stopped instance is Nova's 409.
    api(cloud, "POST", f"{COMPUTE}/servers/{sid}/action", tok, json={"os-stop": None})
    _status(cloud, tok, sid, "SHUTOFF")
    page.get_by_role("button", name="Pause Instance").click()
    expect(page.get_by_role("alert")).to_contain_text("Unable to pause instance")
    expect(page.get_by_role("alert")).to_contain_text("vm_state stopped")


def test_resize_then_confirm_and_shelve(demo_page: Page, cloud: Cloud) -> None:
    page, tok = demo_page, token(cloud)
    sid = _made(cloud, tok)["id"]
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


def test_rebuild_and_snapshot(demo_page: Page, cloud: Cloud) -> None:
    page, tok = demo_page, token(cloud)
    sid = _made(cloud, tok)["id"]
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


def test_detail_tabs_log_and_action_log(demo_page: Page, cloud: Cloud) -> None:
    page, tok = demo_page, token(cloud)
    made = _made(cloud, tok)
    sid = made["id"]
    api(cloud, "POST", f"{COMPUTE}/servers/{sid}/action", tok, json={"os-stop": None})
    _status(cloud, tok, sid, "SHUTOFF")
    page.goto(f"{cloud.url}/dashboard/project/instances/{sid}/")
    expect(page.get_by_role("heading", name=f"Instance Details: {made['name']}")).to_be_visible()
    expect(page.locator("dl.details").first).to_contain_text(sid)
    expect(page.get_by_text("m1.tiny", exact=True)).to_be_visible()
    shot(page, "instance-detail")
    page.get_by_role("link", name="Log", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/instances/{sid}/log/$"))
    expect(page.get_by_label("Log Length")).to_have_value("35")
    page.get_by_label("Log Length").fill("5")
    page.get_by_role("button", name="Go").click()
    expect(page).to_have_url(re.compile(r"length=5"))
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
    for tail in ("", "log/", "action/stop/", "resize/", "attach_volume/"):
        resp = demo_page.goto(f"{cloud.url}/dashboard/project/instances/{theirs['id']}/{tail}")
        assert resp is not None and resp.status == 404, tail
    expect(demo_page.get_by_role("heading", name="Not Found")).to_be_visible()
