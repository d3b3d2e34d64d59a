"""``[image] store = object``: image data kept in the object service, as Glance's swift
store keeps it; a server still boots from it (a local copy is made on first use)."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import new_cloud
from tests.support.cloud import Cloud


@pytest.fixture(scope="module")
def object_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    cloud = new_cloud(tmp_path_factory.mktemp("imgobj"), None)
    cloud.env["ONESTACK_IMAGE_STORE"] = "object"
    cloud.start()
    try:
        yield cloud
    finally:
        cloud.stop()


def test_images_live_in_the_object_store(object_cloud: Cloud, tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 7)
    conn = object_cloud.sdk()
    try:
        (tmp_path / "disk.raw").write_bytes(data)
        image = conn.image.create_image(
            name="in-swift",
            filename=str(tmp_path / "disk.raw"),
            disk_format="raw",
            container_format="bare",
            wait=True,
        )
        got = conn.image.get_image(image.id)
        assert (
            got.status == "active"
            and got.checksum == hashlib.md5(data, usedforsecurity=False).hexdigest()
        )
        token = object_cloud.token()
        raw = httpx.get(
            f"{object_cloud.url}/image/v2/images/{image.id}",
            headers={"X-Auth-Token": token},
            timeout=30,
        ).json()
        assert raw["stores"] == "object"
        resp = httpx.get(
            f"{object_cloud.url}/image/v2/images/{image.id}/file",
            headers={"X-Auth-Token": token},
            timeout=30,
        )
        assert resp.content == data
        # The bytes are an object of the image service's account, beside the store's files.
        objects = object_cloud.data_dir / "objects" / "objects"
        sizes = [p.stat().st_size for p in objects.glob("*/*.data")]
        assert any(size > len(data) for size in sizes)
        assert not list((object_cloud.data_dir / "images").glob("*-*-*-*-*"))
        # A server boots from it: the compute service gets a local copy.
        net = conn.network.create_network(name="n")
        conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.77.0.0/24")
        flavor = conn.compute.find_flavor("m1.nano")
        server = conn.compute.create_server(
            name="from-swift", image_id=image.id, flavor_id=flavor.id, networks=[{"uuid": net.id}]
        )
        server = conn.compute.wait_for_server(server, wait=60)
        assert server.status == "ACTIVE"
        cached = object_cloud.data_dir / "images" / "cache" / image.id
        assert cached.read_bytes() == data
        # That copy is the host's image cache (Glance's /v2/cache): downloads now read it.
        cache = httpx.get(
            f"{object_cloud.url}/image/v2/cache", headers={"X-Auth-Token": token}, timeout=30
        )
        (entry,) = [e for e in cache.json()["cached_images"] if e["image_id"] == image.id]
        assert entry["size"] == len(data) and entry["hits"] == 0
        resp = httpx.get(
            f"{object_cloud.url}/image/v2/images/{image.id}/file",
            headers={"X-Auth-Token": token},
            timeout=30,
        )
        assert resp.content == data
        cache = httpx.get(
            f"{object_cloud.url}/image/v2/cache", headers={"X-Auth-Token": token}, timeout=30
        )
        assert [e["hits"] for e in cache.json()["cached_images"] if e["image_id"] == image.id] == [
            1
        ]
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=60)
        conn.image.delete_image(image)
        deadline = time.monotonic() + 10
        while cached.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not cached.exists()
    finally:
        conn.close()
