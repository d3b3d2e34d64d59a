"""Boot from volume (fake drivers; the e2e test has a guest really run from its volume):
``block_device_mapping_v2`` on ``POST /servers`` (an image written into a new volume, an
existing bootable volume, blank volumes as extra disks, ``delete_on_termination``,
``volume_size``), ``openstack server create --volume`` and ``--boot-from-volume``,
``os-volumes_boot``, the server's ``volumes_attached``, and Nova's 400s for bad mappings."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.test_compute_server_extras import mv
from tests.api.test_volume_http import admin as admin  # a fixture
from tests.api.test_volume_http import project_token
from tests.support.cloud import Cloud
from tests.support.fixtures import new_member, sdk_as, unique
from tests.support.volume import Volume, public_raw_image

C = "/compute/v2.1"


@pytest.fixture(scope="module")
def image_id(cloud: Cloud) -> str:
    return public_raw_image(cloud, unique("bfv-img"), b"\1" * 4096, min_ram=32)


@pytest.fixture(scope="module")
def alice(cloud: Cloud) -> Iterator[Volume]:
    token, project = project_token(cloud)
    with cloud.http(token) as http:
        yield Volume(http, project)


def post_server(
    http: httpx.Client, bdms: list[dict[str, Any]], path: str = "servers", **extra: Any
) -> httpx.Response:
    body = {"server": {"name": unique("bfv"), "flavorRef": "1", "networks": "none",
                       "block_device_mapping_v2": bdms, **extra}}  # fmt: skip
    return http.post(f"{C}/{path}", json=body, headers=mv(67))


def wait_server(http: httpx.Client, uuid: str, status: str = "ACTIVE") -> dict[str, Any]:
    deadline = time.monotonic() + 30
    server: dict[str, Any] = {}
    while time.monotonic() < deadline:
        server = http.get(f"{C}/servers/{uuid}", headers=mv(67)).json()["server"]
        if server["status"] == status:
            return server
        assert server["status"] != "ERROR" or status == "ERROR", server.get("fault")
        time.sleep(0.05)
    raise AssertionError(f"server {uuid} not {status}: {server.get('status')}")


def wait_gone(http: httpx.Client, uuid: str) -> None:
    deadline = time.monotonic() + 30
    while http.get(f"{C}/servers/{uuid}").status_code != 404:
        assert time.monotonic() < deadline, f"server {uuid} still there"
        time.sleep(0.05)


def test_boot_from_a_volume_made_from_an_image(alice: Volume, image_id: str) -> None:
    http = alice.client
    root = {"source_type": "image", "destination_type": "volume", "uuid": image_id,
            "boot_index": 0, "volume_size": 1, "delete_on_termination": True}  # fmt: skip
    blank = {"source_type": "blank", "destination_type": "volume", "volume_size": 2,
             "boot_index": -1}  # fmt: skip
    resp = post_server(http, [root, blank])
    assert resp.status_code == 202, resp.text
    uuid = resp.json()["server"]["id"]
    server = wait_server(http, uuid)
    assert server["image"] == ""  # Nova shows no image for a server booted from a volume
    attached = server["os-extended-volumes:volumes_attached"]
    assert [a["delete_on_termination"] for a in attached] == [True, False]
    root_id, blank_id = (a["id"] for a in attached)
    vol = alice.wait(root_id, "in-use")
    assert vol["bootable"] == "true" and vol["size"] == 1
    assert vol["volume_image_metadata"]["image_id"] == image_id
    assert [(a["server_id"], a["device"]) for a in vol["attachments"]] == [(uuid, "/dev/vda")]
    extra = alice.wait(blank_id, "in-use")
    assert extra["size"] == 2 and extra["bootable"] == "false"
    assert extra["attachments"][0]["device"] == "/dev/vdb"
    listed = http.get(f"{C}/servers/{uuid}/os-volume_attachments").json()["volumeAttachments"]
    assert sorted(a["volumeId"] for a in listed) == sorted([root_id, blank_id])
    # The root disk stays; the extra one may go.
    refused = http.delete(f"{C}/servers/{uuid}/os-volume_attachments/{root_id}")
    assert refused.status_code == 400, refused.text
    assert http.delete(f"{C}/servers/{uuid}").status_code == 204
    wait_gone(http, uuid)
    alice.wait(root_id, "deleted")  # delete_on_termination
    assert alice.wait(blank_id, "available")["attachments"] == []
    assert alice("DELETE", f"/volumes/{blank_id}").status_code == 202


def test_boot_from_an_existing_volume_through_os_volumes_boot(alice: Volume, image_id: str) -> None:
    http = alice.client
    vid = alice.create(imageRef=image_id, name=unique("boot"))["id"]
    alice.wait(vid, "available")
    bdm = {"source_type": "volume", "destination_type": "volume", "uuid": vid, "boot_index": 0}
    resp = post_server(http, [bdm], path="os-volumes_boot")
    assert resp.status_code == 202, resp.text
    uuid = resp.json()["server"]["id"]
    server = wait_server(http, uuid)
    assert server["os-extended-volumes:volumes_attached"] == [
        {"id": vid, "delete_on_termination": False}
    ]
    assert alice.wait(vid, "in-use")["attachments"][0]["server_id"] == uuid
    # Its disk is the volume: its snapshot is an empty active image whose mappings name a
    # snapshot of the volume (Nova's snapshot_volume_backed); no backup, no rebuild.
    snap = http.post(f"{C}/servers/{uuid}/action", json={"createImage": {"name": "s"}})
    assert snap.status_code == 202, snap.text
    image = http.get(f"/image/v2/images/{snap.headers['Location'].rsplit('/', 1)[1]}").json()
    assert (image["status"], image["size"], image["bdm_v2"]) == ("active", 0, "True"), image
    (mapping,) = json.loads(image["block_device_mapping"])
    assert (mapping["source_type"], mapping["boot_index"]) == ("snapshot", 0)
    snapshot = alice("GET", f"/snapshots/{mapping['snapshot_id']}").json()["snapshot"]
    assert snapshot["volume_id"] == vid
    backup = {"createBackup": {"name": "b", "backup_type": "daily", "rotation": 1}}
    refused = http.post(f"{C}/servers/{uuid}/action", json=backup)
    assert refused.status_code == 400 and "volume-backed" in refused.text, refused.text
    body = {"name": unique("other"), "disk_format": "raw", "container_format": "bare"}
    other = http.post("/image/v2/images", json=body).json()["id"]
    http.put(f"/image/v2/images/{other}/file", content=b"\0" * 512,
             headers={"Content-Type": "application/octet-stream"})  # fmt: skip
    rebuild = http.post(f"{C}/servers/{uuid}/action", json={"rebuild": {"imageRef": other}})
    assert rebuild.status_code == 400 and "volume-backed" in rebuild.text, rebuild.text
    # 2.93: the rebuild rewrites the root volume from the new image (Cinder's os-reimage).
    body93 = {"rebuild": {"imageRef": other, "name": "rebuilt"}}
    rebuilt = http.post(f"{C}/servers/{uuid}/action", json=body93, headers=mv(93))
    assert rebuilt.status_code == 202, rebuilt.text
    assert rebuilt.json()["server"]["image"] == ""
    server = wait_server(http, uuid)
    assert server["name"] == "rebuilt"
    vol = alice.wait(vid, "in-use")
    assert vol["volume_image_metadata"]["image_id"] == other
    # In use: a second server cannot boot from it, and it cannot be deleted.
    again = post_server(http, [bdm])
    assert again.status_code == 400 and "status must be 'available'" in again.text
    assert alice("DELETE", f"/volumes/{vid}").status_code == 400
    assert http.delete(f"{C}/servers/{uuid}").status_code == 204
    wait_gone(http, uuid)
    alice.wait(vid, "available")
    # Cinder's own os-reimage (3.68), by the volume's owner, back to the first image.
    reimage = {"os-reimage": {"image_id": image_id}}
    assert alice("POST", f"/volumes/{vid}/action", json=reimage).status_code == 400  # 3.0
    assert alice("POST", f"/volumes/{vid}/action", "3.68", json=reimage).status_code == 202
    assert alice.wait(vid, "available")["volume_image_metadata"]["image_id"] == image_id
    # The server's snapshot holds the volume (Cinder: dependent snapshots) until it goes.
    assert alice("DELETE", f"/volumes/{vid}").status_code == 400
    deadline = time.monotonic() + 30
    while alice("GET", f"/snapshots/{snapshot['id']}").json()["snapshot"]["status"] != "available":
        assert time.monotonic() < deadline, "the server's volume snapshot never became available"
        time.sleep(0.1)
    assert alice("DELETE", f"/snapshots/{snapshot['id']}").status_code == 202
    while alice("GET", f"/snapshots/{snapshot['id']}").status_code != 404:
        assert time.monotonic() < deadline, "the server's volume snapshot was not deleted"
        time.sleep(0.1)
    assert alice("DELETE", f"/volumes/{vid}").status_code == 202


def test_bad_mappings_are_400(alice: Volume, image_id: str) -> None:
    http = alice.client
    missing = "6e1b6b4c-3e2b-4f44-9a8a-000000000000"
    plain = alice.create(name=unique("plain"))["id"]
    alice.wait(plain, "available")
    cases: list[tuple[list[dict[str, Any]], dict[str, Any], str]] = [
        ([{"source_type": "volume", "destination_type": "volume", "uuid": missing,
           "boot_index": 0}], {}, f"failed to get volume {missing}"),
        ([{"source_type": "volume", "destination_type": "volume", "uuid": plain,
           "boot_index": 0}], {}, f"Block Device {plain} is not bootable"),
        ([{"source_type": "volume", "destination_type": "volume", "uuid": plain,
           "boot_index": 0}], {"imageRef": missing}, f"Image {missing} could not be found"),
        ([{"source_type": "image", "destination_type": "volume", "uuid": missing,
           "boot_index": 0, "volume_size": 1}], {}, f"failed to get image {missing}"),
        ([{"source_type": "snapshot", "destination_type": "volume", "uuid": missing,
           "boot_index": 0}], {}, f"failed to get snapshot {missing}"),
        ([{"source_type": "blank", "destination_type": "volume", "boot_index": 1}],
         {"imageRef": image_id}, "need to have non-zero size"),
        ([{"source_type": "image", "destination_type": "volume", "uuid": image_id,
           "boot_index": 0, "volume_size": 1},
          {"source_type": "image", "destination_type": "volume", "uuid": image_id,
           "boot_index": 0, "volume_size": 1}], {}, "Boot sequence"),
        ([{"source_type": "blank", "destination_type": "volume", "volume_size": 1,
           "boot_index": 2}], {"imageRef": image_id}, "Boot sequence"),
        ([{"source_type": "blank", "destination_type": "volume", "volume_size": 1,
           "boot_index": 1}], {}, "Boot sequence"),
        ([{"source_type": "image", "destination_type": "volume", "uuid": image_id,
           "boot_index": 0, "volume_size": 0}], {}, "volume_size"),
        ([{"source_type": "image", "destination_type": "local", "uuid": image_id,
           "boot_index": 1}], {"imageRef": image_id}, "Mapping image to local"),
        ([{"source_type": "volume", "destination_type": "volume", "boot_index": 0}], {},
         "Missing device UUID"),
        ([{"source_type": "disk", "destination_type": "volume", "uuid": plain,
           "boot_index": 0}], {}, "source_type"),
        ([{"source_type": "blank", "destination_type": "local", "volume_size": 1,
           "boot_index": -1, "guest_format": "swap"}], {"imageRef": image_id}, "Swap drive"),
        ([{"source_type": "volume", "destination_type": "volume", "uuid": plain,
           "boot_index": 1}], {"imageRef": image_id, "max_count": 2},
         "Cannot attach one or more volumes to multiple instances"),
    ]  # fmt: skip
    for bdms, extra, message in cases:
        resp = post_server(http, bdms, **extra)
        assert resp.status_code == 400, (bdms, resp.text)
        assert message in resp.json()["badRequest"]["message"], (bdms, resp.text)
    # An image larger than the volume asked for (min_disk 2 GiB, volume 1 GiB).
    big = http.post(
        "/image/v2/images",
        json={"name": unique("big"), "disk_format": "raw", "container_format": "bare",
              "min_disk": 2},
    ).json()["id"]  # fmt: skip
    http.put(f"/image/v2/images/{big}/file", content=b"\0" * 512,
             headers={"Content-Type": "application/octet-stream"})  # fmt: skip
    resp = post_server(http, [{"source_type": "image", "destination_type": "volume",
                               "uuid": big, "boot_index": 0, "volume_size": 1}])  # fmt: skip
    assert resp.status_code == 400, resp.text
    assert "Volume is smaller than the minimum size" in resp.text
    assert alice("DELETE", f"/volumes/{plain}").status_code == 202


def test_sdk_boots_a_blank_root_volume_beside_an_image(cloud: Cloud, image_id: str) -> None:
    """openstacksdk's TestServerAdmin.test_server: ``imageRef`` and, at boot index 0, a blank
    volume. Nova reads the boot metadata from the image then and asks no ``bootable`` of
    the volume (only a boot without an image does; see the cases above), and shows that
    image as the server's (views/servers.py: "" only for a server with no image_ref)."""
    user, project, _ = new_member(cloud)
    conn = sdk_as(cloud, user, project)
    try:
        volume = conn.block_storage.create_volume(size=1)
        conn.block_storage.wait_for_status(volume, wait=30)
        bdm = {"uuid": volume.id, "source_type": "volume", "destination_type": "volume",
               "boot_index": 0, "delete_on_termination": True, "volume_size": 1}  # fmt: skip
        server = conn.compute.create_server(
            name=unique("bfv"), flavor_id="1", image_id=image_id, networks="none",
            block_device_mapping=[bdm],
        )  # fmt: skip
        server = conn.compute.wait_for_server(server, wait=30)
        attached = [(a["id"], a["delete_on_termination"]) for a in server.attached_volumes]
        assert attached == [(volume.id, True)]
        assert server.image.id == image_id
        assert [s.id for s in conn.compute.servers(image=image_id)] == [server.id]
        assert conn.block_storage.get_volume(volume.id).status == "in-use"
        conn.compute.delete_server(server.id)
        conn.compute.wait_for_delete(server, wait=30)
        conn.block_storage.wait_for_delete(volume, wait=30)  # delete_on_termination
    finally:
        conn.close()


