"""Orchestration (Heat v1) through the real ``openstack stack`` / ``openstack orchestration``
commands (python-heatclient): a stack of Heat's own resource types created with --wait,
shown, its outputs, resources, events and template, deleted with --wait; resources run
concurrently where the graph allows; a failing resource fails the stack or rolls it back;
the template commands; bad templates refused with a 400 in Heat's body before anything is
made; another project's stack is a 404."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import Caller, alt_project, http_client, unique
from tests.support.heat import base_path, create_wait, delete_wait, template_file, wait_stack
from tests.support.keystone import token_info

pytestmark = pytest.mark.cli

admin = http_client("onestack")
other = alt_project()

SLICE = """
heat_template_version: 2018-08-31
description: slice test
parameters:
  len: {type: number, default: 8, constraints: [{range: {min: 1, max: 64}}]}
  secret: {type: string, default: hush, hidden: true}
resources:
  rnd: {type: OS::Heat::RandomString, properties: {length: {get_param: len}}}
  val:
    type: OS::Heat::Value
    properties:
      value:
        str_replace:
          template: NAME-RND
          params: {NAME: {get_param: "OS::stack_name"}, RND: {get_attr: [rnd, value]}}
  slow: {type: OS::Heat::TestResource, properties: {value: hi}, depends_on: val}
outputs:
  joined: {value: {get_attr: [val, value]}, description: the joined}
  slow_out: {value: {get_attr: [slow, output]}}
  whole: {value: {get_attr: [rnd, show, value]}}
"""


def project_of(cloud: Cloud, client: httpx.Client) -> str:
    return str(token_info(cloud, str(client.headers["X-Auth-Token"]))["project"]["id"])


def test_stack_create_show_outputs_resources_events_delete(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("slice")
    tf = template_file(tmp_path, "slice.yaml", SLICE)
    made = create_wait(cloud, name, tf, "--parameter", "len=12")
    assert made["stack_status"] == "CREATE_COMPLETE", made
    shown = cloud.openstack("stack", "show", name)
    assert shown["id"] == made["id"] and shown["description"] == "slice test"
    assert shown["parameters"]["len"] == "12" and shown["parameters"]["secret"] == "******"
    assert shown["parameters"]["OS::stack_name"] == name
    outputs = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
    prefix, rnd = outputs["joined"].split("-", 1)[0], outputs["joined"].rsplit("-", 1)[1]
    assert outputs["joined"].startswith(f"{name}-") and len(rnd) == 12, outputs
    assert prefix and outputs["whole"] == rnd and outputs["slow_out"] == "hi"
    one = cloud.openstack("stack", "output", "show", name, "joined")
    assert one["output_value"] == outputs["joined"]
    resources = {r["resource_name"]: r for r in cloud.openstack("stack", "resource", "list", name)}
    assert set(resources) == {"rnd", "val", "slow"}
    assert all(r["resource_status"] == "CREATE_COMPLETE" for r in resources.values())
    val = cloud.openstack("stack", "resource", "show", name, "val")
    assert val["attributes"]["value"] == outputs["joined"]
    rnd_shown = cloud.openstack("stack", "resource", "show", name, "rnd")
    assert rnd_shown["required_by"] == ["val"]
    events = cloud.openstack("stack", "event", "list", name)
    stack_events = [e["resource_status"] for e in events if e["resource_name"] == name]
    assert stack_events == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"], events
    tmpl = cloud.openstack("stack", "template", "show", name)
    assert tmpl["resources"]["rnd"]["type"] == "OS::Heat::RandomString"
    listed = cloud.openstack("stack", "list")
    assert any(s["Stack Name"] == name for s in listed)
    delete_wait(cloud, name)
    assert not any(s["Stack Name"] == name for s in cloud.openstack("stack", "list"))
    gone = cloud.openstack("stack", "show", made["id"])
    assert gone["stack_status"] == "DELETE_COMPLETE"
    assert cloud.openstack("stack", "show", name, check=False).returncode != 0


def test_independent_resources_run_concurrently(cloud: Cloud, tmp_path: Path) -> None:
    text = """
