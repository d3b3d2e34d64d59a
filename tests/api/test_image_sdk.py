"""The image service through openstacksdk: uploads (PUT and the interoperable import),
downloads, updates, members, the discovery documents the clients read."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import pytest
from openstack import exceptions

from tests.support.fixtures import sdk_connection, unique

admin = sdk_connection("onestack")
demo = sdk_connection("onestack-demo")


@pytest.fixture
def payload(tmp_path: Path) -> Path:
    path = tmp_path / "data.raw"
    path.write_bytes(uuid.uuid4().bytes * 65536)  # 1 MiB
    return path


def test_cloud_layer_create_image_waits_for_active(demo: Any, payload: Path) -> None:
    name = unique("sdk-wait")
    image = demo.create_image(
        name, filename=str(payload), wait=True, disk_format="raw", container_format="bare"
    )
    data = payload.read_bytes()
    assert image.status == "active"
    assert image.size == len(data)
    assert image.checksum == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert image.hash_algo == "sha512"
    assert image.hash_value == hashlib.sha512(data).hexdigest()
    assert image.visibility == "shared"  # Glance's default
    assert image.virtual_size == len(data)  # raw: the data is the disk
    demo.image.delete_image(image)


def test_import_glance_direct(demo: Any, payload: Path) -> None:
    info = demo.image.get_import_info()
    assert "glance-direct" in info.import_methods["value"]
    assert [s.id for s in demo.image.stores()] == ["file"]

    image = demo.image.create_image(
        name=unique("sdk-import"),
        filename=str(payload),
        disk_format="raw",
        container_format="bare",
        use_import=True,
    )
    image = demo.image.wait_for_status(demo.image.get_image(image.id), "active", wait=30)
    assert image.size == payload.stat().st_size
    assert image.hash_value == hashlib.sha512(payload.read_bytes()).hexdigest()
    demo.image.delete_image(image)


def test_download_update_tags_and_deactivation(demo: Any, payload: Path, tmp_path: Path) -> None:
    image = demo.image.create_image(
        name=unique("sdk-dl"), filename=str(payload), disk_format="raw", container_format="bare"
    )
    out = tmp_path / "out.raw"
    demo.image.download_image(image, output=str(out))
    assert out.read_bytes() == payload.read_bytes()

    updated = demo.image.update_image(image, name="renamed", os_distro="cirros", min_ram=64)
    assert (updated.name, updated.os_distro, updated.min_ram) == ("renamed", "cirros", 64)
    demo.image.add_tag(image, "blue")
    demo.image.add_tag(image, "green")
    demo.image.remove_tag(image, "blue")
    assert demo.image.get_image(image).tags == ["green"]

    demo.image.deactivate_image(image)
    assert demo.image.get_image(image).status == "deactivated"
    # The SDK reads the 403 body as image data and reports a checksum error.
    with pytest.raises(exceptions.SDKException):
        demo.image.download_image(image, output=str(tmp_path / "no"))
    demo.image.reactivate_image(image)
    assert demo.image.get_image(image).status == "active"
    demo.image.delete_image(image)
    with pytest.raises(exceptions.NotFoundException):
        demo.image.get_image(image.id)


def test_members_and_visibility_policy(admin: Any, demo: Any) -> None:
    image = demo.image.create_image(
        name=unique("sdk-share"), disk_format="raw", container_format="bare"
    )
    # Only an admin publishes.
    with pytest.raises(exceptions.ForbiddenException):
        demo.image.update_image(image, visibility="public")
    # Members only for shared images.
    private = demo.image.update_image(image, visibility="private")
    admin_project = admin.current_project_id
    with pytest.raises(exceptions.ForbiddenException):
        demo.image.add_member(private, member=admin_project)
    demo.image.update_image(image, visibility="shared")
    member = demo.image.add_member(image, member=admin_project)
    assert member.status == "pending"
    with pytest.raises(exceptions.ConflictException):
        demo.image.add_member(image, member=admin_project)
    # The owner cannot accept on the member's behalf.
    with pytest.raises(exceptions.ForbiddenException):
        demo.image.update_member(admin_project, image, status="accepted")
    assert admin.image.update_member(admin_project, image, status="accepted").status == "accepted"
    assert [m.member_id for m in demo.image.members(image)] == [admin_project]
    demo.image.remove_member(admin_project, image)
    assert list(demo.image.members(image)) == []
    demo.image.delete_image(image)


def test_list_paging_follows_next_links(demo: Any) -> None:
    tag = unique("page")
    ids = set()
    for i in range(5):
        ids.add(
            demo.image.create_image(
                name=f"{tag}-{i}", disk_format="raw", container_format="bare", tags=[tag]
            ).id
        )
    listed = [i.id for i in demo.image.images(tag=tag, limit=2)]
    assert sorted(listed) == sorted(ids) and len(listed) == 5
    by_name = [i.name for i in demo.image.images(tag=tag, sort_key="name", sort_dir="asc")]
    assert by_name == sorted(by_name)
    for image_id in ids:
        demo.image.delete_image(image_id)
