"""The compute API's resources other than servers over raw HTTP: shapes per microversion
against Tempest's strict response schemas, 400s for bad input, policy and isolation."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from tests.support.cloud import Cloud
from tests.support.compute import Compute, check_schema, tempest_schema
from tests.support.fixtures import http_client, new_project, unique

admin = http_client("onestack", Compute)
demo = http_client("onestack-demo", Compute)


def schema(version: str, module: str, name: str) -> dict[str, Any]:
    return tempest_schema(version, module, name)


def check(resp: httpx.Response, version: str, module: str, name: str) -> Any:
    """Assert ``resp`` matches Tempest's schema (status code and body); return its body."""
    return check_schema(resp, tempest_schema(version, module, name))


project = new_project("quota")  # for quota changes nobody else sees


def user_id(cloud: Cloud, name: str) -> str:
    token = cloud.token(name)
    with cloud.http(token) as client:
        resp = client.get("/identity/v3/auth/tokens", headers={"X-Subject-Token": token})
    return str(resp.json()["token"]["user"]["id"])


def ssh_ed25519() -> tuple[str, str]:
    """A public key in OpenSSH form and its MD5 fingerprint computed independently."""
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    public = key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()
    digest = hashlib.md5(base64.b64decode(public.split()[1])).hexdigest()  # noqa: S324
    return public + " me@host", ":".join(digest[i : i + 2] for i in range(0, 32, 2))


# -- flavors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mv", "version"), [("2.1", "v2_1"), ("2.55", "v2_55"), ("2.61", "v2_61"), ("2.96", "v2_61")]
)
def test_flavor_shapes(admin: Compute, mv: str, version: str) -> None:
    brief_v = "v2_55" if version == "v2_61" else version
    check(admin("GET", "/flavors", mv), brief_v, "flavors", "list_flavors")
    body = check(admin("GET", "/flavors/detail", mv), version, "flavors", "list_flavors_details")
    tiny = next(f for f in body["flavors"] if f["name"] == "m1.tiny")
    assert (tiny["ram"], tiny["vcpus"], tiny["disk"]) == (512, 1, 1)
    # 2.75 shows a flavor without swap as 0, before it as "".
    assert tiny["swap"] == (0 if mv == "2.96" else "")
    assert ("extra_specs" in tiny) is (mv in ("2.61", "2.96"))
    assert ("description" in tiny) is (mv != "2.1")
    check(admin("GET", "/flavors/1", mv), version, "flavors", "create_update_get_flavor_details")


