"""Software configuration (#17) through ``openstack software config/deployment`` and stacks:
configs made, shown, listed and deleted in Heat's shapes; a deployment made by the client
(its derived config carries the inputs), its server's metadata, deleted with its config; a
stack whose server takes SOFTWARE_CONFIG user data: the guest hook it carries (run here with
busybox as the guest would) fetches the deployment's script, runs it and signals its output,
and the deployment, then the stack, go COMPLETE with deploy_stdout as an output; a non-zero
exit fails the stack naming the code; CloudConfig and MultipartMime build their user data;
an unknown config group is a clear 400; the guest's URLs refuse a wrong signature."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud, base_env, free_port
from tests.support.fixtures import Caller, alt_project, unique
from tests.support.heat import assert_heat_400, base_path, delete_wait, template_file, wait_stack

pytestmark = pytest.mark.cli

DEMO = "onestack-demo"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    """A cloud of this module's own (SQLite: the module is a CLI one). Its stacks' servers name
    no network, so they depend on everything the demo project sees: in CI's full run on the
    shared cloud all three deployment stacks' servers were refused at create (CREATE_FAILED
    at once), which no narrower run reproduced."""
    root = tmp_path_factory.mktemp("sw-cloud")
    home = root / "home"
    home.mkdir()
    c = Cloud(data_dir=root / "data", home=home, port=free_port(), env=base_env(home, None))
    c.start()
    try:
        yield c
    finally:
        c.stop()


other = alt_project()


@pytest.fixture(scope="module")
def image(cloud: Cloud, tmp_path_factory: pytest.TempPathFactory) -> str:
    disk = tmp_path_factory.mktemp("sw-img") / "disk.raw"
    disk.write_bytes(b"\0" * 4096)
    name = unique("sw-img")
    cloud.openstack("image", "create", "--public", "--file", str(disk), "--disk-format", "raw",
                    name)  # fmt: skip
    return name


def test_software_config_create_show_list_delete(
    cloud: Cloud, other: Caller, tmp_path: Path
) -> None:
    script = tmp_path / "hello.sh"
    script.write_text("#!/bin/sh\necho hello $name\n")
    definition = tmp_path / "def.yaml"
    definition.write_text(
        "inputs: [{name: name, default: world}]\noutputs: [{name: result}]\n"
        "options: {verbose: true}\n"
    )
    name = unique("cfg")
    made = cloud.openstack(
        "software", "config", "create", "--config-file", str(script), "--definition-file",
        str(definition), "--group", "script", name, cloud=DEMO,
    )  # fmt: skip
    assert made["name"] == name and made["group"] == "script", made
    assert made["config"] == "#!/bin/sh\necho hello $name\n"
    assert made["inputs"] == [{"name": "name", "default": "world"}]
    assert made["outputs"] == [{"name": "result"}] and made["options"] == {"verbose": True}
    assert made["creation_time"].endswith("Z")
    shown = cloud.openstack("software", "config", "show", made["id"], cloud=DEMO)
    assert shown == made
    listed = cloud.openstack("software", "config", "list", cloud=DEMO)
    assert made["id"] in {c["id"] for c in listed}
    # Another project's config is not there for it.
    assert made["id"] not in {c["id"] for c in cloud.openstack("software", "config", "list")}
    hidden = other.client.get(f"{base_path(other.project_id)}/software_configs/{made['id']}")
    assert hidden.status_code == 404 and hidden.json()["error"]["type"] == "EntityNotFound"
    cloud.openstack("software", "config", "delete", made["id"], cloud=DEMO, json_output=False)
    gone = cloud.openstack("software", "config", "show", made["id"], cloud=DEMO, check=False,
                           json_output=False)  # fmt: skip
    assert gone.returncode != 0 and "Configuration not found" in gone.stderr


def test_unknown_config_group_is_refused(cloud: Cloud, tmp_path: Path) -> None:
    script = tmp_path / "p.pp"
    script.write_text("notify {'hi': }\n")
    bad = cloud.openstack("software", "config", "create", "--config-file", str(script),
                          "--group", "puppet", unique("pp"), cloud=DEMO, check=False,
                          json_output=False)  # fmt: skip
    assert bad.returncode != 0
    assert 'Software config group "puppet" is not supported' in bad.stderr, bad.stderr
    text = """
heat_template_version: 2018-08-31
resources:
  cfg: {type: OS::Heat::SoftwareConfig, properties: {group: salt, config: "x: y"}}
