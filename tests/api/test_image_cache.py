"""Glance's image cache (``/v2/cache``, image API 2.14) through ``openstack cached image``:
an admin queues an image, the prefetcher copies it into this host's cache (a file beside the
store), downloads then read that copy and count its hits; deleting and clearing drop the
files. Members are refused; what cannot be queued is refused as Glance refuses it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.waiting import wait_for


def cached(http: httpx.Client) -> dict[str, dict[str, Any]]:
    got = http.get("/image/v2/cache").json()["cached_images"]
    return {row["image_id"]: row for row in got}


def test_queue_cache_use_and_drop_from_the_command_line(cloud: Cloud) -> None:
    http = cloud.http(cloud.token())
    data = bytes(range(256)) * 4096 + b"tail"
    image = http.post(
        "/image/v2/images",
        json={"name": unique("cache-me"), "disk_format": "raw", "container_format": "bare"},
    ).json()["id"]
    put = http.put(
        f"/image/v2/images/{image}/file",
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert put.status_code == 204, put.text
    copy = cloud.data_dir / "images" / "cache" / image
    assert image not in cached(http)
    cloud.openstack("cached", "image", "queue", image, json_output=False)
    wait_for("the image cached", lambda: image in cached(http))
    rows = {r["ID"]: r for r in cloud.openstack("cached", "image", "list")}
    assert rows[image]["State"] == "cached" and rows[image]["Size"] == len(data)
    assert rows[image]["Hits"] == 0
    assert copy.read_bytes() == data
    # Downloads are served from the copy (and counted), a range too.
    assert http.get(f"/image/v2/images/{image}/file").content == data
    part = http.get(f"/image/v2/images/{image}/file", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == data[1000:2000]
    assert cached(http)[image]["hits"] == 2
    cloud.openstack("cached", "image", "delete", image, json_output=False)
    assert image not in cached(http) and not copy.exists()
    # Cleared: the queue alone leaves the copies; both (the default) drops them.
    assert http.put(f"/image/v2/cache/{image}").status_code == 202
    wait_for("the image cached again", lambda: image in cached(http))
    cloud.openstack("cached", "image", "clear", "--queue", json_output=False)
    assert copy.exists()
    assert http.delete("/image/v2/cache").status_code == 204
    assert image not in cached(http) and not copy.exists()
    # A deleted image's copy goes with it.
    assert http.put(f"/image/v2/cache/{image}").status_code == 202
    wait_for("the image cached a third time", copy.exists)
    assert http.delete(f"/image/v2/images/{image}").status_code == 204
    assert not copy.exists()


def test_only_admins_and_only_active_images(cloud: Cloud) -> None:
    http = cloud.http(cloud.token())
    demo = cloud.http(cloud.token("onestack-demo"))
    assert demo.get("/image/v2/cache").status_code == 403
    assert demo.delete("/image/v2/cache").status_code == 403
    listing = http.get("/image/v2/cache")
    assert listing.status_code == 200
    assert set(listing.json()) == {"cached_images", "queued_images"}
    missing = "3a1c4a3e-0000-4000-8000-000000000000"
    assert http.put(f"/image/v2/cache/{missing}").status_code == 404
    assert http.delete(f"/image/v2/cache/{missing}").status_code == 404
    empty = http.post("/image/v2/images", json={"name": unique("no-data")}).json()["id"]
    try:
        assert demo.put(f"/image/v2/cache/{empty}").status_code == 403
        refused = http.put(f"/image/v2/cache/{empty}")
        assert refused.status_code == 400, refused.text
        bad = http.delete("/image/v2/cache", headers={"x-image-cache-clear-target": "all"})
        assert bad.status_code == 400
    finally:
        http.delete(f"/image/v2/images/{empty}")
