"""OAuth1 consumers (OS-OAUTH1) over Keystone's HTTP API: the secret shown once, Keystone's
policy, and no way to change the secret."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.cloud import Cloud
from tests.support.keystone import V3, Admin, assert_error, issue, password_body, project_scope


@pytest.fixture
def admin(cloud: Cloud) -> Iterator[Admin]:
    a = Admin(cloud)
    yield a
    a.close()


def test_consumer_lifecycle(cloud: Cloud, admin: Admin) -> None:
    made = admin.request(
        "POST", "/OS-OAUTH1/consumers", 201, json={"consumer": {"description": "d"}}
    )
    consumer = made["consumer"]
    assert consumer["description"] == "d" and len(consumer["secret"]) >= 32
    shown = admin.request("GET", f"/OS-OAUTH1/consumers/{consumer['id']}", 200)["consumer"]
    assert "secret" not in shown and shown["links"] == consumer["links"]
    listed = admin.request("GET", "/OS-OAUTH1/consumers", 200)["consumers"]
    assert consumer["id"] in {c["id"] for c in listed}
    path = f"/OS-OAUTH1/consumers/{consumer['id']}"
    body = {"consumer": {"description": "new"}}
    assert admin.request("PATCH", path, 200, json=body)["consumer"]["description"] == "new"
    assert_error(admin.client.patch(f"{V3}{path}", json={"consumer": {"secret": "x"}}), 400)
    user, project_id = admin.member_of_new_project()
    token = issue(
        cloud, password_body(user.password, user_id=user.id, scope=project_scope(project_id))
    )
    with cloud.http(token) as c:
        assert_error(c.get(f"{V3}/OS-OAUTH1/consumers"), 403)
        assert_error(c.post(f"{V3}/OS-OAUTH1/consumers", json={"consumer": {}}), 403)
    admin.request("DELETE", path, 204)
    admin.request("GET", path, 404)
