"""Nova's metadata documents built from an InstanceMetadata (compute/metadata/content.py)."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pycdlib
import pytest

from onestack.compute.drivers import configdrive
from onestack.compute.metadata import content
from onestack.compute.metadata.source import (
    DeviceInfo,
    FixedIPInfo,
    HostRoute,
    InjectedFile,
    InstanceMetadata,
    KeyInfo,
    PortInfo,
    SubnetInfo,
)
from onestack.image.testimage import initramfs

PORT_ID = "cd9f6d46-4a3a-43ab-a466-994af9db96fc"
NET_ID = "99e88329-f20d-4741-9593-25bf07847b16"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx3 me@host"

DHCP4 = SubnetInfo(
    id="s4", cidr="10.0.0.0/24", ip_version=4, gateway_ip="10.0.0.1", dns_nameservers=("8.8.8.8",)
)
STATIC4 = SubnetInfo(
    id="s4s",
    cidr="192.168.7.0/24",
    ip_version=4,
    gateway_ip="192.168.7.1",
    dns_nameservers=("192.168.7.2", "8.8.8.8"),
    host_routes=(HostRoute("172.16.0.0/16", "192.168.7.254"),),
    enable_dhcp=False,
)
SLAAC6 = SubnetInfo(
    id="s6",
    cidr="2001:db8:1::/64",
    ip_version=6,
    gateway_ip="2001:db8:1::1",
    dns_nameservers=("2001:4860:4860::8888",),
    ipv6_address_mode="slaac",
)


def instance(**changes: object) -> InstanceMetadata:
    md = InstanceMetadata(
        uuid="d8e02d56-2648-49a3-bf97-6be8f1204f38",
        name="vm 1",
        hostname="vm-1",
        project_id="p1",
        availability_zone="nova",
        reservation_id="r-3fhpq6wp",
        key=KeyInfo("mykey", KEY),
        user_data=b"#!/bin/sh\necho hi\n",
        metadata={"role": "web"},
        ports=(
            PortInfo(
                port_id=PORT_ID,
                network_id=NET_ID,
                mac_address="fa:16:3e:9c:bf:3d",
                fixed_ips=(FixedIPInfo("10.0.0.5", DHCP4),),
                mtu=1450,
            ),
        ),
        floating_ips=("203.0.113.9",),
        security_groups=("default", "web"),
        flavor_name="m1.tiny",
        image_id="0d2b7d8c-1b7e-4a5e-9a57-3d4c3c1f2a10",
        ec2_id=42,
    )
    return replace(md, **changes)


class TestNetworkData:
    def test_dhcp_ipv4_port_is_novas_documented_example(self) -> None:
        assert content.network_data_json(instance()) == {
            "links": [
                {
                    "id": "tapcd9f6d46-4a",
                    "vif_id": PORT_ID,
                    "type": "bridge",
                    "mtu": None,
                    "ethernet_mac_address": "fa:16:3e:9c:bf:3d",
                }
            ],
            "networks": [
                {
                    "id": "network0",
                    "type": "ipv4_dhcp",
                    "link": "tapcd9f6d46-4a",
                    "network_id": NET_ID,
                }
            ],
            "services": [{"type": "dns", "address": "8.8.8.8"}],
        }

    def test_static_ipv4_and_slaac_ipv6(self) -> None:
        port = PortInfo(
            port_id=PORT_ID,
            network_id=NET_ID,
            mac_address="fa:16:3e:9c:bf:3d",
            fixed_ips=(
                FixedIPInfo("2001:db8:1::f816:3eff:fe9c:bf3d", SLAAC6),
                FixedIPInfo("192.168.7.10", STATIC4),
            ),
            mtu=1450,
            vif_type="other",
        )
        doc = content.network_data_json(instance(ports=(port,)))
        # Unknown VIF types are "phy"; the MTU is left to DHCP/RAs when a subnet has DHCP.
        assert doc["links"] == [
            {
                "id": "tapcd9f6d46-4a",
                "vif_id": PORT_ID,
                "type": "phy",
                "mtu": None,
                "ethernet_mac_address": "fa:16:3e:9c:bf:3d",
            }
        ]
        assert doc["networks"] == [
            {
                "id": "network0",
                "type": "ipv4",
                "link": "tapcd9f6d46-4a",
                "ip_address": "192.168.7.10",
                "netmask": "255.255.255.0",
                "routes": [
                    {"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "192.168.7.1"},
                    {"network": "172.16.0.0", "netmask": "255.255.0.0", "gateway": "192.168.7.254"},
                ],
                "network_id": NET_ID,
                "services": [
                    {"type": "dns", "address": "192.168.7.2"},
                    {"type": "dns", "address": "8.8.8.8"},
                ],
            },
            {
                "id": "network1",
                "type": "ipv6_slaac",
                "link": "tapcd9f6d46-4a",
                "ip_address": "2001:db8:1::f816:3eff:fe9c:bf3d",
                "netmask": "ffff:ffff:ffff:ffff::",
                "routes": [{"network": "::", "netmask": "::", "gateway": "2001:db8:1::1"}],
                "network_id": NET_ID,
                "services": [{"type": "dns", "address": "2001:4860:4860::8888"}],
            },
        ]
        assert doc["services"] == [
            {"type": "dns", "address": "192.168.7.2"},
            {"type": "dns", "address": "8.8.8.8"},
            {"type": "dns", "address": "2001:4860:4860::8888"},
        ]

    def test_static_only_link_carries_the_mtu_and_ports_without_ips_are_skipped(self) -> None:
        bare = PortInfo(port_id="p0", network_id="n0", mac_address="fa:16:3e:00:00:01")
        static = PortInfo(
            port_id="abcdef01-2345-6789-abcd-ef0123456789",
            network_id="n1",
            mac_address="fa:16:3e:00:00:02",
            fixed_ips=(FixedIPInfo("192.168.7.11", STATIC4),),
            mtu=1400,
            devname="tap-custom",
        )
        doc = content.network_data_json(instance(ports=(bare, *instance().ports, static)))
        assert [link["id"] for link in doc["links"]] == ["tapcd9f6d46-4a", "tap-custom"]
        assert doc["links"][1]["mtu"] == 1400
        assert [(n["id"], n["link"]) for n in doc["networks"]] == [
            ("network0", "tapcd9f6d46-4a"),
            ("network1", "tap-custom"),
        ]
        # 8.8.8.8 is on both subnets: listed once at the top level.
        assert [s["address"] for s in doc["services"]] == ["8.8.8.8", "192.168.7.2"]

    def test_no_ports(self) -> None:
        assert content.network_data_json(instance(ports=())) == {
            "links": [],
            "networks": [],
            "services": [],
        }


class TestMetaData:
    def test_latest(self) -> None:
        doc = content.meta_data_json(instance())
        assert list(doc) == [
            "uuid",
            "meta",
            "public_keys",
            "keys",
            "hostname",
            "name",
            "launch_index",
            "availability_zone",
            "random_seed",
            "project_id",
            "devices",
            "dedicated_cpus",
        ]
        assert doc["public_keys"] == {"mykey": KEY}
        assert doc["keys"] == [{"name": "mykey", "type": "ssh", "data": KEY}]
        assert (doc["hostname"], doc["name"], doc["uuid"]) == (
            "vm-1",
            "vm 1",
            "d8e02d56-2648-49a3-bf97-6be8f1204f38",
        )
        assert doc["meta"] == {"role": "web"}
        assert len(base64.b64decode(doc["random_seed"])) == 512
        assert doc["random_seed"] != content.meta_data_json(instance())["random_seed"]
        assert (doc["devices"], doc["dedicated_cpus"]) == ([], [])

    def test_older_versions_have_fewer_keys(self) -> None:
        folsom = content.meta_data_json(instance(), "2012-08-10")
        assert not {"random_seed", "project_id", "devices", "dedicated_cpus"} & set(folsom)
        liberty = content.meta_data_json(instance(), "2015-10-15")
        assert "project_id" in liberty and "devices" not in liberty
        with pytest.raises(content.NotFound):
            content.meta_data_json(instance(), "2011-01-01")

    def test_without_key_metadata_or_domain(self) -> None:
        doc = content.meta_data_json(instance(key=None, metadata={}, dhcp_domain="novalocal"))
        assert not {"public_keys", "keys", "meta"} & set(doc)
        assert doc["hostname"] == "vm-1.novalocal"

    def test_devices_and_files(self) -> None:
        md = instance(
            devices=(
                DeviceInfo("nic", "pci", "0000:00:02.0", ("web",), mac="fa:16:3e:9c:bf:3d"),
                DeviceInfo("disk", "pci", "0000:00:05.0", ("db",), serial="vol-1"),
            ),
            files=(InjectedFile("/etc/motd", b"hello"),),
            dedicated_cpus=(2, 3),
        )
        doc = content.meta_data_json(md)
        assert doc["devices"] == [
            {
                "vf_trusted": False,
                "type": "nic",
                "mac": "fa:16:3e:9c:bf:3d",
                "bus": "pci",
                "address": "0000:00:02.0",
                "tags": ["web"],
            },
            {
                "type": "disk",
                "serial": "vol-1",
                "bus": "pci",
                "address": "0000:00:05.0",
                "tags": ["db"],
            },
        ]
        assert doc["files"] == [{"path": "/etc/motd", "content_path": "/content/0000"}]
        assert doc["dedicated_cpus"] == [2, 3]
        assert content.resolve(md, "/openstack/content/0000").body == b"hello"
        with pytest.raises(content.NotFound):
            content.resolve(md, "/openstack/content/0001")

    def test_vendor_data(self) -> None:
        md = instance(vendor_data={"a": 1})
        assert content.vendor_data_json(md) == {"a": 1}
        assert content.vendor_data2_json(md) == {"static": {"a": 1}}
        assert content.vendor_data_json(instance()) == {}


class TestPaths:
    def text(self, path: str, md: InstanceMetadata | None = None) -> str:
        item = content.resolve(md or instance(), path, "10.0.0.5")
        assert item.content_type == "text/plain"
        text: str = item.body.decode()
        return text

    def test_roots(self) -> None:
        ec2 = "1.0\n2007-01-19\n2007-03-01\n2007-08-29\n2007-10-10\n2007-12-15\n2008-02-01\n"
        assert self.text("/") == ec2 + "2008-09-01\n2009-04-04\nlatest"
        assert self.text("/openstack") == self.text("/openstack/")
        assert self.text("/openstack").splitlines() == [
            "2012-08-10",
            "2013-04-04",
            "2013-10-17",
            "2015-10-15",
            "2016-06-30",
            "2016-10-06",
            "2017-02-22",
            "2018-08-27",
            "2020-10-14",
            "latest",
        ]

    def test_version_listing(self) -> None:
        assert self.text("/openstack/latest/").splitlines() == [
            "meta_data.json",
            "user_data",
            "password",
            "vendor_data.json",
            "network_data.json",
            "vendor_data2.json",
        ]
        assert self.text("/openstack/2012-08-10", instance(user_data=None)) == "meta_data.json"

    def test_documents(self) -> None:
        md = instance()
        item = content.resolve(md, "openstack/latest/meta_data.json")
        assert item.content_type == "application/json"
        assert json.loads(item.body)["uuid"] == md.uuid
        assert content.resolve(md, "/openstack//latest/user_data").body == md.user_data
        assert json.loads(content.resolve(md, "/openstack/latest/vendor_data2.json").body) == {
            "static": {}
        }
        password = content.resolve(md, "/openstack/2013-04-04/password")
        assert password.password and password.body == b""
        for missing in (
            "/openstack/2016-06-30/vendor_data2.json",
            "/openstack/2012-08-10/password",
            "/openstack/latest/nothing",
            "/openstack/latest/meta_data.json/uuid",
            "/openstack/2099-01-01/meta_data.json",
        ):
            with pytest.raises(content.NotFound):
                content.resolve(md, missing)
        with pytest.raises(content.NotFound):
            content.resolve(instance(user_data=None), "/openstack/latest/user_data")

    def test_ec2_tree(self) -> None:
        assert self.text("/latest") == "meta-data/\nuser-data"
        assert self.text("/latest/meta-data/").splitlines() == [
            "ami-id",
            "ami-launch-index",
            "ami-manifest-path",
            "block-device-mapping/",
            "hostname",
            "instance-action",
            "instance-id",
            "instance-type",
            "local-hostname",
            "local-ipv4",
            "placement/",
            "public-hostname",
            "public-ipv4",
            "public-keys/",
            "reservation-id",
            "security-groups",
        ]
        expected = {
            "ami-id": "ami-0d2b7d8c",
            "ami-launch-index": "0",
            "instance-id": "i-0000002a",
            "hostname": "vm-1",
            "local-ipv4": "10.0.0.5",
            "public-ipv4": "203.0.113.9",
            "instance-type": "m1.tiny",
            "reservation-id": "r-3fhpq6wp",
            "security-groups": "default\nweb",
            "placement/availability-zone": "nova",
            "block-device-mapping": "ami\nroot",
            "block-device-mapping/root": "/dev/vda",
            "public-keys": "0=mykey",
            "public-keys/0": "openssh-key",
            "public-keys/0/openssh-key": KEY,
        }
        for key, value in expected.items():
            assert self.text(f"/latest/meta-data/{key}") == value, key
        assert self.text("/ec2/2009-04-04/user-data") == "#!/bin/sh\necho hi\n"
        assert "local-hostname" not in self.text("/1.0/meta-data").splitlines()
        for missing in ("/latest/meta-data/public-keys/0/_name", "/2010-01-01/meta-data"):
            with pytest.raises(content.NotFound):
                content.resolve(instance(), missing)
        with pytest.raises(content.NotFound):
            content.resolve(instance(user_data=None), "/latest/user-data")


class TestConfigDrive:
    def test_file_set(self) -> None:
        files = content.config_drive_files(instance())
        expected = {
            "ec2/2009-04-04/meta-data.json",
            "ec2/2009-04-04/user-data",
            "ec2/latest/meta-data.json",
            "ec2/latest/user-data",
        }
        for version in (*content.OPENSTACK_VERSIONS, "latest"):
            expected |= {f"openstack/{version}/meta_data.json", f"openstack/{version}/user_data"}
            if version >= "2013-10-17":
                expected.add(f"openstack/{version}/vendor_data.json")
            if version >= "2015-10-15":
                expected.add(f"openstack/{version}/network_data.json")
            if version >= "2016-10-06":
                expected.add(f"openstack/{version}/vendor_data2.json")
        assert set(files) == expected
        assert files["openstack/latest/user_data"] == b"#!/bin/sh\necho hi\n"
        assert json.loads(files["openstack/latest/network_data.json"])["links"][0]["id"] == (
            "tapcd9f6d46-4a"
        )
        ec2 = json.loads(files["ec2/latest/meta-data.json"])
        assert ec2["instance-id"] == "i-0000002a"
        assert ec2["public-keys"]["0"]["openssh-key"] == KEY
        assert ec2["block-device-mapping"] == {"ami": "vda", "root": "/dev/vda"}

    def test_no_user_data_and_admin_pass(self) -> None:
        files = content.config_drive_files(instance(user_data=None), admin_pass="s3cret")
        assert not [p for p in files if p.endswith(("user_data", "user-data"))]
        assert json.loads(files["openstack/latest/meta_data.json"])["admin_pass"] == "s3cret"
        plain = content.config_drive_files(instance())
        assert "admin_pass" not in json.loads(plain["openstack/latest/meta_data.json"])

    def test_iso_holds_what_the_guest_reads(self, tmp_path: Path) -> None:
        iso_path = configdrive.write(content.config_drive_files(instance()), tmp_path / "cd.iso")
        iso = pycdlib.PyCdlib()
        iso.open(str(iso_path))
        try:
            out = io.BytesIO()
            iso.get_file_from_iso_fp(out, rr_path="/openstack/latest/meta_data.json")
            assert json.loads(out.getvalue())["public_keys"] == {"mykey": KEY}
        finally:
            iso.close()


@pytest.mark.skipif(shutil.which("busybox") is None, reason="busybox is not installed")
def test_guest_init_parses_meta_data(tmp_path: Path) -> None:
    """The test image's init flattens meta_data.json with its awk and reads hostname and keys."""
    awk = tmp_path / "metadata.awk"
    awk.write_bytes(initramfs.guest_file("metadata.awk"))
    lib = tmp_path / "lib.sh"
    lib.write_bytes(initramfs.guest_file("lib.sh"))
    flat = tmp_path / "meta.flat"
    flat.write_text(
        subprocess.run(
            ["busybox", "awk", "-f", str(awk)],
            input=content.to_json(content.meta_data_json(instance())).decode(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    script = f". {lib}\nmeta_get {flat} hostname\nmeta_get {flat} uuid\nmeta_keys {flat}\n"
    out = subprocess.run(
        ["busybox", "sh", "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines() == ["vm-1", "d8e02d56-2648-49a3-bf97-6be8f1204f38", KEY]
