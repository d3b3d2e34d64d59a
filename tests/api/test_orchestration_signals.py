"""Signals (#17): a wait condition completes when its handle is signalled with the curl line
``get_attr [handle, curl_cli]`` gives (its token opens that one signal and nothing else),
fails on a FAILURE signal, and times out into CREATE_FAILED; ``openstack stack resource
signal``; an autoscaling group of servers (fake compute driver) grows when its scale-up
policy's pre-signed ``alarm_url`` is POSTed without a token, stops at max_size, and shrinks
through the scale-down policy; a wrong signature is refused."""

from __future__ import annotations

import json
import shlex
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import Caller, alt_project, unique
from tests.support.heat import create_wait, delete_wait, template_file, wait_stack

pytestmark = pytest.mark.cli

other = alt_project()

WAIT = """
heat_template_version: 2018-08-31
parameters:
  timeout: {type: number, default: 60}
  count: {type: number, default: 2}
resources:
  handle: {type: OS::Heat::WaitConditionHandle}
  wait:
    type: OS::Heat::WaitCondition
    properties:
      handle: {get_resource: handle}
      count: {get_param: count}
      timeout: {get_param: timeout}
  after: {type: OS::Heat::Value, properties: {value: {get_attr: [wait, data]}}}
outputs:
  curl: {value: {get_attr: [handle, curl_cli]}}
  data: {value: {get_attr: [wait, data]}}
"""


def outputs(shown: dict[str, Any]) -> dict[str, Any]:
    return {o["output_key"]: o["output_value"] for o in shown["outputs"]}