def test_flavor_lifecycle_specs_and_access(admin: Compute, demo: Compute, cloud: Cloud) -> None:
    name = unique("flv")
    req = {
        "flavor": {
            "name": name,
            "ram": 256,
            "vcpus": 2,
            "disk": 3,
            "swap": 128,
            "OS-FLV-EXT-DATA:ephemeral": 1,
            "rxtx_factor": 2.0,
            "os-flavor-access:is_public": False,
            "description": "private one",
        }
    }
    created = check(
        admin("POST", "/flavors", "2.61", json=req),
        "v2_61",
        "flavors",
        "create_update_get_flavor_details",
    )["flavor"]
    fid = created["id"]
    assert len(fid) == 36 and created["swap"] == 128 and created["extra_specs"] == {}
    assert created["os-flavor-access:is_public"] is False and created["rxtx_factor"] == 2.0
    # Duplicates of name or id: 409.
    assert admin("POST", "/flavors", "2.61", json=req).status_code == 409
    dup_id = {"flavor": {"name": unique("other"), "ram": 1, "vcpus": 1, "disk": 0, "id": fid}}
    assert admin("POST", "/flavors", json=dup_id).status_code == 409
    numeric = {"flavor": {"name": unique("num"), "ram": 1, "vcpus": 1, "disk": 0, "id": 98765}}
    assert admin("POST", "/flavors", json=numeric).json()["flavor"]["id"] == "98765"
    assert admin("DELETE", "/flavors/98765").status_code == 202

    # Private: invisible to the demo project until it is given access.
    assert demo("GET", f"/flavors/{fid}").status_code == 404
    assert fid not in [f["id"] for f in demo("GET", "/flavors").json()["flavors"]]
    # An admin sees private flavors only when asking for them.
    assert fid not in [f["id"] for f in admin("GET", "/flavors").json()["flavors"]]
    listed = admin("GET", "/flavors", params={"is_public": "None"}).json()["flavors"]
    assert fid in [f["id"] for f in listed]
    with cloud.http(cloud.token()) as client:
        demo_pid = client.get("/identity/v3/projects", params={"name": "demo"}).json()["projects"][
            0
        ]["id"]
    add = {"addTenantAccess": {"tenant": demo_pid}}
    access = check(
        admin("POST", f"/flavors/{fid}/action", json=add),
        "v2_1",
        "flavors_access",
        "add_remove_list_flavor_access",
    )
    assert access["flavor_access"] == [{"flavor_id": fid, "tenant_id": demo_pid}]
    assert admin("POST", f"/flavors/{fid}/action", json=add).status_code == 409
    bad_project = {"addTenantAccess": {"tenant": "no-such-project"}}
    assert admin("POST", f"/flavors/{fid}/action", json=bad_project).status_code == 400
    assert demo("GET", f"/flavors/{fid}").status_code == 200
    assert fid in [f["id"] for f in demo("GET", "/flavors").json()["flavors"]]
    assert admin("GET", "/flavors/1/os-flavor-access").status_code == 404  # public flavor

    # Extra specs: CRUD, and inline in the flavor from 2.61.
    specs = {"extra_specs": {"hw:cpu_policy": "shared", "quota:cpu_shares": "10"}}
    got = check(
        admin("POST", f"/flavors/{fid}/os-extra_specs", json=specs),
        "v2_1",
        "flavors_extra_specs",
        "set_get_flavor_extra_specs",
    )
    assert got == specs
    one = admin(
        "PUT", f"/flavors/{fid}/os-extra_specs/hw:cpu_policy", json={"hw:cpu_policy": "dedicated"}
    )
    assert one.json() == {"hw:cpu_policy": "dedicated"}
    mismatch = admin("PUT", f"/flavors/{fid}/os-extra_specs/a", json={"b": "1"})
    assert mismatch.status_code == 400
    assert admin("DELETE", f"/flavors/{fid}/os-extra_specs/quota:cpu_shares").status_code == 200
    assert admin("GET", f"/flavors/{fid}/os-extra_specs/quota:cpu_shares").status_code == 404
    shown = admin("GET", f"/flavors/{fid}", "2.61").json()["flavor"]
    assert shown["extra_specs"] == {"hw:cpu_policy": "dedicated"}
    assert demo("POST", f"/flavors/{fid}/os-extra_specs", json=specs).status_code == 403

    # Description updates from 2.55 only.
    upd = {"flavor": {"description": "changed"}}
    assert admin("PUT", f"/flavors/{fid}", "2.54", json=upd).status_code == 404
    updated = admin("PUT", f"/flavors/{fid}", "2.55", json=upd)
    assert updated.status_code == 200 and updated.json()["flavor"]["description"] == "changed"

    rm = {"removeTenantAccess": {"tenant": demo_pid}}
    assert admin("POST", f"/flavors/{fid}/action", json=rm).json()["flavor_access"] == []
    assert admin("POST", f"/flavors/{fid}/action", json=rm).status_code == 404
    assert admin("DELETE", f"/flavors/{fid}").status_code == 202
    assert admin("GET", f"/flavors/{fid}").status_code == 404


def test_flavor_list_filters_sort_and_pages(admin: Compute) -> None:
    big = admin("GET", "/flavors/detail", params={"minRam": 4096, "minDisk": 40}).json()
    assert {f["name"] for f in big["flavors"]} >= {"m1.medium", "m1.large"}
    assert all(f["ram"] >= 4096 and f["disk"] >= 40 for f in big["flavors"])
    by_ram = admin("GET", "/flavors/detail", params={"sort_key": "memory_mb", "sort_dir": "desc"})
    rams = [f["ram"] for f in by_ram.json()["flavors"]]
    assert rams == sorted(rams, reverse=True)
    page = admin("GET", "/flavors", params={"limit": 2}).json()
    assert len(page["flavors"]) == 2 and page["flavors_links"][0]["rel"] == "next"
    assert f"marker={page['flavors'][1]['id']}" in page["flavors_links"][0]["href"]
    rest = admin("GET", "/flavors", params={"marker": page["flavors"][1]["id"]}).json()
    assert page["flavors"][1]["id"] not in [f["id"] for f in rest["flavors"]]
    for params in (
        {"sort_key": "bogus"},
        {"sort_dir": "up"},
        {"minRam": "x"},
        {"marker": "nope"},
        {"limit": "-1"},
        {"is_public": "maybe"},
    ):
        assert admin("GET", "/flavors", params=params).status_code == 400, params


