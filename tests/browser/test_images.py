"""Images in the dashboard: create with the file streamed (progress bar; the server never
holds the file), edit properties, share with a project that accepts it, delete (a protected
image's refusal shown); each checked through the image API."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.support.browser import api, hold_uploads, shot, sign_in, token
from tests.support.cloud import Cloud
from tests.support.keystone import unique


def _image(cloud: Cloud, tok: str, image_id: str) -> dict[str, Any]:
    return dict(api(cloud, "GET", f"/image/v2/images/{image_id}", tok))


def _by_name(cloud: Cloud, tok: str, name: str) -> dict[str, Any]:
    found = api(cloud, "GET", f"/image/v2/images?name={name}&member_status=all", tok)["images"]
    assert len(found) == 1, found
    return dict(found[0])


def _upload(page: Page, cloud: Cloud, name: str, path: Path, **fields: str) -> None:
    page.goto(f"{cloud.url}/dashboard/project/images/")
    page.get_by_role("link", name="Create Image").click()
    page.get_by_label("Image Name").fill(name)
    page.get_by_label("File", exact=True).set_input_files(str(path))
    page.get_by_label("Format", exact=True).select_option("raw")
    for label, value in fields.items():
        page.get_by_label(label.replace("_", " ")).fill(value)
    # The upload script binds the form at DOMContentLoaded, after the (deferred) script has
    # loaded; a click before that submits the form without it (an image without data).
    page.wait_for_load_state()
    page.get_by_role("button", name="Create Image").click()


def test_create_uploads_the_file_with_progress(
    demo_page: Page, cloud: Cloud, tmp_path: Path
) -> None:
    page, tok, name = demo_page, token(cloud, "demo"), unique("dash-img")
    data = tmp_path / "disk.raw"
    data.write_bytes(bytes(range(256)) * 12_288 + b"tail")  # 3 MiB and a bit
    shown: list[str] = []
    page.on("request", lambda r: shown.append(r.method) if "/data/" in r.url else None)
    # The file's PUT held back in the browser a moment: the progress bar shows while it runs.
    release = hold_uploads(page, r"/dashboard/project/images/[^/]+/data/$")
    _upload(page, cloud, name, data)
    expect(page.get_by_role("progressbar", name="Uploading the image file")).to_be_visible()
    release()
    expect(page.get_by_role("heading", name=f"Image Details: {name}")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f'Uploaded image "{name}"')
    assert shown == ["PUT"]  # the file went in its own request, not in the form's
    made = _by_name(cloud, tok, name)
    assert made["status"] == "active"
    assert made["checksum"] == hashlib.md5(data.read_bytes(), usedforsecurity=False).hexdigest()
    assert made["size"] == data.stat().st_size
    expect(page.locator("#checksum")).to_have_text(made["checksum"])
    shot(page, "image_detail")
    page.goto(f"{cloud.url}/dashboard/project/images/?visibility=private")
    expect(page.locator(f"#image-{made['id']} .status")).to_have_text("Active")
    shot(page, "images")


def test_bad_input_shows_glances_message_by_the_field(
    demo_page: Page, cloud: Cloud, tmp_path: Path
) -> None:
    page, name = demo_page, unique("dash-badimg")
    data = tmp_path / "x.raw"
    data.write_bytes(b"x" * 1024)
    _upload(page, cloud, name, data, **{"Minimum_Disk (GB)": "-1"})
    expect(page.locator("#err_min_disk")).to_be_visible()
    assert page.locator("#err_min_disk").inner_text().strip()
    expect(page.get_by_label("Image Name")).to_have_value(name)
    found = api(cloud, "GET", f"/image/v2/images?name={name}", token(cloud, "demo"))["images"]
    assert found == []


def test_edit_properties_and_a_protected_images_delete(demo_page: Page, cloud: Cloud) -> None:
    page, tok, name = demo_page, token(cloud, "demo"), unique("dash-editimg")
    made = api(cloud, "POST", "/image/v2/images", tok,
               json={"name": name, "disk_format": "raw", "container_format": "bare"})  # fmt: skip
    page.goto(f"{cloud.url}/dashboard/project/images/{made['id']}/")
    page.get_by_role("link", name="Edit Image").click()
    page.get_by_label("Image Name").fill(name + "-2")
    page.get_by_label("Minimum Disk (GB)").fill("2")
    page.get_by_label("Minimum RAM (MB)").fill("512")
    page.get_by_label("Protected").check()
    page.get_by_label("Custom Properties").fill("os_distro=cirros\nhw_disk_bus=virtio")
    page.get_by_role("button", name="Update Image").click()
    expect(page.get_by_role("heading", name=f"Image Details: {name}-2")).to_be_visible()
    got = _image(cloud, tok, made["id"])
    assert (got["name"], got["min_disk"], got["min_ram"], got["protected"]) == (
        name + "-2", 2, 512, True,
    )  # fmt: skip
    assert (got["os_distro"], got["hw_disk_bus"]) == ("cirros", "virtio")
    # A line that is no property: the message by the field, nothing changed.
    page.get_by_role("link", name="Edit Image").click()
    page.get_by_label("Custom Properties").fill("os_distro=cirros\nnonsense")
    page.get_by_role("button", name="Update Image").click()
    expect(page.locator("#err_properties")).to_contain_text('"nonsense" is not a key=value')
    # Glance refuses to delete a protected image: its words, and the image stays.
    page.goto(f"{cloud.url}/dashboard/project/images/{made['id']}/delete/")
    page.get_by_role("button", name="Delete Image").click()
    expect(page.get_by_role("alert")).to_contain_text(re.compile("protected", re.I))
    assert _image(cloud, tok, made["id"])["protected"] is True
    page.get_by_role("link", name="Edit Image").click()
    page.get_by_label("Protected").uncheck()
    page.get_by_label("Custom Properties").fill("os_distro=cirros")
    page.get_by_role("button", name="Update Image").click()
    got = _image(cloud, tok, made["id"])
    assert got["protected"] is False and "hw_disk_bus" not in got
    page.get_by_role("link", name="Delete Image").click()
    page.get_by_role("button", name="Delete Image").click()
    expect(page.get_by_role("status")).to_contain_text(f'Deleted image "{name}-2"')
    resp = httpx.get(
        f"{cloud.url}/image/v2/images/{made['id']}", headers={"x-auth-token": tok}, timeout=30
    )
    assert resp.status_code == 404


def test_share_with_a_project_that_accepts(page: Page, cloud: Cloud) -> None:
    demo, admin = token(cloud, "demo"), token(cloud, "admin", "admin")
    name = unique("dash-shared")
    admin_project = api(cloud, "GET", "/identity/v3/auth/tokens", admin,
                        headers={"x-subject-token": admin})["token"]["project"]["id"]  # fmt: skip
    made = api(cloud, "POST", "/image/v2/images", demo,
               json={"name": name, "disk_format": "raw", "container_format": "bare"})  # fmt: skip
    sign_in(page, cloud, "demo")
    page.goto(f"{cloud.url}/dashboard/project/images/{made['id']}/")
    page.get_by_role("link", name="Share Image").click()
    page.get_by_label("Project ID").fill(admin_project)
    page.get_by_role("button", name="Share Image").click()
    expect(page.get_by_role("status")).to_contain_text(f'Shared image "{name}" with')
    expect(page.get_by_role("table", name="Shared with")).to_contain_text(admin_project)
    members = api(cloud, "GET", f"/image/v2/images/{made['id']}/members", demo)["members"]
    assert [(m["member_id"], m["status"]) for m in members] == [(admin_project, "pending")]
    # The other project sees it waiting and accepts it.
    page.get_by_role("link", name="Sign Out").click()
    sign_in(page, cloud, "admin")
    page.goto(f"{cloud.url}/dashboard/project/images/?visibility=shared")
    row = page.locator(f"#image-{made['id']}")
    row.get_by_role("button", name="Accept Image").click()
    expect(page.get_by_role("status")).to_contain_text("The image is accepted.")
    expect(page.locator(f"#image-{made['id']}")).to_contain_text(name)
    member = api(cloud, "GET", f"/image/v2/images/{made['id']}/members/{admin_project}", admin)
    assert member["status"] == "accepted"
    listed = api(cloud, "GET", "/image/v2/images?visibility=shared", admin)["images"]
    assert made["id"] in [i["id"] for i in listed]
    api(cloud, "DELETE", f"/image/v2/images/{made['id']}", demo)


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_a_large_upload_streams_through_the_dashboard(
    demo_page: Page, cloud: Cloud, tmp_path: Path
) -> None:
    """300 MiB through the dashboard's data endpoint: the server's RSS stays far below it."""
    assert cloud.process is not None
    size = 300 * 1024 * 1024
    sparse = tmp_path / "big.raw"
    with sparse.open("wb") as f:
        f.truncate(size)
    tok, name = token(cloud, "demo"), unique("dash-bigimg")
    made = api(cloud, "POST", "/image/v2/images", tok,
               json={"name": name, "disk_format": "raw", "container_format": "bare"})  # fmt: skip
    cookies = {c["name"]: c["value"] for c in demo_page.context.cookies()}
    peak, before, done = [0], _rss(cloud.process.pid), threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss(cloud.process.pid))  # type: ignore[union-attr]
            time.sleep(0.02)

    def chunks() -> Iterator[bytes]:
        with sparse.open("rb") as f:
            while block := f.read(1024 * 1024):
                yield block

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        resp = httpx.put(
            f"{cloud.url}/dashboard/project/images/{made['id']}/data/",
            content=chunks(),
            cookies=cookies,
            headers={"x-csrftoken": cookies["csrftoken"], "content-length": str(size),
                     "content-type": "application/octet-stream"},
            timeout=300,
        )  # fmt: skip
    finally:
        done.set()
        watcher.join()
    assert resp.status_code == 200, resp.text
    got = _image(cloud, tok, made["id"])
    assert (got["status"], got["size"]) == ("active", size)
    grew = peak[0] - before
    print(f"RSS before {before >> 20} MiB, peak {peak[0] >> 20} MiB, grew {grew >> 20} MiB")
    assert grew < 64 * 1024 * 1024, f"the server's RSS grew {grew >> 20} MiB for 300 MiB"
    api(cloud, "DELETE", f"/image/v2/images/{made['id']}", tok)
