"""Identity panels in Chromium: projects (members, quotas), users (a user made in the page
signs in and lands in their primary project; a disabled one cannot), groups and roles;
each checked through the identity, compute, volume and network APIs."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Locator, Page, expect

from tests.support.browser import api, shot, sign_in, token
from tests.support.cloud import Cloud
from tests.support.keystone import unique


def field(page: Page, label: str) -> Locator:
    return page.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def _admin(cloud: Cloud) -> str:
    return token(cloud, "admin", "admin")


def _project_named(cloud: Cloud, name: str) -> dict[str, object]:
    found = api(cloud, "GET", f"/identity/v3/projects?name={name}", _admin(cloud))["projects"]
    assert len(found) == 1, found
    return dict(found[0])


def test_a_project_created_edited_with_members_and_quotas(admin_page: Page, cloud: Cloud) -> None:
    page, name = admin_page, unique("dash-project")
    page.get_by_role("link", name="Projects").click()
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()
    shot(page, "identity-projects")
    page.get_by_role("link", name="Create Project").click()
    field(page, "Name").fill(name)
    field(page, "Description").fill("made in the page")
    page.get_by_role("button", name="Create Project").click()
    expect(page.get_by_role("status")).to_contain_text(f'Created project "{name}"')
    project = _project_named(cloud, name)
    assert project["description"] == "made in the page" and project["enabled"] is True
    pid = str(project["id"])
    row = page.get_by_role("row", name=re.compile(name))
    row.get_by_role("button", name="Disable Project").click()
    expect(page.get_by_role("status")).to_contain_text(f'Disabled project "{name}"')
    assert _project_named(cloud, name)["enabled"] is False
    page.goto(f"{cloud.url}/dashboard/identity/{pid}/update/")
    field(page, "Description").fill("edited")
    page.get_by_role("checkbox", name="Enabled").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text(f'Updated project "{name}"')
    project = _project_named(cloud, name)
    assert project["description"] == "edited" and project["enabled"] is True
    # Members: demo as a member of the new project.
    page.goto(f"{cloud.url}/dashboard/identity/{pid}/members/")
    field(page, "User").select_option(label="demo")
    field(page, "Role").select_option(label="member")
    page.get_by_role("button", name="Add Member").click()
    expect(page.get_by_role("row", name=re.compile(r"^demo member"))).to_be_visible()
    demo = api(cloud, "GET", "/identity/v3/users?name=demo", _admin(cloud))["users"][0]
    found = api(cloud, "GET", f"/identity/v3/role_assignments?scope.project.id={pid}"
                f"&user.id={demo['id']}&include_names=true", _admin(cloud))  # fmt: skip
    assert [a["role"]["name"] for a in found["role_assignments"]] == ["member"]
    # Quotas: one of each service's, changed in the page, is the service's.
    page.goto(f"{cloud.url}/dashboard/identity/")
    page.get_by_role("row", name=re.compile(name)).get_by_role("link", name="Modify Quotas").click()
    field(page, "Instances").fill("17")
    field(page, "Volumes").fill("9")
    field(page, "Routers").fill("4")
    shot(page, "identity-quotas")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text(f'Modified the quotas of project "{name}"')
    admin = _admin(cloud)
    assert api(cloud, "GET", f"/compute/v2.1/os-quota-sets/{pid}", admin)["quota_set"][
        "instances"] == 17  # fmt: skip
    admin_project = _project_named(cloud, "admin")["id"]
    volume = api(cloud, "GET", f"/volume/v3/{admin_project}/os-quota-sets/{pid}", admin)
    assert volume["quota_set"]["volumes"] == 9
    assert api(cloud, "GET", f"/network/v2.0/quotas/{pid}", admin)["quota"]["router"] == 4
    # Removing the member, then the project.
    page.goto(f"{cloud.url}/dashboard/identity/{pid}/members/")
    page.get_by_role("link", name="Remove member of demo").click()
    page.get_by_role("button", name="Remove Role").click()
    expect(page.get_by_text("No members.")).to_be_visible()
    page.goto(f"{cloud.url}/dashboard/identity/")
    page.get_by_role("row", name=re.compile(name)).get_by_role(
        "link", name="Delete Project"
    ).click()
    page.get_by_role("button", name="Delete Project").click()
    expect(page.get_by_role("status")).to_contain_text(f'Deleted project "{name}"')
    assert api(cloud, "GET", f"/identity/v3/projects?name={name}", admin)["projects"] == []


def test_a_user_made_in_the_page_signs_in_to_their_primary_project(
    admin_page: Page, browser: Browser, cloud: Cloud
) -> None:
    page, project, name = admin_page, unique("dash-home"), unique("dash-user")
    api(cloud, "POST", "/identity/v3/projects", _admin(cloud), json={"project": {"name": project}})
    page.get_by_role("link", name="Users").click()
    shot(page, "identity-users")
    page.get_by_role("link", name="Create User").click()
    field(page, "User Name").fill(name)
    field(page, "Email").fill(f"{name}@example.org")
    field(page, "Password").fill("first-Pa55")
    field(page, "Confirm Password").fill("other-Pa55")
    field(page, "Primary Project").select_option(label=project)
    field(page, "Role").select_option(label="member")
    page.get_by_role("button", name="Create User").click()
    expect(page.locator("#err_confirm_password")).to_have_text("Passwords do not match.")
    expect(field(page, "User Name")).to_have_value(name)
    field(page, "Password").fill("first-Pa55")
    field(page, "Confirm Password").fill("first-Pa55")
    page.get_by_role("button", name="Create User").click()
    expect(page.get_by_role("status")).to_contain_text(f'Created user "{name}"')
    users = api(cloud, "GET", f"/identity/v3/users?name={name}", _admin(cloud))["users"]
    assert users[0]["email"] == f"{name}@example.org"
    assert users[0]["default_project_id"] == _project_named(cloud, project)["id"]
    other = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    try:
        sign_in(other, cloud, name, "first-Pa55")
        expect(other.locator(".topbar")).to_contain_text(project)
        # A second user of that name: Keystone's own refusal, on the form.
        page.goto(f"{cloud.url}/dashboard/identity/users/create/")
        field(page, "User Name").fill(name)
        field(page, "Password").fill("x-Pa55")
        field(page, "Confirm Password").fill("x-Pa55")
        page.get_by_role("button", name="Create User").click()
        expect(page.get_by_role("alert")).to_contain_text(re.compile("Conflict|duplicate", re.I))
        # The password changed in the page is the one that works; a disabled user cannot.
        page.goto(f"{cloud.url}/dashboard/identity/users/?name={name}")
        page.get_by_role("link", name="Change Password").click()
        field(page, "Password").fill("second-Pa55")
        field(page, "Confirm Password").fill("second-Pa55")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_contain_text("Changed the password")
        page.goto(f"{cloud.url}/dashboard/identity/users/?name={name}")
        page.get_by_role("button", name="Disable User").click()
        expect(page.get_by_role("status")).to_contain_text(f'Disabled user "{name}"')
        assert api(cloud, "GET", f"/identity/v3/users/{users[0]['id']}", _admin(cloud))[
            "user"]["enabled"] is False  # fmt: skip
        other.context.clear_cookies()
        other.goto(f"{cloud.url}/dashboard/auth/login/")
        other.get_by_label("User Name").fill(name)
        other.get_by_label("Password").fill("second-Pa55")
        other.get_by_role("button", name="Sign In").click()
        expect(other.get_by_role("alert")).to_have_text("Invalid credentials.")
        page.goto(f"{cloud.url}/dashboard/identity/users/?name={name}")
        page.get_by_role("button", name="Enable User").click()
        sign_in(other, cloud, name, "second-Pa55")
        expect(other.locator(".topbar")).to_contain_text(project)
    finally:
        other.context.close()
    page.goto(f"{cloud.url}/dashboard/identity/users/?name={name}")
    page.get_by_role("link", name="Delete User").click()
    page.get_by_role("button", name="Delete User").click()
    expect(page.get_by_role("status")).to_contain_text(f'Deleted user "{name}"')
    assert api(cloud, "GET", f"/identity/v3/users?name={name}", _admin(cloud))["users"] == []


def test_groups_and_roles(admin_page: Page, cloud: Cloud) -> None:
    page, group, role = admin_page, unique("dash-group"), unique("dash-role")
    page.get_by_role("link", name="Roles").click()
    page.get_by_role("link", name="Create Role").click()
    field(page, "Role Name").fill(role)
    page.get_by_role("button", name="Create Role").click()
    expect(page.get_by_role("row", name=re.compile(role))).to_be_visible()
    shot(page, "identity-roles")
    admin = _admin(cloud)
    assert len(api(cloud, "GET", f"/identity/v3/roles?name={role}", admin)["roles"]) == 1
    page.get_by_role("link", name="Groups", exact=True).click()
    page.get_by_role("link", name="Create Group").click()
    field(page, "Name").fill(group)
    page.get_by_role("button", name="Create Group").click()
    page.get_by_role("row", name=re.compile(group)).get_by_role(
        "link", name="Manage Members"
    ).click()
    field(page, "User").select_option(label="demo")
    page.get_by_role("button", name="Add User").click()
    expect(page.get_by_role("row", name=re.compile(r"^demo"))).to_be_visible()
    shot(page, "identity-group-members")
    gid = api(cloud, "GET", f"/identity/v3/groups?name={group}", admin)["groups"][0]["id"]
    members = api(cloud, "GET", f"/identity/v3/groups/{gid}/users", admin)["users"]
    assert [u["name"] for u in members] == ["demo"]
    page.get_by_role("link", name="Remove demo").click()
    page.get_by_role("button", name="Remove User").click()
    expect(page.get_by_text("No members.")).to_be_visible()
    assert api(cloud, "GET", f"/identity/v3/groups/{gid}/users", admin)["users"] == []
    page.goto(f"{cloud.url}/dashboard/identity/groups/")
    page.get_by_role("row", name=re.compile(group)).get_by_role("link", name="Delete Group").click()
    page.get_by_role("button", name="Delete Group").click()
    expect(page.get_by_role("status")).to_contain_text(f'Deleted group "{group}"')
    page.goto(f"{cloud.url}/dashboard/identity/roles/")
    page.get_by_role("row", name=re.compile(role)).get_by_role("link", name="Delete Role").click()
    page.get_by_role("button", name="Delete Role").click()
    expect(page.get_by_role("status")).to_contain_text(f'Deleted role "{role}"')
    assert api(cloud, "GET", f"/identity/v3/roles?name={role}", admin)["roles"] == []
