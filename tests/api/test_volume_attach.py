"""Volumes attached to servers through compute's seam (fake drivers here; the e2e test has
the guest see the disk): ``server add/remove volume``, ``os-volume_attachments``, the volume's
status and attachments, refusals, and what a server's delete does to its volumes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.test_compute_server_extras import boot, mv
from tests.api.test_volume_http import project_token
from tests.support.cloud import Cloud
from tests.support.fixtures import new_member, sdk_as, unique
from tests.support.volume import Volume, check_schema, public_raw_image, volume_schema

C = "/compute/v2.1"


@pytest.fixture(scope="module")
def image_id(cloud: Cloud) -> str:
    return public_raw_image(cloud, unique("att-img"), b"\0" * 4096)


@pytest.fixture(scope="module")
def alice(cloud: Cloud) -> Iterator[Volume]:
    token, project = project_token(cloud)
    with cloud.http(token) as http:
        yield Volume(http, project)


def attachments(client: httpx.Client, server: str) -> list[dict[str, Any]]:
    resp = client.get(f"{C}/servers/{server}/os-volume_attachments", headers=mv(79))
    assert resp.status_code == 200, resp.text
    found: list[dict[str, Any]] = resp.json()["volumeAttachments"]
    return found


def test_attach_detach_through_compute(cloud: Cloud, alice: Volume, image_id: str) -> None:
    http = alice.client
    server = boot(http, image_id, None)
    vid = alice.create(name=unique("data"))["id"]
    alice.wait(vid, "available")
    resp = http.post(
        f"{C}/servers/{server}/os-volume_attachments",
        json={"volumeAttachment": {"volumeId": vid}},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["volumeAttachment"]["device"] == "/dev/vdb"
    shown = check_schema(alice("GET", f"/volumes/{vid}"), volume_schema("volumes", "show_volume"))
    vol = shown["volume"]
    assert vol["status"] == "in-use"
    (att,) = vol["attachments"]
    assert att["server_id"] == server and att["device"] == "/dev/vdb"
    assert [a["volumeId"] for a in attachments(http, server)] == [vid]
    # In use: no delete, no second attach of a volume that is not multiattach.
    assert alice("DELETE", f"/volumes/{vid}").status_code == 400
    other = boot(http, image_id, None)
    again = http.post(
        f"{C}/servers/{other}/os-volume_attachments",
        json={"volumeAttachment": {"volumeId": vid}},
    )
    assert again.status_code == 400, again.text
    # A detach of a volume not attached to that server is 404.
    assert http.delete(f"{C}/servers/{other}/os-volume_attachments/{vid}").status_code == 404
    assert http.delete(f"{C}/servers/{server}/os-volume_attachments/{vid}").status_code == 202
    vol = alice.wait(vid, "available")
    assert vol["attachments"] == []
    assert attachments(http, server) == []
    http.delete(f"{C}/servers/{other}")
    http.delete(f"{C}/servers/{server}")
    assert alice("DELETE", f"/volumes/{vid}").status_code == 202


@pytest.mark.cli
def test_cli_server_add_and_remove_volume(cloud: Cloud, image_id: str) -> None:
    vm = unique("vm")
    cloud.openstack(
        "server", "create", "--image", image_id, "--flavor", "m1.tiny", "--nic", "none",
        "--wait", vm,
    )  # fmt: skip
    vol = unique("v")
    cloud.openstack("volume", "create", "--size", "1", vol)
    for _ in range(100):
        if cloud.openstack("volume", "show", vol)["status"] == "available":
            break
    cloud.openstack("server", "add", "volume", vm, vol, json_output=False)
    shown = cloud.openstack("volume", "show", vol)
    assert shown["status"] == "in-use"
    assert shown["attachments"][0]["device"] == "/dev/vdb"
    listed = cloud.openstack("server", "volume", "list", vm)
    assert [v["Volume ID"] for v in listed] == [shown["id"]]
    cloud.openstack("server", "remove", "volume", vm, vol, json_output=False)
    assert cloud.openstack("volume", "show", vol)["status"] == "available"
    cloud.openstack("server", "delete", "--wait", vm, json_output=False)
    cloud.openstack("volume", "delete", vol, json_output=False)


def test_another_projects_server_cannot_take_the_volume(
    cloud: Cloud, alice: Volume, image_id: str
) -> None:
    vid = alice.create()["id"]
    alice.wait(vid, "available")
    token, _ = project_token(cloud)
    with cloud.http(token) as bob:
        server = boot(bob, image_id, None)
        resp = bob.post(
            f"{C}/servers/{server}/os-volume_attachments",
            json={"volumeAttachment": {"volumeId": vid}},
        )
        assert resp.status_code == 404, resp.text
        bob.delete(f"{C}/servers/{server}")
    assert alice("GET", f"/volumes/{vid}").json()["volume"]["status"] == "available"
    assert alice("DELETE", f"/volumes/{vid}").status_code == 202


def test_server_delete_releases_or_deletes_volumes(alice: Volume, image_id: str) -> None:
    http = alice.client
    server = boot(http, image_id, None)
    keep = alice.create()["id"]
    gone = alice.create()["id"]
    for vid, dot in ((keep, False), (gone, True)):
        alice.wait(vid, "available")
        body = {"volumeAttachment": {"volumeId": vid, "delete_on_termination": dot}}
        resp = http.post(f"{C}/servers/{server}/os-volume_attachments", json=body, headers=mv(79))
        assert resp.status_code == 200, resp.text
    assert http.delete(f"{C}/servers/{server}").status_code == 204
    assert alice.wait(keep, "available")["attachments"] == []
    alice.wait(gone, "deleted")
    assert alice("DELETE", f"/volumes/{keep}").status_code == 202


def test_sdk_updates_a_volume_attachment(cloud: Cloud, image_id: str) -> None:
    """openstacksdk's TestServerVolumeAttachment: a member sets ``delete_on_termination`` on
    an attachment (Nova's PUT from 2.85; the attachment as shown may come back unchanged,
    but only that member may change). Before 2.85, or with a new ``volumeId``, a PUT is a
    swap: the admin's, and refused here."""
    user, project, token = new_member(cloud)
    conn = sdk_as(cloud, user, project)
    try:
        server = conn.compute.create_server(
            name=unique("att"), flavor_id="1", image_id=image_id, networks="none"
        )
        conn.compute.wait_for_server(server, wait=30)
        volume = conn.block_storage.create_volume(size=1)
        conn.block_storage.wait_for_status(volume, status="available", wait=30)
        conn.compute.create_volume_attachment(server, volume)
        conn.block_storage.wait_for_status(volume, status="in-use", wait=30)
        conn.compute.update_volume_attachment(server, volume, delete_on_termination=True)
        att = conn.compute.get_volume_attachment(server, volume)
        assert att.delete_on_termination is True
        path = f"{C}/servers/{server.id}/os-volume_attachments/{volume.id}"
        other = "6e1b6b4c-3e2b-4f44-9a8a-000000000000"
        same = {"volumeId": volume.id, "device": "/dev/vdb", "serverId": server.id,
                "id": volume.id, "tag": None}  # fmt: skip
        cases: list[tuple[int, dict[str, Any], int, str]] = [
            (85, {**same, "device": "/dev/vdz"}, 400, "The device property is not mutable"),
            (85, {**same, "tag": "t"}, 400, "The tag property is not mutable"),
            (85, {**same, "serverId": other}, 400, "The serverId property is not mutable"),
            (85, {"volumeId": volume.id, "delete_on_termination": "maybe"}, 400, "boolean"),
            (84, {"volumeId": volume.id, "delete_on_termination": False}, 400, "was unexpected"),
            (84, {"volumeId": volume.id}, 403, "swap"),
            (85, {"volumeId": other}, 403, "swap"),
        ]
        with cloud.http(token) as http, cloud.http(cloud.token()) as admin:
            for minor, body, status, message in cases:
                resp = http.put(path, json={"volumeAttachment": body}, headers=mv(minor))
                assert (resp.status_code, message in resp.text) == (status, True), resp.text
            swap = admin.put(path, json={"volumeAttachment": {"volumeId": other}}, headers=mv(85))
            assert swap.status_code == 400 and "Swapping" in swap.text, swap.text
            unset = {"volumeAttachment": {**same, "delete_on_termination": False}}
            body = {"volumeAttachment": {"volumeId": other, "delete_on_termination": False}}
            missing = http.put(path.replace(volume.id, other), json=body, headers=mv(85))
            assert missing.status_code == 404, missing.text  # not attached to the server
            resp = http.put(path, json=unset, headers=mv(85))
            assert resp.status_code == 202 and not resp.content, resp.text
        assert conn.compute.get_volume_attachment(server, volume).delete_on_termination is False
        conn.compute.delete_volume_attachment(server, volume, ignore_missing=False)
        conn.block_storage.wait_for_status(volume, status="available", wait=30)
        conn.compute.wait_for_delete(att, wait=30)
        assert list(conn.compute.volume_attachments(server)) == []
        conn.block_storage.delete_volume(volume.id)
        conn.block_storage.wait_for_delete(volume, wait=30)
        conn.compute.delete_server(server.id)
        conn.compute.wait_for_delete(server, wait=30)
    finally:
        conn.close()


