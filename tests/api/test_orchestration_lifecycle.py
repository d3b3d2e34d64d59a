"""Stack preview, abandon and adopt, snapshots and restore, update preview and resource mark
unhealthy (#17) through ``openstack stack``: a preview lists the resources and makes none;
an export gives the abandon data and leaves the stack; an abandoned stack is gone while its
network stays, and the stack that adopts it owns it
(same ids, same random value, its delete removes the network); a restore brings back the
snapshot's value and a resource deleted since; an update preview sorts each resource; a
resource marked unhealthy is replaced by the next update; a stack's nested stacks (a
ResourceGroup's, an OS::Heat::Stack) are abandoned with it, their resources in its data, and
adopted again in new nested stacks; a body Heat refuses is refused with Heat's error type and
sentence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.heat import (
    assert_heat_400,
    create_wait,
    delete_wait,
    template_file,
    wait_stack,
)

pytestmark = pytest.mark.cli

STACK = """
heat_template_version: 2018-08-31
parameters:
  netname: {type: string}
  v: {type: string, default: one}
resources:
  net: {type: OS::Neutron::Net, properties: {name: {get_param: netname}}}
  rnd: {type: OS::Heat::RandomString, properties: {length: 12}}
  val: {type: OS::Heat::Value, properties: {value: {get_param: v}}}
outputs:
  rnd: {value: {get_attr: [rnd, value]}}
  val: {value: {get_attr: [val, value]}}
"""


def resources(cloud: Cloud, name: str) -> dict[str, dict[str, str]]:
    return {r["resource_name"]: r for r in cloud.openstack("stack", "resource", "list", name)}


def outputs(cloud: Cloud, name: str) -> dict[str, object]:
    shown = cloud.openstack("stack", "show", name)
    return {o["output_key"]: o["output_value"] for o in shown["outputs"]}


def test_preview_makes_nothing(cloud: Cloud, tmp_path: Path) -> None:
    name, netname = unique("pre"), unique("pre-net")
    shown = cloud.openstack(
        "stack", "create", "--dry-run", "-t", template_file(tmp_path, "t.yaml", STACK),
        "--parameter", f"netname={netname}", name,
    )  # fmt: skip
    assert shown["stack_name"] == name
    res = shown["resources"]
    if isinstance(res, str):  # some client versions print the list as text
        assert "OS::Neutron::Net" in res and "rnd" in res
    else:
        by = {r["resource_name"]: r for r in res}
        assert set(by) == {"net", "rnd", "val"}
        assert by["net"]["resource_type"] == "OS::Neutron::Net"
        assert by["net"]["properties"]["name"] == netname
        assert by["net"]["physical_resource_id"] == ""
    assert name not in {s["Stack Name"] for s in cloud.openstack("stack", "list")}
    assert cloud.openstack("network", "list", "--name", netname) == []


PREVIEW_PARENT = """
heat_template_version: 2015-04-30
parameters:
  incoming: {type: string, default: abc}
resources:
  main:
    type: nested.yaml
    properties: {value: {get_param: incoming}}
  net: {type: OS::Neutron::Net}
  rg:
    type: OS::Heat::ResourceGroup
    properties:
      count: 1
      resource_def: {type: port.yaml, properties: {network_id: {get_resource: net}}}
"""
PREVIEW_NESTED = """
heat_template_version: 2015-04-30
parameters:
  value: {type: string}
resources:
  nested: {type: OS::Heat::TestResource, properties: {value: {get_param: value}}}
"""
PREVIEW_PORT = """
heat_template_version: 2015-04-30
parameters:
  network_id: {type: string}
resources:
  port: {type: OS::Neutron::Port, properties: {network: {get_param: network_id}}}
