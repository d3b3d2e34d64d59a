"""Nova's resource types of a stack (#17) through ``openstack stack`` on the fake data plane:
a key pair, a network with a port, a server on the port with RAW user data, metadata and the
key, a second server on the network by name with a floating IP associated with its port
(found by the network's id in the server's ``addresses``); outputs read ``first_address``,
``networks`` and the saved private key; compute shows the servers as the template made them;
the delete removes the servers, ports, floating IP and the key pair; a server on an unknown
image fails naming it."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.heat import create_wait, delete_wait, template_file, wait_stack

pytestmark = pytest.mark.cli

SERVERS = """
heat_template_version: 2018-08-31
parameters:
  image: {type: string}
  flavor: {type: string, default: m1.tiny}
resources:
  key:
    type: OS::Nova::KeyPair
    properties:
      name: {list_join: ['-', [{get_param: "OS::stack_name"}, key]]}
      save_private_key: true
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.78.0.0/24}
  port:
    type: OS::Neutron::Port
    properties: {network: {get_resource: net}, fixed_ips: [{subnet: {get_resource: subnet}}]}
  web:
    type: OS::Nova::Server
    properties:
      image: {get_param: image}
      flavor: {get_param: flavor}
      key_name: {get_resource: key}
      networks: [{port: {get_resource: port}}]
      user_data_format: RAW
      user_data:
        str_replace:
          template: "#!/bin/sh\\necho hello from NAME"
          params: {NAME: {get_param: "OS::stack_name"}}
      metadata: {role: web}
  db:
    type: OS::Nova::Server
    depends_on: subnet
    properties:
      image: {get_param: image}
      flavor: {get_param: flavor}
      networks: [{network: {get_resource: net}}]
  router:
    type: OS::Neutron::Router
    properties: {external_gateway_info: {network: public}}
  iface:
    type: OS::Neutron::RouterInterface
    properties: {router: {get_resource: router}, subnet: {get_resource: subnet}}
  fip:
    type: OS::Neutron::FloatingIP
    depends_on: iface
    properties: {floating_network: public}
  fip_assoc:
    type: OS::Neutron::FloatingIPAssociation
    properties:
      floatingip_id: {get_resource: fip}
      port_id: {get_attr: [db, addresses, {get_resource: net}, 0, port]}
outputs:
  web_ip: {value: {get_attr: [web, first_address]}}
  port_ip: {value: {get_attr: [port, fixed_ips, 0, ip_address]}}
  db_networks: {value: {get_attr: [db, networks]}}
  private_key: {value: {get_attr: [key, private_key]}}
"""


@pytest.fixture(scope="module")
def image(cloud: Cloud, tmp_path_factory: pytest.TempPathFactory) -> str:
    disk = tmp_path_factory.mktemp("heat-img") / "disk.raw"
    disk.write_bytes(b"\0" * 4096)
    name = unique("heat-img")
    cloud.openstack("image", "create", "--public", "--file", str(disk), "--disk-format", "raw",
                    name)  # fmt: skip
    return name


def test_servers_and_keypair_stack(cloud: Cloud, image: str, tmp_path: Path) -> None:
    name = unique("app")
    tf = template_file(tmp_path, "app.yaml", SERVERS)
    shown = create_wait(cloud, name, tf, "--parameter", f"image={image}", cloud="onestack-demo")
    assert shown["stack_status"] == "CREATE_COMPLETE", shown
    out = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
    assert out["web_ip"] == out["port_ip"] and out["web_ip"].startswith("10.78.0.")
    assert out["private_key"].startswith("-----BEGIN")
    res = {
        r["resource_name"]: r["physical_resource_id"]
        for r in cloud.openstack("stack", "resource", "list", name, cloud="onestack-demo")
    }
    web = cloud.openstack("server", "show", res["web"], cloud="onestack-demo")
    assert web["status"] == "ACTIVE" and web["name"] == f"{name}-web"
    assert web["key_name"] == f"{name}-key" and web["properties"] == {"role": "web"}
    raw = cloud.openstack(
        "--os-compute-api-version", "2.3", "server", "show", res["web"],
        "-c", "OS-EXT-SRV-ATTR:user_data", cloud="onestack",
    )["OS-EXT-SRV-ATTR:user_data"]  # fmt: skip
    assert base64.b64decode(raw).decode() == f"#!/bin/sh\necho hello from {name}"
    db_ips = out["db_networks"][res["net"]]
    db = cloud.openstack("server", "show", res["db"], cloud="onestack-demo")
    assert db_ips and db_ips[0] in str(db["addresses"])
    # The floating IP associated with db's port, found by the network's id in `addresses`.
    fip = cloud.openstack("floating ip", "show", res["fip"], cloud="onestack-demo")
    assert fip["fixed_ip_address"] == db_ips[0], fip
    assert res["fip_assoc"] == f"{res['fip']}:{fip['port_id']}"
    delete_wait(cloud, name, cloud="onestack-demo")
    servers = cloud.openstack("server", "list", cloud="onestack-demo")
    assert not {res["web"], res["db"]} & {s["ID"] for s in servers}
    assert cloud.openstack("port", "show", res["port"], check=False).returncode != 0
    assert cloud.openstack("floating ip", "show", res["fip"], check=False).returncode != 0
    keys = cloud.openstack("keypair", "list", cloud="onestack-demo")
    assert f"{name}-key" not in {k["Name"] for k in keys}


UNKNOWN = """
heat_template_version: 2018-08-31
parameters:
  img: {type: string}
