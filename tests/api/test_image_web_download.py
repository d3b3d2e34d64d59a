"""Interoperable image import, ``web-download``: `openstack image import --method
web-download --uri` and openstacksdk's ``import_image`` make the cloud fetch
the data from a URL (a test server on 127.0.0.1); the image goes ``importing`` → ``active``
with its size and hashes, or back to ``queued`` with ``os_glance_failed_import`` when the
fetch fails; the import filter and the image's status are checked before the 202."""

from __future__ import annotations

import hashlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.webserve import serve_directory


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, bytes]]:
    path = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "32M"], check=True)
    with serve_directory(tmp_path) as base:
        yield base, path.read_bytes()


def _settled(conn: Any, image_id: str, timeout: float = 30) -> Any:
    """The image once its import is over (no longer importing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        image = conn.image.get_image(image_id)
        if image.status not in ("queued", "importing") or image.properties.get(
            "os_glance_failed_import"
        ):
            return image
        time.sleep(0.1)
    raise AssertionError(f"image {image_id} is still {image.status}")


def _post_import(conn: Any, image_id: str, uri: str | None) -> int:
    """POST /import's status code (openstacksdk's ``import_image`` raises on none)."""
    method = {"name": "web-download"} if uri is None else {"name": "web-download", "uri": uri}
    resp = conn.image.post(f"/images/{image_id}/import", json={"method": method})
    return int(resp.status_code)


def test_cli_creates_an_image_from_a_url(cloud: Cloud, served: tuple[str, bytes]) -> None:
    base, data = served
    conn = cloud.sdk("onestack")
    assert "web-download" in conn.image.get_import_info().import_methods["value"]
    name = unique("web")
    # python-openstackclient's `image create` uploads its stdin when given no file (a test's
    # stdin is no tty), and its `--import` is glance-direct of a file: the queued image comes
    # from openstacksdk, the URL through `image import --method web-download --uri`.
    made = conn.image.create_image(name=name, disk_format="qcow2", container_format="bare")
    assert made.status == "queued"
    cloud.openstack(
        "image", "import", name, "--method", "web-download", "--uri", f"{base}/disk.qcow2"
    )  # fmt: skip
    image = _settled(conn, made.id)
    assert image.status == "active"
    assert image.size == len(data)
    assert image.checksum == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert (image.hash_algo, image.hash_value) == ("sha512", hashlib.sha512(data).hexdigest())
    assert image.virtual_size == 32 * 1024**2
    assert "os_glance_failed_import" not in image.properties
    assert conn.image.download_image(image).content == data
    tasks = conn.image.get(f"/images/{image.id}/tasks").json()["tasks"]
    assert [(t["status"], t["input"]["import_req"]["method"]) for t in tasks] == [
        ("success", {"name": "web-download", "uri": f"{base}/disk.qcow2"})
    ]
    # Imported once, an image takes no second web-download (Glance: it must be queued).
    assert _post_import(conn, image.id, f"{base}/disk.qcow2") == 409


def test_sdk_import_failure_requeues_the_image(cloud: Cloud, served: tuple[str, bytes]) -> None:
    base, data = served
    conn = cloud.sdk("onestack")
    image = conn.image.create_image(
        name=unique("web"), disk_format="qcow2", container_format="bare"
    )
    assert image.status == "queued"

    # Refused before the 202: no URI, another scheme (Glance's import filter).
    for uri in (None, "file:///etc/passwd", "ftp://127.0.0.1/x"):
        assert _post_import(conn, image.id, uri) == 400
    assert conn.image.get_image(image).status == "queued"

    # A URL that answers 404: the import fails, the image is queued again, Glance's marker set.
    conn.image.import_image(image, method="web-download", uri=f"{base}/missing.qcow2")
    failed = _settled(conn, image.id)
    assert failed.status == "queued"
    assert failed.properties["os_glance_failed_import"] == "file"
    assert failed.size is None
    tasks = conn.image.get(f"/images/{image.id}/tasks").json()["tasks"]
    assert tasks[-1]["status"] == "failure" and "404" in tasks[-1]["message"]

    # A second attempt from a good URL clears the marker and activates the image.
    conn.image.import_image(image, method="web-download", uri=f"{base}/disk.qcow2")
    done = _settled(conn, image.id)
    assert done.status == "active"
    assert done.size == len(data)
    assert "os_glance_failed_import" not in done.properties
    conn.image.delete_image(image)
