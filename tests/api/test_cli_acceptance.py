"""Acceptance of the identity service through the real `openstack` command line.

Every test drives python-openstackclient against the shared running cloud; cheap checks of
the effects (is a token still valid? can a password still log in?) go straight over HTTP.
Names carry a random suffix because the cloud is shared by the whole session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.bodies import password_body, project_name_scope
from tests.support.cloud import Cloud
from tests.support.fixtures import unique

pytestmark = pytest.mark.cli


def user_clouds(cloud: Cloud, path: Path, **entries: dict[str, Any]) -> Path:
    """A clouds.yaml of the test's own: ``name={"username":..., "password":..., ...}``."""
    clouds = {}
    for name, auth in entries.items():
        clouds[name] = {
            "auth": {
                "auth_url": cloud.auth_url,
                "user_domain_name": "Default",
                "project_domain_name": "Default",
                **auth,
            },
            "region_name": "RegionOne",
            "interface": "public",
            "identity_api_version": 3,
        }
    path.write_text(yaml.safe_dump({"clouds": clouds}))
    return path


def password_auth(cloud: Cloud, user: str, password: str, project: str | None) -> httpx.Response:
    scope = project_name_scope(project) if project is not None else None
    body = password_body(password, name=user, scope=scope)
    return httpx.post(f"{cloud.auth_url}/auth/tokens?nocatalog", json=body, timeout=30)


def validate(cloud: Cloud, subject: str) -> httpx.Response:
    """GET /v3/auth/tokens for ``subject``, as a fresh admin token."""
    with cloud.http(cloud.token()) as client:
        return client.get("/identity/v3/auth/tokens", headers={"X-Subject-Token": subject})


def test_tokens_catalog_demo_and_revoke(cloud: Cloud) -> None:
    admin = cloud.openstack("token", "issue")
    assert len(admin["id"]) > 100
    body = validate(cloud, admin["id"]).json()["token"]
    assert body["user"]["name"] == "admin"
    assert body["project"] == {
        "id": admin["project_id"],
        "name": "admin",
        "domain": {"id": "default", "name": "Default"},
    }
    assert "admin" in {r["name"] for r in body["roles"]}

    catalog = cloud.openstack("catalog", "list")
    identity = [s for s in catalog if s["Type"] == "identity"]
    assert len(identity) == 1, catalog
    assert identity[0]["Name"] == "keystone"
    endpoints = identity[0]["Endpoints"]
    assert sorted(e["interface"] for e in endpoints) == ["admin", "internal", "public"]
    assert {e["region"] for e in endpoints} == {"RegionOne"}
    assert {e["url"] for e in endpoints} == {f"{cloud.url}/identity"}

    demo = cloud.openstack("token", "issue", cloud="onestack-demo")
    assert demo["user_id"] != admin["user_id"]
    assert demo["project_id"] != admin["project_id"]
    body = validate(cloud, demo["id"]).json()["token"]
    assert (body["user"]["name"], body["project"]["name"]) == ("demo", "demo")
    assert "member" in {r["name"] for r in body["roles"]}
    assert "admin" not in {r["name"] for r in body["roles"]}

    # The admin revokes the demo user's token: it stops working, the admin's own does not.
    assert cloud.openstack("token", "revoke", demo["id"], json_output=False) == ""
    assert validate(cloud, demo["id"]).status_code == 404
    with cloud.http(demo["id"]) as client:
        assert client.get("/identity/v3/auth/projects").status_code == 401
    assert validate(cloud, admin["id"]).status_code == 200


