"""Nested stacks through ``openstack stack`` (#17): ``OS::Heat::Stack`` and template
resources (an environment's ``resource_registry`` mapping a type to a template the client
sends in ``files``) make stacks of their own, whose outputs are the parent's attributes;
they are hidden from ``stack list`` but for ``--nested``, listed by ``resource list
--nested-depth``, and deleted with the parent. ``OS::Heat::ResourceGroup`` scales by update
and honours removal policies. Bad nested input (a type the nested template does not know, a
template that nests itself, a missing file, a negative count) is a 400 before anything is
made. ``stack failures list`` follows the nested link to the failed resource; a ``kill -9``
mid nested create leaves no orphan nested stack after the restart."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import http_client, unique
from tests.support.heat import base_path, create_wait, delete_wait, template_file, wait_stack
from tests.support.keystone import token_info

pytestmark = pytest.mark.cli

admin = http_client("onestack")

NESTED = """
heat_template_version: 2018-08-31
parameters:
  val: {type: string}
  len: {type: number, default: 6}
resources:
  r: {type: OS::Heat::Value, properties: {value: {get_param: val}}}
  rnd: {type: OS::Heat::RandomString, properties: {length: {get_param: len}}}
outputs:
  out: {value: {get_attr: [r, value]}}
  rnd: {value: {get_attr: [rnd, value]}}
"""
PARENT = """
heat_template_version: 2018-08-31
resources:
  child:
    type: OS::Heat::Stack
    properties:
      template: {get_file: nested.yaml}
      parameters: {val: hello}
  thing: {type: My::Thing, properties: {val: world, len: 9}}
  after: {type: OS::Heat::Value, properties: {value: {get_attr: [thing, out]}}}
outputs:
  a: {value: {get_attr: [child, outputs, out]}}
  b: {value: {get_attr: [thing, out]}}
  c: {value: {get_attr: [after, value]}}
  rnd: {value: {get_attr: [thing, rnd]}}
"""
ENV = "resource_registry:\n  My::Thing: nested.yaml\n"


def outputs(shown: dict[str, Any]) -> dict[str, Any]:
    return {o["output_key"]: o["output_value"] for o in shown["outputs"]}


def test_nested_stack_and_template_resource(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("nest")
    template_file(tmp_path, "nested.yaml", NESTED)
    tf = template_file(tmp_path, "parent.yaml", PARENT)
    ef = template_file(tmp_path, "env.yaml", ENV)
    shown = create_wait(cloud, name, tf, "-e", ef)
    assert shown["stack_status"] == "CREATE_COMPLETE", shown
    out = outputs(shown)
    assert out["a"] == "hello" and out["b"] == out["c"] == "world" and len(out["rnd"]) == 9
    top = {s["Stack Name"] for s in cloud.openstack("stack", "list")}
    assert name in top and not any(n.startswith(f"{name}-") for n in top)
    nested = [s for s in cloud.openstack("stack", "list", "--nested", "--long")
              if s["Stack Name"].startswith(f"{name}-")]  # fmt: skip
    assert sorted(s["Stack Name"].rsplit("-", 1)[0] for s in nested) == [
        f"{name}-child", f"{name}-thing"
    ]  # fmt: skip
    assert {s["Parent"] for s in nested} == {shown["id"]}
    assert all(s["Stack Status"] == "CREATE_COMPLETE" for s in nested)
    res = cloud.openstack("stack", "resource", "list", name)
    by = {r["resource_name"]: r for r in res}
    assert set(by) == {"child", "thing", "after"}
    assert {by["child"]["physical_resource_id"], by["thing"]["physical_resource_id"]} == {
        s["ID"] for s in nested
    }
    deep = cloud.openstack("stack", "resource", "list", "--nested-depth", "2", name)
    inner = [r for r in deep if r["resource_name"] in ("r", "rnd")]
    assert len(inner) == 4 and {r["stack_name"] for r in inner} == {s["Stack Name"] for s in nested}
    events = cloud.openstack("stack", "event", "list", "--nested-depth", "1", name)
    assert any(e["resource_name"] == "rnd" and e["resource_status"] == "CREATE_COMPLETE"
               for e in events), events  # fmt: skip
    one = cloud.openstack("stack", "resource", "show", name, "thing")
    assert any(link["rel"] == "nested" for link in one["links"]), one
    # The nested stack itself can be shown (its parameters are the parent's properties).
    inner_stack = cloud.openstack("stack", "show", by["thing"]["physical_resource_id"])
    assert inner_stack["parameters"]["val"] == "world" and inner_stack["parent"] == shown["id"]
    delete_wait(cloud, name)
    for s in nested:
        gone = cloud.openstack("stack", "show", s["ID"])
        assert gone["stack_status"] == "DELETE_COMPLETE", gone
    assert not [s for s in cloud.openstack("stack", "list", "--nested")
                if s["Stack Name"].startswith(f"{name}-")]  # fmt: skip


GROUP = """
heat_template_version: 2018-08-31
parameters:
  count: {type: number, default: 2}
  removed: {type: comma_delimited_list, default: []}