heat_template_version: 2015-04-30
resources:
  a: {type: OS::Heat::TestResource, properties: {wait_secs: 1}}
  b: {type: OS::Heat::TestResource, properties: {wait_secs: 1}}
  c: {type: OS::Heat::TestResource, properties: {value: {get_resource: a}}, depends_on: [b]}
"""
    name = unique("conc")
    create_wait(cloud, name, template_file(tmp_path, "c.yaml", text))
    events = cloud.openstack("stack", "event", "list", name)
    order = [(e["resource_name"], e["resource_status"]) for e in events]
    # a and b both start before either ends; c starts only after both ended.
    first_done = min(order.index(("a", "CREATE_COMPLETE")), order.index(("b", "CREATE_COMPLETE")))
    assert order.index(("a", "CREATE_IN_PROGRESS")) < first_done
    assert order.index(("b", "CREATE_IN_PROGRESS")) < first_done
    c_start = order.index(("c", "CREATE_IN_PROGRESS"))
    assert c_start > order.index(("a", "CREATE_COMPLETE"))
    assert c_start > order.index(("b", "CREATE_COMPLETE"))
    c = cloud.openstack("stack", "resource", "show", name, "a")["physical_resource_id"]
    out = cloud.openstack("stack", "resource", "show", name, "c")["attributes"]["output"]
    assert out == c
    delete_wait(cloud, name)


FAILING = """
heat_template_version: 2018-08-31
resources:
  good: {type: OS::Heat::RandomString}
  bad: {type: OS::Heat::TestResource, properties: {fail: true}, depends_on: good}
