"""The identity lists (users, projects, groups, roles) come in pages like the other lists:
Keystone answers each whole, the dashboard shows 20 rows sorted by name with Next/First."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import token
from tests.support.cloud import Cloud
from tests.support.keystone import unique

PAGE_SIZE = 20  # the dashboard's default page_size
# The kind's list page and the body that makes one (its name added).
KINDS = {
    "users": ("/identity/users/", {"domain_id": "default"}),
    "projects": ("/identity/", {"domain_id": "default"}),
    "groups": ("/identity/groups/", {"domain_id": "default"}),
    "roles": ("/identity/roles/", {}),
}


@pytest.fixture(params=sorted(KINDS))
def many(request: pytest.FixtureRequest, cloud: Cloud) -> Iterator[tuple[str, list[str]]]:
    """One more than a page of the kind (named to sort after what other tests make, so their
    rows stay on the first page), deleted after the test."""
    kind: str = request.param
    one = kind[:-1]
    prefix = unique(f"zz-page-{one}")
    headers = {"x-auth-token": token(cloud, "admin", "admin")}
    ids, names = [], [f"{prefix}-{n:02d}" for n in range(PAGE_SIZE + 1)]
    with httpx.Client(base_url=f"{cloud.url}/identity/v3", headers=headers, timeout=60) as c:
        for name in names:
            resp = c.post(f"/{kind}", json={one: {"name": name, **KINDS[kind][1]}})
            assert resp.status_code == 201, resp.text
            ids.append(resp.json()[one]["id"])
        yield kind, names
        for made in ids:
            c.delete(f"/{kind}/{made}")


def test_an_identity_list_comes_in_pages(
    admin_page: Page, cloud: Cloud, many: tuple[str, list[str]]
) -> None:
    page, (kind, names) = admin_page, many
    page.goto(f"{cloud.url}/dashboard{KINDS[kind][0]}")
    rows = page.locator("table.admin tbody tr")
    expect(rows).to_have_count(PAGE_SIZE)
    pager = page.get_by_role("navigation", name="Pages")
    expect(pager.get_by_role("link", name="« First")).to_have_count(0)
    seen: list[str] = []
    for _ in range(100):  # the cloud holds a few pages of each at most
        seen += rows.locator("td:first-child").all_inner_texts()
        following = pager.get_by_role("link", name="Next »")
        if following.count() == 0:
            break
        following.click()
        expect(pager.get_by_role("link", name="« First")).to_be_visible()
    # Every row once, in name order over the pages; the test's rows on the last two.
    assert seen == sorted(seen), seen
    assert [s for s in seen if s.startswith(names[0][:-3])] == names
    pager.get_by_role("link", name="« First").click()
    expect(rows).to_have_count(PAGE_SIZE)
    expect(rows.first.locator("td").first).to_have_text(seen[0])