resources:
  group:
    type: OS::Heat::ResourceGroup
    properties:
      count: {get_param: count}
      removal_policies: [{resource_list: {get_param: removed}}]
      resource_def:
        type: OS::Heat::Value
        properties: {value: item-%index%}
outputs:
  values: {value: {get_attr: [group, value]}}
  refs: {value: {get_attr: [group, refs]}}
  second: {value: {get_attr: [group, resource.1, value]}}
  by_name: {value: {get_attr: [group, attributes, value]}}
"""


def test_resource_group_scales_by_update(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("grp")
    tf = template_file(tmp_path, "group.yaml", GROUP)
    shown = create_wait(cloud, name, tf)
    assert shown["stack_status"] == "CREATE_COMPLETE", shown
    out = outputs(shown)
    assert out["values"] == ["item-0", "item-1"] and out["second"] == "item-1"
    assert out["by_name"] == {"0": "item-0", "1": "item-1"} and len(out["refs"]) == 2
    group_id = cloud.openstack("stack", "resource", "show", name, "group")["physical_resource_id"]
    first_refs = out["refs"]

    def update(*params: str) -> dict[str, Any]:
        args = [a for p in params for a in ("--parameter", p)]
        cloud.openstack("stack", "update", "--existing", *args, "--wait", name,
                        json_output=False)  # fmt: skip
        return dict(cloud.openstack("stack", "show", name))

    grown = update("count=3")
    assert grown["stack_status"] == "UPDATE_COMPLETE", grown
    out = outputs(grown)
    assert out["values"] == ["item-0", "item-1", "item-2"]
    assert out["refs"][:2] == first_refs  # the members already there are untouched
    group = cloud.openstack("stack", "resource", "show", name, "group")
    assert group["physical_resource_id"] == group_id
    # Member "0" removed: the group keeps its size with the next free index.
    out = outputs(update("count=3", "removed=0"))
    assert out["values"] == ["item-1", "item-2", "item-3"], out
    out = outputs(update("count=1"))
    assert out["values"] == ["item-1"], out
    members = cloud.openstack("stack", "resource", "list", "--nested-depth", "1", name)
    assert sorted(r["resource_name"] for r in members) == ["1", "group"]
    delete_wait(cloud, name)
    assert cloud.openstack("stack", "show", group_id)["stack_status"] == "DELETE_COMPLETE"


ROLLING = """
heat_template_version: 2018-08-31
parameters:
  value: {type: string, default: one}
resources:
  group:
    type: OS::Heat::ResourceGroup
    update_policy:
      batch_create: {max_batch_size: 2}
      rolling_update: {max_batch_size: 2, min_in_service: 2, pause_time: 1}
    properties:
      count: 4
      resource_def:
        type: OS::Heat::TestResource
        properties:
          value: {get_param: value}
          action_wait_secs: {create: 0.3, update: 0.3}
  asg:
    type: OS::Heat::AutoScalingGroup
    update_policy:
      rolling_update: {max_batch_size: 1, min_in_service: 2, pause_time: 0.5}
    properties:
      min_size: 3
      max_size: 3
      resource:
        type: OS::Heat::TestResource
        properties:
          value: {get_param: value}
          action_wait_secs: {update: 0.3}
outputs:
  values: {value: {get_attr: [group, output]}}
  asg: {value: {get_attr: [asg, outputs_list, output]}}
