"""OS::Nova::Server's ``block_device_mapping`` (v1, #17) on the fake data plane: a server
booted from a volume of the stack at ``vda`` with a volume made from a snapshot at ``vdb``
(``delete_on_termination``: gone with the server), a server on an image with a data volume
at ``vdb``; Heat's validation of the mappings (v1 and v2) and of the server's other
properties (allowed values, networks entries) is a 400 before anything is made."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.heat import assert_heat_400, create_wait, delete_wait, template_file

pytestmark = pytest.mark.cli

BOOT_V1 = """
heat_template_version: 2018-08-31
parameters:
  image: {type: string}
  snapshot: {type: string}
resources:
  root: {type: OS::Cinder::Volume, properties: {size: 1, image: {get_param: image}}}
  data: {type: OS::Cinder::Volume, properties: {size: 1}}
  boots:
    type: OS::Nova::Server
    properties:
      flavor: m1.tiny
      networks: [{allocate_network: none}]
      block_device_mapping:
        - {device_name: vda, volume_id: {get_resource: root}}
        - {device_name: vdb, snapshot_id: {get_param: snapshot}, volume_size: 1,
           delete_on_termination: true}
  imaged:
    type: OS::Nova::Server
    properties:
      image: {get_param: image}
      flavor: m1.tiny
      networks: [{allocate_network: none}]
      block_device_mapping: [{device_name: vdb, volume_id: {get_resource: data}}]
"""


@pytest.fixture(scope="module")
def sdk(cloud: Cloud) -> Iterator[Any]:
    conn = cloud.sdk("onestack-demo")
    yield conn
    conn.close()


def _attached(conn: Any, server_id: str) -> set[str]:
    """The volumes compute shows attached (``os-extended-volumes:volumes_attached``)."""
    resp = conn.compute.get(f"/servers/{server_id}")
    assert resp.status_code == 200, resp.text
    return {v["id"] for v in resp.json()["server"]["os-extended-volumes:volumes_attached"]}


def test_servers_boot_with_v1_mappings_attached(cloud: Cloud, sdk: Any, tmp_path: Path) -> None:
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\0" * 4096)
    image = unique("bdm1-img")
    cloud.openstack("image", "create", "--file", str(disk), "--disk-format", "raw", image,
                    cloud="onestack-demo")  # fmt: skip
    source = sdk.block_storage.create_volume(size=1, name=unique("bdm1-src"))
    sdk.block_storage.wait_for_status(source, "available", wait=30)
    snap = sdk.block_storage.create_snapshot(volume_id=source.id, name=unique("bdm1-snap"))
    sdk.block_storage.wait_for_status(snap, "available", wait=30)
    name = unique("bdm1")
    shown = create_wait(cloud, name, template_file(tmp_path, "b.yaml", BOOT_V1), "--parameter",
                        f"image={image}", "--parameter", f"snapshot={snap.id}",
                        cloud="onestack-demo")  # fmt: skip
    assert shown["stack_status"] == "CREATE_COMPLETE", shown
    listed = cloud.openstack("stack", "resource", "list", name, cloud="onestack-demo")
    ids = {r["resource_name"]: r["physical_resource_id"] for r in listed}

    boots = _attached(sdk, ids["boots"])
    assert ids["root"] in boots and len(boots) == 2, boots
    (made,) = boots - {ids["root"]}
    from_snap = sdk.block_storage.get_volume(made)
    assert from_snap.snapshot_id == snap.id and from_snap.status == "in-use"
    root = sdk.block_storage.get_volume(ids["root"])
    assert root.status == "in-use" and root.attachments[0]["device"] == "/dev/vda", root
    assert _attached(sdk, ids["imaged"]) == {ids["data"]}
    data = sdk.block_storage.get_volume(ids["data"])
    assert [a["server_id"] for a in data.attachments] == [ids["imaged"]], data

    delete_wait(cloud, name, cloud="onestack-demo")
    for gone in (ids["root"], ids["data"], made):  # made: delete_on_termination
        assert sdk.block_storage.find_volume(gone) is None, gone
    sdk.block_storage.delete_snapshot(snap)
    sdk.block_storage.wait_for_delete(snap, wait=30)
    sdk.block_storage.delete_volume(source)


SERVER = """
heat_template_version: 2018-08-31
resources:
  vm:
    type: OS::Nova::Server
    properties: {flavor: m1.tiny, %s}
