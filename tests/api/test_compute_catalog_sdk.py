"""The compute API's non-server resources through openstacksdk (``conn.compute``)."""

from __future__ import annotations

from typing import Any

import openstack.exceptions
import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import sdk_connection, unique

admin = sdk_connection("onestack")
demo = sdk_connection("onestack-demo")


def test_sdk_flavors(admin: Any, demo: Any) -> None:
    name = unique("sdk-flavor")
    flavor = admin.compute.create_flavor(
        name=name, ram=128, vcpus=1, disk=1, is_public=False, description="sdk"
    )
    assert flavor.is_public is False and flavor.description == "sdk"
    admin.compute.create_flavor_extra_specs(flavor, {"hw:mem_page_size": "small"})
    got = admin.compute.get_flavor(flavor.id, get_extra_specs=True)
    assert got.extra_specs == {"hw:mem_page_size": "small"}
    demo_project = admin.identity.find_project("demo")
    admin.compute.flavor_add_tenant_access(flavor, demo_project.id)
    assert [a["tenant_id"] for a in admin.compute.get_flavor_access(flavor)] == [demo_project.id]
    assert name in [f.name for f in demo.compute.flavors()]
    assert {f.name for f in demo.compute.flavors()} >= {"m1.tiny", "m1.small"}
    # The SDK follows flavors_links pages.
    assert len(list(admin.compute.flavors(limit=1))) >= 5
    admin.compute.delete_flavor(flavor)
    with pytest.raises(openstack.exceptions.NotFoundException):
        admin.compute.get_flavor(flavor.id)


def test_sdk_keypairs_and_groups(demo: Any) -> None:
    kp = demo.compute.create_keypair(name=unique("sdk-key"))
    assert kp.private_key and kp.fingerprint
    assert kp.name in [k.name for k in demo.compute.keypairs()]
    assert demo.compute.get_keypair(kp.name).fingerprint == kp.fingerprint
    demo.compute.delete_keypair(kp)
    with pytest.raises(openstack.exceptions.NotFoundException):
        demo.compute.get_keypair(kp.name)

    group = demo.compute.create_server_group(
        name=unique("sdk-group"), policy="anti-affinity", rules={"max_server_per_host": 1}
    )
    assert group.policy == "anti-affinity" and group.rules == {"max_server_per_host": 1}
    assert group.id in [g.id for g in demo.compute.server_groups()]
    assert demo.compute.get_server_group(group.id).member_ids == []
    demo.compute.delete_server_group(group)
    with pytest.raises(openstack.exceptions.NotFoundException):
        demo.compute.get_server_group(group.id)


def test_sdk_hosts_limits_quotas(admin: Any, demo: Any, cloud: Cloud) -> None:
    hyps = list(admin.compute.hypervisors(details=True))
    assert len(hyps) == 1 and hyps[0].hypervisor_type == "fake" and hyps[0].state == "up"
    assert admin.compute.get_hypervisor(hyps[0].id).name == hyps[0].name
    services = list(admin.compute.services())
    assert {"nova-compute", "nova-scheduler", "nova-conductor"} <= {s.binary for s in services}
    zones = list(demo.compute.availability_zones())
    assert [z.name for z in zones] == ["nova"] and zones[0].state == {"available": True}
    limits = demo.compute.get_limits()
    assert limits.absolute.instances >= 0 and limits.absolute.server_groups_used >= 0
    project = admin.identity.create_project(name=unique("sdk-quota"), domain_id="default")
    try:
        quota = admin.compute.get_quota_set(project.id)
        assert quota.instances == 10
        admin.compute.update_quota_set(project.id, instances=3, ram=4096)
        quota = admin.compute.get_quota_set(project.id, usage=True)
        assert quota.instances == 3 and quota.ram == 4096
        assert quota.usage["instances"] == 0
        defaults = admin.compute.get_quota_set_defaults(project.id)
        assert defaults.instances == 10
        admin.compute.revert_quota_set(project.id)
        assert admin.compute.get_quota_set(project.id).instances == 10
    finally:
        admin.identity.delete_project(project)
    with pytest.raises(openstack.exceptions.ForbiddenException):
        list(demo.compute.hypervisors())
