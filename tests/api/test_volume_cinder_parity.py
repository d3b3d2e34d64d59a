"""Cinder behaviours Tempest's volume tests showed missing: an old client's reserve says
``attaching``, a clone of a bootable volume is bootable, a type asking for capabilities no pool
has ends the volume in ``error`` with a user message, backups change name (3.9) and export
under Cinder's driver prefix, snapshots list by ``display_name`` and ``offset``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.test_volume_http import admin as admin  # a fixture
from tests.api.test_volume_http import client_of, project_token
from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.volume import Volume


@pytest.fixture(scope="module")
def alice(cloud: Cloud) -> Iterator[Volume]:
    yield from client_of(cloud, *project_token(cloud))


def test_reserve_clone_and_snapshot_listing(alice: Volume, admin: Volume) -> None:
    vid = alice.create(name=unique("src"))["id"]
    alice.wait(vid, "available")
    act = f"/volumes/{vid}/action"
    assert alice("POST", act, json={"os-reserve": None}).status_code == 202
    assert alice.wait(vid, "attaching")["status"] == "attaching"
    assert alice("POST", act, json={"os-unreserve": None}).status_code == 202
    alice.wait(vid, "available")
    assert alice("POST", act, json={"os-set_bootable": {"bootable": True}}).status_code == 200
    clone = alice.create(source_volid=vid)["id"]
    assert alice.wait(clone, "available")["bootable"] == "true"
    snaps = []
    for name in ("b", "a", "c"):
        resp = alice("POST", "/snapshots", json={"snapshot": {"volume_id": vid, "name": name}})
        assert resp.status_code == 202, resp.text
        snaps.append(resp.json()["snapshot"]["id"])
    listed = alice("GET", "/snapshots?sort_key=display_name&sort_dir=asc").json()["snapshots"]
    assert [s["name"] for s in listed] == ["a", "b", "c"]
    assert len(alice("GET", "/snapshots?offset=1").json()["snapshots"]) == 2
    missing = alice("GET", f"/snapshots?marker={clone}")
    assert missing.status_code == 404, missing.text
    assert alice("POST", "/snapshots", json={"snapshot": {}}).status_code == 404


def test_a_type_asking_for_another_vendor_leaves_an_error_and_a_message(
    alice: Volume, admin: Volume
) -> None:
    body = {"volume_type": {"name": unique("elsewhere"),
                            "extra_specs": {"vendor_name": "NotOneStack"}}}  # fmt: skip
    vtype = admin("POST", "/types", json=body)
    assert vtype.status_code == 200, vtype.text
    vid = alice.create(volume_type=vtype.json()["volume_type"]["id"])["id"]
    alice.wait(vid, "error")
    messages = alice("GET", "/messages", "3.3").json()["messages"]
    assert any(m["resource_uuid"] == vid for m in messages), messages


def test_backup_update_and_export(alice: Volume, admin: Volume) -> None:
    vid = alice.create()["id"]
    alice.wait(vid, "available")
    backup = alice("POST", "/backups", json={"backup": {"volume_id": vid}}).json()["backup"]
    for _ in range(200):
        if alice("GET", f"/backups/{backup['id']}").json()["backup"]["status"] == "available":
            break
    old = alice("PUT", f"/backups/{backup['id']}", json={"backup": {"name": "n"}})
    assert old.status_code in (400, 404), old.text  # before 3.9
    resp = alice("PUT", f"/backups/{backup['id']}", "3.9", json={"backup": {"name": "renamed"}})
    assert resp.status_code == 200, resp.text
    assert resp.json()["backup"]["name"] == "renamed"
    record = admin("GET", f"/backups/{backup['id']}/export_record").json()["backup-record"]
    assert record["backup_service"].startswith("cinder.backup.drivers.")
