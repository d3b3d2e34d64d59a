"""``deletion_policy: Snapshot`` (#17) on the fake data plane, as Heat's
handle_snapshot_delete: the stack's delete leaves a backup of its volume and an image of its
server, both gone from the stack; an update that drops such a resource does the same; a
backup that cannot be made fails the delete and keeps the volume; a type without the
notion is a 400 before anything is made."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import member_sdk, unique
from tests.support.heat import (
    assert_heat_400,
    create_wait,
    delete_wait,
    template_file,
    wait_stack,
)

pytestmark = pytest.mark.cli

KEPT = """
heat_template_version: 2018-08-31
parameters:
  image: {type: string}
resources:
  vm:
    type: OS::Nova::Server
    deletion_policy: Snapshot
    properties: {image: {get_param: image}, flavor: m1.tiny, networks: [{allocate_network: none}]}
  vol: {type: OS::Cinder::Volume, deletion_policy: Snapshot, properties: {size: 1}}
  att:
    type: OS::Cinder::VolumeAttachment
    properties: {instance_uuid: {get_resource: vm}, volume_id: {get_resource: vol}}
"""


@pytest.fixture(scope="module")
def sdk(cloud: Cloud) -> Iterator[Any]:
    conn = cloud.sdk("onestack-demo")
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def image(cloud: Cloud, tmp_path_factory: pytest.TempPathFactory) -> str:
    disk = tmp_path_factory.mktemp("snapdel-img") / "disk.raw"
    disk.write_bytes(b"\0" * 4096)
    name = unique("snapdel-img")
    cloud.openstack("image", "create", "--public", "--file", str(disk), "--disk-format", "raw",
                    name)  # fmt: skip
    return name


def _ids(cloud: Cloud, name: str) -> dict[str, str]:
    listed = cloud.openstack("stack", "resource", "list", name, cloud="onestack-demo")
    return {r["resource_name"]: r["physical_resource_id"] for r in listed}


def _backups_of(conn: Any, volume_id: str) -> list[Any]:
    return [b for b in conn.block_storage.backups(details=True) if b.volume_id == volume_id]


def test_delete_keeps_a_backup_of_the_volume_and_an_image_of_the_server(
    cloud: Cloud, sdk: Any, image: str, tmp_path: Path
) -> None:
    """The attachment goes first, then the volume's backup is made (available before the
    volume goes) and the server's image (active before the server goes); both outlive the
    stack."""
    name = unique("snapdel")
    tf = template_file(tmp_path, "k.yaml", KEPT)
    create_wait(cloud, name, tf, "--parameter", f"image={image}", cloud="onestack-demo")
    ids = _ids(cloud, name)
    assert _backups_of(sdk, ids["vol"]) == []
    delete_wait(cloud, name, cloud="onestack-demo")
    assert cloud.openstack("volume", "show", ids["vol"], check=False).returncode != 0
    assert cloud.openstack("server", "show", ids["vm"], check=False).returncode != 0
    backups = _backups_of(sdk, ids["vol"])
    assert [b.status for b in backups] == ["available"], backups
    assert backups[0].size == 1
    images = cloud.openstack("image", "list", "--name", f"{name}-vm", cloud="onestack-demo")
    assert len(images) == 1 and images[0]["Status"] == "active", images
    sdk.block_storage.delete_backup(backups[0].id)
    cloud.openstack("image", "delete", images[0]["ID"], json_output=False)


ONE_VOLUME = """
heat_template_version: 2018-08-31
resources:
  keep: {type: OS::Heat::None}
  vol: {type: OS::Cinder::Volume, deletion_policy: Snapshot, properties: {size: 1}}
"""
NONE_LEFT = """
heat_template_version: 2018-08-31
resources:
  keep: {type: OS::Heat::None}
