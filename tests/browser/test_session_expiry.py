"""A dashboard session ends with its token: a cloud of the module's own whose tokens live
60 s (Keystone's minimum), so a session expires while the test waits."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from tests.support.browser import sign_in
from tests.support.cloud import Cloud
from tests.support.fixtures import cloud_of_own

cloud = cloud_of_own("dash-expiry", ONESTACK_IDENTITY_TOKEN_EXPIRATION="60")


def test_a_session_ends_with_its_token_on_the_login_page(page: Page, cloud: Cloud) -> None:
    sign_in(page, cloud, "demo")
    page.goto(f"{cloud.url}/dashboard/project/volumes/")
    expect(page.get_by_role("heading", name="Volumes", exact=True)).to_be_visible()
    # Reloaded until the token's minute is over (bounded: a busy host may be slow to answer).
    deadline = time.monotonic() + 120
    while "/auth/login/" not in page.url:
        assert time.monotonic() < deadline, "the session outlived its token by a minute"
        page.wait_for_timeout(2_000)
        page.reload()
    expect(page).to_have_url(re.compile(r"/dashboard/auth/login/\?next=.*volumes.*expired=1"))
    expect(page.get_by_text("Your session has expired. Please sign in again.")).to_be_visible()
    expect(page.get_by_label("User Name")).to_be_visible()
    assert "Traceback" not in page.content()
    assert not [c for c in page.context.cookies() if c["name"] == "onestack_session"]
    # Signing in again goes back to the page the user was on.
    page.get_by_label("User Name").fill("demo")
    page.get_by_label("Password").fill(cloud.secrets["demo_password"])
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="Volumes", exact=True)).to_be_visible()
