"""Volumes in the dashboard: create, edit, extend, attach, snapshot, backup and restore,
transfer, upload to image, delete; each checked through the volume API."""

from __future__ import annotations

import time
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.support.browser import api, image, server, shot, sign_in, token
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
    # A clone of the image's volume: the source volume chosen in the form.
    page.goto(f"{cloud.url}/dashboard/project/volumes/create/")
    page.get_by_label("Volume Name").fill(name + "-clone")
    page.get_by_label("Volume Source").select_option("volume")
    page.get_by_label("Use a volume as source").select_option(made["id"])
    page.get_by_label("Size (GiB)").fill("2")
    page.get_by_role("button", name="Create Volume").click()
    expect(page.get_by_role("status")).to_contain_text(f'Creating volume "{name}-clone"')
    clone = _by_name(cloud, tok, "volumes", name + "-clone")
    assert (clone["source_volid"], clone["size"]) == (made["id"], 2)
    clone = _until(cloud, tok, f"/volumes/{clone['id']}", "volume", "available")
    assert str(clone["bootable"]).lower() == "true"  # the image's volume was
    api(cloud, "DELETE", f"/volume/v3/{_project(cloud, tok)}/volumes/{clone['id']}", tok)


def test_another_projects_volume_is_the_404_page(demo_page: Page, cloud: Cloud) -> None:
    admin = token(cloud, "admin", "admin")
    body = {"volume": {"size": 1, "name": unique("dash-admins-vol")}}
    made = api(cloud, "POST", f"/volume/v3/{_project(cloud, admin)}/volumes", admin, json=body)
    resp = demo_page.goto(f"{cloud.url}/dashboard/project/volumes/{made['volume']['id']}/")
    assert resp is not None and resp.status == 404
    expect(demo_page.get_by_role("heading", name="Not Found")).to_be_visible()


def _api_volume(cloud: Cloud, tok: str, name: str) -> dict[str, Any]:
    """A 1 GiB volume made through the API, available."""
    body = {"volume": {"size": 1, "name": name}}
    made = api(cloud, "POST", f"/volume/v3/{_project(cloud, tok)}/volumes", tok, json=body)
    return _until(cloud, tok, f"/volumes/{made['volume']['id']}", "volume", "available")


def test_attach_and_detach(demo_page: Page, cloud: Cloud) -> None:
    page, tok, name = demo_page, token(cloud, "demo"), unique("dash-attvol")
    vm = server(cloud, tok, name + "-vm")
    vol = _api_volume(cloud, tok, name)
    page.goto(f"{cloud.url}/dashboard/project/volumes/{vol['id']}/")
    page.get_by_role("link", name="Manage Attachments").click()
    page.get_by_label("Attach to Instance").select_option(vm["id"])
    page.get_by_role("button", name="Attach Volume").click()
    expect(page.get_by_role("status")).to_contain_text(f'Attaching volume "{name}"')
    attached = _until(cloud, tok, f"/volumes/{vol['id']}", "volume", "in-use")
    assert [a["server_id"] for a in attached["attachments"]] == [vm["id"]]
    expect(page.locator(f"#volume-{vol['id']}")).to_contain_text(vm["id"])
    page.goto(f"{cloud.url}/dashboard/project/volumes/{vol['id']}/attach/")
    expect(page.get_by_role("table", name="Attachments")).to_contain_text(name + "-vm")
    page.get_by_role("link", name="Detach Volume").click()
    page.get_by_role("button", name="Detach Volume").click()
    expect(page.get_by_role("status")).to_contain_text(f'Detaching volume "{name}"')
    assert _until(cloud, tok, f"/volumes/{vol['id']}", "volume", "available")["attachments"] == []
    api(cloud, "DELETE", f"/compute/v2.1/servers/{vm['id']}", tok)


def test_backup_and_restore(demo_page: Page, cloud: Cloud) -> None:
    page, tok, name = demo_page, token(cloud, "demo"), unique("dash-bakvol")
    vol = _api_volume(cloud, tok, name)
    page.goto(f"{cloud.url}/dashboard/project/volumes/{vol['id']}/")
    page.get_by_role("link", name="Create Backup").click()
    page.get_by_label("Backup Name").fill(name + "-bak")
    page.get_by_role("button", name="Create Volume Backup").click()
    expect(page.get_by_role("status")).to_contain_text(f'Creating volume backup "{name}-bak"')
    backup = _by_name(cloud, tok, "backups", name + "-bak")
    row = page.locator(f"#backup-{backup['id']}")
    expect(row.locator(".status")).to_have_text("Available")
    assert backup["volume_id"] == vol["id"]
    shot(page, "volume_backups")
    row.get_by_role("link", name="Restore Backup").click()
    page.get_by_label("New Volume Name").fill(name + "-restored")
    page.get_by_role("button", name="Restore Backup to Volume").click()
    expect(page.get_by_role("status")).to_contain_text("Restoring backup")
    restored = _by_name(cloud, tok, "volumes", name + "-restored")
    assert _until(cloud, tok, f"/volumes/{restored['id']}", "volume", "available")
    _until(cloud, tok, f"/backups/{backup['id']}", "backup", "available")


