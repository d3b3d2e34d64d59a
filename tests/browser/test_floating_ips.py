"""Floating IPs in the dashboard: allocate, associate, disassociate, release (Neutron checks)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.browser import api, shot, token
from tests.support.cloud import Cloud
from tests.support.dashnet import router, server_on, subnet
from tests.support.keystone import unique

NET = "/network/v2.0"


def test_allocate_associate_disassociate_release(demo_page: Page, cloud: Cloud) -> None:
    page, tok = demo_page, token(cloud, "demo")
    name = unique("dash-fip")
    sub = subnet(cloud, tok, name, "10.233.1.0/24")
    router(cloud, tok, name, sub["id"])
    server_id, port = server_on(cloud, tok, name, sub["network_id"])
    fixed = port["fixed_ips"][0]["ip_address"]
    page.goto(f"{cloud.url}/dashboard/project/floating_ips/")
    page.get_by_role("link", name="Allocate IP To Project").click()
    page.get_by_label("Pool").select_option(label="public")
    page.get_by_label("Description").fill(name)
    page.get_by_role("button", name="Allocate IP").click()
    expect(page.get_by_role("status")).to_contain_text("Allocated floating IP")
    fip = api(cloud, "GET", f"{NET}/floatingips?description={name}", tok)["floatingips"][0]
    row = page.get_by_role("row").filter(has_text=fip["floating_ip_address"])
    expect(row).to_contain_text("public")
    row.get_by_role("link", name="Associate").click()
    page.get_by_label("Port to be associated").select_option(label=f"{name}: {fixed}")
    page.get_by_role("button", name="Associate").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Associated floating IP {fip['floating_ip_address']} with {fixed}"
    )
    got = api(cloud, "GET", f"{NET}/floatingips/{fip['id']}", tok)["floatingip"]
    assert got["port_id"] == port["id"] and got["fixed_ip_address"] == fixed
    expect(row.get_by_role("link", name=fixed)).to_have_attribute(
        "href", f"/dashboard/project/instances/{server_id}/"
    )
    shot(page, "floating-ips")
    row.get_by_role("link", name="Disassociate").click()
    page.get_by_role("button", name="Disassociate Floating IP").click()
    expect(page.get_by_role("status")).to_contain_text("Disassociated floating IP")
    assert api(cloud, "GET", f"{NET}/floatingips/{fip['id']}", tok)["floatingip"]["port_id"] is None
    row.get_by_role("link", name="Release Floating IP").click()
    page.get_by_role("button", name="Release Floating IP").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Released floating IP {fip['floating_ip_address']}"
    )
    assert api(cloud, "GET", f"{NET}/floatingips?id={fip['id']}", tok)["floatingips"] == []
    api(cloud, "DELETE", f"/compute/v2.1/servers/{server_id}", tok)


def test_associating_with_an_unrouted_port_shows_neutrons_message(
    demo_page: Page, cloud: Cloud
) -> None:
    page, tok = demo_page, token(cloud, "demo")
    name = unique("dash-fip")
    sub = subnet(cloud, tok, name, "10.233.2.0/24")  # no router to public
    server_id, port = server_on(cloud, tok, name, sub["network_id"])
    public = api(cloud, "GET", f"{NET}/networks?name=public", tok)["networks"][0]
    fip = api(
        cloud, "POST", f"{NET}/floatingips", tok,
        json={"floatingip": {"floating_network_id": public["id"]}},
    )["floatingip"]  # fmt: skip
    page.goto(f"{cloud.url}/dashboard/project/floating_ips/associate/?ip_id={fip['id']}")
    fixed = port["fixed_ips"][0]["ip_address"]
    page.get_by_label("Port to be associated").select_option(label=f"{name}: {fixed}")
    page.get_by_role("button", name="Associate").click()
    expect(page.locator(".message.error, .field .error").first).to_contain_text("not reachable")
    assert api(cloud, "GET", f"{NET}/floatingips/{fip['id']}", tok)["floatingip"]["port_id"] is None
    api(cloud, "DELETE", f"{NET}/floatingips/{fip['id']}", tok)
    api(cloud, "DELETE", f"/compute/v2.1/servers/{server_id}", tok)


def test_another_projects_floating_ip_is_not_found(demo_page: Page, cloud: Cloud) -> None:
    admin = token(cloud, "admin", "admin")
    public = api(cloud, "GET", f"{NET}/networks?name=public", admin)["networks"][0]
    fip = api(
        cloud, "POST", f"{NET}/floatingips", admin,
        json={"floatingip": {"floating_network_id": public["id"]}},
    )["floatingip"]  # fmt: skip
    base = f"{cloud.url}/dashboard/project/floating_ips"
    for url in (f"{base}/{fip['id']}/release/", f"{base}/associate/?ip_id={fip['id']}"):
        resp = demo_page.goto(url)
        assert resp is not None and resp.status == 404, url
    api(cloud, "DELETE", f"{NET}/floatingips/{fip['id']}", admin)