"""


def test_a_failing_resource_fails_the_stack_naming_it(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("fail")
    tf = template_file(tmp_path, "f.yaml", FAILING)
    result = cloud.openstack("stack", "create", "-t", tf, "--wait", "--poll", "1", name,
                             check=False, json_output=False)  # fmt: skip
    assert result.returncode != 0 and "CREATE_FAILED" in result.stdout + result.stderr
    shown = wait_stack(cloud, name, ("CREATE_FAILED",))
    assert "resources.bad" in shown["stack_status_reason"], shown
    res = {r["resource_name"]: r["resource_status"]
           for r in cloud.openstack("stack", "resource", "list", name)}  # fmt: skip
    assert res == {"good": "CREATE_COMPLETE", "bad": "CREATE_FAILED"}
    delete_wait(cloud, name)


def test_rollback_deletes_what_was_made(cloud: Cloud, tmp_path: Path) -> None:
    name = unique("rb")
    tf = template_file(tmp_path, "f.yaml", FAILING)
    cloud.openstack("stack", "create", "-t", tf, "--enable-rollback", name)
    shown = wait_stack(cloud, name, ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"))
    assert shown["stack_status"] == "ROLLBACK_COMPLETE"
    res = {r["resource_name"]: r["resource_status"]
           for r in cloud.openstack("stack", "resource", "list", name)}  # fmt: skip
    assert res["good"] == "DELETE_COMPLETE"


def test_template_commands(cloud: Cloud, tmp_path: Path) -> None:
    tf = template_file(tmp_path, "slice.yaml", SLICE)
    checked = cloud.openstack("orchestration", "template", "validate", "-t", tf)
    assert checked["Description"] == "slice test"
    assert checked["Parameters"]["len"]["MaxValue"] == 64
    assert checked["Parameters"]["secret"]["NoEcho"] == "true"
    types = cloud.openstack("orchestration", "resource", "type", "list")
    assert {"OS::Heat::RandomString", "OS::Heat::Value"} <= {t["Resource Type"] for t in types}
    schema = cloud.openstack("orchestration", "resource", "type", "show", "OS::Heat::RandomString")
    assert "length" in schema["properties"] and "value" in schema["attributes"]
    versions = [v["Version"] for v in
                cloud.openstack("orchestration", "template", "version", "list")]  # fmt: skip
    assert versions[0] == "heat_template_version.2013-05-23"
    assert "heat_template_version.2018-08-31" in versions
    old = {
        f["Functions"]
        for f in cloud.openstack(
            "orchestration", "template", "function", "list", "heat_template_version.2013-05-23"
        )
    }
    new = {
        f["Functions"]
        for f in cloud.openstack(
            "orchestration", "template", "function", "list", "heat_template_version.2018-08-31"
        )
    }
    assert "list_join" in old and "repeat" not in old and "list_concat" in new  # fmt: skip
    info = cloud.openstack("orchestration", "build", "info")
    assert "revision" in info["api"]


BAD = [
    (
        "heat_template_version: 2018-08-31\nparameters:\n  f: {type: string, default: m1.nope,"
        " constraints: [{custom_constraint: nova.flavor}]}\n",
        "Parameter 'f' is invalid: Error validating value 'm1.nope': The Flavor (m1.nope)",
    ),
    (
        "heat_template_version: 2018-08-31\nparameters:\n  n: {type: string, default: no-net,"
        " constraints: [{custom_constraint: neutron.network}]}\n",
        "The Network (no-net) could not be found.",
    ),
    (
        "heat_template_version: 2018-08-31\nparameters:\n  i: {type: string, default: no-img,"
        " constraints: [{custom_constraint: glance.image}]}\n",
        "Parameter 'i' is invalid: Error validating value 'no-img': The Image (no-img)",
    ),
    (
        "heat_template_version: 2018-08-31\nresources:\n  a: {type: OS::No::Such}\n",
        "resources.a: The Resource Type (OS::No::Such) could not be found.",
    ),
    (
        "heat_template_version: 2018-08-31\nresources:\n  a: {type: OS::Heat::Value, properties:"
        " {value: {get_attr: [b, nope]}}}\n  b: {type: OS::Heat::RandomString}\n",
        "resources.a.properties.value.get_attr: The Referenced Attribute (b nope) is incorrect.",
    ),
    (
        "heat_template_version: 2018-08-31\nresources:\n  a: {type: OS::Heat::Value, properties:"
        " {value: {get_resource: b}}}\n  b: {type: OS::Heat::Value, properties: {value:"
        " {get_resource: a}}}\n",
        "Circular Dependency Found: a -> b -> a",
    ),
    (
        "heat_template_version: 2018-08-31\nparameters:\n  p: {type: string}\nresources: {}\n",
        "The Parameter (p) was not provided.",
    ),
    (
        "heat_template_version: 2018-08-31\nparameters:\n  p: {type: string, default: ab,"
        " constraints: [{length: {min: 5}}]}\n",
        "Parameter 'p' is invalid: length (2)",
    ),
    (
        "heat_template_version: 2018-08-31\nresources:\n  a: {type: OS::Heat::Value\n",
        "Error parsing template",
    ),
    ("heat_template_version: 2012-01-01\n", "The template version is invalid"),
    (
        "heat_template_version: 2018-08-31\nparameter_groups:\n- {label: g, parameters: [nope]}\n",
        "Parameter Groups error: parameter_groups.g: The grouped parameter nope does not",
    ),
    (
        "heat_template_version: 2018-08-31\nparameters:\n  p: {type: string, default: x}\n"
        "parameter_groups:\n- {label: a, parameters: [p]}\n- {label: b, parameters: [p]}\n",
        "parameter_groups.b: The p parameter must be assigned to one parameter group only.",
    ),
    (
        "heat_template_version: 2018-08-31\nresources:\n  a: {type: OS::Heat::RandomString,"
        " properties: {length: {get_param: nope}}}\n",
        "Property error: : resources.a.properties.length: : The Parameter (nope) was not provided.",
    ),
    (
        "heat_template_version: 2018-08-31\nresources:\n  a: {type: OS::Heat::RandomString,"
        " properties: {lenght: 3}}\n",
        "resources.a.properties: Unknown Property lenght",
    ),
    (
        "heat_template_version: 2013-05-23\nresources:\n  a: {type: OS::Heat::Value, properties:"
        " {value: {repeat: {for_each: {x: [a]}, template: x}}}}\n",
        "",
    ),  # 2013-05-23 has no repeat: taken as data
]


@pytest.mark.parametrize(("text", "message"), BAD[:-1])
def test_bad_templates_are_400_before_anything_is_made(
    cloud: Cloud, admin: httpx.Client, text: str, message: str
) -> None:
    project = project_of(cloud, admin)
    name = unique("bad")
    resp = admin.post(f"{base_path(project)}/stacks", json={"stack_name": name, "template": text})
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert set(body) == {"explanation", "code", "error", "title"} and body["code"] == 400
    assert body["error"]["traceback"] is None and body["error"]["type"]
    assert message in body["error"]["message"], body
    listed = admin.get(f"{base_path(project)}/stacks", params={"name": name}).json()
    assert listed["stacks"] == []


def test_template_size_limit(cloud: Cloud, admin: httpx.Client) -> None:
    project = project_of(cloud, admin)
    text = "heat_template_version: 2018-08-31\ndescription: " + "x" * 600_000 + "\n"
    resp = admin.post(f"{base_path(project)}/stacks", json={"stack_name": "big", "template": text})
    assert resp.status_code == 400 and "exceeds maximum" in resp.json()["error"]["message"]


def test_resources_per_stack_limit(cloud: Cloud, admin: httpx.Client) -> None:
    """Heat's max_resources_per_stack (1000): one more is a 400 before anything is made."""
    project = project_of(cloud, admin)
    many = "".join(f"  r{i}: {{type: OS::Heat::None}}\n" for i in range(1001))
    name = unique("many")
    text = f"heat_template_version: 2018-08-31\nresources:\n{many}"
    resp = admin.post(f"{base_path(project)}/stacks", json={"stack_name": name, "template": text})
    assert resp.status_code == 400, resp.text
    assert "Maximum resources per stack exceeded (1001 > 1000)" in resp.json()["error"]["message"]
    assert admin.get(f"{base_path(project)}/stacks", params={"name": name}).json()["stacks"] == []
    # The limit itself is allowed.
    text = "heat_template_version: 2018-08-31\nresources:\n" + many.rsplit("  r1000", 1)[0]
    resp = admin.post(f"{base_path(project)}/validate", json={"template": text})
    assert resp.status_code == 200, resp.text


