"""The dashboard by keyboard alone: signing in, reaching a page through the sidebar, and a
confirmation answered with Enter."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.support.browser import active, server, token
from tests.support.cloud import Cloud
from tests.support.keystone import unique


def test_sign_in_navigate_and_confirm_by_keyboard(page: Page, cloud: Cloud) -> None:
    tok = token(cloud, "demo")
    made = active(cloud, tok, server(cloud, tok, unique("keys"))["id"])
    page.goto(f"{cloud.url}/dashboard/auth/login/")
    # The user name has the focus (autofocus lands after the load event, so wait for it
    # before typing: a keystroke sent earlier is lost); Tab moves on, Enter submits.
    expect(page.get_by_label("User Name")).to_be_focused()
    page.keyboard.type("demo")
    page.keyboard.press("Tab")
    page.keyboard.type(cloud.secrets["demo_password"])
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/dashboard/project/$"))
    # The URL changes when the new page commits, before it has loaded: a Tab sent then may
    # land in the old document or be lost.
    page.wait_for_load_state()
    # The first Tab reaches the skip link, which jumps over the header and the sidebar.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    # Tabbing on reaches the sidebar's Instances link; Enter follows it.
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Instances":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Instances", exact=True)).to_be_visible()
    # A confirmation page focuses its button: Enter confirms.
    page.goto(f"{cloud.url}/dashboard/project/instances/{made['id']}/delete/")
    expect(page.get_by_role("button", name="Delete Instance")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("deletion")