"""
    refused = cloud.openstack("stack", "create", "-t", template_file(tmp_path, "g.yaml", text),
                              unique("grp"), cloud=DEMO, check=False,
                              json_output=False)  # fmt: skip
    assert refused.returncode != 0
    assert "resources.cfg.properties.group" in refused.stderr
    assert 'group "salt" is not supported' in refused.stderr, refused.stderr


def test_bad_config_and_deployment_bodies(other: Caller) -> None:
    """What a config or deployment body must be, each refusal a 400 in Heat's error body."""
    base, http = base_path(other.project_id), other.client
    bad_configs = [
        ({"name": 5}, "name and group must be strings"),
        ({"config": 5}, "config must be a string or a structure"),
        ({"options": "verbose"}, "options must be a map"),
        ({"inputs": {"name": "a"}}, "inputs must be a list of maps"),
        ({"outputs": [{"type": "String"}]}, "Each of outputs must have a name"),
        ({"inputs": [{"name": "a", "colour": "red"}]}, "Unknown key(s) ['colour'] in inputs"),
        (["x"], "The request body must be a JSON object"),
    ]
    for body, message in bad_configs:
        made = http.post(f"{base}/software_configs", json=body)
        assert_heat_400(made, "StackValidationFailed", message)
    config = http.post(f"{base}/software_configs", json={"group": "script", "config": "true"})
    assert config.status_code == 200, config.text
    config_id = config.json()["software_config"]["id"]
    server = "5f0c8a52-0000-4000-8000-00000000bad0"
    bad_deployments = [
        ({"config_id": config_id}, "server_id is required"),
        ({"server_id": server, "config_id": 7}, "config_id is required"),
        ({"server_id": server, "config_id": config_id, "input_values": [1]},
         "input_values must be a map"),
    ]  # fmt: skip
    for body, message in bad_deployments:
        made = http.post(f"{base}/software_deployments", json=body)
        assert_heat_400(made, "StackValidationFailed", message)
    made = http.post(f"{base}/software_deployments",
                     json={"server_id": server, "config_id": config_id, "id": "mine"})  # fmt: skip
    assert made.status_code == 200, made.text
    dep = made.json()["software_deployment"]
    assert dep["id"] != "mine"  # Heat takes no id from the caller
    url = f"{base}/software_deployments/{dep['id']}"
    wrong = http.put(url, json={"output_values": "done"})
    assert_heat_400(wrong, "StackValidationFailed", "output_values must be a map")
    # Heat's update: the members given as null are left as they are.
    kept = http.put(url, json={"status": "IN_PROGRESS", "input_values": None})
    assert kept.status_code == 200, kept.text
    assert kept.json()["software_deployment"]["status"] == "IN_PROGRESS"
    assert http.delete(url).status_code == 204
    assert http.delete(f"{base}/software_configs/{config_id}").status_code == 204


def test_deployment_through_the_client(cloud: Cloud, tmp_path: Path) -> None:
    script = tmp_path / "s.sh"
    script.write_text("#!/bin/sh\necho $foo\n")
    definition = tmp_path / "d.yaml"
    definition.write_text("inputs: [{name: foo, default: x}]\n")
    config = cloud.openstack("software", "config", "create", "--config-file", str(script),
                             "--definition-file", str(definition), "--group", "script",
                             unique("src"), cloud=DEMO)  # fmt: skip
    server = "9a3c8e0e-0c0e-4c57-9f4e-6b0d3c6a7a11"
    dep = cloud.openstack(
        "software", "deployment", "create", "--config", config["id"], "--server", server,
        "--signal-transport", "NO_SIGNAL", "--input-value", "foo=bar", "--input-value",
        "extra=1", "10_deploy", cloud=DEMO,
    )  # fmt: skip
    assert dep["server_id"] == server and dep["status"] == "IN_PROGRESS", dep
    assert dep["action"] == "UPDATE" and dep["config_id"] != config["id"]
    derived = cloud.openstack("software", "config", "show", dep["config_id"], cloud=DEMO)
    values = {i["name"]: i.get("value") for i in derived["inputs"]}
    assert values["foo"] == "bar" and values["extra"] == "1"
    assert values["deploy_server_id"] == server and values["deploy_action"] == "UPDATE"
    assert derived["name"] == "10_deploy" and derived["config"] == "#!/bin/sh\necho $foo\n"
    shown = cloud.openstack("software", "deployment", "show", dep["id"], cloud=DEMO)
    assert shown["id"] == dep["id"] and shown["config_id"] == dep["config_id"]
    listed = cloud.openstack("software", "deployment", "list", "--server", server, cloud=DEMO)
    assert [d["id"] for d in listed] == [dep["id"]]
    meta = cloud.openstack("software", "deployment", "metadata", "show", server, cloud=DEMO,
                           json_output=False)  # fmt: skip
    assert [m["id"] for m in json.loads(meta)] == [dep["config_id"]]
    cloud.openstack("software", "deployment", "delete", dep["id"], cloud=DEMO,
                    json_output=False)  # fmt: skip
    assert cloud.openstack("software", "deployment", "list", cloud=DEMO) == [] or dep["id"] not in {
        d["id"] for d in cloud.openstack("software", "deployment", "list", cloud=DEMO)
    }
    # The client deletes the derived config with the deployment.
    gone = cloud.openstack("software", "config", "show", dep["config_id"], cloud=DEMO,
                           check=False, json_output=False)  # fmt: skip
    assert gone.returncode != 0
    cloud.openstack("software", "config", "delete", config["id"], cloud=DEMO, json_output=False)