"""
V1_ONLY = "block_device_mapping: [{device_name: vdb, volume_id: %s}]"


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            "block_device_mapping: [{device_name: vda}]",
            "Either volume_id or snapshot_id must be specified for device mapping vda",
        ),
        (
            "block_device_mapping: [{device_name: vda, volume_id: a, snapshot_id: b}]",
            "Cannot define the following properties at the same time: volume_id, snapshot_id.",
        ),
        (
            V1_ONLY % "a",
            "Neither image nor bootable volume is specified for instance vm",
        ),
        (
            "image: x, block_device_mapping: [{volume_id: a}]",
            "Property error: resources.vm.properties.block_device_mapping[0]: Property "
            "device_name not assigned",
        ),
        (
            "image: x, block_device_mapping: [{device_name: vdb, volume_id: a, size: 1}]",
            "Property error: resources.vm.properties.block_device_mapping[0]: Unknown Property "
            "size",
        ),
        (
            "block_device_mapping: [{device_name: vda, volume_id: a}], "
            "block_device_mapping_v2: [{volume_id: a}]",
            "Cannot define the following properties at the same time: block_device_mapping, "
            "block_device_mapping_v2.",
        ),
    ],
)
def test_bad_v1_mappings_are_400(sdk: Any, props: str, message: str) -> None:
    name = unique("bdm1bad")
    text = SERVER % props
    resp = sdk.orchestration.post("/stacks", json={"stack_name": name, "template": text})
    assert_heat_400(resp, "StackValidationFailed", message)
    assert sdk.orchestration.get(f"/stacks/{name}").status_code == 404


V2_CONFLICT = (
    "Cannot define the following properties at the same time: volume_id, snapshot_id, image, "
    "swap_size, ephemeral_size, ephemeral_format."
)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ("block_device_mapping_v2: [{swap_size: 1}]",
         "Neither image nor bootable volume is specified for instance vm"),
        ("block_device_mapping_v2: [{volume_id: a, boot_index: 1}]",
         "Neither image nor bootable volume is specified for instance vm"),
        ("block_device_mapping_v2: [{volume_id: a, snapshot_id: b}]", V2_CONFLICT),
        ("image: x, block_device_mapping_v2: [{swap_size: 1, ephemeral_size: 1}]", V2_CONFLICT),
        ("block_device_mapping_v2: [{boot_index: 0}]",
         "Either volume_id, snapshot_id, image_id, swap_size, ephemeral_size or "
         "ephemeral_format must be specified."),
        ("image: x, block_device_mapping_v2: [{volume_id: a}]",
         "Multiple bootable sources for instance vm."),
        ("block_device_mapping_v2: [{volume_id: a}, {image: b, boot_index: 0}]",
         "Multiple bootable sources for instance vm."),
        ("block_device_mapping_v2: [{volume_id: a, size: 1}]",
         "Property error: resources.vm.properties.block_device_mapping_v2[0]: Unknown "
         "Property size"),
        ("block_device_mapping_v2: [{volume_id: a, boot_index: x}]",
         "Property error: resources.vm.properties.block_device_mapping_v2[0].boot_index: "
         'Value "x" is invalid for data type "integer".'),
    ],
)  # fmt: skip
def test_bad_v2_mappings_are_400(sdk: Any, props: str, message: str) -> None:
    """Heat's _validate_block_device_mapping for v2: refused before anything is made (a
    server with no image and no bootable volume was only found out by compute at create)."""
    name = unique("bdm2bad")
    resp = sdk.orchestration.post("/stacks", json={"stack_name": name, "template": SERVER % props})
    assert_heat_400(resp, "StackValidationFailed", message)
    assert sdk.orchestration.get(f"/stacks/{name}").status_code == 404


V2_OF_FUNCTIONS = """
heat_template_version: 2018-08-31
parameters:
  index: {type: number, default: 0}
