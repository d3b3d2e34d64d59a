"""The browser layer: one Chromium per test session (per xdist worker) against the session's
cloud (fake drivers, ``tests/conftest.py``); each test gets a fresh browser context."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from tests.support.browser import CHROMIUM, chromium_missing, sign_in, token
from tests.support.cloud import Cloud

# How long an action or an expect() waits for the page. Playwright's expect() has its own
# default (5 s) apart from the page's: a busy CI machine (3 workers, a cloud and Chromium on
# 2 cores) took longer than that to answer a form, so both wait as long, and only on failure.
WAIT_MS = 20_000
expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    missing = chromium_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser layer must run in CI: {missing}")
        pytest.skip(missing)
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    # --no-sandbox: the tests run as root, where Chromium's sandbox refuses to start.
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    yield b
    b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) at 1280x800; fails the test on a page error."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    p = context.new_page()
    p.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    yield p
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def demo_page(page: Page, cloud: Cloud) -> Page:
    """Signed in as the demo project's member."""
    sign_in(page, cloud, "demo")
    return page


@pytest.fixture
def admin_page(page: Page, cloud: Cloud) -> Page:
    """Signed in as the cloud's admin."""
    sign_in(page, cloud, "admin")
    return page


def _demo_servers(cloud: Cloud) -> set[str] | None:
    """The demo project's servers (None when the demo user cannot sign in: a test changed
    it, and it cleans up after itself)."""
    try:
        tok = token(cloud)
        resp = httpx.get(
            f"{cloud.url}/compute/v2.1/servers", headers={"x-auth-token": tok}, timeout=30
        )
        resp.raise_for_status()
    except httpx.HTTPError:
        return None
    return {str(s["id"]) for s in resp.json()["servers"]}


@pytest.fixture(autouse=True)
def demo_servers_left_are_deleted(cloud: Cloud) -> Iterator[None]:
    """Servers a test leaves in the demo project are deleted after it, and waited for: the
    project's instance quota (10) is shared by every test of the session's cloud (one per
    xdist worker), and which tests share a worker changes from run to run: a worker that
    drew enough tests leaving one behind refused the next test's servers with a 403."""
    before = _demo_servers(cloud)
    yield
    after = _demo_servers(cloud)
    if before is None or after is None or not after - before:
        return
    tok = token(cloud)
    for sid in after - before:
        httpx.delete(
            f"{cloud.url}/compute/v2.1/servers/{sid}", headers={"x-auth-token": tok}, timeout=60
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        still = _demo_servers(cloud)
        if still is None or not still & (after - before):
            return
        time.sleep(0.2)
