"""The dashboard in a real browser: Playwright driving Debian's Chromium (no browser download)."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, Route

from tests.support.bodies import password_body, project_name_scope
from tests.support.cloud import REPO, Cloud

CHROMIUM = os.environ.get("ONESTACK_TEST_CHROMIUM", "/usr/bin/chromium")
SHOTS = REPO / ".test-results" / "screenshots"


def chromium_missing() -> str:
    """Why the browser layer cannot run here ('' when it can)."""
    if not Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is None:
        return f"{CHROMIUM} is not installed (make test installs it)"
    return ""


def sign_in(page: Page, cloud: Cloud, user: str = "demo", password: str | None = None) -> None:
    """Through the login form, as a person would."""
    if password is None:
        password = cloud.secrets[f"{user}_password"]
    page.goto(f"{cloud.url}/dashboard/auth/login/")
    page.get_by_label("User Name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/dashboard/project/")


def shot(page: Page, name: str) -> Path:
    """A screenshot kept as a test artefact (``.test-results/screenshots/NAME.png``)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def token(cloud: Cloud, user: str = "demo", project: str | None = None) -> str:
    """A project-scoped token for API calls that prepare what a page should show."""
    body = password_body(
        cloud.secrets[f"{user}_password"], name=user, scope=project_name_scope(project or user)
    )
    resp = httpx.post(f"{cloud.auth_url}/auth/tokens", json=body, timeout=30)
    resp.raise_for_status()
    return resp.headers["x-subject-token"]


def api(cloud: Cloud, method: str, path: str, tok: str, **kw: Any) -> Any:
    """One API call as ``tok`` (``path`` below the cloud's URL); the JSON answer or None."""
    headers = {"x-auth-token": tok, **kw.pop("headers", {})}
    resp = httpx.request(method, f"{cloud.url}{path}", headers=headers, timeout=60, **kw)
    assert resp.status_code < 400, resp.text
    return resp.json() if resp.content else None


def image(cloud: Cloud, name: str = "dash-image") -> str:
    """A small public image (made once per cloud by the admin) servers can boot from."""
    admin = token(cloud, "admin", "admin")
    found = api(cloud, "GET", f"/image/v2/images?name={name}", admin)["images"]
    if found:
        return str(found[0]["id"])
    made = api(
        cloud, "POST", "/image/v2/images", admin,
        json={"name": name, "disk_format": "qcow2", "container_format": "bare",
              "visibility": "public", "min_ram": 0},
    )  # fmt: skip
    api(
        cloud, "PUT", f"/image/v2/images/{made['id']}/file", admin,
        content=b"\0" * 4096, headers={"content-type": "application/octet-stream"},
    )  # fmt: skip
    return str(made["id"])


def server(cloud: Cloud, tok: str, name: str, **extra: Any) -> dict[str, Any]:
    """A server made through the compute API as ``tok``'s user (fake driver: ACTIVE at once)."""
    flavors = api(cloud, "GET", "/compute/v2.1/flavors", tok)["flavors"]
    body = {
        "server": {
            "name": name,
            "imageRef": image(cloud),
            "flavorRef": min(flavors, key=lambda f: f["name"] != "m1.tiny")["id"],
            "networks": "none",
            **extra,
        }
    }
    headers = {"openstack-api-version": "compute 2.37"}
    made = api(cloud, "POST", "/compute/v2.1/servers", tok, json=body, headers=headers)
    return dict(made["server"])


def active(cloud: Cloud, tok: str, server_id: str, timeout: float = 30) -> dict[str, Any]:
    """The server once ACTIVE (fails on ERROR or after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        found = api(cloud, "GET", f"/compute/v2.1/servers/{server_id}", tok)["server"]
        assert found["status"] != "ERROR", found.get("fault")
        if found["status"] == "ACTIVE" or time.monotonic() > deadline:
            assert found["status"] == "ACTIVE", found["status"]
            return dict(found)
        time.sleep(0.2)


def hold_uploads(page: Page, url: str) -> Callable[[], None]:
    """Holds back the browser's PUTs to URLs matching ``url`` (a regex), so a test can see the
    page while an upload runs; the function returned lets the first one go on (waiting for it
    to be sent, up to 10 s) and stops holding."""
    held: list[Route] = []

    def handle(route: Route) -> None:
        if route.request.method == "PUT":
            held.append(route)
        else:
            route.continue_()

    pattern = re.compile(url)
    page.route(pattern, handle)

    def release() -> None:
        deadline = time.monotonic() + 10
        while not held:  # the route handler runs while Playwright waits
            assert time.monotonic() < deadline, "the upload was never sent"
            page.wait_for_timeout(100)
        held[0].continue_()
        page.unroute(pattern)

    return release
