"""Glance behaviours that Tempest's image suite checks and a simpler server misses."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.support.cloud import Cloud
from tests.support.fixtures import image_api, unique

OCTETS = {"Content-Type": "application/octet-stream"}


demo = image_api("onestack-demo")


def create(api: httpx.Client, **extra: Any) -> httpx.Response:
    body = {"name": unique("parity"), "disk_format": "raw", "container_format": "bare", **extra}
    resp = api.post("/v2/images", json=body)
    assert resp.status_code == 201, resp.text
    return resp


def wait_active(api: httpx.Client, image_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        image: dict[str, Any] = api.get(f"/v2/images/{image_id}").json()
        if image["status"] == "active":
            return image
        time.sleep(0.05)
    raise AssertionError(f"image {image_id} did not become active")


def test_images_with_data_name_their_store(demo: httpx.Client) -> None:
    """Tempest's glance-direct test waits for ``image['stores']`` to equal the ids of
    /v2/info/stores: Glance in multi-store mode shows the field once the data is stored."""
    created = create(demo)
    assert created.headers["OpenStack-image-store-ids"] == "file"
    image = created.json()
    assert "stores" not in image  # queued: no data anywhere yet
    resp = demo.put(f"/v2/images/{image['id']}/stage", content=b"staged", headers=OCTETS)
    assert resp.status_code == 204
    assert "stores" not in demo.get(f"/v2/images/{image['id']}").json()
    body = {"method": {"name": "glance-direct"}}
    assert demo.post(f"/v2/images/{image['id']}/import", json=body).status_code == 202
    active = wait_active(demo, image["id"])
    store_ids = [s["id"] for s in demo.get("/v2/info/stores").json()["stores"]]
    assert active["stores"] == ",".join(sorted(store_ids)) == "file"
    # Plain uploads too, in lists as in shows.
    other = create(demo).json()
    resp = demo.put(f"/v2/images/{other['id']}/file", content=b"data", headers=OCTETS)
    assert resp.status_code == 204
    listed = demo.get("/v2/images", params={"id": other["id"]}).json()["images"]
    assert listed[0]["stores"] == "file"
    for image_id in (image["id"], other["id"]):
        assert demo.delete(f"/v2/images/{image_id}").status_code == 204


def test_list_filters_on_integer_attributes(demo: httpx.Client) -> None:
    """Glance compares size, virtual_size, min_disk and min_ram for equality
    (Tempest's ``test_list_images_param_size`` lists ``?size=<an image's size>``)."""
    marker = unique("size")
    sizes = {1259: None, 2345: None}
    for size in sizes:
        image = create(demo, min_disk=size % 7, tags=[marker]).json()
        resp = demo.put(f"/v2/images/{image['id']}/file", content=b"z" * size, headers=OCTETS)
        assert resp.status_code == 204
        sizes[size] = image["id"]
    found = demo.get("/v2/images", params={"size": 1259, "tag": marker}).json()["images"]
    assert [i["id"] for i in found] == [sizes[1259]]
    found = demo.get("/v2/images", params={"virtual_size": 2345, "tag": marker}).json()
    assert [i["id"] for i in found["images"]] == [sizes[2345]]
    found = demo.get("/v2/images", params={"min_disk": 2345 % 7, "tag": marker}).json()
    assert [i["id"] for i in found["images"]] == [sizes[2345]]
    assert demo.get("/v2/images", params={"size": 1, "tag": marker}).json()["images"] == []
    # Not a property filter on a property called "size": a bad value is a 400.
    assert demo.get("/v2/images", params={"size": "big"}).status_code == 400
    for image_id in sizes.values():
        assert demo.delete(f"/v2/images/{image_id}").status_code == 204


def wait_task(api: httpx.Client, image_id: str, status: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        tasks: list[dict[str, Any]] = api.get(f"/v2/images/{image_id}/tasks").json()["tasks"]
        if tasks and all(t["status"] == status for t in tasks):
            return tasks
        time.sleep(0.05)
    raise AssertionError(f"the tasks of image {image_id} did not reach {status}")


def test_an_import_is_followed_by_its_task(cloud: Cloud, demo: httpx.Client) -> None:
    """v2.12's GET /v2/images/{id}/tasks: the api_image_import task of each import, with
    the import's request id and request (Tempest's glance-direct test checks both)."""
    image = create(demo).json()
    assert demo.get(f"/v2/images/{image['id']}/tasks").json() == {"tasks": []}
    staged = demo.put(f"/v2/images/{image['id']}/stage", content=b"t", headers=OCTETS)
    assert staged.status_code == 204
    body = {"method": {"name": "glance-direct"}}
    resp = demo.post(f"/v2/images/{image['id']}/import", json=body)
    assert resp.status_code == 202
    wait_active(demo, image["id"])
    [task] = wait_task(demo, image["id"], "success")
    assert set(task) == {
        "id", "type", "status", "owner", "expires_at", "created_at", "updated_at",
        "deleted_at", "deleted", "image_id", "request_id", "user_id", "input", "result",
        "message",
    }  # fmt: skip
    assert task["type"] == "api_image_import"
    assert task["request_id"] == resp.headers["x-openstack-request-id"]
    assert task["input"]["import_req"] == body
    assert task["input"]["image_id"] == image["id"] == task["image_id"]
    assert task["result"] == {"image_id": image["id"]}
    assert task["owner"] == image["owner"]
    assert task["expires_at"] is not None and task["deleted"] is False
    demo_user = cloud.sdk("onestack-demo").current_user_id
    assert task["user_id"] == demo_user
    # Another project sees neither the image nor its tasks.
    with httpx.Client(
        base_url=f"{cloud.url}/image", headers={"X-Auth-Token": cloud.token()}, timeout=30
    ) as admin:
        private = admin.post(
            "/v2/images", json={"name": unique("p"), "visibility": "private"}
        ).json()
        assert demo.get(f"/v2/images/{private['id']}/tasks").status_code == 404
        assert admin.delete(f"/v2/images/{private['id']}").status_code == 204
    assert demo.delete(f"/v2/images/{image['id']}").status_code == 204
    assert demo.get(f"/v2/images/{image['id']}/tasks").status_code == 404


def test_a_failed_import_leaves_a_failed_task(demo: httpx.Client) -> None:
    image = create(demo, disk_format="qcow2").json()
    # A qcow2 header naming a backing file: refused when the import stores the data.
    header = b"QFI\xfb" + (3).to_bytes(4, "big") + (512).to_bytes(8, "big") + bytes(16)
    staged = demo.put(f"/v2/images/{image['id']}/stage", content=header, headers=OCTETS)
    assert staged.status_code == 204
    body = {"method": {"name": "glance-direct"}}
    assert demo.post(f"/v2/images/{image['id']}/import", json=body).status_code == 202
    [task] = wait_task(demo, image["id"], "failure")
    assert "backing file" in task["message"]
    assert task["result"] is None
    assert demo.get(f"/v2/images/{image['id']}").json()["status"] == "queued"
    assert demo.delete(f"/v2/images/{image['id']}").status_code == 204
