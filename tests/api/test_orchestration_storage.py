"""Cinder's and Swift's resource types of a stack (#17) on the fake data plane: a volume
attached to a server of the stack (``in-use``, shown attached to it), a container with a
read ACL and metadata; the delete detaches and removes the volume and, with
PurgeOnDelete, removes the container with the object a user put in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.heat import create_wait, delete_wait, template_file

pytestmark = pytest.mark.cli

STORAGE = """
heat_template_version: 2018-08-31
parameters:
  image: {type: string}
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.79.0.0/24}
  vm:
    type: OS::Nova::Server
    depends_on: subnet
    properties: {image: {get_param: image}, flavor: m1.tiny,
                 networks: [{network: {get_resource: net}}]}
  vol: {type: OS::Cinder::Volume, properties: {size: 1}}
  att:
    type: OS::Cinder::VolumeAttachment
    properties: {instance_uuid: {get_resource: vm}, volume_id: {get_resource: vol}}
  box:
    type: OS::Swift::Container
    properties: {X-Container-Read: ".r:*", X-Container-Meta: {color: blue},
                 PurgeOnDelete: true}
outputs:
  url: {value: {get_attr: [box, WebsiteURL]}}
  volume_status: {value: {get_attr: [vol, status]}}
"""


def test_volume_attachment_and_container(cloud: Cloud, tmp_path: Path) -> None:
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\0" * 4096)
    image = unique("st-img")
    cloud.openstack("image", "create", "--file", str(disk), "--disk-format", "raw", image)
    name = unique("store")
    shown = create_wait(cloud, name, template_file(tmp_path, "s.yaml", STORAGE), "--parameter",
                        f"image={image}")  # fmt: skip
    assert shown["stack_status"] == "CREATE_COMPLETE", shown
    out = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
    res = {
        r["resource_name"]: r["physical_resource_id"]
        for r in cloud.openstack("stack", "resource", "list", name)
    }
    assert out["volume_status"] == "in-use"
    volume = cloud.openstack("volume", "show", res["vol"])
    assert volume["status"] == "in-use" and res["vm"] in str(volume["attachments"])
    box = cloud.openstack("container", "show", res["box"])
    assert box["read_acl"] == ".r:*" and box["properties"] == {"color": "blue"}
    assert out["url"].endswith(f"/{res['box']}")
    (tmp_path / "f.txt").write_text("hi")
    cloud.openstack("object", "create", res["box"], str(tmp_path / "f.txt"))
    delete_wait(cloud, name)
    assert cloud.openstack("volume", "show", res["vol"], check=False).returncode != 0
    assert res["box"] not in {c["Name"] for c in cloud.openstack("container", "list")}
    assert cloud.openstack("server", "show", res["vm"], check=False).returncode != 0


BOOT = """
heat_template_version: 2018-08-31
parameters:
  image: {type: string}
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.80.0.0/24}
  root: {type: OS::Cinder::Volume, properties: {size: 1, image: {get_param: image}}}
  vm:
    type: OS::Nova::Server
    depends_on: subnet
    properties:
      flavor: m1.tiny
      networks: [{network: {get_resource: net}}]
      block_device_mapping_v2: [{volume_id: {get_resource: root}, boot_index: 0}]
"""


def test_server_boots_from_a_volume_of_the_stack(cloud: Cloud, tmp_path: Path) -> None:
    """block_device_mapping_v2 with a volume_id (Heat's mapping: source and destination
    volume, kept at the server's delete); the stack's delete removes the volume after it."""
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\0" * 4096)
    image = unique("bfv-img")
    cloud.openstack("image", "create", "--file", str(disk), "--disk-format", "raw", image)
    name = unique("bfv")
    shown = create_wait(cloud, name, template_file(tmp_path, "b.yaml", BOOT), "--parameter",
                        f"image={image}")  # fmt: skip
    assert shown["stack_status"] == "CREATE_COMPLETE", shown
    res = {
        r["resource_name"]: r["physical_resource_id"]
        for r in cloud.openstack("stack", "resource", "list", name)
    }
    server = cloud.openstack("server", "show", res["vm"])
    assert res["root"] in str(server["volumes_attached"]), server
    assert not server["image"] or "volume" in str(server["image"]).lower(), server
    volume = cloud.openstack("volume", "show", res["root"])
    assert volume["status"] == "in-use" and res["vm"] in str(volume["attachments"])
    delete_wait(cloud, name)
    assert cloud.openstack("volume", "show", res["root"], check=False).returncode != 0
    assert cloud.openstack("server", "show", res["vm"], check=False).returncode != 0
