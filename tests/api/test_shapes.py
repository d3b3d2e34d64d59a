"""Keystone v3 response bodies carry exactly Keystone's fields (api-ref samples, keystone code)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import keystone_admin
from tests.support.keystone import (
    TIMESTAMP,
    V3,
    Admin,
    authenticate,
    issue,
    password_body,
    project_scope,
    token_info,
    unique,
)

TOKEN_BASE = {"methods", "user", "audit_ids", "expires_at", "issued_at"}
SCOPED = {"roles", "catalog"}
USER_REF = {"domain", "id", "name", "password_expires_at"}
CATALOG_ENTRY = {"endpoints", "id", "type", "name"}
CATALOG_ENDPOINT = {"id", "interface", "region", "region_id", "url"}
PROJECT = {
    "id", "name", "domain_id", "description", "enabled", "parent_id", "is_domain", "tags",
    "options", "links",
}  # fmt: skip
DOMAIN = {"id", "name", "description", "enabled", "tags", "options", "links"}
USER = {"id", "name", "domain_id", "enabled", "password_expires_at", "options", "links"}
ROLE = {"id", "name", "domain_id", "description", "options", "links"}
GROUP = {"id", "name", "domain_id", "description", "links"}
REGION = {"id", "description", "parent_region_id", "links"}
SERVICE = {"id", "type", "enabled", "links"}
ENDPOINT = {"id", "interface", "region", "region_id", "service_id", "url", "enabled", "links"}
CREDENTIAL = {"id", "user_id", "project_id", "type", "blob", "links"}
APP_CRED = {
    "id", "name", "description", "expires_at", "project_id", "system", "user_id", "unrestricted",
    "roles", "access_rules", "links",
}  # fmt: skip
VERSION = {"id", "status", "updated", "links", "media-types"}


admin = keystone_admin()


def admin_body(cloud: Cloud, scope: Any) -> dict[str, Any]:
    return password_body(cloud.secrets["admin_password"], name="admin", scope=scope)


def token_of(cloud: Cloud, scope: Any, query: str = "") -> tuple[str, dict[str, Any]]:
    resp = authenticate(cloud, admin_body(cloud, scope), query)
    assert resp.status_code == 201, resp.text
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert set(body) == {"token"}
    return resp.headers["X-Subject-Token"], body["token"]


def when(stamp: str) -> datetime:
    assert TIMESTAMP.match(stamp), stamp
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")


def check_token_common(cloud: Cloud, token: dict[str, Any], user_id: str | None = None) -> None:
    assert token["methods"] == ["password"]
    assert set(token["user"]) == USER_REF
    assert token["user"]["domain"] == {"id": "default", "name": "Default"}
    assert token["user"]["name"] == "admin"
    assert token["user"]["password_expires_at"] is None
    if user_id:
        assert token["user"]["id"] == user_id
    assert isinstance(token["audit_ids"], list) and len(token["audit_ids"]) == 1
    assert isinstance(token["audit_ids"][0], str) and len(token["audit_ids"][0]) == 22
    lifetime = when(token["expires_at"]) - when(token["issued_at"])
    assert 3590 <= lifetime.total_seconds() <= 3600


def check_roles(token: dict[str, Any]) -> None:
    assert token["roles"], token
    for role in token["roles"]:
        assert set(role) == {"id", "name"}
    # admin implies member implies reader: a token carries the implied roles too.
    assert {r["name"] for r in token["roles"]} >= {"admin", "member", "reader"}


def check_catalog(cloud: Cloud, catalog: list[dict[str, Any]]) -> None:
    assert catalog
    for entry in catalog:
        assert set(entry) == CATALOG_ENTRY, entry
        for endpoint in entry["endpoints"]:
            assert set(endpoint) == CATALOG_ENDPOINT, endpoint
            assert endpoint["interface"] in ("public", "internal", "admin")
            assert endpoint["region"] == endpoint["region_id"]
    identity = [e for e in catalog if e["type"] == "identity"]
    assert len(identity) == 1
    assert identity[0]["name"] == "keystone"
    interfaces = {e["interface"]: e["url"] for e in identity[0]["endpoints"]}
    assert interfaces == dict.fromkeys(("public", "internal", "admin"), f"{cloud.url}/identity")


def check_collection(body: dict[str, Any], key: str, self_url: str) -> list[dict[str, Any]]:
    assert set(body) == {key, "links"}, set(body)
    assert body["links"] == {"self": self_url, "previous": None, "next": None}
    assert isinstance(body[key], list)
    return list(body[key])


# --- tokens --------------------------------------------------------------------------------
def test_project_scoped_token(cloud: Cloud, admin: Admin) -> None:
    _, token = token_of(cloud, {"project": {"name": "admin", "domain": {"id": "default"}}})
    assert set(token) == TOKEN_BASE | SCOPED | {"project", "is_domain"}
    check_token_common(cloud, token, admin.user_id)
    assert token["project"] == {
        "domain": {"id": "default", "name": "Default"},
        "id": admin.project_id,
        "name": "admin",
    }
    assert token["is_domain"] is False
    check_roles(token)
    check_catalog(cloud, token["catalog"])


def test_project_scoped_token_without_catalog(cloud: Cloud) -> None:
    _, token = token_of(
        cloud, {"project": {"name": "admin", "domain": {"id": "default"}}}, "?nocatalog"
    )
    assert set(token) == TOKEN_BASE | {"roles", "project", "is_domain"}


def test_domain_scoped_token(cloud: Cloud) -> None:
    _, token = token_of(cloud, {"domain": {"id": "default"}})
    assert set(token) == TOKEN_BASE | SCOPED | {"domain"}
    check_token_common(cloud, token)
    assert token["domain"] == {"id": "default", "name": "Default"}
    check_roles(token)
    check_catalog(cloud, token["catalog"])


def test_system_scoped_token(cloud: Cloud) -> None:
    _, token = token_of(cloud, {"system": {"all": True}})
    assert set(token) == TOKEN_BASE | SCOPED | {"system"}
    check_token_common(cloud, token)
    assert token["system"] == {"all": True}
    check_roles(token)
    check_catalog(cloud, token["catalog"])


def test_unscoped_token_has_no_roles_or_catalog(cloud: Cloud) -> None:
    _, token = token_of(cloud, "unscoped")
    assert set(token) == TOKEN_BASE
    check_token_common(cloud, token)


def test_token_of_a_user_without_default_project_is_unscoped(cloud: Cloud, admin: Admin) -> None:
    user = admin.user()
    resp = authenticate(cloud, password_body(user.password, user_id=user.id))
    assert resp.status_code == 201
    token = resp.json()["token"]
    assert set(token) == TOKEN_BASE
    assert token["user"] == {
        "domain": {"id": "default", "name": "Default"},
        "id": user.id,
        "name": user.name,
        "password_expires_at": None,
    }


def test_default_project_scopes_a_token_without_scope(cloud: Cloud, admin: Admin) -> None:
    project = admin.project()
    user = admin.user(default_project_id=project["id"])
    admin.grant(project["id"], user.id, "reader")
    resp = authenticate(cloud, password_body(user.password, user_id=user.id))
    assert resp.status_code == 201
    token = resp.json()["token"]
    assert set(token) == TOKEN_BASE | SCOPED | {"project", "is_domain"}
    assert token["project"]["id"] == project["id"]
    assert [r["name"] for r in token["roles"]] == ["reader"]


def test_rescoped_token(cloud: Cloud, admin: Admin) -> None:
    unscoped, first = token_of(cloud, "unscoped")
    body = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": unscoped}},
            "scope": project_scope(admin.project_id),
        }
    }
    resp = authenticate(cloud, body)
    assert resp.status_code == 201, resp.text
    token = resp.json()["token"]
    assert set(token) == TOKEN_BASE | SCOPED | {"project", "is_domain"}
    assert token["methods"] == ["token", "password"]
    assert len(token["audit_ids"]) == 2 and token["audit_ids"][1] == first["audit_ids"][0]
    assert token["expires_at"] == first["expires_at"]


def test_validate_token_returns_the_same_body(cloud: Cloud, admin: Admin) -> None:
    subject, issued = token_of(cloud, {"domain": {"id": "default"}})
    resp = admin.client.get(f"{V3}/auth/tokens", headers={"X-Subject-Token": subject})
    assert resp.status_code == 200
    assert resp.headers["X-Subject-Token"] == subject
    assert resp.json() == {"token": issued}
    resp = admin.client.get(f"{V3}/auth/tokens?nocatalog", headers={"X-Subject-Token": subject})
    assert resp.json()["token"] == {k: v for k, v in issued.items() if k != "catalog"}


def test_check_token_is_200_without_a_body(cloud: Cloud, admin: Admin) -> None:
    subject, _ = token_of(cloud, "unscoped")
    resp = admin.client.head(f"{V3}/auth/tokens", headers={"X-Subject-Token": subject})
    assert resp.status_code == 200
    assert resp.headers["X-Subject-Token"] == subject
    assert resp.content == b""


# --- version discovery ---------------------------------------------------------------------
def check_version(cloud: Cloud, version: dict[str, Any]) -> None:
    assert set(version) == VERSION
    assert version["id"] == "v3.14"
    assert version["status"] == "stable"
    datetime.strptime(version["updated"], "%Y-%m-%dT%H:%M:%SZ")
    assert version["links"] == [{"rel": "self", "href": f"{cloud.url}/identity/v3/"}]
    assert version["media-types"] == [
        {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
    ]


@pytest.mark.parametrize("path", ["/identity", "/identity/"])
def test_version_list(cloud: Cloud, path: str) -> None:
    with cloud.http() as c:
        resp = c.get(path)  # the catalog's URL has no slash: answered, not redirected
    assert resp.status_code == 300
    body = resp.json()
    assert set(body) == {"versions"}
    assert set(body["versions"]) == {"values"}
    assert len(body["versions"]["values"]) == 1
    check_version(cloud, body["versions"]["values"][0])


@pytest.mark.parametrize("path", ["/identity/v3", "/identity/v3/"])
def test_version_document(cloud: Cloud, path: str) -> None:
    with cloud.http() as c:
        resp = c.get(path)
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"version"}
    check_version(cloud, body["version"])


# --- resources: create and show ------------------------------------------------------------
def create_and_show(admin: Admin, path: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    created = admin.request("POST", path, 201, json={key: body})
    assert set(created) == {key}
    ref: dict[str, Any] = created[key]
    assert ref["links"] == {"self": f"{admin.cloud.auth_url}{path}/{ref['id']}"}
    shown = admin.request("GET", f"{path}/{ref['id']}", 200)
    assert shown == {key: ref}
    return ref


def test_user_shape(admin: Admin) -> None:
    name = unique("shape-user")
    user = create_and_show(admin, "/users", "user", {"name": name, "password": "pw-1-secret"})
    assert set(user) == USER
    assert user["name"] == name
    assert user["domain_id"] == "default"
    assert user["enabled"] is True
    assert user["password_expires_at"] is None
    assert user["options"] == {}


def test_user_shape_with_default_project_and_description(admin: Admin) -> None:
    project = admin.project()
    body = {"name": unique("shape-user"), "default_project_id": project["id"], "description": "d"}
    user = create_and_show(admin, "/users", "user", body)
    assert set(user) == USER | {"default_project_id", "description"}
    assert user["default_project_id"] == project["id"]
    assert "password" not in user


def test_project_shape(admin: Admin) -> None:
    name = unique("shape-project")
    project = create_and_show(admin, "/projects", "project", {"name": name, "tags": ["a", "b"]})
    assert set(project) == PROJECT
    assert project["name"] == name
    assert project["domain_id"] == "default"
    assert project["parent_id"] == "default"
    assert project["is_domain"] is False
    assert project["description"] == ""
    assert project["enabled"] is True
    assert sorted(project["tags"]) == ["a", "b"]
    assert project["options"] == {}


def test_domain_shape(admin: Admin) -> None:
    name = unique("shape-domain")
    domain = create_and_show(admin, "/domains", "domain", {"name": name, "description": "d"})
    try:
        assert set(domain) == DOMAIN
        assert domain["name"] == name
        assert domain["description"] == "d"
        assert domain["enabled"] is True
        assert domain["tags"] == []
        assert domain["options"] == {}
    finally:
        admin.request("PATCH", f"/domains/{domain['id']}", 200, json={"domain": {"enabled": False}})
        admin.request("DELETE", f"/domains/{domain['id']}", 204)


def test_role_shape(admin: Admin) -> None:
    name = unique("shape-role")
    role = create_and_show(admin, "/roles", "role", {"name": name, "description": "My new role"})
    assert set(role) == ROLE
    assert role["domain_id"] is None
    assert role["description"] == "My new role"
    assert role["options"] == {}


def test_group_shape(admin: Admin) -> None:
    group = create_and_show(admin, "/groups", "group", {"name": unique("shape-group")})
    assert set(group) == GROUP
    assert group["domain_id"] == "default"
    assert group["description"] == ""


def test_catalog_shapes(admin: Admin) -> None:
    region = create_and_show(admin, "/regions", "region", {"id": unique("Shape-Region")})
    service: dict[str, Any] = {}
    endpoint: dict[str, Any] = {}
    try:
        assert set(region) == REGION
        assert region["description"] == ""
        assert region["parent_region_id"] is None

        bare = create_and_show(admin, "/services", "service", {"type": unique("bare")})
        assert set(bare) == SERVICE
        admin.request("DELETE", f"/services/{bare['id']}", 204)

        service = create_and_show(
            admin,
            "/services",
            "service",
            {"type": unique("shape"), "name": "shape", "description": "a shape service"},
        )
        assert set(service) == SERVICE | {"name", "description"}
        assert service["enabled"] is True

        endpoint = create_and_show(
            admin,
            "/endpoints",
            "endpoint",
            {
                "service_id": service["id"],
                "interface": "public",
                "url": "http://shape.example.com/v1",
                "region_id": region["id"],
            },
        )
        assert set(endpoint) == ENDPOINT
        assert endpoint["region"] == endpoint["region_id"] == region["id"]
        assert endpoint["enabled"] is True
        assert endpoint["service_id"] == service["id"]
    finally:
        if endpoint:
            admin.request("DELETE", f"/endpoints/{endpoint['id']}", 204)
        if service:
            admin.request("DELETE", f"/services/{service['id']}", 204)
        admin.request("DELETE", f"/regions/{region['id']}", 204)


def test_credential_shape(admin: Admin) -> None:
    blob = '{"access": "%s", "secret": "s3"}' % unique("access")  # noqa: UP031
    body = {"user_id": admin.user_id, "project_id": admin.project_id, "type": "ec2", "blob": blob}
    cred = create_and_show(admin, "/credentials", "credential", body)
    try:
        assert set(cred) == CREDENTIAL
        assert cred["blob"] == blob
        assert cred["type"] == "ec2"
        assert cred["user_id"] == admin.user_id
        assert cred["project_id"] == admin.project_id
    finally:
        admin.request("DELETE", f"/credentials/{cred['id']}", 204)


def test_application_credential_shape(cloud: Cloud, admin: Admin) -> None:
    user, project_id = admin.member_of_new_project()
    token = issue(
        cloud, password_body(user.password, user_id=user.id, scope=project_scope(project_id))
    )
    path = f"/users/{user.id}/application_credentials"
    rule = {"path": "/v2.1/servers", "method": "GET", "service": "compute"}
    with cloud.http(token) as c:
        resp = c.post(
            f"{V3}{path}",
            json={
                "application_credential": {
                    "name": "monitoring",
                    "description": "Application credential for monitoring.",
                    "expires_at": "2099-02-27T18:30:59.999999Z",
                    "access_rules": [rule],
                }
            },
        )
        assert resp.status_code == 201, resp.text
        created = resp.json()["application_credential"]
        shown = c.get(f"{V3}{path}/{created['id']}")
        listed = c.get(f"{V3}{path}")
    assert set(created) == APP_CRED | {"secret"}
    assert isinstance(created["secret"], str) and len(created["secret"]) >= 32
    assert created["links"] == {"self": f"{cloud.auth_url}{path}/{created['id']}"}
    assert created["user_id"] == user.id
    assert created["project_id"] == project_id
    assert created["system"] is None
    assert created["unrestricted"] is False
    # Keystone writes this one timestamp without the trailing Z (its api-ref sample too).
    assert created["expires_at"] == "2099-02-27T18:30:59.999999"
    assert [set(r) for r in created["roles"]] == [{"id", "name", "domain_id"}] * 2
    assert {r["name"] for r in created["roles"]} == {"member", "reader"}
    assert all(r["domain_id"] is None for r in created["roles"])
    assert len(created["access_rules"]) == 1
    assert {k: v for k, v in created["access_rules"][0].items() if k != "id"} == rule
    assert shown.status_code == 200

    def by_role_id(ref: dict[str, Any]) -> dict[str, Any]:  # role order is not part of the API
        return {**ref, "roles": sorted(ref["roles"], key=lambda r: r["id"])}

    without_secret = by_role_id({k: v for k, v in created.items() if k != "secret"})
    assert set(shown.json()) == {"application_credential"}
    assert by_role_id(shown.json()["application_credential"]) == without_secret
    items = check_collection(listed.json(), "application_credentials", f"{cloud.auth_url}{path}")
    assert [by_role_id(i) for i in items] == [without_secret]


# --- lists ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "fields", "optional"),
    [
        ("users", USER, {"default_project_id"}),
        ("projects", PROJECT, set()),
        ("domains", DOMAIN, set()),
        ("roles", ROLE, set()),
        ("groups", GROUP, set()),
        ("regions", REGION, set()),
        ("services", SERVICE, {"name", "description"}),
        ("endpoints", ENDPOINT, set()),
        ("credentials", CREDENTIAL, set()),
        ("role_assignments", {"role", "scope", "links"}, {"user", "group"}),
    ],
)
def test_list_shape(
    cloud: Cloud, admin: Admin, path: str, fields: set[str], optional: set[str]
) -> None:
    items = check_collection(
        admin.request("GET", f"/{path}", 200), path, f"{cloud.auth_url}/{path}"
    )
    if path not in ("groups", "credentials", "regions"):
        assert items, f"{path} is empty"
    # Keystone lists the extra attributes a resource was created with (other tests add some),
    # so every item has at least the fields, and the bootstrap ones exactly the fields.
    for item in items:
        assert fields <= set(item), item
    if items:
        assert any(fields <= set(item) <= fields | optional for item in items), items


def test_role_inferences_shape(cloud: Cloud, admin: Admin) -> None:
    body = admin.request("GET", "/role_inferences", 200)
    assert body["links"] == {"self": f"{cloud.auth_url}/role_inferences"}
    assert set(body) == {"role_inferences", "links"}
    names = {}
    for rule in body["role_inferences"]:
        assert set(rule) == {"prior_role", "implies"}
        assert set(rule["prior_role"]) == {"id", "name", "links"}
        assert all(set(r) == {"id", "name", "links"} for r in rule["implies"])
        names[rule["prior_role"]["name"]] = [r["name"] for r in rule["implies"]]
    assert names["admin"] == ["manager"]
    assert names["manager"] == ["member"]
    assert names["member"] == ["reader"]
    assert "service" not in names


def assigned_projects(admin: Admin) -> list[str]:
    """The projects the admin user holds a role on: other tests sharing this cloud may add some."""
    path = f"/role_assignments?user.id={admin.user_id}&effective"
    rows = admin.request("GET", path, 200)["role_assignments"]
    ids = sorted({r["scope"]["project"]["id"] for r in rows if "project" in r["scope"]})
    assert admin.project_id in ids
    return ids


def test_users_projects_list_shape(cloud: Cloud, admin: Admin) -> None:
    body = admin.request("GET", f"/users/{admin.user_id}/projects", 200)
    items = check_collection(body, "projects", f"{cloud.auth_url}/users/{admin.user_id}/projects")
    assert sorted(p["id"] for p in items) == assigned_projects(admin)
    assert all(set(item) == PROJECT for item in items)


def test_grant_list_shape(cloud: Cloud, admin: Admin) -> None:
    path = f"/projects/{admin.project_id}/users/{admin.user_id}/roles"
    items = check_collection(admin.request("GET", path, 200), "roles", f"{cloud.auth_url}{path}")
    assert [r["name"] for r in items] == ["admin"]
    assert set(items[0]) == ROLE


# --- role assignments ----------------------------------------------------------------------
def test_role_assignments_include_names(cloud: Cloud, admin: Admin) -> None:
    user, project_id = admin.member_of_new_project()
    project = admin.request("GET", f"/projects/{project_id}", 200)["project"]
    query = f"role_assignments?include_names&user.id={user.id}"
    body = admin.request("GET", f"/{query}", 200)
    items = check_collection(body, "role_assignments", f"{cloud.auth_url}/{query}")
    assert len(items) == 1
    member = admin.role_id("member")
    assert items[0] == {
        "role": {"id": member, "name": "member"},
        "user": {"id": user.id, "name": user.name, "domain": {"id": "default", "name": "Default"}},
        "scope": {
            "project": {
                "id": project_id,
                "name": project["name"],
                "domain": {"id": "default", "name": "Default"},
            }
        },
        "links": {
            "assignment": f"{cloud.auth_url}/projects/{project_id}/users/{user.id}/roles/{member}"
        },
    }


def test_role_assignments_without_names(cloud: Cloud, admin: Admin) -> None:
    user, project_id = admin.member_of_new_project()
    body = admin.request("GET", f"/role_assignments?user.id={user.id}", 200)
    member = admin.role_id("member")
    link = f"{cloud.auth_url}/projects/{project_id}/users/{user.id}/roles/{member}"
    assert body["role_assignments"] == [
        {
            "role": {"id": member},
            "user": {"id": user.id},
            "scope": {"project": {"id": project_id}},
            "links": {"assignment": link},
        }
    ]


def test_system_and_domain_assignments(cloud: Cloud, admin: Admin) -> None:
    role = admin.role_id("admin")
    body = admin.request("GET", f"/role_assignments?user.id={admin.user_id}&role.id={role}", 200)
    by_scope = {next(iter(a["scope"])): a for a in body["role_assignments"]}
    assert set(by_scope) == {"project", "domain", "system"}
    assert by_scope["system"]["scope"] == {"system": {"all": True}}
    assert by_scope["system"]["links"] == {
        "assignment": f"{cloud.auth_url}/system/users/{admin.user_id}/roles/{role}"
    }
    assert by_scope["domain"]["scope"] == {"domain": {"id": "default"}}
    assert by_scope["domain"]["links"] == {
        "assignment": f"{cloud.auth_url}/domains/default/users/{admin.user_id}/roles/{role}"
    }


def test_group_assignment_shape_with_names(cloud: Cloud, admin: Admin) -> None:
    group = admin.request("POST", "/groups", 201, json={"group": {"name": unique("grp")}})["group"]
    project = admin.project()
    reader = admin.role_id("reader")
    admin.request("PUT", f"/projects/{project['id']}/groups/{group['id']}/roles/{reader}", 204)
    body = admin.request("GET", f"/role_assignments?group.id={group['id']}&include_names", 200)
    assert body["role_assignments"] == [
        {
            "role": {"id": reader, "name": "reader"},
            "group": {
                "id": group["id"],
                "name": group["name"],
                "domain": {"id": "default", "name": "Default"},
            },
            "scope": {
                "project": {
                    "id": project["id"],
                    "name": project["name"],
                    "domain": {"id": "default", "name": "Default"},
                }
            },
            "links": {
                "assignment": (
                    f"{cloud.auth_url}/projects/{project['id']}/groups/{group['id']}/roles/{reader}"
                )
            },
        }
    ]


def test_effective_assignments_expand_groups(cloud: Cloud, admin: Admin) -> None:
    group = admin.request("POST", "/groups", 201, json={"group": {"name": unique("grp")}})["group"]
    user = admin.user()
    project = admin.project()
    member, reader = admin.role_id("member"), admin.role_id("reader")
    admin.request("PUT", f"/groups/{group['id']}/users/{user.id}", 204)
    admin.request("PUT", f"/projects/{project['id']}/groups/{group['id']}/roles/{member}", 204)
    query = f"role_assignments?effective&user.id={user.id}"
    body = admin.request("GET", f"/{query}", 200)
    items = check_collection(body, "role_assignments", f"{cloud.auth_url}/{query}")
    by_role = {a["role"]["id"]: a for a in items}
    assert set(by_role) == {member, reader}  # member implies reader
    grant_link = f"{cloud.auth_url}/projects/{project['id']}/groups/{group['id']}/roles/{member}"
    membership = f"{cloud.auth_url}/groups/{group['id']}/users/{user.id}"
    for a in items:
        assert set(a) == {"role", "user", "scope", "links"}, a  # a user entry, no group
        assert a["user"] == {"id": user.id}
        assert a["scope"] == {"project": {"id": project["id"]}}
        assert a["links"]["assignment"] == grant_link
        assert a["links"]["membership"] == membership
    assert set(by_role[member]["links"]) == {"assignment", "membership"}
    implied = by_role[reader]["links"]
    assert set(implied) == {"assignment", "membership", "prior_role"}
    assert member in implied["prior_role"] and reader in implied["prior_role"]
    # The group itself is gone from the effective view.
    assert all(
        "group" not in a
        for a in admin.request("GET", "/role_assignments?effective", 200)["role_assignments"]
    )


def test_effective_admin_role_implies_manager_member_and_reader(cloud: Cloud, admin: Admin) -> None:
    query = (
        f"role_assignments?effective&user.id={admin.user_id}&scope.project.id={admin.project_id}"
    )
    items = admin.request("GET", f"/{query}&include_names", 200)["role_assignments"]
    assert sorted(a["role"]["name"] for a in items) == ["admin", "manager", "member", "reader"]
    for a in items:
        assert set(a) == {"role", "user", "scope", "links"}, a
        assert set(a["role"]) == {"id", "name"}
        assert a["scope"]["project"]["id"] == admin.project_id
    by_name = {a["role"]["name"]: a for a in items}
    admin_role = admin.role_id("admin")
    direct = f"{cloud.auth_url}/projects/{admin.project_id}/users/{admin.user_id}/roles/"
    assert by_name["admin"]["links"] == {"assignment": direct + admin_role}
    assert by_name["manager"]["links"]["assignment"] == direct + admin_role
    assert by_name["member"]["links"]["assignment"] == direct + admin.role_id("manager")
    assert by_name["reader"]["links"]["assignment"] == direct + admin.role_id("member")
    assert set(by_name["reader"]["links"]) == {"assignment", "prior_role"}


def test_inherited_assignment_shapes(cloud: Cloud, admin: Admin) -> None:
    parent = admin.project()
    child = admin.project(parent_id=parent["id"])
    user = admin.user()
    reader = admin.role_id("reader")
    path = f"/OS-INHERIT/projects/{parent['id']}/users/{user.id}/roles/{reader}"
    admin.request("PUT", f"{path}/inherited_to_projects", 204)
    link = f"{cloud.auth_url}{path}/inherited_to_projects"
    direct = admin.request("GET", f"/role_assignments?user.id={user.id}", 200)
    assert direct["role_assignments"] == [
        {
            "role": {"id": reader},
            "user": {"id": user.id},
            "scope": {"project": {"id": parent["id"]}, "OS-INHERIT:inherited_to": "projects"},
            "links": {"assignment": link},
        }
    ]
    # Effective: on the child only (not the parent), still marked as inherited, as Keystone.
    effective = admin.request("GET", f"/role_assignments?effective&user.id={user.id}", 200)
    assert effective["role_assignments"] == [
        {
            "role": {"id": reader},
            "user": {"id": user.id},
            "scope": {"project": {"id": child["id"]}, "OS-INHERIT:inherited_to": "projects"},
            "links": {"assignment": link},
        }
    ]


# --- what a token may scope to -------------------------------------------------------------
def test_auth_projects(cloud: Cloud, admin: Admin) -> None:
    body = admin.request("GET", "/auth/projects", 200)
    items = check_collection(body, "projects", f"{cloud.auth_url}/auth/projects")
    assert sorted(p["id"] for p in items) == assigned_projects(admin)
    mine = next(p for p in items if p["id"] == admin.project_id)
    assert mine == admin.request("GET", f"/projects/{admin.project_id}", 200)["project"]


def test_auth_projects_of_a_member(cloud: Cloud) -> None:
    token = cloud.token("onestack-demo")
    project_id = token_info(cloud, token)["project"]["id"]
    with cloud.http(token) as c:
        body = c.get(f"{V3}/auth/projects").json()
    items = check_collection(body, "projects", f"{cloud.auth_url}/auth/projects")
    assert [(p["id"], p["name"]) for p in items] == [(project_id, "demo")]
    assert set(items[0]) == PROJECT


def test_auth_domains(cloud: Cloud, admin: Admin) -> None:
    body = admin.request("GET", "/auth/domains", 200)
    items = check_collection(body, "domains", f"{cloud.auth_url}/auth/domains")
    assert [d["id"] for d in items] == ["default"]
    assert items[0] == admin.request("GET", "/domains/default", 200)["domain"]
    assert set(items[0]) == DOMAIN


def test_auth_domains_of_a_member_is_empty(cloud: Cloud) -> None:
    with cloud.http(cloud.token("onestack-demo")) as c:
        body = c.get(f"{V3}/auth/domains").json()
    assert check_collection(body, "domains", f"{cloud.auth_url}/auth/domains") == []


def test_auth_system(cloud: Cloud, admin: Admin) -> None:
    body = admin.request("GET", "/auth/system", 200)
    assert body == {"system": [{"all": True}], "links": {"self": f"{cloud.auth_url}/auth/system"}}
    with cloud.http(cloud.token("onestack-demo")) as c:
        assert c.get(f"{V3}/auth/system").json() == {
            "system": [],
            "links": {"self": f"{cloud.auth_url}/auth/system"},
        }


def test_auth_catalog(cloud: Cloud, admin: Admin) -> None:
    body = admin.request("GET", "/auth/catalog", 200)
    assert set(body) == {"catalog", "links"}
    assert body["links"] == {"self": f"{cloud.auth_url}/auth/catalog"}
    check_catalog(cloud, body["catalog"])
    _, token = token_of(cloud, project_scope(admin.project_id))
    assert body["catalog"] == token["catalog"]


def test_head_auth_tokens_is_200(cloud: Cloud, admin: Admin) -> None:
    resp = admin.client.head(f"{V3}/auth/tokens", headers={"X-Subject-Token": admin.token})
    assert resp.status_code == 200
    assert resp.content == b""


def test_timestamps_have_microseconds_and_z(cloud: Cloud, admin: Admin) -> None:
    _, token = token_of(cloud, project_scope(admin.project_id))
    for stamp in (token["expires_at"], token["issued_at"]):
        assert TIMESTAMP.match(stamp), stamp
    assert when(token["issued_at"]) <= datetime.now(UTC).replace(tzinfo=None)
