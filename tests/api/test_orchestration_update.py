"""``openstack stack update --wait`` (#17): an unchanged resource keeps its id and gets no
event, a changed property that allows updates is changed in place (a Value, a network's
name: same id), one that does not replaces the resource (a RandomString's length: a new
id), a new resource is made, a removed one deleted; ``--existing`` keeps the template and
changes one parameter; an update of another project's stack is a 404."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import Caller, alt_project, unique
from tests.support.heat import base_path, create_wait, delete_wait, template_file, wait_stack

pytestmark = pytest.mark.cli

other = alt_project()

V1 = """
heat_template_version: 2018-08-31
parameters:
  v: {type: string, default: one}
  netname: {type: string}
resources:
  keep: {type: OS::Heat::RandomString}
  val: {type: OS::Heat::Value, properties: {value: {get_param: v}}}
  net: {type: OS::Neutron::Net, properties: {name: {get_param: netname}}}
  gone: {type: OS::Heat::TestResource}
  rnd: {type: OS::Heat::RandomString, properties: {length: 8}}
outputs:
  val: {value: {get_attr: [val, value]}}
  rnd: {value: {get_attr: [rnd, value]}}
"""
V2 = """
heat_template_version: 2018-08-31
parameters:
  v: {type: string, default: one}
  netname: {type: string}
resources:
  keep: {type: OS::Heat::RandomString}
  val: {type: OS::Heat::Value, properties: {value: {get_param: v}}}
  net: {type: OS::Neutron::Net, properties: {name: {list_join: ['-', [{get_param: netname}, b]]}}}
  added: {type: OS::Heat::Value, properties: {value: {get_attr: [val, value]}}}
  rnd: {type: OS::Heat::RandomString, properties: {length: 10}}
outputs:
  val: {value: {get_attr: [val, value]}}
  added: {value: {get_attr: [added, value]}}
  rnd: {value: {get_attr: [rnd, value]}}
"""


def resources(cloud: Cloud, name: str) -> dict[str, dict[str, str]]:
    return {r["resource_name"]: r for r in cloud.openstack("stack", "resource", "list", name)}


def outputs(cloud: Cloud, name: str) -> dict[str, object]:
    shown = cloud.openstack("stack", "show", name)
    return {o["output_key"]: o["output_value"] for o in shown["outputs"]}


def test_update_touches_only_what_changed(cloud: Cloud, tmp_path: Path, other: Caller) -> None:
    name, netname = unique("upd"), unique("upd-net")
    create_wait(cloud, name, template_file(tmp_path, "v1.yaml", V1), "--parameter",
                f"netname={netname}")  # fmt: skip
    before = resources(cloud, name)
    cloud.openstack(
        "stack", "update", "-t", template_file(tmp_path, "v2.yaml", V2),
        "--parameter", "v=two", "--parameter", f"netname={netname}", "--wait", name,
        json_output=False,
    )  # fmt: skip
    shown = cloud.openstack("stack", "show", name)
    assert shown["stack_status"] == "UPDATE_COMPLETE", shown
    after = resources(cloud, name)
    assert set(after) == {"keep", "val", "net", "added", "rnd"}
    assert after["keep"] == before["keep"]  # untouched: same id, same status
    assert after["keep"]["resource_status"] == "CREATE_COMPLETE"
    assert after["val"]["physical_resource_id"] == before["val"]["physical_resource_id"]
    assert after["net"]["physical_resource_id"] == before["net"]["physical_resource_id"]
    assert after["rnd"]["physical_resource_id"] != before["rnd"]["physical_resource_id"]
    assert after["added"]["resource_status"] == "CREATE_COMPLETE"
    out = outputs(cloud, name)
    assert out["val"] == out["added"] == "two" and len(str(out["rnd"])) == 10
    net = cloud.openstack("network", "show", before["net"]["physical_resource_id"])
    assert net["name"] == f"{netname}-b"
    events = cloud.openstack("stack", "event", "list", name)
    keep_events = [e for e in events if e["resource_name"] == "keep"]
    assert [e["resource_status"] for e in keep_events] == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    assert ("gone", "DELETE_COMPLETE") in {(e["resource_name"], e["resource_status"])
                                          for e in events}  # fmt: skip
    # --existing: the current template, one parameter changed.
    cloud.openstack("stack", "update", "--existing", "--parameter", "v=three", "--wait", name,
                    json_output=False)  # fmt: skip
    assert outputs(cloud, name)["added"] == "three"
    assert resources(cloud, name)["keep"] == before["keep"]
    # Another project cannot update it.
    stack_id = shown["id"]
    resp = other.client.patch(
        f"{base_path(other.project_id)}/stacks/{name}/{stack_id}", json={"parameters": {"v": "x"}}
    )
    assert resp.status_code == 404, resp.text
    delete_wait(cloud, name)
    assert cloud.openstack("network", "show", net["id"], check=False).returncode != 0


R1 = """
heat_template_version: 2018-08-31
resources:
  val: {type: OS::Heat::Value, properties: {value: one}}
  t: {type: OS::Heat::TestResource, properties: {value: a}}
outputs:
  val: {value: {get_attr: [val, value]}}
  t: {value: {get_attr: [t, output]}}
"""
R2 = """
heat_template_version: 2018-08-31
resources:
  val: {type: OS::Heat::Value, properties: {value: two}}
  t: {type: OS::Heat::TestResource, properties: {value: b, fail: true}, depends_on: [added]}
  added: {type: OS::Heat::RandomString}
outputs:
  val: {value: {get_attr: [val, value]}}
  t: {value: {get_attr: [t, output]}}
