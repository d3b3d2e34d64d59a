"""HOT ``conditions`` (#17) through ``openstack stack``: a condition on a parameter keeps or
drops resources and outputs, ``if`` picks a property's value, and an update that flips the
condition adds and removes those resources while the others are updated in place; the
template's ``parameter_groups`` as ``template validate`` shows them; a value outside
``allowed_values`` refused in Heat's words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.heat import create_wait, delete_wait, template_file

pytestmark = pytest.mark.cli

COND = """
heat_template_version: 2018-08-31
parameters:
  env: {type: string, default: dev, constraints: [{allowed_values: [dev, prod]}]}
parameter_groups:
  - {label: where, description: the environment, parameters: [env]}
conditions:
  is_prod: {equals: [{get_param: env}, prod]}
  is_dev: {not: is_prod}
resources:
  always:
    type: OS::Heat::Value
    properties: {value: {if: [is_prod, big, small]}}
  prod_only:
    type: OS::Heat::RandomString
    condition: is_prod
    properties: {length: 8}
  dev_only:
    type: OS::Heat::Value
    condition: is_dev
    properties: {value: dev}
outputs:
  size: {value: {get_attr: [always, value]}}
  secret: {value: {get_attr: [prod_only, value]}, condition: is_prod}
"""


def _state(cloud: Cloud, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    listed = cloud.openstack("stack", "resource", "list", name)
    shown = cloud.openstack("stack", "show", name)
    return ({r["resource_name"]: r for r in listed},
            {o["output_key"]: o["output_value"] for o in shown["outputs"]})  # fmt: skip


def test_conditions_keep_or_drop_resources_and_outputs(cloud: Cloud, tmp_path: Path) -> None:
    tf = template_file(tmp_path, "c.yaml", COND)
    checked = cloud.openstack("orchestration", "template", "validate", "-t", tf)
    assert checked["ParameterGroups"] == [
        {"label": "where", "description": "the environment", "parameters": ["env"]}
    ], checked
    assert checked["Parameters"]["env"]["AllowedValues"] == ["dev", "prod"], checked
    name = unique("cond")
    create_wait(cloud, name, tf)
    resources, outputs = _state(cloud, name)
    assert set(resources) == {"always", "dev_only"}, resources
    # Heat's outputs: one whose condition is false has no value (None).
    assert outputs == {"size": "small", "secret": None}, outputs
    always = resources["always"]["physical_resource_id"]

    cloud.openstack("stack", "update", "--existing", "--parameter", "env=prod", "--wait", name,
                    json_output=False)  # fmt: skip
    resources, outputs = _state(cloud, name)
    assert set(resources) == {"always", "prod_only"}, resources
    assert resources["always"]["physical_resource_id"] == always  # updated in place
    assert resources["always"]["resource_status"] == "UPDATE_COMPLETE", resources
    assert outputs["size"] == "big" and len(outputs["secret"]) == 8, outputs
    events = cloud.openstack("stack", "event", "list", name)
    assert ("dev_only", "DELETE_COMPLETE") in {(e["resource_name"], e["resource_status"])
                                              for e in events}  # fmt: skip

    cloud.openstack("stack", "update", "--existing", "--parameter", "env=dev", "--wait", name,
                    json_output=False)  # fmt: skip
    resources, outputs = _state(cloud, name)
    assert set(resources) == {"always", "dev_only"}, resources
    assert outputs == {"size": "small", "secret": None}, outputs
    bad = cloud.openstack("stack", "update", "--existing", "--parameter", "env=test", name,
                          json_output=False, check=False)  # fmt: skip
    # Heat's AllowedValues words, each value as JSON.
    assert bad.returncode != 0
    assert (
        """Parameter 'env' is invalid: "test" is not an allowed value ["dev", "prod"]"""
        in bad.stderr
    ), bad.stderr
    delete_wait(cloud, name)
