"""The tasks API (``/v2/tasks``) through openstacksdk and `openstack image task`: an import
task fills a new image from an http URL, a bad URL fails the task and leaves no image, the
import filter refuses other schemes and ports, and the API is admin's alone."""

from __future__ import annotations

import hashlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openstack import exceptions

from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.webserve import serve_directory


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, bytes]]:
    """An http server on a free port, serving one file: (its URL, its bytes)."""
    path = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "64M"], check=True)
    with serve_directory(tmp_path) as base:
        yield f"{base}/disk.qcow2", path.read_bytes()


def _task(url: str, name: str) -> dict[str, Any]:
    return {
        "type": "import",
        "input": {
            "import_from": url,
            "import_from_format": "qcow2",
            "image_properties": {
                "name": name,
                "disk_format": "qcow2",
                "container_format": "bare",
                "os_distro": "cirros",
            },
        },
    }


def test_import_task_fills_an_image_from_a_url(cloud: Cloud, served: tuple[str, bytes]) -> None:
    url, data = served
    conn = cloud.sdk("onestack")
    name = unique("task-image")
    task = conn.image.create_task(**_task(url, name))
    assert task.status == "pending"
    for _ in range(300):
        task = conn.image.get_task(task)
        if task.status in ("success", "failure"):
            break
        time.sleep(0.1)
    assert (task.status, task.message) == ("success", "")
    image = conn.image.get_image(task.result["image_id"])
    assert image.name == name
    assert image.status == "active"
    assert image.os_distro == "cirros"
    assert image.hash_value == hashlib.sha512(data).hexdigest()
    assert image.size == len(data)

    listed = cloud.openstack("image", "task", "list")
    assert task.id in [row["ID"] for row in listed]
    shown = cloud.openstack("image", "task", "show", task.id)
    assert shown["status"] == "success"
    assert shown["type"] == "import"

    # A URL that leads nowhere fails the task and leaves no half-made image behind.
    before = {i.id for i in conn.image.images()}
    bad = conn.image.create_task(**_task("http://no-such-host.invalid/x.qcow2", unique("x")))
    bad = conn.image.wait_for_task(bad, status="failure", wait=60)
    assert "no-such-host.invalid" in bad.message
    assert {i.id for i in conn.image.images()} == before
    assert not getattr(bad, "result", None)

    # Other schemes are refused outright (Glance's import filter).
    with pytest.raises(exceptions.BadRequestException):
        conn.image.create_task(**_task("file:///etc/passwd", unique("x")))
    with pytest.raises(exceptions.BadRequestException):
        conn.image.create_task(type="convert", input={})

    failed = [t.id for t in conn.image.tasks(status="failure")]
    assert bad.id in failed and task.id not in failed

    demo = cloud.sdk("onestack-demo")
    with pytest.raises(exceptions.ForbiddenException):
        demo.image.create_task(**_task(url, unique("x")))
    with pytest.raises(exceptions.ForbiddenException):
        list(demo.image.tasks())

    schema = conn.image.get_task_schema()
    assert schema.properties["status"]["enum"] == ["pending", "processing", "success", "failure"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([], "The request body must be a JSON object."),
        ({"input": {}}, "Task 'type' is required"),
        ({"type": "import"}, "Task 'input' is required"),
        ({"type": "import", "input": {}, "x": 1}, "Additional properties are not allowed: ['x']"),
        ({"type": "convert", "input": {}}, "Invalid type value: convert"),
        ({"type": "import", "input": []}, "Invalid type value: import"),
    ],
)
def test_a_bad_task_body_is_400_in_glances_words(cloud: Cloud, body: Any, words: str) -> None:
    with cloud.http(cloud.token()) as http:
        resp = http.post("/image/v2/tasks", json=body)
    assert resp.status_code == 400, resp.text
    assert words in resp.text