resources:
  # no network: the shared cloud's projects hold several (NetworkAmbiguous otherwise)
  vm:
    type: OS::Nova::Server
    properties: {image: %s, flavor: %s, networks: [{allocate_network: none}]}
"""


def test_unknown_image_or_flavor_is_a_400_naming_it(cloud: Cloud, tmp_path: Path) -> None:
    """Heat's custom constraints on a server's image (glance.image) and flavor (nova.flavor):
    a literal or a parameter's value that names nothing is refused at the create, before
    anything is made, naming the property and the value."""
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\0" * 2048)
    image = unique("known-img")
    cloud.openstack("image", "create", "--file", str(disk), "--disk-format", "raw", image)
    cases = [
        ("no-such-image", "m1.tiny", image, "image", "no-such-image", "Image"),
        ("{get_param: img}", "m1.tiny", "gone-img", "image", "gone-img", "Image"),
        ("{get_param: img}", "m1.nope", image, "flavor", "m1.nope", "Flavor"),
    ]
    for image_prop, flavor, param, prop, value, entity in cases:
        name = unique("noimg")
        tf = template_file(tmp_path, f"{name}.yaml", UNKNOWN % (image_prop, flavor))
        refused = cloud.openstack("stack", "create", "-t", tf, "--parameter", f"img={param}",
                                  name, json_output=False, check=False)  # fmt: skip
        assert refused.returncode != 0
        assert (f"Property error: resources.vm.properties.{prop}: Error validating value "
                f"'{value}': The {entity} ({value}) could not be found.") in refused.stderr, (
            refused.stderr)  # fmt: skip
        assert cloud.openstack("stack", "show", name, check=False).returncode != 0
    name = unique("imgok")
    tf = template_file(tmp_path, "ok.yaml", UNKNOWN % ("{get_param: img}", "m1.tiny"))
    shown = create_wait(cloud, name, tf, "--parameter", f"img={image}")
    assert shown["stack_status"] == "CREATE_COMPLETE", shown
    delete_wait(cloud, name)


RESIZE = """
heat_template_version: 2018-08-31
parameters:
  image: {type: string}
  flavor: {type: string}
  policy: {type: string, default: REBUILD}
resources:
  vm:
    type: OS::Nova::Server
    properties:
      image: {get_param: image}
      flavor: {get_param: flavor}
      image_update_policy: {get_param: policy}
      networks: [{allocate_network: none}]
  other: {type: OS::Heat::RandomString}