def test_other_projects_stack_is_404(
    cloud: Cloud, admin: httpx.Client, other: Caller, tmp_path: Path
) -> None:
    name = unique("mine")
    tf = template_file(tmp_path, "s.yaml", SLICE)
    made = create_wait(cloud, name, tf, cloud="onestack-demo")
    demo_project = cloud.openstack("token", "issue", cloud="onestack-demo")["project_id"]
    mine = base_path(other.project_id)
    for path in (
        f"/stacks/{name}",
        f"/stacks/{made['id']}",
        f"/stacks/{name}/{made['id']}",
        f"/stacks/{name}/{made['id']}/resources",
        f"/stacks/{name}/events",
    ):
        resp = other.client.get(mine + path, follow_redirects=False)
        assert resp.status_code == 404, (path, resp.text)
        assert resp.json()["error"]["type"] == "EntityNotFound"
    assert other.client.delete(f"{mine}/stacks/{name}/{made['id']}").status_code == 404
    assert other.client.get(f"{base_path(demo_project)}/stacks").status_code == 403
    listed = other.client.get(f"{mine}/stacks").json()["stacks"]
    assert all(s["id"] != made["id"] for s in listed)
    still = cloud.openstack("stack", "show", name, cloud="onestack-demo")
    assert still["stack_status"] == "CREATE_COMPLETE"
    delete_wait(cloud, name, cloud="onestack-demo")


def test_lookup_redirects_and_discovery(cloud: Cloud, admin: httpx.Client, tmp_path: Path) -> None:
    name = unique("look")
    tf = template_file(tmp_path, "s.yaml", SLICE)
    made = create_wait(cloud, name, tf)
    project = project_of(cloud, admin)
    resp = admin.get(f"{base_path(project)}/stacks/{name}/resources", follow_redirects=False)
    assert resp.status_code == 302
    assert resp.headers["location"].endswith(f"/stacks/{name}/{made['id']}/resources")
    versions = httpx.get(f"{cloud.url}/orchestration/", timeout=30)
    assert versions.status_code == 300 and versions.json()["versions"][0]["id"] == "v1.0"
    catalog = cloud.openstack("catalog", "show", "orchestration")
    assert any(f"/orchestration/v1/{project}" in json.dumps(e) for e in catalog["endpoints"])
    delete_wait(cloud, name)


def test_unused_bad_case_kept_valid(cloud: Cloud, admin: httpx.Client) -> None:
    """In 2013-05-23 ``repeat`` is not a function: the mapping is plain data."""
    text, _ = BAD[-1]
    project = project_of(cloud, admin)
    resp = admin.post(f"{base_path(project)}/validate", json={"template": text})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    assert body["Parameters"] == {}


