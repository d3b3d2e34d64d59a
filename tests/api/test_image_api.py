"""The Glance v2 API over plain HTTP: exact shapes, bad input, status rules, ranges,
JSON-patch, visibility between projects."""

from __future__ import annotations

import base64
import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import image_api, unique

PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
OCTETS = {"Content-Type": "application/octet-stream"}
IMAGE_KEYS = {
    "id", "name", "status", "visibility", "protected", "os_hidden", "checksum", "os_hash_algo",
    "os_hash_value", "owner", "size", "min_ram", "min_disk", "virtual_size", "container_format",
    "disk_format", "created_at", "updated_at", "tags", "self", "file", "schema",
}  # fmt: skip


STRANGER: dict[str, str] = {}  # the stranger fixture's project id


admin = image_api("onestack")
demo = image_api("onestack-demo")


@pytest.fixture(scope="module")
def stranger(cloud: Cloud) -> Iterator[httpx.Client]:
    """A member of a third project, which nothing is shared with."""
    conn = cloud.sdk("onestack")
    project = conn.identity.create_project(name=unique("stranger"), domain_id="default")
    password = uuid.uuid4().hex
    user = conn.identity.create_user(
        name=unique("stranger"), password=password, domain_id="default"
    )
    role = conn.identity.find_role("member")
    conn.identity.assign_project_role_to_user(project, user, role)
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"id": user.id, "password": password}},
            },
            "scope": {"project": {"id": project.id}},
        }
    }
    token = httpx.post(f"{cloud.auth_url}/auth/tokens", json=body, timeout=30).headers[
        "X-Subject-Token"
    ]
    STRANGER["project_id"] = project.id
    with httpx.Client(
        base_url=f"{cloud.url}/image", headers={"X-Auth-Token": token}, timeout=30
    ) as c:
        yield c
    conn.identity.delete_user(user)
    conn.identity.delete_project(project)


def create(client: httpx.Client, **body: Any) -> dict[str, Any]:
    body.setdefault("name", unique("img"))
    body.setdefault("disk_format", "raw")
    body.setdefault("container_format", "bare")
    resp = client.post("/v2/images", json=body)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def upload(client: httpx.Client, image_id: str, data: bytes, **headers: str) -> httpx.Response:
    return client.put(f"/v2/images/{image_id}/file", content=data, headers={**OCTETS, **headers})


def test_version_discovery_at_the_prefix(cloud: Cloud) -> None:
    for path in ("/image", "/image/"):
        resp = httpx.get(f"{cloud.url}{path}", timeout=30)
        assert resp.status_code == 300
        versions = resp.json()["versions"]
        assert versions[0] == {
            "id": "v2.17",
            "status": "CURRENT",
            "links": [{"rel": "self", "href": f"{cloud.url}/image/v2/"}],
        }
        assert {v["id"] for v in versions} >= {"v2.0", "v2.9", "v2.16"}


def test_create_shape_and_headers(demo: httpx.Client) -> None:
    resp = demo.post("/v2/images", json={"name": "shape", "foo": "bar"})
    assert resp.status_code == 201
    assert resp.headers["OpenStack-image-import-methods"] == "glance-direct,web-download"
    image = resp.json()
    assert set(image) == IMAGE_KEYS | {"foo"}
    assert image["status"] == "queued"
    assert image["visibility"] == "shared"
    assert image["checksum"] is None and image["size"] is None
    assert image["disk_format"] is None and image["container_format"] is None
    assert image["self"] == f"/v2/images/{image['id']}"
    assert image["file"] == f"/v2/images/{image['id']}/file"
    assert image["created_at"].endswith("Z")
    # No formats yet: no data may be uploaded.
    assert upload(demo, image["id"], b"x").status_code == 400
    assert demo.delete(f"/v2/images/{image['id']}").status_code == 204


def test_errors_are_glance_bodies(demo: httpx.Client) -> None:
    resp = demo.get(f"/v2/images/{uuid.uuid4()}")
    assert resp.status_code == 404
    body = resp.json()
    assert body["code"] == "404 Not Found" and body["title"] == "Not Found" and body["message"]
    assert demo.get("/v2/images/not-a-uuid").status_code == 404


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"disk_format": "floppy"}, 400),
        ({"container_format": "zip"}, 400),
        ({"min_ram": -1}, 400),
        ({"protected": "yes"}, 400),
        ({"visibility": "everyone"}, 400),
        ({"name": "x" * 256}, 400),
        ({"custom": 5}, 400),
        ({"checksum": "0" * 32}, 403),
        ({"os_hash_value": "abc"}, 403),
        ({"size": 10}, 403),
        ({"status": "active"}, 403),
        ({"os_glance_import_task": "x"}, 403),
        ({"deleted": "true"}, 403),
        ({"location": "file:///etc/passwd"}, 403),
        ({"id": "not-a-uuid"}, 400),
    ],
)
def test_bad_create_bodies(demo: httpx.Client, body: dict[str, Any], code: int) -> None:
    resp = demo.post("/v2/images", json={"name": unique("bad"), **body})
    assert resp.status_code == code, resp.text