resources:
  vol: {type: OS::Cinder::Volume, properties: {size: 1}}
  vm:
    type: OS::Nova::Server
    properties:
      flavor: m1.tiny
      block_device_mapping_v2: [MAPPING]
"""


def test_v2_mappings_of_functions_are_checked_as_far_as_known(sdk: Any) -> None:
    """A volume from get_resource at a boot index given by a parameter may be the boot
    disk; a swap disk alone beside it is still no boot source; one at index 1 is refused."""
    for mapping in ("{volume_id: {get_resource: vol}, boot_index: {get_param: index}}",
                    "{volume_id: {get_resource: vol}}, {swap_size: 1}"):  # fmt: skip
        text = V2_OF_FUNCTIONS.replace("MAPPING", mapping)
        ok = sdk.orchestration.post("/validate", json={"template": text})
        assert ok.status_code == 200, (mapping, ok.text)
    text = V2_OF_FUNCTIONS.replace("MAPPING", "{volume_id: {get_resource: vol}, boot_index: 1}")
    name = unique("bdm2fn")
    resp = sdk.orchestration.post("/stacks", json={"stack_name": name, "template": text})
    assert_heat_400(resp, "StackValidationFailed",
                    "Neither image nor bootable volume is specified for instance vm")  # fmt: skip
    assert sdk.orchestration.get(f"/stacks/{name}").status_code == 404


FROM_FUNCTIONS = """
heat_template_version: 2018-08-31
parameters:
  dev: {type: string, default: vda}
resources:
  vol: {type: OS::Cinder::Volume, properties: {size: 1}}
  vm:
    type: OS::Nova::Server
    properties:
      flavor: m1.tiny
      block_device_mapping: [{device_name: DEVICE, volume_id: {get_resource: vol}}]
"""


def test_mappings_of_functions_are_checked_as_far_as_known(sdk: Any) -> None:
    """A volume id from get_resource counts as given; a device name from a function might
    be vda (taken), a literal vdb without an image is not bootable (400)."""
    ok = sdk.orchestration.post("/validate", json={"template": FROM_FUNCTIONS.replace(
        "DEVICE", "{get_param: dev}")})  # fmt: skip
    assert ok.status_code == 200, ok.text
    resp = sdk.orchestration.post("/validate", json={"template": FROM_FUNCTIONS.replace(
        "DEVICE", "vdb")})  # fmt: skip
    assert_heat_400(resp, "StackValidationFailed",
                    "Neither image nor bootable volume is specified for instance vm")  # fmt: skip


ROOT_BESIDE_IMAGE = """
heat_template_version: 2018-08-31
parameters:
  image: {type: string}
resources:
  vol: {type: OS::Cinder::Volume, properties: {size: 1}}
  vm:
    type: OS::Nova::Server
    properties:
      image: {get_param: image}
      flavor: m1.tiny
      networks: [{allocate_network: none}]
      block_device_mapping: [{device_name: vda, volume_id: {get_resource: vol}}]
"""


def test_a_volume_at_the_root_device_beside_an_image_fails_the_server(
    cloud: Cloud, sdk: Any, tmp_path: Path
) -> None:
    """Heat lets it through; Nova refuses the legacy mapping: the server is CREATE_FAILED
    with Nova's reason, the volume left alone."""
    image = sdk.image.create_image(name=unique("bdm1-root"), disk_format="raw",
                                   container_format="bare", data=b"\0" * 2048)  # fmt: skip
    name = unique("bdm1root")
    tf = template_file(tmp_path, "r.yaml", ROOT_BESIDE_IMAGE)
    made = cloud.openstack("stack", "create", "-t", tf, "--parameter", f"image={image.id}",
                           "--wait", "--poll", "1", name, cloud="onestack-demo",
                           json_output=False, check=False)  # fmt: skip
    assert made.returncode != 0
    vm = cloud.openstack("stack", "resource", "show", name, "vm", cloud="onestack-demo")
    assert vm["resource_status"] == "CREATE_FAILED", vm
    assert (
        "The volume cannot be assigned the same device name as the root device vda"
        in (vm["resource_status_reason"])
    ), vm
    volume = cloud.openstack("stack", "resource", "show", name, "vol", cloud="onestack-demo")
    assert sdk.block_storage.get_volume(volume["physical_resource_id"]).status == "available"
    delete_wait(cloud, name, cloud="onestack-demo")
    sdk.image.delete_image(image)


