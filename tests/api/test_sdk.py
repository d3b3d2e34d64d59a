"""Acceptance of the identity service through openstacksdk's identity proxy."""

from __future__ import annotations

import json
import uuid
from typing import Any

import openstack
import pytest
from openstack import exceptions

from tests.support.cloud import Cloud
from tests.support.fixtures import sdk_connection, unique

admin = sdk_connection("onestack")
demo = sdk_connection("onestack-demo")


def connect(cloud: Cloud, **auth: Any) -> Any:
    return openstack.connect(auth_url=cloud.auth_url, region_name="RegionOne", **auth)


def test_projects_and_domains_with_filters(admin: Any) -> None:
    identity = admin.identity
    domain = identity.create_domain(name=unique("sdk-domain"), description="sdk")
    assert domain.is_enabled is True
    assert identity.find_domain(domain.name, ignore_missing=False).id == domain.id

    on = identity.create_project(name=unique("on"), domain_id=domain.id, description="one")
    off = identity.create_project(name=unique("off"), domain_id=domain.id, is_enabled=False)
    assert (on.domain_id, on.is_enabled, off.is_enabled) == (domain.id, True, False)
    assert on.parent_id == domain.id

    def names(**query: Any) -> set[str]:
        return {p.name for p in identity.projects(**query)}

    assert names(domain_id=domain.id) == {on.name, off.name}
    assert names(domain_id=domain.id, is_enabled=False) == {off.name}
    assert names(domain_id=domain.id, is_enabled=True) == {on.name}
    assert names(name=on.name) == {on.name}
    assert names(name=on.name, domain_id="default") == set()
    assert {"admin", "demo"} <= names(domain_id="default")

    updated = identity.update_project(off, is_enabled=True, description="now on")
    assert (updated.is_enabled, updated.description) == (True, "now on")
    assert identity.get_project(off.id).description == "now on"
    with pytest.raises(exceptions.ConflictException):
        identity.create_project(name=on.name, domain_id=domain.id)

    identity.delete_project(off)
    with pytest.raises(exceptions.NotFoundException):
        identity.get_project(off.id)
    with pytest.raises(exceptions.ForbiddenException):  # still enabled
        identity.delete_domain(domain)
    identity.update_domain(domain, is_enabled=False)
    assert domain.id not in {d.id for d in identity.domains(is_enabled=True)}
    assert domain.id in {d.id for d in identity.domains(is_enabled=False)}
    identity.delete_project(on)
    identity.delete_domain(domain)
    with pytest.raises(exceptions.NotFoundException):
        identity.get_domain(domain.id)


def test_deleting_a_domain_deletes_its_contents(admin: Any) -> None:
    identity = admin.identity
    domain = identity.create_domain(name=unique("sdk-cascade"))
    project = identity.create_project(name=unique("p"), domain_id=domain.id)
    user = identity.create_user(name=unique("u"), domain_id=domain.id)
    identity.update_domain(domain, is_enabled=False)
    identity.delete_domain(domain)
    for get, item in ((identity.get_project, project), (identity.get_user, user)):
        with pytest.raises(exceptions.NotFoundException):
            get(item.id)


def test_users_groups_with_filters(admin: Any) -> None:
    identity = admin.identity
    domain = identity.create_domain(name=unique("sdk-users"))
    carol = identity.create_user(name=unique("carol"), domain_id=domain.id, password="c-secret")
    dave = identity.create_user(
        name=unique("dave"), domain_id=domain.id, email="dave@example.org", is_enabled=False
    )
    assert (carol.is_enabled, dave.is_enabled, dave.email) == (True, False, "dave@example.org")
    assert identity.get_user(carol.id).password is None  # never returned

    def names(**query: Any) -> set[str]:
        return {u.name for u in identity.users(**query)}

    assert names(domain_id=domain.id) == {carol.name, dave.name}
    assert names(domain_id=domain.id, is_enabled=False) == {dave.name}
    assert names(name=carol.name) == {carol.name}
    assert names(name=carol.name, domain_id="default") == set()
    assert identity.find_user(dave.name, domain_id=domain.id, ignore_missing=False).id == dave.id

    group = identity.create_group(name=unique("team"), domain_id=domain.id, description="t")
    other = identity.create_group(name=unique("other"), domain_id="default")
    assert {g.id for g in identity.groups(domain_id=domain.id)} == {group.id}
    assert [g.id for g in identity.groups(name=other.name)] == [other.id]

    identity.add_user_to_group(carol, group)
    assert identity.check_user_in_group(carol, group) is True
    assert identity.check_user_in_group(dave, group) is False
    assert [u.id for u in identity.group_users(group)] == [carol.id]
    assert [g.id for g in identity.user_groups(carol)] == [group.id]
    identity.remove_user_from_group(carol, group)
    assert list(identity.group_users(group)) == []

    updated = identity.update_user(dave, is_enabled=True, description="back")
    assert (updated.is_enabled, updated.description) == (True, "back")
    identity.delete_user(dave)
    with pytest.raises(exceptions.NotFoundException):
        identity.get_user(dave.id)
    identity.delete_group(group)
    identity.delete_group(other)
    assert list(identity.groups(domain_id=domain.id)) == []


