"""OAuth1 (OS-OAUTH1): consumers over Keystone's HTTP API (the secret shown once, Keystone's
policy, no way to change the secret), and the delegation flow through keystoneclient's
OAuth1 managers and keystoneauth's OAuth1 plugin."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from keystoneauth1.extras.oauth1 import V3OAuth1 as OAuth1
from keystoneauth1.identity import v3
from keystoneclient.v3 import client as ks_client

from tests.support.cloud import Cloud
from tests.support.fixtures import keystone_admin, member_of_new_project
from tests.support.keystone import (
    V3,
    Admin,
    assert_error,
    authenticate,
    project_scope,
)

admin = keystone_admin("function")


def test_consumer_lifecycle(cloud: Cloud, admin: Admin) -> None:
    made = admin.request(
        "POST", "/OS-OAUTH1/consumers", 201, json={"consumer": {"description": "d"}}
    )
    consumer = made["consumer"]
    assert consumer["description"] == "d" and len(consumer["secret"]) >= 32
    shown = admin.request("GET", f"/OS-OAUTH1/consumers/{consumer['id']}", 200)["consumer"]
    assert "secret" not in shown and shown["links"] == consumer["links"]
    listed = admin.request("GET", "/OS-OAUTH1/consumers", 200)["consumers"]
    assert consumer["id"] in {c["id"] for c in listed}
    path = f"/OS-OAUTH1/consumers/{consumer['id']}"
    body = {"consumer": {"description": "new"}}
    assert admin.request("PATCH", path, 200, json=body)["consumer"]["description"] == "new"
    assert_error(admin.client.patch(f"{V3}{path}", json={"consumer": {"secret": "x"}}), 400)
    with member_of_new_project(cloud, admin).client as c:
        assert_error(c.get(f"{V3}/OS-OAUTH1/consumers"), 403)
        assert_error(c.post(f"{V3}/OS-OAUTH1/consumers", json={"consumer": {}}), 403)
    admin.request("DELETE", path, 204)
    admin.request("GET", path, 404)


class Delegation:
    """A user with admin and member on a new project who delegates member to a consumer
    through keystoneclient's OAuth1 managers (request token, authorize, access token)."""

    def __init__(self, cloud: Cloud, admin: Admin) -> None:
        self.cloud = cloud
        self.project_id = admin.project()["id"]
        self.user = admin.user()
        for role in ("admin", "member"):
            admin.grant(self.project_id, self.user.id, role)
        self.member_id = admin.role_id("member")
        auth = v3.Password(
            auth_url=cloud.auth_url,
            user_id=self.user.id,
            password=self.user.password,
            project_id=self.project_id,
        )
        self.keystone = ks_client.Client(session=ks_session.Session(auth=auth))

    def consumer(self) -> Any:
        return self.keystone.oauth1.consumers.create(description="app")

    def access_token(self, consumer: Any) -> Any:
        oauth = self.keystone.oauth1
        request_token = oauth.request_tokens.create(consumer.id, consumer.secret, self.project_id)
        assert request_token.expires
        verifier = oauth.request_tokens.authorize(request_token.key, [self.member_id])
        return oauth.access_tokens.create(
            consumer.id,
            consumer.secret,
            request_token.key,
            request_token.secret,
            verifier.oauth_verifier,
        )

    def session(self, consumer: Any, access: Any, consumer_secret: str | None = None) -> Any:
        auth = OAuth1(
            auth_url=self.cloud.auth_url,
            consumer_key=consumer.id,
            consumer_secret=consumer_secret or consumer.secret,
            access_key=access.key,
            access_secret=access.secret,
        )
        return ks_session.Session(auth=auth)


def _token_body(cloud: Cloud, admin: Admin, token: str) -> httpx.Response:
    return admin.client.get(f"{V3}/auth/tokens", headers={"X-Subject-Token": token})


