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
