"""Stack actions (#17) through ``openstack stack``: suspend and resume (the stack, each
resource and the server with the fake compute driver follow), a resume of a stack that is not
suspended fails as Heat's does (RESUME_FAILED naming the resource's state), ``stack cancel``
during a slow update rolls back to the old value, ``stack cancel --no-rollback`` stops a slow
create (CREATE_FAILED), a cancel asked of another API process reaches the engine that runs
the update (at its next heartbeat), a cancel when nothing is in progress is Heat's 400 and a
body with no known action is a 400."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.cloud import Cloud, base_env, free_port, wait_serving
from tests.support.fixtures import http_client, unique
from tests.support.heat import base_path, create_wait, delete_wait, template_file, wait_stack
from tests.support.keystone import password_body, token_info

pytestmark = pytest.mark.cli

demo = http_client("onestack-demo")
DEMO = "onestack-demo"

SERVER = """
heat_template_version: 2018-08-31
parameters:
  image: {type: string}
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.79.0.0/24}
  vm:
    type: OS::Nova::Server
    depends_on: subnet
    properties:
      image: {get_param: image}
      flavor: m1.tiny
      networks: [{network: {get_resource: net}}]
  val: {type: OS::Heat::TestResource, properties: {value: v}}
"""

SLOW = """
heat_template_version: 2018-08-31
parameters:
  v: {type: string}
  wait: {type: number, default: 0}
resources:
  t:
    type: OS::Heat::TestResource
    properties: {value: {get_param: v}, action_wait_secs: {update: {get_param: wait}}}
outputs:
  v: {value: {get_attr: [t, output]}}
"""


@pytest.fixture(scope="module")
def image(cloud: Cloud, tmp_path_factory: pytest.TempPathFactory) -> str:
    disk = tmp_path_factory.mktemp("heat-img") / "disk.raw"
    disk.write_bytes(b"\0" * 4096)
    name = unique("heat-img")
    cloud.openstack("image", "create", "--public", "--file", str(disk), "--disk-format", "raw",
                    name)  # fmt: skip
    return name


def statuses(cloud: Cloud, name: str) -> dict[str, str]:
    return {
        r["resource_name"]: r["resource_status"]
        for r in cloud.openstack("stack", "resource", "list", name, cloud=DEMO)
    }


def test_suspend_and_resume(cloud: Cloud, image: str, tmp_path: Path) -> None:
    name = unique("sus")
    tf = template_file(tmp_path, "s.yaml", SERVER)
    shown = create_wait(cloud, name, tf, "--parameter", f"image={image}", cloud=DEMO)
    assert shown["stack_status"] == "CREATE_COMPLETE", shown
    vm = cloud.openstack("stack", "resource", "show", name, "vm", cloud=DEMO)
    server = vm["physical_resource_id"]

    cloud.openstack("stack", "suspend", "--wait", name, cloud=DEMO, json_output=False)
    shown = cloud.openstack("stack", "show", name, cloud=DEMO)
    assert shown["stack_status"] == "SUSPEND_COMPLETE", shown
    assert set(statuses(cloud, name).values()) == {"SUSPEND_COMPLETE"}
    assert cloud.openstack("server", "show", server, cloud=DEMO)["status"] == "SUSPENDED"
    # Suspended: the server went after what it depends on was left alone (reverse order).
    events = cloud.openstack("stack", "event", "list", name, cloud=DEMO)
    order = [e["resource_name"] for e in events if e["resource_status"] == "SUSPEND_COMPLETE"]
    assert order.index("vm") < order.index("subnet") < order.index("net")

    cloud.openstack("stack", "resume", "--wait", name, cloud=DEMO, json_output=False)
    shown = cloud.openstack("stack", "show", name, cloud=DEMO)
    assert shown["stack_status"] == "RESUME_COMPLETE", shown
    assert set(statuses(cloud, name).values()) == {"RESUME_COMPLETE"}
    assert cloud.openstack("server", "show", server, cloud=DEMO)["status"] == "ACTIVE"
    delete_wait(cloud, name, cloud=DEMO)


def test_resume_of_a_stack_not_suspended_fails(
    cloud: Cloud, demo: httpx.Client, tmp_path: Path
) -> None:
    name = unique("res")
    create_wait(cloud, name, template_file(tmp_path, "t.yaml", SLOW), "--parameter", "v=a",
                cloud=DEMO)  # fmt: skip
    project = str(token_info(cloud, str(demo.headers["X-Auth-Token"]))["project"]["id"])
    stack_id = cloud.openstack("stack", "show", name, cloud=DEMO)["id"]
    url = f"{base_path(project)}/stacks/{name}/{stack_id}/actions"
    # Heat checks the resources' state in the engine: the stack fails, nothing is resumed.
    assert demo.post(url, json={"resume": None}).status_code == 200
    shown = wait_stack(cloud, name, ("RESUME_FAILED", "RESUME_COMPLETE"), cloud=DEMO)
    assert shown["stack_status"] == "RESUME_FAILED"
    assert "State ('CREATE', 'COMPLETE') invalid for resume" in shown["stack_status_reason"]
    assert statuses(cloud, name) == {"t": "CREATE_COMPLETE"}

    resp = demo.post(url, json={"cancel_update": None})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["message"] == (
        "Cancelling update when stack is RESUME_FAILED is not supported."
    )
    for body in ({}, {"suspend": None, "resume": None}, {"explode": None}):
        assert demo.post(url, json=body).status_code == 400
    delete_wait(cloud, name, cloud=DEMO)


def test_cancel_during_a_slow_update_rolls_back(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("cancel")
    tf = template_file(tmp_path, "t.yaml", SLOW)
    create_wait(cloud, name, tf, "--parameter", "v=old", cloud=DEMO)
    before = cloud.openstack("stack", "resource", "show", name, "t", cloud=DEMO)
    cloud.openstack("stack", "update", "-t", tf, "--parameter", "v=new", "--parameter",
                    "wait=60", name, cloud=DEMO, json_output=False)  # fmt: skip
    deadline = time.monotonic() + 30
    while statuses(cloud, name)["t"] != "UPDATE_IN_PROGRESS":
        assert time.monotonic() < deadline, "the update never started on t"
        time.sleep(0.3)
    started = time.monotonic()
    cloud.openstack("stack", "cancel", name, cloud=DEMO, json_output=False)
    shown = wait_stack(cloud, name, ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"), cloud=DEMO)
    assert shown["stack_status"] == "ROLLBACK_COMPLETE", shown
    assert time.monotonic() - started < 30  # the 60 s wait was cut short
    out = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
    assert out["v"] == "old"
    events = cloud.openstack("stack", "event", "list", name, cloud=DEMO)
    reasons = [e["resource_status_reason"] for e in events if e["resource_name"] == name]
    assert "Stack UPDATE cancelled" in reasons
    after = cloud.openstack("stack", "resource", "show", name, "t", cloud=DEMO)
    assert after["resource_status"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    assert before["physical_resource_id"]
    delete_wait(cloud, name, cloud=DEMO)


def test_cancel_without_rollback_stops_a_slow_create(cloud: Cloud, tmp_path: Path) -> None:
    text = """
