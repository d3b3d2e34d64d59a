"""Neutron's resource types of a stack (#17) through ``openstack stack`` as the demo project's
member: a network, subnet, security group with rules, a port with a fixed address, a router
with its gateway on ``public`` and an interface, a floating IP on the port; the outputs read
live attributes through paths; the network service shows each of them with the values the
template gave; the delete removes every one; a reference to another project's private
network fails the resource with the network service's own 404."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.heat import create_wait, delete_wait, template_file, wait_stack

pytestmark = pytest.mark.cli

NET = """
heat_template_version: 2018-08-31
parameters:
  cidr: {type: string, default: 10.77.0.0/24}
resources:
  net: {type: OS::Neutron::Net, properties: {name: NAME-net}}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: {get_param: cidr}}
  sg:
    type: OS::Neutron::SecurityGroup
    properties:
      name: NAME-sg
      rules:
        - {protocol: tcp, port_range_min: 22, port_range_max: 22, remote_ip_prefix: 0.0.0.0/0}
        - {protocol: icmp}
  web:
    type: OS::Neutron::SecurityGroupRule
    properties: {security_group: {get_resource: sg}, protocol: tcp, port_range_min: 80,
                 port_range_max: 80}
  port:
    type: OS::Neutron::Port
    properties:
      network: {get_resource: net}
      fixed_ips: [{subnet: {get_resource: subnet}, ip_address: 10.77.0.50}]
      security_groups: [{get_resource: sg}]
  router:
    type: OS::Neutron::Router
    properties: {name: NAME-router, external_gateway_info: {network: public}}
  iface:
    type: OS::Neutron::RouterInterface
    properties: {router: {get_resource: router}, subnet: {get_resource: subnet}}
  fip:
    type: OS::Neutron::FloatingIP
    depends_on: iface
    properties: {floating_network: public, port_id: {get_resource: port}}
outputs:
  subnets: {value: {get_attr: [net, subnets]}}
  port_ip: {value: {get_attr: [port, fixed_ips, 0, ip_address]}}
  fip: {value: {get_attr: [fip, floating_ip_address]}}
"""


def test_network_stack_made_and_removed(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("netstack")
    tf = template_file(tmp_path, "net.yaml", NET.replace("NAME", name))
    shown = create_wait(cloud, name, tf, cloud="onestack-demo")
    assert shown["stack_status"] == "CREATE_COMPLETE", shown
    outputs = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
    res = {
        r["resource_name"]: r["physical_resource_id"]
        for r in cloud.openstack("stack", "resource", "list", name, cloud="onestack-demo")
    }
    net = cloud.openstack("network", "show", f"{name}-net", cloud="onestack-demo")
    assert net["id"] == res["net"] and net["subnets"] == outputs["subnets"] == [res["subnet"]]
    subnet = cloud.openstack("subnet", "show", res["subnet"], cloud="onestack-demo")
    assert subnet["cidr"] == "10.77.0.0/24"
    port = cloud.openstack("port", "show", res["port"], cloud="onestack-demo")
    assert outputs["port_ip"] == "10.77.0.50"
    assert port["security_group_ids"] == [res["sg"]]
    sg = cloud.openstack("security group", "show", f"{name}-sg", cloud="onestack-demo")
    ingress = {
        (r["protocol"], r["port_range_min"]) for r in sg["rules"] if r["direction"] == "ingress"
    }
    assert {("tcp", 22), ("icmp", None), ("tcp", 80)} <= ingress
    router = cloud.openstack("router", "show", f"{name}-router", cloud="onestack-demo")
    assert router["external_gateway_info"]["network_id"]
    fip = cloud.openstack("floating ip", "show", res["fip"], cloud="onestack-demo")
    assert fip["floating_ip_address"] == outputs["fip"] and fip["port_id"] == res["port"]
    delete_wait(cloud, name, cloud="onestack-demo")
    for kind, ident in (("network", res["net"]), ("port", res["port"]),
                        ("router", res["router"]), ("floating ip", res["fip"]),
                        ("security group", res["sg"]), ("subnet", res["subnet"])):  # fmt: skip
        gone = cloud.openstack(kind, "show", ident, cloud="onestack-demo", check=False)
        assert gone.returncode != 0, (kind, ident)


def test_another_projects_private_network_fails_with_its_404(cloud: Cloud, tmp_path: Path) -> None:
    private = cloud.openstack("network", "create", unique("admins-private"))
    text = f"""
heat_template_version: 2018-08-31
resources:
  port: {{type: OS::Neutron::Port, properties: {{network: {private["id"]}}}}}