STACK = """
heat_template_version: 2018-08-31
parameters:
  image: {type: string}
resources:
  config:
    type: OS::Heat::SoftwareConfig
    properties:
      group: script
      inputs: [{name: greeting}]
      outputs: [{name: result}]
      config: |
        #!/bin/sh
        echo "$greeting from $deploy_resource_name"
        echo warned >&2
        exit ${CODE:-0}
  boot:
    type: OS::Heat::CloudConfig
    properties:
      cloud_config: {package_update: false, runcmd: [[touch, /tmp/booted]]}
  init:
    type: OS::Heat::MultipartMime
    properties:
      parts:
        - config: {get_resource: boot}
        - config: "#!/bin/sh\\necho part two"
          filename: two.sh
          subtype: x-shellscript
  server:
    type: OS::Nova::Server
    properties:
      image: {get_param: image}
      flavor: m1.tiny
      user_data_format: SOFTWARE_CONFIG
  deploy:
    type: OS::Heat::SoftwareDeployment
    properties:
      config: {get_resource: config}
      server: {get_resource: server}
      input_values: {greeting: hello}
outputs:
  stdout: {value: {get_attr: [deploy, deploy_stdout]}}
  stderr: {value: {get_attr: [deploy, deploy_stderr]}}
  code: {value: {get_attr: [deploy, deploy_status_code]}}
  collect: {value: {get_attr: [server, os_collect_config]}}
  cloud_config: {value: {get_attr: [boot, config]}}
  mime: {value: {get_attr: [init, config]}}
"""


def _resources(cloud: Cloud, name: str) -> dict[str, dict[str, Any]]:
    return {
        r["resource_name"]: r for r in cloud.openstack("stack", "resource", "list", name,
                                                       cloud=DEMO)
    }  # fmt: skip


def _wait_deploying(cloud: Cloud, name: str) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        res = _resources(cloud, name)
        if res["deploy"]["resource_status"] == "CREATE_IN_PROGRESS":
            return res
        assert "FAILED" not in res["deploy"]["resource_status"], res
        time.sleep(0.3)
    events = cloud.openstack("stack", "event", "list", name, cloud=DEMO)
    raise AssertionError(f"deploy never started: {res}\nevents: {events}")