@pytest.mark.parametrize(
    "flavor",
    [
        {"ram": 1, "vcpus": 1, "disk": 0},  # no name
        {"name": "x", "vcpus": 1, "disk": 0},  # no ram
        {"name": "x", "ram": 0, "vcpus": 1, "disk": 0},
        {"name": "x", "ram": 1, "vcpus": -1, "disk": 0},
        {"name": "x", "ram": 1, "vcpus": 1, "disk": "lots"},
        {"name": " x", "ram": 1, "vcpus": 1, "disk": 0},
        {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "id": "bad/id"},
        {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "rxtx_factor": 0},
        {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "os-flavor-access:is_public": "x"},
        {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "bogus": 1},
    ],
)
def test_flavor_create_bad_input(admin: Compute, flavor: dict[str, Any]) -> None:
    resp = admin("POST", "/flavors", json={"flavor": flavor})
    assert resp.status_code == 400, resp.text
    assert resp.json()["badRequest"]["code"] == 400


def test_flavor_policy(demo: Compute) -> None:
    req = {"flavor": {"name": unique("nope"), "ram": 1, "vcpus": 1, "disk": 0}}
    resp = demo("POST", "/flavors", json=req)
    assert resp.status_code == 403 and "forbidden" in resp.json()
    assert demo("DELETE", "/flavors/1").status_code == 403


# -- keypairs ---------------------------------------------------------------------------


