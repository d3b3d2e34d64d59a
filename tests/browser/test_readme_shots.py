"""The README's two pictures, taken of a tidy project of their own: its instances page and
its network topology (kept in ``.test-results/screenshots/readme-*.png``)."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.support.bodies import password_body
from tests.support.browser import active, api, shot, sign_in, token
from tests.support.cloud import Cloud
from tests.support.dashnet import router, server_on, subnet
from tests.support.keystone import unique


def new_member(cloud: Cloud, admin: str, name: str, password: str) -> str:
    """A user who is the only member of a new project of the same name; their token."""
    project = api(cloud, "POST", "/identity/v3/projects", admin, json={"project": {"name": name}})
    pid = project["project"]["id"]
    body = {"user": {"name": name, "password": password, "default_project_id": pid}}
    uid = api(cloud, "POST", "/identity/v3/users", admin, json=body)["user"]["id"]
    rid = api(cloud, "GET", "/identity/v3/roles?name=member", admin)["roles"][0]["id"]
    api(cloud, "PUT", f"/identity/v3/projects/{pid}/users/{uid}/roles/{rid}", admin)
    body = password_body(password, user_id=uid, scope={"project": {"id": pid}})
    resp = httpx.post(f"{cloud.auth_url}/auth/tokens", json=body, timeout=30)
    resp.raise_for_status()
    return resp.headers["x-subject-token"]


def test_the_readme_pictures(page: Page, cloud: Cloud) -> None:
    name, password = unique("acme"), "acme-Pa55word"
    tok = new_member(cloud, token(cloud, "admin", "admin"), name, password)
    web = subnet(cloud, tok, "web", "10.61.0.0/24")
    db = subnet(cloud, tok, "db", "10.61.1.0/24")
    router(cloud, tok, "edge", web["id"])
    servers = [server_on(cloud, tok, n, web["network_id"])[0] for n in ("web-1", "web-2")]
    servers.append(server_on(cloud, tok, "db-1", db["network_id"])[0])
    for sid in servers:
        active(cloud, tok, sid)
    sign_in(page, cloud, name, password)
    page.goto(f"{cloud.url}/dashboard/project/instances/")
    for n in ("web-1", "web-2", "db-1"):
        expect(page.get_by_role("link", name=n, exact=True)).to_be_visible()
    shot(page, "readme-instances")
    page.goto(f"{cloud.url}/dashboard/project/network_topology/")
    expect(page.get_by_role("link", name=re.compile("edge")).first).to_be_visible()
    shot(page, "readme-topology")
