"""Keystone v3 security: authentication failures, revocation, RBAC, request ids, secret logs."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import keystone_admin
from tests.support.keystone import (
    REQUEST_ID,
    V3,
    Account,
    Admin,
    assert_error,
    authenticate,
    issue,
    password_body,
    project_scope,
    token_info,
    unique,
)

admin = keystone_admin()


@pytest.fixture(scope="module")
def demo(cloud: Cloud) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """The demo user (member of project demo): its client and its ids."""
    token = cloud.token("onestack-demo")
    info = token_info(cloud, token)
    ids = {"user_id": info["user"]["id"], "project_id": info["project"]["id"]}
    with cloud.http(token) as client:
        yield client, ids


def scoped_token(cloud: Cloud, user: Account, project_id: str) -> str:
    return issue(
        cloud, password_body(user.password, user_id=user.id, scope=project_scope(project_id))
    )


def works(cloud: Cloud, token: str, user_id: str) -> int:
    """The status of a request any valid token may make (reading its own user)."""
    with cloud.http(token) as c:
        return c.get(f"{V3}/users/{user_id}").status_code


def wait_for_log(cloud: Cloud, request_id: str) -> str:
    """The server log once the request's access line is in (written after the response)."""
    deadline = time.monotonic() + 30
    while True:
        text = cloud.log.read_text(errors="replace")
        if request_id in text or time.monotonic() > deadline:
            return text
        time.sleep(0.02)


# --- authentication ------------------------------------------------------------------------
def test_no_token_is_401_with_www_authenticate(cloud: Cloud) -> None:
    with cloud.http() as c:
        resp = c.get(f"{V3}/projects")
    assert_error(resp, 401)
    header = resp.headers["WWW-Authenticate"]
    assert header.startswith("Keystone uri=")
    assert f'"{cloud.url}/identity"' in header


def test_empty_token_header_is_401(cloud: Cloud) -> None:
    with cloud.http() as c:
        resp = c.get(f"{V3}/projects", headers={"X-Auth-Token": ""})
    assert_error(resp, 401)
    assert resp.headers["WWW-Authenticate"].startswith("Keystone uri=")


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "gAAAAA" + "A" * 180,
        "x" * 10_000,
        "Bearer abc",
        str(uuid.uuid4()),
    ],
    ids=["word", "fernet-like", "huge", "bearer", "uuid"],
)
def test_garbage_token_is_401(cloud: Cloud, token: str) -> None:
    with cloud.http(token) as c:
        resp = c.get(f"{V3}/projects")
    assert_error(resp, 401)
    assert resp.headers["WWW-Authenticate"].startswith("Keystone uri=")


def test_tampered_token_is_401(cloud: Cloud) -> None:
    token = cloud.token()
    middle = len(token) // 2
    flipped = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    with cloud.http(flipped) as c:
        assert_error(c.get(f"{V3}/projects"), 401)


def test_wrong_password_and_unknown_user_look_the_same(cloud: Cloud, admin: Admin) -> None:
    user = admin.user()
    bodies = [
        password_body("wrong-password", name=user.name),
        password_body(user.password, name=unique("nobody")),
        password_body("wrong-password", user_id=user.id),
        password_body(user.password, user_id=uuid.uuid4().hex),
    ]
    responses = [authenticate(cloud, b) for b in bodies]
    for resp in responses:
        assert_error(resp, 401)
        assert "X-Subject-Token" not in resp.headers
    assert len({r.text for r in responses}) == 1, [r.text for r in responses]
    # ... and the right password does work, so the above failed for the right reason.
    assert authenticate(cloud, password_body(user.password, name=user.name)).status_code == 201


def test_unknown_domain_looks_like_a_wrong_password(cloud: Cloud, admin: Admin) -> None:
    user = admin.user()
    body = password_body(user.password, name=user.name)
    body["auth"]["identity"]["password"]["user"]["domain"] = {"name": unique("nodomain")}
    wrong = authenticate(cloud, password_body("wrong", name=user.name))
    resp = authenticate(cloud, body)
    assert_error(resp, 401)
    assert resp.text == wrong.text


