"""Acceptance of the image service through the real `openstack` command line: the issue's
walk from `image create --file` to shared images, filters, sorting and paging."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import unique

pytestmark = pytest.mark.cli


@pytest.fixture(scope="module")
def qcow2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real (small) qcow2 of 1 GiB virtual size."""
    path = tmp_path_factory.mktemp("img") / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-f", "qcow2", str(path), "1G"], check=True)
    return path


def names(rows: list[dict[str, Any]]) -> list[str]:
    return [r["Name"] for r in rows]


def test_create_show_save_set_delete(cloud: Cloud, qcow2: Path, tmp_path: Path) -> None:
    name = unique("cirros-like")
    created = cloud.openstack(
        "image", "create", "--file", str(qcow2), "--disk-format", "qcow2",
        "--container-format", "bare", "--public", name,
    )  # fmt: skip
    data = qcow2.read_bytes()
    assert created["status"] == "active"
    assert created["size"] == len(data)
    assert created["virtual_size"] == 1024**3
    assert created["checksum"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert created["visibility"] == "public"
    props = created["properties"]
    assert props["os_hash_algo"] == "sha512"
    assert props["os_hash_value"] == hashlib.sha512(data).hexdigest()

    assert name in names(cloud.openstack("image", "list"))
    shown = cloud.openstack("image", "show", name)
    assert shown["id"] == created["id"]

    out = tmp_path / "out.qcow2"
    cloud.openstack("image", "save", "--file", str(out), name, json_output=False)
    assert out.read_bytes() == data

    cloud.openstack(
        "image", "set", "--property", "k=v", "--tag", "t", "--protected", name, json_output=False
    )
    shown = cloud.openstack("image", "show", name)
    assert shown["properties"]["k"] == "v"
    assert shown["tags"] == ["t"]
    assert shown["protected"] is True

    refused = cloud.openstack("image", "delete", name, check=False, json_output=False)
    assert refused.returncode != 0
    assert "protected" in refused.stderr
    assert cloud.openstack("image", "show", name)["status"] == "active"

    cloud.openstack("image", "set", "--unprotected", name, json_output=False)
    cloud.openstack("image", "delete", name, json_output=False)
    gone = cloud.openstack("image", "show", name, check=False)
    assert gone.returncode != 0


def test_sharing_with_a_project_and_accepting(cloud: Cloud, tmp_path: Path) -> None:
    payload = tmp_path / "shared.raw"
    payload.write_bytes(b"\x01" * 4096)
    name = unique("shared")
    image = cloud.openstack(
        "image", "create", "--file", str(payload), "--disk-format", "raw",
        "--container-format", "bare", "--shared", name,
    )  # fmt: skip
    member = cloud.openstack("image", "add", "project", name, "demo")
    assert member["status"] == "pending"

    # Glance: a pending member can see the image by id, but not in its --shared list yet.
    demo = "onestack-demo"
    assert name not in names(cloud.openstack("image", "list", "--shared", cloud=demo))
    assert cloud.openstack("image", "show", image["id"], cloud=demo)["name"] == name

    cloud.openstack("image", "set", "--accept", image["id"], cloud=demo, json_output=False)
    assert name in names(cloud.openstack("image", "list", "--shared", cloud=demo))
    assert name in names(cloud.openstack("image", "list", cloud=demo))
    members = cloud.openstack("image", "member", "list", name)
    assert [m["Status"] for m in members] == ["accepted"]

    # The member may read but not change the owner's image.
    refused = cloud.openstack(
        "image", "set", "--name", "stolen", image["id"], cloud=demo, check=False, json_output=False
    )
    assert refused.returncode != 0
    cloud.openstack("image", "delete", name, json_output=False)


def test_list_filters_sort_and_paging(cloud: Cloud, tmp_path: Path) -> None:
    tag = unique("tag")
    made = []
    for i, vis in enumerate(("private", "community", "shared")):
        name = f"{tag}-{i}"
        cloud.openstack(
            "image", "create", "--disk-format", "raw", "--container-format", "bare",
            f"--{vis}", "--tag", tag, "--property", f"rank={i}", name,
        )  # fmt: skip
        made.append(name)

    # An admin lists every image, as in Glance (community ones included).
    assert names(cloud.openstack("image", "list", "--tag", tag, "--sort", "name:asc")) == made
    assert names(cloud.openstack("image", "list", "--tag", tag, "--private")) == [f"{tag}-0"]
    assert names(cloud.openstack("image", "list", "--tag", tag, "--community")) == [f"{tag}-1"]
    assert names(cloud.openstack("image", "list", "--tag", tag, "--shared")) == [f"{tag}-2"]
    assert names(cloud.openstack("image", "list", "--tag", tag, "--property", "rank=1")) == [
        f"{tag}-1"
    ]
    # The demo project sees the community image only when it asks for community images.
    demo = "onestack-demo"
    assert names(cloud.openstack("image", "list", "--tag", tag, cloud=demo)) == []
    assert names(cloud.openstack("image", "list", "--tag", tag, "--community", cloud=demo)) == [
        f"{tag}-1"
    ]

    desc = names(cloud.openstack("image", "list", "--tag", tag, "--sort", "name:desc"))
    assert desc == sorted(desc, reverse=True) and len(desc) >= 2
    first = cloud.openstack("image", "list", "--tag", tag, "--limit", "1", "--sort", "name:asc")
    assert len(first) == 1
    page2 = cloud.openstack(
        "image", "list", "--tag", tag, "--limit", "1", "--marker", first[0]["ID"]
    )
    assert len(page2) == 1 and page2[0]["ID"] != first[0]["ID"]
    for name in made:
        cloud.openstack("image", "delete", name, json_output=False)