@pytest.mark.skipif(shutil.which("busybox") is None, reason="the guest hook runs under busybox")
def test_stack_deployment_signalled_by_the_guest_hook(
    cloud: Cloud, image: str, tmp_path: Path
) -> None:
    name = unique("sw")
    tf = template_file(tmp_path, "sw.yaml", STACK)
    cloud.openstack("stack", "create", "-t", tf, "--parameter", f"image={image}", name,
                    cloud=DEMO)  # fmt: skip
    res = _wait_deploying(cloud, name)
    server_id = res["server"]["physical_resource_id"]
    raw = cloud.openstack(
        "--os-compute-api-version", "2.3", "server", "show", server_id,
        "-c", "OS-EXT-SRV-ATTR:user_data",
    )["OS-EXT-SRV-ATTR:user_data"]  # fmt: skip
    user_data = base64.b64decode(raw).decode()
    assert user_data.startswith("#!/bin/sh\n# OneStack software-config hook")
    hook = tmp_path / "user_data"
    hook.write_text(user_data)
    state = tmp_path / "state"
    # The guest's side, as the test image would run it (busybox sh and wget), one poll.
    env = {"PATH": os.environ["PATH"], "HEAT_HOOK_ONCE": "1", "HEAT_HOOK_STATE": str(state)}
    run = subprocess.run(["busybox", "sh", str(hook)], env=env, capture_output=True, text=True,
                         timeout=60, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    shown = wait_stack(cloud, name, ("CREATE_COMPLETE", "CREATE_FAILED"), cloud=DEMO)
    assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
    out = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
    assert out["stdout"] == "hello from deploy\n" and out["stderr"] == "warned\n", out
    assert out["code"] == 0
    assert out["collect"]["request"]["metadata_url"].startswith(cloud.url)
    assert out["cloud_config"] == "#cloud-config\npackage_update: false\nruncmd:\n- - touch\n" \
        "  - /tmp/booted\n"  # fmt: skip
    assert "Content-Type: multipart/mixed" in out["mime"]
    assert "#cloud-config" in out["mime"] and 'filename="two.sh"' in out["mime"]
    assert "Content-Type: text/x-shellscript" in out["mime"]
    dep_id = _resources(cloud, name)["deploy"]["physical_resource_id"]
    deployment = cloud.openstack("software", "deployment", "show", dep_id, cloud=DEMO)
    assert deployment["status"] == "COMPLETE" and deployment["server_id"] == server_id
    assert deployment["status_reason"] == "Outputs received"
    # A second poll finds nothing left to do.
    again = subprocess.run(["busybox", "sh", str(hook)], env=env, capture_output=True,
                           text=True, timeout=60, check=False)  # fmt: skip
    assert again.returncode == 0 and not (state / "list").read_text().strip()
    delete_wait(cloud, name, cloud=DEMO)
    assert cloud.openstack("software", "deployment", "list", "--server", server_id,
                           cloud=DEMO) == []  # fmt: skip


def test_failed_deployment_fails_the_stack(cloud: Cloud, image: str, tmp_path: Path) -> None:
    name = unique("swfail")
    tf = template_file(tmp_path, "sw.yaml", STACK)
    cloud.openstack("stack", "create", "-t", tf, "--parameter", f"image={image}", name,
                    cloud=DEMO)  # fmt: skip
    res = _wait_deploying(cloud, name)
    server_id = res["server"]["physical_resource_id"]
    meta = json.loads(cloud.openstack("software", "deployment", "metadata", "show", server_id,
                                      cloud=DEMO, json_output=False))  # fmt: skip
    inputs = {i["name"]: i.get("value") for i in meta[0]["inputs"]}
    signal = inputs["deploy_signal_id"]
    assert inputs["deploy_signal_verb"] == "POST" and inputs["greeting"] == "hello"
    forged = httpx.post(signal.replace("sig=", "sig=0"), json={"deploy_status_code": 0}, timeout=30)
    assert forged.status_code == 403, forged.text
    told = httpx.post(signal, json={"deploy_stdout": "", "deploy_stderr": "boom",
                                    "deploy_status_code": 3}, timeout=30)  # fmt: skip
    assert told.status_code == 200, told.text
    shown = wait_stack(cloud, name, ("CREATE_COMPLETE", "CREATE_FAILED"), cloud=DEMO)
    assert shown["stack_status"] == "CREATE_FAILED"
    reason = shown["stack_status_reason"]
    assert "resources.deploy" in reason
    assert "Deployment exited with non-zero status code: 3" in reason, reason
    delete_wait(cloud, name, cloud=DEMO)
    assert cloud.openstack("software", "deployment", "list", "--server", server_id,
                           cloud=DEMO) == []  # fmt: skip


def test_resource_signal_completes_a_deployment(cloud: Cloud, image: str, tmp_path: Path) -> None:
    name = unique("swsig")
    tf = template_file(tmp_path, "sw.yaml", STACK)
    cloud.openstack("stack", "create", "-t", tf, "--parameter", f"image={image}", name,
                    cloud=DEMO)  # fmt: skip
    _wait_deploying(cloud, name)
    data = json.dumps({"deploy_stdout": "via heat", "deploy_status_code": 0})
    cloud.openstack("stack", "resource", "signal", name, "deploy", "--data", data, cloud=DEMO,
                    json_output=False)  # fmt: skip
    shown = wait_stack(cloud, name, ("CREATE_COMPLETE", "CREATE_FAILED"), cloud=DEMO)
    assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
    out = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
    assert out["stdout"] == "via heat" and out["code"] == 0
    again = cloud.openstack("stack", "resource", "signal", name, "deploy", "--data", data,
                            cloud=DEMO, check=False, json_output=False)  # fmt: skip
    assert again.returncode != 0 and "no deployment in progress" in again.stderr, again.stderr
    delete_wait(cloud, name, cloud=DEMO)


GROUPS = """
heat_template_version: 2018-08-31
resources:
  structured:
    type: OS::Heat::StructuredConfig
    properties:
      config: {port: {get_input: port}, name: fixed, items: [{get_input: missing}, 1]}
  sdeploy:
    type: OS::Heat::StructuredDeployment
    properties:
      config: {get_resource: structured}
      server: 5f0c8a52-0000-4000-8000-000000000010
      input_values: {port: 8080}
      signal_transport: NO_SIGNAL
  script:
    type: OS::Heat::SoftwareConfig
    properties:
      group: script
      outputs: [{name: result}]
      config: "#!/bin/sh\\necho $who"
  group:
    type: OS::Heat::SoftwareDeploymentGroup
    properties:
      config: {get_resource: script}
      servers:
        web0: 5f0c8a52-0000-4000-8000-000000000000
        web1: 5f0c8a52-0000-4000-8000-000000000001
      input_values: {who: group}
  sgroup:
    type: OS::Heat::StructuredDeploymentGroup
    properties:
      config: {get_resource: structured}
      servers: {db: 5f0c8a52-0000-4000-8000-000000000011}
      input_values: {port: 5432}
      signal_transport: NO_SIGNAL
outputs:
  stdouts: {value: {get_attr: [group, deploy_stdouts]}}
  codes: {value: {get_attr: [group, deploy_status_codes]}}
  results: {value: {get_attr: [group, result]}}
"""
SERVER = "5f0c8a52-0000-4000-8000-{:012d}"


def _deployment_on(cloud: Cloud, server: str) -> dict[str, Any]:
    found = cloud.openstack("software", "deployment", "list", "--server", server, cloud=DEMO)
    assert len(found) == 1, found
    return cloud.openstack("software", "deployment", "show", found[0]["id"], cloud=DEMO)


def _signal_of(cloud: Cloud, dep: dict[str, Any]) -> str:
    derived = cloud.openstack("software", "config", "show", dep["config_id"], cloud=DEMO)
    return str({i["name"]: i.get("value") for i in derived["inputs"]}["deploy_signal_id"])


def test_structured_deployment_and_deployment_groups(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("swgrp")
    cloud.openstack("stack", "create", "-t", template_file(tmp_path, "g.yaml", GROUPS), name,
                    cloud=DEMO)  # fmt: skip
    web = [SERVER.format(0), SERVER.format(1)]
    deadline = time.monotonic() + 60
    while True:
        listed = cloud.openstack("software", "deployment", "list", cloud=DEMO)
        waiting = {d["server_id"] for d in listed if d["status"] == "IN_PROGRESS"}
        if set(web) <= waiting:
            break
        assert time.monotonic() < deadline, listed
        time.sleep(0.3)
    for i, server in enumerate(web):
        dep = _deployment_on(cloud, server)
        assert dep["action"] == "CREATE", dep
        told = httpx.post(_signal_of(cloud, dep), json={"deploy_stdout": f"out{i}",
                                                        "deploy_status_code": 0,
                                                        "result": f"r{i}"}, timeout=30)  # fmt: skip
        assert told.status_code == 200, told.text
    shown = wait_stack(cloud, name, ("CREATE_COMPLETE", "CREATE_FAILED"), cloud=DEMO)
    assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
    out = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
    assert out["stdouts"] == {"web0": "out0", "web1": "out1"}, out
    assert out["codes"] == {"web0": 0, "web1": 0} and out["results"] == {"web0": "r0",
                                                                          "web1": "r1"}  # fmt: skip
    # The group's members are deployments named by the servers map's keys.
    res = _resources(cloud, name)
    nested = {r["resource_name"]: r for r in cloud.openstack(
        "stack", "resource", "list", res["group"]["physical_resource_id"], cloud=DEMO)}  # fmt: skip
    assert set(nested) == {"web0", "web1"}
    assert {r["resource_type"] for r in nested.values()} == {"OS::Heat::SoftwareDeployment"}
    # Structured: the config's get_input calls replaced by the deployment's input values.
    for server, port in ((SERVER.format(10), 8080), (SERVER.format(11), 5432)):
        dep = _deployment_on(cloud, server)
        assert dep["status"] == "COMPLETE", dep
        derived = cloud.openstack("software", "config", "show", dep["config_id"], cloud=DEMO)
        assert derived["config"] == {"port": port, "name": "fixed", "items": [None, 1]}, derived
    delete_wait(cloud, name, cloud=DEMO)
    left = {d["server_id"] for d in cloud.openstack("software", "deployment", "list", cloud=DEMO)}
    assert not left & {SERVER.format(n) for n in (0, 1, 10, 11)}


def test_strict_structured_deployment_needs_every_input(cloud: Cloud, tmp_path: Path) -> None:
    text = GROUPS.split("  script:")[0].replace(
        "signal_transport: NO_SIGNAL", "signal_transport: NO_SIGNAL\n"
        "      input_values_validate: STRICT",
    ).replace("000000000010", "000000000012")  # fmt: skip
    name = unique("swstrict")
    cloud.openstack("stack", "create", "-t", template_file(tmp_path, "s.yaml", text), name,
                    cloud=DEMO)  # fmt: skip
    shown = wait_stack(cloud, name, ("CREATE_COMPLETE", "CREATE_FAILED"), cloud=DEMO)
    assert shown["stack_status"] == "CREATE_FAILED"
    assert "The Parameter (missing) was not provided." in shown["stack_status_reason"], shown
    bad = text.replace("STRICT", "SOMETIMES")
    refused = cloud.openstack("stack", "create", "-t", template_file(tmp_path, "b.yaml", bad),
                              unique("swbad"), cloud=DEMO, check=False,
                              json_output=False)  # fmt: skip
    assert refused.returncode != 0
    assert "resources.sdeploy.properties.input_values_validate" in refused.stderr, refused.stderr
    delete_wait(cloud, name, cloud=DEMO)


RERUN = """
heat_template_version: 2018-08-31
parameters:
  greeting: {type: string}
resources:
  config:
    type: OS::Heat::SoftwareConfig
    properties:
      group: script
      inputs: [{name: greeting}]
      config: "#!/bin/sh\\necho $greeting"
  deploy:
    type: OS::Heat::SoftwareDeployment
    properties:
      config: {get_resource: config}
      server: 5f0c8a52-0000-4000-8000-000000000020
      input_values: {greeting: {get_param: greeting}}
      signal_transport: HEAT_SIGNAL
outputs:
  stdout: {value: {get_attr: [deploy, deploy_stdout]}}
"""


def _signal_deploy(cloud: Cloud, name: str, stdout: str) -> None:
    data = json.dumps({"deploy_stdout": stdout, "deploy_status_code": 0})
    cloud.openstack("stack", "resource", "signal", name, "deploy", "--data", data, cloud=DEMO,
                    json_output=False)  # fmt: skip


def test_changed_input_values_rerun_the_deployment_in_place(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("swre")
    tf = template_file(tmp_path, "r.yaml", RERUN)
    cloud.openstack("stack", "create", "-t", tf, "--parameter", "greeting=hello", name,
                    cloud=DEMO)  # fmt: skip
    _wait_deploying(cloud, name)
    _signal_deploy(cloud, name, "hello")
    wait_stack(cloud, name, ("CREATE_COMPLETE",), cloud=DEMO)
    before = _deployment_on(cloud, SERVER.format(20))
    cloud.openstack("stack", "update", "-t", tf, "--parameter", "greeting=bonjour", name,
                    cloud=DEMO)  # fmt: skip
    deadline = time.monotonic() + 60
    while (dep := _deployment_on(cloud, SERVER.format(20)))["action"] != "UPDATE":
        assert time.monotonic() < deadline, dep
        time.sleep(0.3)
    # The same deployment, re-run: a new derived config with the new values, waiting.
    assert dep["id"] == before["id"] and dep["status"] == "IN_PROGRESS", dep
    assert dep["config_id"] != before["config_id"]
    assert dep["input_values"]["greeting"] == "bonjour", dep
    assert dep["input_values"]["deploy_action"] == "UPDATE"
    res = _resources(cloud, name)["deploy"]
    assert res["resource_status"] == "UPDATE_IN_PROGRESS", res
    gone = cloud.openstack("software", "config", "show", before["config_id"], cloud=DEMO,
                           check=False, json_output=False)  # fmt: skip
    assert gone.returncode != 0  # the previous derived config is removed
    _signal_deploy(cloud, name, "bonjour")
    shown = wait_stack(cloud, name, ("UPDATE_COMPLETE", "UPDATE_FAILED"), cloud=DEMO)
    assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
    assert shown["outputs"][0]["output_value"] == "bonjour"
    assert _resources(cloud, name)["deploy"]["physical_resource_id"] == before["id"]
    after = _deployment_on(cloud, SERVER.format(20))
    assert after["status"] == "COMPLETE" and after["action"] == "UPDATE", after
    delete_wait(cloud, name, cloud=DEMO)


def _reaches(conn: Any, name: str, server: str, action: str) -> tuple[dict[str, Any], str]:
    """Once the deployment on ``server`` is at ``action``: it and its stack's status (polled
    through openstacksdk in this process: a CLI process per poll costs a second)."""
    deadline = time.monotonic() + 30
    while True:
        resp = conn.orchestration.get("/software_deployments", params={"server_id": server})
        deps = resp.json()["software_deployments"]
        if deps and deps[0]["action"] == action:
            stack = conn.orchestration.get(f"/stacks/{name}").json()["stack"]
            return deps[0], str(stack["stack_status"])
        assert time.monotonic() < deadline, deps
        time.sleep(0.2)


def test_deployment_runs_on_delete_suspend_and_resume(
    cloud: Cloud, image: str, tmp_path: Path
) -> None:
    """A deployment whose actions name SUSPEND, RESUME and DELETE runs again on each (its
    derived config's deploy_action that action), IN_PROGRESS until the guest signals, as
    Heat does; an action Heat does not know is a 400."""
    text = RERUN.replace("server: 5f0c8a52-0000-4000-8000-000000000020",
                         "server: {get_resource: server}").replace(
        "signal_transport: HEAT_SIGNAL", "signal_transport: HEAT_SIGNAL\n"
        "      actions: [SUSPEND, RESUME, DELETE]",
    ).replace("resources:\n", "  image: {type: string}\nresources:\n  server:\n"
              "    type: OS::Nova::Server\n"
              "    properties: {image: {get_param: image}, flavor: m1.tiny}\n")  # fmt: skip
    bad = template_file(tmp_path, "bad.yaml", text.replace("DELETE]", "REBOOT]"))
    refused = cloud.openstack("stack", "create", "-t", bad, "--parameter", "greeting=x",
                              "--parameter", f"image={image}", unique("swbad"), cloud=DEMO,
                              check=False, json_output=False)  # fmt: skip
    assert refused.returncode != 0
    assert 'resources.deploy.properties.actions[2]: "REBOOT" is not an allowed value ["' in (
        refused.stderr
    ), refused.stderr
    name = unique("swact")
    tf = template_file(tmp_path, "a.yaml", text)
    made = cloud.openstack("stack", "create", "-t", tf, "--parameter", "greeting=hi",
                           "--parameter", f"image={image}", name, cloud=DEMO)  # fmt: skip
    # CREATE is not one of its actions: made without waiting for the guest.
    wait_stack(cloud, name, ("CREATE_COMPLETE",), cloud=DEMO)
    server = _resources(cloud, name)["server"]["physical_resource_id"]
    conn = cloud.sdk(DEMO)
    for action in ("SUSPEND", "RESUME"):
        cloud.openstack("stack", action.lower(), name, cloud=DEMO, json_output=False)
        dep, status = _reaches(conn, name, server, action)
        assert dep["status"] == "IN_PROGRESS", dep
        assert dep["input_values"]["deploy_action"] == action, dep
        assert status == f"{action}_IN_PROGRESS", status
        _signal_deploy(cloud, name, action.lower())
        shown = wait_stack(cloud, name, (f"{action}_COMPLETE", f"{action}_FAILED"), cloud=DEMO)
        assert shown["stack_status"] == f"{action}_COMPLETE", shown["stack_status_reason"]
    cloud.openstack("stack", "delete", "--yes", name, cloud=DEMO, json_output=False)
    # Its server is still there: the DELETE action runs, and the stack waits for the guest.
    dep, status = _reaches(conn, name, server, "DELETE")
    assert dep["status"] == "IN_PROGRESS" and dep["input_values"]["deploy_action"] == "DELETE"
    time.sleep(0.5)
    assert _resources(cloud, name)["deploy"]["resource_status"] == "DELETE_IN_PROGRESS"
    _signal_deploy(cloud, name, "bye")
    shown = wait_stack(cloud, made["id"], ("DELETE_COMPLETE", "DELETE_FAILED"), cloud=DEMO)
    assert shown["stack_status"] == "DELETE_COMPLETE", shown["stack_status_reason"]
    resp = conn.orchestration.get("/software_deployments", params={"server_id": server})
    assert resp.json()["software_deployments"] == []


def test_deployment_of_a_gone_server_deletes_without_its_action(
    cloud: Cloud, tmp_path: Path
) -> None:
    """Heat's handle_delete checks the deployment's server first: one that is gone (here never
    made) can neither run the DELETE action nor signal, so the delete neither runs it nor
    waits, and the deployment and its derived config go."""
    server = SERVER.format(31)
    text = RERUN.replace("000000000020", "000000000031").replace(
        "signal_transport: HEAT_SIGNAL", "signal_transport: HEAT_SIGNAL\n      actions: [DELETE]"
    )  # fmt: skip
    name = unique("swgone")
    tf = template_file(tmp_path, "g.yaml", text)
    cloud.openstack("stack", "create", "-t", tf, "--parameter", "greeting=hi", name, cloud=DEMO)
    wait_stack(cloud, name, ("CREATE_COMPLETE",), cloud=DEMO)
    dep = _deployment_on(cloud, server)
    delete_wait(cloud, name, cloud=DEMO, timeout=20)
    conn = cloud.sdk(DEMO)
    resp = conn.orchestration.get("/software_deployments", params={"server_id": server})
    assert resp.json()["software_deployments"] == []
    gone = cloud.openstack("software", "config", "show", dep["config_id"], cloud=DEMO,
                           check=False, json_output=False)  # fmt: skip
    assert gone.returncode != 0


SERVER_ONLY = """
heat_template_version: 2018-08-31
parameters:
  image: {type: string}
resources:
  server:
    type: OS::Nova::Server
    metadata: {tier: {get_param: image}, os-collect-config: {polling_interval: 10}}
    properties: {image: {get_param: image}, flavor: m1.tiny, user_data_format: SOFTWARE_CONFIG}
outputs:
  server: {value: {get_resource: server}}
"""
DEPLOYS = """
heat_template_version: 2013-05-23
parameters:
  server: {type: string}
resources:
  config:
    type: OS::Heat::SoftwareConfig
    properties: {config: "#!/bin/sh\\ntrue"}
"""


def _deploys_stack(cloud: Cloud, tmp_path: Path, server: str, count: int, *extra: str) -> str:
    name = unique("swpar")
    body = DEPLOYS + "".join(
        f"  dep_{i}:\n    type: OS::Heat::SoftwareDeployments\n"
        f"    properties: {{config: {{get_resource: config}}, servers: {{'0': {server}}}}}\n"
        for i in range(count)
    )
    tf = template_file(tmp_path, f"{name}.yaml", body)
    cloud.openstack("stack", "create", "-t", tf, "--parameter", f"server={server}", *extra,
                    name, cloud=DEMO)  # fmt: skip
    return name


def _server_metadata(cloud: Cloud, stack: str, count: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        meta: dict[str, Any] = json.loads(cloud.openstack(
            "stack", "resource", "metadata", stack, "server", cloud=DEMO, json_output=False
        ))  # fmt: skip
        if len(meta.get("deployments", [])) == count or time.monotonic() > deadline:
            return meta
        time.sleep(0.5)


def test_server_metadata_lists_deployments_and_stack_timeout_cancels(
    cloud: Cloud, image: str, tmp_path: Path
) -> None:
    """heat_tempest_plugin's ParallelDeploymentsTest, here: a SOFTWARE_CONFIG server's
    resource metadata lists the deployments other stacks make for it, each signalled without
    a token through its deploy_signal_id; a deployments stack past its ``timeout_mins`` goes
    CREATE_FAILED "Timed out" and its deployment still waiting FAILED, cancelled."""
    home = unique("swhome")
    cloud.openstack("stack", "create", "-t", template_file(tmp_path, "srv.yaml", SERVER_ONLY),
                    "--parameter", f"image={image}", home, cloud=DEMO)  # fmt: skip
    wait_stack(cloud, home, ("CREATE_COMPLETE",), cloud=DEMO)
    server = cloud.openstack("stack", "output", "show", home, "server", cloud=DEMO)
    server_id = server["output_value"]
    waits = _deploys_stack(cloud, tmp_path, server_id, 2)
    meta = _server_metadata(cloud, home, 2)
    assert len(meta.get("deployments", [])) == 2, meta
    assert meta["os-collect-config"]["request"]["metadata_url"].startswith(cloud.url), meta
    # The template's metadata is there too, its os-collect-config keys merged in (Heat's).
    assert meta["tier"] == image and meta["os-collect-config"]["polling_interval"] == 10, meta
    for dep in meta["deployments"]:
        signal = {i["name"]: i.get("value") for i in dep["inputs"]}["deploy_signal_id"]
        told = httpx.post(
            str(signal), content=b"{}", headers={"content-type": "application/json"}, timeout=30
        )
        assert told.status_code == 200, told.text
    shown = wait_stack(cloud, waits, ("CREATE_COMPLETE", "CREATE_FAILED"), cloud=DEMO)
    assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
    timed = _deploys_stack(cloud, tmp_path, server_id, 1, "--timeout", "1")
    assert len(_server_metadata(cloud, home, 3)["deployments"]) == 3
    shown = wait_stack(cloud, timed, ("CREATE_COMPLETE", "CREATE_FAILED"), timeout=90, cloud=DEMO)
    assert shown["stack_status"] == "CREATE_FAILED", shown
    assert shown["stack_status_reason"] == "Timed out"
    assert _resources(cloud, timed)["dep_0"]["resource_status"] == "CREATE_FAILED"
    found = cloud.openstack("software", "deployment", "list", "--server", server_id, "--long",
                            cloud=DEMO)  # fmt: skip
    late = [d for d in found if d["status"] != "COMPLETE"]
    assert len(found) == 3 and len(late) == 1, found
    assert late[0]["status"] == "FAILED" and late[0]["status_reason"] == "Deployment cancelled."
    for name in (timed, waits, home):
        delete_wait(cloud, name, cloud=DEMO)
