"""OS-FEDERATION through the openstack CLI (identity providers, mappings, protocols, service
providers) and the federated login, with the test client as the trusted front that sets the
assertion headers: mapped groups, shadow users, auto-provisioned projects, rescoping, the
remote-id check, Keystone's admin-only policy, and revocation with the provider."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from tests.support.cloud import FED_PREFIX, FED_REMOTE_USER, Cloud
from tests.support.fixtures import keystone_admin, member_of_new_project
from tests.support.keystone import (
    V3,
    Admin,
    assert_error,
    unique,
)

FED = "/OS-FEDERATION"


admin = keystone_admin("function")


def _rules(group_domain: str) -> list[dict[str, Any]]:
    return [
        {
            "local": [
                {"user": {"name": "{0}"}},
                {"groups": "{1}", "domain": {"id": group_domain}},
                {"projects": [{"name": "home-{0}", "roles": [{"name": "member"}]}]},
            ],
            # Only conditions without a requirement capture: {0} the user, {1} the groups.
            "remote": [
                {"type": "REMOTE_USER"},
                {"type": "REMOTE_USER", "not_any_of": ["root"]},
                {"type": "groups"},
            ],
        }
    ]


def _login(cloud: Cloud, idp: str, user: str, groups: str, entity: str) -> httpx.Response:
    headers = {
        FED_REMOTE_USER: user,
        f"{FED_PREFIX}groups": groups,
        f"{FED_PREFIX}entity": entity,
    }
    with cloud.http() as c:
        return c.post(f"{V3}{FED}/identity_providers/{idp}/protocols/saml2/auth", headers=headers)


class Federated:
    """An identity provider (remote id, enabled, its own domain), a mapping and a protocol,
    made through the CLI or Keystone's HTTP API; a group with member on a project."""

    def __init__(self, cloud: Cloud, admin: Admin, tmp_path: Path, cli: bool) -> None:
        self.cloud = cloud
        self.idp, self.mapping = unique("idp"), unique("map")
        self.entity = f"https://{self.idp}.example/idp/shibboleth"
        self.group = admin.request("POST", "/groups", 201, json={"group": {"name": unique("g")}})[
            "group"
        ]
        self.project = admin.project()
        admin.request(
            "PUT",
            f"/projects/{self.project['id']}/groups/{self.group['id']}/roles/"
            f"{admin.role_id('member')}",
            204,
        )
        self.domain = admin.request(
            "POST", "/domains", 201, json={"domain": {"name": unique("fd")}}
        )["domain"]
        if cli:
            self._through_the_cli(tmp_path)
        else:
            admin.request("PUT", f"{FED}/mappings/{self.mapping}", 201,
                          json={"mapping": {"rules": _rules("default")}})  # fmt: skip
            idp = {"remote_ids": [self.entity], "domain_id": self.domain["id"], "enabled": True}
            admin.request("PUT", f"{FED}/identity_providers/{self.idp}", 201,
                          json={"identity_provider": idp})  # fmt: skip
            admin.request("PUT", f"{FED}/identity_providers/{self.idp}/protocols/saml2", 201,
                          json={"protocol": {"mapping_id": self.mapping}})  # fmt: skip
        # The provider names itself in the "entity" attribute, checked against its remote ids.
        admin.request(
            "PATCH",
            f"{FED}/identity_providers/{self.idp}/protocols/saml2",
            200,
            json={"protocol": {"mapping_id": self.mapping, "remote_id_attribute": "entity"}},
        )

    def _through_the_cli(self, tmp_path: Path) -> None:
        cloud = self.cloud
        rules_file = tmp_path / "rules.json"
        rules_file.write_text(json.dumps(_rules("default")))
        made = cloud.openstack("mapping", "create", "--rules", str(rules_file), self.mapping)
        assert made["id"] == self.mapping and made["rules"] == _rules("default")
        made = cloud.openstack(
            "identity", "provider", "create", "--remote-id", self.entity,
            "--domain", self.domain["id"], "--enable", self.idp,
        )  # fmt: skip
        assert made["remote_ids"] == [self.entity] and made["enabled"] is True
        assert made["domain_id"] == self.domain["id"]
        made = cloud.openstack(
            "federation", "protocol", "create", "--identity-provider", self.idp,
            "--mapping", self.mapping, "saml2",
        )  # fmt: skip
        assert made["mapping"] == self.mapping


