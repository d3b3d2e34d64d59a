"""Networks, subnets and ports in the dashboard, each checked through the Neutron API."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.browser import api, shot, token
from tests.support.cloud import Cloud
from tests.support.keystone import unique

NET = "/network/v2.0"


def _create_network(page: Page, cloud: Cloud, name: str, cidr: str) -> str:
    page.goto(f"{cloud.url}/dashboard/project/networks/create/")
    page.get_by_label("Network Name").fill(name)
    page.get_by_label("Subnet Name").fill(f"{name}-sub")
    page.get_by_label("Network Address").fill(cidr)
    page.get_by_label("DNS Name Servers").fill("10.1.1.1")
    page.get_by_label("Allocation Pools").fill(
        cidr.replace("0/24", "10") + "," + cidr.replace("0/24", "20")
    )
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("status")).to_contain_text(f'Created network "{name}"')
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def test_create_a_network_with_a_subnet_edit_and_delete_it(demo_page: Page, cloud: Cloud) -> None:
    page, tok = demo_page, token(cloud, "demo")
    name = unique("dash-net")
    network_id = _create_network(page, cloud, name, "10.231.7.0/24")
    expect(page.get_by_role("heading", name=f"Network Details: {name}")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="10.231.7.0/24")).to_be_visible()
    network = api(cloud, "GET", f"{NET}/networks/{network_id}", tok)["network"]
    subnet = api(cloud, "GET", f"{NET}/subnets/{network['subnets'][0]}", tok)["subnet"]
    assert subnet["cidr"] == "10.231.7.0/24" and subnet["dns_nameservers"] == ["10.1.1.1"]
    assert subnet["allocation_pools"] == [{"start": "10.231.7.10", "end": "10.231.7.20"}]
    shot(page, "network-detail")
    page.goto(f"{cloud.url}/dashboard/project/networks/")
    expect(page.get_by_role("link", name=name)).to_be_visible()
    shot(page, "networks")
    # Edit: the new name is the API's.
    page.get_by_role("row").filter(has_text=name).get_by_role("link", name="Edit Network").click()
    page.get_by_label("Network Name").fill(f"{name}-2")
    page.get_by_label("Enable Admin State").uncheck()
    page.get_by_role("button", name="Save Changes").click()
    expect(page.get_by_role("status")).to_contain_text("Updated network")
    network = api(cloud, "GET", f"{NET}/networks/{network_id}", tok)["network"]
    assert network["name"] == f"{name}-2" and network["admin_state_up"] is False
    # Delete, through its confirmation.
    page.get_by_role("link", name="Delete Network").click()
    expect(page.get_by_text(f'Delete the network "{name}-2"')).to_be_visible()
    page.get_by_role("button", name="Delete Network").click()
    expect(page.get_by_role("status")).to_contain_text(f'Deleted network "{name}-2"')
    found = api(cloud, "GET", f"{NET}/networks?id={network_id}", tok)["networks"]
    assert found == []


def test_an_invalid_cidr_shows_neutrons_message_by_the_field(demo_page: Page, cloud: Cloud) -> None:
    page, tok = demo_page, token(cloud, "demo")
    name = unique("dash-badnet")
    page.goto(f"{cloud.url}/dashboard/project/networks/create/")
    page.get_by_label("Network Name").fill(name)
    page.get_by_label("Network Address").fill("10.0.0.300/24")
    page.get_by_role("button", name="Create").click()
    field = page.locator(".field", has=page.get_by_label("Network Address"))
    expect(field.locator(".error")).to_have_text(
        "Invalid input for operation: '10.0.0.300/24' is not a valid IP subnet."
    )
    expect(page.get_by_label("Network Name")).to_have_value(name)
    expect(page.get_by_label("Network Address")).to_have_value("10.0.0.300/24")
    # The network made for it is not left behind.
    assert api(cloud, "GET", f"{NET}/networks?name={name}", tok)["networks"] == []
    # A required field is asked for before the API is.
    page.get_by_label("Network Address").fill("")
    page.get_by_label("Network Address").evaluate("e => e.removeAttribute('required')")
    page.get_by_role("button", name="Create").click()
    expect(field.locator(".error")).to_have_text("This field is required.")


def test_subnets_and_ports_under_a_network(demo_page: Page, cloud: Cloud) -> None:
    page, tok = demo_page, token(cloud, "demo")
    name = unique("dash-net")
    network_id = _create_network(page, cloud, name, "10.231.8.0/24")
    here = f"{cloud.url}/dashboard/project/networks/{network_id}/"
    # A second subnet.
    page.get_by_role("link", name="Create Subnet").click()
    page.get_by_label("Subnet Name").fill("second")
    page.get_by_label("Network Address").fill("10.231.9.0/24")
    page.get_by_label("Enable DHCP").uncheck()
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("status")).to_contain_text('Created subnet "second"')
    subnets = api(cloud, "GET", f"{NET}/subnets?network_id={network_id}&name=second", tok)
    second = subnets["subnets"][0]
    assert second["cidr"] == "10.231.9.0/24" and second["enable_dhcp"] is False
    # Edit it: the gateway goes.
    page.get_by_role("row").filter(has_text="second").get_by_role(
        "link", name="Edit Subnet"
    ).click()
    page.get_by_label("Disable Gateway").check()
    page.get_by_role("button", name="Save Changes").click()
    expect(page.get_by_role("status")).to_contain_text('Updated subnet "second"')
    assert api(cloud, "GET", f"{NET}/subnets/{second['id']}", tok)["subnet"]["gateway_ip"] is None
    # A port with a fixed IP on it, without port security.
    page.get_by_role("link", name="Create Port").click()
    page.get_by_label("Name", exact=True).fill("p1")
    page.get_by_label("Subnet").select_option(second["id"])
    page.get_by_label("Fixed IP Address").fill("10.231.9.50")
    page.get_by_label("Port Security").uncheck()
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("status")).to_contain_text('Created port "p1"')
    expect(page.get_by_role("row").filter(has_text="10.231.9.50")).to_be_visible()
    port = api(cloud, "GET", f"{NET}/ports?network_id={network_id}&name=p1", tok)["ports"][0]
    assert port["fixed_ips"][0]["ip_address"] == "10.231.9.50"
    assert port["port_security_enabled"] is False and port["security_groups"] == []
    # Edit it: port security on, with the default group.
    page.get_by_role("row").filter(has_text="p1").get_by_role("link", name="Edit Port").click()
    page.get_by_label("Port Security").check()
    page.get_by_label("default").first.check()
    page.get_by_role("button", name="Save Changes").click()
    expect(page.get_by_role("status")).to_contain_text('Updated port "p1"')
    port = api(cloud, "GET", f"{NET}/ports/{port['id']}", tok)["port"]
    assert port["port_security_enabled"] is True and len(port["security_groups"]) == 1
    # A taken address: Neutron's words beside the field.
    page.get_by_role("link", name="Create Port").click()
    page.get_by_label("Subnet").select_option(second["id"])
    page.get_by_label("Fixed IP Address").fill("10.231.9.50")
    page.get_by_role("button", name="Create").click()
    expect(page.locator(".message.error, .field .error").first).to_contain_text("10.231.9.50")
    # Delete the port and the subnet, each through its confirmation.
    page.goto(here)
    page.get_by_role("row").filter(has_text="p1").get_by_role("link", name="Delete Port").click()
    page.get_by_role("button", name="Delete Port").click()
    expect(page.get_by_role("status")).to_contain_text('Deleted port "p1"')
    assert api(cloud, "GET", f"{NET}/ports?id={port['id']}", tok)["ports"] == []
    page.get_by_role("row").filter(has_text="second").get_by_role(
        "link", name="Delete Subnet"
    ).click()
    page.get_by_role("button", name="Delete Subnet").click()
    expect(page.get_by_role("status")).to_contain_text('Deleted subnet "second"')
    assert api(cloud, "GET", f"{NET}/subnets?id={second['id']}", tok)["subnets"] == []


def test_another_projects_network_is_not_found(demo_page: Page, cloud: Cloud) -> None:
    admin = token(cloud, "admin", "admin")
    network = api(
        cloud, "POST", f"{NET}/networks", admin, json={"network": {"name": unique("adm")}}
    )
    network_id = network["network"]["id"]
    resp = demo_page.goto(f"{cloud.url}/dashboard/project/networks/{network_id}/")
    assert resp is not None and resp.status == 404
    expect(demo_page.get_by_role("heading", name="Not Found")).to_be_visible()
    resp = demo_page.goto(f"{cloud.url}/dashboard/project/networks/{network_id}/update/")
    assert resp is not None and resp.status == 404
    api(cloud, "DELETE", f"{NET}/networks/{network_id}", admin)


def test_the_list_shows_the_external_network_without_changing_it(
    demo_page: Page, cloud: Cloud
) -> None:
    demo_page.goto(f"{cloud.url}/dashboard/project/networks/")
    row = demo_page.get_by_role("row").filter(
        has=demo_page.get_by_role("link", name="public", exact=True)
    )
    expect(row).to_contain_text("Yes")
    expect(row.get_by_role("link", name="Delete Network")).to_have_count(0)
