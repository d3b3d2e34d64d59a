"""Stack and event listings beyond one page (#17): an admin's ``stack list --all-projects``
(Heat's global_tenant) shows every project's stacks, a member's is a 403; a stack's events
filtered by ``resource_action`` and ``resource_status``, sorted by ``sort_dir`` and walked
by ``limit`` and ``marker``; ``stack list --tags`` with each ``--tag-mode``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import Caller, alt_project, http_client, unique
from tests.support.heat import base_path, wait_stack
from tests.support.keystone import token_info

pytestmark = pytest.mark.cli

admin = http_client("onestack")
other = alt_project()

TWO = """
heat_template_version: 2018-08-31
resources:
  a: {type: OS::Heat::RandomString}
  b: {type: OS::Heat::RandomString, depends_on: a}
"""


def test_global_tenant_lists_every_project_for_admins_only(
    cloud: Cloud, admin: httpx.Client, other: Caller
) -> None:
    name = unique("elsewhere")
    theirs = f"{base_path(other.project_id)}/stacks"
    made = other.client.post(theirs, json={"stack_name": name, "template": TWO})
    assert made.status_code == 201, made.text
    listed = cloud.openstack("stack", "list", "--all-projects")
    row = next((s for s in listed if s["Stack Name"] == name), None)
    assert row is not None and row["Project"] == other.project_id, listed
    assert all(s["Stack Name"] != name for s in cloud.openstack("stack", "list"))
    refused = other.client.get(theirs, params={"global_tenant": "true"})
    assert refused.status_code == 403 and refused.json()["error"]["type"] == "Forbidden"
    stack_id = made.json()["stack"]["id"]
    assert other.client.delete(f"{theirs}/{name}/{stack_id}").status_code == 204


def test_events_filtered_sorted_and_paged(cloud: Cloud, admin: httpx.Client) -> None:
    project = str(token_info(cloud, str(admin.headers["X-Auth-Token"]))["project"]["id"])
    stacks = f"{base_path(project)}/stacks"
    name = unique("events")
    assert admin.post(stacks, json={"stack_name": name, "template": TWO}).status_code == 201
    stack_id = wait_stack(cloud, name, ("CREATE_COMPLETE",))["id"]

    def events(**params: Any) -> list[tuple[str, str]]:
        resp = admin.get(f"{stacks}/{name}/events", params=params, follow_redirects=True)
        assert resp.status_code == 200, resp.text
        return [(e["resource_name"], e["resource_status"]) for e in resp.json()["events"]]

    every = events()
    assert every == [(name, "CREATE_IN_PROGRESS"), ("a", "CREATE_IN_PROGRESS"),
                     ("a", "CREATE_COMPLETE"), ("b", "CREATE_IN_PROGRESS"),
                     ("b", "CREATE_COMPLETE"), (name, "CREATE_COMPLETE")]  # fmt: skip
    assert events(sort_dir="desc") == every[::-1]
    assert events(resource_status="COMPLETE") == [e for e in every if e[1] == "CREATE_COMPLETE"]
    assert events(resource_action="CREATE") == every and events(resource_action="DELETE") == []
    walked: list[tuple[str, str]] = []
    marker = None
    while True:
        resp = admin.get(f"{stacks}/{name}/events", follow_redirects=True,
                         params={"limit": 2, **({"marker": marker} if marker else {})})  # fmt: skip
        page = resp.json()["events"]
        walked += [(e["resource_name"], e["resource_status"]) for e in page]
        if len(page) < 2:
            break
        marker = page[-1]["id"]
    assert walked == every
    # A resource's own events, by the resource path.
    own = admin.get(f"{stacks}/{name}/{stack_id}/resources/a/events").json()
    assert [e["resource_status"] for e in own["events"]] == ["CREATE_IN_PROGRESS",
                                                              "CREATE_COMPLETE"]  # fmt: skip
    assert admin.delete(f"{stacks}/{name}/{stack_id}").status_code == 204


def test_resource_type_list_filters(cloud: Cloud) -> None:
    """``orchestration resource type list --filter`` (Heat's name, support_status filters)
    and ``--long`` (with_description)."""
    named = cloud.openstack("orchestration", "resource", "type", "list",
                            "--filter", "name=OS::Heat::Random")  # fmt: skip
    assert [t["Resource Type"] for t in named] == ["OS::Heat::RandomString"], named
    neutron = {t["Resource Type"] for t in cloud.openstack(
        "orchestration", "resource", "type", "list", "--filter", "name=OS::Neutron::")}  # fmt: skip
    assert {"OS::Neutron::Net", "OS::Neutron::FloatingIPAssociation"} <= neutron
    assert all(t.startswith("OS::Neutron::") for t in neutron), neutron
    supported = cloud.openstack("orchestration", "resource", "type", "list",
                                "--filter", "support_status=SUPPORTED")  # fmt: skip
    assert "OS::Nova::Server" in {t["Resource Type"] for t in supported}
    described = cloud.openstack("orchestration", "resource", "type", "list", "--long",
                                "--filter", "name=OS::Heat::RandomString")  # fmt: skip
    assert described[0]["Description"], described


def test_stack_list_by_tags(cloud: Cloud, admin: httpx.Client) -> None:
    """``stack list --tags`` and its ``--tag-mode`` (Heat's tags, tags_any, not_tags,
    not_tags_any filters), with limit and marker over the filtered list."""
    prefix = unique("tagged")
    tagged = {f"{prefix}-ab": "a,b", f"{prefix}-a": "a", f"{prefix}-c": "c"}
    template = "heat_template_version: 2018-08-31\nresources: {}\n"
    project = str(token_info(cloud, str(admin.headers["X-Auth-Token"]))["project"]["id"])
    stacks = f"{base_path(project)}/stacks"
    for name, tags in tagged.items():
        made = admin.post(stacks, json={"stack_name": name, "template": template, "tags": tags})
        assert made.status_code == 201, made.text
    for name in tagged:
        wait_stack(cloud, name, ("CREATE_COMPLETE",))

    def listed(*args: str) -> set[str]:
        rows = cloud.openstack("stack", "list", *args)
        return {r["Stack Name"] for r in rows if r["Stack Name"].startswith(prefix)}

    ab, a, c = tagged
    assert listed("--tags", "a,b") == {ab}
    assert listed("--tags", "a") == {ab, a}
    assert listed("--tags", "a,c", "--tag-mode", "any") == {ab, a, c}
    assert listed("--tags", "a,b", "--tag-mode", "not") == {a, c}
    assert listed("--tags", "b,c", "--tag-mode", "not-any") == {a}
    shown = cloud.openstack("stack", "show", ab)
    assert shown["tags"] == ["a", "b"], shown
    # limit and marker walk the filtered list.
    first = admin.get(stacks, params={"tags": "a", "sort_keys": "stack_name", "sort_dir": "asc",
                                      "limit": 1}).json()["stacks"]  # fmt: skip
    assert [s["stack_name"] for s in first] == [a]
    rest = admin.get(stacks, params={"tags": "a", "sort_keys": "stack_name", "sort_dir": "asc",
                                     "marker": first[0]["id"]}).json()["stacks"]  # fmt: skip
    assert [s["stack_name"] for s in rest] == [ab]
    long = admin.get(stacks, params={"tags": "x" * 81})
    assert long.status_code == 400, long.text
    for s in admin.get(stacks, params={"tags_any": "a,c"}).json()["stacks"]:
        if s["stack_name"].startswith(prefix):
            assert admin.delete(f"{stacks}/{s['stack_name']}/{s['id']}").status_code == 204