def test_transfer_to_another_project(page: Page, cloud: Cloud) -> None:
    demo, admin = token(cloud, "demo"), token(cloud, "admin", "admin")
    name = unique("dash-xfer")
    vol = _api_volume(cloud, demo, name)
    sign_in(page, cloud, "demo")
    page.goto(f"{cloud.url}/dashboard/project/volumes/{vol['id']}/")
    page.get_by_role("link", name="Create Transfer").click()
    page.get_by_label("Transfer Name").fill(name)
    page.get_by_role("button", name="Create Volume Transfer").click()
    expect(page.get_by_role("heading", name="Volume Transfer Details")).to_be_visible()
    transfer_id = page.locator("#transfer-id").inner_text()
    auth_key = page.locator("#auth-key").inner_text()
    assert transfer_id and auth_key
    shot(page, "volume_transfer")
    assert _volume(cloud, demo, vol["id"])["status"] == "awaiting-transfer"
    page.get_by_role("link", name="Sign Out").click()
    sign_in(page, cloud, "admin")
    page.goto(f"{cloud.url}/dashboard/project/volumes/accept_transfer/")
    page.get_by_label("Transfer ID").fill(transfer_id)
    page.get_by_label("Authorization Key").fill("wrong-key")
    page.get_by_role("button", name="Accept Volume Transfer").click()
    expect(page.locator(".message.error, p.error").first).to_be_visible()
    expect(page.get_by_label("Transfer ID")).to_have_value(transfer_id)
    page.get_by_label("Authorization Key").fill(auth_key)
    page.get_by_role("button", name="Accept Volume Transfer").click()
    expect(page.get_by_role("heading", name=f"Volume Details: {name}")).to_be_visible()
    # The volume is the admin project's now, and no longer demo's.
    assert _volume(cloud, admin, vol["id"])["status"] == "available"
    resp = httpx.get(f"{cloud.url}/volume/v3/{_project(cloud, demo)}/volumes/{vol['id']}",
                     headers={"x-auth-token": demo}, timeout=30)  # fmt: skip
    assert resp.status_code == 404


def test_upload_to_image(demo_page: Page, cloud: Cloud) -> None:
    page, tok, name = demo_page, token(cloud, "demo"), unique("dash-v2i")
    vol = _api_volume(cloud, tok, name)
    page.goto(f"{cloud.url}/dashboard/project/volumes/{vol['id']}/upload_to_image/")
    page.get_by_label("Image Name").fill(name + "-image")
    page.get_by_label("Disk Format").select_option("qcow2")
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status")).to_contain_text(f'to image "{name}-image"')
    deadline = time.monotonic() + 30
    while True:
        found = api(cloud, "GET", f"/image/v2/images?name={name}-image", tok)["images"]
        if (found and found[0]["status"] == "active") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert [(i["status"], i["disk_format"]) for i in found] == [("active", "qcow2")]
    _until(cloud, tok, f"/volumes/{vol['id']}", "volume", "available")


def test_volume_types_for_the_admin(admin_page: Page, cloud: Cloud) -> None:
    page, admin, name = admin_page, token(cloud, "admin", "admin"), unique("dash-type")
    page.get_by_role("link", name="Volume Types").click()
    page.get_by_role("link", name="Create Volume Type").click()
    page.get_by_label("Volume Type Name").fill(name)
    page.get_by_label("Description").fill("fast disks")
    page.get_by_role("button", name="Create Volume Type").click()
    expect(page.get_by_role("status")).to_contain_text(f'Created volume type "{name}"')
    path = f"/volume/v3/{_project(cloud, admin)}/types"
    made = next(t for t in api(cloud, "GET", path, admin)["volume_types"] if t["name"] == name)
    shot(page, "volume_types")
    page.locator(f"#type-{made['id']}").get_by_role("link", name="View Extra Specs").click()
    page.get_by_label("Key").fill("volume_backend_name")
    page.get_by_label("Value").fill("fast")
    page.get_by_role("button", name="Create Extra Spec").click()
    expect(page.get_by_role("table", name="Extra Specs")).to_contain_text("volume_backend_name")
    specs = api(cloud, "GET", f"{path}/{made['id']}/extra_specs", admin)["extra_specs"]
    assert specs == {"volume_backend_name": "fast"}
    page.get_by_role("link", name="Delete Extra Spec").click()
    page.get_by_role("button", name="Delete Extra Spec").click()
    assert api(cloud, "GET", f"{path}/{made['id']}/extra_specs", admin)["extra_specs"] == {}
    page.goto(f"{cloud.url}/dashboard/admin/volume_types/{made['id']}/delete/")
    page.get_by_role("button", name="Delete Volume Type").click()
    expect(page.get_by_role("status")).to_contain_text(f'Deleted volume type "{name}"')
    assert name not in [t["name"] for t in api(cloud, "GET", path, admin)["volume_types"]]


def test_a_member_gets_the_403_page_for_volume_types(demo_page: Page, cloud: Cloud) -> None:
    resp = demo_page.goto(f"{cloud.url}/dashboard/admin/volume_types/")
    assert resp is not None and resp.status == 403
    expect(demo_page.get_by_role("heading", name="Forbidden")).to_be_visible()


def test_storage_pages_read_on_a_narrow_screen(demo_page: Page, cloud: Cloud) -> None:
    page = demo_page
    _api_volume(cloud, token(cloud, "demo"), unique("dash-narrow"))
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/project/volumes/", "/project/images/", "/project/key_pairs/",
                 "/project/volumes/create/"):  # fmt: skip
        page.goto(f"{cloud.url}/dashboard{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways ({width}px)"
    page.goto(f"{cloud.url}/dashboard/project/volumes/")
    shot(page, "volumes-narrow")
