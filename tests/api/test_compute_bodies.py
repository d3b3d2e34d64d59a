"""Compute bodies declared in ``compute.schemas``: a bad body gets Nova's 400, word for word,
naming the first member at fault in Nova's order (the wrapper, unexpected members, then the
members as the schema lists them), per microversion, and the policy is asked first."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.compute import Compute
from tests.support.fixtures import http_client, new_project, unique

admin = http_client("onestack", Compute)
demo = http_client("onestack-demo", Compute)

FLAVOR = {"name": "f", "ram": 64, "vcpus": 1, "disk": 0}
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEtwJTdUN0cvUhSsqUZgJ0gyiVsUVB8gb6j6tLwnd2F8 me@host"
PUBLIC_KEY = {"public_key": KEY}


def bad(field: str, reason: str) -> str:
    return f"Invalid input for field '{field}': {reason}"


# (method, path, microversion, body, status, message)
CASES: list[tuple[str, str, str, Any, int, str]] = [
    # flavors: the wrapper, unexpected members per version, then members in Nova's order
    ("POST", "/flavors", "2.1", {"flavor": []}, 400, bad("flavor", "[] is not of type 'object'")),
    (
        "POST",
        "/flavors",
        "2.1",
        {"flavors": {}},
        400,
        bad("flavor", "'flavor' is a required property"),
    ),
    (
        "POST",
        "/flavors",
        "2.1",
        {"flavor": {**FLAVOR, "description": "d", "zz": 1}},
        400,
        bad("flavor", "Additional properties are not allowed ('description', 'zz' was unexpected)"),
    ),
    (
        "POST",
        "/flavors",
        "2.55",
        {"flavor": {**FLAVOR, "name": " f"}},
        400,
        bad("name", "' f' has leading or trailing whitespace"),
    ),
    (
        "POST",
        "/flavors",
        "2.1",
        {"flavor": {"ram": 0, "vcpus": 1, "disk": 0}},
        400,
        bad("name", "'name' is a required property"),
    ),
    (
        "POST",
        "/flavors",
        "2.1",
        {"flavor": {**FLAVOR, "ram": 0, "rxtx_factor": "x"}},
        400,
        bad("ram", "0 is less than the minimum of 1"),
    ),
    (
        "POST",
        "/flavors",
        "2.1",
        {"flavor": {**FLAVOR, "vcpus": True}},
        400,
        bad("vcpus", "True is not of type 'integer'"),
    ),
    (
        "POST",
        "/flavors",
        "2.1",
        {"flavor": {**FLAVOR, "id": "a b "}},
        400,
        bad("id", "'a b ' does not match '(?! )[a-zA-Z0-9. _-]+(?<! )'"),
    ),
    (
        "POST",
        "/flavors",
        "2.1",
        {"flavor": {**FLAVOR, "rxtx_factor": "x"}},
        400,
        bad("rxtx_factor", "'x' is not a valid rxtx_factor"),
    ),
    (
        "POST",
        "/flavors",
        "2.1",
        {"flavor": {**FLAVOR, "os-flavor-access:is_public": "maybe"}},
        400,
        bad("os-flavor-access:is_public", "'maybe' is not of type 'boolean', 'string'"),
    ),
    (
        "POST",
        "/flavors",
        "2.55",
        {"flavor": {**FLAVOR, "description": 5}},
        400,
        bad("description", "5 is not of type 'string'"),
    ),
    (
        "PUT",
        "/flavors/1",
        "2.55",
        {"flavor": {}},
        400,
        bad("flavor", "'description' is a required property"),
    ),
    (
        "PUT",
        "/flavors/1",
        "2.55",
        {"flavor": {"description": "d", "name": "n"}},
        400,
        bad("flavor", "Additional properties are not allowed ('name' was unexpected)"),
    ),
    ("PUT", "/flavors/1", "2.54", {"flavor": {}}, 404, "The resource could not be found."),
    # key pairs: type from 2.2, user_id from 2.10, the 2.92 name pattern and public key
    (
        "POST",
        "/os-keypairs",
        "2.1",
        {"keypair": {"name": "   ", "type": "x"}},
        400,
        bad("keypair", "Additional properties are not allowed ('type' was unexpected)"),
    ),
    (
        "POST",
        "/os-keypairs",
        "2.2",
        {"keypair": {"name": "k", "type": "rsa", "user_id": "u"}},
        400,
        bad("keypair", "Additional properties are not allowed ('user_id' was unexpected)"),
    ),
    (
        "POST",
        "/os-keypairs",
        "2.2",
        {"keypair": {"name": "k", "type": "rsa"}},
        400,
        bad("type", "'rsa' is not one of ['ssh', 'x509']"),
    ),
    (
        "POST",
        "/os-keypairs",
        "2.10",
        {"keypair": {"name": "k", "user_id": ""}},
        400,
        bad("user_id", "'' is too short"),
    ),
    (
        "POST",
        "/os-keypairs",
        "2.1",
        {"keypair": {"name": "a@b", **PUBLIC_KEY}},
        400,
        bad("name", "'a@b' does not match '[a-zA-Z0-9 _-]+'"),
    ),
    (
        "POST",
        "/os-keypairs",
        "2.92",
        {"keypair": {"name": "   ", "type": "rsa"}},
        400,
        "Keypair data is invalid: Keypair name must be string and between 1 and 255 "
        "characters long",
    ),
    (
        "POST",
        "/os-keypairs",
        "2.92",
        {"keypair": {"name": "k"}},
        400,
        bad("keypair", "'public_key' is a required property"),
    ),
    # aggregates
    (
        "POST",
        "/os-aggregates",
        "2.1",
        {"aggregate": {}},
        400,
        bad("name", "'name' is a required property"),
    ),
    (
        "POST",
        "/os-aggregates",
        "2.1",
        {"aggregate": {"name": "a", "availability_zone": "a:b"}},
        400,
        bad("availability_zone", "'a:b' must not contain ':'"),
    ),
    (
        "PUT",
        "/os-aggregates/999999",
        "2.1",
        {"aggregate": {}},
        400,
        bad("aggregate", "{} does not have enough properties"),
    ),
    (
        "PUT",
        "/os-aggregates/999999",
        "2.1",
        {"aggregate": {"name": " a"}},
        400,
        bad("name", "' a' has leading or trailing whitespace"),
    ),
    # envelopes that must be objects before their action or members are looked at
    *[
        (method, path, "2.1", body, 400, message)
        for method, path, body, message in [
            ("POST", "/flavors/1/action", [], bad("body", "[] is not of type 'object'")),
            (
                "POST",
                "/flavors/1/action",
                {"a": {}, "b": {}},
                "There is either no action or more than one action.",
            ),
            ("POST", "/os-aggregates/999999/action", 5, bad("body", "5 is not of type 'object'")),
            (
                "POST",
                "/os-aggregates/999999/action",
                {},
                "There is either no action or more than one action.",
            ),
            ("PUT", "/flavors/1/os-extra_specs/k", [], bad("body", "[] is not of type 'object'")),
            ("PUT", "/os-services/enable", "x", bad("body", "'x' is not of type 'object'")),
            ("PUT", "/os-hosts/h", [], bad("body", "[] is not of type 'object'")),
            (
                "PUT",
                "/os-hosts/h",
                {"zz": 1, "a": 2},
                bad("body", "Additional properties are not allowed ('a', 'zz' was unexpected)"),
            ),
            (
                "PUT",
                "/os-hosts/h",
                {"status": "x"},
                bad("status", "'x' is not one of ['enable', 'disable']"),
            ),
            (
                "PUT",
                "/os-hosts/h",
                {"maintenance_mode": 5},
                bad("maintenance_mode", "5 is not of type 'string'"),
            ),
            ("PUT", "/os-hosts/h", {}, "'status' or 'maintenance_mode' needed for host update"),
        ]
    ],
    # server groups: the name before unexpected members; policies before 2.64, policy after
    *[
        ("POST", "/os-server-groups", mv, {"server_group": body}, 400, message)
        for mv, body, message in [
            (
                "2.1",
                {"name": " g", "zz": 1},
                bad("name", "' g' has leading or trailing whitespace"),
            ),
            (
                "2.1",
                {"name": "g", "zz": 1},
                bad("server_group", "Additional properties are not allowed ('zz' was unexpected)"),
            ),
            ("2.1", {"name": "g"}, bad("server_group", "'policies' is a required property")),
            (
                "2.1",
                {"name": "g", "policies": ["soft-affinity"]},
                bad("policies/0", "'soft-affinity' is not one of ['affinity', 'anti-affinity']"),
            ),
            (
                "2.15",
                {"name": "g", "policies": ["affinity", "anti-affinity"]},
                bad("policies", "['affinity', 'anti-affinity'] must hold exactly one policy"),
            ),
            (
                "2.64",
                {"name": "g", "policies": ["affinity"]},
                bad(
                    "server_group",
                    "Additional properties are not allowed ('policies' was unexpected)",
                ),
            ),
            ("2.64", {"name": "g"}, bad("policy", "'policy' is a required property")),
            (
                "2.64",
                {"name": "g", "policy": "affinity", "rules": {"max_server_per_host": 1}},
                bad("rules", "Only anti-affinity policy supports rules."),
            ),
            (
                "2.64",
                {"name": "g", "policy": "anti-affinity", "rules": {"x": 1}},
                bad("rules", "Additional properties are not allowed ('x' was unexpected)"),
            ),
            (
                "2.64",
                {"name": "g", "policy": "anti-affinity", "rules": {"max_server_per_host": 0}},
                bad("max_server_per_host", "0 is less than the minimum of 1"),
            ),
            (
                "2.64",
                {"name": "g", "policy": "anti-affinity", "rules": None},
                bad("rules", "None is not of type 'object'"),
            ),
        ]
    ],
    # actions: the action's name is the key its body is refused under
    *[
        ("POST", path, "2.1", body, 400, message)
        for path, body, message in [
            (
                "/flavors/1/action",
                {"addTenantAccess": []},
                bad("addTenantAccess", "[] is not of type 'object'"),
            ),
            (
                "/flavors/1/action",
                {"addTenantAccess": {"tenant": "", "x": 1}},
                bad(
                    "addTenantAccess", "Additional properties are not allowed ('x' was unexpected)"
                ),
            ),
            (
                "/flavors/1/action",
                {"removeTenantAccess": {}},
                bad("tenant", "'tenant' is a required property"),
            ),
            (
                "/flavors/1/action",
                {"removeTenantAccess": {"tenant": ""}},
                bad("tenant", "'' is too short"),
            ),
            (
                "/os-aggregates/999999/action",
                {"add_host": {"host": "h", "x": 1}},
                bad("add_host", "Additional properties are not allowed ('x' was unexpected)"),
            ),
            (
                "/os-aggregates/999999/action",
                {"remove_host": {}},
                bad("host", "'host' is a required property"),
            ),
            (
                "/os-aggregates/999999/action",
                {"set_metadata": {}},
                bad("metadata", "None is not of type 'object'"),
            ),
            (
                "/os-aggregates/999999/action",
                {"set_metadata": {"metadata": {"": "v"}}},
                bad("metadata", "'' is not a valid key"),
            ),
            (
                "/os-aggregates/999999/action",
                {"set_metadata": {"metadata": {"k": 5}}},
                bad("metadata/k", "5 is not a valid value"),
            ),
            (
                "/os-aggregates/999999/action",
                {"set_metadata": {"metadata": {"availability_zone": "a:b"}}},
                bad("availability_zone", "'a:b' must not contain ':'"),
            ),
        ]
    ],
]


@pytest.mark.parametrize(("method", "path", "mv", "body", "status", "message"), CASES)
def test_a_bad_body_gets_novas_400(
    admin: Compute, method: str, path: str, mv: str, body: Any, status: int, message: str
) -> None:
    resp = admin(method, path, mv, json=body)
    assert resp.status_code == status, resp.text
    (error,) = resp.json().values()
    assert error["message"] == message


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/flavors", {"flavor": []}),
        ("PUT", "/flavors/1", {"flavor": {}}),
        ("POST", "/os-aggregates", {"aggregate": {}}),
        ("PUT", "/os-aggregates/999999", {"aggregate": {}}),
        ("POST", "/os-aggregates/999999/action", {"add_host": {}}),
        ("POST", "/os-aggregates/999999/action", {"set_metadata": {}}),
    ],
)
def test_the_policy_is_asked_before_the_body(
    demo: Compute, method: str, path: str, body: Any
) -> None:
    assert demo(method, path, "2.55", json=body).status_code == 403


# -- a server's volume attachments and interfaces ------------------------------------------

U = "5bd3c3a1-5b0c-4f3e-9a55-2b7d8d4b6f01"  # fixed: xdist workers must collect the same ids


@pytest.fixture(scope="module")
def server(admin: Compute) -> Iterator[str]:
    """A server without networks on the fake driver (the bodies are refused before any work)."""
    image = {"name": unique("bodies"), "disk_format": "raw", "container_format": "bare"}
    image_id = admin.client.post("/image/v2/images", json=image).json()["id"]
    put = admin.client.put(
        f"/image/v2/images/{image_id}/file",
        content=b"\0" * 4096,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert put.status_code == 204, put.text
    body = {"name": unique("bodies"), "imageRef": image_id, "flavorRef": "1", "networks": "none"}
    resp = admin("POST", "/servers", "2.37", json={"server": body})
    assert resp.status_code == 202, resp.text
    server_id = str(resp.json()["server"]["id"])
    deadline = time.monotonic() + 30
    while admin("GET", f"/servers/{server_id}").json()["server"]["status"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    yield server_id
    admin("DELETE", f"/servers/{server_id}")
    admin.client.delete(f"/image/v2/images/{image_id}")


DEVICE = "'(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$'"
ATTACHMENT_CASES: list[tuple[str, str, Any, int, str]] = [
    (
        "os-volume_attachments",
        "2.1",
        {"volumeAttachment": "x"},
        400,
        bad("volumeAttachment", "'x' is not of type 'object'"),
    ),
    (
        "os-volume_attachments",
        "2.1",
        {"volumeAttachment": {"volumeId": U, "zz": 1, "tag": "t"}},
        400,
        bad("volumeAttachment", "Additional properties are not allowed ('tag' was unexpected)"),
    ),
    (
        "os-volume_attachments",
        "2.49",
        {"volumeAttachment": {"device": "/dev/vdb"}},
        400,
        bad("volumeId", "'volumeId' is a required property"),
    ),
    (
        "os-volume_attachments",
        "2.49",
        {"volumeAttachment": {"volumeId": "nope", "device": "x"}},
        400,
        bad("volumeId", "'nope' is not a 'uuid'"),
    ),
    (
        "os-volume_attachments",
        "2.49",
        {"volumeAttachment": {"volumeId": U, "device": "vdb"}},
        400,
        bad("device", f"'vdb' does not match {DEVICE}"),
    ),
    (
        "os-volume_attachments",
        "2.49",
        {"volumeAttachment": {"volumeId": U, "tag": "a/b"}},
        400,
        bad("tag", "'a/b' is not a valid tag"),
    ),
    (
        "os-volume_attachments",
        "2.49",
        {"volumeAttachment": {"volumeId": U, "delete_on_termination": True}},
        400,
        bad(
            "volumeAttachment",
            "Additional properties are not allowed ('delete_on_termination' was unexpected)",
        ),
    ),
    (
        "os-volume_attachments",
        "2.79",
        {"volumeAttachment": {"volumeId": U, "delete_on_termination": "yes"}},
        400,
        bad("delete_on_termination", "'yes' is not of type 'boolean'"),
    ),
    (
        "os-interface",
        "2.1",
        {"interfaceAttachment": {"zz": 1, "tag": "t"}},
        400,
        bad("interfaceAttachment", "Additional properties are not allowed ('tag' was unexpected)"),
    ),
    (
        "os-interface",
        "2.49",
        {"interfaceAttachment": {"port_id": "nope", "tag": "a/b"}},
        400,
        bad("port_id", "'nope' is not a 'uuid'"),
    ),
    (
        "os-interface",
        "2.1",
        {"interfaceAttachment": {"net_id": 5}},
        400,
        bad("net_id", "5 is not a 'uuid'"),
    ),
    (
        "os-interface",
        "2.1",
        {"interfaceAttachment": {"fixed_ips": "x"}},
        400,
        bad("fixed_ips", "must be an array of at most one {'ip_address': ...}"),
    ),
    (
        "os-interface",
        "2.1",
        {"interfaceAttachment": {"fixed_ips": [{"ip": 1}]}},
        400,
        bad("fixed_ips", "{'ip': 1} is not an {'ip_address': ...} object"),
    ),
    (
        "os-interface",
        "2.1",
        {"interfaceAttachment": {"net_id": U, "fixed_ips": [{"ip_address": "x"}]}},
        400,
        bad("ip_address", "'x' is not an IP address"),
    ),
    (
        "os-interface",
        "2.49",
        {"interfaceAttachment": {"net_id": U, "tag": ""}},
        400,
        bad("tag", "'' is not a valid tag"),
    ),
    (
        "os-interface",
        "2.1",
        {"interfaceAttachment": {"net_id": U, "port_id": U}},
        400,
        "Must not input both network_id and port_id",
    ),
    (
        "os-interface",
        "2.1",
        {"interfaceAttachment": {"fixed_ips": [{"ip_address": "10.0.0.1"}]}},
        400,
        "Must input network_id when request IP address",
    ),
    (
        "remote-consoles",
        "2.6",
        {"remote_console": 5},
        400,
        bad("remote_console", "5 is not of type 'object'"),
    ),
    (
        "remote-consoles",
        "2.6",
        {"remote_console": {"protocol": "vnc", "type": "novnc", "z": 1, "a": 2}},
        400,
        bad("remote_console", "Additional properties are not allowed ('a' was unexpected)"),
    ),
    (
        "remote-consoles",
        "2.6",
        {"remote_console": {"protocol": "mks", "type": "webmks"}},
        400,
        bad("protocol", "'mks' is not one of ['vnc', 'spice', 'rdp', 'serial']"),
    ),
    (
        "remote-consoles",
        "2.6",
        {"remote_console": {"protocol": "vnc", "type": "webmks"}},
        400,
        bad(
            "type",
            "'webmks' is not one of ['novnc', 'xvpvnc', 'serial', 'spice-html5', 'rdp-html5']",
        ),
    ),
    (
        "remote-consoles",
        "2.8",
        {"remote_console": {"type": "novnc"}},
        400,
        bad("protocol", "None is not one of ['vnc', 'spice', 'rdp', 'serial', 'mks']"),
    ),
    (
        "remote-consoles",
        "2.8",
        {"remote_console": {"protocol": "spice", "type": "spice-html5"}},
        400,
        "Unavailable console type spice-html5.",
    ),
    (
        "remote-consoles",
        "2.8",
        {"remote_console": {"protocol": "serial", "type": "novnc"}},
        400,
        "Invalid console type novnc",
    ),
]


@pytest.mark.parametrize(("below", "mv", "body", "status", "message"), ATTACHMENT_CASES)
def test_a_bad_attachment_gets_novas_400(
    admin: Compute, server: str, below: str, mv: str, body: Any, status: int, message: str
) -> None:
    resp = admin("POST", f"/servers/{server}/{below}", mv, json=body)
    assert resp.status_code == status, resp.text
    (error,) = resp.json().values()
    assert error["message"] == message


def test_an_aggregate_action_that_is_no_object_is_refused_before_the_policy(
    demo: Compute,
) -> None:
    resp = demo("POST", "/os-aggregates/999999/action", json={"add_host": []})
    assert resp.status_code == 400
    assert resp.json()["badRequest"]["message"] == bad("add_host", "[] is not of type 'object'")


# -- quotas: the resources each microversion shows ------------------------------------------


project = new_project("bodies")


QUOTA_CASES: list[tuple[str, str, Any, str]] = [
    (
        "os-quota-sets/{project}",
        "2.1",
        {"quota_set": {"cores": "x"}},
        bad("cores", "'x' is not of type 'integer', 'string'"),
    ),
    (
        "os-quota-sets/{project}",
        "2.1",
        {"quota_set": {"cores": -2}},
        bad("cores", "-2 is less than the minimum of -1"),
    ),
    (
        "os-quota-sets/{project}",
        "2.1",
        {"quota_set": {"ram": 2**31}},
        bad("ram", "2147483648 is greater than the maximum of 2147483647"),
    ),
    (
        "os-quota-sets/{project}",
        "2.57",
        {"quota_set": {"injected_files": 1}},
        bad("quota_set", "Additional properties are not allowed ('injected_files' was unexpected)"),
    ),
    (
        "os-quota-sets/{project}",
        "2.36",
        {"quota_set": {"zz": 1, "floating_ips": 1}},
        bad(
            "quota_set",
            "Additional properties are not allowed ('floating_ips', 'zz' was unexpected)",
        ),
    ),
    (
        "os-quota-sets/{project}",
        "2.1",
        {"quota_set": {"force": "maybe", "cores": "x"}},
        bad("cores", "'x' is not of type 'integer', 'string'"),
    ),
    (
        "os-quota-sets/{project}",
        "2.1",
        {"quota_set": {"force": "maybe"}},
        bad("force", "'maybe' is not of type 'boolean', 'string'"),
    ),
    (
        "os-quota-sets/{project}",
        "2.1",
        {"quota_set": []},
        bad("quota_set", "[] is not of type 'object'"),
    ),
    (
        "os-quota-class-sets/default",
        "2.1",
        {"quota_class_set": {"force": True}},
        bad("quota_class_set", "Additional properties are not allowed ('force' was unexpected)"),
    ),
    (
        "os-quota-class-sets/default",
        "2.1",
        {"quota_class_set": {"server_groups": 1}},
        bad(
            "quota_class_set",
            "Additional properties are not allowed ('server_groups' was unexpected)",
        ),
    ),
    (
        "os-quota-class-sets/default",
        "2.50",
        {"quota_class_set": {"server_groups": "x"}},
        bad("server_groups", "'x' is not of type 'integer', 'string'"),
    ),
]


@pytest.mark.parametrize(("path", "mv", "body", "message"), QUOTA_CASES)
def test_a_bad_quota_set_gets_novas_400(
    admin: Compute, project: str, path: str, mv: str, body: Any, message: str
) -> None:
    resp = admin("PUT", "/" + path.format(project=project), mv, json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["badRequest"]["message"] == message


def test_a_quota_set_sets_what_it_names(admin: Compute, project: str) -> None:
    before = admin("GET", f"/os-quota-sets/{project}", "2.57").json()["quota_set"]
    body = {"quota_set": {"cores": "7", "force": "true"}}
    after = admin("PUT", f"/os-quota-sets/{project}", "2.57", json=body)
    assert after.status_code == 200, after.text
    assert after.json()["quota_set"] == {
        **{k: v for k, v in before.items() if k != "id"},
        "cores": 7,
    }


# -- server actions: each action's body, refused with the words it has always had -----------

REBOOT = "is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']"
TOO_BIG = "9223372036854775808"
UNEXPECTED = "Additional properties are not allowed"
ACTION_CASES: list[tuple[str, Any, int, str]] = [
    ("2.1", {"reboot": {}}, 400, bad("reboot.type", f"None {REBOOT}")),
    ("2.1", {"reboot": []}, 400, bad("reboot.type", f"None {REBOOT}")),
    ("2.1", {"reboot": {"type": "x"}}, 400, bad("reboot.type", f"'x' {REBOOT}")),
    ("2.1", {"lock": {"locked_reason": "r"}}, 400, bad("lock", UNEXPECTED)),
    (
        "2.73",
        {"lock": {"locked_reason": 5}},
        400,
        bad("locked_reason", "5 is not of type 'string'"),
    ),
    (
        "2.73",
        {"lock": {"locked_reason": "r" * 256}},
        400,
        bad("locked_reason", f"'{'r' * 256}' is too long"),
    ),
    ("2.1", {"resize": {}}, 400, bad("resize", "'flavorRef' is a required property")),
    ("2.1", {"resize": []}, 400, bad("resize", "'flavorRef' is a required property")),
    (
        "2.1",
        {"resize": {"flavorRef": "1", "OS-DCF:diskConfig": "x"}},
        400,
        bad("OS-DCF:diskConfig", "'x' is not one of ['AUTO', 'MANUAL']"),
    ),
    ("2.1", {"rebuild": {}}, 400, bad("rebuild", "'imageRef' is a required property")),
    (
        "2.1",
        {"rebuild": {"imageRef": ""}},
        400,
        bad("rebuild", "'imageRef' is a required property"),
    ),
    (
        "2.1",
        {"rebuild": {"imageRef": "i", "name": 5}},
        400,
        bad("name", "5 is not of type 'string'"),
    ),
    ("2.1", {"rebuild": {"imageRef": "i", "name": " "}}, 400, bad("name", "' ' is too short")),
    (
        "2.57",
        {"rebuild": {"imageRef": "i", "user_data": 5}},
        400,
        bad("user_data", "5 is not of type 'string'"),
    ),
    (
        "2.57",
        {"rebuild": {"imageRef": "i", "user_data": "@"}},
        400,
        bad("user_data", "the value is not valid base64"),
    ),
    (
        "2.90",
        {"rebuild": {"imageRef": "i", "hostname": "h" * 64}},
        400,
        bad("hostname", f"'{'h' * 64}' is too long"),
    ),
    (
        "2.1",
        {"rebuild": {"imageRef": "i", "accessIPv4": "x"}},
        400,
        bad("accessIPv4", "'x' is not a 'ipv4'"),
    ),
    (
        "2.1",
        {"rebuild": {"imageRef": "i", "accessIPv6": "x"}},
        400,
        bad("accessIPv6", "'x' is not a 'ipv6'"),
    ),
    (
        "2.1",
        {"rebuild": {"imageRef": "i", "name": 5, "accessIPv4": "x"}},
        400,
        bad("name", "5 is not of type 'string'"),
    ),
    (
        "2.1",
        {"rebuild": {"imageRef": "i", "OS-DCF:diskConfig": "x", "metadata": 5}},
        400,
        bad("OS-DCF:diskConfig", "'x' is not one of ['AUTO', 'MANUAL']"),
    ),
    (
        "2.1",
        {"rebuild": {"imageRef": "i", "personality": "x"}},
        400,
        bad("personality", "'x' is not of type 'array'"),
    ),
    (
        "2.57",
        {"rebuild": {"imageRef": "i", "personality": []}},
        400,
        bad("server", f"{UNEXPECTED} ('personality' was unexpected)"),
    ),
    (
        "2.1",
        {"rebuild": {"imageRef": "i", "metadata": 5}},
        400,
        bad("metadata", "5 is not of type 'object'"),
    ),
    ("2.1", {"createImage": {}}, 400, bad("createImage", "'name' is a required property")),
    ("2.1", {"createImage": {"name": 5}}, 400, bad("name", "5 is not of type 'string'")),
    (
        "2.1",
        {"createImage": {"name": "n", "metadata": 5}},
        400,
        bad("metadata", "5 is not of type 'object'"),
    ),
    ("2.1", {"createBackup": []}, 400, bad("createBackup", "[] is not of type 'object'")),
    (
        "2.1",
        {"createBackup": {"name": "n"}},
        400,
        bad("createBackup", "'backup_type' is a required property"),
    ),
    (
        "2.1",
        {"createBackup": {"name": "n", "backup_type": "d", "rotation": 1, "x": 1, "a": 2}},
        400,
        bad("createBackup", f"{UNEXPECTED} ('a' was unexpected)"),
    ),
    (
        "2.1",
        {"createBackup": {"name": 5, "backup_type": 5, "rotation": 1}},
        400,
        bad("name", "5 is not of type 'string'"),
    ),
    (
        "2.1",
        {"createBackup": {"name": "n", "backup_type": 5, "rotation": 1}},
        400,
        bad("backup_type", "5 is not of type 'string'"),
    ),
    (
        "2.1",
        {"createBackup": {"name": "n", "backup_type": "d", "rotation": -1}},
        400,
        bad("rotation", "-1 is not a non-negative integer"),
    ),
    (
        "2.1",
        {"createBackup": {"name": "n", "backup_type": "d", "rotation": "x"}},
        400,
        bad("rotation", "'x' is not a non-negative integer"),
    ),
    (
        "2.1",
        {"createBackup": {"name": "n", "backup_type": "d", "rotation": TOO_BIG}},
        400,
        bad("rotation", f"{TOO_BIG} is greater than the maximum of 9223372036854775807"),
    ),
    (
        "2.1",
        {"createBackup": {"name": "n", "backup_type": "d", "rotation": 1, "metadata": []}},
        400,
        bad("metadata", "[] is not of type 'object'"),
    ),
    (
        "2.1",
        {"os-getConsoleOutput": {"length": "x"}},
        400,
        bad("length", "'x' is not of type 'integer'"),
    ),
    (
        "2.1",
        {"os-getConsoleOutput": {"length": -2}},
        400,
        bad("length", "-2 is less than the minimum of -1"),
    ),
    (
        "2.1",
        {"os-getConsoleOutput": {"length": TOO_BIG}},
        400,
        bad("length", f"{TOO_BIG} is greater than the maximum of 9223372036854775807"),
    ),
    ("2.1", {"addSecurityGroup": {}}, 400, bad("name", "'name' is a required property")),
    (
        "2.1",
        {"removeSecurityGroup": {"name": ""}},
        400,
        bad("name", "'name' is a required property"),
    ),
    ("2.1", {"addSecurityGroup": []}, 400, bad("name", "'name' is a required property")),
    (
        "2.1",
        {"os-resetState": {"state": "x"}},
        400,
        bad("state", "'x' is not one of ['active', 'error']"),
    ),
    ("2.1", {"os-resetState": None}, 400, bad("state", "None is not one of ['active', 'error']")),
    (
        "2.1",
        {"changePassword": {}},
        400,
        bad("changePassword", "'adminPass' is a required property"),
    ),
    (
        "2.1",
        {"changePassword": {"adminPass": 5}},
        400,
        bad("adminPass", "5 is not of type 'string'"),
    ),
    ("2.1", {"rescue": []}, 400, bad("rescue", "[] is not of type 'object', 'null'")),
    ("2.1", {"rescue": {"z": 1, "b": 2}}, 400, bad("rescue", f"{UNEXPECTED} ('b' was unexpected)")),
    ("2.1", {"rescue": {"adminPass": 5}}, 400, bad("adminPass", "5 is not of type 'string'")),
    (
        "2.1",
        {"rescue": {"rescue_image_ref": 5}},
        400,
        bad("rescue_image_ref", "5 is not of type 'string'"),
    ),
    ("2.16", {"trigger_crash_dump": None}, 404, "The resource could not be found."),
    (
        "2.17",
        {"trigger_crash_dump": {}},
        400,
        bad("trigger_crash_dump", "{} is not of type 'null'"),
    ),
    ("2.1", {"unshelve": []}, 400, bad("unshelve", "[] is not an object")),
    (
        "2.1",
        {"addFixedIp": {}},
        400,
        "Invalid input for field/attribute addFixedIp. Value: {}. "
        "'networkId' is a required property",
    ),
    (
        "2.1",
        {"removeFixedIp": {"address": ""}},
        400,
        "Invalid input for field/attribute removeFixedIp. Value: {'address': ''}. "
        "'address' is a required property",
    ),
    ("2.44", {"addFixedIp": {}}, 404, "The resource could not be found."),
    (
        "2.1",
        {"os-getVNCConsole": {"type": "spice-html5"}},
        400,
        bad("os-getVNCConsole.type", "'spice-html5' is not one of ['novnc', 'xvpvnc']"),
    ),
    (
        "2.1",
        {"os-getSerialConsole": []},
        400,
        bad("os-getSerialConsole.type", "None is not one of ['serial']"),
    ),
    (
        "2.1",
        {"reboot": {}, "lock": {}},
        400,
        "There is either no action or more than one action in the body.",
    ),
    ("2.1", {"nope": {}}, 400, "There is no such action: nope"),
]


@pytest.mark.parametrize(("mv", "body", "status", "message"), ACTION_CASES)
def test_a_bad_action_body_gets_its_400(
    admin: Compute, server: str, mv: str, body: Any, status: int, message: str
) -> None:
    resp = admin("POST", f"/servers/{server}/action", mv, json=body)
    assert resp.status_code == status, resp.text
    (error,) = resp.json().values()
    assert error["message"] == message


@pytest.mark.parametrize(
    ("body", "pool"), [([], None), ({"pool": 5}, 5), ({"pool": "no-such-pool"}, "no-such-pool")]
)
def test_a_floating_ip_pool_is_the_bodys_pool_member(admin: Compute, body: Any, pool: Any) -> None:
    """Any body (or none) is taken: its ``pool`` names the pool, else the first external
    network is."""
    resp = admin("POST", "/os-floating-ips", "2.1", json=body)
    if pool is None:
        assert resp.status_code == 200, resp.text
        admin("DELETE", f"/os-floating-ips/{resp.json()['floating_ip']['id']}")
        return
    assert resp.status_code == 404, resp.text
    assert resp.json()["itemNotFound"]["message"] == f"Floating IP pool not found: {pool}"


# -- server update: the server first (404 before any body), then its body ------------------

S_UNEXPECTED = "Additional properties are not allowed ({!r} was unexpected)"
UPDATE_CASES: list[tuple[str, Any, str]] = [
    ("2.1", [], bad("server", "'server' is a required property")),
    ("2.1", {"servers": {}}, bad("server", "'server' is a required property")),
    ("2.1", {"server": []}, bad("server", "'server' is a required property")),
    ("2.1", {"server": {"description": "d", "zz": 1}}, bad("server", S_UNEXPECTED.format("zz"))),
    (
        "2.1",
        {"server": {"name": 5, "description": "d"}},
        bad("server", S_UNEXPECTED.format("description")),
    ),
    (
        "2.19",
        {"server": {"name": 5, "hostname": "h"}},
        bad("server", S_UNEXPECTED.format("hostname")),
    ),
    ("2.19", {"server": {"name": 5, "description": 5}}, bad("name", "5 is not of type 'string'")),
    ("2.1", {"server": {"name": " "}}, bad("name", "' ' is too short")),
    (
        "2.19",
        {"server": {"name": "n", "description": 5}},
        bad("description", "5 is not of type 'string'"),
    ),
    (
        "2.19",
        {"server": {"description": "d" * 256}},
        bad("description", f"'{'d' * 256}' is too long"),
    ),
    ("2.90", {"server": {"hostname": "h" * 64}}, bad("hostname", f"'{'h' * 64}' is too long")),
    ("2.94", {"server": {"hostname": "h" * 256}}, bad("hostname", f"'{'h' * 256}' is too long")),
    ("2.1", {"server": {"accessIPv4": "x", "name": 5}}, bad("name", "5 is not of type 'string'")),
    ("2.1", {"server": {"accessIPv4": "x"}}, bad("accessIPv4", "'x' is not a 'ipv4'")),
    (
        "2.1",
        {"server": {"accessIPv6": "::1", "accessIPv4": 5}},
        bad("accessIPv4", "5 is not a 'ipv4'"),
    ),
    (
        "2.1",
        {"server": {"OS-DCF:diskConfig": "x", "accessIPv6": "x"}},
        bad("accessIPv6", "'x' is not a 'ipv6'"),
    ),
    (
        "2.1",
        {"server": {"OS-DCF:diskConfig": "x"}},
        bad("OS-DCF:diskConfig", "'x' is not one of ['AUTO', 'MANUAL']"),
    ),
]


@pytest.mark.parametrize(("mv", "body", "message"), UPDATE_CASES)
def test_a_bad_server_update_gets_its_400(
    admin: Compute, server: str, mv: str, body: Any, message: str
) -> None:
    resp = admin("PUT", f"/servers/{server}", mv, json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["badRequest"]["message"] == message


def test_a_server_update_looks_for_the_server_before_the_body(
    admin: Compute, demo: Compute, server: str
) -> None:
    assert admin("PUT", f"/servers/{U}", "2.1", json=[]).status_code == 404
    assert demo("PUT", f"/servers/{server}", "2.1", json=[]).status_code == 404


# -- server create: the whole document, member by member in the order they are checked -----

IMG = {"name": "n", "flavorRef": "1", "imageRef": "i", "networks": "none"}
CREATE_CASES: list[tuple[str, Any, str]] = [
    ("2.1", [], bad("server", "'server' is a required property")),
    ("2.1", {"server": 5}, bad("server", "'server' is a required property")),
    ("2.1", {"server": {"zz": 1, "name": 5, "aa": 1}}, bad("server", S_UNEXPECTED.format("aa"))),
    ("2.1", {"server": {"flavorRef": "1"}}, bad("name", "'name' is a required property")),
    ("2.1", {"server": {"name": 5}}, bad("name", "5 is not of type 'string'")),
    (
        "2.1",
        {"server": {"name": "n", "min_count": 0}},
        bad("flavorRef", "'flavorRef' is a required property"),
    ),
    (
        "2.1",
        {"server": {**IMG, "min_count": 0}},
        bad("min_count", "0 is less than the minimum of 1"),
    ),
    (
        "2.1",
        {"server": {**IMG, "max_count": "x"}},
        bad("max_count", "'x' is not of type 'integer', 'string'"),
    ),
    (
        "2.1",
        {"server": {**IMG, "max_count": True}},
        bad("max_count", "True is not of type 'integer', 'string'"),
    ),
    ("2.1", {"server": {**IMG, "imageRef": 5}}, bad("imageRef", "5 is not of type 'string'")),
    ("2.1", {"server": {**IMG, "min_count": 3, "max_count": 2}}, "min_count must be <= max_count"),
    (
        "2.1",
        {"server": {**IMG, "availability_zone": 5}},
        bad("availability_zone", "5 is not of type 'string'"),
    ),
    (
        "2.37",
        {"server": {**IMG, "networks": None}},
        bad("networks", "'networks' is a required property"),
    ),
    (
        "2.37",
        {"server": {**IMG, "networks": "x"}},
        bad("networks", "'x' is not one of ['none', 'auto']"),
    ),
    ("2.1", {"server": {**IMG, "networks": {}}}, bad("networks", "{} is not of type 'array'")),
    ("2.1", {"server": {**IMG, "networks": [5]}}, bad("networks", "5 is not of type 'object'")),
    (
        "2.1",
        {"server": {**IMG, "networks": [{"uuid": 5}]}},
        bad("networks.uuid", "5 is not of type 'string'"),
    ),
    (
        "2.1",
        {"server": {**IMG, "networks": [{"fixed_ip": "x"}]}},
        bad("networks.fixed_ip", "'x' is not a 'ip'"),
    ),
    (
        "2.1",
        {"server": {**IMG, "security_groups": "x"}},
        bad("security_groups", "'x' is not of type 'array'"),
    ),
    (
        "2.1",
        {"server": {**IMG, "security_groups": [{}]}},
        bad("security_groups", "{} is not a {'name': ...} object"),
    ),
    ("2.1", {"server": {**IMG, "user_data": 5}}, bad("user_data", "5 is not of type 'string'")),
    (
        "2.1",
        {"server": {**IMG, "user_data": "@"}},
        bad("user_data", "the value is not valid base64"),
    ),
    (
        "2.1",
        {"server": {**IMG, "config_drive": "maybe"}},
        bad("config_drive", "'maybe' is not of type 'boolean', 'string'"),
    ),
    ("2.1", {"server": {**IMG, "metadata": 5}}, bad("metadata", "5 is not of type 'object'")),
    (
        "2.1",
        {"server": {**IMG, "metadata": {"k": 5}}},
        bad("metadata.k", "5 is not a string of at most 255 characters"),
    ),
    (
        "2.1",
        {"server": {**IMG, "accessIPv4": "x", "metadata": 5}},
        bad("metadata", "5 is not of type 'object'"),
    ),
    ("2.1", {"server": {**IMG, "accessIPv4": "x"}}, bad("accessIPv4", "'x' is not a 'ipv4'")),
    ("2.1", {"server": {**IMG, "accessIPv6": "x"}}, bad("accessIPv6", "'x' is not a 'ipv6'")),
    (
        "2.1",
        {"server": {**IMG, "OS-DCF:diskConfig": "x"}},
        bad("OS-DCF:diskConfig", "'x' is not one of ['AUTO', 'MANUAL']"),
    ),
    (
        "2.1",
        {"server": {**IMG, "personality": "x"}},
        bad("personality", "'x' is not of type 'array'"),
    ),
    (
        "2.57",
        {"server": {**IMG, "personality": []}},
        bad("server", S_UNEXPECTED.format("personality")),
    ),
    ("2.1", {"server": {**IMG, "tags": ["t"]}}, bad("server", S_UNEXPECTED.format("tags"))),
    (
        "2.52",
        {"server": {**IMG, "tags": ["a/b"]}},
        bad("tags", "each tag is a string of 1-60 characters without '/' or ','"),
    ),
    (
        "2.1",
        {"server": {**IMG, "description": "d"}},
        bad("server", S_UNEXPECTED.format("description")),
    ),
    (
        "2.19",
        {"server": {**IMG, "description": 5}},
        bad("description", "5 is not of type 'string'"),
    ),
    ("2.1", {"server": {**IMG, "hostname": "h"}}, bad("server", S_UNEXPECTED.format("hostname"))),
    (
        "2.90",
        {"server": {**IMG, "hostname": "h" * 64}},
        bad("hostname", f"'{'h' * 64}' is too long"),
    ),
    (
        "2.94",
        {"server": {**IMG, "hostname": "h" * 256}},
        bad("hostname", f"'{'h' * 256}' is too long"),
    ),
    (
        "2.1",
        {"server": {**IMG, "block_device_mapping_v2": "x"}},
        bad("block_device_mapping_v2", "'x' is not of type 'array'"),
    ),
    (
        "2.1",
        {"server": {**IMG, "block_device_mapping_v2": [{"boot_index": "x"}]}},
        bad("boot_index", "'x' does not match '^-?[0-9]+$'"),
    ),
    (
        "2.1",
        {"server": {**IMG, "block_device_mapping": [{"device_name": 5}]}},
        bad("device_name", "5 is not of type 'string'"),
    ),
    (
        "2.1",
        {"server": {**IMG, "block_device_mapping_v2": [{"source_type": "x"}]}},
        bad(
            "block_device_mapping_v2.source_type",
            "'x' is not one of ['volume', 'image', 'snapshot', 'blank']",
        ),
    ),
]


@pytest.mark.parametrize(("mv", "body", "message"), CREATE_CASES)
def test_a_bad_server_create_gets_its_400(admin: Compute, mv: str, body: Any, message: str) -> None:
    resp = admin("POST", "/servers", mv, json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["badRequest"]["message"] == message


# -- a server's metadata and tags: the body's member, then each item ----------------------

M_UNEXPECTED = "Additional properties are not allowed ({!r} was unexpected)"
# (method, path under the server, microversion, body, message)
METADATA_CASES: list[tuple[str, str, str, Any, str]] = [
    ("POST", "metadata", "2.1", [], bad("metadata", "'metadata' is a required property")),
    ("PUT", "metadata", "2.1", {"meta": {}}, bad("metadata", "'metadata' is a required property")),
    ("POST", "metadata", "2.1", {"metadata": []}, bad("metadata", "[] is not of type 'object'")),
    (
        "PUT",
        "metadata",
        "2.1",
        {"metadata": {"a/b": "x"}},
        bad("metadata", M_UNEXPECTED.format("a/b")),
    ),
    (
        "POST",
        "metadata",
        "2.1",
        {"metadata": {"k": 5}},
        bad("metadata.k", "5 is not of type 'string'"),
    ),
    (
        "PUT",
        "metadata",
        "2.1",
        {"metadata": {"k": "v" * 256}},
        bad("metadata.k", f"'{'v' * 256}' is too long"),
    ),
    (
        "POST",
        "metadata",
        "2.1",
        {"metadata": {f"k{i}": "v" for i in range(1001)}},
        bad("metadata", "more than 1000 properties"),
    ),
    ("PUT", "metadata/k", "2.1", {"metadata": {}}, bad("meta", "'meta' is a required property")),
    ("PUT", "metadata/k", "2.1", {"meta": 5}, bad("meta", "5 is not of type 'object'")),
    (
        "PUT",
        "metadata/k",
        "2.1",
        {"meta": {"k": None}},
        bad("meta.k", "None is not of type 'string'"),
    ),
    (
        "PUT",
        "metadata/k",
        "2.1",
        {"meta": {"k": "v", "j": "w"}},
        "Request body contains too many items",
    ),
    ("PUT", "metadata/k", "2.1", {"meta": {"j": "w"}}, "Request body and URI mismatch"),
    ("PUT", "tags", "2.26", {}, bad("tags", "'tags' is a required property")),
    ("PUT", "tags", "2.26", {"tags": "a"}, bad("tags", "'a' is not of type 'array'")),
    ("PUT", "tags", "2.26", {"tags": [5]}, bad("tags", "5 is not of type 'string'")),
    ("PUT", "tags", "2.26", {"tags": ["ok", ""]}, bad("tags", "'' is too short")),
    ("PUT", "tags", "2.26", {"tags": ["t" * 61]}, bad("tags", f"'{'t' * 61}' is too long")),
    ("PUT", "tags", "2.26", {"tags": ["a/b"]}, bad("tags", "'a/b' does not match '^[^,/]*$'")),
    ("PUT", "tags", "2.26", {"tags": ["a,b"]}, bad("tags", "'a,b' does not match '^[^,/]*$'")),
]


@pytest.mark.parametrize(("method", "path", "mv", "body", "message"), METADATA_CASES)
def test_a_bad_metadata_or_tags_body_gets_its_400(
    admin: Compute, server: str, method: str, path: str, mv: str, body: Any, message: str
) -> None:
    resp = admin(method, f"/servers/{server}/{path}", mv, json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["badRequest"]["message"] == message


def test_metadata_and_tags_look_for_the_server_before_the_body(admin: Compute) -> None:
    assert admin("POST", f"/servers/{U}/metadata", "2.1", json=[]).status_code == 404
    assert admin("PUT", f"/servers/{U}/metadata/k", "2.1", json=[]).status_code == 404
    assert admin("PUT", f"/servers/{U}/tags", "2.26", json=[]).status_code == 404


# -- the image proxy's metadata (below 2.36): the body, then its one item, then the quota ----

IMAGE_META_CASES: list[tuple[str, str, Any, int, str]] = [
    ("POST", "metadata", [], 400, bad("metadata", "'metadata' is a required property")),
    ("PUT", "metadata", {"meta": {}}, 400, bad("metadata", "'metadata' is a required property")),
    ("POST", "metadata", {"metadata": []}, 400, bad("metadata", "must be an object")),
    (
        "PUT",
        "metadata",
        {"metadata": {"": "x"}},
        400,
        bad("metadata", "keys are 1 to 255 characters"),
    ),
    (
        "POST",
        "metadata",
        {"metadata": {"k": 5}},
        400,
        bad("metadata", "values are strings of 255 at most"),
    ),
    (
        "PUT",
        "metadata",
        {"metadata": {"k": "v" * 256}},
        400,
        bad("metadata", "values are strings of 255 at most"),
    ),
    (
        "POST",
        "metadata",
        {"metadata": {f"k{i}": "v" for i in range(129)}},
        403,
        "Quota exceeded for metadata items: 128 allowed.",
    ),
    (
        "PUT",
        "metadata",
        {"metadata": {f"k{i}": "v" for i in range(129)}},
        403,
        "Quota exceeded for metadata items: 128 allowed.",
    ),
    ("PUT", "metadata/k", {"metadata": {}}, 400, bad("meta", "'meta' is a required property")),
    ("PUT", "metadata/k", {"meta": 5}, 400, bad("meta", "must be an object")),
    (
        "PUT",
        "metadata/k",
        {"meta": {"k": None}},
        400,
        bad("meta", "values are strings of 255 at most"),
    ),
    ("PUT", "metadata/k", {"meta": {"j": "w"}}, 400, "Request body and URI mismatch"),
    (
        "PUT",
        "metadata/k",
        {"meta": {"k": "v", "j": "w"}},
        400,
        "Request body contains too many items",
    ),
]


@pytest.fixture(scope="module")
def image(admin: Compute) -> Iterator[str]:
    body = {"name": unique("bodies"), "disk_format": "raw", "container_format": "bare"}
    image_id = str(admin.client.post("/image/v2/images", json=body).json()["id"])
    yield image_id
    admin.client.delete(f"/image/v2/images/{image_id}")


@pytest.mark.parametrize(("method", "path", "body", "status", "message"), IMAGE_META_CASES)
def test_a_bad_image_metadata_body_gets_its_error(
    admin: Compute, image: str, method: str, path: str, body: Any, status: int, message: str
) -> None:
    resp = admin(method, f"/images/{image}/{path}", "2.1", json=body)
    assert resp.status_code == status, resp.text
    (error,) = resp.json().values()
    assert error["message"] == message


# -- the volume proxy (os-volumes, os-snapshots, below 2.36): refused before any work ------

V_NOT_OBJECT = "Invalid input for the request body: must be an object"
VOLUME_CASES: list[tuple[str, Any, str]] = [
    ("/os-volumes", [], bad("volume", "'volume' is a required property")),
    ("/os-volumes", {"volume": []}, V_NOT_OBJECT),
    (
        "/os-volumes",
        {"volume": {"zz": 1, "size": "x", "aa": 2}},
        "Additional properties are not allowed ('aa', 'zz' were unexpected)",
    ),
    ("/os-volumes", {"volume": {"display_name": 5}}, "'size' is a required property"),
    (
        "/os-volumes",
        {"volume": {"size": "x", "metadata": [1]}},
        "Invalid input for field/attribute metadata: not an object",
    ),
    (
        "/os-volumes",
        {"volume": {"size": "x", "metadata": [], "display_name": 5}},
        "Invalid input for field/attribute size. Value: x. 'x' does not match '^[0-9]+$'",
    ),
    (
        "/os-volumes",
        {"volume": {"size": True}},
        "Invalid input for field/attribute size. Value: True. 'True' does not match '^[0-9]+$'",
    ),
    (
        "/os-volumes",
        {"volume": {"size": "0"}},
        "Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1",
    ),
    (
        "/os-volumes",
        {"volume": {"size": 1, "availability_zone": 1, "display_name": 5}},
        "Invalid input for field/attribute display_name. Value: 5. 5 is not of type 'string'",
    ),
    (
        "/os-volumes",
        {"volume": {"size": 1, "availability_zone": 1, "display_description": [5]}},
        "Invalid input for field/attribute display_description. Value: [5]. "
        "[5] is not of type 'string'",
    ),
    (
        "/os-volumes",
        {"volume": {"size": 1, "availability_zone": 1, "volume_type": 5}},
        "Invalid input for field/attribute volume_type. Value: 5. 5 is not of type 'string'",
    ),
    (
        "/os-volumes",
        {"volume": {"size": 1, "availability_zone": 1, "snapshot_id": 5}},
        "Invalid input for field/attribute snapshot_id. Value: 5. 5 is not of type 'string'",
    ),
    (
        "/os-volumes",
        {"volume": {"size": 1, "availability_zone": 1}},
        "Invalid input for field/attribute availability_zone. Value: 1. 1 is not of type 'string'",
    ),
    ("/os-snapshots", {"snapshots": {}}, bad("snapshot", "'snapshot' is a required property")),
    ("/os-snapshots", {"snapshot": 5}, V_NOT_OBJECT),
    (
        "/os-snapshots",
        {"snapshot": {"volume_id": 5, "zz": 1}},
        "Additional properties are not allowed ('zz' were unexpected)",
    ),
    ("/os-snapshots", {"snapshot": {"force": "x"}}, "'volume_id' is a required property"),
    (
        "/os-snapshots",
        {"snapshot": {"volume_id": 5, "force": "x"}},
        "Invalid input for field/attribute volume_id. Value: 5. 5 is not of type 'string'",
    ),
    (
        "/os-snapshots",
        {"snapshot": {"volume_id": U, "display_name": 5, "force": "x"}},
        "Invalid input for field/attribute display_name. Value: 5. 5 is not of type 'string'",
    ),
    (
        "/os-snapshots",
        {"snapshot": {"volume_id": U, "display_description": 5, "force": "x"}},
        "Invalid input for field/attribute display_description. Value: 5. "
        "5 is not of type 'string'",
    ),
    (
        "/os-snapshots",
        {"snapshot": {"volume_id": U, "force": "maybe"}},
        "Invalid input for field/attribute force. Value: maybe.",
    ),
]


@pytest.mark.parametrize(("path", "body", "message"), VOLUME_CASES)
def test_a_bad_volume_proxy_body_gets_its_400(
    admin: Compute, path: str, body: Any, message: str
) -> None:
    resp = admin("POST", path, "2.1", json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["badRequest"]["message"] == message


# -- the security group proxy (below 2.36): a group's body; a rule's, its parent found first --

SG_CASES: list[tuple[str, str, Any, str]] = [
    ("POST", "", [], bad("security_group", "'security_group' is a required property")),
    ("POST", "", {"security_group": []}, "security_group must be an object"),
    (
        "POST",
        "",
        {"security_group": {"description": "d"}},
        "Security group name is not a string or unicode",
    ),
    (
        "POST",
        "",
        {"security_group": {"name": "n" * 256, "description": 5}},
        "Security group name should not be longer than 255",
    ),
    (
        "PUT",
        f"/{U}",
        {"security_group": {"name": " "}},
        "Security group description is not a string or unicode",
    ),
    (
        "PUT",
        f"/{U}",
        {"security_group": {"name": " ", "description": "d" * 256}},
        "Security group description should not be longer than 255",
    ),
    (
        "POST",
        "",
        {"security_group": {"name": " ", "description": "d"}},
        "Security group name cannot be empty",
    ),
    ("PUT", f"/{U}", {"sg": {}}, bad("security_group", "'security_group' is a required property")),
    ("PUT", "/x", {"sg": {}}, "Security group id should be uuid: x"),
]


@pytest.mark.parametrize(("method", "path", "body", "message"), SG_CASES)
def test_a_bad_security_group_body_gets_its_400(
    admin: Compute, method: str, path: str, body: Any, message: str
) -> None:
    resp = admin(method, f"/os-security-groups{path}", "2.1", json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["badRequest"]["message"] == message


@pytest.fixture(scope="module")
def group(admin: Compute) -> Iterator[str]:
    body = {"security_group": {"name": unique("bodies"), "description": "d"}}
    group_id = str(
        admin("POST", "/os-security-groups", "2.1", json=body).json()["security_group"]["id"]
    )
    yield group_id
    admin("DELETE", f"/os-security-groups/{group_id}", "2.1")


TCP = {"ip_protocol": "tcp", "from_port": 1, "to_port": 2}
PORTS = "Valid TCP ports should be between 1-65535"
# each rule's parent_group_id is the module's group unless the rule names one
RULE_CASES: list[tuple[Any, int, str]] = [
    ([], 400, bad("security_group_rule", "'security_group_rule' is a required property")),
    ({"security_group_rule": 5}, 400, "security_group_rule must be an object"),
    ({"security_group_rule": {"parent_group_id": "x"}}, 400, "Security group id should be uuid: x"),
    (
        {"security_group_rule": {"ip_protocol": "tcp"}},
        400,
        "Security group id should be uuid: None",
    ),
    ({"ip_protocol": "xxx"}, 400, "Invalid IP protocol xxx."),
    ({}, 400, "Invalid IP protocol None."),
    ({**TCP, "from_port": "a", "to_port": "b"}, 400, "Invalid from_port value: a"),
    ({**TCP, "to_port": "b"}, 400, "Invalid to_port value: b"),
    ({**TCP, "from_port": 0}, 400, f"Invalid port range 0:2. {PORTS}"),
    ({"ip_protocol": "udp", "from_port": 1}, 400, f"Invalid port range 1:None. {PORTS}"),
    (
        {"ip_protocol": "ICMP", "from_port": 300, "to_port": -1},
        400,
        "Invalid port range 300:-1. ICMP type:code",
    ),
    ({**TCP, "group_id": "x", "cidr": "bogus"}, 400, "Security group id should be uuid: x"),
    ({**TCP, "cidr": "bogus"}, 400, "Invalid cidr bogus."),
]


@pytest.mark.parametrize(("rule", "status", "message"), RULE_CASES)
def test_a_bad_security_group_rule_gets_its_400(
    admin: Compute, group: str, rule: Any, status: int, message: str
) -> None:
    body = rule
    if isinstance(rule, dict) and "security_group_rule" not in rule:
        body = {"security_group_rule": {"parent_group_id": group, **rule}}
    resp = admin("POST", "/os-security-group-rules", "2.1", json=body)
    assert resp.status_code == status, resp.text
    assert resp.json()["badRequest"]["message"] == message


def test_a_rule_finds_its_parent_before_its_members_are_checked(admin: Compute) -> None:
    body = {"security_group_rule": {"parent_group_id": U, "ip_protocol": "xxx"}}
    assert admin("POST", "/os-security-group-rules", "2.1", json=body).status_code == 404


# -- external events (each event checked before any server is looked for) and assisted
# volume snapshots: Nova's legacy "field/attribute" words ------------------------------------


def attribute(name: str, value: Any = None, *, shown: bool = True) -> str:
    return f"Invalid input for field/attribute {name}." + (f" Value: {value}." if shown else "")


EV = {"name": "network-changed", "server_uuid": U}
EVENTS = attribute("events", shown=False)
EVENT_CASES: list[tuple[str, Any, int, str]] = [
    ("2.1", [], 400, bad("events", "'events' is a required property")),
    ("2.1", {"events": {}}, 400, EVENTS),
    ("2.1", {"events": []}, 400, EVENTS),
    ("2.1", {"events": [5]}, 400, EVENTS),
    ("2.1", {"events": [{**EV, "zz": 1}]}, 400, EVENTS),
    ("2.1", {"events": [EV, {**EV, "name": "nope"}]}, 400, attribute("name", "nope")),
    (
        "2.50",
        {"events": [{**EV, "name": "volume-extended"}]},
        400,
        attribute("name", "volume-extended"),
    ),
    ("2.51", {"events": [{**EV, "name": "volume-extended"}]}, 404, ""),
    (
        "2.92",
        {"events": [{**EV, "name": "volume-reimaged"}]},
        400,
        attribute("name", "volume-reimaged"),
    ),
    ("2.93", {"events": [{**EV, "name": "volume-reimaged"}]}, 404, ""),
    ("2.1", {"events": [{**EV, "server_uuid": 5}]}, 400, attribute("server_uuid", shown=False)),
    ("2.1", {"events": [{**EV, "status": "x", "tag": 5}]}, 400, attribute("status", "x")),
    ("2.1", {"events": [{**EV, "tag": 5}]}, 400, attribute("tag", shown=False)),
    ("2.1", {"events": [{**EV, "tag": "t" * 256}]}, 400, attribute("tag", shown=False)),
]


@pytest.mark.parametrize(("mv", "body", "status", "message"), EVENT_CASES)
def test_a_bad_external_event_gets_its_400(
    admin: Compute, mv: str, body: Any, status: int, message: str
) -> None:
    resp = admin("POST", "/os-server-external-events", mv, json=body)
    assert resp.status_code == status, resp.text
    if status == 400:
        assert resp.json()["badRequest"]["message"] == message
    else:
        assert resp.json()["events"][0]["code"] == 404


INFO = {"snapshot_id": "s", "new_file": "f", "type": "qcow2"}
ASSISTED_CASES: list[tuple[Any, str]] = [
    ([], bad("snapshot", "'snapshot' is a required property")),
    ({"snapshot": []}, attribute("snapshot", shown=False)),
    ({"snapshot": {"volume_id": "v", "zz": 1}}, attribute("snapshot", shown=False)),
    ({"snapshot": {"create_info": 5}}, attribute("volume_id", None)),
    ({"snapshot": {"volume_id": ""}}, attribute("volume_id", "")),
    ({"snapshot": {"volume_id": "v"}}, attribute("create_info", shown=False)),
    (
        {"snapshot": {"volume_id": "v", "create_info": {**INFO, "zz": 1}}},
        attribute("create_info", shown=False),
    ),
    (
        {"snapshot": {"volume_id": "v", "create_info": {"new_file": 5}}},
        attribute("snapshot_id", None),
    ),
    (
        {"snapshot": {"volume_id": "v", "create_info": {"snapshot_id": "s"}}},
        attribute("new_file", None),
    ),
    (
        {"snapshot": {"volume_id": "v", "create_info": {"snapshot_id": "s", "new_file": "f"}}},
        attribute("type", None),
    ),
    (
        {"snapshot": {"volume_id": "v", "create_info": {**INFO, "type": "raw"}}},
        attribute("type", "raw"),
    ),
]


@pytest.mark.parametrize(("body", "message"), ASSISTED_CASES)
def test_a_bad_assisted_snapshot_gets_its_400(admin: Compute, body: Any, message: str) -> None:
    resp = admin("POST", "/os-assisted-volume-snapshots", "2.1", json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["badRequest"]["message"] == message


# -- a flavor's extra specs: the member, then each key and value -----------------------------

SPEC_CASES: list[tuple[str, str, Any, str]] = [
    ("POST", "", [], bad("extra_specs", "'extra_specs' is a required property")),
    ("POST", "", {"extra_specs": []}, bad("extra_specs", "[] is not of type 'object'")),
    (
        "POST",
        "",
        {"extra_specs": {"a/b": None, "k": None}},
        bad("extra_specs", "'a/b' does not match any of the regexes"),
    ),
    ("POST", "", {"extra_specs": {"k": None}}, bad("extra_specs/k", "None is not a valid value")),
    ("POST", "", {"extra_specs": {"k": ["x"]}}, bad("extra_specs/k", "['x'] is not a valid value")),
    (
        "POST",
        "",
        {"extra_specs": {"k": "v" * 256}},
        bad("extra_specs/k", f"'{'v' * 256}' is not a valid value"),
    ),
    ("PUT", "/k", {"k": {}}, bad("extra_specs/k", "{} is not a valid value")),
]


@pytest.mark.parametrize(("method", "path", "body", "message"), SPEC_CASES)
def test_a_bad_extra_spec_body_gets_its_400(
    admin: Compute, method: str, path: str, body: Any, message: str
) -> None:
    resp = admin(method, f"/flavors/1/os-extra_specs{path}", "2.1", json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["badRequest"]["message"] == message


# -- os-services updates: from 2.53 the body's members (the uuid first); before, each legacy
# action's, in the order checked, before any service is looked for ---------------------------

NOT_COMPUTE = (
    "Updating a nova-scheduler service is not supported. Only nova-compute services can be updated."
)
HB = {"host": "no-such-host", "binary": "nova-compute"}
SERVICE_CASES: list[tuple[str, str, Any, str]] = [
    ("2.53", "not-a-uuid", {"zz": 1}, "Invalid uuid not-a-uuid"),
    (
        "2.53",
        U,
        {"zz": 1, "aa": 2, "status": 5},
        bad("body", "Additional properties are not allowed ('aa', 'zz' was unexpected)"),
    ),
    ("2.53", U, {"status": 5, "forced_down": "x"}, bad("status", "5 is not of type 'string'")),
    ("2.53", U, {"status": "off"}, bad("status", "'off' is not one of ['enabled', 'disabled']")),
    (
        "2.53",
        U,
        {"status": "enabled", "disabled_reason": ""},
        bad("disabled_reason", "'' is too short"),
    ),
    (
        "2.53",
        U,
        {"disabled_reason": "r", "forced_down": "x"},
        bad("forced_down", "'x' is not of type 'boolean', 'string'"),
    ),
    (
        "2.53",
        U,
        {"disabled_reason": "r"},
        "At least one of 'status' or 'forced_down' must be specified.",
    ),
    (
        "2.53",
        U,
        {"status": "enabled", "disabled_reason": "r"},
        "Specifying a disabled reason is not supported when the status is enabled.",
    ),
    ("2.1", "enable", {"binary": 5}, bad("host", "'host' is a required property")),
    ("2.1", "enable", {"host": "", "binary": 5}, bad("host", "'' is too short")),
    ("2.1", "disable", {"host": "h", "binary": 5}, bad("binary", "5 is not of type 'string'")),
    ("2.1", "disable", {"host": "h", "binary": "nova-scheduler"}, NOT_COMPUTE),
    (
        "2.1",
        "disable-log-reason",
        {"host": "h", "binary": "nova-scheduler", "disabled_reason": 5},
        NOT_COMPUTE,
    ),
    (
        "2.1",
        "disable-log-reason",
        {**HB, "disabled_reason": 5},
        bad("disabled_reason", "5 is not of type 'string'"),
    ),
    ("2.1", "disable-log-reason", HB, "Missing disabled reason field"),
    (
        "2.11",
        "force-down",
        {"host": "h", "binary": "nova-scheduler"},
        bad("body", "'forced_down' is a required property"),
    ),
    (
        "2.11",
        "force-down",
        {**HB, "forced_down": "x"},
        bad("forced_down", "'x' is not of type 'boolean', 'string'"),
    ),
]


@pytest.mark.parametrize(("mv", "action", "body", "message"), SERVICE_CASES)
def test_a_bad_service_update_gets_its_400(
    admin: Compute, mv: str, action: str, body: Any, message: str
) -> None:
    resp = admin("PUT", f"/os-services/{action}", mv, json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["badRequest"]["message"] == message