def test_oauth1_delegation_through_the_clients(cloud: Cloud, admin: Admin) -> None:
    d = Delegation(cloud, admin)
    consumer = d.consumer()
    access = d.access_token(consumer)

    token = d.session(consumer, access).get_token()
    body = _token_body(cloud, admin, token).json()["token"]
    assert body["methods"] == ["oauth1"]
    assert body["user"]["id"] == d.user.id
    assert body["project"]["id"] == d.project_id
    assert body["OS-OAUTH1"] == {"access_token_id": access.key, "consumer_id": consumer.id}
    names = {r["name"] for r in body["roles"]}
    assert "member" in names and "admin" not in names  # only what was delegated

    # A wrong consumer secret breaks the signature; the token cannot be rescoped.
    with pytest.raises(ks_exceptions.Unauthorized):
        d.session(consumer, access, consumer_secret="0" * 64).get_token()
    rescope = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": token}},
            "scope": project_scope(d.project_id),
        }
    }
    assert_error(authenticate(cloud, rescope), 403)
    # A delegated token cannot authorize another request token.
    with cloud.http(token) as c:
        assert_error(
            c.put(f"{V3}/OS-OAUTH1/authorize/{'a' * 32}", json={"roles": [{"name": "member"}]}),
            403,
        )

    path = f"/users/{d.user.id}/OS-OAUTH1/access_tokens"
    listed = admin.request("GET", path, 200)["access_tokens"]
    assert [t["id"] for t in listed] == [access.key]
    shown = admin.request("GET", f"{path}/{access.key}", 200)["access_token"]
    assert shown["consumer_id"] == consumer.id and shown["project_id"] == d.project_id
    assert shown["links"]["roles"].endswith(f"{path}/{access.key}/roles")
    roles = admin.request("GET", f"{path}/{access.key}/roles", 200)["roles"]
    assert [r["id"] for r in roles] == [d.member_id]
    admin.request("GET", f"{path}/{access.key}/roles/{d.member_id}", 200)

    # Revoking the access token kills its tokens and further OAuth1 logins.
    admin.request("DELETE", f"{path}/{access.key}", 204)
    assert _token_body(cloud, admin, token).status_code == 404
    with pytest.raises(ks_exceptions.Unauthorized):
        d.session(consumer, access).get_token()


def test_deleting_the_consumer_revokes_its_tokens(cloud: Cloud, admin: Admin) -> None:
    d = Delegation(cloud, admin)
    consumer = d.consumer()
    token = d.session(consumer, d.access_token(consumer)).get_token()
    assert _token_body(cloud, admin, token).status_code == 200
    d.keystone.oauth1.consumers.delete(consumer.id)
    assert _token_body(cloud, admin, token).status_code == 404
    assert admin.request("GET", f"/users/{d.user.id}/OS-OAUTH1/access_tokens", 200) == {
        "access_tokens": [],
        "links": {
            "self": f"{cloud.auth_url}/users/{d.user.id}/OS-OAUTH1/access_tokens",
            "previous": None,
            "next": None,
        },
    }


def test_request_token_needs_a_valid_signature_and_project(cloud: Cloud, admin: Admin) -> None:
    d = Delegation(cloud, admin)
    consumer = d.consumer()
    with pytest.raises(ks_exceptions.Unauthorized):
        d.keystone.oauth1.request_tokens.create(consumer.id, "0" * 64, d.project_id)
    with pytest.raises(ks_exceptions.NotFound):
        d.keystone.oauth1.request_tokens.create(consumer.id, consumer.secret, "b" * 32)
    # Authorizing with a role the user does not hold on the project is refused.
    request_token = d.keystone.oauth1.request_tokens.create(
        consumer.id, consumer.secret, d.project_id
    )
    with pytest.raises(ks_exceptions.Unauthorized):
        d.keystone.oauth1.request_tokens.authorize(request_token.key, ["c" * 32])


def test_a_deleted_project_takes_its_access_tokens(cloud: Cloud, admin: Admin) -> None:
    d = Delegation(cloud, admin)
    access = d.access_token(d.consumer())
    path = f"/users/{d.user.id}/OS-OAUTH1/access_tokens"
    assert [t["id"] for t in admin.request("GET", path, 200)["access_tokens"]] == [access.key]
    admin.request("DELETE", f"/projects/{d.project_id}", 204)
    deadline = time.monotonic() + 10  # the clean-up follows the deletion's notification
    while admin.request("GET", path, 200)["access_tokens"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert admin.request("GET", path, 200)["access_tokens"] == []
