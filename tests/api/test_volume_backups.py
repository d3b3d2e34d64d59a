"""Backups (full and incremental, restore into a new or an existing volume) and transfers (a
volume moves to another project with the transfer's id and auth key), held to Tempest's
response schemas."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

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


@pytest.fixture(scope="module")
def bob(cloud: Cloud) -> Iterator[Volume]:
    token, project = project_token(cloud)
    with cloud.http(token) as http:
        yield Volume(http, project)


def wait_backup(v: Volume, backup_id: str, status: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = v("GET", f"/backups/{backup_id}")
        if resp.status_code == 404 and status == "deleted":
            return {}
        shown: dict[str, Any] = resp.json()["backup"]
        if shown["status"] == status:
            return shown
        time.sleep(0.05)
    raise AssertionError(f"backup {backup_id} not {status}")


def test_full_and_incremental_backups_and_restores(alice: Volume, bob: Volume) -> None:
    vid = alice.create(size=1)["id"]
    alice.wait(vid, "available")
    full = check_schema(
        alice("POST", "/backups", json={"backup": {"volume_id": vid, "name": unique("b")}}),
        volume_schema("backups", "create_backup"),
    )["backup"]
    wait_backup(alice, full["id"], "available")
    alice.wait(vid, "available")
    inc = alice("POST", "/backups", json={"backup": {"volume_id": vid, "incremental": True}})
    assert inc.status_code == 202
    inc_id = inc.json()["backup"]["id"]
    shown = wait_backup(alice, inc_id, "available")
    assert shown["is_incremental"] is True
    check_schema(alice("GET", f"/backups/{full['id']}"), volume_schema("backups", "show_backup"))
    assert alice("GET", f"/backups/{full['id']}").json()["backup"]["has_dependent_backups"]
    check_schema(
        alice("GET", "/backups/detail"), volume_schema("backups", "list_backups_with_detail")
    )
    check_schema(alice("GET", "/backups"), volume_schema("backups", "list_backups_no_detail"))
    # The parent cannot go while its incremental child exists; others see nothing.
    assert alice("DELETE", f"/backups/{full['id']}").status_code == 400
    assert bob("GET", f"/backups/{full['id']}").status_code == 404
    assert bob("POST", "/backups", json={"backup": {"volume_id": vid}}).status_code == 404
    # Restore into a new volume, then into the existing one.
    restored = check_schema(
        alice("POST", f"/backups/{inc_id}/restore", json={"restore": {"name": "r1"}}),
        volume_schema("backups", "restore_backup"),
    )["restore"]
    assert restored["volume_name"] == "r1"
    alice.wait(restored["volume_id"], "available")
    wait_backup(alice, inc_id, "available")
    # 3.47: a new volume made from the backup.
    body = {"volume": {"backup_id": inc_id, "name": "from-backup"}}
    assert alice("POST", "/volumes", "3.46", json=body).status_code == 400
    unknown = {"volume": {"backup_id": "6a3b8e6e-4b6b-4d4e-9b1a-1f0f2c3d4e5f"}}
    assert alice("POST", "/volumes", "3.47", json=unknown).status_code == 404
    from_backup = alice("POST", "/volumes", "3.47", json=body)
    assert from_backup.status_code == 202, from_backup.text
    alice.wait(from_backup.json()["volume"]["id"], "available")
    wait_backup(alice, inc_id, "available")
    assert alice("DELETE", f"/volumes/{from_backup.json()['volume']['id']}").status_code == 202
    into = {"restore": {"volume_id": vid}}
    assert alice("POST", f"/backups/{full['id']}/restore", json=into).status_code == 202
    alice.wait(vid, "available")
    wait_backup(alice, full["id"], "available")
    for backup in (inc_id, full["id"]):
        assert alice("DELETE", f"/backups/{backup}").status_code == 202
        wait_backup(alice, backup, "deleted")
    for volume in (vid, restored["volume_id"]):
        assert alice("DELETE", f"/volumes/{volume}").status_code == 202


def test_incremental_needs_a_full_backup(alice: Volume) -> None:
    vid = alice.create()["id"]
    alice.wait(vid, "available")
    resp = alice("POST", "/backups", json={"backup": {"volume_id": vid, "incremental": True}})
    assert resp.status_code == 400
    assert alice("DELETE", f"/volumes/{vid}").status_code == 202


def test_transfer_moves_the_volume(alice: Volume, bob: Volume) -> None:
    vid = alice.create(name=unique("gift"))["id"]
    alice.wait(vid, "available")
    made = check_schema(
        alice("POST", "/os-volume-transfer", json={"transfer": {"volume_id": vid, "name": "t"}}),
        volume_schema("transfers", "create_volume_transfer"),
    )["transfer"]
    assert alice("GET", f"/volumes/{vid}").json()["volume"]["status"] == "awaiting-transfer"
    check_schema(
        alice("GET", f"/os-volume-transfer/{made['id']}"),
        volume_schema("transfers", "show_volume_transfer"),
    )
    check_schema(
        alice("GET", "/volume-transfers/detail", "3.57"),
        volume_schema("transfers", "list_volume_transfers_with_detail", "v3_57"),
    )
    assert bob("GET", f"/os-volume-transfer/{made['id']}").status_code == 404
    accept = f"/os-volume-transfer/{made['id']}/accept"
    assert bob("POST", accept, json={"accept": {"auth_key": "wrong"}}).status_code == 400
    done = bob("POST", accept, json={"accept": {"auth_key": made["auth_key"]}})
    check_schema(done, volume_schema("transfers", "accept_volume_transfer"))
    assert alice("GET", f"/volumes/{vid}").status_code == 404
    vol = bob.wait(vid, "available")
    assert vol["os-vol-tenant-attr:tenant_id"] == bob.project_id
    assert bob("DELETE", f"/volumes/{vid}").status_code == 202


def test_cancelled_transfer_frees_the_volume(alice: Volume) -> None:
    vid = alice.create()["id"]
    alice.wait(vid, "available")
    made = alice("POST", "/volume-transfers", "3.55", json={"transfer": {"volume_id": vid}})
    assert made.status_code == 202
    tid = made.json()["transfer"]["id"]
    assert alice("DELETE", f"/volumes/{vid}").status_code == 400
    assert alice("DELETE", f"/volume-transfers/{tid}", "3.55").status_code == 202
    assert alice.wait(vid, "available")
    assert alice("DELETE", f"/volumes/{vid}").status_code == 202


def test_qos_specs_reach_the_attachment(cloud: Cloud, alice: Volume) -> None:
    token = cloud.token()
    with cloud.http(token) as http:
        admin = Volume(http, http.get(
            "/identity/v3/auth/tokens", headers={"X-Subject-Token": token}
        ).json()["token"]["project"]["id"])  # fmt: skip
        body = {"qos_specs": {"name": unique("q"), "consumer": "front-end",
                              "read_iops_sec": "200"}}  # fmt: skip
        made = check_schema(
            admin("POST", "/qos-specs", json=body), volume_schema("qos", "show_qos")
        )
        qos = made["qos_specs"]
        assert qos["specs"] == {"read_iops_sec": "200"}
        assert alice("GET", "/qos-specs").status_code == 403
        tname = unique("limited")
        vtype = admin("POST", "/types", json={"volume_type": {"name": tname}}).json()
        type_id = vtype["volume_type"]["id"]
        assert (
            admin("GET", f"/qos-specs/{qos['id']}/associate?vol_type_id={type_id}").status_code
            == 202
        )
        assoc = admin("GET", f"/qos-specs/{qos['id']}/associations").json()["qos_associations"]
        assert assoc == [{"association_type": "volume_type", "name": tname, "id": type_id}]
        assert admin("GET", f"/types/{type_id}").json()["volume_type"]["qos_specs_id"] == qos["id"]
        update = {"qos_specs": {"write_iops_sec": "100"}}
        assert admin("PUT", f"/qos-specs/{qos['id']}", json=update).status_code == 200
        assert admin("DELETE", f"/qos-specs/{qos['id']}").status_code == 400  # still associated
        vid = alice.create(volume_type=tname)["id"]
        alice.wait(vid, "available")
        att = alice("POST", "/attachments", "3.27", json={"attachment": {"volume_id": vid}})
        assert att.status_code == 200
        assert (
            alice("DELETE", f"/attachments/{att.json()['attachment']['id']}", "3.27").status_code
            == 200
        )
        assert alice("DELETE", f"/volumes/{vid}").status_code == 202
        alice.wait(vid, "deleted")
        assert admin("DELETE", f"/qos-specs/{qos['id']}?force=True").status_code == 202
        assert admin("GET", f"/types/{type_id}").json()["volume_type"]["qos_specs_id"] is None


def test_backup_export_and_import(cloud: Cloud, alice: Volume) -> None:
    vid = alice.create()["id"]
    alice.wait(vid, "available")
    made = alice("POST", "/backups", json={"backup": {"volume_id": vid}}).json()["backup"]
    wait_backup(alice, made["id"], "available")
    token = cloud.token()
    with cloud.http(token) as http:
        me = http.get("/identity/v3/auth/tokens", headers={"X-Subject-Token": token}).json()
        admin = Volume(http, me["token"]["project"]["id"])
        assert alice("GET", f"/backups/{made['id']}/export_record").status_code == 403
        record = check_schema(
            admin("GET", f"/backups/{made['id']}/export_record"),
            volume_schema("backups", "export_backup"),
        )["backup-record"]
        again = admin("POST", "/backups/import_record", json={"backup-record": record})
        assert again.status_code == 400  # it exists
        data = json.loads(base64.b64decode(record["backup_url"]))
        data["id"] = str(uuid.uuid4())
        copy = {**record, "backup_url": base64.b64encode(json.dumps(data).encode()).decode()}
        imported = check_schema(
            admin("POST", "/backups/import_record", json={"backup-record": copy}),
            volume_schema("backups", "import_backup"),
        )["backup"]
        assert imported["id"] == data["id"]
        assert wait_backup(admin, imported["id"], "available")["size"] == 1
        assert admin("DELETE", f"/backups/{imported['id']}").status_code == 202
        bad = {"backup-record": {"backup_service": "x", "backup_url": "y"}}
        assert admin("POST", "/backups/import_record", json=bad).status_code == 400
    assert alice("DELETE", f"/backups/{made['id']}").status_code == 202
    wait_backup(alice, made["id"], "deleted")
    assert alice("DELETE", f"/volumes/{vid}").status_code == 202


VOLUME_ID = "Invalid input for field 'volume_id': 'volume_id' is required"
NAME_DESCRIPTION = "Invalid input for field 'backup': only ['description', 'name'] may change"
STRING = "must be a string of 255 or fewer"
ONE_ACTION = "The body must name one action."
RESTORE = "Invalid input for field 'restore': 'restore' is required"
RECORD = "Invalid input for field 'backup-record': 'backup_service' and 'backup_url' are required"


def test_bad_backup_bodies_are_400_in_cinders_words(cloud: Cloud, alice: Volume) -> None:
    vid = alice.create(size=1)["id"]
    alice.wait(vid, "available")
    made = alice("POST", "/backups", json={"backup": {"volume_id": vid}})
    assert made.status_code == 202, made.text
    bid = made.json()["backup"]["id"]
    wait_backup(alice, bid, "available")
    token = cloud.token()
    with cloud.http(token) as http:
        shown = http.get("/identity/v3/auth/tokens", headers={"X-Subject-Token": token})
        admin = Volume(http, shown.json()["token"]["project"]["id"])
        one = f"/backups/{bid}"
        cases: list[tuple[Volume, str, str, str, Any, str]] = [
            (alice, "POST", "/backups", "3.0", {"backup": {}}, VOLUME_ID),
            (alice, "POST", "/backups", "3.0", [], VOLUME_ID),
            (
                alice, "POST", "/backups", "3.0",
                {"backup": {"volume_id": vid, "snapshot_id": "s"}},
                "Backups of snapshots are not supported.",
            ),
            (alice, "PUT", one, "3.9", {"backup": {}}, NAME_DESCRIPTION),
            (alice, "PUT", one, "3.9", {"backup": {"metadata": {}}}, NAME_DESCRIPTION),
            (
                alice, "PUT", one, "3.43", {"backup": {"metadata": {"a": 1}}},
                "Invalid input for field 'metadata': must map strings to strings",
            ),
            (
                alice, "PUT", one, "3.43", {"backup": {"name": 5}},
                f"Invalid input for field 'name': {STRING}",
            ),
            (
                alice, "PUT", one, "3.43", {"backup": {"description": "x" * 256}},
                f"Invalid input for field 'description': {STRING}",
            ),
            (
                alice, "PUT", one, "3.43", [],
                "Invalid input for field 'backup': only ['description', 'metadata', 'name'] may "
                "change",
            ),
            (alice, "POST", f"{one}/restore", "3.0", {"restore": []}, RESTORE),
            (alice, "POST", f"{one}/restore", "3.0", {}, RESTORE),
            (alice, "POST", f"{one}/action", "3.0", {"a": {}, "b": {}}, ONE_ACTION),
            (
                alice, "POST", f"{one}/action", "3.0", {"os-nothing": {}},
                "There is no such action: os-nothing",
            ),
            (
                admin, "POST", f"{one}/action", "3.0", {"os-reset_status": {"status": "x"}},
                "Invalid status: x",
            ),
            (admin, "POST", "/backups/import_record", "3.0", {"backup-record": {}}, RECORD),
            (
                admin, "POST", "/backups/import_record", "3.0",
                {"backup-record": {"backup_url": 1}},
                RECORD,
            ),
        ]  # fmt: skip
        for who, method, path, mv, body, words in cases:
            resp = who(method, path, mv, json=body)
            assert resp.status_code == 400, (path, body, resp.text)
            assert resp.json() == {"badRequest": {"code": 400, "message": words}}, (path, body)
    assert alice("DELETE", f"/backups/{bid}").status_code == 202
