"""Keystone v3 refuses bad input with the right status and its error body, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import keystone_admin
from tests.support.keystone import V3, Admin, assert_error, authenticate, password_body, unique

JSON = {"content-type": "application/json"}
MIB = 1024 * 1024


admin = keystone_admin()


@pytest.fixture
def api(admin: Admin) -> httpx.Client:
    return admin.client


@pytest.fixture(autouse=True)
def no_server_error(cloud: Cloud) -> Iterator[None]:
    """No request of the test ended in an unexpected error (a 500) on the server's side."""
    start = cloud.log.stat().st_size
    yield
    with open(cloud.log, "rb") as f:
        f.seek(start)
        new = f.read().decode(errors="replace")
    assert "unexpected error" not in new and "Traceback" not in new, new[-3000:]
    assert " 500 ms=" not in new, new[-3000:]  # an access-log line of a 500


# --- bodies that are not JSON documents ----------------------------------------------------
def test_malformed_json_is_400(api: httpx.Client) -> None:
    resp = api.post(f"{V3}/projects", content=b'{"project": {"name": ', headers=JSON)
    err = assert_error(resp, 400)
    assert "json" in err["message"].lower()


def test_empty_body_is_400(api: httpx.Client) -> None:
    assert_error(api.post(f"{V3}/projects", content=b"", headers=JSON), 400)


@pytest.mark.parametrize("raw", [b"null", b"[]", b'"project"', b"42", b'{"project": null}'])
def test_body_of_the_wrong_json_type_is_400(api: httpx.Client, raw: bytes) -> None:
    assert_error(api.post(f"{V3}/projects", content=raw, headers=JSON), 400)


def test_body_over_one_mib_is_413(api: httpx.Client) -> None:
    name = "a" * (MIB + 16)
    resp = api.post(f"{V3}/projects", json={"project": {"name": name}})
    assert_error(resp, 413)


@pytest.mark.parametrize("path", ["/auth/tokens", "/users/someone/password"])
def test_body_over_one_mib_on_public_routes_is_413(cloud: Cloud, path: str) -> None:
    """No token is needed to reach these: they must refuse big bodies all the same."""
    body = {"auth": {"identity": {"methods": ["password"], "padding": "a" * 2 * MIB}}}
    assert_error(httpx.post(f"{cloud.auth_url}{path}", json=body, timeout=30), 413)