"""


def test_failed_update_rolls_back(cloud: Cloud, tmp_path: Path) -> None:
    """``stack update --rollback enabled`` with a failing resource: UPDATE_FAILED, then
    ROLLBACK_COMPLETE with the previous values and without the resource the update added."""
    name = unique("rbu")
    create_wait(cloud, name, template_file(tmp_path, "r1.yaml", R1))
    result = cloud.openstack(
        "stack", "update", "-t", template_file(tmp_path, "r2.yaml", R2), "--rollback",
        "enabled", "--wait", name, check=False, json_output=False,
    )  # fmt: skip
    assert result.returncode != 0
    shown = wait_stack(cloud, name, ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"))
    assert shown["stack_status"] == "ROLLBACK_COMPLETE", shown
    assert outputs(cloud, name) == {"val": "one", "t": "a"}
    assert set(resources(cloud, name)) == {"val", "t"}
    template = cloud.openstack("stack", "template", "show", name)
    assert template["resources"]["val"]["properties"]["value"] == "one"
    statuses = [e["resource_status"] for e in cloud.openstack("stack", "event", "list", name)
                if e["resource_name"] == name]  # fmt: skip
    assert statuses[-3:] == ["UPDATE_FAILED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"]
    delete_wait(cloud, name)


P1 = """
heat_template_version: 2018-08-31
parameters:
  batch: {type: number, default: 1}
resources:
  keep: {type: OS::Heat::RandomString}
  group:
    type: OS::Heat::ResourceGroup
    update_policy:
      rolling_update: {max_batch_size: {get_param: batch}}
    properties:
      count: 2
      resource_def: {type: OS::Heat::RandomString}
"""


def test_update_policy_change_alone_updates_the_resource(cloud: Cloud, tmp_path: Path) -> None:
    """Heat compares a resource's whole definition: an update whose only change is the
    group's update_policy (here through a parameter) updates the group (UPDATE_COMPLETE,
    same id, same members); the same policy again leaves it untouched."""
    name = unique("updpol")
    tf = template_file(tmp_path, "p1.yaml", P1)
    create_wait(cloud, name, tf)
    before = resources(cloud, name)
    group_id = before["group"]["physical_resource_id"]
    members = cloud.openstack("stack", "resource", "list", group_id)

    def group_events() -> list[str]:
        return [e["resource_status"] for e in cloud.openstack("stack", "event", "list", name)
                if e["resource_name"] == "group"]  # fmt: skip

    cloud.openstack("stack", "update", "-t", tf, "--parameter", "batch=2", "--wait", name,
                    json_output=False)  # fmt: skip
    after = resources(cloud, name)
    assert after["group"]["resource_status"] == "UPDATE_COMPLETE", after["group"]
    assert after["group"]["physical_resource_id"] == group_id
    assert after["keep"] == before["keep"]
    assert cloud.openstack("stack", "resource", "list", group_id) == members
    assert group_events()[-2:] == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]
    count = len(group_events())
    cloud.openstack("stack", "update", "-t", tf, "--parameter", "batch=2", "--wait", name,
                    json_output=False)  # fmt: skip
    assert len(group_events()) == count  # the same policy: no update
    delete_wait(cloud, name)


SLOW = """
heat_template_version: 2018-08-31
parameters:
  wait: {type: number, default: 0}
  value: {type: string, default: one}
resources:
  slow:
    type: OS::Heat::TestResource
    properties: {value: {get_param: value}, action_wait_secs: {update: {get_param: wait}}}
outputs:
  value: {value: {get_attr: [slow, output]}}
"""


def _stack_events(cloud: Cloud, name: str) -> list[tuple[str, str]]:
    return [(e["resource_status"], e["resource_status_reason"])
            for e in cloud.openstack("stack", "event", "list", name)
            if e["resource_name"] == name]  # fmt: skip


def test_update_past_timeout_fails_and_rolls_back(cloud: Cloud, tmp_path: Path) -> None:
    """A stack's ``timeout_mins`` bounds its update as it does its create (Heat's): an update
    whose resource waits longer goes UPDATE_FAILED "Timed out" after the minute, the
    resource cut short UPDATE_FAILED too; with rollback enabled the stack then rolls back to
    the previous values (ROLLBACK_COMPLETE). The two stacks run side by side."""
    tf = template_file(tmp_path, "slow.yaml", SLOW)
    kept, back = unique("tmo-kept"), unique("tmo-back")
    for name in (kept, back):
        create_wait(cloud, name, tf, "--timeout", "1")
    started = time.monotonic()
    for name, rollback in ((kept, "disabled"), (back, "enabled")):
        cloud.openstack("stack", "update", "--existing", "--parameter", "wait=150",
                        "--parameter", "value=two", "--rollback", rollback, name,
                        json_output=False)  # fmt: skip
    shown = wait_stack(cloud, kept, ("UPDATE_FAILED", "UPDATE_COMPLETE"), timeout=120)
    assert 55 < time.monotonic() - started < 120
    assert shown["stack_status"] == "UPDATE_FAILED", shown
    assert shown["stack_status_reason"] == "Timed out", shown
    slow = cloud.openstack("stack", "resource", "show", kept, "slow")
    assert slow["resource_status"] == "UPDATE_FAILED"
    assert slow["resource_status_reason"] == "Timed out"
    shown = wait_stack(cloud, back, ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_COMPLETE"),
                       timeout=60)  # fmt: skip
    assert shown["stack_status"] == "ROLLBACK_COMPLETE", shown
    assert outputs(cloud, back) == {"value": "one"}
    assert _stack_events(cloud, back)[-3:] == [
        ("UPDATE_FAILED", "Timed out"), ("ROLLBACK_IN_PROGRESS", "Timed out"),
        ("ROLLBACK_COMPLETE", "Stack ROLLBACK completed successfully"),
    ]  # fmt: skip
    for name in (kept, back):
        delete_wait(cloud, name)