"""


def test_update_resizes_rebuilds_or_replaces_the_server(
    cloud: Cloud, image: str, tmp_path: Path
) -> None:
    """Heat's server update: a new flavor resizes in place (and confirms), a new image
    rebuilds it (image_update_policy REBUILD) or replaces it (REPLACE); the resource that did
    not change is untouched."""
    name = unique("resize")
    tf = template_file(tmp_path, "r.yaml", RESIZE)
    disk = tmp_path / "disk2.raw"
    disk.write_bytes(b"\0" * 4096)
    image2 = unique("heat-img2")
    cloud.openstack("image", "create", "--public", "--file", str(disk), "--disk-format", "raw",
                    image2)  # fmt: skip
    args = ("--parameter", f"image={image}", "--parameter", "flavor=m1.tiny")
    create_wait(cloud, name, tf, *args, cloud="onestack-demo")
    before = {
        r["resource_name"]: r
        for r in cloud.openstack("stack", "resource", "list", name, cloud="onestack-demo")
    }
    server = before["vm"]["physical_resource_id"]

    def update(*params: str) -> dict[str, str]:
        cloud.openstack("stack", "update", "-t", tf, *params, "--wait", name,
                        cloud="onestack-demo", json_output=False)  # fmt: skip
        shown = cloud.openstack("stack", "show", name, cloud="onestack-demo")
        assert shown["stack_status"] == "UPDATE_COMPLETE", shown
        return {
            r["resource_name"]: r
            for r in cloud.openstack("stack", "resource", "list", name, cloud="onestack-demo")
        }

    after = update("--parameter", f"image={image}", "--parameter", "flavor=m1.small")
    assert after["vm"]["physical_resource_id"] == server
    assert after["other"] == before["other"]
    shown = cloud.openstack("server", "show", server, cloud="onestack-demo")
    assert shown["status"] == "ACTIVE" and "m1.small" in str(shown["flavor"])

    after = update("--parameter", f"image={image2}", "--parameter", "flavor=m1.small")
    assert after["vm"]["physical_resource_id"] == server
    shown = cloud.openstack("server", "show", server, cloud="onestack-demo")
    assert shown["status"] == "ACTIVE" and image2 in str(shown["image"])

    after = update(
        "--parameter", f"image={image}", "--parameter", "flavor=m1.small",
        "--parameter", "policy=REPLACE",
    )  # fmt: skip
    assert after["vm"]["physical_resource_id"] != server
    servers = {s["ID"] for s in cloud.openstack("server", "list", cloud="onestack-demo")}
    assert server not in servers and after["vm"]["physical_resource_id"] in servers
    delete_wait(cloud, name, cloud="onestack-demo")


def test_snapshot_keeps_an_image_of_the_server_and_restore_rebuilds_from_it(
    cloud: Cloud, image: str, tmp_path: Path
) -> None:
    """Heat's server snapshot: the stack snapshot makes an image of the server (active before
    SNAPSHOT_COMPLETE), the restore rebuilds the same server from it, and the snapshot's
    delete removes the image."""
    name = unique("srvsnap")
    tf = template_file(tmp_path, "r.yaml", RESIZE)
    args = ("--parameter", f"image={image}", "--parameter", "flavor=m1.tiny")
    create_wait(cloud, name, tf, *args, cloud="onestack-demo")
    server = cloud.openstack("stack", "resource", "show", name, "vm",
                             cloud="onestack-demo")["physical_resource_id"]  # fmt: skip
    cloud.openstack("stack", "snapshot", "create", name, "--name", "s1", cloud="onestack-demo")
    shown = wait_stack(cloud, name, ("SNAPSHOT_COMPLETE", "SNAPSHOT_FAILED"),
                       cloud="onestack-demo")  # fmt: skip
    assert shown["stack_status"] == "SNAPSHOT_COMPLETE", shown
    snap = cloud.openstack("stack", "snapshot", "list", name, cloud="onestack-demo")[0]
    shown_snap = cloud.openstack("stack", "snapshot", "show", name, snap["id"],
                                 cloud="onestack-demo", json_output=False)  # fmt: skip
    found = re.search(r"snapshot_image_id\W+([0-9a-f-]{36})", shown_snap)
    assert found, shown_snap
    kept = found.group(1)
    assert cloud.openstack("image", "show", kept, cloud="onestack-demo")["status"] == "active"

    cloud.openstack("stack", "snapshot", "restore", name, snap["id"], cloud="onestack-demo",
                    json_output=False)  # fmt: skip
    shown = wait_stack(cloud, name, ("RESTORE_COMPLETE", "RESTORE_FAILED"), timeout=120,
                       cloud="onestack-demo")  # fmt: skip
    assert shown["stack_status"] == "RESTORE_COMPLETE", shown
    vm = cloud.openstack("stack", "resource", "show", name, "vm", cloud="onestack-demo")
    assert vm["physical_resource_id"] == server  # rebuilt, not replaced
    srv = cloud.openstack("server", "show", server, cloud="onestack-demo")
    assert srv["status"] == "ACTIVE" and kept in str(srv["image"])

    cloud.openstack("stack", "snapshot", "delete", name, snap["id"], cloud="onestack-demo",
                    json_output=False)  # fmt: skip
    assert cloud.openstack("image", "show", kept, check=False).returncode != 0
    delete_wait(cloud, name, cloud="onestack-demo")


NESTED_SNAP = """
heat_template_version: 2018-08-31
parameters:
  image: {type: string}
