"""A crash of the engine leaves no stack IN_PROGRESS (#17): ``kill -9`` of the cloud while a
stack creates (one resource done, two still being made), while another deletes, while a
ResourceGroup grows in a stack update and while a scaling group grows on its policy's signal;
at restart the engine takes them over once their heartbeat is stale: the create resumes to
CREATE_COMPLETE without making again what was done, the delete finishes, the update is
UPDATE_FAILED as Heat leaves it (its resources and nested stacks FAILED, none IN_PROGRESS),
and a later update converges both groups in place."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cloud import Cloud
from tests.support.heat import create_wait, template_file, wait_stack

pytestmark = pytest.mark.cli

SLOW = """
heat_template_version: 2018-08-31
resources:
  quick: {type: OS::Heat::RandomString}
  slow1: {type: OS::Heat::TestResource, properties: {wait_secs: 25}, depends_on: quick}
  slow2: {type: OS::Heat::TestResource, properties: {wait_secs: 25}, depends_on: quick}
"""
SLOW_DELETE = """
heat_template_version: 2018-08-31
resources:
  a: {type: OS::Heat::TestResource, properties: {action_wait_secs: {delete: 10}}}
"""

GROUP = """
heat_template_version: 2018-08-31
parameters:
  count: {type: number, default: 0}
  wait: {type: number, default: 0}
resources:
  group:
    type: OS::Heat::ResourceGroup
    properties:
      count: {get_param: count}
      resource_def: {type: OS::Heat::TestResource, properties: {wait_secs: {get_param: wait}}}
"""
SCALED = """
heat_template_version: 2018-08-31
parameters:
  wait: {type: number, default: 40}
resources:
  asg:
    type: OS::Heat::AutoScalingGroup
    properties:
      min_size: 0
      max_size: 2
      resource: {type: OS::Heat::TestResource, properties: {wait_secs: {get_param: wait}}}
  up:
    type: OS::Heat::ScalingPolicy
    properties:
      auto_scaling_group_id: {get_resource: asg}
      adjustment_type: change_in_capacity
      scaling_adjustment: 1
"""


@pytest.fixture
def own(fresh_cloud: Cloud) -> Iterator[Cloud]:
    fresh_cloud.env["ONESTACK_ORCHESTRATION_HEARTBEAT_INTERVAL"] = "1"
    yield fresh_cloud
    if fresh_cloud.process is not None:
        fresh_cloud.stop()


def test_kill_9_mid_create_and_delete_then_restart(own: Cloud, tmp_path: Path) -> None:
    own.start()
    create_wait(own, "doomed", template_file(tmp_path, "d.yaml", SLOW_DELETE))
    grp, scaled = template_file(tmp_path, "g.yaml", GROUP), template_file(tmp_path, "a.yaml",
                                                                          SCALED)  # fmt: skip
    create_wait(own, "grp", grp)
    create_wait(own, "asg", scaled)
    own.openstack("stack", "update", "-t", grp, "--parameter", "count=2", "--parameter",
                  "wait=40", "grp")  # fmt: skip
    own.openstack("stack", "resource", "signal", "asg", "up", json_output=False)
    _wait_resource(own, "grp", "group", "UPDATE_IN_PROGRESS")
    _wait_resource(own, "asg", "asg", "UPDATE_IN_PROGRESS")
    own.openstack("stack", "create", "-t", template_file(tmp_path, "s.yaml", SLOW), "app")
    own.openstack("stack", "delete", "--yes", "doomed", json_output=False)
    deadline = time.monotonic() + 30
    while True:
        res = {r["resource_name"]: r for r in own.openstack("stack", "resource", "list", "app")}
        if res["slow1"]["resource_status"] == "CREATE_IN_PROGRESS":
            break
        assert time.monotonic() < deadline, res
        time.sleep(0.2)
    quick_id = res["quick"]["physical_resource_id"]
    assert own.openstack("stack", "show", "doomed")["stack_status"] == "DELETE_IN_PROGRESS"
    # The kill must come while slow1 and slow2 still wait: 25 s leaves room for the CLI calls
    # above on a loaded machine (at 10 s the stack was sometimes complete before the kill).
    own.stop(signal.SIGKILL)
    own.start()
    _groups_failed_then_converge(own, grp, scaled)
    shown = wait_stack(own, "app", ("CREATE_COMPLETE", "CREATE_FAILED"), timeout=80)
    assert shown["stack_status"] == "CREATE_COMPLETE", shown
    res = {r["resource_name"]: r for r in own.openstack("stack", "resource", "list", "app")}
    assert res["quick"]["physical_resource_id"] == quick_id  # done before the crash: kept
    assert all(r["resource_status"] == "CREATE_COMPLETE" for r in res.values())
    deadline = time.monotonic() + 40
    while any(s["Stack Name"] == "doomed" for s in own.openstack("stack", "list")):
        assert time.monotonic() < deadline, "the delete was not finished after the restart"
        time.sleep(0.5)
    events = own.openstack("stack", "event", "list", "app")
    assert any("Engine restarted" in e["resource_status_reason"] for e in events), [
        (e["resource_name"], e["resource_status"], e["resource_status_reason"]) for e in events
    ]


def _wait_resource(c: Cloud, stack: str, name: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while (row := c.openstack("stack", "resource", "show", stack, name))["resource_status"] \
            != status:  # fmt: skip
        assert "IN_PROGRESS" in row["resource_status"], row
        assert time.monotonic() < deadline, row
        time.sleep(0.3)
    return row


def _groups_failed_then_converge(own: Cloud, grp: str, scaled: str) -> None:
    shown = wait_stack(own, "grp", ("UPDATE_FAILED", "UPDATE_COMPLETE"), timeout=60)
    assert shown["stack_status"] == "UPDATE_FAILED", shown
    assert shown["stack_status_reason"] == "Engine went down during stack UPDATE"
    group = _wait_resource(own, "grp", "group", "UPDATE_FAILED")
    assert group["resource_status_reason"] == "Engine went down during resource UPDATE"
    # The scaling group grew on a signal, its stack not at work: its row fails with its
    # nested stack, and the group can be changed again.
    asg = _wait_resource(own, "asg", "asg", "UPDATE_FAILED")
    assert asg["resource_status_reason"] == "Engine went down during stack UPDATE", asg
    for row in (group, asg):
        nested = wait_stack(own, row["physical_resource_id"], ("UPDATE_FAILED",), timeout=30)
        assert nested["stack_status_reason"] == "Engine went down during stack UPDATE"
    for stack, tf, params in (("grp", grp, ["count=2"]), ("asg", scaled, [])):
        args = [p for v in [*params, "wait=0"] for p in ("--parameter", v)]
        own.openstack("stack", "update", "-t", tf, *args, stack)
        done = wait_stack(own, stack, ("UPDATE_COMPLETE", "UPDATE_FAILED"))
        assert done["stack_status"] == "UPDATE_COMPLETE", done
    for stack, name, row, size in (("grp", "group", group, 2), ("asg", "asg", asg, 1)):
        now = own.openstack("stack", "resource", "show", stack, name)
        assert now["resource_status"] == "UPDATE_COMPLETE", now
        assert now["physical_resource_id"] == row["physical_resource_id"]  # not replaced
        members = own.openstack("stack", "resource", "list", row["physical_resource_id"])
        assert len(members) == size, members
        assert all(m["resource_status"].endswith("_COMPLETE") for m in members), members