def test_streamed_body_over_one_mib_without_length_is_413(api: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"project": {"name": "'
        for _ in range(1100):
            yield b"a" * 1024
        yield b'"}}'

    resp = api.post(f"{V3}/projects", content=chunks(), headers=JSON)
    assert "content-length" not in resp.request.headers  # sent chunked: no size declared
    assert_error(resp, 413)


def test_body_just_under_the_limit_is_parsed(api: httpx.Client) -> None:
    # Near the limit the body is still read and validated: the name is too long, not the body.
    resp = api.post(f"{V3}/projects", json={"project": {"name": "a" * (MIB - 100)}})
    assert_error(resp, 400)


@pytest.mark.parametrize(
    "ctype", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_non_json_content_type_is_415(api: httpx.Client, ctype: str) -> None:
    resp = api.post(
        f"{V3}/projects", content=b'{"project": {"name": "x"}}', headers={"content-type": ctype}
    )
    err = assert_error(resp, 415)
    assert ctype in err["message"]


def test_json_with_charset_is_accepted(api: httpx.Client) -> None:
    name = unique("charset")
    resp = api.post(
        f"{V3}/projects",
        content=f'{{"project": {{"name": "{name}"}}}}'.encode(),
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["project"]["name"] == name


# --- schema violations ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/projects", {"project": {"name": unique("p"), "enabled": "yes"}}, "enabled"),
        ("/projects", {"project": {"name": 5}}, "name"),
        ("/projects", {"project": {"name": unique("p"), "enabled": 1}}, "enabled"),
        ("/projects", {"project": {"name": unique("p"), "tags": "a"}}, "tags"),
        ("/users", {"user": {"name": unique("u"), "enabled": "yes"}}, "enabled"),
        ("/users", {"user": {"name": ["u"]}}, "name"),
        ("/domains", {"domain": {"name": unique("d"), "enabled": "true"}}, "enabled"),
        ("/groups", {"group": {"name": {"n": 1}}}, "name"),
        ("/roles", {"role": {"name": 1.5}}, "name"),
        ("/services", {"service": {"type": "x", "enabled": "no"}}, "enabled"),
        ("/regions", {"region": {"description": 7}}, "description"),
    ],
)
def test_wrong_types_are_400(
    api: httpx.Client, path: str, body: dict[str, Any], field: str
) -> None:
    err = assert_error(api.post(f"{V3}{path}", json=body), 400)
    assert field in err["message"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/projects", {"project": {"description": "no name"}}, "name"),
        ("/projects", {"name": "not wrapped"}, "project"),
        ("/users", {"user": {"enabled": True}}, "name"),
        ("/groups", {"group": {}}, "name"),
        ("/domains", {"domain": {"enabled": True}}, "name"),
        ("/roles", {"role": {}}, "name"),
        ("/services", {"service": {"name": "no type"}}, "type"),
        ("/endpoints", {"endpoint": {"interface": "public", "url": "http://x"}}, "service_id"),
        ("/credentials", {"credential": {"type": "ec2", "blob": "{}"}}, "user_id"),
    ],
)
def test_missing_required_fields_are_400(
    api: httpx.Client, path: str, body: dict[str, Any], field: str
) -> None:
    err = assert_error(api.post(f"{V3}{path}", json=body), 400)
    assert field in err["message"]


def test_project_name_of_65_characters_is_400(api: httpx.Client) -> None:
    err = assert_error(api.post(f"{V3}/projects", json={"project": {"name": "p" * 65}}), 400)
    assert "name" in err["message"]


def test_project_name_of_64_characters_is_accepted(api: httpx.Client) -> None:
    name = unique("p").ljust(64, "x")
    resp = api.post(f"{V3}/projects", json={"project": {"name": name}})
    assert resp.status_code == 201, resp.text


def test_user_name_of_256_characters_is_400(api: httpx.Client) -> None:
    err = assert_error(api.post(f"{V3}/users", json={"user": {"name": "u" * 256}}), 400)
    assert "name" in err["message"]


def test_empty_project_name_is_400(api: httpx.Client) -> None:
    assert_error(api.post(f"{V3}/projects", json={"project": {"name": ""}}), 400)


def test_update_with_wrong_type_is_400(admin: Admin, api: httpx.Client) -> None:
    project = admin.project()
    resp = api.patch(f"{V3}/projects/{project['id']}", json={"project": {"enabled": "no"}})
    assert_error(resp, 400)
    still = admin.request("GET", f"/projects/{project['id']}", 200)["project"]
    assert still["enabled"] is True


# --- unknown fields where Keystone's schema is closed --------------------------------------
def test_application_credential_with_unknown_key_is_400(admin: Admin, api: httpx.Client) -> None:
    name = unique("appcred")
    resp = api.post(
        f"{V3}/users/{admin.user_id}/application_credentials",
        json={"application_credential": {"name": name, "colour": "blue"}},
    )
    err = assert_error(resp, 400)
    assert "colour" in err["message"]
    listed = admin.request(
        "GET", f"/users/{admin.user_id}/application_credentials?name={name}", 200
    )
    assert listed["application_credentials"] == []


def test_password_change_with_extra_key_is_400(admin: Admin, cloud: Cloud) -> None:
    user = admin.user()
    resp = httpx.post(
        f"{cloud.auth_url}/users/{user.id}/password",
        json={
            "user": {
                "original_password": user.password,
                "password": "a-new-password-1",
                "name": "sneaky",
            }
        },
        timeout=30,
    )
    err = assert_error(resp, 400)
    assert "name" in err["message"]
    # Nothing changed: the old password still works.
    ok = authenticate(cloud, password_body(user.password, user_id=user.id))
    assert ok.status_code == 201, ok.text


def test_password_change_without_original_password_is_400(admin: Admin, cloud: Cloud) -> None:
    user = admin.user()
    resp = httpx.post(
        f"{cloud.auth_url}/users/{user.id}/password",
        json={"user": {"password": "x-new-1"}},
        timeout=30,
    )
    assert_error(resp, 400)


def test_open_resources_keep_unknown_fields(api: httpx.Client) -> None:
    """Keystone stores extra attributes on projects (its schema allows them): not an error."""
    resp = api.post(f"{V3}/projects", json={"project": {"name": unique("p"), "colour": "blue"}})
    assert resp.status_code == 201, resp.text
    assert resp.json()["project"]["colour"] == "blue"


# --- routing -------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/nope", "/projects/x/nope", "/users/x/y/z", "/auth/nope"])
def test_unknown_path_is_404_with_error_body(api: httpx.Client, path: str) -> None:
    assert_error(api.get(f"{V3}{path}"), 404)


def test_unknown_path_without_token_is_not_500(cloud: Cloud) -> None:
    with cloud.http() as c:
        resp = c.get(f"{V3}/nope")
    assert resp.status_code in (401, 404)
    assert_error(resp, resp.status_code)


def test_unknown_resource_id_is_404(api: httpx.Client) -> None:
    err = assert_error(api.get(f"{V3}/projects/does-not-exist"), 404)
    assert "does-not-exist" in err["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/projects"), ("DELETE", "/users"), ("PATCH", "/auth/tokens"), ("POST", "/roles/x")],
)
def test_wrong_method_is_405(api: httpx.Client, method: str, path: str) -> None:
    assert_error(api.request(method, f"{V3}{path}"), 405)


# --- conflicts -----------------------------------------------------------------------------
def test_duplicate_project_name_in_a_domain_is_409(admin: Admin, api: httpx.Client) -> None:
    project = admin.project()
    resp = api.post(f"{V3}/projects", json={"project": {"name": project["name"]}})
    err = assert_error(resp, 409)
    assert project["name"] in err["message"]