"""


def _most_at_once(cloud: Cloud, stack_id: str, action: str) -> tuple[int, dict[str, int]]:
    """The most members of the nested stack that were in ``action`` at the same time (by
    the order of its events), and how many times each member went through it."""
    events = cloud.openstack("stack", "event", "list", stack_id)
    running: set[str] = set()
    most, times = 0, dict[str, int]()
    for e in events:
        member = e["resource_name"]
        if (
            e["resource_status"] == f"{action}_IN_PROGRESS"
            and e["physical_resource_id"] != stack_id
        ):
            running.add(member)
            times[member] = times.get(member, 0) + 1
            most = max(most, len(running))
        elif e["resource_status"] in (f"{action}_COMPLETE", f"{action}_FAILED"):
            running.discard(member)
    return most, times


def test_group_update_policies_batch_members(cloud: Cloud, tmp_path: Path) -> None:
    """batch_create makes a resource group's members at most max_batch_size at a time;
    a rolling_update changes a resource group's and an autoscaling group's members in
    batches, pausing pause_time between them."""
    name = unique("roll")
    shown = create_wait(cloud, name, template_file(tmp_path, "roll.yaml", ROLLING))
    assert outputs(shown)["values"] == ["one"] * 4, shown
    ids = {r["resource_name"]: r["physical_resource_id"]
           for r in cloud.openstack("stack", "resource", "list", name)}  # fmt: skip
    group, asg = ids["group"], ids["asg"]
    most, made = _most_at_once(cloud, group, "CREATE")
    assert most == 2 and sorted(made) == ["0", "1", "2", "3"], (most, made)
    began = time.monotonic()
    cloud.openstack("stack", "update", "--existing", "--parameter", "value=two", name,
                    json_output=False)  # fmt: skip
    shown = wait_stack(cloud, name, ("UPDATE_COMPLETE", "UPDATE_FAILED"))
    elapsed = time.monotonic() - began
    assert shown["stack_status"] == "UPDATE_COMPLETE", shown
    assert outputs(shown)["values"] == ["two"] * 4 and outputs(shown)["asg"] == ["two"] * 3
    # The ASG's three batches of 0.3 s with 0.5 s pauses (the group's two with 1 s run
    # alongside): 1.9 s at least, where all at once takes 0.3 s.
    assert elapsed >= 1.8, elapsed
    most, updated = _most_at_once(cloud, group, "UPDATE")
    assert most == 2 and updated == {"0": 1, "1": 1, "2": 1, "3": 1}, (most, updated)
    most, updated = _most_at_once(cloud, asg, "UPDATE")
    assert most == 1 and len(updated) == 3 and set(updated.values()) == {1}, (most, updated)
    delete_wait(cloud, name)


def _files(**templates: str) -> dict[str, str]:
    return {f"file:///t/{k}.yaml": v for k, v in templates.items()}


LOOP_A = "heat_template_version: 2018-08-31\nresources:\n  b: {type: file:///t/b.yaml}\n"
LOOP_B = "heat_template_version: 2018-08-31\nresources:\n  a: {type: file:///t/a.yaml}\n"
UNKNOWN = "heat_template_version: 2018-08-31\nresources:\n  x: {type: OS::No::Such}\n"
BAD: list[tuple[dict[str, Any], str]] = [
    (
        {"template": "heat_template_version: 2018-08-31\nresources:\n  a: {type: My::T}\n",
         "environment": {"resource_registry": {"My::T": "file:///t/missing.yaml"}}},
        'resources.a: Could not fetch remote template "file:///t/missing.yaml"',
    ),
    (
        {"template": "heat_template_version: 2018-08-31\nresources:\n  a: {type: My::T}\n",
         "environment": {"resource_registry": {"My::T": "file:///t/u.yaml"}},
         "files": _files(u=UNKNOWN)},
        "resources.a: resources.x: The Resource Type (OS::No::Such) could not be found.",
    ),
    (
        {"template": "heat_template_version: 2018-08-31\nresources:\n"
         "  s: {type: OS::Heat::Stack, properties: {template: {get_file: file:///t/u.yaml}}}\n",
         "files": _files(u=UNKNOWN)},
        "resources.s.properties.template: resources.x: The Resource Type (OS::No::Such)",
    ),
    (
        {"template": "heat_template_version: 2018-08-31\nresources:\n"
         "  a: {type: file:///t/a.yaml}\n", "files": _files(a=LOOP_A, b=LOOP_B)},
        "Circular reference to the template file:///t/a.yaml",
    ),
    (
        {"template": "heat_template_version: 2018-08-31\nresources:\n  g:\n"
         "    type: OS::Heat::ResourceGroup\n    properties:\n      count: -1\n"
         "      resource_def: {type: OS::Heat::Value, properties: {value: x}}\n"},
        "resources.g.properties.count: -1 is out of range",
    ),
    (
        {"template": "heat_template_version: 2018-08-31\nresources:\n  g:\n"
         "    type: OS::Heat::ResourceGroup\n    properties:\n"
         "      resource_def: {type: OS::No::Such}\n"},
        "resources.g.properties.resource_def: The Resource Type (OS::No::Such) could not",
    ),
    (
        {"template": "heat_template_version: 2018-08-31\nresources:\n  g:\n"
         "    type: OS::Heat::ResourceGroup\n"
         "    update_policy: {rolling_update: {max_batch_size: 0}}\n"
         "    properties: {resource_def: {type: OS::Heat::Value, properties: {value: x}}}\n"},
        "resources.g.update_policy.rolling_update.max_batch_size: 0 is out of range (min: 1",
    ),
    (
        {"template": "heat_template_version: 2018-08-31\nresources:\n  g:\n"
         "    type: OS::Heat::AutoScalingGroup\n"
         "    update_policy: {batch_create: {max_batch_size: 2}}\n"
         "    properties: {min_size: 1, max_size: 2, resource: {type: OS::Heat::None}}\n"},
        "resources.g.update_policy: Unknown Property batch_create",
    ),
    (
        {"template": "heat_template_version: 2018-08-31\nresources:\n  a: {type: My::T,"
         " properties: {nope: 1}}\n",
         "environment": {"resource_registry": {"My::T": "file:///t/n.yaml"}},
         "files": _files(n=NESTED)},
        "resources.a: Property error: Unknown Property nope",
    ),
    (
        {"template": "heat_template_version: 2018-08-31\nresources:\n  a: {type: My::T}\n",
         "environment": {"resource_registry": {"My::T": "file:///t/n.yaml"}},
         "files": _files(n=NESTED)},
        "resources.a: Property error: Property val not assigned",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("body", "message"), BAD)
def test_bad_nested_input_is_400_before_anything_is_made(
    cloud: Cloud, admin: httpx.Client, body: dict[str, Any], message: str
) -> None:
    project = str(token_info(cloud, str(admin.headers["X-Auth-Token"]))["project"]["id"])
    name = unique("badnest")
    resp = admin.post(f"{base_path(project)}/stacks", json={"stack_name": name, **body})
    assert resp.status_code == 400, resp.text
    assert message in resp.json()["error"]["message"], resp.json()
    listed = admin.get(f"{base_path(project)}/stacks", params={"show_nested": True}).json()
    assert not [s for s in listed["stacks"] if s["stack_name"].startswith(name)]


FAILING = """
heat_template_version: 2018-08-31
resources:
  fine: {type: OS::Heat::Value, properties: {value: ok}}
  broken: {type: OS::Heat::TestResource, properties: {fail: true}, depends_on: fine}