heat_template_version: 2018-08-31
resources:
  t: {type: OS::Heat::TestResource, properties: {action_wait_secs: {create: 60}}}
"""
    name = unique("nocancel")
    cloud.openstack("stack", "create", "-t", template_file(tmp_path, "c.yaml", text), name,
                    cloud=DEMO)  # fmt: skip
    deadline = time.monotonic() + 30
    while statuses(cloud, name).get("t") != "CREATE_IN_PROGRESS":
        assert time.monotonic() < deadline, "the create never started on t"
        time.sleep(0.3)
    cloud.openstack("stack", "cancel", "--no-rollback", name, cloud=DEMO, json_output=False)
    shown = wait_stack(cloud, name, ("CREATE_FAILED",), timeout=20, cloud=DEMO)
    assert shown["stack_status_reason"] == "Stack CREATE cancelled"
    t = cloud.openstack("stack", "resource", "show", name, "t", cloud=DEMO)
    assert t["resource_status"] == "CREATE_FAILED"
    delete_wait(cloud, name, cloud=DEMO)


def test_cancel_reaches_the_engine_in_another_api_process(tmp_path: Path) -> None:
    """Two ``onestack api`` processes: an update runs in the one that took it, the cancel is
    asked of the other; the running engine sees it at its next heartbeat and rolls back."""
    data_dir = tmp_path / "data"
    env = {**base_env(tmp_path, None), "ONESTACK_ORCHESTRATION_HEARTBEAT_INTERVAL": "1"}
    ports = [free_port(), free_port()]
    procs = []
    for i, port in enumerate(ports):
        log = (tmp_path / f"api{i}.log").open("wb")
        argv = [sys.executable, "-m", "onestack", "api", "--data-dir", str(data_dir)]
        procs.append(
            subprocess.Popen([*argv, "--port", str(port)], env=env, stdout=log, stderr=log)
        )
    try:
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        for i, (url, proc) in enumerate(zip(urls, procs, strict=True)):
            wait_serving(url, proc, tmp_path / f"api{i}.log")
        password = json.loads((data_dir / "bootstrap.json").read_text())["admin_password"]
        scope = {"project": {"name": "admin", "domain": {"id": "default"}}}
        body = password_body(password, name="admin", scope=scope)
        # A process just started answers its first requests slowly on a busy host (13 s
        # at load 20): httpx's 5 s default failed the test, not the cloud.
        timeout = httpx.Timeout(60)
        issued = httpx.post(f"{urls[0]}/identity/v3/auth/tokens", json=body, timeout=timeout)
        headers = {"X-Auth-Token": issued.headers["X-Subject-Token"]}
        base = base_path(issued.json()["token"]["project"]["id"])
        first, second = (
            httpx.Client(base_url=u + base, headers=headers, timeout=timeout) for u in urls
        )
        made = first.post("/stacks", json={"stack_name": "xproc", "template": SLOW,
                                           "parameters": {"v": "old"}})  # fmt: skip
        assert made.status_code == 201, made.text
        stack = f"/stacks/xproc/{made.json()['stack']['id']}"

        def state() -> str:
            return str(first.get(stack).json()["stack"]["stack_status"])

        deadline = time.monotonic() + 30
        while state() != "CREATE_COMPLETE":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        upd = first.put(stack, json={"template": SLOW, "parameters": {"v": "new", "wait": 60}})
        assert upd.status_code == 202, upd.text
        deadline = time.monotonic() + 30
        while state() != "UPDATE_IN_PROGRESS":
            assert time.monotonic() < deadline, state()
            time.sleep(0.2)
        assert second.post(stack + "/actions", json={"cancel_update": None}).status_code == 200
        deadline = time.monotonic() + 60
        while state() != "ROLLBACK_COMPLETE":
            assert time.monotonic() < deadline, state()
            time.sleep(0.3)
        out = first.get(stack + "/outputs/v").json()["output"]["output_value"]
        assert out == "old"
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