def test_user_project_role_password_and_disable(cloud: Cloud, tmp_path: Path) -> None:
    project_name, alice = unique("demo2"), unique("alice")
    project = cloud.openstack("project", "create", "--description", "acceptance", project_name)
    assert (project["name"], project["domain_id"], project["enabled"]) == (
        project_name,
        "default",
        True,
    )
    user = cloud.openstack(
        "user", "create", "--project", project_name, "--password", "first-pass", alice
    )
    assert user["name"] == alice
    assert user["default_project_id"] == project["id"]
    assert user["enabled"] is True
    assert "password" not in user
    cloud.openstack(
        "role", "add", "--user", alice, "--project", project_name, "member", json_output=False
    )

    assignments = cloud.openstack(
        "role", "assignment", "list", "--names", "--project", project_name
    )
    assert [(a["Role"], a["User"], a["Project"]) for a in assignments] == [
        ("member", f"{alice}@Default", f"{project_name}@Default")
    ]

    # Alice logs in with a clouds.yaml entry of her own, scoped to her project.
    own = dict(username=alice, password="first-pass", project_name=project_name)
    config = user_clouds(cloud, tmp_path / "clouds.yaml", alice=own)
    token = cloud.openstack("token", "issue", cloud="alice", config_file=config)
    assert (token["user_id"], token["project_id"]) == (user["id"], project["id"])

    # She changes her own password: the old one and her old token stop working.
    cloud.openstack(
        "user", "password", "set", "--original-password", "first-pass",
        "--password", "second-pass", cloud="alice", config_file=config, json_output=False,
    )  # fmt: skip
    assert password_auth(cloud, alice, "first-pass", project_name).status_code == 401
    assert validate(cloud, token["id"]).status_code == 404
    resp = password_auth(cloud, alice, "second-pass", project_name)
    assert resp.status_code == 201, resp.text
    second = resp.headers["X-Subject-Token"]

    # A disabled project: its tokens are revoked and no one can scope to it (but can log in).
    cloud.openstack("project", "set", "--disable", project_name, json_output=False)
    assert validate(cloud, second).status_code == 404
    assert password_auth(cloud, alice, "second-pass", project_name).status_code == 401
    assert password_auth(cloud, alice, "second-pass", None).status_code == 201
    cloud.openstack("project", "set", "--enable", project_name, json_output=False)

    # A disabled user: `token issue` fails for her.
    cloud.openstack("user", "set", "--disable", alice, json_output=False)
    user_clouds(cloud, config, alice=dict(own, password="second-pass"))
    failed = cloud.openstack("token", "issue", cloud="alice", config_file=config, check=False)
    assert failed.returncode != 0
    assert "401" in failed.stderr
    assert password_auth(cloud, alice, "second-pass", None).status_code == 401


def test_application_credential_authenticates(cloud: Cloud) -> None:
    name = unique("appcred")
    cred = cloud.openstack("application", "credential", "create", "--description", "ci", name)
    assert cred["Name"] == name
    assert len(cred["Secret"]) >= 32
    assert "member" in {r["name"] for r in cred["Roles"]}

    env = {
        "OS_AUTH_TYPE": "v3applicationcredential",
        "OS_AUTH_URL": cloud.auth_url,
        "OS_APPLICATION_CREDENTIAL_ID": cred["ID"],
        "OS_APPLICATION_CREDENTIAL_SECRET": cred["Secret"],
        "OS_IDENTITY_API_VERSION": "3",
        "OS_REGION_NAME": "RegionOne",
    }
    token = cloud.openstack("token", "issue", cloud=None, env=env)
    assert token["project_id"] == cred["Project ID"]
    body = validate(cloud, token["id"]).json()["token"]
    assert body["methods"] == ["application_credential"]
    assert body["application_credential"]["id"] == cred["ID"]
    assert body["user"]["name"] == "admin"

    cloud.openstack("application", "credential", "delete", name, json_output=False)
    assert validate(cloud, token["id"]).status_code == 404
    secret_auth = {
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {"id": cred["ID"], "secret": cred["Secret"]},
            }
        }
    }
    assert (
        httpx.post(f"{cloud.auth_url}/auth/tokens", json=secret_auth, timeout=30).status_code == 401
    )


def test_groups_roles_and_implied_roles(cloud: Cloud) -> None:
    group_name, user_name = unique("group"), unique("bob")
    role_name = unique("role")
    group = cloud.openstack("group", "create", "--description", "acceptance", group_name)
    assert (group["name"], group["domain_id"]) == (group_name, "default")
    user = cloud.openstack("user", "create", user_name)
    cloud.openstack("group", "add", "user", group_name, user_name, json_output=False)
    members = cloud.openstack("user", "list", "--group", group_name)
    assert [(u["ID"], u["Name"]) for u in members] == [(user["id"], user_name)]

    role = cloud.openstack("role", "create", role_name)
    assert role["name"] == role_name
    rule = cloud.openstack("implied", "role", "create", role_name, "--implied-role", "member")
    assert rule["prior_role"] == role["id"]
    rules = cloud.openstack("implied", "role", "list")
    pairs = {(r["Prior Role Name"], r["Implied Role Name"]) for r in rules}
    expected = {("admin", "manager"), ("manager", "member"), ("member", "reader")}
    assert expected | {(role_name, "member")} <= pairs
    mine = [r for r in rules if r["Prior Role ID"] == role["id"]]
    assert [r["Implied Role ID"] for r in mine] == [rule["implies"]]

    with cloud.http(cloud.token()) as client:
        rules = client.get(f"/identity/v3/roles/{role['id']}/implies").json()["role_inference"]
        assert [r["name"] for r in rules["implies"]] == ["member"]
        groups = client.get(f"/identity/v3/users/{user['id']}/groups").json()["groups"]
        assert [g["id"] for g in groups] == [group["id"]]


