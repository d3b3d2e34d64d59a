"""The whole route table fuzzed as an admin and as a member against a real cloud (fake
drivers): no 5xx, no dropped connection, no wedge, no write that poisons later reads.

Seeded and bounded (``FUZZ_ROUNDS``, default 2 rounds over every route: a few minutes);
``make fuzz`` runs longer with other seeds.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.fuzz import Fuzzer, raw_requests, route_table
from tests.support.keystone import Account, Admin, issue, password_body, unique

pytestmark = pytest.mark.fuzz

ROUNDS = int(os.environ.get("FUZZ_ROUNDS", "2"))
SEED = int(os.environ.get("FUZZ_SEED", "1"))
# Only these services' routes (comma-separated names; empty: every service), for local runs.
ONLY = {name for name in os.environ.get("FUZZ_SERVICES", "").split(",") if name}
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl fuzz"


def _ids(found: dict[str, list[str]], name: str, value: Any) -> None:
    if isinstance(value, str) and value:
        found.setdefault(name, []).append(value)
        found.setdefault("id", []).append(value)


class World:
    """A few resources of every kind, so that fuzzed ids also hit real rows."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self.ids: dict[str, list[str]] = {}
        self.http = httpx.Client(base_url=cloud.url, timeout=30)
        # The fuzzing users and their project stay out of the id pools: the fuzz deletes,
        # disables and revokes what it is given, and must not saw off its own branch.
        keystone = Admin(cloud)
        project = keystone.project(name=unique("fuzz"))["id"]
        self.accounts: dict[str, Account] = {}
        for who, role in (("admin", "admin"), ("member", "member")):
            account = keystone.user(name=unique(f"fuzz-{who}"))
            keystone.grant(project, account.id, role)
            self.accounts[who] = account
        self.scope = {"project": {"id": project}}
        self.tokens: dict[str, str] = {}
        self.refresh()
        # Victims: a project and a user of their own for the identity routes' ids.
        _ids(self.ids, "project_id", keystone.project(name=unique("fz-victim"))["id"])
        _ids(self.ids, "user_id", keystone.user(name=unique("fz-victim")).id)
        keystone.close()

    def refresh(self) -> dict[str, str]:
        for who, account in self.accounts.items():
            body = password_body(account.password, user_id=account.id, scope=self.scope)
            self.tokens[who] = issue(self.cloud, body)
        return self.tokens

    def post(self, who: str, path: str, body: Any, key: str, param: str) -> dict[str, Any]:
        resp = self.http.post(path, json=body, headers={"X-Auth-Token": self.tokens[who]})
        assert resp.status_code < 300, (path, resp.status_code, resp.text[:500])
        item: dict[str, Any] = resp.json().get(key, resp.json()) if key else resp.json()
        _ids(self.ids, param, item.get("id"))
        return item

    def build(self) -> None:
        # The object store's: the fuzz project's account, a container and an object in it.
        account = self.scope["project"]["id"]
        _ids(self.ids, "account", account)
        for path in (f"/object/v1/AUTH_{account}/fz-c", f"/object/v1/AUTH_{account}/fz-c/o"):
            resp = self.http.put(path, content=b"x", headers={"X-Auth-Token": self.tokens["admin"]})
            assert resp.status_code in (201, 202), (path, resp.status_code, resp.text[:500])
        _ids(self.ids, "container", "fz-c")
        _ids(self.ids, "object", "o")
        for who in ("admin", "member"):
            net = self.post(who, "/network/v2.0/networks", {"network": {"name": f"fz-{who}"}},
                            "network", "network_id")  # fmt: skip
            self.post(
                who,
                "/network/v2.0/subnets",
                {"subnet": {"network_id": net["id"], "cidr": "10.77.0.0/24", "ip_version": 4}},
                "subnet",
                "subnet_id",
            )
            self.post(who, "/network/v2.0/ports", {"port": {"network_id": net["id"]}}, "port",
                      "port_id")  # fmt: skip
            self.post(who, "/network/v2.0/routers", {"router": {"name": f"fz-{who}"}}, "router",
                      "router_id")  # fmt: skip
            self.post(who, "/network/v2.0/security-groups",
                      {"security_group": {"name": f"fz-{who}"}}, "security_group",
                      "security_group_id")  # fmt: skip
            self.post(who, "/image/v2/images",
                      {"name": f"fz-{who}", "disk_format": "raw", "container_format": "bare"},
                      "", "image_id")  # fmt: skip
            up = self.http.put(
                f"/image/v2/images/{self.ids['image_id'][-1]}/file",
                content=b"\0" * 4096,
                headers={
                    "X-Auth-Token": self.tokens[who],
                    "Content-Type": "application/octet-stream",
                },
            )
            assert up.status_code == 204, up.text
            self.post(who, "/compute/v2.1/os-keypairs",
                      {"keypair": {"name": f"fz-{who}", "public_key": SSH_KEY}}, "keypair",
                      "name")  # fmt: skip
            flavors = self.http.get(
                "/compute/v2.1/flavors", headers={"X-Auth-Token": self.tokens[who]}
            ).json()["flavors"]
            for f in flavors:
                _ids(self.ids, "flavor_id", f["id"])
            self.post(who, "/compute/v2.1/servers",
                      {"server": {"name": f"fz-{who}", "flavorRef": flavors[0]["id"],
                                  "imageRef": self.ids["image_id"][-1], "networks": "none"}},
                      "server", "server_id")  # fmt: skip
        _ids(self.ids, "domain_id", "default")

    def seeds(self) -> dict[tuple[str, str], list[Any]]:
        net = self.ids["network_id"][0]
        image = self.ids["image_id"][0]
        flavor = self.ids["flavor_id"][0]
        return {
            ("POST", r"/compute/v2\.1/servers"): [
                {
                    "server": {
                        "name": "s",
                        "imageRef": image,
                        "flavorRef": flavor,
                        "networks": [{"uuid": net}],
                        "security_groups": [{"name": "default"}],
                        "availability_zone": "nova",
                        "min_count": 1,
                        "max_count": 1,
                        "metadata": {"a": "b"},
                        "user_data": "aGk=",
                    }
                },
            ],
            ("POST", r"/compute/v2\.1/servers/\{server_id\}/action"): [
                {"os-getConsoleOutput": {"length": 10}},
                {"resize": {"flavorRef": flavor}},
                {"createImage": {"name": "snap", "metadata": {}}},
                {"addSecurityGroup": {"name": "default"}},
                {"lock": {"locked_reason": "x"}},
                {"rebuild": {"imageRef": image, "name": "r"}},
            ],
            ("PUT", r"/compute/v2\.1/servers/\{server_id\}/tags/\{tag\}"): [None],
            ("PUT", r"/compute/v2\.1/servers/\{server_id\}/tags"): [{"tags": ["a", "b"]}],
            ("POST", r"/compute/v2\.1/os-keypairs"): [
                {"keypair": {"name": "k", "public_key": SSH_KEY}}
            ],
            ("POST", r"/compute/v2\.1/os-server-groups"): [
                {"server_group": {"name": "g", "policy": "anti-affinity"}}
            ],
            ("POST", r"/compute/v2\.1/flavors"): [
                {"flavor": {"name": "f", "ram": 64, "vcpus": 1, "disk": 1}}
            ],
            ("POST", r"/compute/v2\.1/os-aggregates"): [
                {"aggregate": {"name": "a", "availability_zone": "z"}}
            ],
            ("PUT", r"/compute/v2\.1/os-quota-sets/\{project_id\}"): [
                {"quota_set": {"instances": 10, "cores": 20}}
            ],
            ("POST", r"/network/v2\.0/networks"): [{"network": {"name": "n", "mtu": 1400}}],
            ("POST", r"/network/v2\.0/subnets"): [
                {
                    "subnet": {
                        "network_id": net,
                        "cidr": "10.78.0.0/24",
                        "ip_version": 4,
                        "allocation_pools": [{"start": "10.78.0.10", "end": "10.78.0.20"}],
                    }
                }
            ],
            ("POST", r"/network/v2\.0/ports"): [
                {
                    "port": {
                        "network_id": net,
                        "fixed_ips": [{"ip_address": "10.77.0.50"}],
                        "allowed_address_pairs": [{"ip_address": "10.77.0.60"}],
                    }
                }
            ],
            ("PUT", r"/network/v2\.0/quotas/\{project_id\}"): [
                {"quota": {"port": 10, "network": 5, "check_limit": True}}
            ],
            ("POST", r"/network/v2\.0/security-group-rules"): [
                {
                    "security_group_rule": {
                        "security_group_id": self.ids["security_group_id"][0],
                        "direction": "ingress",
                        "protocol": "tcp",
                        "port_range_min": 22,
                        "port_range_max": 22,
                    }
                }
            ],
            ("POST", r"/network/v2\.0/routers"): [{"router": {"name": "r"}}],
            ("POST", r"/network/v2\.0/floatingips"): [{"floatingip": {"floating_network_id": net}}],
            ("POST", r"/image/v2/images"): [
                {"name": "i", "disk_format": "qcow2", "container_format": "bare", "tags": ["t"]}
            ],
            ("PATCH", r"/image/v2/images/\{image_id\}"): [
                [{"op": "replace", "path": "/name", "value": "x"}]
            ],
            ("POST", r"/identity/v3/users"): [
                {"user": {"name": "u", "password": "p", "email": "e@x", "domain_id": "default"}}
            ],
            ("PATCH", r"/identity/v3/users/\{user_id\}"): [{"user": {"email": "e@x"}}],
            ("POST", r"/identity/v3/projects"): [{"project": {"name": "p", "tags": ["a"]}}],
            ("POST", r"/identity/v3/credentials"): [
                {"credential": {"blob": "{}", "type": "ec2", "user_id": self.ids["user_id"][0]}}
            ],
            ("PATCH", r"/identity/v3/credentials/\{credential_id\}"): [
                {"credential": {"blob": "{}"}}
            ],
            ("POST", r"/identity/v3/auth/tokens"): [
                {
                    "auth": {
                        "identity": {
                            "methods": ["password"],
                            "password": {
                                "user": {
                                    "name": "demo",
                                    "domain": {"id": "default"},
                                    "password": "x",
                                }
                            },
                        }
                    }
                }
            ],
        }

    def close(self) -> None:
        self.http.close()