"""


def test_failures_list_names_the_nested_resource(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("nestfail")
    template_file(tmp_path, "failing.yaml", FAILING)
    tf = template_file(tmp_path, "p.yaml", "heat_template_version: 2018-08-31\nresources:\n"
                       "  inner: {type: failing.yaml}\n")  # fmt: skip
    cloud.openstack(
        "stack", "create", "-t", tf, "--wait", "--poll", "1", name, json_output=False, check=False
    )
    shown = cloud.openstack("stack", "show", name)
    assert shown["stack_status"] == "CREATE_FAILED"
    assert "broken" in shown["stack_status_reason"], shown
    listed = cloud.openstack("stack", "failures", "list", name, json_output=False)
    # heatclient follows the "nested" link down to the failed resource of the nested stack.
    assert f"{name}.inner.broken:" in listed and "Test Resource failed broken" in listed, listed
    delete_wait(cloud, name)


SLOW_CHILD = """
heat_template_version: 2018-08-31
resources:
  quick: {type: OS::Heat::RandomString}
  slow: {type: OS::Heat::TestResource, properties: {wait_secs: 25}, depends_on: quick}
"""


@pytest.fixture
def own(fresh_cloud: Cloud) -> Iterator[Cloud]:
    fresh_cloud.env["ONESTACK_ORCHESTRATION_HEARTBEAT_INTERVAL"] = "1"
    yield fresh_cloud
    if fresh_cloud.process is not None:
        fresh_cloud.stop()


def test_kill_9_mid_nested_create_leaves_no_orphan(own: Cloud, tmp_path: Path) -> None:
    own.start()
    template_file(tmp_path, "slow.yaml", SLOW_CHILD)
    tf = template_file(tmp_path, "p.yaml", "heat_template_version: 2018-08-31\nresources:\n"
                       "  inner: {type: slow.yaml}\n")  # fmt: skip
    own.openstack("stack", "create", "-t", tf, "app", json_output=False)

    def nested() -> list[dict[str, Any]]:
        return [s for s in own.openstack("stack", "list", "--nested")
                if s["Stack Name"].startswith("app-inner-")]  # fmt: skip

    deadline = time.monotonic() + 30
    while not (first := nested()):
        assert time.monotonic() < deadline, "no nested stack"
        time.sleep(0.2)
    own.stop(signal.SIGKILL)
    own.start()
    shown = wait_stack(own, "app", ("CREATE_COMPLETE", "CREATE_FAILED"), timeout=90)
    assert shown["stack_status"] == "CREATE_COMPLETE", shown
    live = nested()
    assert len(live) == 1 and live[0]["ID"] != first[0]["ID"], live
    assert live[0]["Stack Status"] == "CREATE_COMPLETE"
    old = own.openstack("stack", "show", first[0]["ID"])
    assert old["stack_status"] == "DELETE_COMPLETE", old  # what the crash cut short: removed
    inner = own.openstack("stack", "resource", "show", "app", "inner")
    assert inner["physical_resource_id"] == live[0]["ID"]
    own.openstack("stack", "delete", "--yes", "--wait", "app", json_output=False)
    assert nested() == []


def test_suspend_and_resume_reach_the_nested_stack(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("nestsus")
    template_file(tmp_path, "nested.yaml", NESTED)
    tf = template_file(tmp_path, "p.yaml", "heat_template_version: 2018-08-31\nresources:\n"
                       "  inner: {type: nested.yaml, properties: {val: v}}\n")  # fmt: skip
    create_wait(cloud, name, tf)
    child = cloud.openstack("stack", "resource", "show", name, "inner")["physical_resource_id"]
    for action, status in (("suspend", "SUSPEND_COMPLETE"), ("resume", "RESUME_COMPLETE")):
        cloud.openstack("stack", action, "--wait", name, json_output=False)
        assert cloud.openstack("stack", "show", name)["stack_status"] == status
        assert cloud.openstack("stack", "show", child)["stack_status"] == status
        inner = cloud.openstack("stack", "resource", "list", child)
        assert {r["resource_status"] for r in inner} == {status}
    delete_wait(cloud, name)


def test_nested_stack_timeout_fails_it(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("nestto")
    template_file(tmp_path, "slow.yaml", SLOW_CHILD)
    tf = template_file(tmp_path, "p.yaml", "heat_template_version: 2018-08-31\nresources:\n"
                       "  inner:\n    type: OS::Heat::Stack\n    properties:\n"
                       "      template: {get_file: slow.yaml}\n      timeout: 0.05\n")  # fmt: skip
    started = time.monotonic()
    cloud.openstack(
        "stack", "create", "-t", tf, "--wait", "--poll", "1", name, json_output=False, check=False
    )
    shown = cloud.openstack("stack", "show", name)
    assert shown["stack_status"] == "CREATE_FAILED", shown
    assert "Create timed out" in shown["stack_status_reason"]
    assert time.monotonic() - started < 20  # 3 s, not the 25 s the slow resource takes
    child = cloud.openstack("stack", "resource", "show", name, "inner")["physical_resource_id"]
    assert cloud.openstack("stack", "show", child)["stack_status"] == "CREATE_FAILED"
    delete_wait(cloud, name)
    assert cloud.openstack("stack", "show", child)["stack_status"] == "DELETE_COMPLETE"


OUTPUT_ERROR_CHILD = """
heat_template_version: 2015-10-15
resources:
  a: {type: OS::Heat::TestResource, properties: {value: a}}
