"""Keystone behaviours that Tempest's identity suite checks and a simpler server misses."""

from __future__ import annotations

import json

from tests.support.cloud import Cloud
from tests.support.fixtures import keystone_admin
from tests.support.keystone import V3, Admin, issue, password_body, project_scope, unique

admin = keystone_admin("function")


def test_legacy_endpoint_region_is_created_when_missing(admin: Admin) -> None:
    svc = admin.request("POST", "/services", 201, json={"service": {"type": unique("t")}})[
        "service"
    ]
    region = unique("region")
    body = {"service_id": svc["id"], "interface": "public", "url": "http://x", "region": region}
    ep = admin.request("POST", "/endpoints", 201, json={"endpoint": body})["endpoint"]
    assert ep["region_id"] == region
    admin.request("GET", f"/regions/{region}", 200)
    other = unique("region")
    updated = admin.request(
        "PATCH", f"/endpoints/{ep['id']}", 200, json={"endpoint": {"region": other}}
    )["endpoint"]
    assert updated["region_id"] == other
    admin.request("GET", f"/regions/{other}", 200)
    # region_id, unlike the legacy field, must name a region that exists.
    body = {"service_id": svc["id"], "interface": "public", "url": "http://x"}
    body["region_id"] = unique("nowhere")
    admin.request("POST", "/endpoints", 404, json={"endpoint": body})
    admin.request("DELETE", f"/services/{svc['id']}", 204)


def test_app_credential_roles_are_checked_against_current_assignments(
    cloud: Cloud, admin: Admin
) -> None:
    project = admin.project()
    user = admin.user()
    admin.grant(project["id"], user.id, "member")
    token = issue(
        cloud, password_body(user.password, user_id=user.id, scope=project_scope(project["id"]))
    )
    admin.grant(project["id"], user.id, "admin")  # granted after the token was issued
    with cloud.http(token) as c:
        resp = c.post(
            f"{V3}/users/{user.id}/application_credentials",
            json={"application_credential": {"name": "n", "roles": [{"name": "admin"}]}},
        )
        assert resp.status_code == 201, resp.text
        assert [r["name"] for r in resp.json()["application_credential"]["roles"]] == ["admin"]
        # A role the user does not hold at all is refused.
        resp = c.post(
            f"{V3}/users/{user.id}/application_credentials",
            json={"application_credential": {"name": "m", "roles": [{"name": "nosuch"}]}},
        )
        assert resp.status_code == 404


def test_ec2_credential_blob_can_be_replaced(admin: Admin) -> None:
    blob = json.dumps({"access": unique("a"), "secret": "s"})
    body = {"blob": blob, "type": "ec2", "user_id": admin.user_id, "project_id": admin.project_id}
    cred = admin.request("POST", "/credentials", 201, json={"credential": body})["credential"]
    new_blob = json.dumps({"access": unique("b"), "secret": "t"})
    updated = admin.request(
        "PATCH", f"/credentials/{cred['id']}", 200, json={"credential": {"blob": new_blob}}
    )["credential"]
    assert updated["id"] == cred["id"]
    assert json.loads(updated["blob"]) == json.loads(new_blob)
    admin.request("DELETE", f"/credentials/{cred['id']}", 204)


def test_domain_specific_roles_are_not_effective(cloud: Cloud, admin: Admin) -> None:
    domain_role = admin.request(
        "POST", "/roles", 201, json={"role": {"name": unique("dr"), "domain_id": "default"}}
    )["role"]
    project = admin.project()
    user = admin.user()
    admin.request(
        "PUT", f"/projects/{project['id']}/users/{user.id}/roles/{domain_role['id']}", 204
    )
    admin.grant(project["id"], user.id, "reader")
    q = f"/role_assignments?scope.project.id={project['id']}&user.id={user.id}"
    direct = admin.request("GET", q, 200)["role_assignments"]
    assert domain_role["id"] in {a["role"]["id"] for a in direct}
    effective = admin.request("GET", q + "&effective", 200)["role_assignments"]
    assert {a["role"]["id"] for a in effective} == {admin.role_id("reader")}
    # The token carries only the global roles.
    token = issue(
        cloud, password_body(user.password, user_id=user.id, scope=project_scope(project["id"]))
    )
    with cloud.http(token) as c:
        body = c.get(f"{V3}/auth/tokens", headers={"X-Subject-Token": token}).json()["token"]
    assert [r["name"] for r in body["roles"]] == ["reader"]


def test_projects_acting_as_domains(admin: Admin) -> None:
    name = unique("dom")
    body = {"name": name, "domain_id": None, "is_domain": True, "description": "d"}
    project = admin.request("POST", "/projects", 201, json={"project": body})["project"]
    assert project["is_domain"] is True
    assert project["domain_id"] is None
    assert admin.request("GET", f"/domains/{project['id']}", 200)["domain"]["name"] == name
    listed = admin.request("GET", "/projects?is_domain=true", 200)["projects"]
    assert name in {p["name"] for p in listed}
    assert all(p["is_domain"] for p in listed)
    assert name not in {p["name"] for p in admin.request("GET", "/projects", 200)["projects"]}
    assert admin.request("GET", f"/projects/{project['id']}", 200)["project"]["is_domain"] is True
    # The projects API updates and deletes it too.
    disabled = admin.request(
        "PATCH", f"/projects/{project['id']}", 200, json={"project": {"enabled": False}}
    )["project"]
    assert disabled["enabled"] is False
    assert disabled["is_domain"] is True
    admin.request("DELETE", f"/projects/{project['id']}", 204)
    admin.request("GET", f"/domains/{project['id']}", 404)


