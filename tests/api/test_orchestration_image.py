"""Glance's ``OS::Glance::WebImage`` (#17) through ``openstack stack`` (python-heatclient): the
image service fetches the image from its ``location`` (a test server on 127.0.0.1) and the
resource completes once it is active, with its properties as ``openstack image show`` shows
them and the image as its ``show`` attribute; an update changes tags and properties in place;
a location that answers 404 fails the resource; the delete removes the image."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.heat import create_wait, delete_wait, template_file, wait_stack
from tests.support.webserve import serve_directory

pytestmark = pytest.mark.cli

IMAGE = """
heat_template_version: 2018-08-31
parameters:
  url: {type: string}
  name: {type: string}
  tags: {type: comma_delimited_list, default: [web, heat]}
  flavor: {type: string, default: plain}
resources:
  img:
    type: OS::Glance::WebImage
    properties:
      location: {get_param: url}
      name: {get_param: name}
      disk_format: qcow2
      container_format: bare
      min_disk: 1
      min_ram: 64
      tags: {get_param: tags}
      os_distro: cirros
      architecture: x86_64
      extra_properties: {flavor: {get_param: flavor}, gone_later: "yes"}
outputs:
  status: {value: {get_attr: [img, show, status]}}
  checksum: {value: {get_attr: [img, show, checksum]}}
  size: {value: {get_attr: [img, show, size]}}
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, bytes]]:
    path = tmp_path / "www" / "disk.qcow2"
    path.parent.mkdir()
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "16M"], check=True)
    with serve_directory(path.parent) as base:
        yield base, path.read_bytes()


def test_web_image_create_update_delete(
    cloud: Cloud, tmp_path: Path, served: tuple[str, bytes]
) -> None:
    base, data = served
    name, image_name = unique("webimg"), unique("webimg-image")
    tmpl = template_file(tmp_path, "img.yaml", IMAGE)
    shown = create_wait(cloud, name, tmpl, "--parameter", f"url={base}/disk.qcow2",
                        "--parameter", f"name={image_name}")  # fmt: skip
    assert shown["stack_status"] == "CREATE_COMPLETE", shown
    out = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
    assert out["status"] == "active"
    assert out["checksum"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert out["size"] == len(data)
    image_id = cloud.openstack("stack", "resource", "show", name, "img")["physical_resource_id"]
    conn = cloud.sdk("onestack")  # the image checks in this process: a CLI run costs a second
    image = conn.image.get_image(image_id)
    assert image.name == image_name and image.status == "active"
    assert (image.disk_format, image.container_format) == ("qcow2", "bare")
    assert (image.min_disk, image.min_ram, image.visibility) == (1, 64, "private")
    assert sorted(image.tags) == ["heat", "web"]
    assert (image.os_distro, image.architecture) == ("cirros", "x86_64")
    assert image.properties["flavor"] == "plain" and image.properties["gone_later"] == "yes"

    # Tags and extra properties change in place: the same image, no second download.
    cloud.openstack(
        "stack", "update", "--existing", "--parameter", "tags=web", "--parameter",
        "flavor=spicy", "-t", template_file(tmp_path, "img2.yaml",
                                            IMAGE.replace('gone_later: "yes"', "")),
        name, json_output=False,
    )  # fmt: skip
    assert wait_stack(cloud, name, ("UPDATE_COMPLETE", "UPDATE_FAILED"))["stack_status"] == (
        "UPDATE_COMPLETE"
    )
    again = cloud.openstack("stack", "resource", "show", name, "img")["physical_resource_id"]
    assert again == image_id
    image = conn.image.get_image(image_id)
    assert image.tags == ["web"]
    assert image.properties["flavor"] == "spicy"
    assert "gone_later" not in image.properties

    delete_wait(cloud, name)
    assert conn.image.find_image(image_id) is None


def test_web_image_failing_location(
    cloud: Cloud, tmp_path: Path, served: tuple[str, bytes]
) -> None:
    base, _data = served
    name = unique("webimg-bad")
    tmpl = template_file(tmp_path, "img.yaml", IMAGE)
    cloud.openstack("stack", "create", "-t", tmpl, "--parameter", f"url={base}/missing.qcow2",
                    "--parameter", f"name={name}", name)  # fmt: skip
    shown = wait_stack(cloud, name, ("CREATE_FAILED", "CREATE_COMPLETE"))
    assert shown["stack_status"] == "CREATE_FAILED"
    assert "import from its location failed" in shown["stack_status_reason"]
    image_id = cloud.openstack("stack", "resource", "show", name, "img")["physical_resource_id"]
    conn = cloud.sdk("onestack")
    image = conn.image.get_image(image_id)
    assert image.status == "queued"
    assert image.properties["os_glance_failed_import"] == "file"
    delete_wait(cloud, name)
    assert conn.image.find_image(image_id) is None

    # Heat's check of the formats: ami-style containers need the same disk format.
    bad = IMAGE.replace("container_format: bare", "container_format: ami")
    made = cloud.openstack("stack", "create", "-t", template_file(tmp_path, "bad.yaml", bad),
                           "--parameter", f"url={base}/disk.qcow2", "--parameter", "name=x",
                           unique("webimg-mix"), check=False)  # fmt: skip
    assert made.returncode != 0 and "Invalid mix of disk and container formats" in made.stderr
