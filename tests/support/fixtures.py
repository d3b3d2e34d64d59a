"""Pieces several API test modules share: unique names and module-scoped client fixtures.

The callers the API tests act as, one factory each: the admin and demo users of the
clouds.yaml entries (``http_client``, ``sdk_connection``, ``image_api``), an admin session for
arranging users and projects (``keystone_admin``), a throwaway project of the module's own
(``new_project``) and a member of a throwaway second project (``alt_project``; as functions,
``new_member``, ``member_of_new_project`` and ``member_sdk``); and, for the few modules whose
settings differ from the session cloud's, a cloud of the module's own (``cloud_of_own``).
The fixtures are made by factories so that each module names them as its tests do, by plain
assignment (a fixture's name is the module attribute it is bound to)::

    admin = http_client("onestack")
    demo = http_client("onestack-demo", Compute)
    other = alt_project()
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.bodies import password_body, project_scope
from tests.support.cloud import Cloud
from tests.support.keystone import Account, Admin


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def sdk_connection(cloud_name: str) -> Any:
    """A module-scoped fixture: an openstacksdk connection as the clouds.yaml entry
    ``cloud_name``, closed after the module."""

    @pytest.fixture(scope="module")
    def connection(cloud: Cloud) -> Iterator[Any]:
        conn = cloud.sdk(cloud_name)
        yield conn
        conn.close()

    return connection


def member_sdk_with_image_and_network(prefix: str, cidr: str) -> Any:
    """A module-scoped fixture: an openstacksdk connection as a member of a project of the
    module's own, with a raw image and a network there (``test_image``, ``test_network``)."""

    @pytest.fixture(scope="module")
    def conn(cloud: Cloud) -> Iterator[Any]:
        c = member_sdk(cloud)
        c.test_image = c.image.create_image(
            name=f"{prefix}-image", disk_format="raw", container_format="bare", data=b"\0" * 2048
        )
        c.test_network = c.network.create_network(name=f"{prefix}-net")
        c.network.create_subnet(network_id=c.test_network.id, ip_version=4, cidr=cidr)
        yield c
        c.close()

    return conn


def image_api(cloud_name: str) -> Any:
    """A module-scoped fixture: an httpx client of the image API (base URL ``/image``) with a
    token of the clouds.yaml entry ``cloud_name``."""

    @pytest.fixture(scope="module")
    def client(cloud: Cloud) -> Iterator[httpx.Client]:
        headers = {"X-Auth-Token": cloud.token(cloud_name)}
        with httpx.Client(base_url=f"{cloud.url}/image", headers=headers, timeout=30) as c:
            yield c

    return client


def http_client(cloud_name: str, wrap: Callable[[httpx.Client], Any] | None = None) -> Any:
    """A module-scoped fixture: an httpx client at the cloud's root with a token of the
    clouds.yaml entry ``cloud_name`` (``wrap``, e.g. ``Compute``, turns it into a helper)."""

    @pytest.fixture(scope="module")
    def client(cloud: Cloud) -> Iterator[Any]:
        with cloud.http(cloud.token(cloud_name)) as c:
            yield wrap(c) if wrap is not None else c

    return client


def keystone_admin(scope: str = "module") -> Any:
    """A fixture: an ``Admin`` session that arranges users, projects and grants."""

    @pytest.fixture(scope=scope)  # type: ignore[call-overload]
    def admin(cloud: Cloud) -> Iterator[Admin]:
        a = Admin(cloud)
        yield a
        a.close()

    return admin


@dataclass
class Caller:
    """A member of a project of its own: its client, its project and its user."""

    client: httpx.Client
    project_id: str
    user_id: str


def new_member(
    cloud: Cloud, role: str = "member", admin: Admin | None = None
) -> tuple[Account, str, str]:
    """A new user with ``role`` on a new project: the user, the project and a token scoped
    to it (``admin`` arranges them, else a session of its own)."""
    keystone = admin or Admin(cloud)
    try:
        user, project = keystone.member_of_new_project(role)
    finally:
        if admin is None:
            keystone.close()
    body = password_body(user.password, user_id=user.id, scope=project_scope(project))
    resp = httpx.post(f"{cloud.auth_url}/auth/tokens", json=body, timeout=30)
    assert resp.status_code == 201, resp.text
    return user, project, resp.headers["X-Subject-Token"]


def member_of_new_project(cloud: Cloud, admin: Admin | None = None, role: str = "member") -> Caller:
    """A new user with ``role`` on a new project, and a client with its project token (the
    caller closes ``client``)."""
    user, project, token = new_member(cloud, role, admin)
    return Caller(cloud.http(token), project, user.id)


def sdk_as(cloud: Cloud, user: Account, project_id: str) -> Any:
    """An openstacksdk connection as ``user`` scoped to ``project_id`` (the caller closes it)."""
    import openstack

    return openstack.connect(
        auth_url=cloud.auth_url, user_id=user.id, password=user.password, project_id=project_id,
        region_name="RegionOne",
    )  # fmt: skip


def member_sdk(cloud: Cloud, role: str = "member") -> Any:
    """An openstacksdk connection as a new user with ``role`` on a new project."""
    admin = Admin(cloud)
    try:
        user, project = admin.member_of_new_project(role)
    finally:
        admin.close()
    return sdk_as(cloud, user, project)


def new_project(prefix: str) -> Any:
    """A module-scoped fixture: the id of a throwaway project of the module's own (no members),
    for changes nobody else should see (quotas); deleted after the module."""

    @pytest.fixture(scope="module")
    def project(cloud: Cloud) -> Iterator[str]:
        admin = Admin(cloud)
        try:
            project_id = str(admin.project(name=unique(prefix))["id"])
            yield project_id
            admin.request("DELETE", f"/projects/{project_id}", 204)
        finally:
            admin.close()

    return project


def alt_project() -> Any:
    """A module-scoped fixture: the ``Caller`` of a second, throwaway project (for checks
    that one project cannot see or touch another's resources)."""

    @pytest.fixture(scope="module")
    def caller(cloud: Cloud) -> Iterator[Caller]:
        other = member_of_new_project(cloud)
        with other.client:
            yield other

    return caller


def cloud_of_own(name: str, **env: str) -> Any:
    """A module-scoped ``cloud`` fixture in place of the session's: a cloud of the module's
    own, on a fresh database, started with ``env`` (e.g. pollsters every second). Each one
    costs a start: only for settings the session cloud cannot have."""

    @pytest.fixture(scope="module")
    def cloud(
        tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
    ) -> Iterator[Cloud]:
        from tests.conftest import new_cloud
        from tests.support.databases import throwaway_database

        with throwaway_database(request.config.getoption("--db-url")) as url:
            c = new_cloud(tmp_path_factory.mktemp(name), url)
            c.env.update(env)
            c.start()
            try:
                yield c
            finally:
                c.stop()

    return cloud
