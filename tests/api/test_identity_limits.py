"""Unified limits through openstacksdk and raw HTTP: registered limits, project limits that
override them, the flat model, and who may see which limit."""

from __future__ import annotations

from typing import Any

import openstack
import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import keystone_admin, sdk_connection
from tests.support.keystone import (
    V3,
    Admin,
    assert_error,
    issue,
    password_body,
    project_scope,
    unique,
)

admin = keystone_admin("function")
conn = sdk_connection("onestack")


def test_registered_limits_and_limits(cloud: Cloud, conn: Any, admin: Admin) -> None:
    service = conn.identity.create_service(name=unique("svc"), type=unique("type"))
    region = conn.identity.create_region(id=unique("region"))
    resource = unique("cores")
    registered = conn.identity.create_registered_limit(
        resource_name=resource, service_id=service.id, region_id=region.id, default_limit=10
    )
    assert registered.description is None and registered.default_limit == 10
    registered = conn.identity.update_registered_limit(registered, description="d")
    assert conn.identity.get_registered_limit(registered.id).description == "d"
    assert resource in {r.resource_name for r in conn.identity.registered_limits()}
    # The same service, region and resource twice is a conflict; an unknown service a 400.
    with pytest.raises(openstack.exceptions.ConflictException):
        conn.identity.create_registered_limit(
            resource_name=resource, service_id=service.id, region_id=region.id, default_limit=1
        )
    with pytest.raises(openstack.exceptions.BadRequestException):
        conn.identity.create_registered_limit(
            resource_name=resource, service_id="nosuch", default_limit=1
        )

    user, project_id = admin.member_of_new_project()
    other_user, other_project = admin.member_of_new_project()
    # A limit needs its registered limit.
    with pytest.raises(openstack.exceptions.ForbiddenException):
        conn.identity.create_limit(
            resource_name=unique("x"), service_id=service.id, project_id=project_id,
            resource_limit=5,
        )  # fmt: skip
    limit = conn.identity.create_limit(
        resource_name=resource,
        service_id=service.id,
        region_id=region.id,
        project_id=project_id,
        resource_limit=50,
    )
    assert (limit.resource_limit, limit.project_id, limit.description) == (50, project_id, None)
    limit = conn.identity.update_limit(limit, description="mine", resource_limit=60)
    assert conn.identity.get_limit(limit.id).resource_limit == 60
    assert resource in {x.resource_name for x in conn.identity.limits()}
    # A registered limit in use can neither change nor go.
    with pytest.raises(openstack.exceptions.ForbiddenException):
        conn.identity.delete_registered_limit(registered)
    admin.request(
        "PATCH", f"/registered_limits/{registered.id}", 403,
        json={"registered_limit": {"default_limit": 3}},
    )  # fmt: skip

    # The project's member sees its limit and the model; another project's member does not.
    token = issue(
        cloud, password_body(user.password, user_id=user.id, scope=project_scope(project_id))
    )
    with cloud.http(token) as c:
        listed = c.get(f"{V3}/limits").json()["limits"]
        assert [x["id"] for x in listed] == [limit.id]
        assert c.get(f"{V3}/limits/{limit.id}").status_code == 200
        model = c.get(f"{V3}/limits/model").json()["model"]
        assert model["name"] == "flat"
        assert_error(c.post(f"{V3}/limits", json={"limits": [{"service_id": service.id}]}), 403)
    other = issue(
        cloud,
        password_body(
            other_user.password, user_id=other_user.id, scope=project_scope(other_project)
        ),
    )
    with cloud.http(other) as c:
        assert c.get(f"{V3}/limits").json()["limits"] == []
        assert_error(c.get(f"{V3}/limits/{limit.id}"), 403)
        assert c.get(f"{V3}/registered_limits/{registered.id}").status_code == 200

    conn.identity.delete_limit(limit)
    conn.identity.delete_registered_limit(registered)
    admin.request("GET", f"/registered_limits/{registered.id}", 404)
    conn.identity.delete_service(service)
