"""CloudFormation autoscaling (#17): a CFN-format template's AWS::AutoScaling::AutoScalingGroup
of 2 instances (AWS::EC2::Instance servers of the fake compute driver, built from its
AWS::AutoScaling::LaunchConfiguration: image, flavor, user data, the group's tags as the
servers' metadata) grows to 3 when its AWS::AutoScaling::ScalingPolicy's AlarmUrl is POSTed
without a token; a changed launch configuration replaces the members under the group's
AutoScalingRollingUpdate policy; Heat's checks of the group and the policy are 400s."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.heat import create_wait, delete_wait, template_file, wait_stack

pytestmark = pytest.mark.cli

CFN = """
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  ImageId: {Type: String}
  Greeting: {Type: String, Default: hello}
Resources:
  # The members' own network: in the shared cloud a server without one is ambiguous.
  Net: {Type: OS::Neutron::Net}
  Subnet:
    Type: OS::Neutron::Subnet
    Properties: {network: {Ref: Net}, cidr: 10.77.0.0/24}
  LaunchConfig:
    Type: AWS::AutoScaling::LaunchConfiguration
    Properties:
      ImageId: {Ref: ImageId}
      InstanceType: m1.tiny
      UserData: {"Fn::Join": ["", ["#!/bin/sh\\necho ", {Ref: Greeting}]]}
  Group:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties:
      AvailabilityZones: {"Fn::GetAZs": ""}
      LaunchConfigurationName: {Ref: LaunchConfig}
      VPCZoneIdentifier: [{Ref: Subnet}]
      MinSize: "1"
      MaxSize: "3"
      DesiredCapacity: "2"
      Tags: [{Key: role, Value: web}]
    UpdatePolicy:
      AutoScalingRollingUpdate: {MinInstancesInService: "1", MaxBatchSize: "2", PauseTime: PT0S}
  ScaleUp:
    Type: AWS::AutoScaling::ScalingPolicy
    Properties:
      AutoScalingGroupName: {Ref: Group}
      AdjustmentType: ChangeInCapacity
      ScalingAdjustment: "1"
      Cooldown: "0"
Outputs:
  AlarmUrl: {Value: {"Fn::GetAtt": [ScaleUp, AlarmUrl]}}
