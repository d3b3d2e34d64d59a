"""The admin panels in Chromium: each flow through the page, its result checked through the
APIs; a member opening an admin page gets the 403 page and no admin data."""

from __future__ import annotations

import random
import re
import time

import httpx
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
    # Each service's state, as the compute and volume APIs report it.
    for binary in ("nova-compute", "cinder-volume"):
        row = page.get_by_role("row", name=re.compile(rf"^{binary} .* enabled up\b"))
        expect(row.first).to_be_visible()
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


def _admin_token(cloud: Cloud) -> str:
    return token(cloud, "admin", "admin")


def test_every_projects_instances_with_host_and_actions(admin_page: Page, cloud: Cloud) -> None:
    demo, name = token(cloud, "demo"), unique("dash-all")
    made = server(cloud, demo, name)
    page = admin_page
    page.get_by_role("link", name="Instances").last.click()
    expect(page.get_by_role("heading", name="All Instances")).to_be_visible()
    field(page, "Name").fill(name)
    page.get_by_role("button", name="Filter").click()
    row = page.get_by_role("row", name=re.compile(name))
    expect(row).to_contain_text("demo")
    admin = _admin_token(cloud)
    shown = api(cloud, "GET", f"/compute/v2.1/servers/{made['id']}", admin,
                headers={"openstack-api-version": "compute 2.96"})["server"]  # fmt: skip
    expect(row.get_by_role("cell", name=shown["OS-EXT-SRV-ATTR:host"], exact=True)).to_be_visible()
    shot(page, "admin-instances")
    # The live table's refresh: the rows alone, as the same user sees them.
    rows = page.request.get(f"{cloud.url}/dashboard/admin/instances/?name={name}&fragment=rows")
    assert rows.ok and name in rows.text() and "<html" not in rows.text()
    # Live migration: the API decides; its answer (done or why not) is the message shown.
    row.get_by_role("button", name="Live Migrate").click()
    expect(page.locator(".message").first).to_contain_text(re.compile(name))
    page.goto(f"{cloud.url}/dashboard/admin/instances/?name={name}")
    page.get_by_role("row", name=re.compile(name)).get_by_role(
        "link", name="Delete Instance"
    ).click()
    page.get_by_role("button", name="Delete Instance").click()
    expect(page.get_by_role("status")).to_contain_text(f'Scheduled deletion of instance "{name}"')
    deadline = time.monotonic() + 30
    while True:
        found = api(cloud, "GET", f"/compute/v2.1/servers?name={name}", demo)["servers"]
        if not found:
            break
        assert time.monotonic() < deadline, found
        time.sleep(0.3)


def test_every_projects_volumes_and_images(admin_page: Page, cloud: Cloud) -> None:
    demo, admin, name = token(cloud, "demo"), _admin_token(cloud), unique("dash-vol")
    demo_project = api(cloud, "GET", "/identity/v3/auth/projects", demo)["projects"]
    pid = next(p["id"] for p in demo_project if p["name"] == "demo")
    vol = api(cloud, "POST", f"/volume/v3/{pid}/volumes", demo,
              json={"volume": {"name": name, "size": 1}})["volume"]  # fmt: skip
    page = admin_page
    page.goto(f"{cloud.url}/dashboard/admin/volumes/?name={name}")
    row = page.get_by_role("row", name=re.compile(name))
    expect(row).to_contain_text("demo")
    expect(row).to_contain_text("1 GiB")
    shot(page, "admin-volumes")
    expect(row).to_contain_text("available")
    row.get_by_role("link", name="Delete Volume").click()
    page.get_by_role("button", name="Delete Volume").click()
    expect(page.get_by_role("status")).to_contain_text(f'Scheduled deletion of volume "{name}"')
    resp = httpx.get(f"{cloud.url}/volume/v3/{pid}/volumes/{vol['id']}",
                     headers={"x-auth-token": demo}, timeout=30)  # fmt: skip
    assert resp.status_code == 404 or resp.json()["volume"]["status"] == "deleting"
    # Images: every project's, the visibility the admin sets is Glance's.
    image_name = unique("dash-img")
    img = api(
        cloud,
        "POST",
        "/image/v2/images",
        demo,
        json={"name": image_name, "disk_format": "raw", "container_format": "bare"},
    )
    page.goto(f"{cloud.url}/dashboard/admin/images/?name={image_name}")
    row = page.get_by_role("row", name=re.compile(image_name))
    expect(row).to_contain_text("demo")
    shot(page, "admin-images")
    row.get_by_role("button", name="Make Community").click()
    expect(page.get_by_role("status")).to_contain_text("The image is now community.")
    assert api(cloud, "GET", f"/image/v2/images/{img['id']}", admin)["visibility"] == "community"
    api(cloud, "DELETE", f"/image/v2/images/{img['id']}", demo)  # fmt: skip


