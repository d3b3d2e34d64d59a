"""The admin panels in Chromium: each flow through the page, its result checked through the
APIs; a member opening an admin page gets the 403 page and no admin data."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.browser import api, server, shot, token
from tests.support.cloud import Cloud
from tests.support.keystone import unique


@pytest.mark.parametrize("path", ["/admin/", "/admin/flavors/", "/admin/hypervisors/"])
def test_a_member_gets_the_403_page(demo_page: Page, cloud: Cloud, path: str) -> None:
    resp = demo_page.goto(f"{cloud.url}/dashboard{path}")
    assert resp is not None and resp.status == 403
    expect(demo_page.get_by_role("heading", name="Forbidden")).to_be_visible()
    expect(demo_page.get_by_role("navigation", name="Dashboard")).not_to_contain_text("Flavors")
    assert "m1.tiny" not in demo_page.content() and "admin@" not in demo_page.content()


def field(page: Page, label: str) -> Locator:
    """The input labelled exactly ``label`` (a required one's label ends in "*")."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def _flavor_form(page: Page, **values: str) -> None:
    for label, value in values.items():
        field(page, label).fill(value)


def test_a_flavor_created_edited_and_deleted_in_the_page(admin_page: Page, cloud: Cloud) -> None:
    page, name = admin_page, unique("dash-flavor")
    page.get_by_role("link", name="Flavors").click()
    expect(page.get_by_role("heading", name="Flavors")).to_be_visible()
    shot(page, "admin-flavors")
    page.get_by_role("link", name="Create Flavor").click()
    _flavor_form(page, **{"Name": name, "VCPUs": "2", "RAM (MB)": "768", "Root Disk (GB)": "3",
                          "Ephemeral Disk (GB)": "1", "Swap Disk (MB)": "64"})  # fmt: skip
    page.get_by_label("Public").uncheck()
    page.get_by_role("button", name="Create Flavor").click()
    expect(page.get_by_role("status")).to_contain_text(f'Created flavor "{name}"')
    admin = token(cloud, "admin", "admin")
    found = api(cloud, "GET", "/compute/v2.1/flavors/detail?is_public=None", admin)["flavors"]
    flavor = next(f for f in found if f["name"] == name)
    assert (flavor["vcpus"], flavor["ram"], flavor["disk"], flavor["swap"]) == (2, 768, 3, 64)
    assert flavor["OS-FLV-EXT-DATA:ephemeral"] == 1
    assert flavor["os-flavor-access:is_public"] is False
    fid = flavor["id"]
    # Extra specs and access survive the edit, which makes the flavor again under its id.
    page.goto(f"{cloud.url}/dashboard/admin/flavors/{fid}/extras/")
    field(page, "Key").fill("hw:cpu_policy")
    field(page, "Value").fill("shared")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("cell", name="hw:cpu_policy", exact=True)).to_be_visible()
    page.goto(f"{cloud.url}/dashboard/admin/flavors/{fid}/access/")
    field(page, "Project").select_option(label="demo")
    page.get_by_role("button", name="Grant Access").click()
    expect(page.get_by_role("button", name="Remove demo")).to_be_visible()
    page.goto(f"{cloud.url}/dashboard/admin/flavors/{fid}/update/")
    field(page, "RAM (MB)").fill("1024")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text(f'Updated flavor "{name}"')
    flavor = api(cloud, "GET", f"/compute/v2.1/flavors/{fid}", admin,
                 headers={"openstack-api-version": "compute 2.61"})["flavor"]  # fmt: skip
    assert flavor["ram"] == 1024 and flavor["vcpus"] == 2
    assert flavor["extra_specs"] == {"hw:cpu_policy": "shared"}
    access = api(cloud, "GET", f"/compute/v2.1/flavors/{fid}/os-flavor-access", admin)
    demo = token(cloud, "demo")
    demo_project = api(cloud, "GET", "/identity/v3/auth/projects", demo)["projects"]
    assert [a["tenant_id"] for a in access["flavor_access"]] == [
        p["id"] for p in demo_project if p["name"] == "demo"
    ]
    page.get_by_role("row", name=re.compile(name)).get_by_role("link", name="Delete Flavor").click()
    page.get_by_role("button", name="Delete Flavor").click()
    expect(page.get_by_role("status")).to_contain_text(f'Deleted flavor "{name}"')
    with pytest.raises(AssertionError, match=r"404|not be found"):
        api(cloud, "GET", f"/compute/v2.1/flavors/{fid}", admin)


