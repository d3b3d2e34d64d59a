"""Where heat-tempest-plugin's functional tests found the cloud unlike Heat (#17), checked
through the real clients: template validate's Environment and given Values, a template
without a description, a stack's own events listed under its name."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.heat import create_wait, delete_wait, template_file

pytestmark = pytest.mark.cli

PARENT = """
heat_template_version: 2014-10-16
description: the parent template
parameters:
  pparam: {type: number, default: 5}
resources:
  nres:
    type: mynested.yaml
    properties: {aparam: {get_param: pparam}}
"""
NESTED = """
heat_template_version: 2014-10-16
parameters:
  aparam: {type: number, default: 10}
resources:
  myres:
    type: OS::Heat::RandomString
    properties: {length: {get_param: aparam}}
"""
PLAIN = """
heat_template_version: 2014-10-16
resources:
  r: {type: OS::Heat::RandomString}
"""


def test_validate_shows_environment_and_values(cloud: Cloud, tmp_path: Path) -> None:
    template_file(tmp_path, "mynested.yaml", NESTED)
    parent = template_file(tmp_path, "parent.yaml", PARENT)
    env = template_file(tmp_path, "env.yaml", "parameters: {pparam: 7}\n")
    shown = cloud.openstack("orchestration", "template", "validate", "-t", parent, "-e", env)
    assert shown["Description"] == "the parent template"
    assert shown["Parameters"]["pparam"]["Value"] == 7
    assert shown["Parameters"]["pparam"]["Default"] == 5
    environment = shown["Environment"]
    assert environment["parameters"] == {"pparam": 7}
    assert environment["parameter_defaults"] == {}
    assert environment["event_sinks"] == []
    assert environment["resource_registry"]["resources"] == {}
    # heatclient sends the nested template's URL as its type; Heat registers it to itself.
    assert any(k.endswith("mynested.yaml") for k in environment["resource_registry"])
    # parameter_defaults stand for the template's default (no value given).
    env = template_file(tmp_path, "defaults.yaml", "parameter_defaults: {pparam: 9}\n")
    shown = cloud.openstack("orchestration", "template", "validate", "-t", parent, "-e", env)
    assert shown["Parameters"]["pparam"]["Default"] == 9
    assert "Value" not in shown["Parameters"]["pparam"]
    bare = cloud.openstack(
        "orchestration", "template", "validate", "-t", template_file(tmp_path, "p.yaml", PLAIN)
    )
    assert bare["Description"] == "No description"
    assert "Value" not in str(bare["Parameters"])


def test_no_description_and_stack_events_by_its_name(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("nodesc")
    shown = create_wait(cloud, name, template_file(tmp_path, "p.yaml", PLAIN))
    try:
        assert shown["description"] == "No description"
        own = cloud.openstack("stack", "event", "list", name, "--resource", name)
        assert own and {e["resource_name"] for e in own} == {name}
        assert {e["resource_status"] for e in own} >= {"CREATE_IN_PROGRESS", "CREATE_COMPLETE"}
        missing = cloud.openstack(
            "stack", "event", "list", name, "--resource", "nothing", check=False, json_output=False
        )
        assert missing.returncode != 0
    finally:
        delete_wait(cloud, name)


REMOTE = """
heat_template_version: 2013-05-23
resources:
  my_stack:
    type: OS::Heat::Stack
    properties:
      context: {region_name: REGION}
      template: {get_file: remote.yaml}
"""


def test_heat_stack_region_checked(cloud: Cloud, tmp_path: Path) -> None:
    template_file(tmp_path, "remote.yaml", PLAIN)
    bad = template_file(tmp_path, "bad.yaml", REMOTE.replace("REGION", "DARKHOLE"))
    made = cloud.openstack("stack", "create", "-t", bad, unique("region"), check=False,
                           json_output=False)  # fmt: skip
    assert made.returncode != 0
    assert 'Heat endpoint at region "DARKHOLE"' in made.stderr
    assert "orchestration service in DARKHOLE region not found" in made.stderr
    template_file(tmp_path, "remote.yaml", PLAIN.replace("resources", "resource"))
    good = template_file(tmp_path, "good.yaml", REMOTE.replace("REGION", "RegionOne"))
    made = cloud.openstack("stack", "create", "-t", good, unique("region"), check=False,
                           json_output=False)  # fmt: skip
    assert made.returncode != 0
    assert (
        'Failed validating stack template using Heat endpoint at region "RegionOne" due to '
        '"ERROR: The template section is invalid: resource"'
    ) in made.stderr


SUBNET = """
heat_template_version: 2015-04-30
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties:
      network: {get_resource: net}
      cidr: 11.11.11.0/24
      GATEWAY
      POOLS