def test_a_wrong_password_learns_nothing_of_its_scope_or_its_user(
    cloud: Cloud, admin: Admin
) -> None:
    """The token's scope is read while the password's hash runs: the hash still answers first."""
    user, project_id = admin.member_of_new_project()
    other = admin.project()
    wrong = authenticate(cloud, password_body("wrong-password", user_id=user.id))
    assert_error(wrong, 401)
    for scope in (
        project_scope(other["id"]),  # no role there
        project_scope(uuid.uuid4().hex),
        {"domain": {"id": uuid.uuid4().hex}},
        {"system": {"all": True}},
    ):
        resp = authenticate(cloud, password_body("wrong-password", user_id=user.id, scope=scope))
        assert resp.text == wrong.text, scope
    # The right password is told what is wrong with the scope (so the above could differ).
    right = authenticate(
        cloud, password_body(user.password, user_id=user.id, scope=project_scope(other["id"]))
    )
    assert_error(right, 401)
    assert right.text != wrong.text
    # A disabled user's wrong password is any wrong password.
    admin.request("PATCH", f"/users/{user.id}", 200, json={"user": {"enabled": False}})
    body = password_body("wrong-password", user_id=user.id, scope=project_scope(project_id))
    assert authenticate(cloud, body).text == wrong.text


def test_disabled_user_cannot_get_a_token(cloud: Cloud, admin: Admin) -> None:
    user, project_id = admin.member_of_new_project()
    before = scoped_token(cloud, user, project_id)
    admin.request("PATCH", f"/users/{user.id}", 200, json={"user": {"enabled": False}})
    for body in (
        password_body(user.password, user_id=user.id),
        password_body(user.password, user_id=user.id, scope=project_scope(project_id)),
    ):
        assert_error(authenticate(cloud, body), 401)
    # Its token from before is revoked too.
    with cloud.http(before) as c:
        assert_error(c.get(f"{V3}/users/{user.id}"), 401)
    # Enabled again, it authenticates again.
    admin.request("PATCH", f"/users/{user.id}", 200, json={"user": {"enabled": True}})
    scoped_token(cloud, user, project_id)


def test_user_of_a_disabled_project_cannot_scope_to_it(cloud: Cloud, admin: Admin) -> None:
    user, project_id = admin.member_of_new_project()
    before = scoped_token(cloud, user, project_id)
    admin.request("PATCH", f"/projects/{project_id}", 200, json={"project": {"enabled": False}})
    body = password_body(user.password, user_id=user.id, scope=project_scope(project_id))
    assert_error(authenticate(cloud, body), 401)
    with cloud.http(before) as c:
        assert_error(c.get(f"{V3}/users/{user.id}"), 401)
    # The user itself is fine: an unscoped token still works.
    unscoped = authenticate(cloud, password_body(user.password, user_id=user.id))
    assert unscoped.status_code == 201, unscoped.text
    assert "project" not in unscoped.json()["token"]


def test_scoping_to_a_project_without_a_role_is_401(cloud: Cloud, admin: Admin) -> None:
    user = admin.user()
    other = admin.project()
    body = password_body(user.password, user_id=user.id, scope=project_scope(other["id"]))
    assert_error(authenticate(cloud, body), 401)


# --- revocation ----------------------------------------------------------------------------
def test_revoked_token_is_401_on_next_use(cloud: Cloud, admin: Admin) -> None:
    user, project_id = admin.member_of_new_project()
    token = scoped_token(cloud, user, project_id)
    other = scoped_token(cloud, user, project_id)
    with cloud.http(token) as c:
        assert c.get(f"{V3}/users/{user.id}").status_code == 200
        resp = c.delete(f"{V3}/auth/tokens", headers={"X-Subject-Token": token})
        assert resp.status_code == 204, resp.text
        assert_error(c.get(f"{V3}/users/{user.id}"), 401)
    # An admin validating it is told it does not exist; HEAD says the same.
    subject = {"X-Subject-Token": token}
    assert_error(admin.client.get(f"{V3}/auth/tokens", headers=subject), 404)
    assert admin.client.head(f"{V3}/auth/tokens", headers=subject).status_code == 404
    # Only that token: the user's other token lives on.
    assert works(cloud, other, user.id) == 200