def test_old_attach_actions(alice: Volume) -> None:
    vid = alice.create()["id"]
    alice.wait(vid, "available")
    act = f"/volumes/{vid}/action"
    assert alice("POST", act, json={"os-reserve": None}).status_code == 202
    assert alice.wait(vid, "attaching")  # Cinder: an old client's reserve
    assert alice("POST", act, json={"os-unreserve": None}).status_code == 202
    assert alice.wait(vid, "available")
    server = "5b3e7c1e-0000-4000-8000-000000000001"
    attach = {"os-attach": {"instance_uuid": server, "mountpoint": "/dev/vdc"}}
    assert alice("POST", act, json=attach).status_code == 202
    vol = alice.wait(vid, "in-use")
    assert vol["attachments"][0]["server_id"] == server
    assert alice("POST", act, json={"os-begin_detaching": None}).status_code == 202
    assert alice.wait(vid, "detaching")
    assert alice("POST", act, json={"os-roll_detaching": None}).status_code == 202
    assert alice.wait(vid, "in-use")
    assert alice("POST", act, json={"os-detach": {}}).status_code == 202
    assert alice.wait(vid, "available")["attachments"] == []
    assert alice("DELETE", f"/volumes/{vid}").status_code == 202


def test_v3_attachments_api(alice: Volume, cloud: Cloud) -> None:
    vid = alice.create(name=unique("att"))["id"]
    alice.wait(vid, "available")
    server = "5b3e7c1e-0000-4000-8000-000000000002"
    body = {"attachment": {"volume_id": vid, "instance_uuid": server}}
    assert alice("POST", "/attachments", "3.26", json=body).status_code == 404
    made = alice("POST", "/attachments", "3.27", json=body)
    assert made.status_code == 200, made.text
    att = made.json()["attachment"]
    assert att["status"] == "reserved" and att["connection_info"] == {}
    assert alice.wait(vid, "reserved")
    connector = {"attachment": {"connector": {"host": "h1", "initiator": "x"}}}
    updated = alice("PUT", f"/attachments/{att['id']}", "3.27", json=connector).json()
    info = updated["attachment"]["connection_info"]
    assert info["driver_volume_type"] == "file" and info["data"]["volume_id"] == vid
    done = alice("POST", f"/attachments/{att['id']}/action", "3.44", json={"os-complete": None})
    assert done.status_code == 204
    vol = alice.wait(vid, "in-use")
    assert vol["attachments"][0]["attachment_id"] == att["id"]
    listed = alice("GET", f"/attachments?volume_id={vid}", "3.27").json()["attachments"]
    assert [a["id"] for a in listed] == [att["id"]] and listed[0]["status"] == "attached"
    token, project = project_token(cloud)
    with cloud.http(token) as http:
        bob = Volume(http, project)
        assert bob("GET", f"/attachments/{att['id']}", "3.27").status_code == 404
        assert bob("POST", "/attachments", "3.27", json=body).status_code == 404
    gone = alice("DELETE", f"/attachments/{att['id']}", "3.27")
    assert gone.status_code == 200 and gone.json() == {"attachments": []}
    assert alice.wait(vid, "available")["attachments"] == []
    assert alice("DELETE", f"/volumes/{vid}").status_code == 202