"""


@pytest.fixture(scope="module")
def image(cloud: Cloud, tmp_path_factory: pytest.TempPathFactory) -> str:
    disk = tmp_path_factory.mktemp("aws-img") / "disk.raw"
    disk.write_bytes(b"\0" * 4096)
    name = unique("aws-img")
    cloud.openstack("image", "create", "--public", "--file", str(disk), "--disk-format", "raw",
                    name)  # fmt: skip
    return name


def _members(cloud: Cloud, group_id: str) -> dict[str, dict[str, Any]]:
    return {r["resource_name"]: r for r in cloud.openstack("stack", "resource", "list", group_id)}


def _size_becomes(cloud: Cloud, name: str, group_id: str, n: int) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + 60
    members: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        members = _members(cloud, group_id)
        group = cloud.openstack("stack", "resource", "show", name, "Group")
        if len(members) == n and group["resource_status"] != "UPDATE_IN_PROGRESS":
            return members
        time.sleep(0.5)
    raise AssertionError(f"group has {len(members)} members, not {n}")


def test_cfn_autoscaling_group_scales_on_its_alarm_url(
    cloud: Cloud, image: str, tmp_path: Path
) -> None:
    name = unique("awsasg")
    tf = template_file(tmp_path, "asg.yaml", CFN)
    shown = create_wait(cloud, name, tf, "--parameter", f"ImageId={image}")
    assert shown["stack_status"] == "CREATE_COMPLETE", shown
    url = {o["output_key"]: o["output_value"] for o in shown["outputs"]}["AlarmUrl"]
    assert "signature=" in url
    group_id = cloud.openstack("stack", "resource", "show", name, "Group")["physical_resource_id"]
    members = _members(cloud, group_id)
    assert len(members) == 2
    assert {m["resource_type"] for m in members.values()} == {"AWS::EC2::Instance"}
    servers = [m["physical_resource_id"] for m in members.values()]
    net = cloud.openstack("stack", "resource", "show", name, "Net")["physical_resource_id"]
    net_name = cloud.openstack("network", "show", net)["name"]
    for server_id in servers:
        server = cloud.openstack("server", "show", server_id)
        assert list(server["addresses"]) == [net_name], server["addresses"]  # VPCZoneIdentifier
        assert "m1.tiny" in str(server["flavor"]), server["flavor"]
        assert server["properties"] == {"role": "web"}, server["properties"]
    # Aodh's webhook: a POST of its JSON body, no token.
    resp = httpx.post(url, json={"alarm_name": "cpu", "current": "alarm"}, timeout=30)
    assert resp.status_code == 200, resp.text
    grown = _size_becomes(cloud, name, group_id, 3)
    kept = [m["physical_resource_id"] for m in grown.values()]
    assert set(servers) < set(kept)
    # A new launch configuration (new user data): the members replaced in batches.
    cloud.openstack("stack", "update", "-t", tf, "--parameter", f"ImageId={image}",
                    "--parameter", "Greeting=bonjour", name, json_output=False)  # fmt: skip
    shown = wait_stack(cloud, name, ("UPDATE_COMPLETE", "UPDATE_FAILED"), timeout=120)
    assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
    after = _members(cloud, group_id)
    assert len(after) == 3
    assert not {m["physical_resource_id"] for m in after.values()} & set(kept)
    delete_wait(cloud, name)
    left = {s["ID"] for s in cloud.openstack("server", "list")}
    assert not left & ({m["physical_resource_id"] for m in after.values()} | set(kept))


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('DesiredCapacity: "2"', 'DesiredCapacity: "5"',
         "DesiredCapacity must be between MinSize and MaxSize"),
        ("LaunchConfigurationName: {Ref: LaunchConfig}", "LaunchConfigurationName: LaunchConfig",
         "LaunchConfigurationName (LaunchConfig) requires a reference to the configuration not "
         "just the name of the resource."),
        ("AdjustmentType: ChangeInCapacity", "AdjustmentType: Grow",
         '"Grow" is not an allowed value ["ChangeInCapacity", "ExactCapacity", '
         '"PercentChangeInCapacity"]'),
        ("PauseTime: PT0S", "PauseTime: 10s",
         "Only ISO 8601 duration format of the form PT#H#M#S is supported."),
    ],
    ids=["capacity", "name-not-ref", "adjustment", "pause"],
)  # fmt: skip
def test_cfn_autoscaling_checks_are_400s(
    cloud: Cloud, image: str, tmp_path: Path, old: str, new: str, expected: str
) -> None:
    tf = template_file(tmp_path, "bad.yaml", CFN.replace(old, new))
    made = cloud.openstack("stack", "create", "-t", tf, "--parameter", f"ImageId={image}",
                           unique("awsbad"), check=False, json_output=False)  # fmt: skip
    assert made.returncode != 0
    assert expected in made.stderr, made.stderr


INSTANCES = """
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  ImageId: {Type: String}
Resources:
  Net: {Type: OS::Neutron::Net}
  Subnet:
    Type: OS::Neutron::Subnet
    Properties: {network: {Ref: Net}, cidr: 10.78.0.0/24}
  Ssh:
    Type: OS::Neutron::SecurityGroup
    Properties: {rules: [{protocol: tcp, port_range_min: 22, port_range_max: 22}]}
  # Ports of the network alone: they wait for its subnet (Heat's implicit dependency), so
  # go before it.
  PortA:
    Type: OS::Neutron::Port
    Properties: {network: {Ref: Net}}
  PortB:
    Type: OS::Neutron::Port
    Properties: {network: {Ref: Net}}
  Vol:
    Type: OS::Cinder::Volume
    Properties: {size: 1}
  OnPorts:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: {Ref: ImageId}
      InstanceType: m1.tiny
      NetworkInterfaces:
        - {NetworkInterfaceId: {Ref: PortB}, DeviceIndex: "1"}
        - {NetworkInterfaceId: {Ref: PortA}, DeviceIndex: "0"}
      Volumes: [{Device: /dev/vdb, VolumeId: {Ref: Vol}}]
  OnSubnet:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: {Ref: ImageId}
      InstanceType: m1.tiny
      SubnetId: {Ref: Subnet}
      SecurityGroupIds: [{Ref: Ssh}]
  # HOT's entry naming only a subnet: a port Heat makes on it, deleted with the server.
  Hot:
    Type: OS::Nova::Server
    Properties:
      image: {Ref: ImageId}
      flavor: m1.tiny
      networks: [{subnet: {Ref: Subnet}}]
"""


def test_ec2_instance_ports_volumes_and_security_group_ids(
    cloud: Cloud, image: str, tmp_path: Path
) -> None:
    """AWS::EC2::Instance's NetworkInterfaces (ports in DeviceIndex order), Volumes (attached
    at their device, detached before the server goes) and SecurityGroupIds (on the port Heat
    makes on SubnetId); a HOT server's subnet-only entry gets a port of that subnet."""
    name = unique("ec2")
    tf = template_file(tmp_path, "ec2.yaml", INSTANCES)
    shown = create_wait(cloud, name, tf, "--parameter", f"ImageId={image}")
    assert shown["stack_status"] == "CREATE_COMPLETE", shown.get("stack_status_reason")

    def pid(resource: str) -> str:
        return str(cloud.openstack("stack", "resource", "show", name, resource)[
            "physical_resource_id"])  # fmt: skip

    on_ports, on_subnet, hot = pid("OnPorts"), pid("OnSubnet"), pid("Hot")
    ports = cloud.openstack("port", "list", "--server", on_ports, "--long")
    assert {p["ID"] for p in ports} == {pid("PortA"), pid("PortB")}, ports
    volume = cloud.openstack("volume", "show", pid("Vol"))
    assert volume["status"] == "in-use", volume["status"]
    assert [(a["server_id"], a["device"]) for a in volume["attachments"]] == [
        (on_ports, "/dev/vdb")
    ]
    subnet = pid("Subnet")
    for server, groups in ((on_subnet, {pid("Ssh")}), (hot, None)):
        (port,) = cloud.openstack("port", "list", "--server", server)
        port = cloud.openstack("port", "show", port["ID"])
        assert [ip["subnet_id"] for ip in port["fixed_ips"]] == [subnet], port["fixed_ips"]
        assert groups is None or set(port["security_group_ids"]) == groups
    # The stack's network goes too: the ports made for the servers were deleted with them.
    delete_wait(cloud, name)
    left = {s["ID"] for s in cloud.openstack("server", "list")}
    assert not left & {on_ports, on_subnet, hot}