def test_a_refused_flavor_shows_the_apis_message_by_its_field(
    admin_page: Page, cloud: Cloud
) -> None:
    page = admin_page
    page.goto(f"{cloud.url}/dashboard/admin/flavors/create/")
    _flavor_form(page, **{"Name": unique("dash-flavor"), "VCPUs": "0", "RAM (MB)": "64",
                          "Root Disk (GB)": "1"})  # fmt: skip
    page.get_by_role("button", name="Create Flavor").click()
    error = page.locator("#err_vcpus")
    expect(error).to_contain_text("vcpus")
    expect(page.get_by_label("RAM (MB)")).to_have_value("64")
    page.get_by_label("VCPUs").fill("1")
    field(page, "Name").fill("")
    page.get_by_role("button", name="Create Flavor").click()
    expect(page.locator("#err_name")).to_have_text("This field is required.")


def test_the_overview_shows_every_projects_usage(admin_page: Page, cloud: Cloud) -> None:
    demo = token(cloud, "demo")
    made = server(cloud, demo, unique("dash-usage"))
    path = f"/compute/v2.1/servers/{made['id']}"
    deadline = time.monotonic() + 30
    while api(cloud, "GET", path, demo)["server"]["status"] != "ACTIVE":
        assert time.monotonic() < deadline, "the server never became ACTIVE"
        time.sleep(0.2)
    page = admin_page
    page.goto(f"{cloud.url}/dashboard/admin/")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"^demo \d+"))).to_be_visible()
    shot(page, "admin-overview")
    api(cloud, "DELETE", path, demo)


def test_hypervisors_show_capacity_charts_and_hosts(admin_page: Page, cloud: Cloud) -> None:
    page = admin_page
    page.get_by_role("link", name="Hypervisors").click()
    admin = token(cloud, "admin", "admin")
    hosts = api(cloud, "GET", "/compute/v2.1/os-hypervisors/detail", admin,
                headers={"openstack-api-version": "compute 2.87"})["hypervisors"]  # fmt: skip
    h = hosts[0]
    chart = page.get_by_role("img", name=f"VCPUs: {h['vcpus_used']} of {h['vcpus']}")
    expect(chart.first).to_be_visible()
    expect(
        page.get_by_role("img", name=re.compile(r"^RAM: \d+ MB of \d+ MB")).first
    ).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(h["hypervisor_hostname"])).first).to_be_visible()
    expect(page.get_by_role("cell", name="nova-compute").first).to_be_visible()
    shot(page, "admin-hypervisors")


def test_system_information_lists_services_and_agents(admin_page: Page, cloud: Cloud) -> None:
    page = admin_page
    page.get_by_role("link", name="System Information").click()
    expect(page.get_by_role("row", name=re.compile(r"^keystone identity"))).to_be_visible()
    expect(page.get_by_role("cell", name="nova-compute").first).to_be_visible()
    expect(page.get_by_role("cell", name="cinder-volume").first).to_be_visible()
    admin = token(cloud, "admin", "admin")
    agents = api(cloud, "GET", "/network/v2.0/agents", admin)["agents"]
    for agent in agents:
        expect(page.get_by_role("cell", name=agent["agent_type"]).first).to_be_visible()
    shot(page, "admin-info")


def test_a_default_quota_changed_in_the_page_is_the_apis(admin_page: Page, cloud: Cloud) -> None:
    page = admin_page
    admin = token(cloud, "admin", "admin")
    path = "/compute/v2.1/os-quota-class-sets/default"
    latest = {"openstack-api-version": "compute 2.96"}
    before = api(cloud, "GET", path, admin, headers=latest)["quota_class_set"][
        "server_group_members"
    ]
    page.get_by_role("link", name="Defaults").click()
    expect(page.get_by_role("row", name=f"Server Group Members {before}")).to_be_visible()
    shot(page, "admin-defaults")
    page.get_by_role("link", name="Update Defaults").click()
    field(page, "Server Group Members").fill(str(before + 7))
    field(page, "Volume Snapshots").fill("-5")
    page.get_by_role("button", name="Update Defaults").click()
    expect(page.locator("#err_volume_snapshots")).to_have_text(
        "Ensure this value is greater than or equal to -1."
    )
    field(page, "Volume Snapshots").fill("10")
    page.get_by_role("button", name="Update Defaults").click()
    expect(page.get_by_role("status")).to_contain_text("Updated the default quotas.")
    try:
        after = api(cloud, "GET", path, admin, headers=latest)["quota_class_set"][
            "server_group_members"
        ]
        assert after == before + 7
        expect(page.get_by_role("row", name=f"Server Group Members {after}")).to_be_visible()
    finally:
        api(cloud, "PUT", path, admin, headers=latest,
            json={"quota_class_set": {"server_group_members": before}})  # fmt: skip
