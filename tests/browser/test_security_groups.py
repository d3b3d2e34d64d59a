"""Security groups and their rules in the dashboard, checked through the Neutron API."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.browser import api, shot, token
from tests.support.cloud import Cloud
from tests.support.keystone import unique

NET = "/network/v2.0"


def _create(page: Page, cloud: Cloud, name: str) -> str:
    page.goto(f"{cloud.url}/dashboard/project/security_groups/")
    page.get_by_role("link", name="Create Security Group").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Description").fill("made in the browser")
    page.get_by_role("button", name="Create Security Group").click()
    expect(page.get_by_role("status")).to_contain_text(f'Created security group "{name}"')
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def _add_rule(page: Page, protocol: str, port: str, cidr: str) -> None:
    page.get_by_role("link", name="Add Rule").click()
    page.get_by_label("IP Protocol").select_option(protocol)
    page.get_by_label("From Port").fill(port)
    page.get_by_label("CIDR").fill(cidr)
    page.get_by_role("button", name="Add").click()


def test_create_edit_and_delete_a_group(demo_page: Page, cloud: Cloud) -> None:
    page, tok = demo_page, token(cloud, "demo")
    name = unique("dash-sg")
    group_id = _create(page, cloud, name)
    expect(page.get_by_role("heading", name=f"Manage Security Group Rules: {name}")).to_be_visible()
    group = api(cloud, "GET", f"{NET}/security-groups/{group_id}", tok)["security_group"]
    assert group["name"] == name and group["description"] == "made in the browser"
    page.goto(f"{cloud.url}/dashboard/project/security_groups/")
    expect(page.get_by_role("link", name=name)).to_be_visible()
    shot(page, "security-groups")
    page.get_by_role("row").filter(has_text=name).get_by_role(
        "link", name="Edit Security Group"
    ).click()
    page.get_by_label("Name").fill(f"{name}-2")
    page.get_by_role("button", name="Save Changes").click()
    expect(page.get_by_role("status")).to_contain_text(f'Updated security group "{name}-2"')
    group = api(cloud, "GET", f"{NET}/security-groups/{group_id}", tok)["security_group"]
    assert group["name"] == f"{name}-2"
    page.get_by_role("row").filter(has_text=f"{name}-2").get_by_role(
        "link", name="Delete Security Group"
    ).click()
    page.get_by_role("button", name="Delete Security Group").click()
    expect(page.get_by_role("status")).to_contain_text(f'Deleted security group "{name}-2"')
    assert api(cloud, "GET", f"{NET}/security-groups?id={group_id}", tok)["security_groups"] == []


def test_rules_added_and_deleted_and_neutrons_refusals_shown(demo_page: Page, cloud: Cloud) -> None:
    page, tok = demo_page, token(cloud, "demo")
    group_id = _create(page, cloud, unique("dash-sg"))
    _add_rule(page, "tcp", "22", "10.20.0.0/16")
    expect(page.get_by_role("status")).to_contain_text("Added the rule.")
    row = page.get_by_role("row").filter(has_text="10.20.0.0/16")
    expect(row).to_contain_text("tcp")
    rules = api(cloud, "GET", f"{NET}/security-group-rules?security_group_id={group_id}", tok)
    ssh = [r for r in rules["security_group_rules"] if r["remote_ip_prefix"] == "10.20.0.0/16"]
    assert len(ssh) == 1 and ssh[0]["port_range_min"] == ssh[0]["port_range_max"] == 22
    assert ssh[0]["protocol"] == "tcp" and ssh[0]["direction"] == "ingress"
    shot(page, "security-group-rules")
    # The same rule again: Neutron's 409, in its words, and the form kept.
    _add_rule(page, "tcp", "22", "10.20.0.0/16")
    expect(page.get_by_role("alert")).to_contain_text("Security group rule already exists.")
    expect(page.get_by_label("From Port")).to_have_value("22")
    # A reversed range: Neutron's 400 by the port field.
    page.get_by_label("From Port").fill("30")
    page.get_by_label("To Port").fill("20")
    page.get_by_role("button", name="Add").click()
    field = page.locator(".field", has=page.get_by_label("From Port"))
    expect(field.locator(".error")).to_contain_text("port_range_min must be <= port_range_max")
    # A rule from another group of the project.
    page.get_by_label("From Port").fill("")
    page.get_by_label("To Port").fill("")
    page.get_by_label("IP Protocol").select_option("")
    page.get_by_label("Remote", exact=True).select_option("sg")
    page.get_by_label("Remote Security Group").select_option(label="default")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_contain_text("Added the rule.")
    expect(page.get_by_role("row").filter(has_text="default")).to_have_count(1)
    # Delete the SSH rule through its confirmation.
    page.get_by_role("row").filter(has_text="10.20.0.0/16").get_by_role(
        "link", name="Delete Rule"
    ).click()
    page.get_by_role("button", name="Delete Rule").click()
    expect(page.get_by_role("status")).to_contain_text("Deleted the rule.")
    left = api(cloud, "GET", f"{NET}/security-group-rules?id={ssh[0]['id']}", tok)
    assert left["security_group_rules"] == []


def test_another_projects_group_is_not_found(demo_page: Page, cloud: Cloud) -> None:
    admin = token(cloud, "admin", "admin")
    made = api(
        cloud, "POST", f"{NET}/security-groups", admin,
        json={"security_group": {"name": unique("adm-sg")}},
    )["security_group"]  # fmt: skip
    for tail in ("", "add_rule/", "delete/"):
        resp = demo_page.goto(f"{cloud.url}/dashboard/project/security_groups/{made['id']}/{tail}")
        assert resp is not None and resp.status == 404, tail
    api(cloud, "DELETE", f"{NET}/security-groups/{made['id']}", admin)
