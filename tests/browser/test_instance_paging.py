"""The instances list comes in pages: a project of its own (the demo project's instance quota
is below a page) with one more server than a page, walked with the pager as its member."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from tests.support.bodies import password_body, project_scope
from tests.support.browser import api, server, sign_in, token
from tests.support.cloud import Cloud
from tests.support.keystone import issue, unique

PAGE_SIZE = 20  # the dashboard's default page_size
COUNT = PAGE_SIZE + 1
C = "/compute/v2.1"


@dataclass
class Member:
    name: str
    password: str
    token: str


def _statuses(cloud: Cloud, tok: str) -> dict[str, str]:
    servers = api(cloud, "GET", f"{C}/servers/detail", tok)["servers"]
    return {s["id"]: s["status"] for s in servers}


def _poll(what: str, done: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, what
        time.sleep(0.3)


@pytest.fixture
def member(cloud: Cloud) -> Iterator[Member]:
    """A member of a new project whose quota holds more than a page of servers; the project,
    its servers and the user deleted after the test."""
    admin = token(cloud, "admin", "admin")
    project = api(cloud, "POST", "/identity/v3/projects", admin,
                  json={"project": {"name": unique("dash-paging")}})["project"]  # fmt: skip
    pid, name, password = project["id"], unique("dash-pager"), "secret-Pa55"
    user = api(
        cloud, "POST", "/identity/v3/users", admin,
        json={"user": {"name": name, "password": password, "default_project_id": pid}},
    )["user"]  # fmt: skip
    role = api(cloud, "GET", "/identity/v3/roles?name=member", admin)["roles"][0]["id"]
    api(cloud, "PUT", f"/identity/v3/projects/{pid}/users/{user['id']}/roles/{role}", admin)
    quota = {"quota_set": {"instances": COUNT + 5, "cores": -1, "ram": -1}}
    api(cloud, "PUT", f"{C}/os-quota-sets/{pid}", admin, json=quota)
    tok = issue(cloud, password_body(password, name=name, scope=project_scope(pid)))
    try:
        yield Member(name, password, tok)
    finally:
        for server_id in _statuses(cloud, tok):
            api(cloud, "DELETE", f"{C}/servers/{server_id}", tok)
        _poll("the servers were not deleted", lambda: not _statuses(cloud, tok))
        api(cloud, "DELETE", f"{C}/os-quota-sets/{pid}", admin)
        api(cloud, "DELETE", f"/identity/v3/users/{user['id']}", admin)
        api(cloud, "DELETE", f"/identity/v3/projects/{pid}", admin)


def test_the_instances_list_comes_in_pages(page: Page, cloud: Cloud, member: Member) -> None:
    made = {server(cloud, member.token, f"pager-{n:02d}")["id"] for n in range(COUNT)}
    # Every server ACTIVE first: a busy row would have the page refresh its rows meanwhile.
    _poll("the servers did not all become ACTIVE",
          lambda: set(_statuses(cloud, member.token).values()) == {"ACTIVE"})  # fmt: skip
    # The compute API's own order (newest first) is the one the pages keep.
    order = list(_statuses(cloud, member.token))
    assert set(order) == made
    sign_in(page, cloud, member.name, member.password)
    page.goto(f"{cloud.url}/dashboard/project/instances/")
    rows = page.locator("table.live tbody tr")
    expect(rows).to_have_count(PAGE_SIZE)
    pager = page.get_by_role("navigation", name="Pages")
    expect(pager.get_by_role("link", name="« First")).to_have_count(0)
    seen: list[str] = []
    for _ in range(COUNT):
        ids = [i.removeprefix("instance-") for i in rows.evaluate_all("rs => rs.map(r => r.id)")]
        seen += ids
        following = pager.get_by_role("link", name="Next »")
        if following.count() == 0:
            break
        following.click()
        expect(pager.get_by_role("link", name="« First")).to_be_visible()
        expect(rows.first).not_to_have_id(f"instance-{ids[0]}")
    assert seen == order, (seen, order)
    expect(rows).to_have_count(COUNT - PAGE_SIZE)
    pager.get_by_role("link", name="« First").click()
    expect(rows).to_have_count(PAGE_SIZE)
    expect(rows.first).to_have_id(f"instance-{order[0]}")
    expect(pager.get_by_role("link", name="« First")).to_have_count(0)