def test_volume_quota_sends_the_server_to_error(cloud: Cloud, admin: Volume, image_id: str) -> None:
    token, project = project_token(cloud)
    resp = admin("PUT", f"/os-quota-sets/{project}", json={"quota_set": {"gigabytes": 1}})
    assert resp.status_code == 200, resp.text
    with cloud.http(token) as http:
        root = {"source_type": "image", "destination_type": "volume", "uuid": image_id,
                "boot_index": 0, "volume_size": 2}  # fmt: skip
        resp = post_server(http, [root])
        assert resp.status_code == 202, resp.text
        uuid = resp.json()["server"]["id"]
        server = wait_server(http, uuid, "ERROR")
        assert "gigabytes" in server["fault"]["message"], server["fault"]
        assert server["os-extended-volumes:volumes_attached"] == []
        assert Volume(http, project)("GET", "/volumes").json()["volumes"] == []
        assert http.delete(f"{C}/servers/{uuid}").status_code == 204


@pytest.mark.cli
def test_cli_server_create_volume_and_boot_from_volume(cloud: Cloud, image_id: str) -> None:
    vol = unique("bootvol")
    cloud.openstack("volume", "create", "--image", image_id, "--size", "1", vol)
    for _ in range(200):
        if cloud.openstack("volume", "show", vol)["status"] == "available":
            break
        time.sleep(0.05)
    vm = unique("vm")
    server = cloud.openstack(
        "server", "create", "--volume", vol, "--flavor", "m1.tiny", "--nic", "none",
        "--block-device", "source_type=blank,destination_type=volume,volume_size=1",
        "--wait", vm,
    )  # fmt: skip
    attached = [v["id"] for v in server["volumes_attached"]]
    shown = cloud.openstack("volume", "show", vol)
    assert shown["status"] == "in-use" and attached[0] == shown["id"] and len(attached) == 2
    listed = cloud.openstack("server", "volume", "list", vm)
    assert {v["Device"] for v in listed} == {"/dev/vda", "/dev/vdb"}
    cloud.openstack("server", "delete", "--wait", vm, json_output=False)
    assert cloud.openstack("volume", "show", vol)["status"] == "available"
    assert cloud.openstack("volume", "show", attached[1])["status"] == "available"
    # --boot-from-volume: the image written into a new volume of that size, deleted with it.
    vm2 = unique("vm")
    server = cloud.openstack(
        "server", "create", "--image", image_id, "--boot-from-volume", "1",
        "--delete-on-termination", "--flavor", "m1.tiny", "--nic", "none", "--wait", vm2,
        "--os-compute-api-version", "2.79",
    )  # fmt: skip
    (made,) = [v["id"] for v in server["volumes_attached"]]
    shown = cloud.openstack("volume", "show", made)
    assert shown["status"] == "in-use" and shown["bootable"] in (True, "true")
    assert shown["size"] == 1
    cloud.openstack("server", "delete", "--wait", vm2, json_output=False)
    gone = cloud.openstack("volume", "show", made, check=False, json_output=False)
    assert gone.returncode != 0
    for name in (vol, attached[1]):
        cloud.openstack("volume", "delete", name, json_output=False)


