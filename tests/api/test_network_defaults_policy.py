"""Neutron checks an attribute's own rule on a create only when the value differs from the
attribute's default: a member may say ``shared=False``, not ``shared=True``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openstack
import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import member_sdk
from tests.support.keystone import unique


@pytest.fixture(scope="module")
def member(cloud: Cloud) -> Iterator[Any]:
    conn = member_sdk(cloud)
    yield conn
    conn.close()


def test_member_may_state_the_default(member: Any) -> None:
    scope = member.network.create_address_scope(name=unique("as"), ip_version=4, shared=False)
    assert scope.is_shared is False
    pool = member.network.create_subnet_pool(
        name=unique("sp"), prefixes=["10.80.0.0/16"], shared=False, is_default=False
    )
    assert pool.is_shared is False
    net = member.network.create_network(name=unique("n"), shared=False, is_router_external=False)
    assert net.is_shared is False
    for make in (
        lambda: member.network.create_address_scope(name=unique("as"), ip_version=4, shared=True),
        lambda: member.network.create_subnet_pool(
            name=unique("sp"), prefixes=["10.81.0.0/16"], shared=True
        ),
        lambda: member.network.create_network(name=unique("n"), shared=True),
    ):
        with pytest.raises(openstack.exceptions.ForbiddenException):
            make()
    # An update still asks the attribute's rule, whatever the value.
    resp = member.network.put(
        f"/address-scopes/{scope.id}", json={"address_scope": {"shared": False}}
    )
    assert resp.status_code == 403
    member.network.delete_network(net)
    member.network.delete_subnet_pool(pool)
    member.network.delete_address_scope(scope)


def test_subnet_host_bits_and_gateway_without_subnet(cloud: Cloud, member: Any) -> None:
    net = member.network.create_network(name=unique("hb"))
    sub = member.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.99.99.0/16")
    assert sub.cidr == "10.99.0.0/16"
    with cloud.sdk() as admin:
        ext = admin.network.create_network(name=unique("ext"), is_router_external=True)
        router = admin.network.create_router(external_gateway_info={"network_id": ext.id})
        info = router.external_gateway_info
        assert info["network_id"] == ext.id and info["external_fixed_ips"] == []
        admin.network.delete_router(router)
        admin.network.delete_network(ext)
    member.network.delete_subnet(sub)
    member.network.delete_network(net)


def test_service_providers_and_project_cleanup(cloud: Cloud) -> None:
    conn = member_sdk(cloud)
    providers = list(conn.network.service_providers())
    # Neutron's L3 plugin lists its four legacy providers, none the default.
    assert [(p.service_type, p.name, p.is_default) for p in providers] == [
        ("L3_ROUTER_NAT", name, False) for name in ("dvrha", "dvr", "ha", "single_node")
    ]
    assert [p.name for p in conn.network.service_providers(name="ha")] == ["ha"]
    net = conn.network.create_network(name=unique("gone"))
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.82.0.0/24")
    # openstacksdk's project cleanup asks for the service providers before networks.
    conn.project_cleanup(
        dry_run=False, wait_timeout=60, filters={}, skip_resources=["block_storage"]
    )
    assert conn.network.find_network(net.id) is None
    conn.close()


def test_router_add_and_remove_extraroutes(cloud: Cloud, member: Any) -> None:
    net = member.network.create_network(name=unique("xr"))
    sub = member.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.83.0.0/24")
    router = member.network.create_router(name=unique("xr"))
    member.network.add_interface_to_router(router, subnet_id=sub.id)
    one = {"destination": "10.90.0.0/16", "nexthop": "10.83.0.50"}
    two = {"destination": "10.91.0.0/16", "nexthop": "10.83.0.51"}
    router = member.network.add_extra_routes_to_router(router, body={"router": {"routes": [one]}})
    assert router.routes == [one]
    # Adding is idempotent; the CLI's `router add route` is this call.
    routes = [one, two]
    router = member.network.add_extra_routes_to_router(router, body={"router": {"routes": routes}})
    assert router.routes == [one, two]
    route = "destination=10.90.0.0/16,gateway=10.83.0.50"
    cloud.openstack("router", "remove", "route", router.id, "--route", route, json_output=False)
    assert member.network.get_router(router.id).routes == [two]
    body = {"router": {"routes": [two, one]}}  # one is gone already: no error
    router = member.network.remove_extra_routes_from_router(router, body=body)
    assert router.routes == []
    member.network.update_router(router, routes=[])
    member.network.remove_interface_from_router(router, subnet_id=sub.id)
    member.network.delete_router(router)


def test_network_ip_availability(cloud: Cloud, member: Any) -> None:
    net = member.network.create_network(name=unique("ipa"))
    sub = member.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.84.0.0/28")
    member.network.create_port(network_id=net.id)
    with pytest.raises(openstack.exceptions.ForbiddenException):
        member.network.get_network_ip_availability(net.id)
    with cloud.sdk() as admin:
        got = admin.network.get_network_ip_availability(net.id)
        assert (got.network_name, got.total_ips) == (net.name, 13)  # .2 to .14
        assert got.used_ips >= 1  # the port (and the DHCP port, when there is one)
        (one,) = got.subnet_ip_availability
        assert one["subnet_id"] == sub.id and one["cidr"] == "10.84.0.0/28"
        listed = list(admin.network.network_ip_availabilities(network_name=net.name))
        assert [a.network_id for a in listed] == [net.id]
        assert list(admin.network.network_ip_availabilities(ip_version=6, network_id=net.id)) == []


def test_default_external_network_is_default(cloud: Cloud, member: Any) -> None:
    """Only external networks show is_default, to all who see them (openstacksdk's auto
    allocated topology test skips its admin-only update when ``public`` already says True)."""
    public = member.network.find_network("public")
    assert public.is_router_external and public.is_default is True
    member.network.update_network(public, is_default=True)  # unchanged: nothing is sent
    resp = member.network.put(f"/networks/{public.id}", json={"network": {"is_default": True}})
    assert resp.status_code == 403
    own = member.network.create_network(name=unique("own"))
    assert "is_default" not in member.network.get(f"/networks/{own.id}").json()["network"]
    member.network.delete_network(own)
    with cloud.sdk() as admin:
        # One default external network at most (Neutron's 409); a non-external one is never
        # the default, whatever it was created with.
        with pytest.raises(openstack.exceptions.ConflictException, match=public.id):
            admin.network.create_network(
                name=unique("ext"), is_router_external=True, is_default=True
            )
        plain = admin.network.create_network(name=unique("plain"), is_default=True)
        ext = admin.network.update_network(plain, is_router_external=True)
        assert ext.is_default is False
        admin.network.delete_network(ext)
