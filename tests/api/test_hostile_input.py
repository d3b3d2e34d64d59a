"""The bad input of #12 (findings 6-8), each answered with the upstream 4xx and its error body,
never a 5xx, and nothing stored that later reads choke on (persisted poison)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.compute import C
from tests.support.fixtures import unique
from tests.support.keystone import token_info

N = "/network/v2.0"
I = "/identity/v3"  # noqa: E741
BIG = "99999999999999999999"
LATEST = {"OpenStack-API-Version": "compute 2.37"}


@pytest.fixture(scope="module")
def api(cloud: Cloud) -> Iterator[httpx.Client]:
    client = cloud.http(cloud.token())
    yield client
    client.close()


@pytest.fixture(scope="module")
def world(cloud: Cloud, api: httpx.Client) -> dict[str, str]:
    image = api.post("/image/v2/images", json={"name": unique("i"), "disk_format": "raw",
                                               "container_format": "bare"}).json()  # fmt: skip
    resp = api.put(
        f"/image/v2/images/{image['id']}/file",
        content=b"\0" * 1024,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert resp.status_code == 204, resp.text
    net = api.post(f"{N}/networks", json={"network": {"name": unique("n")}}).json()["network"]
    sub = {"network_id": net["id"], "cidr": "10.95.0.0/24", "ip_version": 4}
    assert api.post(f"{N}/subnets", json={"subnet": sub}).status_code == 201
    body = {"server": {"name": "h", "imageRef": image["id"], "flavorRef": "0",
                       "networks": "none"}}  # fmt: skip
    server = api.post(f"{C}/servers", json=body, headers=LATEST).json()["server"]["id"]
    deadline = time.monotonic() + 30
    while api.get(f"{C}/servers/{server}").json()["server"]["status"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    project = token_info(cloud, str(api.headers["X-Auth-Token"]))["project"]["id"]
    return {"image": image["id"], "net": net["id"], "server": server, "project": project}


def status(resp: httpx.Response, *wanted: int) -> dict[str, Any]:
    assert resp.status_code in wanted, (resp.request.url, resp.status_code, resp.text[:300])
    body: dict[str, Any] = resp.json() if resp.content else {}
    return body


@pytest.mark.parametrize(
    "path",
    [f"{N}/networks", f"{N}/ports", f"{C}/os-server-groups", f"{C}/os-keypairs",
     f"{C}/os-hypervisors", f"{C}/os-hypervisors/detail", f"{C}/os-simple-tenant-usage"],
)  # fmt: skip
def test_a_limit_past_64_bits_is_every_row(api: httpx.Client, path: str) -> None:
    status(api.get(path, params={"limit": BIG}), 200)


@pytest.mark.parametrize("value", ["gte:garbage", "true", "%00", "☃", ""])
@pytest.mark.parametrize("key", ["created_at", "updated_at"])
def test_network_time_filters_that_are_no_time_are_400(
    api: httpx.Client, key: str, value: str
) -> None:
    for kind in ("networks", "subnets", "ports", "routers", "security-groups", "floatingips"):
        resp = api.get(f"{N}/{kind}", params={key: value})
        if value == "":  # a nullable-style empty filter: no rows, or all
            status(resp, 200, 400)
        else:
            assert status(resp, 400)["NeutronError"]["type"] == "InvalidInput"


@pytest.mark.parametrize(
    "path", [f"{C}/os-aggregates/{BIG}", f"{C}/os-hypervisors/{BIG}",
             f"{C}/os-hypervisors/{BIG}/uptime"],
)  # fmt: skip
def test_integer_ids_past_64_bits_are_404(api: httpx.Client, path: str) -> None:
    status(api.get(path), 404)
    if "aggregates" in path:
        status(api.delete(path), 404)


def test_a_service_id_past_64_bits_is_404(api: httpx.Client) -> None:
    status(api.delete(f"{C}/os-services/{BIG}"), 404)


def test_network_quotas_past_the_column_are_400_and_check_limit_is_understood(
    api: httpx.Client, world: dict[str, str]
) -> None:
    project = world["project"]
    for value in (2**63, 2**31, "x", True):
        resp = api.put(f"{N}/quotas/{project}", json={"quota": {"port": value}})
        status(resp, 400)
    # python-openstackclient's `quota set --ports 300` sends check_limit (finding 8).
    resp = api.put(f"{N}/quotas/{project}", json={"quota": {"port": 300, "check_limit": True}})
    assert status(resp, 200)["quota"]["port"] == 300
    resp = api.put(f"{N}/quotas/{project}", json={"quota": {"network": 0, "check_limit": True}})
    assert "already used" in status(resp, 400)["NeutronError"]["message"]
    assert api.delete(f"{N}/quotas/{project}").status_code == 204


@pytest.mark.parametrize(
    "fields",
    [{"networks": [{"uuid": 5}]}, {"networks": [{"uuid": [1]}]}, {"networks": [{"uuid": {}}]},
     {"networks": [{"port": 5}]}, {"networks": [{"uuid": "x", "fixed_ip": 5}]},
     {"security_groups": 5}, {"security_groups": True}, {"availability_zone": ["a"]},
     {"max_count": BIG}, {"min_count": 2**62}],
)  # fmt: skip
def test_server_create_with_wrong_types_is_400(
    api: httpx.Client, world: dict[str, str], fields: dict[str, Any]
) -> None:
    server = {"name": "bad", "imageRef": world["image"], "flavorRef": "0", "networks": "none"}
    resp = api.post(f"{C}/servers", json={"server": {**server, **fields}}, headers=LATEST)
    assert "badRequest" in status(resp, 400)


def test_server_actions_with_numbers_past_64_bits_are_400(
    api: httpx.Client, world: dict[str, str]
) -> None:
    action = f"{C}/servers/{world['server']}/action"
    for length in (2**64, BIG):
        status(api.post(action, json={"os-getConsoleOutput": {"length": length}}), 400)
    backup = {"createBackup": {"name": "b", "backup_type": "daily", "rotation": BIG}}
    status(api.post(action, json=backup), 400)


def test_server_queries_that_break_regular_expressions_or_integers_are_answered(
    api: httpx.Client, world: dict[str, str]
) -> None:
    status(api.get(f"{C}/servers", params={"ip": "["}), 200)
    status(api.get(f"{C}/servers", params={"ip6": "(?P<x"}, headers=LATEST), 200)
    actions = f"{C}/servers/{world['server']}/os-instance-actions"
    status(api.get(actions, params={"limit": "abc"}, headers={
        "OpenStack-API-Version": "compute 2.58"}), 400)  # fmt: skip


def test_a_keypair_that_is_no_key_is_400(api: httpx.Client) -> None:
    for key in ("not a key", "ssh-rsa AAAA", "ssh-foo AAAAB3NzaC1yc2E="):
        body = {"keypair": {"name": unique("k"), "public_key": key}}
        status(api.post(f"{C}/os-keypairs", json=body), 400)


def test_port_fixed_ips_naming_neither_subnet_nor_address_are_400(
    api: httpx.Client, world: dict[str, str]
) -> None:
    for fixed in ([{}], [{"subnet_id": None}], [{"ip_address": None}]):
        body = {"port": {"network_id": world["net"], "fixed_ips": fixed}}
        assert status(api.post(f"{N}/ports", json=body), 400)["NeutronError"]


def test_unicode_tags_are_stored_and_read_back(api: httpx.Client, world: dict[str, str]) -> None:
    project = api.post(f"{I}/projects", json={"project": {"name": unique("p")}}).json()
    pid = project["project"]["id"]
    resp = api.put(f"{I}/projects/{pid}/tags/☃")
    status(resp, 201)
    assert "%E2%98%83" in resp.headers["Location"]
    assert status(api.get(f"{I}/projects/{pid}"), 200)["project"]["tags"] == ["☃"]
    status(api.get(f"{I}/projects"), 200)
    tags = f"{C}/servers/{world['server']}/tags"
    tag_mv = {"OpenStack-API-Version": "compute 2.26"}
    status(api.put(f"{tags}/☃", headers=tag_mv), 201, 204)
    assert "☃" in status(api.get(tags, headers=tag_mv), 200)["tags"]
    status(api.delete(f"{I}/projects/{pid}"), 204)


def test_user_extras_are_bounded_and_never_poison_reads(api: httpx.Client) -> None:
    """Finding 6: a 300-deep email answered 500 but was stored, and every read of the user
    (and of the user list) answered 500 after it."""
    user = api.post(f"{I}/users", json={"user": {"name": unique("u")}}).json()["user"]
    nested: Any = "x"
    for _ in range(300):
        nested = {"a": nested}
    for extra in ({"email": nested}, {"email": "x" * 70000}, {"notes": ["x" * 1000] * 100}):
        status(api.patch(f"{I}/users/{user['id']}", json={"user": extra}), 400)
    status(api.patch(f"{I}/users/{user['id']}", json={"user": {"email": "a@b"}}), 200)
    assert status(api.get(f"{I}/users/{user['id']}"), 200)["user"]["email"] == "a@b"
    status(api.get(f"{I}/users"), 200)
    status(api.delete(f"{I}/users/{user['id']}"), 204)


def test_a_credential_blob_of_null_is_400(api: httpx.Client, world: dict[str, str]) -> None:
    me = api.get(f"{I}/users", params={"name": "admin"}).json()["users"][0]["id"]
    body = {"credential": {"blob": "x", "type": "cert", "user_id": me}}
    cred = status(api.post(f"{I}/credentials", json=body), 201)["credential"]
    status(api.patch(f"{I}/credentials/{cred['id']}", json={"credential": {"blob": None}}), 400)
    status(api.get(f"{I}/credentials/{cred['id']}"), 200)
    status(api.get(f"{I}/credentials"), 200)
    status(api.delete(f"{I}/credentials/{cred['id']}"), 204)


def test_a_thousand_deep_body_is_400(api: httpx.Client) -> None:
    deep = b'{"a":' * 1000 + b"1" + b"}" * 1000
    for path in ("/image/v2/images", f"{I}/projects", f"{N}/networks", f"{C}/flavors"):
        resp = api.post(path, content=deep, headers={"Content-Type": "application/json"})
        status(resp, 400)


def test_a_bulk_create_is_bounded(api: httpx.Client) -> None:
    body = {"networks": [{"name": "bulk"} for _ in range(1001)]}
    assert (
        "at most 1000"
        in status(api.post(f"{N}/networks", json=body), 400)["NeutronError"]["message"]
    )
    assert not api.get(f"{N}/networks", params={"name": "bulk"}).json()["networks"]


def test_object_expiry_times_past_any_integer_are_answered(
    api: httpx.Client, world: dict[str, str]
) -> None:
    """The fuzzer's find: X-Delete-At 1e999 (an infinity) was a 500; times past Swift's last
    (9999999999) are that one, as Swift normalizes them."""
    container = f"/object/v1/AUTH_{world['project']}/{unique('exp')}"
    assert api.put(container).status_code in (201, 202)
    for value in ("1e999", "nan", "-inf"):
        resp = api.put(f"{container}/o", content=b"x", headers={"X-Delete-At": value})
        assert resp.status_code == 400, (value, resp.text)
    resp = api.put(f"{container}/o", content=b"x", headers={"X-Delete-At": "9" * 20})
    assert resp.status_code == 201, resp.text
    assert api.head(f"{container}/o").headers["X-Delete-At"] == "9999999999"
    resp = api.post(f"{container}/o", headers={"X-Delete-After": "9" * 20})
    assert resp.status_code == 202, resp.text
    assert api.head(f"{container}/o").headers["X-Delete-At"] == "9999999999"


@pytest.mark.parametrize("listing", ["volumes", "volumes/detail", "snapshots", "snapshots/detail"])
def test_a_volume_list_offset_past_any_row_is_400(
    api: httpx.Client, world: dict[str, str], listing: str
) -> None:
    """The fuzzer's find: offset 99999999999999999999 reached the database (500)."""
    path = f"/volume/v3/{world['project']}/{listing}"
    resp = api.get(path, params={"offset": "9" * 20})
    assert resp.status_code == 400 and "offset" in resp.text, resp.text
    assert api.get(path, params={"offset": "²"}).status_code == 200  # not a number: ignored