"""
    name = unique("steal")
    cloud.openstack("stack", "create", "-t", template_file(tmp_path, "p.yaml", text), name,
                    cloud="onestack-demo")  # fmt: skip
    shown = wait_stack(cloud, name, ("CREATE_FAILED", "CREATE_COMPLETE"), cloud="onestack-demo")
    assert shown["stack_status"] == "CREATE_FAILED"
    assert "resources.port" in shown["stack_status_reason"]
    assert (
        "Network" in shown["stack_status_reason"]
        and "could not be found" in (shown["stack_status_reason"])
    )
    events = cloud.openstack("stack", "event", "list", name, cloud="onestack-demo")
    assert any("NetworkNotFound" in e["resource_status_reason"] for e in events)
    delete_wait(cloud, name, cloud="onestack-demo")
    cloud.openstack("network", "delete", private["id"], json_output=False)


def test_stack_check_finds_what_went_missing(cloud: Cloud, tmp_path: Path) -> None:
    """``stack check``: CHECK_COMPLETE while the network exists; once it is deleted behind
    the stack's back, CHECK_FAILED naming the resource."""
    text = "heat_template_version: 2018-08-31\nresources:\n  net: {type: OS::Neutron::Net}\n"
    name = unique("chk")
    create_wait(cloud, name, template_file(tmp_path, "c.yaml", text))
    cloud.openstack("stack", "check", "--wait", name, json_output=False)
    assert cloud.openstack("stack", "show", name)["stack_status"] == "CHECK_COMPLETE"
    net = cloud.openstack("stack", "resource", "show", name, "net")["physical_resource_id"]
    cloud.openstack("network", "delete", net, json_output=False)
    cloud.openstack("stack", "check", name, json_output=False)
    shown = wait_stack(cloud, name, ("CHECK_FAILED", "CHECK_COMPLETE"))
    assert shown["stack_status"] == "CHECK_FAILED" and "net" in shown["stack_status_reason"]
    res = cloud.openstack("stack", "resource", "show", name, "net")
    assert res["resource_status"] == "CHECK_FAILED"
    delete_wait(cloud, name)


PORT_ONLY = """
heat_template_version: 2018-08-31
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.78.0.0/24}
  other: {type: OS::Neutron::Subnet, properties: {network: elsewhere, cidr: 10.79.0.0/24}}
  by_port:
    type: OS::Nova::Server
    properties: {image: img, flavor: m1.tiny, networks: [{port: PORT}]}
  by_net:
    type: OS::Nova::Server
    properties: {image: img, flavor: m1.tiny, networks: [{network: {get_resource: net}}]}
"""


def test_a_server_on_a_port_alone_waits_for_every_subnet(cloud: Cloud) -> None:
    """Heat's Server.add_dependencies: a networks entry naming no network (a port only) may
    be on any subnet of the stack, so the server waits for all of them and is deleted before
    them (a subnet deleted beside it found its address: SubnetInUse); a server on a network
    waits for that network's subnets only."""
    conn = cloud.sdk()
    # A real image: the preview checks the servers' image as a create does (Heat's).
    image = conn.image.create_image(name=unique("deps-img"), disk_format="raw",
                                    container_format="bare", data=b"\0" * 1024)  # fmt: skip
    template = PORT_ONLY.replace("image: img", f"image: {image.id}")
    body = {"stack_name": unique("deps"), "template": template}
    resp = conn.orchestration.post("/stacks/preview", json=body)
    assert resp.status_code == 200, resp.text
    required_by = {
        r["resource_name"]: set(r["required_by"]) for r in resp.json()["stack"]["resources"]
    }
    assert required_by["subnet"] == {"by_port", "by_net"}
    assert required_by["other"] == {"by_port"}
    conn.image.delete_image(image)


ASSOC = """
heat_template_version: 2013-05-23
parameters:
  port: {type: string}
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.76.0.0/24}
  a:
    type: OS::Neutron::Port
    properties: {name: NAME-a, network: {get_resource: net}}
    depends_on: subnet
  b:
    type: OS::Neutron::Port
    properties: {name: NAME-b, network: {get_resource: net}}
    depends_on: subnet
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
  assoc:
    type: OS::Neutron::FloatingIPAssociation
    depends_on: [a, b]
    properties: {floatingip_id: {get_resource: fip}, port_id: {get_param: port}}
"""


def test_floating_ip_association_follows_its_port(cloud: Cloud, tmp_path: Path) -> None:
    """heat-tempest-plugin's test_server_signal associates its floating IP this way; an update
    naming another port moves it there (the old association's delete leaves it alone)."""
    name = unique("assoc")
    tf = template_file(tmp_path, "assoc.yaml", ASSOC.replace("NAME", name))
    demo = {"cloud": "onestack-demo"}
    shown = create_wait(cloud, name, tf, "--parameter", f"port={name}-a", **demo)
    assert shown["stack_status"] == "CREATE_COMPLETE", shown
    res = {
        r["resource_name"]: r["physical_resource_id"]
        for r in cloud.openstack("stack", "resource", "list", name, **demo)
    }
    assert cloud.openstack("floating ip", "show", res["fip"], **demo)["port_id"] == res["a"]
    cloud.openstack("stack", "update", "--existing", "--parameter", f"port={name}-b",
                    "--wait", name, json_output=False, **demo)  # fmt: skip
    assert wait_stack(cloud, name, ("UPDATE_COMPLETE",), **demo)
    assert cloud.openstack("floating ip", "show", res["fip"], **demo)["port_id"] == res["b"]
    delete_wait(cloud, name, **demo)
    gone = cloud.openstack("floating ip", "show", res["fip"], check=False, **demo)
    assert gone.returncode != 0


RETAINED = """
heat_template_version: 2018-08-31
resources:
  kept: {type: OS::Neutron::Net, deletion_policy: Retain, properties: {name: NAME-kept}}
  gone: {type: OS::Neutron::Net, deletion_policy: Delete, properties: {name: NAME-gone}}
outputs:
  kept: {value: {get_resource: kept}}
  gone: {value: {get_resource: gone}}
"""


def test_deletion_policy_retain_keeps_the_resource(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("retain")
    tf = template_file(tmp_path, "r.yaml", RETAINED.replace("NAME", name))
    shown = create_wait(cloud, name, tf)
    out = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
    delete_wait(cloud, name)
    try:
        assert cloud.openstack("network", "show", out["kept"])["name"] == f"{name}-kept"
        assert cloud.openstack("network", "show", out["gone"], check=False).returncode != 0
    finally:
        cloud.openstack("network", "delete", out["kept"], json_output=False, check=False)
