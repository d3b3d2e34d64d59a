"""Trusts (OS-TRUST) through openstacksdk and keystoneauth: delegation, impersonation,
trust-scoped tokens, limited uses, expiry, redelegation and Keystone's policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import openstack
import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from tests.support.cloud import Cloud
from tests.support.fixtures import keystone_admin
from tests.support.keystone import (
    V3,
    Account,
    Admin,
    assert_error,
    authenticate,
    issue,
    password_body,
    project_scope,
    unique,
)

admin = keystone_admin("function")


class Parties:
    """A trustor with two roles on a new project (one to delegate), and a trustee."""

    def __init__(self, cloud: Cloud, admin: Admin) -> None:
        self.cloud = cloud
        self.project = admin.project()
        self.trustor = admin.user()
        self.trustee = admin.user()
        self.delegated = admin.request("POST", "/roles", 201, json={"role": {"name": unique("d")}})[
            "role"
        ]
        self.kept = admin.request("POST", "/roles", 201, json={"role": {"name": unique("k")}})[
            "role"
        ]
        for role in (self.delegated, self.kept):
            admin.request(
                "PUT",
                f"/projects/{self.project['id']}/users/{self.trustor.id}/roles/{role['id']}",
                204,
            )
        admin.grant(self.project["id"], self.trustee.id, "reader")  # somewhere to log in to

    def conn(self, who: Account) -> Any:
        return openstack.connect(
            auth_url=self.cloud.auth_url,
            user_id=who.id,
            password=who.password,
            project_id=self.project["id"],
            region_name="RegionOne",
        )

    def trust_session(self, who: Account, trust_id: str) -> ks_session.Session:
        auth = v3.Password(
            auth_url=self.cloud.auth_url, user_id=who.id, password=who.password, trust_id=trust_id
        )
        return ks_session.Session(auth=auth)


@pytest.fixture
def parties(cloud: Cloud, admin: Admin) -> Parties:
    return Parties(cloud, admin)


def _token_body(cloud: Cloud, token: str) -> dict[str, Any]:
    with cloud.http(token) as c:
        resp = c.get(f"{V3}/auth/tokens", headers={"X-Subject-Token": token})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()["token"]
    return body


def test_impersonating_trust_lifecycle(cloud: Cloud, parties: Parties) -> None:
    conn = parties.conn(parties.trustor)
    trust = conn.identity.create_trust(
        trustor_user_id=parties.trustor.id,
        trustee_user_id=parties.trustee.id,
        project_id=parties.project["id"],
        roles=[{"name": parties.delegated["name"]}],
        is_impersonation=True,
    )
    assert trust.is_impersonation is True
    assert trust.expires_at is None
    assert [r["id"] for r in trust.roles] == [parties.delegated["id"]]
    shown = conn.identity.get_trust(trust.id)
    assert shown.project_id == parties.project["id"]
    assert shown.trustee_user_id == parties.trustee.id
    mine = list(conn.identity.trusts(trustor_user_id=parties.trustor.id))
    assert [t.id for t in mine] == [trust.id]

    # The trustee's trust-scoped token acts as the trustor with the delegated role only.
    sess = parties.trust_session(parties.trustee, trust.id)
    token = sess.get_token()
    body = _token_body(cloud, token)
    assert body["user"]["id"] == parties.trustor.id
    assert body["project"]["id"] == parties.project["id"]
    assert [r["id"] for r in body["roles"]] == [parties.delegated["id"]]
    assert body["OS-TRUST:trust"] == {
        "id": trust.id,
        "impersonation": True,
        "trustee_user": {"id": parties.trustee.id},
        "trustor_user": {"id": parties.trustor.id},
        "links": {"self": f"{cloud.auth_url}/OS-TRUST/trusts/{trust.id}"},
    }
    # A trust-scoped token cannot be rescoped.
    resp = authenticate(
        cloud,
        {
            "auth": {
                "identity": {"methods": ["token"], "token": {"id": token}},
                "scope": project_scope(parties.project["id"]),
            }
        },
    )
    assert_error(resp, 403)

    conn.identity.delete_trust(trust.id)
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.identity.get_trust(trust.id)
    # Its tokens die with it, and no new one is issued.
    with cloud.http(token) as c:
        assert c.get(f"{V3}/auth/tokens", headers={"X-Subject-Token": token}).status_code == 401
    resp = authenticate(cloud, _trust_auth(parties.trustee, trust.id))
    assert_error(resp, 401)


def _trust_auth(who: Account, trust_id: str) -> dict[str, Any]:
    return password_body(who.password, user_id=who.id, scope={"OS-TRUST:trust": {"id": trust_id}})


def test_trust_without_impersonation_uses_and_expiry(
    cloud: Cloud, admin: Admin, parties: Parties
) -> None:
    conn = parties.conn(parties.trustor)
    expires = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0, tzinfo=None)
    trust = conn.identity.create_trust(
        trustor_user_id=parties.trustor.id,
        trustee_user_id=parties.trustee.id,
        project_id=parties.project["id"],
        roles=[{"id": parties.delegated["id"]}],
        is_impersonation=False,
        expires_at=expires.isoformat() + "Z",
        remaining_uses=1,
    )
    assert trust.expires_at == expires.isoformat() + ".000000Z"
    # Only the trustee may use it; anyone else is refused.
    assert_error(authenticate(cloud, _trust_auth(parties.trustor, trust.id)), 403)
    # A wrong password spends no use: the hash's verdict comes before the trust is touched.
    wrong = Account(parties.trustee.id, parties.trustee.name, "wrong-password")
    assert_error(authenticate(cloud, _trust_auth(wrong, trust.id)), 401)
    token = issue(cloud, _trust_auth(parties.trustee, trust.id))
    body = _token_body(cloud, token)
    assert body["user"]["id"] == parties.trustee.id
    assert body["OS-TRUST:trust"]["impersonation"] is False
    assert body["expires_at"] <= expires.isoformat() + ".000000Z"
    # The single use is spent: the trust is gone for everything.
    assert_error(authenticate(cloud, _trust_auth(parties.trustee, trust.id)), 401)
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.identity.get_trust(trust.id)
    # A bad expiry is a 400.
    with parties.cloud.http(issue(cloud, _password(parties))) as c:
        resp = c.post(
            f"{V3}/OS-TRUST/trusts", json={"trust": {**_body(parties), "expires_at": "bad.123Z"}}
        )
    assert_error(resp, 400)


def _password(parties: Parties) -> dict[str, Any]:
    who = parties.trustor
    return password_body(who.password, user_id=who.id, scope=project_scope(parties.project["id"]))


def _body(parties: Parties, **extra: Any) -> dict[str, Any]:
    return {
        "trustor_user_id": parties.trustor.id,
        "trustee_user_id": parties.trustee.id,
        "project_id": parties.project["id"],
        "roles": [{"id": parties.delegated["id"]}],
        "impersonation": False,
        **extra,
    }


def test_trust_policy(cloud: Cloud, admin: Admin, parties: Parties) -> None:
    trustor_token = issue(cloud, _password(parties))
    with cloud.http(trustor_token) as c:
        # A role the trustor does not hold cannot be delegated.
        body = _body(parties, roles=[{"name": "admin"}])
        assert_error(c.post(f"{V3}/OS-TRUST/trusts", json={"trust": body}), 404)
        # Nor can a user make a trust in someone else's name.
        body = _body(parties, trustor_user_id=parties.trustee.id)
        assert_error(c.post(f"{V3}/OS-TRUST/trusts", json={"trust": body}), 403)
        trust = c.post(f"{V3}/OS-TRUST/trusts", json={"trust": _body(parties)}).json()["trust"]
        # Listing every trust is for admins; a trustor lists its own.
        assert_error(c.get(f"{V3}/OS-TRUST/trusts"), 403)
    outsider, project_id = admin.member_of_new_project()
    token = issue(
        cloud,
        password_body(outsider.password, user_id=outsider.id, scope=project_scope(project_id)),
    )
    with cloud.http(token) as c:
        assert_error(c.get(f"{V3}/OS-TRUST/trusts/{trust['id']}"), 403)
        assert_error(c.delete(f"{V3}/OS-TRUST/trusts/{trust['id']}"), 403)
        q = f"{V3}/OS-TRUST/trusts?trustor_user_id={parties.trustor.id}"
        assert_error(c.get(q), 403)
    listed = admin.request("GET", "/OS-TRUST/trusts", 200)["trusts"]
    assert trust["id"] in {t["id"] for t in listed}
    assert admin.request("GET", "/OS-TRUST/trusts/", 200)["trusts"] == listed
    assert all("roles" not in t for t in listed)
    # The trustee sees it, and its roles, but the role it does not delegate is a 404.
    token = issue(
        cloud,
        password_body(
            parties.trustee.password,
            user_id=parties.trustee.id,
            scope=project_scope(parties.project["id"]),
        ),
    )
    with cloud.http(token) as c:
        roles = c.get(f"{V3}/OS-TRUST/trusts/{trust['id']}/roles").json()["roles"]
        assert [r["id"] for r in roles] == [parties.delegated["id"]]
        base = f"{V3}/OS-TRUST/trusts/{trust['id']}/roles"
        assert c.head(f"{base}/{parties.delegated['id']}").status_code == 200
        assert c.head(f"{base}/{parties.kept['id']}").status_code == 404
        # The trustee cannot delete it; the trustor's deletion of the user removes it.
        assert_error(c.delete(f"{V3}/OS-TRUST/trusts/{trust['id']}"), 403)
    admin.request("DELETE", f"/users/{parties.trustor.id}", 204)
    admin.request("GET", f"/OS-TRUST/trusts/{trust['id']}", 404)


def test_redelegation_chain(cloud: Cloud, admin: Admin, parties: Parties) -> None:
    third = admin.user()
    with cloud.http(issue(cloud, _password(parties))) as c:
        body = _body(parties, allow_redelegation=True, redelegation_count=2)
        resp = c.post(f"{V3}/OS-TRUST/trusts", json={"trust": body})
    assert resp.status_code == 201, resp.text
    parent = resp.json()["trust"]
    assert parent["redelegation_count"] == 2
    # The trustee, through the trust, delegates further to a third user.
    token = issue(cloud, _trust_auth(parties.trustee, parent["id"]))
    child_body = {
        "trustor_user_id": parties.trustee.id,
        "trustee_user_id": third.id,
        "project_id": parties.project["id"],
        "roles": [{"id": parties.delegated["id"]}],
        "impersonation": False,
        "allow_redelegation": True,
    }
    with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": token}, timeout=30) as c:
        impersonating = {**child_body, "impersonation": True}
        assert_error(c.post(f"{V3}/OS-TRUST/trusts", json={"trust": impersonating}), 403)
        more = {**child_body, "roles": [{"id": parties.kept["id"]}]}
        assert c.post(f"{V3}/OS-TRUST/trusts", json={"trust": more}).status_code in (403, 404)
        resp = c.post(f"{V3}/OS-TRUST/trusts", json={"trust": child_body})
    assert resp.status_code == 201, resp.text
    child = resp.json()["trust"]
    assert child["redelegated_trust_id"] == parent["id"]
    assert child["redelegation_count"] == 1
    third_token = issue(cloud, _trust_auth(third, child["id"]))
    body = _token_body(cloud, third_token)
    assert [r["id"] for r in body["roles"]] == [parties.delegated["id"]]
    # Deleting the first trust takes the redelegated one and its tokens with it.
    admin.request("DELETE", f"/OS-TRUST/trusts/{parent['id']}", 204)
    admin.request("GET", f"/OS-TRUST/trusts/{child['id']}", 404)
    with cloud.http(third_token) as c:
        resp = c.get(f"{V3}/auth/tokens", headers={"X-Subject-Token": third_token})
    assert resp.status_code == 401
