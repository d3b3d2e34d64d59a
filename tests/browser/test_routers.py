"""Routers in the dashboard: gateway, interfaces and static routes, checked through Neutron."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.support.browser import api, shot, token
from tests.support.cloud import Cloud
from tests.support.dashnet import subnet
from tests.support.keystone import unique

NET = "/network/v2.0"


def _router(cloud: Cloud, tok: str, router_id: str) -> dict[str, Any]:
    return dict(api(cloud, "GET", f"{NET}/routers/{router_id}", tok)["router"])


def test_router_gateway_interfaces_routes_and_delete(demo_page: Page, cloud: Cloud) -> None:
    page, tok = demo_page, token(cloud, "demo")
    name = unique("dash-router")
    first = subnet(cloud, tok, f"{name}-a", "10.232.1.0/24")
    second = subnet(cloud, tok, f"{name}-b", "10.232.2.0/24")
    page.goto(f"{cloud.url}/dashboard/project/routers/")
    page.get_by_role("link", name="Create Router").click()
    page.get_by_label("Router Name").fill(name)
    page.get_by_label("External Network").select_option(label="public")
    page.get_by_role("button", name="Create Router").click()
    expect(page.get_by_role("status")).to_contain_text(f'Created router "{name}"')
    router_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    public = api(cloud, "GET", f"{NET}/networks?name=public", tok)["networks"][0]
    assert _router(cloud, tok, router_id)["external_gateway_info"]["network_id"] == public["id"]
    # An interface on the first subnet (its gateway), one at a chosen address on the second.
    page.get_by_role("link", name="Add Interface").click()
    page.get_by_label("Subnet").select_option(first["id"])
    page.get_by_role("button", name="Add Interface").click()
    expect(page.get_by_role("status")).to_contain_text("Added the interface.")
    page.get_by_role("link", name="Add Interface").click()
    page.get_by_label("Subnet").select_option(second["id"])
    page.get_by_label("IP Address").fill("10.232.2.77")
    page.get_by_role("button", name="Add Interface").click()
    expect(page.get_by_role("row").filter(has_text="10.232.2.77")).to_be_visible()
    ports = api(cloud, "GET", f"{NET}/ports?device_id={router_id}", tok)["ports"]
    addresses = {ip["ip_address"] for p in ports for ip in p["fixed_ips"]}
    assert {"10.232.1.1", "10.232.2.77"} <= addresses
    # A static route through the first subnet; a bad one gets Neutron's words by the field.
    page.get_by_role("link", name="Add Static Route").click()
    page.get_by_label("Destination CIDR").fill("not-a-cidr")
    page.get_by_label("Next Hop").fill("10.232.1.50")
    page.get_by_role("button", name="Add Route").click()
    field = page.locator(".field", has=page.get_by_label("Destination CIDR"))
    expect(field.locator(".error")).to_contain_text("not-a-cidr")
    page.get_by_label("Destination CIDR").fill("172.31.5.0/24")
    page.get_by_role("button", name="Add Route").click()
    expect(page.get_by_role("status")).to_contain_text("Added the route to 172.31.5.0/24")
    assert _router(cloud, tok, router_id)["routes"] == [
        {"destination": "172.31.5.0/24", "nexthop": "10.232.1.50"}
    ]
    shot(page, "router-detail")
    page.get_by_role("link", name="Delete Static Route").click()
    page.get_by_role("button", name="Delete Static Route").click()
    expect(page.get_by_role("status")).to_contain_text("Deleted the route to 172.31.5.0/24")
    assert _router(cloud, tok, router_id)["routes"] == []
    # Remove the second interface.
    page.get_by_role("row").filter(has_text="10.232.2.77").get_by_role(
        "link", name="Delete Interface"
    ).click()
    page.get_by_role("button", name="Delete Interface").click()
    expect(page.get_by_role("status")).to_contain_text("Deleted the interface 10.232.2.77")
    ports = api(cloud, "GET", f"{NET}/ports?device_id={router_id}", tok)["ports"]
    assert "10.232.2.77" not in {ip["ip_address"] for p in ports for ip in p["fixed_ips"]}
    # Clear the gateway, set it again.
    page.get_by_role("link", name="Clear Gateway").click()
    page.get_by_role("button", name="Clear Gateway").click()
    expect(page.get_by_role("status")).to_contain_text("Cleared the gateway")
    assert _router(cloud, tok, router_id)["external_gateway_info"] is None
    page.get_by_role("link", name="Set Gateway").click()
    page.get_by_label("External Network").select_option(label="public")
    page.get_by_role("button", name="Set Gateway").click()
    expect(page.get_by_role("status")).to_contain_text("Set the gateway")
    assert _router(cloud, tok, router_id)["external_gateway_info"]["network_id"] == public["id"]
    page.goto(f"{cloud.url}/dashboard/project/routers/")
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("public")
    shot(page, "routers")
    # A router with an interface cannot go: Neutron's 409 is the message.
    row.get_by_role("link", name="Delete Router").click()
    page.get_by_role("button", name="Delete Router").click()
    expect(page.get_by_role("alert")).to_contain_text(f'Unable to delete router "{name}"')
    page.get_by_role("link", name="Delete Interface").click()
    page.get_by_role("button", name="Delete Interface").click()
    page.get_by_role("link", name="Delete Router").click()
    page.get_by_role("button", name="Delete Router").click()
    expect(page.get_by_role("status")).to_contain_text(f'Deleted router "{name}"')
    assert api(cloud, "GET", f"{NET}/routers?id={router_id}", tok)["routers"] == []


def test_another_projects_router_is_not_found(demo_page: Page, cloud: Cloud) -> None:
    admin = token(cloud, "admin", "admin")
    made = api(cloud, "POST", f"{NET}/routers", admin, json={"router": {"name": unique("r")}})
    router_id = made["router"]["id"]
    for tail in ("", "addinterface/", "delete/"):
        resp = demo_page.goto(f"{cloud.url}/dashboard/project/routers/{router_id}/{tail}")
        assert resp is not None and resp.status == 404, tail
    api(cloud, "DELETE", f"{NET}/routers/{router_id}", admin)
