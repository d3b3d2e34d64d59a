"""Volumes in the dashboard: create, edit, extend, attach, snapshot, backup and restore,
transfer, upload to image, delete; each checked through the volume API."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Page, expect

from tests.support.browser import api, image, shot, token
from tests.support.cloud import Cloud
from tests.support.keystone import unique


def _project(cloud: Cloud, tok: str) -> str:
    return str(api(cloud, "GET", "/identity/v3/auth/tokens", tok,
                   headers={"x-subject-token": tok})["token"]["project"]["id"])  # fmt: skip


def _volume(cloud: Cloud, tok: str, volume_id: str) -> dict[str, Any]:
    path = f"/volume/v3/{_project(cloud, tok)}/volumes/{volume_id}"
    return dict(api(cloud, "GET", path, tok)["volume"])


def _until(cloud: Cloud, tok: str, path: str, key: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        found = dict(api(cloud, "GET", f"/volume/v3/{_project(cloud, tok)}{path}", tok)[key])
        if found["status"] == status or time.monotonic() > deadline:
            assert found["status"] == status, found
            return found
        time.sleep(0.2)


def _by_name(cloud: Cloud, tok: str, collection: str, name: str) -> dict[str, Any]:
    path = f"/volume/v3/{_project(cloud, tok)}/{collection}/detail?name={name}"
    found = api(cloud, "GET", path, tok)[collection]
    assert len(found) == 1, found
    return dict(found[0])


def _create(page: Page, cloud: Cloud, name: str, size: str = "1") -> None:
    page.goto(f"{cloud.url}/dashboard/project/volumes/")
    page.get_by_role("link", name="Create Volume").click()
    page.get_by_label("Volume Name").fill(name)
    page.get_by_label("Size (GiB)").fill(size)
    page.get_by_role("button", name="Create Volume").click()


def test_create_edit_extend_delete(demo_page: Page, cloud: Cloud) -> None:
    page, tok, name = demo_page, token(cloud, "demo"), unique("dash-vol")
    _create(page, cloud, name, "2")
    expect(page.get_by_role("status")).to_contain_text(f'Creating volume "{name}"')
    made = _by_name(cloud, tok, "volumes", name)
    row = page.locator(f"#volume-{made['id']}")
    expect(row.locator(".status")).to_have_text("Available")  # the live row settles
    assert _volume(cloud, tok, made["id"])["status"] == "available"
    assert made["size"] == 2
    shot(page, "volumes")
    row.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=f"Volume Details: {name}")).to_be_visible()
    shot(page, "volume_detail")
    page.get_by_role("link", name="Edit Volume").click()
    page.get_by_label("Volume Name").fill(name + "-renamed")
    page.get_by_label("Description").fill("dashboard made me")
    page.get_by_role("button", name="Save Changes").click()
    expect(page.get_by_role("heading", name=f"Volume Details: {name}-renamed")).to_be_visible()
    got = _volume(cloud, tok, made["id"])
    assert (got["name"], got["description"]) == (name + "-renamed", "dashboard made me")
    # Extending to a smaller size: Cinder's refusal beside the field, then a real extend.
    page.get_by_role("link", name="Extend Volume").click()
    page.get_by_label("New Size (GiB)").fill("1")
    page.get_by_role("button", name="Extend Volume").click()
    expect(page.locator("#err_new_size")).to_be_visible()
    assert page.locator("#err_new_size").inner_text().strip()
    page.get_by_label("New Size (GiB)").fill("3")
    page.get_by_role("button", name="Extend Volume").click()
    expect(page.get_by_role("status")).to_contain_text("Extending volume")
    assert _until(cloud, tok, f"/volumes/{made['id']}", "volume", "available")["size"] == 3
    page.goto(f"{cloud.url}/dashboard/project/volumes/{made['id']}/")
    page.get_by_role("link", name="Delete Volume").click()
    page.get_by_role("button", name="Delete Volume").click()
    expect(page.get_by_role("status")).to_contain_text("Scheduled deletion of volume")
    deadline = time.monotonic() + 30
    path = f"/volume/v3/{_project(cloud, tok)}/volumes/detail?name={name}-renamed"
    while api(cloud, "GET", path, tok)["volumes"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert api(cloud, "GET", path, tok)["volumes"] == []


def test_bad_size_shows_cinders_message(demo_page: Page, cloud: Cloud) -> None:
    page, name = demo_page, unique("dash-badvol")
    _create(page, cloud, name, "0")
    expect(page.locator("#err_size")).to_be_visible()
    assert page.locator("#err_size").inner_text().strip()
    expect(page.get_by_label("Volume Name")).to_have_value(name)
    tok = token(cloud, "demo")
    path = f"/volume/v3/{_project(cloud, tok)}/volumes/detail?name={name}"
    assert api(cloud, "GET", path, tok)["volumes"] == []


def test_from_an_image_and_a_snapshot(demo_page: Page, cloud: Cloud) -> None:
    page, tok, name = demo_page, token(cloud, "demo"), unique("dash-imgvol")
    image_id = image(cloud)
    page.goto(f"{cloud.url}/dashboard/project/volumes/create/")
    page.get_by_label("Volume Name").fill(name)
    page.get_by_label("Volume Source").select_option("image")
    page.get_by_label("Use image as a source").select_option(image_id)
    page.get_by_role("button", name="Create Volume").click()
    made = _by_name(cloud, tok, "volumes", name)
    _until(cloud, tok, f"/volumes/{made['id']}", "volume", "available")
    # A snapshot of it, then a volume from the snapshot.
    page.goto(f"{cloud.url}/dashboard/project/volumes/{made['id']}/")
    page.get_by_role("link", name="Create Snapshot").click()
    page.get_by_label("Snapshot Name").fill(name + "-snap")
    page.get_by_role("button", name="Create Volume Snapshot").click()
    snap = _by_name(cloud, tok, "snapshots", name + "-snap")
    row = page.locator(f"#snapshot-{snap['id']}")
    expect(row.locator(".status")).to_have_text("Available")
    shot(page, "volume_snapshots")
    row.get_by_role("link", name="Create Volume").click()
    expect(page.get_by_label("Volume Source")).to_have_value("snapshot")
    page.get_by_label("Volume Name").fill(name + "-from-snap")
    page.get_by_role("button", name="Create Volume").click()
    child = _by_name(cloud, tok, "volumes", name + "-from-snap")
    assert child["snapshot_id"] == snap["id"]
    assert _until(cloud, tok, f"/volumes/{child['id']}", "volume", "available")


def test_another_projects_volume_is_the_404_page(demo_page: Page, cloud: Cloud) -> None:
    admin = token(cloud, "admin", "admin")
    body = {"volume": {"size": 1, "name": unique("dash-admins-vol")}}
    made = api(cloud, "POST", f"/volume/v3/{_project(cloud, admin)}/volumes", admin, json=body)
    resp = demo_page.goto(f"{cloud.url}/dashboard/project/volumes/{made['volume']['id']}/")
    assert resp is not None and resp.status == 404
    expect(demo_page.get_by_role("heading", name="Not Found")).to_be_visible()
