"""A resource's metadata (#17), as Heat's ``metadata_get`` gives it through ``openstack stack
resource metadata`` and ``resource show``: its template's ``metadata`` section with the
functions resolved (``get_param``, ``get_resource``, ``get_attr``, ``str_replace``); a wait
condition handle's signals kept there by id; an update changing only the metadata writes
it anew (UPDATE_COMPLETE, same id); abandon data carries it; metadata that is not a map is
a 400 naming the resource."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.heat import assert_heat_400, create_wait, template_file, wait_stack

pytestmark = pytest.mark.cli

STACK = """
heat_template_version: 2018-08-31
parameters:
  role: {type: string, default: web}
resources:
  rnd: {type: OS::Heat::RandomString, properties: {length: 8}}
  handle: {type: OS::Heat::WaitConditionHandle}
  thing:
    type: OS::Heat::Value
    metadata:
      role: {get_param: role}
      peer: {get_resource: rnd}
      secret: {get_attr: [rnd, value]}
      label: {str_replace: {template: r-ROLE, params: {ROLE: {get_param: role}}}}
      fixed: [1, {two: 2}]
    properties: {value: 1}
outputs:
  rnd: {value: {get_attr: [rnd, value]}}
"""


def _metadata(cloud: Cloud, stack: str, resource: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(cloud.openstack(
        "stack", "resource", "metadata", stack, resource, json_output=False
    ))  # fmt: skip
    return found


def test_resource_metadata_resolved_signalled_updated_abandoned(
    cloud: Cloud, tmp_path: Path
) -> None:
    name = unique("meta")
    shown = create_wait(cloud, name, template_file(tmp_path, "m.yaml", STACK))
    rnd = {o["output_key"]: o["output_value"] for o in shown["outputs"]}["rnd"]
    rows = {r["resource_name"]: r for r in cloud.openstack("stack", "resource", "list", name)}
    want = {"role": "web", "peer": rows["rnd"]["physical_resource_id"], "secret": rnd,
            "label": "r-web", "fixed": [1, {"two": 2}]}  # fmt: skip
    assert _metadata(cloud, name, "thing") == want
    assert cloud.openstack("stack", "resource", "show", name, "thing")["metadata"] == want
    assert _metadata(cloud, name, "handle") == {}

    # A handle keeps its signals by id (Heat's default id: the signal's number).
    for data in ('{"data": "first"}', '{"id": "b", "status": "FAILURE", "reason": "no"}'):
        cloud.openstack("stack", "resource", "signal", name, "handle", "--data", data,
                        json_output=False)  # fmt: skip
    assert _metadata(cloud, name, "handle") == {
        "1": {"data": "first", "reason": "Signal 1 received", "status": "SUCCESS"},
        "b": {"data": None, "reason": "no", "status": "FAILURE"},
    }

    # Only the metadata changes: the resource is updated (same id) and its metadata resolved
    # again; what does not change is not touched.
    cloud.openstack("stack", "update", "--existing", "--parameter", "role=db", "--wait", name,
                    json_output=False)  # fmt: skip
    wait_stack(cloud, name, ("UPDATE_COMPLETE",))
    after = {r["resource_name"]: r for r in cloud.openstack("stack", "resource", "list", name)}
    assert after["thing"]["resource_status"] == "UPDATE_COMPLETE"
    assert after["thing"]["physical_resource_id"] == rows["thing"]["physical_resource_id"]
    assert after["rnd"]["resource_status"] == "CREATE_COMPLETE"
    assert _metadata(cloud, name, "thing") == {**want, "role": "db", "label": "r-db"}

    data_file = tmp_path / "abandon.json"
    cloud.openstack("stack", "abandon", name, "--output-file", str(data_file), json_output=False)
    abandoned = json.loads(data_file.read_text())["resources"]
    assert abandoned["thing"]["metadata"] == {**want, "role": "db", "label": "r-db"}


def test_metadata_not_a_map_is_400(cloud: Cloud) -> None:
    bad = "heat_template_version: 2018-08-31\nresources:\n  v:\n    type: OS::Heat::None\n" \
          "    metadata: [a, b]\n"  # fmt: skip
    token = cloud.openstack("token", "issue")
    with cloud.http(token["id"]) as client:
        made = client.post(f"/orchestration/v1/{token['project_id']}/stacks",
                           json={"stack_name": unique("meta-bad"), "template": bad})  # fmt: skip
    assert_heat_400(made, "StackValidationFailed",
                    "resources.v: Resource v metadata type must be object")  # fmt: skip