def test_revoke_with_another_users_token_is_403(cloud: Cloud, admin: Admin) -> None:
    alice, alice_project = admin.member_of_new_project()
    bob, bob_project = admin.member_of_new_project()
    alice_token = scoped_token(cloud, alice, alice_project)
    with cloud.http(scoped_token(cloud, bob, bob_project)) as c:
        subject = {"X-Subject-Token": alice_token}
        assert_error(c.delete(f"{V3}/auth/tokens", headers=subject), 403)
        assert_error(c.get(f"{V3}/auth/tokens", headers=subject), 403)
    assert works(cloud, alice_token, alice.id) == 200


def test_password_change_revokes_tokens_and_new_password_works(cloud: Cloud, admin: Admin) -> None:
    user, project_id = admin.member_of_new_project()
    old_token = scoped_token(cloud, user, project_id)
    new_password = f"new-{uuid.uuid4().hex}"
    resp = httpx.post(
        f"{cloud.auth_url}/users/{user.id}/password",
        json={"user": {"original_password": user.password, "password": new_password}},
        timeout=30,
    )
    assert resp.status_code == 204, resp.text
    assert works(cloud, old_token, user.id) == 401
    assert_error(authenticate(cloud, password_body(user.password, user_id=user.id)), 401)
    fresh = Account(user.id, user.name, new_password)
    assert works(cloud, scoped_token(cloud, fresh, project_id), user.id) == 200


def test_password_change_needs_the_original_password(cloud: Cloud, admin: Admin) -> None:
    user = admin.user()
    resp = httpx.post(
        f"{cloud.auth_url}/users/{user.id}/password",
        json={"user": {"original_password": "not-it", "password": "taken-over-1"}},
        timeout=30,
    )
    assert_error(resp, 401)
    assert authenticate(cloud, password_body(user.password, user_id=user.id)).status_code == 201
    assert_error(authenticate(cloud, password_body("taken-over-1", user_id=user.id)), 401)


def test_role_removal_rejects_the_existing_token(cloud: Cloud, admin: Admin) -> None:
    user, project_id = admin.member_of_new_project()
    second = admin.project()
    admin.grant(second["id"], user.id, "member")
    token = scoped_token(cloud, user, project_id)
    other = scoped_token(cloud, user, second["id"])
    assert works(cloud, token, user.id) == 200
    role = admin.role_id("member")
    admin.request("DELETE", f"/projects/{project_id}/users/{user.id}/roles/{role}", 204)
    assert works(cloud, token, user.id) == 401
    # The token scoped to the project where the role stays is unaffected.
    assert works(cloud, other, user.id) == 200
    body = password_body(user.password, user_id=user.id, scope=project_scope(project_id))
    assert_error(authenticate(cloud, body), 401)


# --- RBAC: a project member ----------------------------------------------------------------
def test_member_cannot_list_users(demo: tuple[httpx.Client, dict[str, str]]) -> None:
    client, _ = demo
    assert_error(client.get(f"{V3}/users"), 403)


def test_member_cannot_see_another_project(
    demo: tuple[httpx.Client, dict[str, str]], admin: Admin
) -> None:
    client, ids = demo
    resp = client.get(f"{V3}/projects/{admin.project_id}")
    assert resp.status_code in (403, 404)
    assert_error(resp, resp.status_code)
    assert "Bootstrap" not in resp.text
    assert client.get(f"{V3}/projects/{ids['project_id']}").status_code == 200