resources:
  group:
    type: OS::Heat::ResourceGroup
    properties:
      count: 2
      resource_def:
        type: My::Box
        properties: {image: {get_param: image}}
  inline:
    type: OS::Heat::Stack
    properties:
      template: |
        heat_template_version: 2018-08-31
        resources:
          rnd: {type: OS::Heat::RandomString}
"""
BOX = """
heat_template_version: 2018-08-31
parameters:
  image: {type: string}
resources:
  vm:
    type: OS::Nova::Server
    # no network: the shared cloud's demo project may see several (Nova: NetworkAmbiguous)
    properties: {image: {get_param: image}, flavor: m1.tiny, networks: [{allocate_network: none}]}
"""


def test_snapshot_holds_nested_stacks_and_restore_restores_them(
    cloud: Cloud, image: str, tmp_path: Path
) -> None:
    """A snapshot holds the nested stacks' data (a ResourceGroup's members, each a template
    resource of the environment's registry holding a server; an OS::Heat::Stack), their
    servers' images among it; the restore rebuilds each nested server from its image; the
    snapshot's delete removes the nested servers' images."""
    demo = "onestack-demo"
    name = unique("nestsnap")
    template_file(tmp_path, "box.yaml", BOX)
    env = template_file(tmp_path, "env.yaml", "resource_registry:\n  My::Box: box.yaml\n")
    tf = template_file(tmp_path, "n.yaml", NESTED_SNAP)
    made = create_wait(cloud, name, tf, "-e", env, "--parameter", f"image={image}", cloud=demo)
    cloud.openstack("stack", "snapshot", "create", name, "--name", "n1", cloud=demo)
    shown = wait_stack(cloud, name, ("SNAPSHOT_COMPLETE", "SNAPSHOT_FAILED"), cloud=demo)
    assert shown["stack_status"] == "SNAPSHOT_COMPLETE", shown["stack_status_reason"]
    snap_id = cloud.openstack("stack", "snapshot", "list", name, cloud=demo)[0]["id"]
    conn = cloud.sdk(demo)
    resp = conn.orchestration.get(f"/stacks/{name}/{made['id']}/snapshots/{snap_id}")
    data = resp.json()["snapshot"]["data"]
    group = data["resources"]["group"]
    assert set(group["resources"]) == {"0", "1"}
    boxes = {n: m["resources"]["vm"] for n, m in group["resources"].items()}
    images = {b["resource_id"]: b["resource_data"]["snapshot_image_id"] for b in boxes.values()}
    assert len(images) == 2 and all(images.values()), boxes
    assert set(data["resources"]["inline"]["resources"]) == {"rnd"}

    cloud.openstack("stack", "snapshot", "restore", name, snap_id, cloud=demo, json_output=False)
    shown = wait_stack(cloud, name, ("RESTORE_COMPLETE", "RESTORE_FAILED"), timeout=120,
                       cloud=demo)  # fmt: skip
    assert shown["stack_status"] == "RESTORE_COMPLETE", shown["stack_status_reason"]
    for server_id, kept in images.items():  # the same servers, rebuilt from their images
        srv = cloud.openstack("server", "show", server_id, cloud=demo)
        assert srv["status"] == "ACTIVE" and kept in str(srv["image"]), srv["image"]

    cloud.openstack("stack", "snapshot", "delete", name, snap_id, cloud=demo, json_output=False)
    for kept in images.values():
        assert cloud.openstack("image", "show", kept, check=False).returncode != 0
    delete_wait(cloud, name, cloud=demo)


SUBNET_SERVER = """
heat_template_version: 2016-04-08
parameters:
  image: {type: string}
resources:
  net: {type: OS::Neutron::Net, properties: {name: NET}}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 11.11.13.0/24}
  server:
    type: OS::Nova::Server
    properties:
      image: {get_param: image}
      flavor: m1.tiny
      networks: [{subnet: {get_resource: subnet}, fixed_ip: 11.11.13.11}]
outputs:
  networks: {value: {get_attr: [server, networks]}}