def test_keypair_versions_and_fingerprints(admin: Compute, demo: Compute) -> None:
    public, fingerprint = ssh_ed25519()
    name = unique("kp")
    made = check(
        admin(
            "POST", "/os-keypairs", "2.1", json={"keypair": {"name": name, "public_key": public}}
        ),
        "v2_1",
        "keypairs",
        "create_keypair",
    )
    assert made["keypair"]["fingerprint"] == fingerprint and "private_key" not in made["keypair"]
    shown = check(admin("GET", f"/os-keypairs/{name}", "2.2"), "v2_2", "keypairs", "get_keypair")
    assert shown["keypair"]["type"] == "ssh" and shown["keypair"]["public_key"] == public
    check(admin("GET", "/os-keypairs", "2.2"), "v2_2", "keypairs", "list_keypairs")
    check(admin("GET", "/os-keypairs", "2.1"), "v2_1", "keypairs", "list_keypairs")
    # Another user's key pair is not there for the demo user.
    assert demo("GET", f"/os-keypairs/{name}").status_code == 404
    assert demo("DELETE", f"/os-keypairs/{name}").status_code == 404
    assert (
        admin(
            "POST", "/os-keypairs", json={"keypair": {"name": name, "public_key": public}}
        ).status_code
        == 409
    )
    check(admin("DELETE", f"/os-keypairs/{name}", "2.2"), "v2_2", "keypairs", "delete_keypair")

    # ECDSA keys import too; generation (before 2.92) returns the private key once.
    ec_key = ec.generate_private_key(ec.SECP384R1()).public_key()
    ec_pub = ec_key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()
    ec_name = unique("ec")
    assert (
        admin(
            "POST", "/os-keypairs", "2.2", json={"keypair": {"name": ec_name, "public_key": ec_pub}}
        ).status_code
        == 201
    )
    gen = check(
        admin("POST", "/os-keypairs", "2.2", json={"keypair": {"name": unique("gen")}}),
        "v2_2",
        "keypairs",
        "create_keypair",
    )["keypair"]
    assert gen["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert gen["public_key"].startswith("ssh-rsa ")
    assert (
        admin("POST", "/os-keypairs", "2.92", json={"keypair": {"name": unique("gen")}}).status_code
        == 400
    )
    at292 = admin(
        "POST",
        "/os-keypairs",
        "2.92",
        json={"keypair": {"name": "me@host.example", "public_key": public}},
    )
    assert at292.status_code == 201
    before = admin(
        "POST",
        "/os-keypairs",
        "2.91",
        json={"keypair": {"name": "me@x.example", "public_key": public}},
    )
    assert before.status_code == 400
    for name in (ec_name, gen["name"], "me@host.example"):
        admin("DELETE", f"/os-keypairs/{name}", "2.92")


def test_keypair_bad_input_pages_and_users(admin: Compute, demo: Compute, cloud: Cloud) -> None:
    for body in (
        {"name": "x", "public_key": "ssh-rsa notbase64"},
        {"name": "x", "public_key": "garbage"},
        {"name": "", "public_key": ssh_ed25519()[0]},
        {"name": "a/b", "public_key": ssh_ed25519()[0]},
        {"public_key": ssh_ed25519()[0]},
    ):
        assert admin("POST", "/os-keypairs", json={"keypair": body}).status_code == 400, body
    names = sorted(unique("page") for _ in range(3))
    for n in names:
        assert (
            demo(
                "POST",
                "/os-keypairs",
                "2.35",
                json={"keypair": {"name": n, "public_key": ssh_ed25519()[0]}},
            ).status_code
            == 201
        )
    first = demo("GET", "/os-keypairs", "2.35", params={"limit": 2}).json()
    assert len(first["keypairs"]) == 2 and "keypairs_links" in first
    last = first["keypairs"][-1]["keypair"]["name"]
    rest = demo("GET", "/os-keypairs", "2.35", params={"marker": last}).json()["keypairs"]
    assert last not in [k["keypair"]["name"] for k in rest]
    # 2.10: an admin reaches another user's key pairs with user_id; a member may not.
    demo_user = user_id(cloud, "onestack-demo")
    theirs = admin("GET", "/os-keypairs", "2.10", params={"user_id": demo_user}).json()
    assert set(names) <= {k["keypair"]["name"] for k in theirs["keypairs"]}
    assert (
        admin("GET", f"/os-keypairs/{names[0]}", "2.10", params={"user_id": demo_user}).status_code
        == 200
    )
    admin_user = user_id(cloud, "onestack")
    assert demo("GET", "/os-keypairs", "2.10", params={"user_id": admin_user}).status_code == 403
    for n in names:
        assert (
            admin("DELETE", f"/os-keypairs/{n}", "2.10", params={"user_id": demo_user}).status_code
            == 204
        )


# -- quotas and limits ------------------------------------------------------------------


@pytest.mark.parametrize(("mv", "version"), [("2.1", "v2_1"), ("2.36", "v2_36"), ("2.57", "v2_57")])
def test_quota_shapes(admin: Compute, project: str, mv: str, version: str) -> None:
    shown = check(
        admin("GET", f"/os-quota-sets/{project}", mv), version, "quotas", "get_quota_set"
    )["quota_set"]
    assert shown["id"] == project and shown["instances"] == 10 and shown["cores"] == 20
    check(
        admin("GET", f"/os-quota-sets/{project}/defaults", mv), version, "quotas", "get_quota_set"
    )
    detail = check(
        admin("GET", f"/os-quota-sets/{project}/detail", mv),
        version,
        "quotas",
        "get_quota_set_details",
    )["quota_set"]
    assert detail["instances"] == {"limit": 10, "in_use": 0, "reserved": 0}
    assert ("floating_ips" in shown) is (mv == "2.1")
    assert ("injected_files" in shown) is (mv != "2.57")
    limits = check(
        admin("GET", "/limits", mv), version if mv != "2.57" else "v2_57", "limits", "get_limit"
    )["limits"]["absolute"]
    assert limits["maxTotalInstances"] >= 0 and "totalServerGroupsUsed" in limits


def test_quota_update_and_delete(admin: Compute, demo: Compute, project: str) -> None:
    upd = {"quota_set": {"instances": 5, "cores": 7, "key_pairs": -1}}
    body = check(
        admin("PUT", f"/os-quota-sets/{project}", "2.57", json=upd),
        "v2_57",
        "quotas",
        "update_quota_set",
    )["quota_set"]
    assert (body["instances"], body["cores"], body["key_pairs"]) == (5, 7, -1)
    assert "id" not in body
    shown = admin("GET", f"/os-quota-sets/{project}").json()["quota_set"]
    assert shown["instances"] == 5 and shown["ram"] == 51200
    for bad in ({"instances": -2}, {"instances": "many"}, {"bogus": 1}, {"injected_files": 1}):
        resp = admin("PUT", f"/os-quota-sets/{project}", "2.57", json={"quota_set": bad})
        assert resp.status_code == 400, bad
    # Pre-2.57 the injected files still take a value.
    legacy = admin(
        "PUT", f"/os-quota-sets/{project}", "2.56", json={"quota_set": {"injected_files": 3}}
    )
    assert legacy.status_code == 200 and legacy.json()["quota_set"]["injected_files"] == 3
    assert demo("PUT", f"/os-quota-sets/{project}", json=upd).status_code == 403
    assert admin("GET", "/os-quota-sets/no-such-project").status_code == 400
    check(admin("DELETE", f"/os-quota-sets/{project}"), "v2_1", "quotas", "delete_quota")
    assert admin("GET", f"/os-quota-sets/{project}").json()["quota_set"]["instances"] == 10


def test_quota_below_usage_and_classes(admin: Compute, cloud: Cloud) -> None:
    # The server-group count is usage: a limit under it is refused unless forced.
    made = [
        admin(
            "POST",
            "/os-server-groups",
            "2.64",
            json={"server_group": {"name": unique("q"), "policy": "affinity"}},
        ).json()["server_group"]
        for _ in range(2)
    ]
    pid = made[0]["project_id"]
    before = admin("GET", f"/os-quota-sets/{pid}").json()["quota_set"]["server_groups"]
    low = {"quota_set": {"server_groups": 1}}
    resp = admin("PUT", f"/os-quota-sets/{pid}", json=low)
    assert resp.status_code == 400 and "already used" in resp.json()["badRequest"]["message"]
    forced = {"quota_set": {"server_groups": 1, "force": True}}
    assert admin("PUT", f"/os-quota-sets/{pid}", json=forced).status_code == 200
    over = admin(
        "POST",
        "/os-server-groups",
        "2.64",
        json={"server_group": {"name": "x", "policy": "affinity"}},
    )
    assert over.status_code == 403 and "server groups" in over.json()["forbidden"]["message"]
    admin(
        "PUT", f"/os-quota-sets/{pid}", json={"quota_set": {"server_groups": before, "force": True}}
    )
    for g in made:
        admin("DELETE", f"/os-server-groups/{g['id']}")

    for mv, version in (("2.1", "v2_1"), ("2.50", "v2_50"), ("2.57", "v2_57")):
        check(
            admin("GET", "/os-quota-class-sets/default", mv),
            version,
            "quota_classes",
            "get_quota_class_set",
        )
    upd = {"quota_class_set": {"metadata_items": 129}}
    check(
        admin("PUT", "/os-quota-class-sets/default", "2.57", json=upd),
        "v2_57",
        "quota_classes",
        "update_quota_class_set",
    )
    with cloud.http(cloud.token()) as client:
        body = {"project": {"name": unique("fresh"), "domain_id": "default"}}
        fresh = client.post("/identity/v3/projects", json=body).json()["project"]["id"]
    # The default class is the defaults.
    defaults = admin("GET", f"/os-quota-sets/{fresh}/defaults").json()["quota_set"]
    assert defaults["metadata_items"] == 129
    admin("PUT", "/os-quota-class-sets/default", json={"quota_class_set": {"metadata_items": 128}})


def test_limits_other_project(admin: Compute, demo: Compute, project: str) -> None:
    theirs = admin("GET", "/limits", "2.57", params={"tenant_id": project})
    assert theirs.status_code == 200
    assert demo("GET", "/limits", params={"tenant_id": project}).status_code == 403
    own = demo("GET", "/limits", "2.39").json()["limits"]
    assert own["rate"] == [] and "maxImageMeta" not in own["absolute"]
    assert "maxPersonality" in own["absolute"]


# -- server groups ----------------------------------------------------------------------


def test_server_group_shapes_and_isolation(admin: Compute, demo: Compute) -> None:
    for mv, version in (("2.1", "v2_1"), ("2.13", "v2_13")):
        body = {"server_group": {"name": unique("sg"), "policies": ["anti-affinity"]}}
        made = check(
            demo("POST", "/os-server-groups", mv, json=body),
            version,
            "server_groups",
            "create_show_server_group",
        )["server_group"]
        assert made["policies"] == ["anti-affinity"] and made["members"] == []
        check(
            demo("GET", f"/os-server-groups/{made['id']}", mv),
            version,
            "server_groups",
            "create_show_server_group",
        )
        check(demo("GET", "/os-server-groups", mv), version, "server_groups", "list_server_groups")
        check(
            demo("DELETE", f"/os-server-groups/{made['id']}", mv),
            version,
            "server_groups",
            "delete_server_group",
        )

    body = {
        "server_group": {
            "name": unique("sg"),
            "policy": "anti-affinity",
            "rules": {"max_server_per_host": 2},
        }
    }
    made = check(
        demo("POST", "/os-server-groups", "2.64", json=body),
        "v2_64",
        "server_groups",
        "create_show_server_group",
    )["server_group"]
    assert made["policy"] == "anti-affinity" and made["rules"] == {"max_server_per_host": 2}
    check(demo("GET", "/os-server-groups", "2.64"), "v2_64", "server_groups", "list_server_groups")
    # Another project's group is not there; an admin lists it with all_projects.
    gid = made["id"]
    mine = admin(
        "POST",
        "/os-server-groups",
        "2.64",
        json={"server_group": {"name": unique("adm"), "policy": "affinity"}},
    )
    admin_gid = mine.json()["server_group"]["id"]
    assert demo("GET", f"/os-server-groups/{admin_gid}").status_code == 404
    assert demo("DELETE", f"/os-server-groups/{admin_gid}").status_code == 404
    assert admin_gid not in [
        g["id"] for g in demo("GET", "/os-server-groups").json()["server_groups"]
    ]
    everyone = admin("GET", "/os-server-groups", params={"all_projects": "True"}).json()
    assert {gid, admin_gid} <= {g["id"] for g in everyone["server_groups"]}
    paged = admin(
        "GET", "/os-server-groups", params={"all_projects": "True", "limit": 1, "offset": 1}
    ).json()
    assert len(paged["server_groups"]) == 1
    demo("DELETE", f"/os-server-groups/{gid}")
    admin("DELETE", f"/os-server-groups/{admin_gid}")


@pytest.mark.parametrize(
    ("mv", "group"),
    [
        ("2.1", {"name": "x", "policies": ["bogus"]}),
        ("2.1", {"name": "x", "policies": ["soft-affinity"]}),  # soft ones came with 2.15
        ("2.1", {"name": "x", "policies": ["affinity", "anti-affinity"]}),
        ("2.1", {"name": "x"}),
        ("2.64", {"name": "x", "policies": ["affinity"]}),
        ("2.64", {"name": "x", "policy": "affinity", "rules": {"max_server_per_host": 2}}),
        ("2.64", {"name": "x", "policy": "anti-affinity", "rules": {"max_server_per_host": 0}}),
        ("2.64", {"name": "", "policy": "affinity"}),
    ],
)
def test_server_group_bad_input(demo: Compute, mv: str, group: dict[str, Any]) -> None:
    resp = demo("POST", "/os-server-groups", mv, json={"server_group": group})
    assert resp.status_code == 400, resp.text


# -- hosts ------------------------------------------------------------------------------


def test_services_versions_and_updates(admin: Compute, demo: Compute) -> None:
    check(admin("GET", "/os-services", "2.1"), "v2_1", "services", "list_services")
    check(admin("GET", "/os-services", "2.11"), "v2_11", "services", "list_services")
    body = check(
        admin("GET", "/os-services", "2.53", params={"binary": "nova-compute"}),
        "v2_53",
        "services",
        "list_services",
    )
    compute = body["services"][0]
    assert compute["binary"] == "nova-compute" and compute["state"] == "up"
    assert {s["binary"] for s in body["services"]} == {"nova-compute"}
    host = compute["host"]
    assert admin("GET", "/os-services", params={"host": "no-such"}).json()["services"] == []
    assert demo("GET", "/os-services").status_code == 403

    # Legacy actions before 2.53, by host and binary.
    ref = {"host": host, "binary": "nova-compute"}
    check(
        admin("PUT", "/os-services/disable", "2.1", json=ref),
        "v2_1",
        "services",
        "enable_disable_service",
    )
    check(
        admin(
            "PUT",
            "/os-services/disable-log-reason",
            "2.1",
            json={**ref, "disabled_reason": "maint"},
        ),
        "v2_1",
        "services",
        "disable_log_reason",
    )
    check(
        admin("PUT", "/os-services/enable", "2.1", json=ref),
        "v2_1",
        "services",
        "enable_disable_service",
    )
    assert admin("PUT", "/os-services/force-down", "2.1", json=ref).status_code == 404
    # From 2.53, by uuid.
    sid = compute["id"]
    upd = check(
        admin(
            "PUT",
            f"/os-services/{sid}",
            "2.53",
            json={"status": "disabled", "disabled_reason": "test"},
        ),
        "v2_53",
        "services",
        "update_service",
    )["service"]
    assert upd["status"] == "disabled" and upd["disabled_reason"] == "test"
    zones = admin("GET", "/os-availability-zone").json()["availabilityZoneInfo"]
    assert {"zoneName": "nova", "zoneState": {"available": False}, "hosts": None} in zones
    down = admin("PUT", f"/os-services/{sid}", "2.53", json={"forced_down": True}).json()
    assert down["service"]["state"] == "down" and down["service"]["forced_down"] is True
    back = admin(
        "PUT", f"/os-services/{sid}", "2.53", json={"status": "enabled", "forced_down": False}
    ).json()["service"]
    assert back["status"] == "enabled" and back["state"] == "up"
    assert back["disabled_reason"] is None
    for bad in ({}, {"status": "enabled", "disabled_reason": "x"}, {"status": "off"}):
        assert admin("PUT", f"/os-services/{sid}", "2.53", json=bad).status_code == 400, bad
    assert (
        admin("PUT", "/os-services/not-a-uuid", "2.53", json={"status": "enabled"}).status_code
        == 400
    )
    missing = "00000000-0000-0000-0000-000000000000"
    assert (
        admin("PUT", f"/os-services/{missing}", "2.53", json={"status": "enabled"}).status_code
        == 404
    )
    assert admin("DELETE", f"/os-services/{missing}", "2.53").status_code == 404


@pytest.mark.parametrize(
    ("mv", "version"), [("2.1", "v2_1"), ("2.28", "v2_28"), ("2.33", "v2_33"), ("2.53", "v2_53")]
)
def test_hypervisor_shapes(admin: Compute, mv: str, version: str) -> None:
    listed = check(
        admin("GET", "/os-hypervisors", mv), version, "hypervisors", "list_search_hypervisors"
    )["hypervisors"]
    detail = check(
        admin("GET", "/os-hypervisors/detail", mv),
        version,
        "hypervisors",
        "list_hypervisors_detail",
    )["hypervisors"]
    assert [h["id"] for h in listed] == [h["id"] for h in detail]
    hyp = detail[0]
    assert hyp["hypervisor_type"] == "fake" and hyp["vcpus"] == 64
    assert hyp["free_ram_mb"] == hyp["memory_mb"] - hyp["memory_mb_used"]
    assert isinstance(hyp["id"], str if mv == "2.53" else int)
    check(
        admin("GET", f"/os-hypervisors/{hyp['id']}", mv), version, "hypervisors", "get_hypervisor"
    )
    check(
        admin("GET", "/os-hypervisors/statistics", mv),
        version,
        "hypervisors",
        "get_hypervisor_statistics",
    )
    check(
        admin("GET", f"/os-hypervisors/{hyp['id']}/uptime", mv),
        version,
        "hypervisors",
        "get_hypervisor_uptime",
    )
    name = hyp["hypervisor_hostname"]
    if mv == "2.53":
        found = admin(
            "GET",
            "/os-hypervisors",
            mv,
            params={"hypervisor_hostname_pattern": name, "with_servers": "true"},
        )
        check(found, version, "hypervisors", "list_search_hypervisors")
        assert admin("GET", f"/os-hypervisors/{name}/search", mv).status_code == 404
        assert admin("GET", "/os-hypervisors/1", mv).status_code == 400
    else:
        check(
            admin("GET", f"/os-hypervisors/{name}/search", mv),
            version,
            "hypervisors",
            "list_search_hypervisors",
        )
        check(
            admin("GET", f"/os-hypervisors/{name}/servers", mv),
            version,
            "hypervisors",
            "get_hypervisors_servers",
        )
        assert admin("GET", "/os-hypervisors/nope/search", mv).status_code == 404


def test_hypervisors_at_288(admin: Compute, demo: Compute) -> None:
    hyp = admin("GET", "/os-hypervisors/detail", "2.88").json()["hypervisors"][0]
    assert set(hyp) == {
        "id",
        "hypervisor_hostname",
        "state",
        "status",
        "hypervisor_type",
        "hypervisor_version",
        "host_ip",
        "service",
        "uptime",
    }
    assert admin("GET", "/os-hypervisors/statistics", "2.88").status_code == 404
    assert admin("GET", f"/os-hypervisors/{hyp['id']}/uptime", "2.88").status_code == 404
    shown = admin("GET", f"/os-hypervisors/{hyp['id']}", "2.88", params={"with_servers": "1"})
    # 2.75: always there when asked (other modules' servers may run on this shared host)
    assert isinstance(shown.json()["hypervisor"]["servers"], list)
    assert demo("GET", "/os-hypervisors").status_code == 403


def test_aggregates_and_zones(admin: Compute, demo: Compute) -> None:
    host = admin("GET", "/os-services", params={"binary": "nova-compute"}).json()["services"][0][
        "host"
    ]
    name, zone = unique("agg"), unique("az")
    made = check(
        admin(
            "POST",
            "/os-aggregates",
            "2.41",
            json={"aggregate": {"name": name, "availability_zone": zone}},
        ),
        "v2_41",
        "aggregates",
        "create_aggregate",
    )["aggregate"]
    agg = made["id"]
    assert made["availability_zone"] == zone
    assert admin("POST", "/os-aggregates", json={"aggregate": {"name": name}}).status_code == 409
    added = check(
        admin("POST", f"/os-aggregates/{agg}/action", "2.41", json={"add_host": {"host": host}}),
        "v2_41",
        "aggregates",
        "aggregate_add_remove_host",
    )["aggregate"]
    assert added["hosts"] == [host]
    assert (
        admin("POST", f"/os-aggregates/{agg}/action", json={"add_host": {"host": host}}).status_code
        == 409
    )
    assert (
        admin(
            "POST", f"/os-aggregates/{agg}/action", json={"add_host": {"host": "no-such-host"}}
        ).status_code
        == 404
    )
    # The host is now in the aggregate's zone: services and zones say so.
    svc = admin("GET", "/os-services", params={"host": host, "binary": "nova-compute"}).json()
    assert svc["services"][0]["zone"] == zone
    zones = {
        z["zoneName"]: z
        for z in admin("GET", "/os-availability-zone").json()["availabilityZoneInfo"]
    }
    assert zones[zone]["zoneState"]["available"] is True
    detail = check(
        admin("GET", "/os-availability-zone/detail"),
        "v2_1",
        "availability_zone",
        "list_availability_zone_list_detail",
    )["availabilityZoneInfo"]
    by_name = {z["zoneName"]: z for z in detail}
    assert "nova-compute" in by_name[zone]["hosts"][host]
    assert "internal" in by_name
    check(
        demo("GET", "/os-availability-zone"),
        "v2_1",
        "availability_zone",
        "list_availability_zone_list",
    )
    assert demo("GET", "/os-availability-zone/detail").status_code == 403

    meta = check(
        admin(
            "POST",
            f"/os-aggregates/{agg}/action",
            json={"set_metadata": {"metadata": {"ssd": "true"}}},
        ),
        "v2_1",
        "aggregates",
        "aggregate_set_metadata",
    )["aggregate"]
    assert meta["metadata"] == {"availability_zone": zone, "ssd": "true"}
    cleared = admin(
        "POST", f"/os-aggregates/{agg}/action", json={"set_metadata": {"metadata": {"ssd": None}}}
    ).json()
    assert cleared["aggregate"]["metadata"] == {"availability_zone": zone}
    # A second zone for the same host is refused.
    other = admin(
        "POST",
        "/os-aggregates",
        json={"aggregate": {"name": unique("agg"), "availability_zone": unique("az")}},
    ).json()["aggregate"]["id"]
    clash = admin("POST", f"/os-aggregates/{other}/action", json={"add_host": {"host": host}})
    assert clash.status_code in (400, 409)
    assert admin("DELETE", f"/os-aggregates/{other}").status_code == 200

    renamed = check(
        admin("PUT", f"/os-aggregates/{agg}", "2.41", json={"aggregate": {"name": name + "-x"}}),
        "v2_41",
        "aggregates",
        "update_aggregate",
    )["aggregate"]
    assert renamed["name"] == name + "-x"
    check(admin("GET", "/os-aggregates", "2.41"), "v2_41", "aggregates", "list_aggregates")
    check(admin("GET", f"/os-aggregates/{agg}"), "v2_1", "aggregates", "get_aggregate")
    assert admin("DELETE", f"/os-aggregates/{agg}").status_code == 400  # not empty
    admin("POST", f"/os-aggregates/{agg}/action", json={"remove_host": {"host": host}})
    assert (
        admin(
            "POST", f"/os-aggregates/{agg}/action", json={"remove_host": {"host": host}}
        ).status_code
        == 404
    )
    check(admin("DELETE", f"/os-aggregates/{agg}"), "v2_1", "aggregates", "delete_aggregate")
    assert admin("GET", f"/os-aggregates/{agg}").status_code == 404
    assert demo("GET", "/os-aggregates").status_code == 403
    assert admin("POST", "/os-aggregates", json={"aggregate": {}}).status_code == 400


def test_usage(admin: Compute, demo: Compute, project: str) -> None:
    params = {"start": "2020-01-01T00:00:00", "end": "2020-01-02T00:00:00", "detailed": "1"}
    check(
        admin("GET", "/os-simple-tenant-usage", params=params),
        "v2_1",
        "tenant_usages",
        "list_tenant_usage",
    )
    empty = admin("GET", f"/os-simple-tenant-usage/{project}", params=params)
    assert empty.status_code == 200 and empty.json() == {"tenant_usage": {}}
    assert admin("GET", "/os-simple-tenant-usage", params={"start": "yesterday"}).status_code == 400
    backwards = {"start": "2020-01-02T00:00:00", "end": "2020-01-01T00:00:00"}
    assert admin("GET", "/os-simple-tenant-usage", params=backwards).status_code == 400
    assert demo("GET", "/os-simple-tenant-usage").status_code == 403


def test_bad_microversion(admin: Compute) -> None:
    resp = admin("GET", "/flavors", "2.200")
    assert resp.status_code == 406
    assert admin("GET", "/flavors", "3.0").status_code in (400, 406)
    ok = admin("GET", "/flavors", "latest")
    assert ok.headers["OpenStack-API-Version"] == "compute 2.96"