def test_roles_and_role_assignments(cloud: Cloud, admin: Any) -> None:
    identity = admin.identity
    project = identity.create_project(name=unique("sdk-proj"), domain_id="default")
    erin = identity.create_user(
        name=unique("erin"),
        domain_id="default",
        password="erin-pass",
        default_project_id=project.id,
    )
    role = identity.create_role(name=unique("sdk-role"))
    assert [r.id for r in identity.roles(name=role.name)] == [role.id]
    member = identity.find_role("member", ignore_missing=False)
    reader = identity.find_role("reader", ignore_missing=False)

    identity.assign_project_role_to_user(project, erin, member)
    identity.assign_project_role_to_user(project, erin, role)
    assert identity.validate_user_has_project_role(project, erin, member) is True
    assert identity.validate_user_has_project_role(project, erin, reader) is False  # implied only

    direct = admin.list_role_assignments(filters={"user": erin.id, "project": project.id})
    assert sorted(a.role["id"] for a in direct) == sorted([member.id, role.id])
    assert {a.scope["project"]["id"] for a in direct} == {project.id}
    effective = admin.list_role_assignments(
        filters={"user": erin.id, "project": project.id, "effective": True}
    )
    assert {a.role["id"] for a in effective} == {member.id, reader.id, role.id}
    by_role = list(identity.role_assignments(role_id=role.id))
    assert [(a.user["id"], a.scope["project"]["id"]) for a in by_role] == [(erin.id, project.id)]
    assert {r.id for r in identity.role_assignments_filter(project=project, user=erin)} == {
        member.id,
        role.id,
    }

    # Erin's token carries her roles, the implied one included.
    erin_conn = connect(
        cloud,
        username=erin.name,
        password="erin-pass",
        project_id=project.id,
        user_domain_id="default",
    )
    token = admin.identity.validate_token(erin_conn.auth_token)
    assert token.project["id"] == project.id
    assert {r["name"] for r in token.roles} == {"member", "reader", role.name}

    identity.unassign_project_role_from_user(project, erin, role)
    assert identity.validate_user_has_project_role(project, erin, role) is False
    assert admin.identity.check_token(erin_conn.auth_token) is False  # role change revoked it
    identity.delete_role(role)
    assert list(identity.roles(name=role.name)) == []
    erin_conn.close()


def test_application_credentials(cloud: Cloud, admin: Any, demo: Any) -> None:
    me = demo.current_user_id
    created = demo.identity.create_application_credential(
        me, unique("sdk-appcred"), description="sdk", roles=[{"name": "reader"}]
    )
    assert created.secret
    assert [r["name"] for r in created.roles] == ["reader"]
    assert created.project_id == demo.current_project_id
    listed = list(demo.identity.application_credentials(me))
    assert created.id in {c.id for c in listed}
    assert all(getattr(c, "secret", None) is None for c in listed)
    assert demo.identity.get_application_credential(me, created.id).name == created.name

    app = connect(
        cloud,
        auth_type="v3applicationcredential",
        application_credential_id=created.id,
        application_credential_secret=created.secret,
    )
    token = admin.identity.validate_token(app.auth_token)
    assert token.user["id"] == me
    assert token.project["id"] == demo.current_project_id
    assert [r["name"] for r in token.roles] == ["reader"]
    assert token.methods == ["application_credential"]

    with pytest.raises(exceptions.ForbiddenException):  # only the owner creates them
        admin.identity.create_application_credential(me, unique("not-mine"))

    demo.identity.delete_application_credential(me, created.id)
    with pytest.raises(exceptions.NotFoundException):
        demo.identity.get_application_credential(me, created.id)
    assert admin.identity.check_token(app.auth_token) is False
    app.close()


def test_credentials(admin: Any, demo: Any) -> None:
    me, project = demo.current_user_id, demo.current_project_id
    blob = {"access": uuid.uuid4().hex, "secret": uuid.uuid4().hex}
    cred = demo.identity.create_credential(
        type="ec2", user_id=me, project_id=project, blob=json.dumps(blob)
    )
    assert (cred.type, cred.user_id, cred.project_id) == ("ec2", me, project)
    assert json.loads(cred.blob) == blob

    assert [c.id for c in demo.identity.credentials(user_id=me, type="ec2")] == [cred.id]
    assert cred.id in {c.id for c in admin.identity.credentials(user_id=me)}
    assert admin.identity.get_credential(cred.id).blob == cred.blob
    with pytest.raises(exceptions.ForbiddenException):  # not the demo user's to create
        demo.identity.create_credential(type="cert", user_id=admin.current_user_id, blob="x")

    new_blob = json.dumps(dict(blob, secret="rotated"))
    updated = demo.identity.update_credential(cred, blob=new_blob)
    assert json.loads(updated.blob)["secret"] == "rotated"
    demo.identity.delete_credential(cred)
    with pytest.raises(exceptions.NotFoundException):
        admin.identity.get_credential(cred.id)


def test_member_cannot_administer(demo: Any) -> None:
    identity = demo.identity
    with pytest.raises(exceptions.ForbiddenException):
        list(identity.users())
    with pytest.raises(exceptions.ForbiddenException):
        list(identity.projects())
    with pytest.raises(exceptions.ForbiddenException):
        identity.create_project(name=unique("nope"), domain_id="default")
    with pytest.raises(exceptions.ForbiddenException):
        identity.create_role(name=unique("nope"))
    # ... but may see itself and its own project.
    assert identity.get_user(demo.current_user_id).name == "demo"
    assert identity.get_project(demo.current_project_id).name == "demo"
    assert [p.name for p in identity.user_projects(demo.current_user_id)] == ["demo"]