outputs:
  id: {value: {get_resource: subnet}}
  gateway_ip: {value: {get_attr: [subnet, gateway_ip]}}
  alloc_pools: {value: {get_attr: [subnet, allocation_pools]}}
"""


def _subnet(gateway: str, pools: str) -> str:
    return SUBNET.replace("GATEWAY", gateway).replace("POOLS", pools)


def test_subnet_gateway_and_pools_cleared_in_place(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("subnetupd")
    first = _subnet("gateway_ip: 11.11.11.5",
                    "allocation_pools: [{start: 11.11.11.10, end: 11.11.11.250}]")  # fmt: skip
    shown = create_wait(cloud, name, template_file(tmp_path, "a.yaml", first))
    try:
        out = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
        assert out["gateway_ip"] == "11.11.11.5"
        for i, second in enumerate([_subnet("gateway_ip: null", ""), _subnet("", "")]):
            if i:  # back to a gateway, then the property dropped from the template
                cloud.openstack("stack", "update", "--wait", "-t",
                                template_file(tmp_path, "c.yaml", first), name,
                                json_output=False)  # fmt: skip
            cloud.openstack("stack", "update", "--wait", "-t",
                            template_file(tmp_path, f"b{i}.yaml", second), name,
                            json_output=False)  # fmt: skip
            shown = cloud.openstack("stack", "show", name)
            assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
            after = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
            assert after["id"] == out["id"]  # updated, not replaced
            assert after["gateway_ip"] is None
            assert after["alloc_pools"] == []
    finally:
        delete_wait(cloud, name)


PORT = """
heat_template_version: 2015-04-30
parameters:
  mac: {type: string}
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 11.11.12.0/24}
  port:
    type: OS::Neutron::Port
    properties:
      network: {get_resource: net}
      fixed_ips: [{subnet: {get_resource: subnet}, ip_address: 11.11.12.11}]
      mac_address: {get_param: mac}
outputs:
  id: {value: {get_resource: port}}
  mac: {value: {get_attr: [port, mac_address]}}
"""


def test_port_mac_address_updated_in_place(cloud: Cloud, tmp_path: Path) -> None:
    """As the admin (Neutron's policy: only an admin changes a port's MAC)."""
    name = unique("portmac")
    tf = template_file(tmp_path, "port.yaml", PORT)
    shown = create_wait(cloud, name, tf, "--parameter", "mac=00:00:00:00:bb:bb")
    try:
        before = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
        assert before["mac"] == "00:00:00:00:bb:bb"
        cloud.openstack("stack", "update", "--wait", "-t", tf, "--parameter",
                        "mac=00:00:00:00:aa:aa", name, json_output=False)  # fmt: skip
        shown = cloud.openstack("stack", "show", name)
        assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
        after = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
        assert after == {"id": before["id"], "mac": "00:00:00:00:aa:aa"}
    finally:
        delete_wait(cloud, name)


DEEPER = NESTED.replace("OS::Heat::RandomString", "mynested2.yaml")


def test_validate_show_nested_gives_nested_parameters(cloud: Cloud, tmp_path: Path) -> None:
    """``template validate --show-nested``: each nested template's parameters under its
    resource's name (Heat's NestedParameters), with the values the resource's properties
    give them, recursively; a template resource's other properties are not an error in a
    validate (Heat checks only the nested templates then)."""
    template_file(tmp_path, "mynested.yaml", DEEPER)
    template_file(tmp_path, "mynested2.yaml", NESTED)
    parent = template_file(tmp_path, "parent.yaml", PARENT)
    shown = cloud.openstack("orchestration", "template", "validate", "--show-nested", "-t", parent)
    nres = shown["NestedParameters"]["nres"]
    assert nres["Type"].endswith("mynested.yaml")
    assert nres["Description"] == "No description"
    assert nres["Parameters"]["aparam"] == {
        "Default": 10, "Value": 5, "Description": "", "Label": "aparam", "NoEcho": "false",
        "Type": "Number",
    }  # fmt: skip
    myres = nres["NestedParameters"]["myres"]
    assert myres["Type"].endswith("mynested2.yaml")
    assert "Value" not in myres["Parameters"]["aparam"]  # `length` is no parameter of it
    assert "NestedParameters" not in myres
    plain = cloud.openstack("orchestration", "template", "validate", "-t", parent)
    assert "NestedParameters" not in plain
