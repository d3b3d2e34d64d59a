"""The network topology: what the API made is drawn, linked, listed, and kept up to date."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.support.browser import api, shot, sign_in, token
from tests.support.cloud import Cloud
from tests.support.dashnet import router, server_on, subnet
from tests.support.keystone import unique

NET = "/network/v2.0"


def test_the_topology_draws_networks_routers_and_instances(demo_page: Page, cloud: Cloud) -> None:
    page, tok = demo_page, token(cloud, "demo")
    name = unique("dash-topo")
    evil = f"{name}<b>x</b>"
    sub = subnet(cloud, tok, evil, "10.234.1.0/24")
    made = router(cloud, tok, f"{name}-r", sub["id"])
    server_id, port = server_on(cloud, tok, f"{name}-vm", sub["network_id"])
    page.goto(f"{cloud.url}/dashboard/project/network_topology/")
    svg = page.locator("#topology svg")
    expect(svg.locator("title").first).to_have_text("Network topology of project demo")
    # Each element links to its detail page; a name is text, never markup.
    expect(svg.get_by_role("link", name=f"Network {evil}")).to_have_attribute(
        "href", f"/dashboard/project/networks/{sub['network_id']}/"
    )
    expect(svg.get_by_role("link", name=f"Router {name}-r")).to_have_attribute(
        "href", f"/dashboard/project/routers/{made['id']}/"
    )
    expect(svg.get_by_role("link", name=f"Instance {name}-vm")).to_have_attribute(
        "href", f"/dashboard/project/instances/{server_id}/"
    )
    expect(svg.get_by_role("link", name="Network public")).to_be_visible()
    expect(svg.locator("b")).to_have_count(0)
    # The same connections as a list.
    connections = page.locator("ul.connections")
    fixed = port["fixed_ips"][0]["ip_address"]
    expect(connections).to_contain_text(f"Instance {name}-vm on network {evil} ({fixed})")
    expect(connections).to_contain_text(f"Router {name}-r on network {evil} (10.234.1.1)")
    expect(connections).to_contain_text(f"Router {name}-r on network public")
    shot(page, "network-topology")
    page.get_by_role("link", name=f"Router {name}-r").click()
    expect(page.get_by_role("heading", name=f"Router Details: {name}-r")).to_be_visible()
    api(cloud, "DELETE", f"/compute/v2.1/servers/{server_id}", tok)


def test_a_new_network_appears_without_reloading(demo_page: Page, cloud: Cloud) -> None:
    page, tok = demo_page, token(cloud, "demo")
    page.goto(f"{cloud.url}/dashboard/project/network_topology/")
    expect(page.locator("#topology svg")).to_be_visible()
    page.evaluate("window.notReloaded = true")
    name = unique("dash-topo-new")
    made = api(cloud, "POST", f"{NET}/networks", tok, json={"network": {"name": name}})
    link = page.locator("#topology svg").get_by_role("link", name=f"Network {name}")
    expect(link).to_be_visible(timeout=30_000)  # a few of the page's 3 s polls, busy
    expect(page.locator("ul.connections")).to_contain_text(f"Network {name}: nothing connected")
    assert page.evaluate("window.notReloaded") is True
    api(cloud, "DELETE", f"{NET}/networks/{made['network']['id']}", tok)


def _crowded_project(cloud: Cloud, networks: int) -> tuple[str, str]:
    """A new project with ``networks`` networks and a member of it: (user name, password)."""
    admin = token(cloud, "admin", "admin")
    name, password = unique("dash-crowd"), unique("pw")
    body = {"project": {"name": name, "domain_id": "default"}}
    pid = api(cloud, "POST", "/identity/v3/projects", admin, json=body)["project"]["id"]
    body = {"user": {"name": name, "password": password, "default_project_id": pid}}
    uid = api(cloud, "POST", "/identity/v3/users", admin, json=body)["user"]["id"]
    role = api(cloud, "GET", "/identity/v3/roles?name=member", admin)["roles"][0]["id"]
    api(cloud, "PUT", f"/identity/v3/projects/{pid}/users/{uid}/roles/{role}", admin)
    api(cloud, "PUT", f"{NET}/quotas/{pid}", admin, json={"quota": {"network": -1}})
    with httpx.Client(base_url=cloud.url, headers={"x-auth-token": admin}, timeout=60) as c:
        for n in range(networks):
            body = {"network": {"name": f"crowd-{n:03d}", "project_id": pid}}
            assert c.post(f"{NET}/networks", json=body).status_code == 201
    return name, password


def test_a_capped_picture_says_so(page: Page, cloud: Cloud) -> None:
    # One network more than the picture draws (200 of a kind).
    user, password = _crowded_project(cloud, 201)
    sign_in(page, cloud, user, password)
    page.goto(f"{cloud.url}/dashboard/project/network_topology/")
    notice = page.locator("#topology-capped")
    expect(notice).to_contain_text("more than 200 networks")
    expect(notice).not_to_contain_text("instances")
    expect(notice.get_by_role("link", name="See every one of the networks")).to_have_attribute(
        "href", "/dashboard/project/networks/"
    )
    drawn = page.locator("#topology svg a.net").count()
    assert 0 < drawn <= 200, drawn
    shot(page, "network-topology-capped")


def test_an_uncapped_picture_has_no_notice(demo_page: Page, cloud: Cloud) -> None:
    demo_page.goto(f"{cloud.url}/dashboard/project/network_topology/")
    expect(demo_page.locator("#topology svg")).to_be_visible()
    expect(demo_page.locator("#topology-capped")).to_have_count(0)


def test_the_network_pages_read_on_a_narrow_screen(demo_page: Page, cloud: Cloud) -> None:
    demo_page.set_viewport_size({"width": 390, "height": 844})
    for area in ("network_topology", "networks", "routers", "security_groups", "floating_ips"):
        demo_page.goto(f"{cloud.url}/dashboard/project/{area}/")
        width = demo_page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"/project/{area}/ scrolls sideways ({width}px)"
    shot(demo_page, "network-topology-narrow")