def test_a_provider_network_created_in_the_page(admin_page: Page, cloud: Cloud) -> None:
    page, name = admin_page, unique("dash-prov")
    page.get_by_role("link", name="Networks").last.click()
    expect(page.get_by_role("heading", name="Networks")).to_be_visible()
    page.get_by_role("link", name="Create Network").click()
    field(page, "Name").fill(name)
    field(page, "Project").select_option(label="demo")
    field(page, "Provider Network Type").select_option("flat")
    field(page, "Physical Network").fill("no-such-physnet")
    page.get_by_role("checkbox", name="Shared").check()
    page.get_by_role("button", name="Create Network").click()
    expect(page.locator(".field .error, .message.error").first).to_contain_text("no-such-physnet")
    expect(field(page, "Name")).to_have_value(name)
    vni = random.randint(600, 1000)
    field(page, "Provider Network Type").select_option("vxlan")
    field(page, "Physical Network").fill("")
    field(page, "Segmentation ID").fill(str(vni))
    page.get_by_role("button", name="Create Network").click()
    expect(page.get_by_role("status")).to_contain_text(f'Created network "{name}"')
    admin = _admin_token(cloud)
    net = api(cloud, "GET", f"/network/v2.0/networks?name={name}", admin)["networks"][0]
    assert net["provider:network_type"] == "vxlan"
    assert net["provider:segmentation_id"] == vni and net["shared"] is True
    demo = api(cloud, "GET", "/identity/v3/projects?name=demo", admin)["projects"][0]
    assert net["project_id"] == demo["id"]
    shot(page, "admin-networks")
    page.goto(f"{cloud.url}/dashboard/admin/networks/{net['id']}/delete/")
    page.get_by_role("button", name="Delete Network").click()
    expect(page.get_by_role("status")).to_contain_text(f'Deleted network "{name}"')
    assert api(cloud, "GET", f"/network/v2.0/networks?name={name}", admin)["networks"] == []


def test_every_projects_routers_and_floating_ips(admin_page: Page, cloud: Cloud) -> None:
    demo, name = token(cloud, "demo"), unique("dash-rtr")
    router = api(cloud, "POST", "/network/v2.0/routers", demo,
                 json={"router": {"name": name}})["router"]  # fmt: skip
    page = admin_page
    page.goto(f"{cloud.url}/dashboard/admin/routers/")
    row = page.get_by_role("row", name=re.compile(name))
    expect(row).to_contain_text("demo")
    shot(page, "admin-routers")
    row.get_by_role("link", name="Delete Router").click()
    page.get_by_role("button", name="Delete Router").click()
    expect(page.get_by_role("status")).to_contain_text(f'Deleted router "{name}"')
    resp = httpx.get(f"{cloud.url}/network/v2.0/routers/{router['id']}",
                     headers={"x-auth-token": demo}, timeout=30)  # fmt: skip
    assert resp.status_code == 404
    page.get_by_role("link", name="Floating IPs").last.click()
    expect(page.get_by_role("heading", name="Floating IPs")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Mapped Fixed IP Address")).to_be_visible()


def test_admin_pages_read_on_a_narrow_screen(admin_page: Page, cloud: Cloud) -> None:
    page = admin_page
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/admin/flavors/", "/admin/instances/", "/identity/users/"):
        page.goto(f"{cloud.url}/dashboard{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways ({width}px)"
    shot(page, "identity-users-narrow")
