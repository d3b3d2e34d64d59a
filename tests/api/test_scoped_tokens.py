"""An unscoped token opens identity's own doors (its projects, a scoped token) and no other
service's: every project API answers 401, as Keystone-protected services do (#12)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.bodies import password_body
from tests.support.cloud import Cloud
from tests.support.keystone import Admin, issue


@pytest.fixture(scope="module")
def member(cloud: Cloud) -> tuple[str, str]:
    """A member of a project, authenticated without a scope (and no default project): the
    token and the project."""
    admin = Admin(cloud)
    user, project = admin.member_of_new_project()
    admin.close()
    return issue(cloud, password_body(user.password, user_id=user.id)), project


@pytest.fixture(scope="module")
def unscoped(member: tuple[str, str]) -> str:
    return member[0]


@pytest.mark.parametrize(
    "path",
    [
        "/compute/v2.1/flavors",
        "/compute/v2.1/servers",
        "/network/v2.0/networks",
        "/image/v2/images",
        "/object/v1/AUTH_anything",
        "/object/v1/AUTH_{project}",
        "/object/v1/AUTH_{project}/container",
        "/volume/v3/{project}/volumes",
        "/volume/v3/{project}/snapshots",
        "/volume/v3/{project}/backups",
        "/volume/v3/{project}/os-quota-sets/{project}",
        "/metric/v1/metric",
        "/metric/v1/resource/generic",
        "/alarming/v2/alarms",
        "/orchestration/v1/{project}/stacks",
        "/orchestration/v1/{project}/resource_types",
    ],
)
def test_other_services_refuse_an_unscoped_token(
    cloud: Cloud, member: tuple[str, str], path: str
) -> None:
    token, project = member
    resp = httpx.get(
        f"{cloud.url}{path.format(project=project)}", headers={"X-Auth-Token": token}, timeout=30
    )
    assert resp.status_code == 401, resp.text


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("POST", "/volume/v3/{project}/volumes", {"volume": {"size": 1}}),
        ("PUT", "/object/v1/AUTH_{project}/container", None),
        ("POST", "/metric/v1/metric", {"archive_policy_name": "low"}),
        ("POST", "/alarming/v2/alarms", {"name": "a", "type": "event"}),
        ("POST", "/orchestration/v1/{project}/stacks",
         {"stack_name": "s", "template": {"heat_template_version": "2018-08-31"}}),
        ("POST", "/network/v2.0/networks", {"network": {"name": "n"}}),
    ],
)  # fmt: skip
def test_writes_refuse_an_unscoped_token(
    cloud: Cloud, member: tuple[str, str], method: str, path: str, body: object
) -> None:
    token, project = member
    resp = httpx.request(method, f"{cloud.url}{path.format(project=project)}", json=body,
                         headers={"X-Auth-Token": token}, timeout=30)  # fmt: skip
    assert resp.status_code == 401, resp.text


def test_identity_still_serves_it(cloud: Cloud, unscoped: str) -> None:
    resp = httpx.get(
        f"{cloud.url}/identity/v3/auth/projects", headers={"X-Auth-Token": unscoped}, timeout=30
    )
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["projects"]) == 1


def test_version_documents_need_no_token(cloud: Cloud) -> None:
    for path in ("/compute/", "/network/", "/image/"):
        assert httpx.get(f"{cloud.url}{path}", timeout=30).status_code in (200, 300)
