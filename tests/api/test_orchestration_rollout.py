"""Rolling a change out through a stack update (#17): an ``OS::Heat::UpdateWaitConditionHandle``
is made anew on every update (a new id and token, its signals cleared), so the wait
condition on it waits again until the new handle is signalled; the old token is refused."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.heat import delete_wait, template_file, wait_stack

pytestmark = pytest.mark.cli

ROLLOUT = """
heat_template_version: 2018-08-31
parameters:
  v: {type: string, default: one}
resources:
  handle: {type: OS::Heat::UpdateWaitConditionHandle}
  wait:
    type: OS::Heat::WaitCondition
    properties: {handle: {get_resource: handle}, timeout: 60}
  val: {type: OS::Heat::Value, properties: {value: {get_param: v}}}
outputs:
  data: {value: {get_attr: [wait, data]}}
"""


def _outputs(shown: dict[str, Any]) -> dict[str, Any]:
    return {o["output_key"]: o["output_value"] for o in shown["outputs"]}


def _handle(cloud: Cloud, name: str, other_than: str = "") -> dict[str, Any]:
    """The handle once made (and, given ``other_than``, once it is another one)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        shown = cloud.openstack("stack", "resource", "show", name, "handle")
        made = shown["resource_status"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
        if made and shown["physical_resource_id"] != other_than:
            return dict(shown)
        time.sleep(0.3)
    raise AssertionError(f"no new handle in {name}")


def _signal(endpoint: str, token: str, data: str) -> int:
    resp = httpx.post(endpoint, headers={"X-Auth-Token": token},
                      json={"status": "SUCCESS", "data": data}, timeout=30)  # fmt: skip
    return resp.status_code


def test_update_wait_condition_handle_waits_again_on_update(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("rollout")
    tf = template_file(tmp_path, "rollout.yaml", ROLLOUT)
    cloud.openstack("stack", "create", "-t", tf, name, json_output=False)
    first = _handle(cloud, name)
    attrs = first["attributes"]
    assert _signal(attrs["endpoint"], attrs["token"], "v1") == 200
    shown = wait_stack(cloud, name, ("CREATE_COMPLETE", "CREATE_FAILED"))
    assert shown["stack_status"] == "CREATE_COMPLETE", shown
    assert json.loads(_outputs(shown)["data"]) == {"1": "v1"}
    # An update that changes nothing of the handle still makes a new one (Heat's).
    cloud.openstack("stack", "update", "--existing", "--parameter", "v=two", name,
                    json_output=False)  # fmt: skip
    second = _handle(cloud, name, other_than=first["physical_resource_id"])
    fresh = second["attributes"]
    assert fresh["token"] != attrs["token"]
    assert cloud.openstack("stack", "resource", "metadata", name, "handle") == {}
    time.sleep(1)  # the wait condition is waiting on the new handle, not done
    assert cloud.openstack("stack", "show", name)["stack_status"] == "UPDATE_IN_PROGRESS"
    assert _signal(attrs["endpoint"], attrs["token"], "stale") == 401  # the old token
    assert _signal(fresh["endpoint"], fresh["token"], "v2") == 200
    shown = wait_stack(cloud, name, ("UPDATE_COMPLETE", "UPDATE_FAILED"))
    assert shown["stack_status"] == "UPDATE_COMPLETE", shown
    assert json.loads(_outputs(shown)["data"]) == {"1": "v2"}  # only the new handle's
    delete_wait(cloud, name)


GROUP = """
heat_template_version: 2018-08-31
parameters:
  release: {type: string, default: r1}
resources:
  group:
    type: OS::Heat::ResourceGroup
%POLICY%    properties:
      count: 2
      resource_def:
        type: OS::Heat::Value
        properties: {value: member-%index%}
        metadata: {release: {get_param: release}, index: "%index%"}
"""


ROLLING = "    update_policy: {rolling_update: {max_batch_size: 1}}\n"


@pytest.mark.parametrize("policy", ["", ROLLING], ids=["resize", "rolling"])
def test_group_member_metadata_change_reaches_the_members(
    cloud: Cloud, tmp_path: Path, policy: str
) -> None:
    """Heat's ResourceGroup handle_update rebuilds the nested template from the new
    resource_def (in batches under a rolling_update policy): a change only to the members'
    ``metadata`` updates each member in place (same id, UPDATE_COMPLETE) with the new
    metadata."""
    name = unique("grpmeta")
    tf = template_file(tmp_path, "group.yaml", GROUP.replace("%POLICY%", policy))
    shown = wait_stack(cloud, _create(cloud, name, tf), ("CREATE_COMPLETE", "CREATE_FAILED"))
    assert shown["stack_status"] == "CREATE_COMPLETE", shown
    group = cloud.openstack("stack", "resource", "show", name, "group")["physical_resource_id"]
    before = {r["resource_name"]: r for r in cloud.openstack("stack", "resource", "list", group)}
    meta = cloud.openstack("stack", "resource", "metadata", group, "1")
    assert meta == {"release": "r1", "index": "1"}
    cloud.openstack("stack", "update", "--existing", "--parameter", "release=r2", "--wait",
                    name, json_output=False)  # fmt: skip
    after = {r["resource_name"]: r for r in cloud.openstack("stack", "resource", "list", group)}
    for member in ("0", "1"):
        assert after[member]["physical_resource_id"] == before[member]["physical_resource_id"]
        assert after[member]["resource_status"] == "UPDATE_COMPLETE", after[member]
        shown = cloud.openstack("stack", "resource", "metadata", group, member)
        assert shown == {"release": "r2", "index": member}
    delete_wait(cloud, name)


def _create(cloud: Cloud, name: str, tf: str) -> str:
    cloud.openstack("stack", "create", "-t", tf, name, json_output=False)
    return name