"""


def test_server_on_a_subnet_with_fixed_ip(cloud: Cloud, image: str, tmp_path: Path) -> None:
    """A networks entry naming a subnet and an address in it, no network (#17); an update to
    entries the server's port still answers (its network, its subnet alone) keeps the server
    and its port, as Heat matches them; an entry it does not answer replaces the server."""
    name, net = unique("subsrv"), unique("subsrv-net")
    tf = template_file(tmp_path, "s.yaml", SUBNET_SERVER.replace("NET", net))
    shown = create_wait(cloud, name, tf, "--parameter", f"image={image}")
    try:
        out = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
        assert out["networks"][net] == ["11.11.13.11"]
        server = cloud.openstack("stack", "resource", "show", name, "server")
        (port,) = cloud.openstack("port", "list", "--server", server["physical_resource_id"])
        for entry, kept in (
            ("{network: {get_resource: net}}", True),
            ("{subnet: {get_resource: subnet}}", True),
            # Of the network alone: the server still waits for the subnet, goes before it.
            ("{network: {get_resource: net}, fixed_ip: 11.11.13.12}", False),
        ):
            changed = SUBNET_SERVER.replace("NET", net).replace(
                "{subnet: {get_resource: subnet}, fixed_ip: 11.11.13.11}", entry
            )
            cloud.openstack("stack", "update", "-t", template_file(tmp_path, "u.yaml", changed),
                            "--parameter", f"image={image}", name, json_output=False)  # fmt: skip
            shown = wait_stack(cloud, name, ("UPDATE_COMPLETE", "UPDATE_FAILED"), timeout=60)
            assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
            now = cloud.openstack("stack", "resource", "show", name, "server")
            same = now["physical_resource_id"] == server["physical_resource_id"]
            assert same == kept, entry
            ports = cloud.openstack("port", "list", "--server", now["physical_resource_id"])
            assert ([p["ID"] for p in ports] == [port["ID"]]) == kept, ports
    finally:
        delete_wait(cloud, name)


CONSOLES = """
heat_template_version: 2018-08-31
parameters:
  image: {type: string}
resources:
  vm:
    type: OS::Nova::Server
    properties:
      image: {get_param: image}
      flavor: m1.tiny
      networks: [{allocate_network: none}]
outputs:
  consoles: {value: {get_attr: [vm, console_urls]}}
  novnc: {value: {get_attr: [vm, console_urls, novnc]}}
  rdp: {value: {get_attr: [vm, console_urls, rdp]}}
"""


def test_server_console_urls_are_made_when_read(cloud: Cloud, image: str, tmp_path: Path) -> None:
    """Heat's ``console_urls``: each console type Heat knows, a new URL (a new token) of
    those this cloud offers (noVNC, serial) at each read, the error text for the others;
    a type Heat does not know, novaclient's text (and not a key of the whole map)."""
    name = unique("consoles")
    tf = template_file(tmp_path, "c.yaml", CONSOLES)
    create_wait(cloud, name, tf, "--parameter", f"image={image}", cloud="onestack-demo")

    def output(key: str) -> Any:
        shown = cloud.openstack("stack", "output", "show", name, key, cloud="onestack-demo")
        assert "output_error" not in shown, shown
        value = shown["output_value"]
        return json.loads(value) if isinstance(value, str) and value.startswith("{") else value

    urls = output("consoles")
    assert list(urls) == ["novnc", "xvpvnc", "spice-html5", "rdp-html5", "serial", "webmks"]
    vnc = re.compile(
        rf"^{re.escape(cloud.url)}/compute-console/vnc_lite\.html\?path="
        r"compute-console/websockify%3Ftoken%3D[\w-]+$"
    )
    assert vnc.match(urls["novnc"]), urls
    assert urls["serial"].startswith(
        f"ws://127.0.0.1:{cloud.port}/compute-console/serial?token="
    ), urls
    for kind in ("xvpvnc", "spice-html5", "rdp-html5", "webmks"):
        assert urls[kind] == f"Cannot get console url: Unavailable console type {kind}. (HTTP 400)"
    assert output("rdp") == 'Unsupported console_type "rdp"' and "rdp" not in urls
    first, second = output("novnc"), output("novnc")
    assert vnc.match(first) and vnc.match(second) and first != second != urls["novnc"]
    page = httpx.get(second, timeout=30)
    assert page.status_code == 200 and "websocket" in page.text.lower()
    delete_wait(cloud, name, cloud="onestack-demo")