def handle_attributes(cloud: Cloud, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        shown = cloud.openstack("stack", "resource", "show", name, "handle")
        if shown["resource_status"] == "CREATE_COMPLETE":
            return dict(shown["attributes"])
        time.sleep(0.3)
    raise AssertionError("the handle was not made")


def create(cloud: Cloud, name: str, tf: str, *params: str) -> None:
    args = [a for p in params for a in ("--parameter", p)]
    cloud.openstack("stack", "create", "-t", tf, *args, name, json_output=False)


def test_wait_condition_signalled_with_curl_cli(
    cloud: Cloud, tmp_path: Path, other: Caller
) -> None:
    name = unique("wait")
    tf = template_file(tmp_path, "wait.yaml", WAIT)
    create(cloud, name, tf)
    attrs = handle_attributes(cloud, name)
    token, endpoint = attrs["token"], attrs["endpoint"]
    assert endpoint.endswith("/resources/handle/signal") and token in attrs["curl_cli"]
    # The handle's token is no Keystone token: it opens nothing but this signal.
    with httpx.Client(timeout=30) as h:
        stack_url = endpoint.rsplit("/resources/", 1)[0]
        assert h.get(stack_url, headers={"X-Auth-Token": token}).status_code == 401
        beside = endpoint.replace("/resources/handle/", "/resources/wait/")
        assert h.post(beside, headers={"X-Auth-Token": token}, json={}).status_code == 401
        bad = h.post(endpoint, headers={"X-Auth-Token": token + "x"}, json={})
        assert bad.status_code == 401
        wrong = h.post(endpoint, headers={"X-Auth-Token": token}, json={"status": "MAYBE"})
        assert wrong.status_code == 400
    # Another project's token: its own project in the URL is 404, the stack's is 403.
    stack_id = endpoint.split("/resources/")[0].rsplit("/", 1)[1]
    theirs = f"/orchestration/v1/{other.project_id}/stacks/{name}/{stack_id}/resources/handle"
    assert other.client.post(theirs + "/signal", json={}).status_code == 404
    path = endpoint.split("/orchestration/", 1)[1]
    assert other.client.post(f"/orchestration/{path}", json={}).status_code == 403
    # The guest's way: the curl line, with Heat's body.
    argv = [*shlex.split(attrs["curl_cli"]), "-sS", "--data-binary",
            json.dumps({"status": "SUCCESS", "id": "web", "data": "ready"})]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0 and " 200" in done.stdout.splitlines()[0], done.stdout
    time.sleep(1)
    assert cloud.openstack("stack", "show", name)["stack_status"] == "CREATE_IN_PROGRESS"
    # The second of count=2 through the client, as the stack's owner.
    cloud.openstack("stack", "resource", "signal", name, "handle", "--data",
                    json.dumps({"status": "SUCCESS", "data": "db"}), json_output=False)  # fmt: skip
    shown = wait_stack(cloud, name, ("CREATE_COMPLETE", "CREATE_FAILED"))
    assert shown["stack_status"] == "CREATE_COMPLETE", shown
    assert json.loads(outputs(shown)["data"]) == {"web": "ready", "2": "db"}
    events = cloud.openstack("stack", "event", "list", name)
    assert [e for e in events if e["resource_name"] == "handle"
            and e["resource_status"] == "SIGNAL_COMPLETE"]  # fmt: skip
    delete_wait(cloud, name)


def test_wait_condition_failure_and_timeout(cloud: Cloud, tmp_path: Path) -> None:
    tf = template_file(tmp_path, "wait.yaml", WAIT)
    timed = unique("waitto")
    create(cloud, timed, tf, "timeout=2", "count=1")
    failed = unique("waitfail")
    create(cloud, failed, tf, "count=1")
    attrs = handle_attributes(cloud, failed)
    resp = httpx.post(attrs["endpoint"], headers={"X-Auth-Token": attrs["token"]},
                      json={"status": "FAILURE", "reason": "the app broke"},
                      timeout=30)  # fmt: skip
    assert resp.status_code == 200, resp.text
    shown = wait_stack(cloud, failed, ("CREATE_COMPLETE", "CREATE_FAILED"))
    assert shown["stack_status"] == "CREATE_FAILED"
    assert "WaitConditionFailure: resources.wait: the app broke" in shown["stack_status_reason"]
    shown = wait_stack(cloud, timed, ("CREATE_COMPLETE", "CREATE_FAILED"))
    assert shown["stack_status"] == "CREATE_FAILED"
    assert "WaitConditionTimeout: resources.wait: 0 of 1 received" in (shown["stack_status_reason"])
    after = cloud.openstack("stack", "resource", "show", timed, "after")
    assert after["resource_status"] == "INIT_COMPLETE"  # never made
    for name in (timed, failed):
        delete_wait(cloud, name)


SCALING = """
heat_template_version: 2018-08-31
parameters:
  image: {type: string}
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.79.0.0/24}
  asg:
    type: OS::Heat::AutoScalingGroup
    depends_on: subnet
    properties:
      min_size: 1
      max_size: 3
      resource:
        type: OS::Nova::Server
        properties:
          image: {get_param: image}
          flavor: m1.tiny
          networks: [{network: {get_resource: net}}]
  up:
    type: OS::Heat::ScalingPolicy
    properties:
      auto_scaling_group_id: {get_resource: asg}
      adjustment_type: change_in_capacity
      scaling_adjustment: 1
  down:
    type: OS::Heat::ScalingPolicy
    properties:
      auto_scaling_group_id: {get_resource: asg}
      adjustment_type: percent_change_in_capacity
      scaling_adjustment: -50
outputs:
  up_url: {value: {get_attr: [up, alarm_url]}}
  down_url: {value: {get_attr: [down, alarm_url]}}
  signal_url: {value: {get_attr: [up, signal_url]}}
  size: {value: {get_attr: [asg, current_size]}}
  refs: {value: {get_attr: [asg, refs]}}
"""


@pytest.fixture(scope="module")
def image(cloud: Cloud, tmp_path_factory: pytest.TempPathFactory) -> str:
    disk = tmp_path_factory.mktemp("asg-img") / "disk.raw"
    disk.write_bytes(b"\0" * 4096)
    name = unique("asg-img")
    cloud.openstack("image", "create", "--public", "--file", str(disk), "--disk-format", "raw",
                    name)  # fmt: skip
    return name


def test_autoscaling_group_follows_its_webhooks(cloud: Cloud, image: str, tmp_path: Path) -> None:
    name = unique("asg")
    tf = template_file(tmp_path, "asg.yaml", SCALING)
    shown = create_wait(cloud, name, tf, "--parameter", f"image={image}")
    assert shown["stack_status"] == "CREATE_COMPLETE", shown
    out = outputs(shown)
    assert out["size"] == 1 and "signature=" in out["up_url"]
    assert "signature=" not in out["signal_url"]

    def size_becomes(n: int) -> list[str]:
        deadline = time.monotonic() + 60
        now: dict[str, Any] = {}
        while time.monotonic() < deadline:
            now = outputs(cloud.openstack("stack", "show", name))
            group = cloud.openstack("stack", "resource", "show", name, "asg")
            # A member counts once its server exists (its ref is its id, None until then).
            done = group["resource_status"] != "UPDATE_IN_PROGRESS" and None not in now["refs"]
            if now["size"] == n and done:
                return list(now["refs"])
            time.sleep(0.5)
        raise AssertionError(f"group size {now.get('size')}, not {n}")

    def alarm(url: str) -> None:
        # Aodh's webhook: a POST of its JSON body, no token.
        resp = httpx.post(url, json={"alarm_name": "cpu", "current": "alarm"}, timeout=30)
        assert resp.status_code == 200, resp.text

    alarm(out["up_url"])
    refs = size_becomes(2)
    assert refs[0] == out["refs"][0]
    servers = {s["ID"] for s in cloud.openstack("server", "list")}
    assert set(refs) <= servers
    alarm(out["up_url"])
    refs = size_becomes(3)
    alarm(out["up_url"])  # at max_size: stays
    time.sleep(1.5)
    assert size_becomes(3) == refs
    forged = out["up_url"].split("signature=")[0] + "signature=nope"
    assert httpx.post(forged, json={}, timeout=30).status_code == 401
    alarm(out["down_url"])  # -50% of 3: one fewer, the oldest first
    assert size_becomes(2) == refs[1:]
    cloud.openstack("stack", "resource", "signal", name, "down", json_output=False)
    assert size_becomes(1) == refs[2:]
    gone = set(refs[:2])
    assert not gone & {s["ID"] for s in cloud.openstack("server", "list")}
    events = cloud.openstack("stack", "event", "list", name)
    assert [e for e in events if e["resource_name"] == "up"
            and e["resource_status"] == "SIGNAL_COMPLETE"]  # fmt: skip
    delete_wait(cloud, name)
    assert not set(refs) & {s["ID"] for s in cloud.openstack("server", "list")}


ALARMED = """
heat_template_version: 2018-08-31
parameters:
  threshold: {type: number, default: 80}
  metric: {type: string}
resources:
  asg:
    type: OS::Heat::AutoScalingGroup
    properties:
      min_size: 1
      max_size: 2
      resource: {type: OS::Heat::TestResource, properties: {value: member}}
  up:
    type: OS::Heat::ScalingPolicy
    properties:
      auto_scaling_group_id: {get_resource: asg}
      adjustment_type: exact_capacity
      scaling_adjustment: 2
      cooldown: 60
  cpu_high:
    type: OS::Aodh::GnocchiAggregationByResourcesAlarm
    properties:
      metric: cpu
      aggregation_method: rate:mean
      granularity: 60
      resource_type: instance
      query: '{"=": {"server_group": "app"}}'
      threshold: {get_param: threshold}
      comparison_operator: gt
      alarm_actions: [{get_attr: [up, alarm_url]}]
  legacy:
    type: OS::Aodh::Alarm
    properties:
      meter_name: cpu_util
      statistic: avg
      period: 60
      threshold: 50
      comparison_operator: gt
      matching_metadata: {metadata.user_metadata.stack: {get_param: "OS::stack_id"}}
      alarm_actions: [{get_attr: [up, alarm_url]}]
  by_metrics:
    type: OS::Aodh::GnocchiAggregationByMetricsAlarm
    properties:
      enabled: false
      metrics: [{get_param: metric}]
      aggregation_method: mean
      granularity: 60
      evaluation_periods: 1
      threshold: 10
      comparison_operator: ge
      alarm_actions:
        - str_replace:
            template: trust+url
            params: {url: {get_attr: [up, signal_url]}}
outputs:
  size: {value: {get_attr: [asg, current_size]}}
  url: {value: {get_attr: [up, alarm_url]}}
"""


def test_aodh_alarms_call_the_policy_webhook(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("alarmed")
    tf = template_file(tmp_path, "alarmed.yaml", ALARMED)
    metric = cloud.openstack("metric", "create", "-a", "high", name)["id"]
    shown = create_wait(cloud, name, tf, "--parameter", f"metric={metric}")
    assert shown["stack_status"] == "CREATE_COMPLETE", shown
    out = outputs(shown)
    res = {r["resource_name"]: r for r in cloud.openstack("stack", "resource", "list", name)}
    alarm_id = res["cpu_high"]["physical_resource_id"]
    alarm = cloud.openstack("alarm", "show", alarm_id)
    assert alarm["type"] == "gnocchi_aggregation_by_resources_threshold", alarm
    assert alarm["alarm_actions"] in ([out["url"]], str([out["url"]]), out["url"])
    assert float(alarm["threshold"]) == 80 and alarm["metric"] == "cpu"
    legacy = cloud.openstack("alarm", "show", res["legacy"]["physical_resource_id"])
    assert legacy["metric"] == "cpu_util" and legacy["aggregation_method"] == "mean"
    assert shown["id"] in legacy["query"]
    # heat-tempest-plugin's test_aodh_alarm: a metrics alarm whose action is the policy's
    # signal_url through a trust.
    metrics = cloud.openstack("alarm", "show", res["by_metrics"]["physical_resource_id"])
    assert metrics["type"] == "gnocchi_aggregation_by_metrics_threshold", metrics
    assert metric in str(metrics["metrics"])
    assert metrics["aggregation_method"] == "mean" and float(metrics["threshold"]) == 10
    assert "trust+http" in str(metrics["alarm_actions"]), metrics
    # What Aodh's notifier does when the alarm fires: POST its body to the action.
    resp = httpx.post(out["url"], json={"alarm_id": alarm_id, "current": "alarm"}, timeout=30)
    assert resp.status_code == 200, resp.text
    deadline = time.monotonic() + 60
    while outputs(cloud.openstack("stack", "show", name))["size"] != 2:
        assert time.monotonic() < deadline, "the group did not grow"
        time.sleep(0.5)
    # Within the policy's cooldown a second alarm changes nothing (and says so).
    httpx.post(out["url"], json={}, timeout=30).raise_for_status()
    events = cloud.openstack("stack", "event", "list", name)
    assert any("cooldown" in e["resource_status_reason"] for e in events
               if e["resource_name"] == "up")  # fmt: skip
    cloud.openstack("stack", "update", "--existing", "--parameter", "threshold=90", "--wait",
                    name, json_output=False)  # fmt: skip
    again = cloud.openstack("alarm", "show", alarm_id)
    assert float(again["threshold"]) == 90  # changed in place: same alarm
    delete_wait(cloud, name)
    assert cloud.openstack("alarm", "show", alarm_id, check=False).returncode != 0
    cloud.openstack("metric", "delete", metric, json_output=False)


SLOW_GROUP = """
heat_template_version: 2018-08-31
resources:
  asg:
    type: OS::Heat::AutoScalingGroup
    properties:
      min_size: 1
      max_size: 2
      resource: {type: OS::Heat::TestResource, properties: {wait_secs: 6}}
  up:
    type: OS::Heat::ScalingPolicy
    properties:
      auto_scaling_group_id: {get_resource: asg}
      adjustment_type: change_in_capacity
      scaling_adjustment: 1
outputs:
  url: {value: {get_attr: [up, alarm_url]}}
  size: {value: {get_attr: [asg, current_size]}}
"""


@pytest.fixture
def own(fresh_cloud: Cloud) -> Iterator[Cloud]:
    fresh_cloud.env["ONESTACK_ORCHESTRATION_HEARTBEAT_INTERVAL"] = "1"
    yield fresh_cloud
    if fresh_cloud.process is not None:
        fresh_cloud.stop()


def test_a_slow_resize_keeps_its_heartbeat(own: Cloud, tmp_path: Path) -> None:
    """The group's nested stack updates for 6 s after the signal, beyond three heartbeats
    of 1 s, outside any stack task: the engine still beats for it (taken over, it was
    failed as 'Engine went down')."""
    own.start()
    shown = create_wait(own, "slowasg", template_file(tmp_path, "g.yaml", SLOW_GROUP))
    assert shown["stack_status"] == "CREATE_COMPLETE", shown
    httpx.post(outputs(shown)["url"], json={}, timeout=30).raise_for_status()
    deadline = time.monotonic() + 40
    while True:
        group = own.openstack("stack", "resource", "show", "slowasg", "asg")
        if group["resource_status"] != "UPDATE_IN_PROGRESS" and time.monotonic() > deadline - 37:
            break
        assert time.monotonic() < deadline, group
        time.sleep(0.5)
    assert group["resource_status"] == "UPDATE_COMPLETE", group
    assert outputs(own.openstack("stack", "show", "slowasg"))["size"] == 2
    nested = own.openstack("stack", "show", group["physical_resource_id"])
    assert nested["stack_status"] == "UPDATE_COMPLETE", nested
    events = own.openstack("stack", "event", "list", nested["id"])
    taken = [e for e in events if "Engine" in e["resource_status_reason"]]
    assert taken == [], taken


HOOKED = """
heat_template_version: 2018-08-31
resources:
  a: {type: OS::Heat::RandomString}
  b: {type: OS::Heat::RandomString, depends_on: a}
  c: {type: OS::Heat::RandomString, depends_on: b}
"""
HOOKS_ENV = "resource_registry:\n  resources:\n    b: {hooks: [pre-create, pre-update]}\n"


def test_hooks_stop_a_resource_until_cleared(cloud: Cloud, tmp_path: Path) -> None:
    """Heat's breakpoints: the environment's hooks stop ``b`` before its create (INIT) and
    before an update (even one changing nothing) with an event saying so; ``openstack
    stack hook poll`` lists it, ``stack hook clear`` lets it go on; a hook type Heat does not
    know is a 400."""
    name = unique("hooks")
    template = template_file(tmp_path, "t.yaml", HOOKED)
    env = template_file(tmp_path, "env.yaml", HOOKS_ENV)
    cloud.openstack("stack", "create", "-t", template, "-e", env, name, json_output=False)

    def paused(action: str) -> str:
        wanted = f"{action} paused until Hook pre-{action.lower()} is cleared"
        deadline = time.monotonic() + 30
        while True:
            events = cloud.openstack("stack", "event", "list", name, "--resource", "b")
            if [e for e in events if e["resource_status_reason"] == wanted]:
                return str(cloud.openstack("stack", "resource", "show", name, "b")[
                    "resource_status"])  # fmt: skip
            assert time.monotonic() < deadline, events
            time.sleep(0.5)

    try:
        assert paused("CREATE") == "INIT_COMPLETE"
        polled = cloud.openstack("stack", "hook", "poll", name)
        assert [p["Resource Name"] for p in polled] == ["b"], polled
        assert cloud.openstack("stack", "show", name)["stack_status"] == "CREATE_IN_PROGRESS"
        assert cloud.openstack("stack", "resource", "show", name, "c")["resource_status"] == (
            "INIT_COMPLETE"
        )
        wrong = cloud.openstack(
            "stack",
            "resource",
            "signal",
            name,
            "b",
            "--data",
            '{"unset_hook": "pre-nothing"}',
            check=False,
            json_output=False,
        )
        assert wrong.returncode != 0 and "Invalid hook type" in wrong.stderr, wrong.stderr
        cloud.openstack("stack", "hook", "clear", "--pre-create", name, "b", json_output=False)
        wait_stack(cloud, name, ("CREATE_COMPLETE",), 30)
        before = cloud.openstack("stack", "resource", "show", name, "b")["physical_resource_id"]
        cloud.openstack("stack", "update", "--existing", name, json_output=False)
        assert paused("UPDATE") == "CREATE_COMPLETE"
        cloud.openstack("stack", "hook", "clear", "--pre-update", name, "b", json_output=False)
        wait_stack(cloud, name, ("UPDATE_COMPLETE",), 30)
        reasons = [e["resource_status_reason"] for e in
                   cloud.openstack("stack", "event", "list", name, "--resource", "b")]  # fmt: skip
        assert "Hook pre-create is cleared" in reasons and "Hook pre-update is cleared" in reasons
        after = cloud.openstack("stack", "resource", "show", name, "b")["physical_resource_id"]
        assert after == before
    finally:
        delete_wait(cloud, name)


def test_a_hook_in_a_nested_stack(cloud: Cloud, tmp_path: Path) -> None:
    """A hook set under the name of the resource making a nested stack stops that stack's
    resource; the resource links its nested stack from the start (its id is the nested
    stack's while it is being made), through which the hook is cleared."""
    name = unique("nhooks")
    template_file(tmp_path, "nested.yaml", HOOKED)
    parent = template_file(tmp_path, "p.yaml", HOOKED.split("resources:")[0]
                           + "resources:\n  inner: {type: nested.yaml}\n")  # fmt: skip
    env = template_file(tmp_path, "env.yaml", "resource_registry:\n  resources:\n    inner:\n"
                        "      b: {hooks: pre-create}\n")  # fmt: skip
    cloud.openstack("stack", "create", "-t", parent, "-e", env, name, json_output=False)
    try:
        deadline = time.monotonic() + 30
        while not (inner := cloud.openstack("stack", "resource", "show", name, "inner"))[
            "physical_resource_id"
        ]:
            assert time.monotonic() < deadline, inner
            time.sleep(0.5)
        assert inner["resource_status"] == "CREATE_IN_PROGRESS"
        child = inner["physical_resource_id"]
        wanted = "CREATE paused until Hook pre-create is cleared"
        while wanted not in [e["resource_status_reason"] for e in cloud.openstack(
                "stack", "event", "list", child, "--resource", "b")]:  # fmt: skip
            assert time.monotonic() < deadline, "no pause in the nested stack"
            time.sleep(0.5)
        cloud.openstack("stack", "hook", "clear", "--pre-create", child, "b", json_output=False)
        assert (
            wait_stack(cloud, name, ("CREATE_COMPLETE", "CREATE_FAILED"), 30)["stack_status"]
            == "CREATE_COMPLETE"
        )
    finally:
        delete_wait(cloud, name)