@pytest.fixture(scope="module")
def world(cloud: Cloud) -> Iterator[World]:
    w = World(cloud)
    w.build()
    yield w
    w.close()


def test_no_route_answers_5xx_drops_or_wedges(cloud: Cloud, world: World) -> None:
    fuzzer = Fuzzer(
        cloud.url, world.tokens, world.ids, world.seeds(), seed=SEED, refresh=world.refresh
    )
    try:
        started = time.monotonic()
        targets = [t for t in route_table() if not ONLY or t.service in ONLY]
        report = fuzzer.run(targets, ROUNDS)
        took = time.monotonic() - started
    finally:
        fuzzer.close()
    print(f"\nfuzz: {sum(report.sent.values())} requests in {took:.0f} s")
    print(report.summary())
    assert not report.findings, report.summary()
    # The cloud still writes after all that.
    with cloud.http(world.refresh()["admin"]) as http:
        resp = http.post("/network/v2.0/networks", json={"network": {"name": "after-fuzz"}})
        assert resp.status_code == 201, resp.text


def test_a_nul_in_the_path_is_answered(cloud: Cloud, world: World) -> None:
    for path, raw in raw_requests(cloud.url, world.tokens["admin"]):
        with socket.create_connection(("127.0.0.1", cloud.port), timeout=10) as sock:
            sock.sendall(raw)
            answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 4"), (path, answer[:200])