def test_duplicate_user_name_in_a_domain_is_409(admin: Admin, api: httpx.Client) -> None:
    user = admin.user()
    assert_error(api.post(f"{V3}/users", json={"user": {"name": user.name}}), 409)


def test_same_project_name_in_another_domain_is_fine(admin: Admin, api: httpx.Client) -> None:
    project = admin.project()
    domain = admin.request("POST", "/domains", 201, json={"domain": {"name": unique("dom")}})
    domain_id = domain["domain"]["id"]
    try:
        resp = api.post(
            f"{V3}/projects", json={"project": {"name": project["name"], "domain_id": domain_id}}
        )
        assert resp.status_code == 201, resp.text
        admin.request("DELETE", f"/projects/{resp.json()['project']['id']}", 204)
    finally:
        admin.request("PATCH", f"/domains/{domain_id}", 200, json={"domain": {"enabled": False}})
        admin.request("DELETE", f"/domains/{domain_id}", 204)


# --- POST /v3/auth/tokens bodies -----------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        {"auth": {"identity": {"password": {"user": {"name": "admin", "password": "x"}}}}},
        {"auth": {"identity": {"methods": "password"}}},
        {"auth": {"identity": {}}},
        {"auth": {}},
        {"auth": "password"},
        {"identity": {"methods": ["password"]}},
        {"auth": {"identity": {"methods": [5]}}},
        {"auth": {"identity": {"methods": ["password"], "password": "secret"}}},
        {"auth": {"identity": {"methods": ["password"], "password": {"user": "admin"}}}},
        {"auth": {"identity": {"methods": ["password"], "password": {"user": {"password": 5}}}}},
        {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"name": ["admin"], "domain": {"id": "default"},
                                          "password": "x"}},
                }
            }
        },
        {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"id": 5, "password": "x"}},
                }
            }
        },
        {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"name": "admin", "domain": {"name": 5},
                                          "password": "x"}},
                }
            }
        },
        {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"name": "admin", "password": "x"}},
                }
            }
        },
        {"auth": {"identity": {"methods": ["application_credential"],
                               "application_credential": "id"}}},
        {"auth": {"identity": {"methods": ["application_credential"],
                               "application_credential": {"id": ["x"], "secret": "s"}}}},
        {"auth": {"identity": {"methods": ["token"], "token": "abc"}}},
        {
            "auth": {
                "identity": {"methods": ["password"],
                             "password": {"user": {"id": "x", "password": "x"}}},
                "scope": {"project": {"id": ["x"]}},
            }
        },
        {
            "auth": {
                "identity": {"methods": ["password"],
                             "password": {"user": {"id": "x", "password": "x"}}},
                "scope": {"system": {"all": "yes"}},
            }
        },
        {
            "auth": {
                "identity": {"methods": ["password"],
                             "password": {"user": {"id": "x", "password": "x"}}},
                "scope": 42,
            }
        },
    ],
)  # fmt: skip
def test_invalid_auth_body_is_400(cloud: Cloud, body: dict[str, Any]) -> None:
    assert_error(authenticate(cloud, body), 400)


def test_auth_with_malformed_json_is_400(cloud: Cloud) -> None:
    resp = httpx.post(f"{cloud.auth_url}/auth/tokens", content=b"{auth", headers=JSON, timeout=30)
    assert_error(resp, 400)


def test_auth_with_unknown_method_is_401(cloud: Cloud) -> None:
    body = {"auth": {"identity": {"methods": ["kerberos"], "kerberos": {}}}}
    assert_error(authenticate(cloud, body), 401)


def test_auth_with_garbage_rescoping_token_is_401(cloud: Cloud) -> None:
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": "gAAAAAgarbage"}}}}
    assert_error(authenticate(cloud, body), 401)


# --- other bad parameters ------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/users?enabled=maybe",
        "/role_assignments?effective&group.id=x",
        "/role_assignments?include_subtree=true",
    ],
)
def test_bad_query_parameters_are_400(api: httpx.Client, path: str) -> None:
    assert_error(api.get(f"{V3}{path}"), 400)


def test_validate_without_subject_token_is_404(api: httpx.Client) -> None:
    assert_error(api.get(f"{V3}/auth/tokens"), 404)


def test_validate_garbage_subject_token_is_404(api: httpx.Client) -> None:
    assert_error(api.get(f"{V3}/auth/tokens", headers={"X-Subject-Token": "garbage"}), 404)


def test_grant_on_missing_parts_is_404(admin: Admin, api: httpx.Client) -> None:
    role = admin.role_id("reader")
    assert_error(api.put(f"{V3}/projects/nope/users/{admin.user_id}/roles/{role}"), 404)
    assert_error(api.put(f"{V3}/projects/{admin.project_id}/users/nope/roles/{role}"), 404)
    assert_error(api.put(f"{V3}/projects/{admin.project_id}/users/{admin.user_id}/roles/no"), 404)