outputs:
  out_a: {value: {get_attr: [a, output]}}
  out_b: {value: {get_param: foo}}
"""
OUTPUT_ERROR_PARENT = """
heat_template_version: 2015-10-15
resources:
  parent: {type: child.yaml}
outputs:
  out_a: {value: {get_attr: [parent, out_a]}, description: parent a}
  out_b: {value: {get_attr: [parent, out_b]}, description: parent b}
"""


def test_a_nested_output_in_error_fails_only_that_output(cloud: Cloud, tmp_path: Path) -> None:
    """Heat's StackOutputsTest.test_output_error_nested: a nested template's output naming a
    parameter it lacks is that output's error (the stack is made, and updated), and the
    parent's output reading it shows Heat's 'Error in parent output ...'."""
    name = unique("outerr")
    template_file(tmp_path, "child.yaml", OUTPUT_ERROR_CHILD)
    tf = template_file(tmp_path, "parent.yaml", OUTPUT_ERROR_PARENT)
    create_wait(cloud, name, tf)
    cloud.openstack("stack", "update", "-t", tf, name, json_output=False)
    shown = wait_stack(cloud, name, ("UPDATE_COMPLETE", "UPDATE_FAILED"), timeout=60)
    assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
    outputs = sorted(shown["outputs"], key=lambda o: o["output_key"])
    assert outputs == [
        {"output_key": "out_a", "output_value": "a", "description": "parent a"},
        {"output_key": "out_b", "output_value": None, "description": "parent b",
         "output_error": "Error in parent output out_b: The Parameter (foo) was not provided."},
    ]  # fmt: skip
    delete_wait(cloud, name)
