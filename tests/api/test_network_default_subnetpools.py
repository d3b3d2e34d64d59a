"""Default subnet pools (Neutron's default-subnetpools) through `openstack`: one default per
IP family, and a subnet made from it with --use-default-subnet-pool."""

from __future__ import annotations

import ipaddress

from tests.support.cloud import Cloud
from tests.support.fixtures import unique


def test_subnet_from_the_default_pool(cloud: Cloud) -> None:
    pool = unique("default-pool")
    created = cloud.openstack(
        "subnet", "pool", "create", "--default", "--share", "--pool-prefix", "10.201.0.0/16",
        "--default-prefix-length", "26", pool,
    )  # fmt: skip
    try:
        assert created["is_default"] is True
        second = cloud.openstack(
            "subnet", "pool", "create", "--default", "--pool-prefix", "10.202.0.0/16",
            unique("second"), check=False, json_output=False,
        )  # fmt: skip
        assert second.returncode != 0
        assert "default subnetpool for this IP family" in second.stderr

        net = unique("net")
        cloud.openstack("network", "create", net, cloud="onestack-demo")
        sub = cloud.openstack(
            "subnet", "create", "--network", net, "--use-default-subnet-pool",
            "--ip-version", "4", unique("sub"), cloud="onestack-demo",
        )  # fmt: skip
        assert sub["subnetpool_id"] == created["id"]
        cidr = ipaddress.ip_network(sub["cidr"])
        assert cidr.subnet_of(ipaddress.ip_network("10.201.0.0/16")) and cidr.prefixlen == 26

        # No IPv6 default pool: Neutron's 400.
        refused = cloud.openstack(
            "subnet", "create", "--network", net, "--use-default-subnet-pool",
            "--ip-version", "6", unique("sub6"), cloud="onestack-demo", check=False,
            json_output=False,
        )  # fmt: skip
        assert refused.returncode != 0
        assert "No default subnetpool found for IPv6" in refused.stderr
        cloud.openstack("subnet", "delete", sub["id"], json_output=False)
        cloud.openstack("network", "delete", net, cloud="onestack-demo", json_output=False)
    finally:
        cloud.openstack("subnet", "pool", "delete", created["id"], json_output=False)