ENV_TEMPLATE = """
heat_template_version: 2018-08-31
parameters:
  greeting: {type: string, default: hello}
  n: {type: number}
resources:
  vm: {type: OS::Nova::Server, properties: {image: none-needed, flavor: m1.tiny}}
  val: {type: OS::Heat::Value, properties: {value: {get_param: greeting}}}
  rnd: {type: OS::Heat::RandomString, properties: {length: {get_param: n}}}
outputs:
  val: {value: {get_attr: [val, value]}}
  rnd: {value: {get_attr: [rnd, value]}}
"""
ENV = """
parameters:
  greeting: from-env
parameter_defaults:
  n: 5
resource_registry:
  OS::Nova::Server: OS::Heat::None
"""


def test_environment_parameters_and_registry(cloud: Cloud, tmp_path: Path) -> None:
    """``-e``: parameters, parameter_defaults, and a registry that maps a type to another
    (here a server to OS::Heat::None: nothing is booted)."""
    name = unique("env")
    tf = template_file(tmp_path, "t.yaml", ENV_TEMPLATE)
    ef = template_file(tmp_path, "e.yaml", ENV)
    shown = create_wait(cloud, name, tf, "-e", ef)
    assert shown["stack_status"] == "CREATE_COMPLETE", shown
    out = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
    assert out["val"] == "from-env" and len(out["rnd"]) == 5
    vm = cloud.openstack("stack", "resource", "show", name, "vm")
    assert vm["resource_type"] == "OS::Heat::None"
    env = cloud.openstack("stack", "environment", "show", name)
    assert env["resource_registry"]["OS::Nova::Server"] == "OS::Heat::None"
    nested = tmp_path / "e2.yaml"
    nested.write_text("resource_registry:\n  OS::Nova::Server: server.yaml\n")
    (tmp_path / "server.yaml").write_text("heat_template_version: 2018-08-31\n")
    refused = cloud.openstack("stack", "create", "-t", tf, "-e", ef, "-e", str(nested),
                              unique("nest"), check=False, json_output=False)  # fmt: skip
    # A template resource's properties are its template's parameters: server.yaml has none.
    assert refused.returncode != 0 and "resources.vm: Property error: Unknown Property" in (
        refused.stderr
    )
    delete_wait(cloud, name)


def test_stack_list_pages_by_marker_with_sort_and_filters(
    cloud: Cloud, admin: httpx.Client
) -> None:
    stacks = f"{base_path(project_of(cloud, admin))}/stacks"
    prefix = unique("page")
    text = "heat_template_version: 2018-08-31\nresources: {}\n"
    names = [f"{prefix}-{i}" for i in range(5)]
    for n in names:
        made = admin.post(stacks, json={"stack_name": n, "template": text})
        assert made.status_code == 201, made.text
    for n in names:
        wait_stack(cloud, n, ("CREATE_COMPLETE",))

    def page(**params: Any) -> list[str]:
        resp = admin.get(stacks, params={"name": names, **params})
        assert resp.status_code == 200, resp.text
        return [s["stack_name"] for s in resp.json()["stacks"]]

    for sort_dir, expected in (("asc", names), ("desc", names[::-1])):
        walked: list[str] = []
        marker = None
        while True:
            got = page(sort_keys="stack_name", sort_dir=sort_dir, limit=2,
                       **({"marker": marker} if marker else {}))  # fmt: skip
            walked += got
            if len(got) < 2:
                break
            marker = admin.get(stacks, params={"name": got[-1]}).json()["stacks"][0]["id"]
        assert walked == expected
    assert page(sort_keys="stack_name", sort_dir="asc", limit=1, name=names[3]) == [names[3]]
    assert page(status="FAILED") == []
    # A marker not in the list is ignored, as Heat's list ignores it.
    assert page(sort_keys="stack_name", sort_dir="asc", marker="nope", limit=2) == names[:2]
    for s in admin.get(stacks, params={"name": names}).json()["stacks"]:
        assert admin.delete(f"{stacks}/{s['stack_name']}/{s['id']}").status_code == 204
