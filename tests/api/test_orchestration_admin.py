"""Nova's Flavor and ServerGroup and Keystone's Project, Role and User resource types (#17)
through ``openstack stack``: an admin's stack makes them as the services' own commands show
them (a private flavor with extra specs shared with a project, an affinity group, a
project, a role, a user holding that role on that project) and its delete removes them; a
member's stack may make a server group, but a Keystone project or a flavor fails with the
403 of Heat's resource_types policy in the resource's event."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import unique
from tests.support.heat import create_wait, delete_wait, template_file, wait_stack

pytestmark = pytest.mark.cli

ADMIN = """
heat_template_version: 2018-08-31
parameters:
  tag: {type: string}
resources:
  flavor:
    type: OS::Nova::Flavor
    properties:
      name: {list_join: ['-', [flv, {get_param: tag}]]}
      ram: 128
      vcpus: 2
      disk: 1
      is_public: false
      extra_specs: {"hw:cpu_policy": shared}
      tenants: [{get_resource: project}]
  group:
    type: OS::Nova::ServerGroup
    properties: {name: {list_join: ['-', [grp, {get_param: tag}]]}, policies: [affinity]}
  project:
    type: OS::Keystone::Project
    properties:
      name: {list_join: ['-', [prj, {get_param: tag}]]}
      description: made by heat
      tags: [heat]
  role:
    type: OS::Keystone::Role
    properties: {name: {list_join: ['-', [rol, {get_param: tag}]]}}
  user:
    type: OS::Keystone::User
    properties:
      name: {list_join: ['-', [usr, {get_param: tag}]]}
      password: s3cret-pass
      email: u@example.com
      default_project: {get_resource: project}
      roles: [{role: {get_resource: role}, project: {get_resource: project}}]
outputs:
  flavor_specs: {value: {get_attr: [flavor, extra_specs]}}
  project_name: {value: {get_attr: [project, name]}}
  user_project: {value: {get_attr: [user, default_project_id]}}
"""


def test_admin_stack_makes_flavor_group_project_role_user(cloud: Cloud, tmp_path: Path) -> None:
    tag = unique("t")
    name = unique("adm")
    shown = create_wait(cloud, name, template_file(tmp_path, "a.yaml", ADMIN),
                        "--parameter", f"tag={tag}")  # fmt: skip
    assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
    out = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
    res = {r["resource_name"]: r["physical_resource_id"]
           for r in cloud.openstack("stack", "resource", "list", name)}  # fmt: skip
    assert out["flavor_specs"] == {"hw:cpu_policy": "shared"}
    assert out["project_name"] == f"prj-{tag}" and out["user_project"] == res["project"]
    flavor = cloud.openstack("flavor", "show", res["flavor"])
    assert flavor["name"] == f"flv-{tag}" and flavor["ram"] == 128 and flavor["vcpus"] == 2
    assert flavor["os-flavor-access:is_public"] is False
    assert flavor["properties"] == {"hw:cpu_policy": "shared"}
    assert res["project"] in str(flavor.get("access_project_ids"))
    group = cloud.openstack("server", "group", "show", res["group"])
    assert group["name"] == f"grp-{tag}" and group["policy"] == "affinity"
    project = cloud.openstack("project", "show", res["project"])
    assert project["description"] == "made by heat" and project["tags"] == ["heat"]
    user = cloud.openstack("user", "show", res["user"])
    assert user["name"] == f"usr-{tag}" and user["default_project_id"] == res["project"]
    assert user["email"] == "u@example.com"
    grants = cloud.openstack("role", "assignment", "list", "--user", res["user"], "--project",
                             res["project"])  # fmt: skip
    assert [g["Role"] for g in grants] == [res["role"]]
    delete_wait(cloud, name)
    for kind in (("flavor",), ("server", "group"), ("project",), ("role",), ("user",)):
        ref = res[{"flavor": "flavor", "server": "group"}.get(kind[0], kind[0])]
        gone = cloud.openstack(*kind, "show", ref, check=False, json_output=False)
        assert gone.returncode != 0, (kind, gone.stdout)


def test_member_may_not_make_keystone_or_flavor_resources(cloud: Cloud, tmp_path: Path) -> None:
    for rtype, props in (("OS::Keystone::Project", "{}"), ("OS::Nova::Flavor",
                                                             "{ram: 64, vcpus: 1}")):  # fmt: skip
        text = f"""
heat_template_version: 2018-08-31
resources:
  group: {{type: OS::Nova::ServerGroup, properties: {{policies: [anti-affinity]}}}}
  thing: {{type: "{rtype}", properties: {props}, depends_on: group}}
"""
        name = unique("mem")
        cloud.openstack("stack", "create", "-t", template_file(tmp_path, "m.yaml", text), name,
                        cloud="onestack-demo", json_output=False)  # fmt: skip
        shown = wait_stack(cloud, name, ("CREATE_FAILED", "CREATE_COMPLETE"),
                           cloud="onestack-demo")  # fmt: skip
        assert shown["stack_status"] == "CREATE_FAILED"
        events = cloud.openstack("stack", "event", "list", name, cloud="onestack-demo")
        failed = [e for e in events if e["resource_name"] == "thing"
                  and e["resource_status"] == "CREATE_FAILED"]  # fmt: skip
        assert failed, events
        reason = failed[0]["resource_status_reason"]
        assert reason.startswith("Forbidden: resources.thing"), reason
        assert f"resource_types:{rtype}" in reason
        group = cloud.openstack("stack", "resource", "show", name, "group",
                                cloud="onestack-demo")  # fmt: skip
        assert group["resource_status"] == "CREATE_COMPLETE"
        delete_wait(cloud, name, cloud="onestack-demo")