NETS = """
heat_template_version: 2018-08-31
resources:
  net: {type: OS::Neutron::Net}
  port: {type: OS::Neutron::Port, properties: {network: {get_resource: net}}}
  vm:
    type: OS::Nova::Server
    %s
    properties: {image: x, flavor: m1.tiny, %s}
"""


@pytest.mark.parametrize(
    ("metadata", "props", "message"),
    [
        ("", "user_data_format: NOPE",
         'Property error: resources.vm.properties.user_data_format: "NOPE" is not an allowed '
         'value ["HEAT_CFNTOOLS", "RAW", "SOFTWARE_CONFIG"]'),
        ("", "flavor_update_policy: NOPE",
         'Property error: resources.vm.properties.flavor_update_policy: "NOPE" is not an '
         'allowed value ["RESIZE", "REPLACE"]'),
        ("", "image_update_policy: NOPE",
         'Property error: resources.vm.properties.image_update_policy: "NOPE" is not an '
         'allowed value ["REBUILD", "REPLACE", "REBUILD_PRESERVE_EPHEMERAL"]'),
        ("", "block_device_mapping_v2: [{swap_size: 1, disk_bus: floppy}]",
         "Property error: resources.vm.properties.block_device_mapping_v2[0].disk_bus: "
         '"floppy" is not an allowed value ["ide", "lame_bus", "sata", "scsi", "usb", '
         '"virtio"]'),
        ("", "networks: [{allocate_network: some}]",
         "Property error: resources.vm.properties.networks[0].allocate_network: \"some\" is "
         'not an allowed value ["none", "auto"]'),
        ("metadata: {deployments: []}", "user_data_format: SOFTWARE_CONFIG",
         "deployments key not allowed in resource metadata with user_data_format of "
         "SOFTWARE_CONFIG"),
        ("", "networks: [{fixed_ip: 10.0.0.5}]",
         'One of the properties "network", "port", "allocate_network" or "subnet" should be '
         'set for the specified network of server "vm".'),
        ("", "networks: [{allocate_network: auto, network: {get_resource: net}}]",
         'Can not specify "allocate_network" with other keys of networks at the same time.'),
        ("", "networks: [{port: {get_resource: port}, fixed_ip: 10.0.0.5}]",
         "Cannot define the following properties at the same time: networks/fixed_ip, "
         "networks/port."),
        ("", "networks: [{network: {get_resource: net}, floating_ip: x}]",
         'Property "floating_ip" is not supported if only "network" is specified, because the '
         "corresponding port can not be retrieved."),
        ("", "networks: [{allocate_network: none}, {network: {get_resource: net}}]",
         'Property "allocate_network" can not be specified if multiple network interfaces set '
         "for server."),
        ("", "networks: [{port: {get_resource: port}}], security_groups: [default]",
         "Cannot define the following properties at the same time: security_groups, "
         "networks/port."),
    ],
)  # fmt: skip
def test_bad_server_properties_are_400(sdk: Any, metadata: str, props: str, message: str) -> None:
    """Heat's Server.validate and its properties' allowed values: refused at the stack's
    create before anything is made (each was found out only by the server's create)."""
    name = unique("srvbad")
    text = NETS % (metadata, props)
    resp = sdk.orchestration.post("/stacks", json={"stack_name": name, "template": text})
    assert_heat_400(resp, "StackValidationFailed", message)
    assert sdk.orchestration.get(f"/stacks/{name}").status_code == 404