def test_only_admin_publishes(demo: httpx.Client, admin: httpx.Client) -> None:
    assert demo.post("/v2/images", json={"visibility": "public"}).status_code == 403
    image = create(admin, visibility="public")
    assert image["visibility"] == "public"
    assert demo.get(f"/v2/images/{image['id']}").status_code == 200
    assert demo.delete(f"/v2/images/{image['id']}").status_code == 403  # not its owner
    assert admin.delete(f"/v2/images/{image['id']}").status_code == 204


def test_upload_checks_and_status_rules(demo: httpx.Client) -> None:
    image = create(demo)
    data = b"0123456789" * 1000
    # Size mismatch: 400, still queued, nothing stored.
    resp = upload(demo, image["id"], data, **{"X-OpenStack-Image-Size": str(len(data) + 1)})
    assert resp.status_code == 400
    assert demo.get(f"/v2/images/{image['id']}").json()["status"] == "queued"
    # Checksum mismatch (hex or RFC 1864 base64): 400, still queued.
    assert upload(demo, image["id"], data, **{"Content-MD5": "0" * 32}).status_code == 400
    assert demo.get(f"/v2/images/{image['id']}").json()["status"] == "queued"
    good = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
    assert upload(demo, image["id"], data, **{"Content-MD5": good}).status_code == 204
    shown = demo.get(f"/v2/images/{image['id']}").json()
    assert shown["status"] == "active"
    assert shown["size"] == len(data) == shown["virtual_size"]
    assert shown["checksum"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
    # Active: no second upload, no format change.
    assert upload(demo, image["id"], data).status_code == 409
    change = [{"op": "replace", "path": "/disk_format", "value": "qcow2"}]
    assert demo.patch(f"/v2/images/{image['id']}", json=change, headers=PATCH).status_code == 403
    # Wrong media type.
    resp = demo.put(
        f"/v2/images/{image['id']}/file", content=b"x", headers={"Content-Type": "text/plain"}
    )
    assert resp.status_code == 415
    demo.delete(f"/v2/images/{image['id']}")


def test_downloads_whole_and_ranged(demo: httpx.Client) -> None:
    queued = create(demo)
    assert demo.get(f"/v2/images/{queued['id']}/file").status_code == 204
    data = bytes(range(256)) * 64  # 16 KiB
    image = create(demo)
    assert upload(demo, image["id"], data).status_code == 204
    url = f"/v2/images/{image['id']}/file"
    whole = demo.get(url)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["Content-MD5"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert whole.headers["Content-Type"] == "application/octet-stream"
    part = demo.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    tail = demo.get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == data[-10:]
    rest = demo.get(url, headers={"Range": "bytes=16000-"})
    assert rest.content == data[16000:]
    assert demo.get(url, headers={"Range": f"bytes={len(data)}-"}).status_code == 416
    for image_id in (queued["id"], image["id"]):
        demo.delete(f"/v2/images/{image_id}")


def test_a_large_image_sent_from_its_file_whole_ranged_and_to_head(demo: httpx.Client) -> None:
    """Several MiB, as the server sends a stored file (sendfile from the store's file): the
    bytes, lengths and ranges are those of a streamed answer, and HEAD has no body."""
    data = os.urandom(5 * 1024 * 1024 + 17)
    image = create(demo)
    assert upload(demo, image["id"], data).status_code == 204
    url = f"/v2/images/{image['id']}/file"
    whole = demo.get(url)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["Content-Length"] == str(len(data))
    assert whole.headers["Content-MD5"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    start, last = 4 * 1024 * 1024 - 5, 5 * 1024 * 1024 + 3  # across the store's read blocks
    part = demo.get(url, headers={"Range": f"bytes={start}-{last}"})
    assert part.status_code == 206 and part.content == data[start : last + 1]
    assert part.headers["Content-Length"] == str(last + 1 - start)
    assert part.headers["Content-Range"] == f"bytes {start}-{last}/{len(data)}"
    assert "Content-MD5" not in part.headers
    head = demo.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Length"] == str(len(data))
    again = demo.get(url, headers={"Range": "bytes=-3"})  # the connection is still usable
    assert again.status_code == 206 and again.content == data[-3:]
    demo.delete(f"/v2/images/{image['id']}")


def test_json_patch_properties_and_tags(demo: httpx.Client) -> None:
    image = create(demo, tags=["a"], color="red")
    url = f"/v2/images/{image['id']}"
    ops = [
        {"op": "add", "path": "/os_distro", "value": "cirros"},
        {"op": "replace", "path": "/color", "value": "blue"},
        {"op": "replace", "path": "/tags", "value": ["b", "c"]},
        {"op": "replace", "path": "/name", "value": "patched"},
        {"op": "replace", "path": "/min_disk", "value": 2},
    ]
    resp = demo.patch(url, json=ops, headers=PATCH)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["os_distro"], body["color"], body["name"], body["min_disk"]) == (
        "cirros",
        "blue",
        "patched",
        2,
    )
    assert sorted(body["tags"]) == ["b", "c"]
    resp = demo.patch(url, json=[{"op": "remove", "path": "/color"}], headers=PATCH)
    assert "color" not in resp.json()
    # Removing what is not there, setting read-only or reserved attributes, wrong media type.
    assert (
        demo.patch(url, json=[{"op": "remove", "path": "/color"}], headers=PATCH).status_code == 409
    )
    for attr in ("checksum", "os_hash_value", "size", "status", "os_glance_x", "deleted"):
        op = [{"op": "add", "path": f"/{attr}", "value": "x"}]
        assert demo.patch(url, json=op, headers=PATCH).status_code == 403, attr
    assert (
        demo.patch(url, json=[{"op": "remove", "path": "/name"}], headers=PATCH).status_code == 403
    )
    assert (
        demo.patch(url, json=[{"op": "replace", "path": "/name", "value": "x"}]).status_code == 415
    )
    # Tag calls.
    assert demo.put(f"{url}/tags/d").status_code == 204
    assert demo.delete(f"{url}/tags/b").status_code == 204
    assert demo.delete(f"{url}/tags/zzz").status_code == 404
    assert sorted(demo.get(url).json()["tags"]) == ["c", "d"]
    demo.delete(url)


def test_protected_images_are_not_deleted(demo: httpx.Client) -> None:
    image = create(demo, protected=True)
    url = f"/v2/images/{image['id']}"
    assert demo.delete(url).status_code == 403
    demo.patch(url, json=[{"op": "replace", "path": "/protected", "value": False}], headers=PATCH)
    assert demo.delete(url).status_code == 204
    assert demo.get(url).status_code == 404


def test_projects_never_see_each_others_private_images(
    demo: httpx.Client, stranger: httpx.Client
) -> None:
    private = create(demo, visibility="private")
    shared = create(demo, visibility="shared")
    for image in (private, shared):
        url = f"/v2/images/{image['id']}"
        assert stranger.get(url).status_code == 404
        assert stranger.get(f"{url}/file").status_code == 404
        assert stranger.get(f"{url}/members").status_code == 404
        assert stranger.delete(url).status_code == 404
        patch = [{"op": "replace", "path": "/name", "value": "x"}]
        assert stranger.patch(url, json=patch, headers=PATCH).status_code == 404
    listed = {i["id"] for i in stranger.get("/v2/images", params={"limit": 1000}).json()["images"]}
    assert not listed & {private["id"], shared["id"]}
    for image in (private, shared):
        demo.delete(f"/v2/images/{image['id']}")


def test_member_flow_over_http(demo: httpx.Client, stranger: httpx.Client) -> None:
    image = create(demo)
    url = f"/v2/images/{image['id']}"
    project = STRANGER["project_id"]
    resp = demo.post(f"{url}/members", json={"member": project})
    assert resp.status_code == 200
    member = resp.json()
    assert set(member) == {"created_at", "image_id", "member_id", "schema", "status", "updated_at"}
    assert member["status"] == "pending" and member["schema"] == "/v2/schemas/member"
    # A pending member sees the image by id, not in its lists until it accepts.
    assert stranger.get(url).status_code == 200
    ids = {i["id"] for i in stranger.get("/v2/images").json()["images"]}
    assert image["id"] not in ids
    pending = stranger.get(
        "/v2/images", params={"member_status": "pending", "visibility": "shared"}
    )
    assert image["id"] in {i["id"] for i in pending.json()["images"]}
    # Only the member answers; only the owner shares.
    assert demo.put(f"{url}/members/{project}", json={"status": "accepted"}).status_code == 403
    assert stranger.post(f"{url}/members", json={"member": "x"}).status_code == 403
    resp = stranger.put(f"{url}/members/{project}", json={"status": "accepted"})
    assert resp.status_code == 200 and resp.json()["status"] == "accepted"
    assert stranger.put(f"{url}/members/{project}", json={"status": "maybe"}).status_code == 400
    ids = {
        i["id"]
        for i in stranger.get("/v2/images", params={"visibility": "shared"}).json()["images"]
    }
    assert image["id"] in ids
    listed = stranger.get(f"{url}/members").json()
    assert [m["member_id"] for m in listed["members"]] == [project]
    assert listed["schema"] == "/v2/schemas/members"
    # Unshared: the image disappears for the former member.
    assert demo.delete(f"{url}/members/{project}").status_code == 204
    assert stranger.get(url).status_code == 404
    demo.delete(url)


def test_deactivation(demo: httpx.Client, admin: httpx.Client) -> None:
    image = create(demo)
    url = f"/v2/images/{image['id']}"
    assert demo.post(f"{url}/actions/deactivate").status_code == 403  # queued
    upload(demo, image["id"], b"data")
    assert demo.post(f"{url}/actions/deactivate").status_code == 204
    assert demo.get(url).json()["status"] == "deactivated"
    assert demo.get(f"{url}/file").status_code == 403
    assert admin.get(f"{url}/file").content == b"data"  # admins still read it
    assert demo.post(f"{url}/actions/reactivate").status_code == 204
    assert demo.get(f"{url}/file").content == b"data"
    demo.delete(url)


def test_stage_and_import_over_http(demo: httpx.Client) -> None:
    image = create(demo)
    url = f"/v2/images/{image['id']}"
    body = {"method": {"name": "glance-direct"}}
    assert demo.post(f"{url}/import", json=body).status_code == 409  # nothing staged
    assert demo.put(f"{url}/stage", content=b"staged!", headers=OCTETS).status_code == 204
    assert demo.get(url).json()["status"] == "uploading"
    assert demo.put(f"{url}/stage", content=b"again", headers=OCTETS).status_code == 409
    assert demo.post(f"{url}/import", json={"method": {"name": "web-download"}}).status_code == 400
    assert demo.post(f"{url}/import", json=body).status_code == 202
    for _ in range(100):
        if demo.get(url).json()["status"] == "active":
            break
        time.sleep(0.05)
    shown = demo.get(url).json()
    assert shown["status"] == "active" and shown["size"] == 7
    assert demo.get(f"{url}/file").content == b"staged!"
    demo.delete(url)


def test_discovery_documents(demo: httpx.Client) -> None:
    schema = demo.get("/v2/schemas/image").json()
    assert schema["name"] == "image"
    assert schema["additionalProperties"] == {"type": "string"}
    assert "qcow2" in schema["properties"]["disk_format"]["enum"]
    assert demo.get("/v2/schemas/images").json()["name"] == "images"
    assert demo.get("/v2/schemas/member").json()["name"] == "member"
    assert demo.get("/v2/schemas/members").json()["name"] == "members"
    assert demo.get("/v2/info/import").json()["import-methods"]["value"] == [
        "glance-direct",
        "web-download",
    ]
    assert demo.get("/v2/info/stores").json()["stores"][0]["id"] == "file"
    usage = demo.get("/v2/info/usage").json()["usage"]
    assert usage["image_count_total"]["usage"] >= 0


def test_list_shape_and_pages(demo: httpx.Client) -> None:
    tag = unique("list")
    ids = [create(demo, tags=[tag])["id"] for _ in range(3)]
    page = demo.get("/v2/images", params={"tag": tag, "limit": 2}).json()
    assert set(page) == {"images", "schema", "first", "next"}
    assert page["schema"] == "/v2/schemas/images"
    assert len(page["images"]) == 2
    assert page["next"].startswith("/v2/images?") and "marker=" in page["next"]
    rest = demo.get(f"/image{page['next']}".removeprefix("/image")).json()
    assert len(rest["images"]) == 1 and "next" not in rest
    assert {i["id"] for i in page["images"] + rest["images"]} == set(ids)
    assert demo.get("/v2/images", params={"marker": str(uuid.uuid4())}).status_code == 400
    assert demo.get("/v2/images", params={"sort_key": "bogus"}).status_code == 400
    assert demo.get("/v2/images", params={"visibility": "bogus"}).status_code == 400
    for image_id in ids:
        demo.delete(f"/v2/images/{image_id}")


def test_token_required(cloud: Cloud) -> None:
    assert httpx.get(f"{cloud.url}/image/v2/images", timeout=30).status_code == 401
