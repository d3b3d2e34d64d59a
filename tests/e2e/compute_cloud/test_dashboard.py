"""The dashboard on the real data plane, in Chromium: a member launches an instance from the
launch dialog, watches it become ACTIVE, reads its log, opens its console (noVNC over the
console proxy to the QEMU guest's VNC), gives it a floating IP whose web page answers, and
deletes it."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.e2e.compute_cloud.lab import BOOT_TIMEOUT, Lab, wait_page
from tests.support.browser import CHROMIUM, chromium_missing, shot, sign_in
from tests.support.guests import DATAPLANE_MARKS

pytestmark = [
    *(m for m in DATAPLANE_MARKS if m.name != "asyncio"),
    pytest.mark.cli,
    pytest.mark.skipif(bool(chromium_missing()), reason=chromium_missing() or "chromium"),
]
NAME = "dash-vm"


def launch(page: Page, lab: Lab) -> str:
    url = lab.cloud.url
    page.goto(f"{url}/dashboard/project/instances/launch/")
    page.get_by_label("Instance Name").fill(NAME)
    page.get_by_label("Image", exact=True).select_option(
        lab.cli("image", "show", "onestack-test")["id"]
    )
    page.get_by_label("Flavor").select_option(lab.cli("flavor", "show", "m1.tiny")["id"])
    page.get_by_label("private", exact=True).check()
    page.get_by_label("Key Pair").select_option("mykey")
    page.get_by_label("web", exact=True).check()
    page.get_by_role("button", name="Launch Instance").click()
    expect(page).to_have_url(re.compile(r"/dashboard/project/instances/"))
    server_id = str(lab.demo("server", "show", NAME)["id"])
    lab.servers[NAME] = server_id  # the lab deletes it should the test stop half-way
    # The list's row turns ACTIVE by itself (the page polls while the instance builds).
    expect(page.locator(f"#instance-{server_id} .status")).to_have_text(
        "ACTIVE", timeout=BOOT_TIMEOUT * 1000
    )
    return server_id


def test_a_member_runs_an_instance_from_the_dashboard(world: Lab) -> None:
    url = world.cloud.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(30_000)
        try:
            sign_in(page, world.cloud, "demo")
            server_id = launch(page, world)
            # Its log: the guest's serial console, up to the test image's ready line.
            deadline = time.monotonic() + BOOT_TIMEOUT
            while True:
                page.goto(f"{url}/dashboard/project/instances/{server_id}/log/")
                text = page.get_by_label("Console output").inner_text()
                if f"onestack-guest ready {NAME}" in text or time.monotonic() > deadline:
                    break
                time.sleep(2)
            assert f"onestack-guest ready {NAME}" in text, text[-2000:]
            # Its console: noVNC connects through the proxy to the guest's VNC server.
            page.goto(f"{url}/dashboard/project/instances/{server_id}/console/")
            expect(page.get_by_role("status")).to_have_text("Connected", timeout=30_000)
            expect(page.locator("#console canvas")).to_have_count(1)  # noVNC drew its screen
            shot(page, "instance-console-real")
            # A floating IP from the public pool: the guest's web page answers on it.
            page.goto(f"{url}/dashboard/project/instances/{server_id}/associate/")
            public = world.cli("network", "show", "public")["id"]
            page.get_by_label("IP Address").select_option(f"pool:{public}")
            page.get_by_label("Port to be associated").select_option(index=1)
            page.get_by_role("button", name="Associate").click()
            expect(page.get_by_role("status").first).to_contain_text("Associated floating IP")
            said = page.get_by_role("status").first.inner_text()
            fip = re.search(r"floating IP (\S+) with", said)
            assert fip is not None
            assert NAME in wait_page(f"http://{fip.group(1)}/")
            # Delete, through the confirmation page.
            page.goto(f"{url}/dashboard/project/instances/{server_id}/delete/")
            page.get_by_role("button", name="Delete Instance").click()
            deadline = time.monotonic() + BOOT_TIMEOUT
            while NAME in {s["Name"] for s in world.demo("server", "list")}:
                assert time.monotonic() < deadline, "the instance was not deleted"
                time.sleep(1)
            world.servers.pop(NAME, None)
        finally:
            browser.close()