def test_member_cannot_grant_itself_a_role(
    demo: tuple[httpx.Client, dict[str, str]], admin: Admin
) -> None:
    client, ids = demo
    for role in ("admin", "member"):
        path = f"/projects/{ids['project_id']}/users/{ids['user_id']}/roles/{admin.role_id(role)}"
        assert_error(client.put(f"{V3}{path}"), 403)
    system = f"/system/users/{ids['user_id']}/roles/{admin.role_id('admin')}"
    assert_error(client.put(f"{V3}{system}"), 403)
    listed = admin.request(
        "GET", f"/role_assignments?user.id={ids['user_id']}&role.id={admin.role_id('admin')}", 200
    )
    assert listed["role_assignments"] == []


def test_member_cannot_create_a_project(demo: tuple[httpx.Client, dict[str, str]]) -> None:
    client, _ = demo
    name = unique("by-demo")
    assert_error(client.post(f"{V3}/projects", json={"project": {"name": name}}), 403)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/domains"),
        ("POST", "/domains"),
        ("GET", "/role_assignments"),
        ("POST", "/roles"),
        ("POST", "/users"),
        ("GET", "/groups"),
        ("POST", "/services"),
        ("POST", "/regions"),
    ],
)
def test_member_cannot_administer(
    demo: tuple[httpx.Client, dict[str, str]], method: str, path: str
) -> None:
    client, _ = demo
    key = path.strip("/").rstrip("s")
    resp = client.request(method, f"{V3}{path}", json={key: {"name": unique("x")}})
    assert_error(resp, 403)


# --- RBAC: a reader ------------------------------------------------------------------------
def test_reader_only_user(cloud: Cloud, admin: Admin) -> None:
    reader, project_id = admin.member_of_new_project(role="reader")
    other = admin.user()
    with cloud.http(scoped_token(cloud, reader, project_id)) as c:
        own = c.get(f"{V3}/projects/{project_id}")
        assert own.status_code == 200, own.text
        assert own.json()["project"]["id"] == project_id
        resp = c.patch(f"{V3}/projects/{project_id}", json={"project": {"description": "mine"}})
        assert_error(resp, 403)
        resp = c.post(
            f"{V3}/users/{other.id}/application_credentials",
            json={"application_credential": {"name": unique("not-mine")}},
        )
        assert_error(resp, 403)
        assert_error(c.post(f"{V3}/projects", json={"project": {"name": unique("r")}}), 403)
    listed = admin.request("GET", f"/users/{other.id}/application_credentials", 200)
    assert listed["application_credentials"] == []
    assert admin.request("GET", f"/projects/{project_id}", 200)["project"]["description"] == ""


def test_member_cannot_read_another_users_application_credentials(
    cloud: Cloud, admin: Admin
) -> None:
    alice, alice_project = admin.member_of_new_project()
    bob, bob_project = admin.member_of_new_project()
    with cloud.http(scoped_token(cloud, alice, alice_project)) as c:
        resp = c.post(
            f"{V3}/users/{alice.id}/application_credentials",
            json={"application_credential": {"name": unique("alice-cred")}},
        )
        assert resp.status_code == 201, resp.text
        cred_id = resp.json()["application_credential"]["id"]
    with cloud.http(scoped_token(cloud, bob, bob_project)) as c:
        assert_error(c.get(f"{V3}/users/{alice.id}/application_credentials"), 403)
        assert_error(c.get(f"{V3}/users/{alice.id}/application_credentials/{cred_id}"), 403)
        assert_error(c.delete(f"{V3}/users/{alice.id}/application_credentials/{cred_id}"), 403)
        assert_error(c.get(f"{V3}/users/{bob.id}/application_credentials/{cred_id}"), 404)
        assert_error(c.delete(f"{V3}/users/{bob.id}/application_credentials/{cred_id}"), 404)
        assert_error(c.get(f"{V3}/users/{alice.id}/access_rules"), 403)
        mine = c.get(f"{V3}/users/{bob.id}/application_credentials")
        assert mine.status_code == 200
        assert mine.json()["application_credentials"] == []
    # Still there for its owner.
    admin.request("GET", f"/users/{alice.id}/application_credentials/{cred_id}", 200)