"""


def test_update_that_drops_the_volume_keeps_its_backup(
    cloud: Cloud, sdk: Any, tmp_path: Path
) -> None:
    name = unique("snapdrop")
    create_wait(cloud, name, template_file(tmp_path, "v.yaml", ONE_VOLUME), cloud="onestack-demo")
    volume = _ids(cloud, name)["vol"]
    cloud.openstack("stack", "update", "-t", template_file(tmp_path, "n.yaml", NONE_LEFT), name,
                    cloud="onestack-demo")  # fmt: skip
    shown = wait_stack(cloud, name, ("UPDATE_COMPLETE", "UPDATE_FAILED"), cloud="onestack-demo")
    assert shown["stack_status"] == "UPDATE_COMPLETE", shown
    assert cloud.openstack("volume", "show", volume, check=False).returncode != 0
    backups = _backups_of(sdk, volume)
    assert [b.status for b in backups] == ["available"], backups
    delete_wait(cloud, name, cloud="onestack-demo")
    sdk.block_storage.delete_backup(backups[0].id)


def _stack_status(conn: Any, name: str, wanted: tuple[str, ...]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        resp = conn.orchestration.get(f"/stacks/{name}")
        stack: dict[str, Any] = resp.json()["stack"] if resp.status_code == 200 else {}
        if stack.get("stack_status") in wanted or (resp.status_code == 404 and not wanted):
            return stack
        time.sleep(0.2)
    raise AssertionError(f"stack {name} did not reach {wanted}")


def test_a_backup_refused_fails_the_delete_and_keeps_the_volume(cloud: Cloud) -> None:
    """With no backup allowed in its project, the volume's delete is DELETE_FAILED naming
    the quota (not a silent delete); once backups are allowed the delete goes through."""
    conn = member_sdk(cloud)
    project = conn.current_project_id
    try:
        cloud.openstack("quota", "set", "--backups", "0", project, json_output=False)
        name = unique("snapfail")
        resp = conn.orchestration.post("/stacks", json={"stack_name": name,
                                                        "template": ONE_VOLUME})  # fmt: skip
        assert resp.status_code == 201, resp.text
        _stack_status(conn, name, ("CREATE_COMPLETE",))
        volume = next(conn.block_storage.volumes()).id
        assert conn.orchestration.delete(f"/stacks/{name}").status_code == 204
        failed = _stack_status(conn, name, ("DELETE_FAILED", "DELETE_COMPLETE"))
        assert failed["stack_status"] == "DELETE_FAILED", failed
        assert "resources.vol" in failed["stack_status_reason"], failed
        assert "BackupLimitExceeded" in failed["stack_status_reason"], failed
        assert conn.block_storage.get_volume(volume).status == "available"
        assert _backups_of(conn, volume) == []

        cloud.openstack("quota", "set", "--backups", "5", project, json_output=False)
        assert conn.orchestration.delete(f"/stacks/{name}").status_code == 204
        _stack_status(conn, name, ())
        assert [b.status for b in _backups_of(conn, volume)] == ["available"]
        assert conn.block_storage.find_volume(volume) is None
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("rtype", "props"),
    [
        ("OS::Heat::RandomString", "{}"),
        ("OS::Cinder::VolumeAttachment", "{instance_uuid: x, volume_id: y}"),
    ],
)
def test_snapshot_on_a_type_without_it_is_400(sdk: Any, rtype: str, props: str) -> None:
    """Heat's validate_deletion_policy: the type has no handle_snapshot_delete."""
    name = unique("snapbad")
    text = (f"heat_template_version: 2018-08-31\nresources:\n  bad: {{type: {rtype}, "
            f"deletion_policy: Snapshot, properties: {props}}}\n")  # fmt: skip
    resp = sdk.orchestration.post("/stacks", json={"stack_name": name, "template": text})
    message = 'resources.bad.deletion_policy: "Snapshot" deletion policy not supported'
    assert_heat_400(resp, "StackValidationFailed", message)
    assert sdk.orchestration.get(f"/stacks/{name}").status_code == 404
    resp = sdk.orchestration.post("/validate", json={"template": text})
    assert_heat_400(resp, "StackValidationFailed", message)


REPLACED = """
heat_template_version: 2018-08-31
parameters:
  image: {type: string}
  data: {type: string}
resources:
  vm:
    type: OS::Nova::Server
    deletion_policy: Snapshot
    properties:
      image: {get_param: image}
      flavor: m1.tiny
      networks: [{allocate_network: none}]
      user_data_format: RAW
      user_data: {get_param: data}
"""


def test_a_replaced_server_leaves_an_image_of_itself(
    cloud: Cloud, image: str, tmp_path: Path
) -> None:
    """New user data replaces the server (user_data_update_policy REPLACE): the old one
    goes as its deletion_policy says, an image of it made first."""
    name = unique("snaprepl")
    tf = template_file(tmp_path, "r.yaml", REPLACED)
    create_wait(cloud, name, tf, "--parameter", f"image={image}", "--parameter", "data=one",
                cloud="onestack-demo")  # fmt: skip
    old = _ids(cloud, name)["vm"]
    cloud.openstack("stack", "update", "-t", tf, "--parameter", f"image={image}", "--parameter",
                    "data=two", name, cloud="onestack-demo")  # fmt: skip
    shown = wait_stack(cloud, name, ("UPDATE_COMPLETE", "UPDATE_FAILED"), cloud="onestack-demo")
    assert shown["stack_status"] == "UPDATE_COMPLETE", shown
    assert _ids(cloud, name)["vm"] != old
    assert cloud.openstack("server", "show", old, check=False).returncode != 0
    images = cloud.openstack("image", "list", "--name", f"{name}-vm", cloud="onestack-demo")
    assert [i["Status"] for i in images] == ["active"], images
    delete_wait(cloud, name, cloud="onestack-demo")
    images = cloud.openstack("image", "list", "--name", f"{name}-vm", cloud="onestack-demo")
    assert [i["Status"] for i in images] == ["active", "active"], images
    for found in images:
        cloud.openstack("image", "delete", found["ID"], json_output=False)
