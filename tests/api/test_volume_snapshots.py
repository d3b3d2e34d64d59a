"""Snapshots, volumes from snapshots, volumes and images (bootable volumes carrying the
image's metadata, volumes uploaded as images), revert to the latest snapshot (3.40)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.api.test_volume_http import project_token
from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.volume import Volume, check_schema, volume_schema


@pytest.fixture(scope="module")
def alice(cloud: Cloud) -> Iterator[Volume]:
    token, project = project_token(cloud)
    with cloud.http(token) as http:
        yield Volume(http, project)


def wait_snapshot(v: Volume, snap_id: str, status: str, timeout: float = 30) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = v("GET", f"/snapshots/{snap_id}")
        if resp.status_code == 404 and status == "deleted":
            return {}
        shown: dict[str, object] = resp.json()["snapshot"]
        if shown["status"] == status:
            return shown
        time.sleep(0.05)
    raise AssertionError(f"snapshot {snap_id} not {status}")


def test_snapshot_lifecycle_and_volumes_from_it(alice: Volume) -> None:
    vid = alice.create(size=2)["id"]
    alice.wait(vid, "available")
    body = {"snapshot": {"volume_id": vid, "name": unique("s"), "metadata": {"k": "v"}}}
    snap = check_schema(
        alice("POST", "/snapshots", json=body), volume_schema("snapshots", "create_snapshot")
    )["snapshot"]
    wait_snapshot(alice, snap["id"], "available")
    check_schema(
        alice("GET", f"/snapshots/{snap['id']}"), volume_schema("snapshots", "show_snapshot")
    )
    check_schema(alice("GET", "/snapshots"), volume_schema("snapshots", "list_snapshots_no_detail"))
    check_schema(
        alice("GET", "/snapshots/detail"), volume_schema("snapshots", "list_snapshots_with_detail")
    )
    check_schema(
        alice("PUT", f"/snapshots/{snap['id']}", json={"snapshot": {"name": "renamed"}}),
        volume_schema("snapshots", "update_snapshot"),
    )
    assert alice("GET", f"/snapshots/{snap['id']}/metadata").json() == {"metadata": {"k": "v"}}
    # The snapshot's source cannot go while the snapshot exists.
    assert alice("DELETE", f"/volumes/{vid}").status_code == 400
    from_snap = alice.create(size=None, snapshot_id=snap["id"])
    assert from_snap["size"] == 2 and from_snap["snapshot_id"] == snap["id"]
    alice.wait(from_snap["id"], "available")
    small = alice("POST", "/volumes", json={"volume": {"size": 1, "snapshot_id": snap["id"]}})
    assert small.status_code == 400
    clone = alice.create(size=None, source_volid=vid)
    assert clone["size"] == 2 and clone["source_volid"] == vid
    alice.wait(clone["id"], "available")
    # 3.40: revert to the latest snapshot.
    revert = {"revert": {"snapshot_id": snap["id"]}}
    assert alice("POST", f"/volumes/{vid}/action", "3.39", json=revert).status_code == 400
    assert alice("POST", f"/volumes/{vid}/action", "3.40", json=revert).status_code == 202
    alice.wait(vid, "available")
    wait_snapshot(alice, snap["id"], "available")
    assert alice("DELETE", f"/snapshots/{snap['id']}").status_code == 202
    wait_snapshot(alice, snap["id"], "deleted")
    for i in (vid, from_snap["id"], clone["id"]):
        assert alice("DELETE", f"/volumes/{i}").status_code == 202


def test_other_projects_cannot_snapshot(cloud: Cloud, alice: Volume) -> None:
    vid = alice.create()["id"]
    alice.wait(vid, "available")
    token, project = project_token(cloud)
    with cloud.http(token) as http:
        bob = Volume(http, project)
        resp = bob("POST", "/snapshots", json={"snapshot": {"volume_id": vid}})
        assert resp.status_code == 404
    assert alice("DELETE", f"/volumes/{vid}").status_code == 202


@pytest.mark.cli
def test_cli_snapshots(cloud: Cloud) -> None:
    vol, snap = unique("sv"), unique("s1")
    cloud.openstack("volume", "create", "--size", "1", vol)
    for _ in range(100):
        if cloud.openstack("volume", "show", vol)["status"] == "available":
            break
    cloud.openstack("volume", "snapshot", "create", "--volume", vol, snap)
    for _ in range(100):
        if cloud.openstack("volume", "snapshot", "show", snap)["status"] == "available":
            break
    assert snap in {s["Name"] for s in cloud.openstack("volume", "snapshot", "list")}
    cloud.openstack("volume", "snapshot", "set", "--property", "a=b", snap, json_output=False)
    assert cloud.openstack("volume", "snapshot", "show", snap)["properties"] == {"a": "b"}
    v2 = unique("v2")
    made = cloud.openstack("volume", "create", "--snapshot", snap, v2)
    assert made["snapshot_id"] == cloud.openstack("volume", "snapshot", "show", snap)["id"]
    v3 = unique("v3")
    assert cloud.openstack("volume", "create", "--source", vol, v3)["size"] == 1
    for name in (v2, v3):
        for _ in range(100):
            if cloud.openstack("volume", "show", name)["status"] == "available":
                break
    cloud.openstack("volume", "delete", v2, v3, json_output=False)
    cloud.openstack("volume", "snapshot", "delete", snap, json_output=False)
    for _ in range(100):
        if snap not in {s["Name"] for s in cloud.openstack("volume", "snapshot", "list")}:
            break
    cloud.openstack("volume", "delete", vol, json_output=False)


def test_volume_from_image_and_back(cloud: Cloud, alice: Volume) -> None:
    with cloud.http(cloud.token()) as admin:
        body = {"name": unique("vimg"), "disk_format": "raw", "container_format": "bare",
                "visibility": "public", "os_distro": "onestack", "min_disk": 1}  # fmt: skip
        image = admin.post("/image/v2/images", json=body).json()["id"]
        put = admin.put(
            f"/image/v2/images/{image}/file", content=b"\1" * 65536,
            headers={"Content-Type": "application/octet-stream"},
        )  # fmt: skip
        assert put.status_code == 204
    made = alice.create(size=1, imageRef=image)
    vol = alice.wait(made["id"], "available")
    assert vol["bootable"] == "true"
    meta = vol["volume_image_metadata"]
    assert meta["image_id"] == image and meta["os_distro"] == "onestack"
    bad = alice("POST", "/volumes", json={"volume": {"size": 1, "imageRef": made["id"]}})
    assert bad.status_code == 400  # not an image
    with cloud.http(cloud.token()) as admin:
        admin.patch(
            f"/image/v2/images/{image}",
            json=[{"op": "replace", "path": "/min_disk", "value": 2}],
            headers={"Content-Type": "application/openstack-images-v2.1-json-patch"},
        ).raise_for_status()
    small = alice("POST", "/volumes", json={"volume": {"size": 1, "imageRef": image}})
    assert small.status_code == 400 and "needs a volume of at least 2GB" in small.text
    upload = {"os-volume_upload_image": {"image_name": unique("up"), "disk_format": "raw"}}
    resp = alice("POST", f"/volumes/{made['id']}/action", json=upload)
    assert resp.status_code == 202, resp.text
    image_id = resp.json()["os-volume_upload_image"]["image_id"]
    alice.wait(made["id"], "available")
    deadline = time.monotonic() + 30
    while True:
        shown = alice.client.get(f"/image/v2/images/{image_id}").json()
        if shown["status"] == "active":
            break
        assert time.monotonic() < deadline, shown
        time.sleep(0.1)
    assert shown["os_distro"] == "onestack" and shown["disk_format"] == "raw"
    assert alice("DELETE", f"/volumes/{made['id']}").status_code == 202
