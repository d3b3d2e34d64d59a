"""An unscoped token opens identity's own doors (its projects, a scoped token) and no other
service's: every project API answers 401, as Keystone-protected services do (#12)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.bodies import password_body
from tests.support.cloud import Cloud
from tests.support.keystone import Admin, issue


@pytest.fixture(scope="module")
def unscoped(cloud: Cloud) -> str:
    """A member of a project, authenticated without a scope (and no default project)."""
    admin = Admin(cloud)
    user, _project = admin.member_of_new_project()
    admin.close()
    return issue(cloud, password_body(user.password, user_id=user.id))


@pytest.mark.parametrize(
    "path",
    [
        "/compute/v2.1/flavors",
        "/compute/v2.1/servers",
        "/network/v2.0/networks",
        "/image/v2/images",
        "/object/v1/AUTH_anything",
    ],
)
def test_other_services_refuse_an_unscoped_token(cloud: Cloud, unscoped: str, path: str) -> None:
    resp = httpx.get(f"{cloud.url}{path}", headers={"X-Auth-Token": unscoped})
    assert resp.status_code == 401, resp.text


def test_identity_still_serves_it(cloud: Cloud, unscoped: str) -> None:
    resp = httpx.get(f"{cloud.url}/identity/v3/auth/projects", headers={"X-Auth-Token": unscoped})
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["projects"]) == 1


def test_version_documents_need_no_token(cloud: Cloud) -> None:
    for path in ("/compute/", "/network/", "/image/"):
        assert httpx.get(f"{cloud.url}{path}").status_code in (200, 300)
