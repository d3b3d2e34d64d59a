"""API Access: the catalog, clouds.yaml and the RC file of the signed-in user (the
clouds.yaml works with the real openstack CLI once the password is added), and
application credentials made, used and deleted through the page."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from playwright.sync_api import Page, expect

from tests.support.browser import api, shot, token
from tests.support.cloud import Cloud
from tests.support.keystone import unique


def test_the_catalog_and_a_clouds_yaml_the_cli_signs_in_with(
    demo_page: Page, cloud: Cloud, tmp_path: Path
) -> None:
    page = demo_page
    page.get_by_role("link", name="API Access").click()
    expect(page.get_by_role("heading", name="API Access")).to_be_visible()
    compute = page.get_by_role("row", name=re.compile(r"^compute nova .*compute.v2\.1"))
    expect(compute).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"^identity keystone "))).to_be_visible()
    shot(page, "api-access")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download OpenStack clouds.yaml File").click()
    text = Path(info.value.path()).read_text()
    config = yaml.safe_load(text)
    entry = config["clouds"]["openstack"]
    assert "password" not in entry["auth"] and "password" not in text
    assert entry["auth"]["username"] == "demo" and entry["region_name"] == "RegionOne"
    entry["auth"]["password"] = cloud.secrets["demo_password"]
    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump(config))
    issued = cloud.openstack("token", "issue", cloud="openstack", config_file=path)
    demo = api(cloud, "GET", "/identity/v3/auth/projects", token(cloud, "demo"))["projects"]
    assert issued["project_id"] == next(p["id"] for p in demo if p["name"] == "demo")


def test_the_rc_file_asks_for_the_password(demo_page: Page, cloud: Cloud) -> None:
    demo_page.goto(f"{cloud.url}/dashboard/project/api_access/")
    with demo_page.expect_download() as info:
        demo_page.get_by_role("link", name="Download OpenStack RC File").click()
    assert info.value.suggested_filename == "demo-openrc.sh"
    text = Path(info.value.path()).read_text()
    assert f"export OS_AUTH_URL={cloud.auth_url}" in text
    assert "export OS_USERNAME=demo" in text and "export OS_PROJECT_NAME=demo" in text
    assert "export OS_REGION_NAME=RegionOne" in text
    assert "read -sr OS_PASSWORD_INPUT" in text
    assert cloud.secrets["demo_password"] not in text


def test_an_application_credential_made_in_the_page_works_and_is_deleted(
    demo_page: Page, cloud: Cloud, tmp_path: Path
) -> None:
    page = demo_page
    name = unique("dash-appcred")
    page.goto(f"{cloud.url}/dashboard/identity/application_credentials/")
    page.get_by_role("link", name="Create Application Credential").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Description").fill("for the CLI")
    page.get_by_role("button", name="Create Application Credential").click()
    expect(page.get_by_role("heading", name="Your Application Credential")).to_be_visible()
    secret = page.locator("#cred-secret").inner_text()
    cred_id = page.locator("#cred-id").inner_text()
    assert len(secret) > 20
    shot(page, "app-cred-created")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download clouds.yaml").click()
    path = tmp_path / "clouds.yaml"
    path.write_text(Path(info.value.path()).read_text())
    assert yaml.safe_load(path.read_text())["clouds"]["openstack"]["auth_type"] == (
        "v3applicationcredential"
    )
    issued = cloud.openstack("token", "issue", cloud="openstack", config_file=path)
    assert issued["user_id"]
    tok = token(cloud, "demo")
    mine = api(cloud, "GET", f"/identity/v3/users/{issued['user_id']}/application_credentials",
               tok)["application_credentials"]  # fmt: skip
    assert any(c["id"] == cred_id and c["description"] == "for the CLI" for c in mine)
    page.get_by_role("link", name="Close").click()
    row = page.get_by_role("row", name=re.compile(name))
    expect(row).to_contain_text("for the CLI")
    row.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete Application Credential").click()
    expect(page.get_by_role("status")).to_contain_text(f'Deleted application credential "{name}"')
    mine = api(cloud, "GET", f"/identity/v3/users/{issued['user_id']}/application_credentials",
               tok)["application_credentials"]  # fmt: skip
    assert all(c["id"] != cred_id for c in mine)


def test_a_refused_application_credential_shows_the_apis_words(
    demo_page: Page, cloud: Cloud
) -> None:
    page = demo_page
    page.goto(f"{cloud.url}/dashboard/identity/application_credentials/create/")
    page.get_by_label("Name").fill(unique("dash-appcred"))
    page.get_by_label("Expiration Date").fill("2001-01-01")
    page.get_by_role("button", name="Create Application Credential").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("Name")).not_to_have_value("")
    assert "Traceback" not in page.content()
