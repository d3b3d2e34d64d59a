"""Crash safety and quotas of the image service, on clouds of the tests' own."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud

OCTETS = {"Content-Type": "application/octet-stream"}


def client(cloud: Cloud) -> httpx.Client:
    return httpx.Client(
        base_url=f"{cloud.url}/image", headers={"X-Auth-Token": cloud.token()}, timeout=30
    )


def new_image(api: httpx.Client) -> dict[str, Any]:
    body = {"name": "crash", "disk_format": "raw", "container_format": "bare"}
    resp = api.post("/v2/images", json=body)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def wait_status(api: httpx.Client, image_id: str, status: str) -> None:
    for _ in range(200):
        if api.get(f"/v2/images/{image_id}").json()["status"] == status:
            return
        time.sleep(0.05)
    raise AssertionError(f"image {image_id} never reached {status}")


def test_a_crash_mid_upload_leaves_the_image_queued_and_no_file(fresh_cloud: Cloud) -> None:
    fresh_cloud.start()
    store = fresh_cloud.data_dir / "images"
    release = threading.Event()

    def body() -> Iterator[bytes]:
        yield b"x" * (5 * 1024 * 1024)  # more than one batch: data reaches the disk
        release.wait(30)
        yield b"never"

    with client(fresh_cloud) as api:
        image = new_image(api)
        url = f"{fresh_cloud.url}/image/v2/images/{image['id']}/file"
        headers = {**OCTETS, "X-Auth-Token": api.headers["X-Auth-Token"]}

        def send() -> None:
            with contextlib.suppress(httpx.HTTPError):
                httpx.put(url, content=body(), headers=headers, timeout=60)

        sender = threading.Thread(target=send)
        sender.start()
        wait_status(api, image["id"], "saving")
        for _ in range(100):
            if any((store / ".tmp").iterdir()):
                break
            time.sleep(0.05)
        assert any((store / ".tmp").iterdir()), "the upload should be writing its temp file"

    fresh_cloud.stop(signal.SIGKILL)
    release.set()
    sender.join(30)
    fresh_cloud.start()
    with client(fresh_cloud) as api:
        assert api.get(f"/v2/images/{image['id']}").json()["status"] == "queued"
        assert list((store / ".tmp").iterdir()) == []
        assert not (store / image["id"]).exists()
        # And the image takes its data afterwards.
        resp = api.put(f"/v2/images/{image['id']}/file", content=b"fine", headers=OCTETS)
        assert resp.status_code == 204
        assert api.get(f"/v2/images/{image['id']}/file").content == b"fine"

    # A client that goes away mid-upload: queued again, no temp file (no restart needed).
    with client(fresh_cloud) as api:
        image = new_image(api)
        release.clear()
        url = f"{fresh_cloud.url}/image/v2/images/{image['id']}/file"
        headers = {**OCTETS, "X-Auth-Token": api.headers["X-Auth-Token"]}

        def abandon() -> None:
            def gen() -> Iterator[bytes]:
                yield b"y" * (5 * 1024 * 1024)
                release.wait(30)
                raise RuntimeError("client gives up")

            with contextlib.suppress(httpx.HTTPError, RuntimeError):
                httpx.put(url, content=gen(), headers=headers, timeout=60)

        quitter = threading.Thread(target=abandon)
        quitter.start()
        wait_status(api, image["id"], "saving")
        release.set()
        quitter.join(30)
        wait_status(api, image["id"], "queued")
        assert list((store / ".tmp").iterdir()) == []
    fresh_cloud.stop()


@pytest.fixture
def quota_cloud(fresh_cloud: Cloud) -> Iterator[Cloud]:
    fresh_cloud.env["ONESTACK_IMAGE_QUOTA_IMAGES"] = "3"
    fresh_cloud.env["ONESTACK_IMAGE_QUOTA_BYTES"] = "1000"
    fresh_cloud.start()
    yield fresh_cloud
    fresh_cloud.stop()


def test_quotas_on_image_count_and_bytes(quota_cloud: Cloud) -> None:
    with client(quota_cloud) as api:
        first = new_image(api)
        assert (
            api.put(
                f"/v2/images/{first['id']}/file", content=b"a" * 600, headers=OCTETS
            ).status_code
            == 204
        )
        second = new_image(api)
        resp = api.put(f"/v2/images/{second['id']}/file", content=b"b" * 600, headers=OCTETS)
        assert resp.status_code == 413
        assert api.get(f"/v2/images/{second['id']}").json()["status"] == "queued"
        ok = api.put(f"/v2/images/{second['id']}/file", content=b"b" * 400, headers=OCTETS)
        assert ok.status_code == 204
        new_image(api)
        assert api.post("/v2/images", json={"name": "4th"}).status_code == 413
        usage = api.get("/v2/info/usage").json()["usage"]
        assert usage["image_count_total"] == {"limit": 3, "usage": 3}
        assert usage["image_size_total"] == {"limit": 1000, "usage": 1000}