def test_extend_while_attached_from_3_42(alice: Volume, image_id: str) -> None:
    http = alice.client
    server = boot(http, image_id, None)
    vid = alice.create()["id"]
    alice.wait(vid, "available")
    body = {"volumeAttachment": {"volumeId": vid}}
    assert http.post(f"{C}/servers/{server}/os-volume_attachments", json=body).status_code == 200
    grow = {"os-extend": {"new_size": 2}}
    assert alice("POST", f"/volumes/{vid}/action", "3.41", json=grow).status_code == 400
    assert alice("POST", f"/volumes/{vid}/action", "3.42", json=grow).status_code == 202
    vol = alice.wait(vid, "in-use")
    assert vol["size"] == 2 and vol["attachments"][0]["server_id"] == server
    assert http.delete(f"{C}/servers/{server}/os-volume_attachments/{vid}").status_code == 202
    alice.wait(vid, "available")
    http.delete(f"{C}/servers/{server}")
    assert alice("DELETE", f"/volumes/{vid}").status_code == 202


def test_multiattach_type_and_retype(cloud: Cloud, alice: Volume, image_id: str) -> None:
    token = cloud.token()
    with cloud.http(token) as http:
        me = http.get("/identity/v3/auth/tokens", headers={"X-Subject-Token": token}).json()
        admin = Volume(http, me["token"]["project"]["id"])
        shared = unique("multi")
        body = {"volume_type": {"name": shared, "extra_specs": {"multiattach": "<is> True"}}}
        assert admin("POST", "/types", json=body).status_code == 200
        other = unique("elsewhere")
        body = {"volume_type": {"name": other, "extra_specs": {"volume_backend_name": "lvm"}}}
        assert admin("POST", "/types", json=body).status_code == 200
    vid = alice.create()["id"]
    alice.wait(vid, "available")
    act = f"/volumes/{vid}/action"
    refused = alice("POST", act, json={"os-retype": {"new_type": other}})
    assert refused.status_code == 400 and "lvm" in refused.text
    assert alice("POST", act, json={"os-retype": {"new_type": shared}}).status_code == 202
    vol = alice("GET", f"/volumes/{vid}").json()["volume"]
    assert vol["volume_type"] == shared and vol["multiattach"] is True
    http = alice.client
    servers = [boot(http, image_id, None) for _ in range(2)]
    for server in servers:
        body = {"volumeAttachment": {"volumeId": vid}}
        resp = http.post(f"{C}/servers/{server}/os-volume_attachments", json=body)
        assert resp.status_code == 200, resp.text
    vol = alice.wait(vid, "in-use")
    assert sorted(a["server_id"] for a in vol["attachments"]) == sorted(servers)
    http.delete(f"{C}/servers/{servers[0]}/os-volume_attachments/{vid}")
    assert [a["server_id"] for a in alice.wait(vid, "in-use")["attachments"]] == [servers[1]]
    http.delete(f"{C}/servers/{servers[1]}/os-volume_attachments/{vid}")
    alice.wait(vid, "available")
    for server in servers:
        http.delete(f"{C}/servers/{server}")
    assert alice("DELETE", f"/volumes/{vid}").status_code == 202