"""


def test_preview_of_nested_stacks_and_its_failure(cloud: Cloud) -> None:
    """Heat's preview: a nested stack's resources as a list in place of the resource that
    makes it (a template resource; a ResourceGroup: a list of its members' lists), each
    naming its parent resource and its stack ``{stack}-{resource}``, with its properties'
    defaults and attributes; a missing parameter named as Heat's property validation does."""
    orchestration = cloud.sdk().orchestration
    name = unique("prev")
    body = {
        "stack_name": name, "template": PREVIEW_PARENT,
        "files": {"nested.yaml": PREVIEW_NESTED, "port.yaml": PREVIEW_PORT},
    }  # fmt: skip
    shown = orchestration.post("/stacks/preview", json=body).json()["stack"]
    (nested,) = next(r for r in shown["resources"] if isinstance(r, list) and "properties"
                     in r[0] and r[0]["resource_name"] == "nested")  # fmt: skip
    assert nested["parent_resource"] == "main"
    assert nested["stack_name"] == f"{name}-main"
    assert nested["stack_identity"]["stack_id"] == "None"
    assert nested["properties"]["value"] == "abc" and nested["properties"]["fail"] is False
    assert "output" in nested["attributes"] and nested["creation_time"] is None
    ((port,),) = next(r for r in shown["resources"] if isinstance(r, list) and r[0] != nested)
    assert port["resource_name"] == "port" and port["parent_resource"] == "0"
    assert port["properties"]["network"] == "net"  # a resource not made yet: its name
    names = {r["resource_name"] for r in shown["resources"] if isinstance(r, dict)}
    assert names == {"net"}
    wont = {**body, "template": PREVIEW_PARENT.replace("get_param: incoming", "get_param: nope")}
    refused = orchestration.post("/stacks/preview", json=wont)
    assert refused.status_code == 400
    assert (
        "Property error: : resources.main.properties.value: : The Parameter (nope) was not "
        "provided." in refused.json()["error"]["message"]
    )


def test_abandon_and_adopt(cloud: Cloud, tmp_path: Path) -> None:
    name, netname = unique("aba"), unique("aba-net")
    create_wait(cloud, name, template_file(tmp_path, "t.yaml", STACK), "--parameter",
                f"netname={netname}")  # fmt: skip
    before = resources(cloud, name)
    rnd = outputs(cloud, name)["rnd"]
    exported = tmp_path / "export.json"
    cloud.openstack("stack", "export", name, "--output-file", str(exported), json_output=False)
    assert (
        json.loads(exported.read_text())["resources"]["rnd"]["resource_id"]
        == (before["rnd"]["physical_resource_id"])
    )
    assert cloud.openstack("stack", "show", name)["stack_status"] == "CREATE_COMPLETE"
    data_file = tmp_path / "abandon.json"
    cloud.openstack("stack", "abandon", name, "--output-file", str(data_file), json_output=False)
    data = json.loads(data_file.read_text())
    assert data["name"] == name and set(data["resources"]) == {"net", "rnd", "val"}
    assert data["resources"]["net"]["resource_id"] == before["net"]["physical_resource_id"]
    assert name not in {s["Stack Name"] for s in cloud.openstack("stack", "list")}
    net = cloud.openstack("network", "show", netname)  # kept: no stack deleted it
    assert net["id"] == before["net"]["physical_resource_id"]

    adopted = unique("ado")
    cloud.openstack("stack", "adopt", "--adopt-file", str(data_file), "--wait", adopted,
                    json_output=False)  # fmt: skip
    shown = cloud.openstack("stack", "show", adopted)
    assert shown["stack_status"] == "ADOPT_COMPLETE", shown
    after = resources(cloud, adopted)
    assert {n: r["physical_resource_id"] for n, r in after.items()} == {
        n: r["physical_resource_id"] for n, r in before.items()
    }
    assert {r["resource_status"] for r in after.values()} == {"ADOPT_COMPLETE"}
    assert outputs(cloud, adopted)["rnd"] == rnd
    delete_wait(cloud, adopted)
    assert cloud.openstack("network", "show", netname, check=False).returncode != 0


NESTED = """
heat_template_version: 2018-08-31
resources:
  group:
    type: OS::Heat::ResourceGroup
    properties:
      count: 2
      resource_def: {type: OS::Heat::RandomString, properties: {length: 10}}
  inner:
    type: OS::Heat::Stack
    properties:
      template: |
        heat_template_version: 2018-08-31
        resources: {r: {type: OS::Heat::RandomString}}
        outputs: {v: {value: {get_attr: [r, value]}}}
outputs:
  values: {value: {get_attr: [group, value]}}
  inner: {value: {get_attr: [inner, outputs, v]}}
"""


def test_abandon_and_adopt_nested_stacks(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("aban")
    create_wait(cloud, name, template_file(tmp_path, "n.yaml", NESTED))
    before = outputs(cloud, name)
    children = {n: r["physical_resource_id"] for n, r in resources(cloud, name).items()}
    data_file = tmp_path / "abandon.json"
    cloud.openstack("stack", "abandon", name, "--output-file", str(data_file), json_output=False)
    data = json.loads(data_file.read_text())
    group = data["resources"]["group"]
    assert set(group["resources"]) == {"0", "1"}, group
    assert group["resources"]["0"]["type"] == "OS::Heat::RandomString"
    assert data["resources"]["inner"]["resources"]["r"]["attributes"]["value"] == before["inner"]
    for child in children.values():  # abandoned with their parent
        gone = cloud.openstack("stack", "show", child)
        assert gone["stack_status"] == "DELETE_COMPLETE", gone
        assert gone["stack_status_reason"] == "Stack abandoned"
    adopted = unique("adon")
    cloud.openstack("stack", "adopt", "--adopt-file", str(data_file), adopted)
    shown = wait_stack(cloud, adopted, ("ADOPT_COMPLETE", "ADOPT_FAILED"))
    assert shown["stack_status"] == "ADOPT_COMPLETE", shown["stack_status_reason"]
    # The nested stacks are made again from the data: the same values, adopted not made.
    assert outputs(cloud, adopted) == before
    now = resources(cloud, adopted)
    assert now["group"]["resource_status"] == "ADOPT_COMPLETE"
    members = cloud.openstack("stack", "resource", "list", now["group"]["physical_resource_id"])
    assert {m["resource_status"] for m in members} == {"ADOPT_COMPLETE"}, members
    assert {m["physical_resource_id"] for m in members} == {
        r["resource_id"] for r in group["resources"].values()
    }
    delete_wait(cloud, adopted)
    left = cloud.openstack("stack", "list", "--nested")
    assert not [s for s in left if adopted in s["Stack Name"]], left


def test_snapshot_and_restore(cloud: Cloud, tmp_path: Path) -> None:
    name, netname = unique("snap"), unique("snap-net")
    tf = template_file(tmp_path, "t.yaml", STACK)
    create_wait(cloud, name, tf, "--parameter", f"netname={netname}")
    rnd = outputs(cloud, name)["rnd"]
    made = cloud.openstack("stack", "snapshot", "create", name, "--name", "first")
    wait_stack(cloud, name, ("SNAPSHOT_COMPLETE",))
    listed = cloud.openstack("stack", "snapshot", "list", name)
    assert len(listed) == 1 and listed[0]["id"] in json.dumps(made), (made, listed)
    snap = listed[0]
    assert snap["name"] == "first" and snap["status"] == "COMPLETE"
    shown = cloud.openstack("stack", "snapshot", "show", name, snap["id"], json_output=False)
    assert snap["id"] in shown
    assert cloud.openstack("stack", "show", name)["stack_status"] == "SNAPSHOT_COMPLETE"

    # After the snapshot: a new value, and the random string dropped from the template.
    v2 = STACK.replace("  rnd: {type: OS::Heat::RandomString, properties: {length: 12}}\n", "")
    v2 = v2.replace("  rnd: {value: {get_attr: [rnd, value]}}\n", "")
    cloud.openstack("stack", "update", "-t", template_file(tmp_path, "v2.yaml", v2),
                    "--parameter", f"netname={netname}", "--parameter", "v=two", "--wait",
                    name, json_output=False)  # fmt: skip
    assert set(resources(cloud, name)) == {"net", "val"}
    net_id = resources(cloud, name)["net"]["physical_resource_id"]

    cloud.openstack("stack", "snapshot", "restore", name, snap["id"], json_output=False)
    shown = wait_stack(cloud, name, ("RESTORE_COMPLETE", "RESTORE_FAILED"))
    assert shown["stack_status"] == "RESTORE_COMPLETE", shown
    out = outputs(cloud, name)
    assert out["val"] == "one" and isinstance(out["rnd"], str) and len(out["rnd"]) == 12
    assert out["rnd"] != rnd  # made again: a random string keeps no data to restore from
    assert resources(cloud, name)["net"]["physical_resource_id"] == net_id  # untouched

    cloud.openstack("stack", "snapshot", "delete", name, snap["id"], json_output=False)
    assert cloud.openstack("stack", "snapshot", "list", name) == []
    delete_wait(cloud, name)


def test_update_preview_and_mark_unhealthy(cloud: Cloud, tmp_path: Path) -> None:
    name, netname = unique("pu"), unique("pu-net")
    tf = template_file(tmp_path, "t.yaml", STACK)
    create_wait(cloud, name, tf, "--parameter", f"netname={netname}")
    before = resources(cloud, name)
    v2 = STACK.replace("length: 12", "length: 14").replace(
        "  val: {type: OS::Heat::Value",
        "  extra: {type: OS::Heat::None}\n  val: {type: OS::Heat::Value",
    )
    changes = cloud.openstack(
        "stack", "update", "--dry-run", "-t", template_file(tmp_path, "v2.yaml", v2),
        "--parameter", f"netname={netname}", "--parameter", "v=two", name,
    )  # fmt: skip
    text = json.dumps(changes)
    for word in ("added", "replaced", "updated", "unchanged"):
        assert word in text
    by_kind = {
        kind: {r["resource_name"] for r in rows}
        for kind, rows in (changes.items() if isinstance(changes, dict) else [])
        if isinstance(rows, list)
    }
    if by_kind:
        assert by_kind["added"] == {"extra"} and by_kind["replaced"] == {"rnd"}
        assert by_kind["updated"] == {"val"} and by_kind["unchanged"] == {"net"}
    assert resources(cloud, name) == before  # a preview changes nothing

    cloud.openstack("stack", "resource", "mark", "unhealthy", name, "net", "broken",
                    json_output=False)  # fmt: skip
    net = cloud.openstack("stack", "resource", "show", name, "net")
    assert net["resource_status"] == "CHECK_FAILED" and net["resource_status_reason"] == "broken"
    cloud.openstack("stack", "update", "--existing", "--wait", name, json_output=False)
    after = resources(cloud, name)
    assert after["net"]["physical_resource_id"] != before["net"]["physical_resource_id"]
    assert after["rnd"]["physical_resource_id"] == before["rnd"]["physical_resource_id"]
    delete_wait(cloud, name)


def test_routes_heat_tempest_plugin_reads(cloud: Cloud, tmp_path: Path) -> None:
    """What heat-tempest-plugin's API tests ask of the routes: a create's Location, a resource
    list filtered by type, a resource type's generated template, a DELETE by name that is a
    302 to name/id."""
    token = cloud.openstack("token", "issue")["id"]
    project = cloud.openstack("token", "issue")["project_id"]
    with cloud.http(token) as client:
        base = f"/orchestration/v1/{project}"
        name = unique("plug")
        body = {"stack_name": name, "template": {
            "heat_template_version": "2016-04-08",
            "resources": {"test": {"type": "OS::Heat::TestResource"}},
        }}  # fmt: skip
        made = client.post(f"{base}/stacks", json=body)
        assert made.status_code == 201, made.text
        location = made.headers["location"]
        assert location.endswith(f"/stacks/{name}/{made.json()['stack']['id']}")
        wait_stack(cloud, name, ("CREATE_COMPLETE",))
        url = f"{base}/stacks/{name}/{made.json()['stack']['id']}/resources"
        assert client.get(url, params={"type": "OS::Nova::Server"}).json()["resources"] == []
        found = client.get(url, params={"type": "OS::Heat::TestResource"}).json()["resources"]
        assert [r["resource_name"] for r in found] == ["test"]
        tmpl = client.get(
            f"{base}/resource_types/OS::Heat::TestResource/template",
            params={"template_type": "hot"},
        ).json()
        assert tmpl["resources"]["TestResource"]["type"] == "OS::Heat::TestResource"
        assert tmpl["parameters"]["wait_secs"]["default"] == 0
        assert tmpl["outputs"]["output"]["value"] == {"get_attr": ["TestResource", "output"]}
        gone = client.delete(f"{base}/stacks/{name}", follow_redirects=False)
        assert gone.status_code == 302 and gone.headers["location"] == location
        assert client.delete(gone.headers["location"]).status_code == 204
        wait_stack(cloud, location.rsplit("/", 1)[1], ("DELETE_COMPLETE",))


def test_file_list(cloud: Cloud, tmp_path: Path) -> None:
    """``openstack stack file list``: the files the client sent for get_file, by URL."""
    (tmp_path / "motd.txt").write_text("hello from a file\n")
    text = """
heat_template_version: 2018-08-31
resources:
  val: {type: OS::Heat::Value, properties: {value: {get_file: motd.txt}}}
outputs:
  motd: {value: {get_attr: [val, value]}}
"""
    name = unique("files")
    shown = create_wait(cloud, name, template_file(tmp_path, "f.yaml", text))
    assert shown["outputs"][0]["output_value"] == "hello from a file\n"
    files = cloud.openstack("stack", "file", "list", name)["files"]
    assert list(files.values()) == ["hello from a file\n"], files
    assert next(iter(files)).endswith("/motd.txt")
    delete_wait(cloud, name)


EXTERNAL = """
heat_template_version: 2016-10-14
parameters:
  net: {type: string}
resources:
  net: {type: OS::Neutron::Net, external_id: {get_param: net}}
  rnd: {type: OS::Heat::RandomString}
outputs:
  net: {value: {get_resource: net}}
"""


def test_external_id_takes_a_resource_made_elsewhere(cloud: Cloud, tmp_path: Path) -> None:
    """Heat's external references: a network made outside the stack is its ``net`` (a
    reference to it is its id), left by the stack's delete; an update that keeps it is
    fine, one that gives another resource an external id fails."""
    name = unique("ext")
    made = cloud.openstack("network", "create", unique("ext-net"))["id"]
    try:
        shown = create_wait(cloud, name, template_file(tmp_path, "t.yaml", EXTERNAL),
                            "--parameter", f"net={made}")  # fmt: skip
        assert shown["stack_status"] == "CREATE_COMPLETE"
        assert outputs(cloud, name)["net"] == made
        assert resources(cloud, name)["net"]["physical_resource_id"] == made
        cloud.openstack("stack", "update", "--existing", "--wait", name, json_output=False)
        assert cloud.openstack("stack", "show", name)["stack_status"] == "UPDATE_COMPLETE"
        moved = EXTERNAL.replace(
            "rnd: {type: OS::Heat::RandomString}",
            "rnd: {type: OS::Heat::RandomString, external_id: x}",
        )
        cloud.openstack("stack", "update", "-t", template_file(tmp_path, "u.yaml", moved),
                        "--existing", name, json_output=False)  # fmt: skip
        failed = wait_stack(cloud, name, ("UPDATE_FAILED", "UPDATE_COMPLETE"), 30)
        assert failed["stack_status"] == "UPDATE_FAILED"
        assert "external_id" in failed["stack_status_reason"]
    finally:
        delete_wait(cloud, name)
    assert cloud.openstack("network", "show", made)["id"] == made  # the stack left it
    cloud.openstack("network", "delete", made, json_output=False)


TINY = {"heat_template_version": "2016-04-08", "resources": {"r": {"type": "OS::Heat::None"}}}
API, ENGINE = "HTTPBadRequest", "StackValidationFailed"  # Heat's API's 400s, its engine's
NAME_RULE = (
    'must contain only alphanumeric or "_-." characters, must start with alpha and must be 255 '
    "characters or less."
)
BAD_CREATES: list[tuple[object, str, str]] = [
    ({"template": TINY}, API, "No stack name specified"),
    ({"stack_name": 5, "template": TINY}, ENGINE, "Invalid stack name 5, must be a string"),
    ({"stack_name": "1st", "template": TINY}, ENGINE, f"Invalid stack name 1st {NAME_RULE}"),
    ({"stack_name": "a:b", "template": TINY}, ENGINE, f"Invalid stack name a:b {NAME_RULE}"),
    ({"stack_name": "s"}, API, "No template specified"),
    ({"stack_name": "s", "template": TINY, "timeout_mins": "soon"}, API,
     "Only integer is acceptable by 'timeout_mins'."),
    ({"stack_name": "s", "template": TINY, "timeout_mins": -1}, API,
     "Value '-1' is invalid for 'timeout_mins' which only accepts non-negative integer."),
    ({"stack_name": "s", "template": TINY, "disable_rollback": "maybe"}, API,
     'Unrecognized value "maybe" for "disable_rollback", acceptable values are: true, false.'),
    ({"stack_name": "s", "template": TINY, "tags": "x" * 81}, API,
     f'Invalid tag, "{"x" * 81}" is longer than 80 characters'),
    ({"stack_name": "s", "template": TINY, "converge": True}, API,
     "converge flag only supported in stack update (or update preview) request."),
    ({"stack_name": "s", "template": TINY, "environment": {"params": {}}}, API,
     'Environment not in valid format: environment has wrong section "params"'),
    ({"stack_name": "s", "template": TINY, "environment": "[1]"}, API,
     "Environment not in valid format: The environment is not a valid YAML mapping data type."),
    ({"stack_name": "s", "template": TINY, "parameters": "a=1"}, ENGINE,
     "parameters must be a map"),
    ({"stack_name": "s", "adopt_stack_data": "{"}, ENGINE, "Invalid adopt data: not JSON"),
    ({"stack_name": "s", "adopt_stack_data": {"template": TINY, "parameters": "a=1"}}, ENGINE,
     "Invalid adopt data: parameters must be a map"),
    ({"stack_name": "s", "adopt_stack_data": json.dumps({"template": TINY, "parameters": [1]})},
     ENGINE, "Invalid adopt data: parameters must be a map"),
    ({"stack_name": "s", "adopt_stack_data": {"template": TINY, "resources": {"r": "x"}}},
     ENGINE, "Invalid adopt data: resource r must be a map"),
    ([TINY], ENGINE, "The request body must be a JSON object"),
]  # fmt: skip


def test_bad_bodies_are_refused_as_heat_does(cloud: Cloud) -> None:
    """Create, preview, validate, update (PUT, PATCH, their previews), actions, snapshot,
    mark unhealthy and signal: each body Heat refuses is a 400 with Heat's type and words."""
    token = cloud.openstack("token", "issue")
    with cloud.http(token["id"]) as client:
        base = f"/orchestration/v1/{token['project_id']}"
        for path in (f"{base}/stacks", f"{base}/stacks/preview"):
            for body, kind, message in BAD_CREATES:
                assert_heat_400(client.post(path, json=body), kind, message)
        validate = f"{base}/validate"
        assert_heat_400(client.post(validate, json={}), API, "No template specified")
        assert_heat_400(client.post(validate, json={"template": TINY, "files": "f"}), ENGINE,
                        "files must be a map")  # fmt: skip
        name = unique("badbody")
        made = client.post(f"{base}/stacks", json={"stack_name": name, "template": TINY})
        assert made.status_code == 201, made.text
        url = made.headers["location"]
        wait_stack(cloud, name, ("CREATE_COMPLETE",))
        for method in ("PUT", "PATCH"):
            for at in (url, f"{url}/preview"):
                soon = client.request(method, at, json={"template": TINY, "timeout_mins": "x"})
                assert_heat_400(soon, API, "Only integer is acceptable by 'timeout_mins'.")
                cleared = client.request(method, at, json={"clear_parameters": "p"})
                assert_heat_400(cleared, ENGINE, "clear_parameters must be a list of parameter "
                                "names")  # fmt: skip
        assert_heat_400(client.put(url, json={}), API, "No template specified")
        converge = client.put(f"{url}/preview", json={"template": TINY, "converge": "perhaps"})
        assert_heat_400(converge, API, 'Unrecognized value "perhaps" for "converge", acceptable '
                        "values are: true, false.")  # fmt: skip
        nothing = client.post(f"{url}/actions", headers={"Content-Type": "application/json"})
        assert_heat_400(nothing, API, "No action specified")
        actions = [({}, "No action specified"), ([], "No action specified"),
                   ({"check": None, "resume": None}, "Multiple actions specified"),
                   ({"explode": None}, "Invalid action explode specified")]  # fmt: skip
        for body, message in actions:
            assert_heat_400(client.post(f"{url}/actions", json=body), API, message)
        snap = client.post(f"{url}/snapshots", json=["s"])
        assert_heat_400(snap, ENGINE, "The request body must be a JSON object")
        res = f"{url}/resources/r"
        marks = [({"mark_unhealthy": True, "why": "x"},
                  "Invalid keys in resource mark unhealthy {'why'}"),
                 ({"resource_status_reason": "x"},
                  "Missing mandatory (mark_unhealthy) key from mark unhealthy request"),
                 ({"mark_unhealthy": "yes"}, 'Unrecognized value "yes" for "mark_unhealthy", '
                  "acceptable values are: true, false.")]  # fmt: skip
        for body, message in marks:
            assert_heat_400(client.patch(res, json=body), API, message)
        # Heat's words for a boolean: "false" is one (the resource was not unhealthy: 200).
        assert client.patch(res, json={"mark_unhealthy": "false"}).status_code == 200
        signal = client.post(f"{res}/signal", content=b"{not json")
        assert_heat_400(signal, API, "Malformed request body: it is not valid JSON.")
    delete_wait(cloud, name)