def test_domain_lifecycle(cloud: Cloud) -> None:
    name = unique("domain")
    domain = cloud.openstack("domain", "create", "--description", "acceptance", name)
    assert (domain["name"], domain["enabled"]) == (name, True)
    listed = {d["Name"]: d for d in cloud.openstack("domain", "list")}
    assert listed["Default"]["ID"] == "default"
    assert listed[name]["ID"] == domain["id"]
    assert listed[name]["Enabled"] is True

    cloud.openstack("domain", "set", "--disable", name, json_output=False)
    shown = cloud.openstack("domain", "show", name)
    assert (shown["id"], shown["enabled"], shown["description"]) == (
        domain["id"],
        False,
        "acceptance",
    )
    cloud.openstack("domain", "delete", name, json_output=False)
    with cloud.http(cloud.token()) as client:
        assert client.get(f"/identity/v3/domains/{domain['id']}").status_code == 404


def test_region_service_endpoint(cloud: Cloud) -> None:
    region, service_name = unique("region"), unique("svc")
    created = cloud.openstack("region", "create", "--description", "second", region)
    assert created == {"region": region, "description": "second", "parent_region": None}
    service = cloud.openstack("service", "create", "--name", service_name, "acceptance-type")
    assert (service["name"], service["type"], service["enabled"]) == (
        service_name,
        "acceptance-type",
        True,
    )
    url = "http://example.invalid/acceptance"
    endpoint = cloud.openstack(
        "endpoint", "create", "--region", region, service_name, "public", url
    )
    assert (endpoint["region"], endpoint["interface"], endpoint["url"]) == (region, "public", url)
    assert endpoint["service_id"] == service["id"]

    regions = {r["Region"]: r for r in cloud.openstack("region", "list")}
    assert regions[region]["Description"] == "second"
    assert "RegionOne" in regions
    services = {s["ID"]: s for s in cloud.openstack("service", "list")}
    assert (services[service["id"]]["Name"], services[service["id"]]["Type"]) == (
        service_name,
        "acceptance-type",
    )
    assert "identity" in {s["Type"] for s in services.values()}
    listed = cloud.openstack("endpoint", "list", "--service", service_name)
    assert [(e["ID"], e["Region"], e["Interface"], e["URL"]) for e in listed] == [
        (endpoint["id"], region, "public", url)
    ]
    with cloud.http(cloud.token()) as client:
        catalog = client.get("/identity/v3/auth/catalog").json()["catalog"]
        entry = next(s for s in catalog if s["id"] == service["id"])
        assert [(e["region_id"], e["url"]) for e in entry["endpoints"]] == [(region, url)]

    cloud.openstack("endpoint", "delete", endpoint["id"], json_output=False)
    cloud.openstack("service", "delete", service_name, json_output=False)
    cloud.openstack("region", "delete", region, json_output=False)
    with cloud.http(cloud.token()) as client:
        assert client.get(f"/identity/v3/endpoints/{endpoint['id']}").status_code == 404
        assert client.get(f"/identity/v3/services/{service['id']}").status_code == 404
        assert client.get(f"/identity/v3/regions/{region}").status_code == 404


def test_ec2_credentials(cloud: Cloud) -> None:
    created = cloud.openstack("ec2", "credentials", "create")
    assert created["access"] and created["secret"]
    listed = cloud.openstack("ec2", "credentials", "list")
    mine = [c for c in listed if c["Access"] == created["access"]]
    assert len(mine) == 1
    assert mine[0]["Project ID"] == created["project_id"]
    assert mine[0]["User ID"] == created["user_id"]

    cloud.openstack("ec2", "credentials", "delete", created["access"], json_output=False)
    with cloud.http(cloud.token()) as client:
        path = f"/identity/v3/users/{created['user_id']}/credentials/OS-EC2"
        assert client.get(f"{path}/{created['access']}").status_code == 404
        remaining = client.get(path).json()["credentials"]
        assert created["access"] not in {c["access"] for c in remaining}
