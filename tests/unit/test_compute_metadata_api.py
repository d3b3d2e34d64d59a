"""The compute metadata API (compute/metadata/api.py) as the network agent's proxy calls it."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from onestack.compute.metadata import build_metadata_app
from onestack.compute.metadata.source import (
    FixedIPInfo,
    InstanceMetadata,
    KeyInfo,
    PortInfo,
    SubnetInfo,
)
from onestack.network.drivers.linuxbridge.metadata import sign as proxy_sign

SECRET = "0123456789abcdef-shared"
UUID = "d8e02d56-2648-49a3-bf97-6be8f1204f38"
BARE = "5b0a1c4e-0000-4000-8000-000000000001"
SUBNET = SubnetInfo(id="s4", cidr="10.0.0.0/24", ip_version=4, gateway_ip="10.0.0.1")
SUBNET6 = SubnetInfo(id="s6", cidr="2001:db8::/64", ip_version=6, ipv6_address_mode="slaac")


def server(uuid: str, user_data: bytes | None) -> InstanceMetadata:
    return InstanceMetadata(
        uuid=uuid,
        name="vm1",
        hostname="vm1",
        project_id="proj",
        key=KeyInfo("k", "ssh-ed25519 AAAA me"),
        user_data=user_data,
        ports=(
            PortInfo(
                port_id="cd9f6d46-4a3a-43ab-a466-994af9db96fc",
                network_id="net",
                mac_address="fa:16:3e:9c:bf:3d",
                fixed_ips=(
                    FixedIPInfo("10.0.0.5", SUBNET),
                    FixedIPInfo("2001:db8::f816:3eff:fe9c:bf3d", SUBNET6),
                ),
            ),
        ),
        password="ENCRYPTED" if uuid == BARE else "",
    )


class Lookup:
    def __init__(self) -> None:
        self.instances = {UUID: server(UUID, b"#!/bin/sh\n"), BARE: server(BARE, None)}
        self.asked: list[str] = []

    async def metadata_for(self, instance_uuid: str) -> InstanceMetadata | None:
        self.asked.append(instance_uuid)
        return self.instances.get(instance_uuid)


class Passwords:
    def __init__(self) -> None:
        self.stored: dict[str, str] = {}

    async def set_password(self, instance_uuid: str, password: str) -> bool:
        if instance_uuid in self.stored:
            return False
        self.stored[instance_uuid] = password
        return True


def headers(
    instance: str = UUID,
    tenant: str = "proj",
    ip: str = "10.0.0.5",
    signature: str | None = None,
) -> dict[str, str]:
    return {
        "X-Instance-ID": instance,
        "X-Tenant-ID": tenant,
        "X-Forwarded-For": ip,
        "X-Instance-ID-Signature": proxy_sign(instance, SECRET) if signature is None else signature,
    }


@pytest.fixture
def lookup() -> Lookup:
    return Lookup()


@pytest.fixture
def passwords() -> Passwords:
    return Passwords()


@pytest.fixture
async def client(lookup: Lookup, passwords: Passwords) -> AsyncIterator[httpx.AsyncClient]:
    calls: list[int] = []

    def secret() -> str:
        calls.append(1)
        return SECRET

    app = build_metadata_app(secret, lookup, passwords)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://meta") as c:
        yield c
    assert len(calls) <= 1  # read once, not per request


async def test_meta_data_json(client: httpx.AsyncClient) -> None:
    r = await client.get("/openstack/latest/meta_data.json", headers=headers())
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    doc = r.json()
    assert (doc["uuid"], doc["hostname"], doc["public_keys"]) == (
        UUID,
        "vm1",
        {"k": "ssh-ed25519 AAAA me"},
    )
    r = await client.get("/openstack/latest/network_data.json", headers=headers())
    assert r.headers["content-type"] == "application/json"
    assert r.json()["networks"][0]["type"] == "ipv4_dhcp"


async def test_user_data_and_listings(client: httpx.AsyncClient) -> None:
    r = await client.get("/openstack/latest/user_data", headers=headers())
    assert (r.status_code, r.content) == (200, b"#!/bin/sh\n")
    assert r.headers["content-type"].startswith("text/plain")
    r = await client.get("/openstack", headers=headers())
    assert r.text.splitlines()[0] == "2012-08-10" and r.text.endswith("\nlatest")
    r = await client.get("/openstack/latest/", headers=headers())
    assert r.text.splitlines()[:2] == ["meta_data.json", "user_data"]
    r = await client.get("/", headers=headers())
    assert r.text.splitlines()[-2:] == ["2009-04-04", "latest"]
    r = await client.get("/latest/meta-data/", headers=headers())
    assert "public-keys/" in r.text.splitlines()
    r = await client.get("/latest/meta-data/local-ipv4", headers=headers())
    assert r.text == "10.0.0.5"
    r = await client.get("/latest/user-data", headers=headers())
    assert r.content == b"#!/bin/sh\n"


async def test_head(client: httpx.AsyncClient) -> None:
    r = await client.head("/openstack/latest/meta_data.json", headers=headers())
    assert r.status_code == 200 and r.content == b""


async def test_no_user_data_is_404(client: httpx.AsyncClient) -> None:
    h = headers(instance=BARE)
    assert (await client.get("/openstack/latest/user_data", headers=h)).status_code == 404
    assert (await client.get("/latest/user-data", headers=h)).status_code == 404
    r = await client.get("/openstack/latest", headers=h)
    assert "user_data" not in r.text.splitlines()
    assert (await client.get("/openstack/latest/nothing", headers=h)).status_code == 404


async def test_ipv6_guest_address(client: httpx.AsyncClient) -> None:
    h = headers(ip="2001:db8:0::f816:3eff:fe9c:bf3d")  # another spelling of the same address
    assert (await client.get("/openstack/latest/meta_data.json", headers=h)).status_code == 200


@pytest.mark.parametrize(
    "bad",
    [
        {"signature": "0" * 64},
        {"signature": ""},
        {"signature": hmac.new(b"other", UUID.encode(), hashlib.sha256).hexdigest()},
    ],
)
async def test_bad_signature_is_403(
    client: httpx.AsyncClient, lookup: Lookup, bad: dict[str, str]
) -> None:
    r = await client.get("/openstack/latest/meta_data.json", headers=headers(**bad))
    assert r.status_code == 403
    assert lookup.asked == []  # refused before anything was looked up


async def test_missing_signature_is_403(client: httpx.AsyncClient) -> None:
    h = headers()
    del h["X-Instance-ID-Signature"]
    assert (await client.get("/openstack/latest/meta_data.json", headers=h)).status_code == 403
    assert (await client.get("/", headers=h)).status_code == 403


async def test_signature_of_another_instance_is_403(client: httpx.AsyncClient) -> None:
    h = headers(instance=BARE, signature=proxy_sign(UUID, SECRET))
    assert (await client.get("/openstack/latest/meta_data.json", headers=h)).status_code == 403


async def test_missing_identity_headers_are_400(client: httpx.AsyncClient) -> None:
    for name in ("X-Instance-ID", "X-Tenant-ID"):
        h = headers()
        del h[name]
        r = await client.get("/openstack/latest/meta_data.json", headers=h)
        assert r.status_code == 400, name
    pairs = [*headers().items(), ("X-Instance-ID", BARE)]
    r = await client.get("/openstack/latest/meta_data.json", headers=pairs)
    assert r.status_code == 400


async def test_tenant_mismatch_is_403(client: httpx.AsyncClient) -> None:
    r = await client.get("/openstack/latest/meta_data.json", headers=headers(tenant="other"))
    assert r.status_code == 403


@pytest.mark.parametrize("ip", ["10.0.0.6", "169.254.169.254", "", "10.0.0.5, 10.0.0.6"])
async def test_forwarded_ip_not_the_instances_is_403(client: httpx.AsyncClient, ip: str) -> None:
    r = await client.get("/openstack/latest/meta_data.json", headers=headers(ip=ip))
    assert r.status_code == 403


async def test_unknown_instance_is_404(client: httpx.AsyncClient) -> None:
    h = headers(instance="00000000-0000-0000-0000-000000000000")
    assert (await client.get("/openstack/latest/meta_data.json", headers=h)).status_code == 404


async def test_password(client: httpx.AsyncClient, passwords: Passwords) -> None:
    r = await client.get("/openstack/latest/password", headers=headers())
    assert (r.status_code, r.content) == (200, b"")
    r = await client.post("/openstack/latest/password", headers=headers(), content=b"x" * 257)
    assert r.status_code == 400
    r = await client.post("/openstack/latest/password", headers=headers(), content=b"enc")
    assert r.status_code == 200
    assert passwords.stored == {UUID: "enc"}
    r = await client.post("/openstack/latest/password", headers=headers(), content=b"again")
    assert r.status_code == 409
    # Already set in the instance's metadata: conflict without asking the store.
    h = headers(instance=BARE)
    assert (await client.get("/openstack/latest/password", headers=h)).text == "ENCRYPTED"
    r = await client.post("/openstack/latest/password", headers=h, content=b"x")
    assert r.status_code == 409
    r = await client.post("/openstack/latest/meta_data.json", headers=headers(), content=b"x")
    assert r.status_code == 404


async def test_password_post_without_store_is_404(lookup: Lookup) -> None:
    app = build_metadata_app(lambda: SECRET, lookup)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as c:
        r = await c.post("/openstack/latest/password", headers=headers(), content=b"enc")
        assert r.status_code == 404


async def test_mounted_under_the_proxy_prefix(lookup: Lookup) -> None:
    """The proxy forwards to PUBLIC_URL/compute-metadata + the guest's path."""
    from starlette.applications import Starlette
    from starlette.routing import Mount

    outer = Starlette(
        routes=[Mount("/compute-metadata", app=build_metadata_app(lambda: SECRET, lookup))]
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=outer), base_url="http://m"
    ) as c:
        r = await c.get("/compute-metadata/openstack/latest/meta_data.json", headers=headers())
        assert r.status_code == 200 and r.json()["uuid"] == UUID
        r = await c.get("/compute-metadata/", headers=headers())
        assert r.text.endswith("latest")


async def test_empty_secret_refuses_everything(lookup: Lookup) -> None:
    app = build_metadata_app(lambda: "", lookup)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as c:
        h = headers(signature=proxy_sign(UUID, ""))
        assert (await c.get("/openstack/latest/meta_data.json", headers=h)).status_code == 403


async def test_signature_never_logged(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bad = "f" * 64
    await client.get("/", headers=headers(signature=bad))
    await client.get("/", headers=headers(tenant="other"))
    text = caplog.text + json.dumps([getattr(r, "fields", None) for r in caplog.records])
    assert caplog.records  # refusals are logged...
    assert bad not in text and proxy_sign(UUID, SECRET) not in text and SECRET not in text