@pytest.mark.cli
def test_federation_resources_through_the_cli(cloud: Cloud, admin: Admin, tmp_path: Path) -> None:
    fed = Federated(cloud, admin, tmp_path, cli=True)
    listed = cloud.openstack("identity", "provider", "list")
    assert fed.idp in {p["ID"] for p in listed}
    shown = cloud.openstack("identity", "provider", "show", fed.idp)
    assert shown["remote_ids"] == [fed.entity]
    body = admin.request("GET", f"{FED}/identity_providers/{fed.idp}", 200)["identity_provider"]
    assert body["links"]["protocols"].endswith(f"{FED}/identity_providers/{fed.idp}/protocols")
    protocols = admin.request("GET", f"{FED}/identity_providers/{fed.idp}/protocols", 200)
    assert protocols["protocols"][0]["remote_id_attribute"] == "entity"

    # A remote id names one provider only; the mapping schema is Keystone's.
    other = {"identity_provider": {"remote_ids": [fed.entity]}}
    assert_error(admin.client.put(f"{V3}{FED}/identity_providers/{unique('x')}", json=other), 409)
    bad = {"mapping": {"rules": [{"local": [], "remote": [{"type": "a"}]}]}}
    assert_error(admin.client.put(f"{V3}{FED}/mappings/{unique('m')}", json=bad), 400)

    sp = unique("sp")
    made = cloud.openstack(
        "service", "provider", "create", "--auth-url",
        "https://sp.example/v3/OS-FEDERATION/identity_providers/us/protocols/saml2/auth",
        "--service-provider-url", "https://sp.example/Shibboleth.sso/SAML2/ECP", "--enable", sp,
    )  # fmt: skip
    assert made["relay_state_prefix"] == "ss:mem:" and made["enabled"] is True
    admin.request("DELETE", f"{FED}/service_providers/{sp}", 204)

    # Keystone's policy: reading and writing federation is for admins.
    with member_of_new_project(cloud, admin).client as c:
        assert_error(c.get(f"{V3}{FED}/identity_providers"), 403)
        assert_error(c.get(f"{V3}{FED}/mappings"), 403)
        assert_error(c.put(f"{V3}{FED}/service_providers/{unique('s')}", json={}), 403)

    cloud.openstack("identity", "provider", "set", "--disable", fed.idp, json_output=False)
    assert_error(_login(cloud, fed.idp, "alice", fed.group["name"], fed.entity), 403)
    cloud.openstack("identity", "provider", "delete", fed.idp, json_output=False)
    admin.request("GET", f"{FED}/identity_providers/{fed.idp}", 404)


def test_federated_login_maps_groups_and_scopes(cloud: Cloud, admin: Admin, tmp_path: Path) -> None:
    fed = Federated(cloud, admin, tmp_path, cli=False)
    name = unique("alice")
    resp = _login(cloud, fed.idp, name, f"{fed.group['name']};not-a-group-here", fed.entity)
    assert resp.status_code == 401, resp.text  # a mapped group must exist
    resp = _login(cloud, fed.idp, name, fed.group["name"], fed.entity)
    assert resp.status_code == 201, resp.text
    token, body = resp.headers["X-Subject-Token"], resp.json()["token"]
    assert body["methods"] == ["saml2"] and "project" not in body
    assert body["user"]["name"] == name
    assert body["user"]["domain"]["id"] == fed.domain["id"]
    assert body["user"]["OS-FEDERATION"] == {
        "identity_provider": {"id": fed.idp},
        "protocol": {"id": "saml2"},
        "groups": [{"id": fed.group["id"]}],
    }
    again = _login(cloud, fed.idp, name, fed.group["name"], fed.entity)
    assert again.json()["token"]["user"]["id"] == body["user"]["id"]  # the same shadow user

    # The group's project and the auto-provisioned one are offered; rescoping keeps the groups.
    with cloud.http(token) as c:
        offered = c.get(f"{V3}{FED}/projects").json()["projects"]
    names = {p["name"] for p in offered}
    assert fed.project["name"] in names and f"home-{name}" in names
    auth = v3.Token(auth_url=cloud.auth_url, token=token, project_id=fed.project["id"])
    scoped = ks_session.Session(auth=auth).get_token()
    with cloud.http(scoped) as c:
        info = c.get(f"{V3}/auth/tokens", headers={"X-Subject-Token": scoped}).json()["token"]
    assert info["project"]["id"] == fed.project["id"]
    assert "member" in {r["name"] for r in info["roles"]}
    assert info["user"]["OS-FEDERATION"]["groups"] == [{"id": fed.group["id"]}]

    # Taking the group's role away ends the scoped token (the group is no membership).
    role_path = (
        f"/projects/{fed.project['id']}/groups/{fed.group['id']}/roles/{admin.role_id('member')}"
    )
    admin.request("DELETE", role_path, 204)
    gone = admin.client.get(f"{V3}/auth/tokens", headers={"X-Subject-Token": scoped})
    assert gone.status_code == 404
    admin.request("PUT", role_path, 204)
    auth = v3.Token(auth_url=cloud.auth_url, token=token, project_id=fed.project["id"])
    scoped = ks_session.Session(auth=auth).get_token()

    # The assertion must come from the provider's entity; some users are refused; nothing
    # set by a front (a client on its own) is no login.
    assert_error(_login(cloud, fed.idp, name, fed.group["name"], "https://evil.example/"), 403)
    assert_error(_login(cloud, fed.idp, "root", fed.group["name"], fed.entity), 401)
    with cloud.http() as c:
        assert_error(c.post(f"{V3}{FED}/identity_providers/{fed.idp}/protocols/saml2/auth"), 401)

    # A deleted shadow user is made anew at its next login.
    other = unique("bob")
    first = _login(cloud, fed.idp, other, fed.group["name"], fed.entity).json()["token"]["user"]
    admin.request("DELETE", f"/users/{first['id']}", 204)
    deadline = time.monotonic() + 10  # the link goes with the deletion's notification
    while True:
        resp = _login(cloud, fed.idp, other, fed.group["name"], fed.entity)
        if resp.status_code == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert resp.status_code == 201, resp.text
    assert resp.json()["token"]["user"]["id"] != first["id"]

    # Deleting the provider deletes its users and revokes their tokens.
    admin.request("DELETE", f"{FED}/identity_providers/{fed.idp}", 204)
    assert (
        admin.client.get(f"{V3}/auth/tokens", headers={"X-Subject-Token": scoped}).status_code
        == 404
    )
    admin.request("GET", f"/users/{body['user']['id']}", 404)
