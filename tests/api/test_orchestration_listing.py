"""Stack and event listings beyond one page (#17): an admin's ``stack list --all-projects``
(Heat's global_tenant) shows every project's stacks, a member's is a 403; a stack's events
filtered by ``resource_action`` and ``resource_status``, sorted by ``sort_dir`` and walked
by ``limit`` and ``marker``; ``stack list --tags`` with each ``--tag-mode``; deleted stacks
(``--deleted``), stacks with a hidden tag (``--hidden``), the column filters, ``with_count``
and Heat's 400s for values it refuses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import Caller, alt_project, http_client, unique
from tests.support.heat import base_path, delete_wait, wait_stack
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


NESTS = """
heat_template_version: 2018-08-31
resources:
  inner:
    type: OS::Heat::Stack
    properties:
      template: |
        heat_template_version: 2018-08-31
        resources: {}
"""


def test_stack_list_deleted_hidden_filtered_and_counted(cloud: Cloud, admin: httpx.Client) -> None:
    """``stack list --deleted`` shows a deleted stack (DELETE_COMPLETE), ``--hidden`` one
    tagged with a hidden tag (Heat's default hidden_stack_tags); heatclient's
    ``stacks.list(filters=...)`` by name, status (with its action), tenant, username and
    owner_id; ``with_count`` counts what the filters select whatever the page."""
    from heatclient import client as heat_client

    prefix = unique("shown")
    live, hidden, gone, nests = (f"{prefix}-{k}" for k in ("live", "hidden", "gone", "nests"))
    me = token_info(cloud, str(admin.headers["X-Auth-Token"]))
    stacks = f"{base_path(str(me['project']['id']))}/stacks"
    empty = "heat_template_version: 2018-08-31\nresources: {}\n"
    made = {
        live: {"template": empty},
        hidden: {"template": empty, "tags": "data-processing-cluster,x"},
        gone: {"template": empty},
        nests: {"template": NESTS},
    }
    for name, extra in made.items():
        resp = admin.post(stacks, json={"stack_name": name, **extra})
        assert resp.status_code == 201, resp.text
    ids = {name: wait_stack(cloud, name, ("CREATE_COMPLETE",))["id"] for name in made}
    delete_wait(cloud, gone)

    def listed(*args: str) -> dict[str, str]:
        rows = cloud.openstack("stack", "list", *args)
        return {r["Stack Name"]: r["Stack Status"] for r in rows
                if r["Stack Name"].startswith(prefix) and r["Stack Name"] in made}  # fmt: skip

    assert set(listed()) == {live, nests}
    assert set(listed("--hidden")) == {live, nests, hidden}
    deleted = listed("--deleted")
    assert set(deleted) == {live, nests, gone} and deleted[gone] == "DELETE_COMPLETE", deleted
    assert set(listed("--deleted", "--hidden")) == set(made)
    assert len(cloud.openstack("stack", "list", "--hidden", "--deleted", "--limit", "2")) == 2

    sdk = cloud.sdk()
    heat = heat_client.Client("1", session=sdk.session, region_name="RegionOne")

    def names(**kw: Any) -> set[str]:
        return {s.stack_name for s in heat.stacks.list(**kw) if s.stack_name.startswith(prefix)}

    assert names(filters={"name": [live, hidden]}) == {live}
    assert names(filters={"name": [live, hidden]}, show_hidden=True) == {live, hidden}
    assert names(filters={"status": "DELETE_COMPLETE"}, show_deleted=True) == {gone}
    assert names(filters={"status": "COMPLETE", "action": "DELETE"}, show_deleted=True) == {gone}
    assert names(filters={"tenant": str(me["project"]["id"]), "name": live}) == {live}
    assert names(filters={"tenant": "no-such-project"}) == set()
    assert names(filters={"username": str(me["user"]["name"]), "name": live}) == {live}
    assert names(filters={"username": "nobody-of-that-name", "name": live}) == set()
    assert heat.stacks.get(ids[live]).stack_owner == me["user"]["name"]
    child = list(heat.stacks.list(filters={"owner_id": ids[nests]}, show_nested=True))
    assert len(child) == 1 and child[0].parent == ids[nests], child
    assert list(heat.stacks.list(filters={"owner_id": ids[nests]})) == []

    every = {"name": list(made), "show_hidden": "true", "show_deleted": "true"}
    counted = admin.get(stacks, params={**every, "with_count": "true", "limit": 1}).json()
    assert len(counted["stacks"]) == 1 and counted["count"] == 4, counted
    nxt = counted["links"][0]
    assert nxt["rel"] == "next" and f"marker={counted['stacks'][0]['id']}" in nxt["href"], nxt
    assert admin.get(stacks, params={**every, "with_count": "true"}).json()["count"] == 4
    by_tag = admin.get(stacks, params={"tags": "x", "show_hidden": "true", "with_count": "true",
                                       "limit": 0}).json()  # fmt: skip
    assert by_tag["stacks"] == [] and by_tag["count"] >= 1, by_tag
    assert "count" not in admin.get(stacks, params=every).json()
    # Heat drops sort keys it does not know and sorts ascending when keys are given.
    sorted_ = admin.get(stacks, params={**every, "sort_keys": ["bogus", "stack_name"]}).json()
    assert [s["stack_name"] for s in sorted_["stacks"]] == sorted(made)

    for bad in ({"show_deleted": "maybe"}, {"show_hidden": "1"}, {"with_count": "yes"},
                {"global_tenant": "yes"}, {"limit": "-1"}, {"limit": "x"}, {"limit": "05"},
                {"sort_dir": "up"}):  # fmt: skip
        refused = admin.get(stacks, params=bad)
        assert refused.status_code == 400, (bad, refused.text)
    for name in (live, hidden, nests):
        assert admin.delete(f"{stacks}/{name}/{ids[name]}").status_code == 204
