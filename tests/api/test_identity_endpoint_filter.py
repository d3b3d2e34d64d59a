"""Endpoint groups and project endpoint filters (OS-EP-FILTER) through openstacksdk: the
catalog of a project with associations holds only its endpoints."""

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


def _catalog(cloud: Cloud, user_id: str, password: str, project_id: str) -> dict[str, set[str]]:
    token = issue(cloud, password_body(password, user_id=user_id, scope=project_scope(project_id)))
    with cloud.http(token) as c:
        body = c.get(f"{V3}/auth/catalog").json()
    return {svc["type"]: {ep["id"] for ep in svc["endpoints"]} for svc in body["catalog"]}


def test_endpoint_groups_and_project_catalog(cloud: Cloud, conn: Any, admin: Admin) -> None:
    service = conn.identity.create_service(name=unique("svc"), type=unique("type"))
    region = conn.identity.create_region(id=unique("region"))
    public = conn.identity.create_endpoint(
        service_id=service.id, interface="public", url="http://x/v1", region_id=region.id
    )
    internal = conn.identity.create_endpoint(
        service_id=service.id, interface="internal", url="http://x/v1", region_id=region.id
    )
    group = conn.identity.create_endpoint_group(
        name=unique("eg"), filters={"interface": "internal"}
    )
    assert group.description is None and group.filters == {"interface": "internal"}
    filters = {"interface": "public", "service_id": service.id, "region_id": region.id}
    group = conn.identity.update_endpoint_group(group, description="d", filters=filters)
    assert conn.identity.get_endpoint_group(group.id).filters == filters
    matched = {e.id for e in conn.identity.endpoint_group_endpoints(group)}
    assert public.id in matched and internal.id not in matched
    assert group.id in {g.id for g in conn.identity.endpoint_groups(name=group.name)}
    with pytest.raises(openstack.exceptions.BadRequestException):
        conn.identity.create_endpoint_group(name=unique("eg"), filters={"url": "http://x"})

    user, project_id = admin.member_of_new_project()
    full = _catalog(cloud, user.id, user.password, project_id)
    assert "identity" in full and full[service.type] == {public.id, internal.id}
    # Through a group: only the group's endpoints, and services left empty drop out.
    conn.identity.associate_project_with_endpoint_group(group, project_id)
    assert [g.id for g in conn.identity.project_endpoint_groups(project_id)] == [group.id]
    assert project_id in {p.id for p in conn.identity.endpoint_group_projects(group)}
    assert _catalog(cloud, user.id, user.password, project_id) == {service.type: {public.id}}
    # And an endpoint associated directly.
    conn.identity.associate_endpoint_with_project(project_id, internal)
    listed = {e.id for e in conn.identity.project_endpoints(project_id)}
    assert listed == {public.id, internal.id}
    assert project_id in {p.id for p in conn.identity.endpoint_projects(internal)}
    base = f"/OS-EP-FILTER/projects/{project_id}/endpoints/{internal.id}"
    admin.request("GET", base, 204)
    # A member may not change or read the filters.
    token = issue(
        cloud, password_body(user.password, user_id=user.id, scope=project_scope(project_id))
    )
    with cloud.http(token) as c:
        assert_error(c.delete(f"{V3}{base}"), 403)
        assert_error(c.get(f"{V3}/OS-EP-FILTER/endpoint_groups"), 403)
    conn.identity.disassociate_project_from_endpoint_group(group, project_id)
    conn.identity.disassociate_endpoint_from_project(project_id, internal)
    admin.request("GET", base, 404)
    assert _catalog(cloud, user.id, user.password, project_id) == full
    conn.identity.delete_endpoint_group(group)
    admin.request("GET", f"/OS-EP-FILTER/endpoint_groups/{group.id}", 404)
    for ep in (public, internal):
        conn.identity.delete_endpoint(ep)
    conn.identity.delete_service(service)
