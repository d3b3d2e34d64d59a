"""Neutron's auto-allocated-topology (get-me-a-network) through `openstack network auto
allocated topology` and openstacksdk, and Nova's `--nic auto` using it: one network, subnet
from the default pool and router on the default external network per project, built once
even when asked concurrently, another project's 404, Neutron's 409 without a default pool."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openstack
import pytest
from openstack import exceptions

from tests.support.cloud import Cloud
from tests.support.fixtures import sdk_connection, unique
from tests.support.keystone import Admin

admin = sdk_connection("onestack")
POOL = "10.203.0.0/16"


def _connect(cloud: Cloud, user: Any, project: str) -> Any:
    return openstack.connect(
        auth_url=cloud.auth_url, username=user.name, password=user.password,
        project_id=project, user_domain_name="Default", region_name="RegionOne",
    )  # fmt: skip


def _member(cloud: Cloud, role: str = "member") -> tuple[dict[str, str], Any]:
    """A user of a new project: the CLI's OS_* variables and an openstacksdk connection."""
    keystone = Admin(cloud)
    try:
        user, project = keystone.member_of_new_project(role)
    finally:
        keystone.close()
    env = {
        "OS_AUTH_URL": cloud.auth_url, "OS_USERNAME": user.name, "OS_PASSWORD": user.password,
        "OS_PROJECT_ID": project, "OS_USER_DOMAIN_NAME": "Default",
        "OS_IDENTITY_API_VERSION": "3", "OS_REGION_NAME": "RegionOne",
    }  # fmt: skip
    return env, _connect(cloud, user, project)


def _reader_of(cloud: Cloud, project: str) -> Any:
    keystone = Admin(cloud)
    try:
        user = keystone.user()
        keystone.grant(project, user.id, "reader")
    finally:
        keystone.close()
    return _connect(cloud, user, project)


@pytest.fixture
def default_pool(cloud: Cloud, admin: Any) -> Iterator[Any]:
    pool = admin.network.create_subnet_pool(
        name=unique("auto-pool"), prefixes=[POOL], default_prefixlen=26, is_default=True,
        shared=True,
    )  # fmt: skip
    yield pool
    admin.network.delete_subnet_pool(pool)


@pytest.mark.cli
def test_no_default_pool_is_neutrons_409(cloud: Cloud, admin: Any) -> None:
    env, conn = _member(cloud)
    with conn:
        refused = cloud.openstack(
            "network", "auto", "allocated", "topology", "create", "--check-resources",
            cloud=None, env=env, check=False, json_output=False,
        )  # fmt: skip
        assert refused.returncode != 0
        assert "Deployment error: No default subnetpools defined." in refused.stderr
        with pytest.raises(exceptions.ConflictException):
            conn.network.get_auto_allocated_topology()
        assert list(conn.network.networks(project_id=conn.current_project_id)) == []


@pytest.mark.cli
def test_get_me_a_network_and_nova_nic_auto(cloud: Cloud, admin: Any, default_pool: Any) -> None:
    env, conn = _member(cloud)
    with conn:
        checked = cloud.openstack(
            "network", "auto", "allocated", "topology", "create", "--check-resources",
            cloud=None, env=env, check=False,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stderr
        image = conn.image.create_image(
            name=unique("auto-img"), disk_format="raw", container_format="bare",
            data=b"\0" * 2048,
        )  # fmt: skip
        # Nova's `--nic auto` (2.37) in a project with no network: the network service
        # allocates the project's topology and the server gets a port on it.
        server = cloud.openstack(
            "--os-compute-api-version", "2.37", "server", "create", "--image", image.id,
            "--flavor", "m1.nano", "--nic", "auto", "--wait", unique("auto-vm"),
            cloud=None, env=env,
        )  # fmt: skip
        assert server["status"] == "ACTIVE"
        topo = cloud.openstack(
            "network", "auto", "allocated", "topology", "create", cloud=None, env=env
        )
        project = env["OS_PROJECT_ID"]
        assert topo["project_id"] == project
        (port,) = conn.network.ports(device_id=server["id"])
        assert port.network_id == topo["id"]

        # The same topology on every later request, and through openstacksdk.
        assert conn.network.get_auto_allocated_topology().id == topo["id"]
        net = conn.network.get_network(topo["id"])
        assert net.name == "auto_allocated_network" and net.project_id == project
        (subnet,) = conn.network.subnets(network_id=net.id)
        assert subnet.subnet_pool_id == default_pool.id and subnet.ip_version == 4
        assert ipaddress.ip_network(subnet.cidr).subnet_of(ipaddress.ip_network(POOL))
        (router,) = conn.network.routers()
        public = admin.network.find_network("public")
        assert router.name == "auto_allocated_router"
        assert router.external_gateway_info["network_id"] == public.id
        interfaces = conn.network.ports(device_id=router.id, network_id=net.id)
        assert [i.fixed_ips[0]["subnet_id"] for i in interfaces] == [subnet.id]

        # Another project neither sees nor deletes it; the admin sees it.
        _, other = _member(cloud)
        with other:
            with pytest.raises(exceptions.NotFoundException):
                other.network.get_auto_allocated_topology(project)
            with pytest.raises(exceptions.NotFoundException):
                other.network.delete_auto_allocated_topology(project)
        assert admin.network.get_auto_allocated_topology(project).id == topo["id"]

        cloud.openstack("server", "delete", "--wait", server["id"], cloud=None, env=env,
                        json_output=False)  # fmt: skip
        cloud.openstack("network", "auto", "allocated", "topology", "delete", cloud=None,
                        env=env, json_output=False)  # fmt: skip
        assert (
            list(conn.network.networks(project_id=project)) == []
            and list(conn.network.routers()) == []
        )
        conn.image.delete_image(image)


def test_concurrent_first_requests_build_once(cloud: Cloud, admin: Any, default_pool: Any) -> None:
    _env, conn = _member(cloud)
    with conn:
        with ThreadPoolExecutor(6) as pool:
            ids = set(pool.map(lambda _: conn.network.get_auto_allocated_topology().id, range(6)))
        assert len(ids) == 1
        assert [n.id for n in conn.network.networks(project_id=conn.current_project_id)] == list(
            ids
        )
        assert len(list(conn.network.routers())) == 1
        # A reader of the project reads it (Neutron's policy) but may not delete it.
        with _reader_of(cloud, conn.current_project_id) as reader:
            assert reader.network.get_auto_allocated_topology().id in ids
            with pytest.raises(exceptions.ForbiddenException):
                reader.network.delete_auto_allocated_topology()
        conn.network.delete_auto_allocated_topology()
        assert list(conn.network.networks(project_id=conn.current_project_id)) == []
        # Deleting what is not there is Neutron's 204.
        conn.network.delete_auto_allocated_topology()
