"""Nova's security group proxy (os-security-groups and os-security-group-rules below 2.36):
groups and ingress rules written through to the network service as the caller."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import member_of_new_project
from tests.support.keystone import unique

SG = "/compute/v2.1/os-security-groups"
RULES = "/compute/v2.1/os-security-group-rules"


@pytest.fixture
def member(cloud: Cloud) -> Iterator[httpx.Client]:
    with member_of_new_project(cloud).client as c:
        yield c


def _ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json() if resp.content else None


def test_groups_and_rules_through_the_proxy(cloud: Cloud, member: httpx.Client) -> None:
    name = unique("sg")
    body = {"security_group": {"name": name, "description": "d"}}
    group = _ok(member.post(SG, json=body))["security_group"]
    assert (group["name"], group["description"], group["rules"]) == (name, "d", [])
    peer = _ok(member.post(SG, json={"security_group": {"name": unique("p"), "description": ""}}))
    peer = peer["security_group"]
    # Neutron sees the same group (its egress rules are not Nova's to show).
    with cloud.sdk() as conn:
        assert conn.network.get_security_group(group["id"]).name == name
    listed = _ok(member.get(SG))["security_groups"]
    assert {group["id"], peer["id"]} <= {g["id"] for g in listed}
    tcp = {"parent_group_id": group["id"], "ip_protocol": "tcp", "from_port": 22, "to_port": 22}
    # The cidr as given, host bits and all (Nova's parse_cidr; Tempest's optional-cidr test).
    rule = _ok(member.post(RULES, json={"security_group_rule": {**tcp, "cidr": "10.1.2.3/8"}}))
    rule = rule["security_group_rule"]
    assert rule["ip_range"] == {"cidr": "10.1.2.3/8"} and rule["from_port"] == 22
    icmp = {"parent_group_id": group["id"], "ip_protocol": "icmp", "from_port": -1, "to_port": -1}
    by_group = _ok(
        member.post(RULES, json={"security_group_rule": {**icmp, "group_id": peer["id"]}})
    )
    assert by_group["security_group_rule"]["group"]["name"] == peer["name"]
    shown = _ok(member.get(f"{SG}/{group['id']}"))["security_group"]
    assert {r["id"] for r in shown["rules"]} == {rule["id"], by_group["security_group_rule"]["id"]}
    # Nova's checks: a duplicate, a bad protocol or port, a bad parent id.
    dup = {**tcp, "cidr": "10.0.0.0/8"}
    assert member.post(RULES, json={"security_group_rule": dup}).status_code == 400
    for bad in (
        {**tcp, "ip_protocol": "nope"},
        {**tcp, "from_port": "# $%"},
        {**tcp, "from_port": 30, "to_port": 20},
        {**tcp, "parent_group_id": "not-a-uuid"},
    ):
        assert member.post(RULES, json={"security_group_rule": bad}).status_code == 400, bad
    missing = {**tcp, "parent_group_id": str(uuid.uuid4())}
    assert member.post(RULES, json={"security_group_rule": missing}).status_code == 404
    # Update, delete rules and groups; the default group cannot go.
    upd = {"security_group": {"name": unique("n"), "description": "new"}}
    assert (
        _ok(member.put(f"{SG}/{group['id']}", json=upd))["security_group"]["description"] == "new"
    )
    _ok(member.delete(f"{RULES}/{rule['id']}"), 202)
    assert member.delete(f"{RULES}/{rule['id']}").status_code == 404
    default = next(g for g in _ok(member.get(SG))["security_groups"] if g["name"] == "default")
    assert member.delete(f"{SG}/{default['id']}").status_code == 400
    _ok(member.delete(f"{SG}/{group['id']}"), 202)
    _ok(member.delete(f"{SG}/{peer['id']}"), 202)
    assert member.get(f"{SG}/{group['id']}").status_code == 404
    # Gone from 2.36 on.
    assert member.get(SG, headers={"X-OpenStack-Nova-API-Version": "2.36"}).status_code == 404