def test_assisted_volume_snapshots(cloud: Cloud, alice: Volume, image_id: str) -> None:
    """``os-assisted-volume-snapshots``: the block storage service's (admin or service) call
    to have the hypervisor take its snapshot of an attached volume; a snapshot waiting in
    ``creating`` becomes available, and the answer is Nova's."""
    http = alice.client
    server = boot(http, image_id, None)
    vid = alice.create(name=unique("assisted"))["id"]
    alice.wait(vid, "available")
    body = {"volumeAttachment": {"volumeId": vid}}
    assert http.post(f"{C}/servers/{server}/os-volume_attachments", json=body).status_code == 200
    alice.wait(vid, "in-use")
    snap = alice("POST", "/snapshots", json={"snapshot": {"volume_id": vid, "force": True}})
    assert snap.status_code == 202, snap.text
    sid = snap.json()["snapshot"]["id"]
    info = {"snapshot_id": sid, "type": "qcow2", "new_file": "new_file"}
    asked = {"snapshot": {"volume_id": vid, "create_info": info}}
    # A member is not the block storage service.
    assert http.post(f"{C}/os-assisted-volume-snapshots", json=asked).status_code == 403
    with cloud.http(cloud.token()) as admin:
        me = admin.get("/identity/v3/auth/tokens", headers={"X-Subject-Token": cloud.token()})
        vol_admin = Volume(admin, me.json()["token"]["project"]["id"])
        for _ in range(100):  # the fake driver takes it: wait, then make it wait for us
            if alice("GET", f"/snapshots/{sid}").json()["snapshot"]["status"] == "available":
                break
            time.sleep(0.1)
        reset = {"os-reset_status": {"status": "creating"}}
        assert vol_admin("POST", f"/snapshots/{sid}/action", json=reset).status_code == 202
        resp = admin.post(f"{C}/os-assisted-volume-snapshots", json=asked)
        assert resp.status_code == 200, resp.text
        assert resp.json() == {"snapshot": {"id": None, "volumeId": vid}}
        shown = alice("GET", f"/snapshots/{sid}").json()["snapshot"]
        progress = shown["os-extended-snapshot-attributes:progress"]
        assert (shown["status"], progress) == ("available", "100%")
        bad = {"snapshot": {"volume_id": vid, "create_info": {**info, "type": "raw"}}}
        assert admin.post(f"{C}/os-assisted-volume-snapshots", json=bad).status_code == 400
        loose = alice.create(name=unique("loose"))["id"]
        stray = {"snapshot": {"volume_id": loose, "create_info": info}}
        refused = admin.post(f"{C}/os-assisted-volume-snapshots", json=stray)
        assert refused.status_code == 400 and "Block Device Mapping" in refused.text
        url = f"{C}/os-assisted-volume-snapshots/{sid}"
        params = {"delete_info": json.dumps({"volume_id": vid})}
        assert admin.delete(url, params=params).status_code == 204
        assert admin.delete(url).status_code == 400
    assert alice("DELETE", f"/snapshots/{sid}").status_code == 202
    http.delete(f"{C}/servers/{server}")
    alice.wait(vid, "available")
