"""Detail pages follow their resource without a reload: an instance's, a volume's and a
stack's status (and task, power, size, events, graph, outputs) change on the open page when
the resource changes, even when the change is made elsewhere (here: through the API)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.support.browser import active, api, server, shot, token
from tests.support.cloud import Cloud
from tests.support.keystone import unique

COMPUTE = "/compute/v2.1"
# Idle detail pages are asked every 10 s: a busy cloud gets three rounds.
LIVE = 30_000


def _mark(page: Page) -> None:
    """A mark a reload would wipe out (checked by ``_not_reloaded``)."""
    page.evaluate("window.notReloaded = true")


def _not_reloaded(page: Page) -> None:
    assert page.evaluate("window.notReloaded") is True


def _project(cloud: Cloud, tok: str) -> str:
    found = api(cloud, "GET", "/identity/v3/auth/tokens", tok, headers={"x-subject-token": tok})
    return str(found["token"]["project"]["id"])


def test_an_instances_page_follows_it(demo_page: Page, cloud: Cloud) -> None:
    page, tok = demo_page, token(cloud)
    sid = server(cloud, tok, unique("dash-live-vm"))["id"]
    active(cloud, tok, sid)
    page.goto(f"{cloud.url}/dashboard/project/instances/{sid}/")
    state = page.locator("#instance-state")
    expect(state.locator(".status")).to_have_text("ACTIVE")
    expect(page.locator("#instance-power")).to_have_text("Running")
    _mark(page)
    api(cloud, "POST", f"{COMPUTE}/servers/{sid}/action", tok, json={"os-stop": None})
    expect(state.locator(".status")).to_have_text("SHUTOFF", timeout=LIVE)
    expect(page.locator("#instance-status")).to_have_text("SHUTOFF")
    expect(page.locator("#instance-power")).to_have_text("Shut Down", timeout=LIVE)
    # The menu follows too: a stopped instance is started, not stopped.
    page.locator("#instance-menu").get_by_text("Actions").click()
    menu = page.locator("#instance-menu .menu")
    expect(menu.get_by_role("button", name="Start Instance")).to_be_visible()
    expect(menu.get_by_role("link", name="Shut Off Instance")).to_have_count(0)
    page.locator("#instance-menu").get_by_text("Actions").click()
    api(cloud, "POST", f"{COMPUTE}/servers/{sid}/action", tok, json={"lock": None})
    expect(state.locator(".tag")).to_have_text("Locked", timeout=LIVE)
    expect(page.locator("#instance-locked")).to_have_text("True")
    _not_reloaded(page)
    shot(page, "instance-detail-live")
    # Other tabs carry the live status line as well.
    page.goto(f"{cloud.url}/dashboard/project/instances/{sid}/action_log/")
    _mark(page)
    api(cloud, "POST", f"{COMPUTE}/servers/{sid}/action", tok, json={"unlock": None})
    api(cloud, "POST", f"{COMPUTE}/servers/{sid}/action", tok, json={"os-start": None})
    expect(state.locator(".status")).to_have_text("ACTIVE", timeout=LIVE)
    expect(state.locator(".tag")).to_have_count(0)
    api(cloud, "DELETE", f"{COMPUTE}/servers/{sid}", tok)
    expect(page.get_by_text("It no longer exists")).to_be_visible(timeout=LIVE)
    _not_reloaded(page)


def test_a_volumes_page_follows_it(demo_page: Page, cloud: Cloud) -> None:
    page, tok = demo_page, token(cloud)
    cinder = f"/volume/v3/{_project(cloud, tok)}/volumes"
    body = {"volume": {"name": unique("dash-live-vol"), "size": 1}}
    vid = api(cloud, "POST", cinder, tok, json=body)["volume"]["id"]
    page.goto(f"{cloud.url}/dashboard/project/volumes/{vid}/")
    details = page.locator("#volume-details")
    expect(details.locator(".status")).to_have_text("Available", timeout=LIVE)
    _mark(page)
    extend = {"os-extend": {"new_size": 2}}
    api(cloud, "POST", f"{cinder}/{vid}/action", tok, json=extend)
    expect(details.locator(".size")).to_have_text("2GiB", timeout=LIVE)
    expect(details.locator(".status")).to_have_text("Available", timeout=LIVE)
    _not_reloaded(page)
    api(cloud, "DELETE", f"{cinder}/{vid}", tok)
    expect(page.get_by_text("It no longer exists")).to_be_visible(timeout=LIVE)
    _not_reloaded(page)


def _template(wait: int, value: str) -> dict[str, Any]:
    """Two resources, the second after the first, each taking ``wait`` seconds."""
    res = {"type": "OS::Heat::TestResource", "properties": {"value": value, "wait_secs": wait}}
    return {
        "heat_template_version": "2018-08-31",
        "resources": {"first": res, "second": {**res, "depends_on": ["first"]}},
        "outputs": {"said": {"value": {"get_attr": ["second", "output"]}}},
    }


def test_a_stacks_page_follows_it_as_it_works(demo_page: Page, cloud: Cloud) -> None:
    page, tok = demo_page, token(cloud)
    heat = f"/orchestration/v1/{_project(cloud, tok)}"
    name = unique("dash-live-stack")
    body = {"stack_name": name, "template": _template(6, "made")}
    sid = api(cloud, "POST", f"{heat}/stacks", tok, json=body)["stack"]["id"]
    # The events tab while the stack is created: the rows arrive on the open page.
    page.goto(f"{cloud.url}/dashboard/project/stacks/stack/{sid}/?tab=events")
    status = page.locator("#stack-status")
    expect(status).to_have_text("CREATE_IN_PROGRESS")
    _mark(page)
    events = page.locator("table[data-live=events] tbody tr")
    done = events.filter(has_text="second").filter(has_text="CREATE_COMPLETE")
    expect(done).to_have_count(1, timeout=LIVE)
    expect(status).to_have_text("CREATE_COMPLETE", timeout=LIVE)
    _not_reloaded(page)
    # The graph while an update started elsewhere runs: the nodes turn as the work goes.
    page.goto(f"{cloud.url}/dashboard/project/stacks/stack/{sid}/")
    second = page.locator('#main [data-resource="second"]')
    expect(second).to_have_attribute("data-status", "CREATE_COMPLETE")
    _mark(page)
    update = {"template": _template(12, "changed")}
    api(cloud, "PATCH", f"{heat}/stacks/{name}/{sid}", tok, json=update)
    expect(status).to_have_text("UPDATE_IN_PROGRESS", timeout=LIVE)
    expect(second).to_have_attribute("data-status", "UPDATE_IN_PROGRESS", timeout=LIVE)
    expect(second).to_have_attribute("data-status", "UPDATE_COMPLETE", timeout=LIVE)
    expect(status).to_have_text("UPDATE_COMPLETE", timeout=LIVE)
    _not_reloaded(page)
    shot(page, "stack-detail-live")
    # The overview's outputs follow the stack too.
    page.goto(f"{cloud.url}/dashboard/project/stacks/stack/{sid}/?tab=overview")
    expect(page.locator("#stack-outputs")).to_contain_text("changed")
    api(cloud, "DELETE", f"{heat}/stacks/{name}/{sid}", tok)