@pytest.mark.cli
def test_cli_server_create_from_a_volume_backed_servers_snapshot(
    cloud: Cloud, alice: Volume, image_id: str
) -> None:
    """``server create --image`` of an image that carries block device mappings (the snapshot
    of a server booted from a volume): the image's snapshot becomes a new root volume, and the
    server boots from it (Nova's image-defined mappings)."""
    http = alice.client
    vid = alice.create(imageRef=image_id, name=unique("origin"))["id"]
    alice.wait(vid, "available")
    bdm = {"source_type": "volume", "destination_type": "volume", "uuid": vid, "boot_index": 0,
           "delete_on_termination": True}  # fmt: skip
    resp = post_server(http, [bdm])
    assert resp.status_code == 202, resp.text
    first = resp.json()["server"]["id"]
    wait_server(http, first)
    snap = http.post(f"{C}/servers/{first}/action", json={"createImage": {"name": unique("s")}})
    assert snap.status_code == 202, snap.text
    image = snap.headers["Location"].rsplit("/", 1)[1]
    (mapping,) = json.loads(http.get(f"/image/v2/images/{image}").json()["block_device_mapping"])
    snapshot_id = mapping["snapshot_id"]
    deadline = time.monotonic() + 30
    while alice("GET", f"/snapshots/{snapshot_id}").json()["snapshot"]["status"] != "available":
        assert time.monotonic() < deadline, "the server's volume snapshot never became available"
        time.sleep(0.05)
    # The client is the server's project's (the image is private to it, as is its snapshot).
    env = {"OS_AUTH_TYPE": "v3token", "OS_AUTH_URL": cloud.auth_url,
           "OS_TOKEN": http.headers["X-Auth-Token"], "OS_PROJECT_ID": alice.project_id,
           "OS_IDENTITY_API_VERSION": "3", "OS_REGION_NAME": "RegionOne"}  # fmt: skip
    vm = unique("vm")
    server = cloud.openstack(
        "server", "create", "--image", image, "--flavor", "m1.tiny", "--nic", "none", "--wait",
        vm, cloud=None, env=env,
    )  # fmt: skip
    (made,) = [v["id"] for v in server["volumes_attached"]]
    assert made != vid
    shown = alice("GET", f"/volumes/{made}", "3.70").json()["volume"]
    assert (shown["status"], shown["snapshot_id"], shown["bootable"]) == (
        "in-use",
        snapshot_id,
        "true",
    )
    assert shown["volume_image_metadata"]["image_id"] == image_id
    assert [(a["server_id"], a["device"]) for a in shown["attachments"]] == [
        (server["id"], "/dev/vda")
    ]
    # Nova shows the image the server was booted from, though its root disk is the volume.
    assert http.get(f"{C}/servers/{server['id']}").json()["server"]["image"]["id"] == image
    # A volume of the image from 3.46 is a volume of its snapshot (before, of its no bytes).
    resp = alice("POST", "/volumes", "3.46", json={"volume": {"size": 1, "imageRef": image}})
    assert resp.status_code == 202, resp.text
    from_image = resp.json()["volume"]["id"]
    shown = alice.wait(from_image, "available")
    assert (shown["snapshot_id"], shown["bootable"]) == (snapshot_id, "true")
    assert alice("DELETE", f"/volumes/{from_image}").status_code == 202
    # The mapping's delete_on_termination came with it from the first server's volume.
    cloud.openstack("server", "delete", "--wait", vm, json_output=False, cloud=None, env=env)
    alice.wait(made, "deleted")
    assert http.delete(f"{C}/servers/{first}").status_code == 204
    wait_gone(http, first)
    alice.wait(vid, "deleted")