def test_policy_blobs(cloud: Cloud, admin: Admin) -> None:
    body = {"blob": '{"a": "rule:b"}', "type": "application/json"}
    policy = admin.request("POST", "/policies", 201, json={"policy": body})["policy"]
    assert set(policy) == {"id", "type", "blob", "links"}
    assert policy["blob"] == body["blob"]
    listed = admin.request("GET", "/policies?type=application/json", 200)["policies"]
    assert policy["id"] in {p["id"] for p in listed}
    updated = admin.request(
        "PATCH", f"/policies/{policy['id']}", 200, json={"policy": {"blob": "{}"}}
    )["policy"]
    assert updated["blob"] == "{}"
    with cloud.http(cloud.token("onestack-demo")) as c:
        assert c.post(f"{V3}/policies", json={"policy": body}).status_code == 403
    admin.request("DELETE", f"/policies/{policy['id']}", 204)
    admin.request("GET", f"/policies/{policy['id']}", 404)


def test_access_rules_outlive_their_credential_until_deleted(cloud: Cloud, admin: Admin) -> None:
    project = admin.project()
    user = admin.user()
    admin.grant(project["id"], user.id, "member")
    token = issue(
        cloud, password_body(user.password, user_id=user.id, scope=project_scope(project["id"]))
    )
    rule = {"service": "compute", "path": "/v2.1/servers", "method": "GET"}
    with cloud.http(token) as c:
        base = f"{V3}/users/{user.id}"
        made = c.post(
            f"{base}/application_credentials",
            json={"application_credential": {"name": "r", "access_rules": [rule]}},
        )
        assert made.status_code == 201, made.text
        cred = made.json()["application_credential"]
        rule_id = cred["access_rules"][0]["id"]
        shown = c.get(f"{base}/access_rules/{rule_id}").json()["access_rule"]
        assert {k: shown[k] for k in rule} == rule
        # In use: refused; a second credential with the same rule shares it.
        assert c.delete(f"{base}/access_rules/{rule_id}").status_code == 403
        again = c.post(
            f"{base}/application_credentials",
            json={"application_credential": {"name": "r2", "access_rules": [rule]}},
        ).json()["application_credential"]
        assert again["access_rules"][0]["id"] == rule_id
        for made_cred in (cred, again):
            assert c.delete(f"{base}/application_credentials/{made_cred['id']}").status_code == 204
        # Unused now: it stays listed until deleted.
        assert [r["id"] for r in c.get(f"{base}/access_rules").json()["access_rules"]] == [rule_id]
        assert c.delete(f"{base}/access_rules/{rule_id}").status_code == 204
        assert c.get(f"{base}/access_rules/{rule_id}").status_code == 404


def test_bootstrap_makes_keystones_default_roles(admin: Admin) -> None:
    names = {r["name"] for r in admin.request("GET", "/roles", 200)["roles"]}
    assert {"admin", "manager", "member", "reader", "service"} <= names
    # The service role implies nothing and nothing implies it.
    service = admin.role_id("service")
    assert admin.request("GET", f"/roles/{service}/implies", 200)["role_inference"]["implies"] == []


def test_project_show_parents_and_subtree(cloud: Cloud, admin: Admin) -> None:
    top = admin.project()
    mid = admin.project(parent_id=top["id"])
    leaf = admin.project(parent_id=mid["id"])
    hidden = admin.project(parent_id=mid["id"])
    for p in (top, mid, leaf):  # the caller sees only projects it has a role on
        admin.grant(p["id"], admin.user_id, "reader")
    body = admin.request("GET", f"/projects/{mid['id']}?parents_as_list&subtree_as_list", 200)
    assert [p["project"]["id"] for p in body["project"]["parents"]] == [top["id"]]
    assert [p["project"]["id"] for p in body["project"]["subtree"]] == [leaf["id"]]
    ids = admin.request("GET", f"/projects/{leaf['id']}?parents_as_ids", 200)["project"]
    assert ids["parents"] == {mid["id"]: {top["id"]: None}}
    ids = admin.request("GET", f"/projects/{top['id']}?subtree_as_ids", 200)["project"]
    assert ids["subtree"] == {mid["id"]: {leaf["id"]: None}}
    admin.request("GET", f"/projects/{mid['id']}?parents_as_list&parents_as_ids", 400)
    # The openstack CLI's own view of it.
    shown = cloud.openstack("project", "show", mid["id"], "--parents", "--children")
    assert shown["parents"] and shown["subtree"]
    assert hidden["id"] not in str(shown["subtree"])
