"""Metering labels and rules (Neutron's metering extension) through `openstack network
meter` and openstacksdk: created, listed, shown, filtered and deleted by admin alone, a
rule's prefixes validated. The counting is tested on real router namespaces in
tests/e2e/test_network_dataplane.py and its way to the metering service in
tests/api/test_metering_collection.py."""

from __future__ import annotations

from typing import Any

import pytest
from openstack import exceptions

from tests.support.cloud import Cloud
from tests.support.fixtures import sdk_connection, unique

admin = sdk_connection("onestack")
demo = sdk_connection("onestack-demo")


def test_labels_and_rules_from_the_command_line(cloud: Cloud) -> None:
    name = unique("meter")
    label = cloud.openstack("network", "meter", "create", "--description", "web", name)
    assert label["name"] == name and label["shared"] is False
    rule = cloud.openstack(
        "network", "meter", "rule", "create", "--ingress", "--remote-ip-prefix",
        "10.0.1.7/24", label["id"],
    )  # fmt: skip
    assert rule["remote_ip_prefix"] == "10.0.1.0/24"
    assert rule["direction"] == "ingress" and rule["is_excluded"] is False
    assert label["id"] in [m["ID"] for m in cloud.openstack("network", "meter", "list")]
    shown = cloud.openstack("network", "meter", "rule", "show", rule["id"])
    assert shown["metering_label_id"] == label["id"]
    cloud.openstack("network", "meter", "delete", label["id"], json_output=False)
    # The label's rules go with it.
    gone = cloud.openstack("network", "meter", "rule", "show", rule["id"], check=False)
    assert gone.returncode != 0


def test_rules_are_validated_and_members_see_nothing(admin: Any, demo: Any) -> None:
    label = admin.network.create_metering_label(name=unique("meter"))
    try:
        rule = admin.network.create_metering_label_rule(
            metering_label_id=label.id,
            direction="egress",
            source_ip_prefix="fd02::/64",
            destination_ip_prefix="10.9.0.0/16",
            is_excluded=True,
        )
        assert rule.is_excluded is True and rule.source_ip_prefix == "fd02::/64"
        egress = [r.id for r in admin.network.metering_label_rules(direction="egress")]
        ingress = [r.id for r in admin.network.metering_label_rules(direction="ingress")]
        assert rule.id in egress and rule.id not in ingress
        assert list(admin.network.metering_labels(id="33")) == []
        for bad in (
            {"direction": "sideways", "remote_ip_prefix": "10.0.0.0/8"},
            {"direction": "ingress"},
            {"direction": "ingress", "remote_ip_prefix": "10.0.0.0/8",
             "source_ip_prefix": "10.1.0.0/16"},
            {"direction": "ingress", "remote_ip_prefix": "not-a-net"},
        ):  # fmt: skip
            with pytest.raises(exceptions.BadRequestException):
                admin.network.create_metering_label_rule(metering_label_id=label.id, **bad)

        assert list(demo.network.metering_labels()) == []
        with pytest.raises(exceptions.HttpException) as refused:
            demo.network.create_metering_label(name="mine")
        assert refused.value.status_code in (403, 404)
    finally:
        admin.network.delete_metering_label(label)
