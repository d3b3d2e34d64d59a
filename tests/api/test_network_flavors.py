"""Network flavors and service profiles (Neutron's flavors extension) through `openstack
network flavor` / `network flavor profile` and openstacksdk: admins create, set, associate
and delete them; project members and readers list flavors and change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from openstack import exceptions

from tests.support.cloud import Cloud
from tests.support.fixtures import sdk_connection, unique

admin = sdk_connection("onestack")
demo = sdk_connection("onestack-demo")


@pytest.mark.cli
def test_flavors_and_profiles_from_the_command_line(cloud: Cloud) -> None:
    profile = cloud.openstack(
        "network", "flavor", "profile", "create", "--driver", "onestack.l3", "--metainfo",
        '{"ha": false}', "--description", "plain", "--enable",
    )  # fmt: skip
    assert profile["driver"] == "onestack.l3" and profile["enabled"] is True
    name = unique("flv")
    flavor = cloud.openstack(
        "network", "flavor", "create", "--service-type", "L3_ROUTER_NAT", "--description",
        "gold", name,
    )  # fmt: skip
    assert flavor["service_type"] == "L3_ROUTER_NAT" and flavor["enabled"] is True
    assert flavor["service_profile_ids"] == []
    cloud.openstack("network", "flavor", "add", "profile", name, profile["id"],
                    json_output=False)  # fmt: skip
    shown = cloud.openstack("network", "flavor", "show", name)
    assert shown["service_profile_ids"] == [profile["id"]]
    # A profile in use stays.
    busy = cloud.openstack("network", "flavor", "profile", "delete", profile["id"],
                           check=False, json_output=False)  # fmt: skip
    assert busy.returncode != 0

    cloud.openstack("network", "flavor", "set", "--name", f"{name}-2", "--disable", name,
                    json_output=False)  # fmt: skip
    renamed = cloud.openstack("network", "flavor", "show", f"{name}-2")
    assert renamed["enabled"] is False and renamed["description"] == "gold"
    listed = cloud.openstack("network", "flavor", "list", cloud="onestack-demo")
    assert f"{name}-2" in [f["Name"] for f in listed]

    cloud.openstack("network", "flavor", "profile", "set", "--description", "changed",
                    "--disable", profile["id"], json_output=False)  # fmt: skip
    p = cloud.openstack("network", "flavor", "profile", "show", profile["id"])
    assert p["description"] == "changed" and p["enabled"] is False
    assert profile["id"] in [
        x["ID"] for x in cloud.openstack("network", "flavor", "profile", "list")
    ]
    cloud.openstack("network", "flavor", "remove", "profile", f"{name}-2", profile["id"],
                    json_output=False)  # fmt: skip
    assert cloud.openstack("network", "flavor", "show", flavor["id"])["service_profile_ids"] == []
    cloud.openstack("network", "flavor", "delete", flavor["id"], json_output=False)
    cloud.openstack("network", "flavor", "profile", "delete", profile["id"], json_output=False)
    gone = cloud.openstack("network", "flavor", "show", flavor["id"], check=False)
    assert gone.returncode != 0


def test_validation_and_policy(admin: Any, demo: Any) -> None:
    with pytest.raises(exceptions.BadRequestException) as bad:
        admin.network.create_flavor(name=unique("flv"), service_type="NO_SUCH_SERVICE")
    assert "Service type NO_SUCH_SERVICE is not supported" in str(bad.value)
    # Any loaded service plugin's type, the flavors plugin's own too (openstacksdk's tests).
    admin.network.delete_flavor(admin.network.create_flavor(name=unique("flv"),
                                                            service_type="FLAVORS"))  # fmt: skip
    with pytest.raises(exceptions.BadRequestException) as empty:
        admin.network.create_service_profile(description="nothing")
    assert "needs either a driver or metainfo" in str(empty.value)

    profile = admin.network.create_service_profile(driver="onestack.l3")
    flavor = admin.network.create_flavor(
        name=unique("flv"), service_type="L3_ROUTER_NAT", service_profiles=[profile.id]
    )
    try:
        assert flavor.service_profile_ids == [profile.id]
        assert [f.id for f in admin.network.flavors(service_type="L3_ROUTER_NAT")
                if f.id == flavor.id] == [flavor.id]  # fmt: skip
        # Members read flavors but neither write them nor see the profiles.
        assert demo.network.get_flavor(flavor.id).name == flavor.name
        assert list(demo.network.service_profiles()) == []
        with pytest.raises(exceptions.HttpException) as refused:
            demo.network.create_flavor(name="mine", service_type="L3_ROUTER_NAT")
        assert refused.value.status_code == 403
        with pytest.raises(exceptions.HttpException) as refused:
            demo.network.update_flavor(flavor, name="mine")
        assert refused.value.status_code in (403, 404)
        # openstacksdk's associate/disassociate do not raise: the answers as they come.
        binding = f"/flavors/{flavor.id}/service_profiles"
        again = admin.network.post(binding, json={"service_profile": {"id": profile.id}})
        assert again.status_code == 409
        assert "is already associated with flavor" in again.json()["NeutronError"]["message"]
        assert demo.network.delete(f"{binding}/{profile.id}").status_code == 403
        other = admin.network.create_service_profile(metainfo="{}")
        assert admin.network.delete(f"{binding}/{other.id}").status_code == 404
        admin.network.delete_service_profile(other)
        missing = admin.network.post(
            "/flavors/nope/service_profiles", json={"service_profile": {"id": profile.id}}
        )
        assert missing.status_code == 404
        admin.network.disassociate_flavor_from_service_profile(flavor, profile)
        assert admin.network.get_flavor(flavor.id).service_profile_ids == []
    finally:
        admin.network.delete_flavor(flavor)
        admin.network.delete_service_profile(profile)
    with pytest.raises(exceptions.NotFoundException):
        admin.network.get_flavor(flavor.id)
