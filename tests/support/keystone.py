"""Raw-HTTP helpers for the Keystone v3 API tests: auth bodies, error bodies, throwaway users."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.bodies import password_body, project_scope
from tests.support.cloud import Cloud

__all__ = ["password_body", "project_scope"]

V3 = "/identity/v3"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
REQUEST_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def authenticate(cloud: Cloud, body: dict[str, Any], query: str = "") -> httpx.Response:
    return httpx.post(f"{cloud.auth_url}/auth/tokens{query}", json=body, timeout=30)


def issue(cloud: Cloud, body: dict[str, Any]) -> str:
    resp = authenticate(cloud, body)
    assert resp.status_code == 201, resp.text
    return resp.headers["X-Subject-Token"]


def assert_error(resp: httpx.Response, status: int) -> dict[str, Any]:
    """Keystone's error body, exactly: {"error": {"code", "message", "title"}}."""
    assert resp.status_code == status, f"{resp.status_code} != {status}: {resp.text[:500]}"
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"code", "message", "title"}, err
    assert err["code"] == status
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["title"], str) and err["title"]
    return dict(err)


def token_info(cloud: Cloud, token: str) -> dict[str, Any]:
    """The token's own body, read with itself (GET /v3/auth/tokens)."""
    with cloud.http(token) as c:
        resp = c.get(f"{V3}/auth/tokens?nocatalog", headers={"X-Subject-Token": token})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()["token"]
    return body


@dataclass
class Account:
    id: str
    name: str
    password: str


class Admin:
    """An admin session for arranging what a test needs (users, projects, grants)."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self.token = cloud.token()
        self.client = cloud.http(self.token)
        info = token_info(cloud, self.token)
        self.user_id: str = info["user"]["id"]
        self.project_id: str = info["project"]["id"]
        self._roles: dict[str, str] = {}

    def close(self) -> None:
        self.client.close()

    def request(self, method: str, path: str, expect: int, **kw: Any) -> Any:
        resp = self.client.request(method, f"{V3}{path}", **kw)
        assert resp.status_code == expect, f"{method} {path}: {resp.status_code} {resp.text}"
        return resp.json() if resp.content else None

    def role_id(self, name: str) -> str:
        if name not in self._roles:
            roles = self.request("GET", f"/roles?name={name}", 200)["roles"]
            assert len(roles) == 1, roles
            self._roles[name] = roles[0]["id"]
        return self._roles[name]

    def project(self, **fields: Any) -> dict[str, Any]:
        body = {"name": unique("proj"), **fields}
        project: dict[str, Any] = self.request("POST", "/projects", 201, json={"project": body})[
            "project"
        ]
        return project

    def user(self, **fields: Any) -> Account:
        password = fields.pop("password", uuid.uuid4().hex)
        body = {"name": unique("user"), "password": password, **fields}
        user = self.request("POST", "/users", 201, json={"user": body})["user"]
        return Account(user["id"], user["name"], password)

    def grant(self, project_id: str, user_id: str, role: str) -> None:
        self.request(
            "PUT", f"/projects/{project_id}/users/{user_id}/roles/{self.role_id(role)}", 204
        )

    def member_of_new_project(self, role: str = "member") -> tuple[Account, str]:
        project = self.project()
        user = self.user()
        self.grant(project["id"], user.id, role)
        return user, project["id"]