# --- request ids ---------------------------------------------------------------------------
def test_every_response_has_a_request_id(cloud: Cloud, admin: Admin) -> None:
    ids: list[str] = []
    with cloud.http() as anonymous:
        responses = [
            anonymous.get("/identity/"),  # 300
            anonymous.get(f"{V3}"),  # 200
            anonymous.get(f"{V3}/projects"),  # 401
            anonymous.get("/nowhere"),  # 404 outside any service
            authenticate(cloud, password_body("wrong", name="admin")),  # 401
            admin.client.get(f"{V3}/projects"),  # 200
            admin.client.post(f"{V3}/projects", json={"project": {"name": unique("rid")}}),
            admin.client.get(f"{V3}/nope"),  # 404
            admin.client.put(f"{V3}/projects"),  # 405
            admin.client.post(f"{V3}/projects", content=b"{", headers={"content-type": "text/x"}),
            admin.client.post(f"{V3}/projects", json={"project": {}}),  # 400
            admin.client.head(f"{V3}/auth/tokens", headers={"X-Subject-Token": admin.token}),
        ]
    assert {r.status_code for r in responses} >= {200, 201, 300, 400, 401, 404, 405, 415}
    for resp in responses:
        rid = resp.headers.get("x-openstack-request-id")
        assert rid is not None, (resp.request.url, resp.status_code)
        assert REQUEST_ID.match(rid), rid
        assert resp.headers.get_list("x-openstack-request-id") == [rid]
        ids.append(rid)
    assert len(set(ids)) == len(ids)


def test_request_id_is_in_the_server_log(cloud: Cloud, admin: Admin) -> None:
    resp = admin.client.get(f"{V3}/projects/{admin.project_id}")
    rid = resp.headers["x-openstack-request-id"]
    line = next(x for x in wait_for_log(cloud, rid).splitlines() if rid in x)
    assert f" GET /identity/v3/projects/{admin.project_id} 200 " in line


# --- secrets never reach the log -----------------------------------------------------------
def test_log_never_contains_passwords_or_tokens(cloud: Cloud, admin: Admin) -> None:
    user, project_id = admin.member_of_new_project()
    secrets = [user.password, cloud.secrets["admin_password"], cloud.secrets["demo_password"]]
    tokens = [admin.token, cloud.token("onestack-demo")]
    token = scoped_token(cloud, user, project_id)
    tokens.append(token)
    # Failures, a password in a query string, a password change and an app credential secret.
    authenticate(cloud, password_body(user.password + "-wrong", user_id=user.id))
    secrets.append(user.password + "-wrong")
    authenticate(cloud, password_body(user.password, user_id=user.id), f"?password={user.password}")
    new_password = f"changed-{uuid.uuid4().hex}"
    secrets.append(new_password)
    httpx.post(
        f"{cloud.auth_url}/users/{user.id}/password",
        json={"user": {"original_password": user.password, "password": new_password}},
        timeout=30,
    )
    token = scoped_token(cloud, Account(user.id, user.name, new_password), project_id)
    tokens.append(token)
    with cloud.http(token) as c:
        c.get(f"{V3}/auth/tokens", headers={"X-Subject-Token": token})
        c.get(f"{V3}/projects?token={token}")
        made = c.post(
            f"{V3}/users/{user.id}/application_credentials",
            json={"application_credential": {"name": unique("cred"), "secret": "app-secret-42"}},
        )
        assert made.status_code == 201, made.text
        secrets.append("app-secret-42")
        c.delete(f"{V3}/auth/tokens", headers={"X-Subject-Token": token})
    with cloud.http(token) as c:
        last = c.get(f"{V3}/projects")  # a revoked token, refused
    log = wait_for_log(cloud, last.headers["x-openstack-request-id"])
    assert user.id in log  # the requests above were logged ...
    for secret in secrets:
        assert secret not in log, "a password or secret is in the server log"
    for t in tokens:
        # ... without their tokens, whole or in part.
        assert t not in log and t[:40] not in log and t[-40:] not in log, "a token is in the log"
