"""The Cinder v3 API over raw HTTP: version discovery and microversions, bodies held to
Tempest's response schemas, paging and filters, metadata, actions, policy and isolation
between projects, and bad input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud
from tests.support.fixtures import new_member, unique
from tests.support.volume import Volume, check_schema, volume_schema


def project_token(cloud: Cloud, role: str = "member") -> tuple[str, str]:
    _, project, token = new_member(cloud, role)
    return token, project


def client_of(cloud: Cloud, token: str, project: str) -> Iterator[Volume]:
    with cloud.http(token) as http:
        yield Volume(http, project)


@pytest.fixture(scope="module")
def admin(cloud: Cloud) -> Iterator[Volume]:
    token = cloud.token()
    with cloud.http(token) as http:
        project = http.get("/identity/v3/auth/tokens", headers={"X-Subject-Token": token})
        yield Volume(http, project.json()["token"]["project"]["id"])


@pytest.fixture(scope="module")
def alice(cloud: Cloud) -> Iterator[Volume]:
    yield from client_of(cloud, *project_token(cloud))


@pytest.fixture(scope="module")
def bob(cloud: Cloud) -> Iterator[Volume]:
    yield from client_of(cloud, *project_token(cloud))


def test_version_discovery(cloud: Cloud) -> None:
    root = httpx.get(f"{cloud.url}/volume/", timeout=30)
    assert root.status_code == 300
    (v3,) = root.json()["versions"]
    assert v3["id"] == "v3.0" and v3["min_version"] == "3.0" and v3["version"] == "3.70"
    assert any(link["href"] == f"{cloud.url}/volume/v3/" for link in v3["links"])
    assert httpx.get(f"{cloud.url}/volume/v3/", timeout=30).json()["versions"][0]["id"] == "v3.0"


def test_catalog_has_both_types(cloud: Cloud) -> None:
    with cloud.http() as http:
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"},
            "password": cloud.secrets["admin_password"]}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}  # fmt: skip
        catalog = http.post("/identity/v3/auth/tokens", json=body).json()["token"]["catalog"]
    types = {c["type"]: c for c in catalog}
    for kind in ("block-storage", "volumev3"):
        urls = {e["url"] for e in types[kind]["endpoints"]}
        assert any(u.startswith(f"{cloud.url}/volume/v3/") for u in urls), urls


def test_microversion_negotiated_and_echoed(alice: Volume) -> None:
    resp = alice("GET", "/volumes", "3.45")
    assert resp.headers["OpenStack-API-Version"] == "volume 3.45"
    assert alice("GET", "/volumes", "3.71").status_code == 406
    assert alice("GET", "/volumes", "2.9").status_code == 406
    latest = alice("GET", "/volumes", "latest")
    assert latest.headers["OpenStack-API-Version"] == "volume 3.70"


@pytest.mark.parametrize("mv,version", [("3.0", ""), ("3.61", "v3_61"), ("3.65", "v3_65")])
def test_bodies_match_tempest_schemas(admin: Volume, alice: Volume, mv: str, version: str) -> None:
    """As the owner (Tempest's view); show and list also as an admin (host attributes)."""
    made = check_schema(
        alice("POST", "/volumes", mv, json={"volume": {"size": 1, "name": unique("s")}}),
        volume_schema("volumes", "create_volume", version),
    )["volume"]
    alice.wait(made["id"], "available")
    check_schema(
        alice("GET", f"/volumes/{made['id']}", mv), volume_schema("volumes", "show_volume", version)
    )
    check_schema(
        alice("GET", "/volumes", mv), volume_schema("volumes", "list_volumes_no_detail", version)
    )
    check_schema(
        alice("GET", "/volumes/detail", mv),
        volume_schema("volumes", "list_volumes_with_detail", version),
    )
    for who in (alice, admin):
        check_schema(
            who("GET", f"/volumes/{made['id']}", mv),
            volume_schema("volumes", "show_volume", version),
        )
        check_schema(
            who("GET", "/volumes/detail", mv),
            volume_schema("volumes", "list_volumes_with_detail", version),
        )
    updated = alice("PUT", f"/volumes/{made['id']}", mv, json={"volume": {"description": "d"}})
    if not version:  # Tempest's later update schemas lag behind Cinder's (no 3.63+ fields)
        check_schema(updated, volume_schema("volumes", "update_volume"))
    assert updated.json()["volume"]["description"] == "d"
    check_schema(
        alice("DELETE", f"/volumes/{made['id']}", mv), volume_schema("volumes", "delete_volume")
    )


def test_types_quotas_limits_schemas(admin: Volume) -> None:
    name = unique("t")
    made = check_schema(
        admin("POST", "/types", json={"volume_type": {"name": name, "extra_specs": {"k": "v"}}}),
        volume_schema("volume_types", "create_volume_type"),
    )["volume_type"]
    check_schema(
        admin("GET", f"/types/{made['id']}"), volume_schema("volume_types", "show_volume_type")
    )
    check_schema(admin("GET", "/types"), volume_schema("volume_types", "list_volume_types"))
    specs = admin("GET", f"/types/{made['id']}/extra_specs").json()
    assert specs == {"extra_specs": {"k": "v"}}
    assert admin("DELETE", f"/types/{made['id']}").status_code == 202
    project = admin.project_id
    check_schema(
        admin("GET", f"/os-quota-sets/{project}"), volume_schema("quotas", "show_quota_set")
    )
    check_schema(
        admin("GET", f"/os-quota-sets/{project}?usage=True"),
        volume_schema("quotas", "show_quota_set_usage"),
    )
    check_schema(admin("GET", "/limits"), volume_schema("limits", "show_limits"))
    check_schema(
        admin("GET", "/os-services", "3.7"), volume_schema("services", "list_services", "v3_7")
    )
    check_schema(
        admin("GET", "/scheduler-stats/get_pools?detail=True"),
        volume_schema("scheduler_stats", "get_pools_with_detail"),
    )
    hosts = check_schema(admin("GET", "/os-hosts"), volume_schema("hosts", "list_hosts"))["hosts"]
    assert {h["service"] for h in hosts} == {"cinder-scheduler", "cinder-volume"}
    host = next(h["host_name"] for h in hosts if h["service"] == "cinder-volume")
    shown = admin("GET", f"/os-hosts/{host}").json()["host"]
    assert shown[0]["resource"]["project"] == "(total)"
    assert admin("GET", "/os-hosts/nowhere@x").status_code == 404
    check_schema(
        admin("GET", f"/capabilities/{host}"),
        volume_schema("capabilities", "show_backend_capabilities"),
    )


def test_paging_filters_and_count(alice: Volume) -> None:
    tag = unique("page")
    ids = [alice.create(name=f"{tag}-{i}", metadata={"tag": tag})["id"] for i in range(5)]
    for i in ids:
        alice.wait(i, "available")
    first = alice("GET", "/volumes/detail?limit=2&sort=name:asc&with_count=true", "3.45").json()
    assert len(first["volumes"]) == 2 and first["count"] >= 5
    assert first["volumes_links"][0]["rel"] == "next"
    names: list[str] = []
    marker = ""
    while True:
        page = alice("GET", f"/volumes?limit=2&sort=name:asc{marker}").json()["volumes"]
        names += [v["name"] for v in page]
        if len(page) < 2:
            break
        marker = f"&marker={page[-1]['id']}"
    assert [n for n in names if n.startswith(tag)] == [f"{tag}-{i}" for i in range(5)]
    by_meta = alice("GET", "/volumes", params={"metadata": f"{{'tag': '{tag}'}}"}).json()
    assert len(by_meta["volumes"]) == 5
    by_name = alice("GET", "/volumes", params={"name": f"{tag}-3"}).json()["volumes"]
    assert [v["id"] for v in by_name] == [ids[3]]
    assert "count" not in alice("GET", "/volumes?with_count=true", "3.44").json()
    summary = alice("GET", "/volumes/summary", "3.36").json()["volume-summary"]
    assert summary["total_count"] >= 5 and tag in summary["metadata"]["tag"]
    assert alice("GET", "/volumes/summary", "3.11").status_code == 404
    for i in ids:
        assert alice("DELETE", f"/volumes/{i}").status_code == 202


def test_metadata_api(alice: Volume) -> None:
    vid = alice.create(metadata={"a": "1"})["id"]
    alice.wait(vid, "available")
    assert alice("POST", f"/volumes/{vid}/metadata", json={"metadata": {"b": "2"}}).json() == {
        "metadata": {"a": "1", "b": "2"}
    }
    assert alice("PUT", f"/volumes/{vid}/metadata/b", json={"meta": {"b": "3"}}).json() == {
        "meta": {"b": "3"}
    }
    assert alice("GET", f"/volumes/{vid}/metadata/b").json() == {"meta": {"b": "3"}}
    assert alice("DELETE", f"/volumes/{vid}/metadata/a").status_code == 200
    assert alice("GET", f"/volumes/{vid}/metadata/a").status_code == 404
    assert alice("PUT", f"/volumes/{vid}/metadata", json={"metadata": {"c": "4"}}).json() == {
        "metadata": {"c": "4"}
    }
    assert alice("PUT", f"/volumes/{vid}/metadata/x", json={"meta": {"y": "1"}}).status_code == 400


def test_actions_and_status_machine(alice: Volume, admin: Volume) -> None:
    vid = alice.create()["id"]
    alice.wait(vid, "available")
    act = f"/volumes/{vid}/action"
    assert alice("POST", act, json={"os-extend": {"new_size": 1}}).status_code == 400
    assert alice("POST", act, json={"os-extend": {"new_size": 3}}).status_code == 202
    assert alice.wait(vid, "available")["size"] == 3
    assert alice("POST", act, json={"os-set_bootable": {"bootable": True}}).status_code == 200
    assert alice("GET", f"/volumes/{vid}").json()["volume"]["bootable"] == "true"
    assert (
        alice("POST", act, json={"os-update_readonly_flag": {"readonly": True}}).status_code == 202
    )
    # Admin-only actions: 403 for the owner, done for the admin.
    reset = {"os-reset_status": {"status": "error"}}
    assert alice("POST", act, json=reset).status_code == 403
    assert admin("POST", act, json=reset).status_code == 202
    assert alice("GET", f"/volumes/{vid}").json()["volume"]["status"] == "error"
    assert alice("POST", act, json={"os-extend": {"new_size": 4}}).status_code == 400
    assert admin("POST", act, json={"os-reset_status": {"status": "bogus"}}).status_code == 400
    assert alice("POST", act, json={"os-no-such": {}}).status_code == 400
    assert alice("POST", act, json={"os-force_delete": {}}).status_code == 403
    assert admin("POST", act, json={"os-force_delete": {}}).status_code == 202
    alice.wait(vid, "deleted")


def test_other_projects_volumes_are_404(alice: Volume, bob: Volume) -> None:
    vid = alice.create(name=unique("mine"))["id"]
    alice.wait(vid, "available")
    assert bob("GET", f"/volumes/{vid}").status_code == 404
    assert bob("PUT", f"/volumes/{vid}", json={"volume": {"name": "x"}}).status_code == 404
    assert bob("DELETE", f"/volumes/{vid}").status_code == 404
    assert bob("GET", f"/volumes/{vid}/metadata").status_code == 404
    assert (
        bob("POST", f"/volumes/{vid}/action", json={"os-extend": {"new_size": 2}}).status_code
        == 404
    )
    assert vid not in {v["id"] for v in bob("GET", "/volumes").json()["volumes"]}
    assert bob("POST", "/volumes", json={"volume": {"source_volid": vid}}).status_code == 404
    # The URL must name the caller's own project.
    foreign = Volume(bob.client, alice.project_id)
    assert foreign("GET", "/volumes").status_code == 400
    # 3.67: the project may be left out of the URL.
    assert (
        bob.client.get(
            "/volume/v3/volumes", headers={"OpenStack-API-Version": "volume 3.67"}
        ).status_code
        == 200
    )
    assert alice("DELETE", f"/volumes/{vid}").status_code == 202


def test_reader_reads_only(cloud: Cloud) -> None:
    token, project = project_token(cloud, "reader")
    with cloud.http(token) as http:
        reader = Volume(http, project)
        assert reader("GET", "/volumes").status_code == 200
        assert reader("POST", "/volumes", json={"volume": {"size": 1}}).status_code == 403
        assert (
            reader("POST", "/types", json={"volume_type": {"name": unique("t")}}).status_code == 403
        )
        assert reader("GET", "/os-services").status_code == 403


@pytest.mark.parametrize(
    "volume",
    [
        {"size": 0},
        {"size": -1},
        {"size": "abc"},
        {},
        {"size": 1, "volume_type": "no-such-type"},
        {"snapshot_id": "6a3b8e6e-4b6b-4d4e-9b1a-1f0f2c3d4e5f"},
        {"source_volid": "6a3b8e6e-4b6b-4d4e-9b1a-1f0f2c3d4e5f"},
        {"size": 1, "availability_zone": "nowhere"},
    ],
)
def test_bad_create_input(alice: Volume, volume: dict[str, object]) -> None:
    resp = alice("POST", "/volumes", json={"volume": volume})
    assert resp.status_code in (400, 404), resp.text
    body = resp.json()
    assert ("badRequest" in body) or ("itemNotFound" in body), body


def test_quota_and_pool_capacity(cloud: Cloud, admin: Volume) -> None:
    token, project = project_token(cloud)
    with cloud.http(token) as http:
        carol = Volume(http, project)
        quota = {"quota_set": {"gigabytes": 3, "volumes": 2}}
        assert admin("PUT", f"/os-quota-sets/{project}", json=quota).status_code == 200
        over = carol("POST", "/volumes", json={"volume": {"size": 4}})
        assert over.status_code == 413 and "gigabytes" in over.text
        a = carol.create(size=2)["id"]
        assert carol("POST", "/volumes", json={"volume": {"size": 2}}).status_code == 413
        carol.create(size=1)
        assert carol("POST", "/volumes", json={"volume": {"size": 0 + 1}}).status_code == 413
        # Beyond the pool (quota lifted): the volume ends in error with a user message.
        quota = {"quota_set": {"gigabytes": -1, "volumes": -1}}
        assert admin("PUT", f"/os-quota-sets/{project}", json=quota).status_code == 200
        huge = carol.create(size=10**7)
        assert carol.wait(huge["id"], "error")["status"] == "error"
        messages = carol("GET", "/messages", "3.3")
        check_schema(messages, volume_schema("messages", "list_messages"))
        mine = [m for m in messages.json()["messages"] if m["resource_uuid"] == huge["id"]]
        assert mine and "Could not find any available weighted backend" in mine[0]["user_message"]
        assert carol("DELETE", f"/volumes/{huge['id']}").status_code == 202
        carol.wait(huge["id"], "deleted")
        carol.wait(a, "available")
        assert carol("DELETE", f"/volumes/{a}").status_code == 202


def test_private_type_access(cloud: Cloud, admin: Volume, alice: Volume, bob: Volume) -> None:
    name = unique("priv")
    body = {"volume_type": {"name": name, "os-volume-type-access:is_public": False}}
    t = admin("POST", "/types", json=body).json()["volume_type"]
    assert t["is_public"] is False
    assert (
        alice("POST", "/volumes", json={"volume": {"size": 1, "volume_type": name}}).status_code
        == 404
    )
    add = {"addProjectAccess": {"project": alice.project_id}}
    assert admin("POST", f"/types/{t['id']}/action", json=add).status_code == 202
    # is_public=None (any case, as Cinder's is_none_string) lists private types with public.
    for none in ("None", "none"):
        listed = admin("GET", f"/types?is_public={none}").json()["volume_types"]
        assert t["id"] in {x["id"] for x in listed}
    assert t["id"] not in {
        x["id"] for x in admin("GET", "/types?is_public=true").json()["volume_types"]
    }
    access = admin("GET", f"/types/{t['id']}/os-volume-type-access").json()
    assert access["volume_type_access"] == [
        {"volume_type_id": t["id"], "project_id": alice.project_id}
    ]
    vid = alice.create(volume_type=name)["id"]
    assert alice.wait(vid, "available")["volume_type"] == name
    assert bob("GET", f"/types/{t['id']}").status_code == 404
    assert alice("DELETE", f"/volumes/{vid}").status_code == 202


def test_default_quota_class(cloud: Cloud, admin: Volume) -> None:
    shown = check_schema(
        admin("GET", "/os-quota-class-sets/default"),
        volume_schema("quota_classes", "show_quota_classes"),
    )
    assert shown["quota_class_set"]["volumes"] == 10
    body = {"quota_class_set": {"volumes": 11}}
    try:
        check_schema(
            admin("PUT", "/os-quota-class-sets/default", json=body),
            volume_schema("quota_classes", "update_quota_classes"),
        )
        _, project = project_token(cloud)
        assert admin("GET", f"/os-quota-sets/{project}").json()["quota_set"]["volumes"] == 11
    finally:
        admin("PUT", "/os-quota-class-sets/default", json={"quota_class_set": {"volumes": 10}})
    assert admin("PUT", "/os-quota-class-sets/other", json=body).status_code == 400


def test_project_default_type(admin: Volume, alice: Volume) -> None:
    name = unique("dflt")
    made = admin("POST", "/types", json={"volume_type": {"name": name}}).json()["volume_type"]
    body = {"default_type": {"volume_type": name}}
    url = f"/default-types/{alice.project_id}"
    assert admin("PUT", url, "3.61", json=body).status_code == 404
    assert alice("PUT", url, "3.62", json=body).status_code == 403
    set_ = admin("PUT", url, "3.62", json=body)
    assert set_.status_code == 200, set_.text
    assert set_.json()["default_type"] == {
        "project_id": alice.project_id,
        "volume_type_id": made["id"],
    }
    assert alice("GET", url, "3.62").json()["default_type"]["volume_type_id"] == made["id"]
    assert alice("GET", "/types/default").json()["volume_type"]["name"] == name
    vid = alice.create()["id"]
    assert alice.wait(vid, "available")["volume_type"] == name
    assert admin("DELETE", url, "3.62").status_code == 204
    assert admin("GET", url, "3.62").status_code == 404
    assert alice("DELETE", f"/volumes/{vid}").status_code == 202


def test_disabled_volume_service_takes_no_volumes(cloud: Cloud, admin: Volume) -> None:
    services = admin("GET", "/os-services?binary=cinder-volume").json()["services"]
    host = services[0]["host"]
    body = {"host": host, "binary": "cinder-volume", "disabled_reason": "maintenance"}
    done = check_schema(
        admin("PUT", "/os-services/disable-log-reason", json=body),
        volume_schema("services", "disable_log_reason"),
    )
    assert done["status"] == "disabled"
    try:
        shown = admin("GET", "/os-services?binary=cinder-volume").json()["services"][0]
        assert shown["status"] == "disabled" and shown["disabled_reason"] == "maintenance"
        token, project = project_token(cloud)
        with cloud.http(token) as http:
            carol = Volume(http, project)
            vid = carol.create()["id"]
            assert carol.wait(vid, "error")["status"] == "error"  # no pool takes it
            assert carol("DELETE", f"/volumes/{vid}").status_code == 202
    finally:
        enabled = admin(
            "PUT", "/os-services/enable", json={"host": host, "binary": "cinder-volume"}
        )
        check_schema(enabled, volume_schema("services", "enable_service"))
    assert (
        admin("GET", "/os-services?binary=cinder-volume").json()["services"][0]["status"]
        == "enabled"
    )


VOLUME_ID = "Invalid input for field 'volume_id': 'volume_id' is required"
EMPTY = "The request body is empty; a JSON document is required."
BAD_BODIES: list[tuple[str, str, str, Any, str]] = [
    # (method, path, microversion, body, Cinder's message): each way a body can be bad
    ("POST", "/os-volume-transfer", "3.0", {}, VOLUME_ID),
    ("POST", "/os-volume-transfer", "3.0", {"transfer": {"volume_id": 1}}, VOLUME_ID),
    ("POST", "/volume-transfers", "3.55", {"transfer": []}, VOLUME_ID),
    (
        "POST", "/os-volume-transfer/x/accept", "3.0", {"accept": {}},
        "Invalid input for field 'auth_key': 'auth_key' is required",
    ),
    (
        "POST", "/os-volume-transfer/x/accept", "3.0", [],
        "Invalid input for field 'auth_key': 'auth_key' is required",
    ),
    ("POST", "/attachments", "3.27", {"attachment": {}}, VOLUME_ID),
    ("POST", "/attachments", "3.27", None, EMPTY),
    (
        "PUT", "/os-quota-sets/{project}", "3.0", {"quota_set": []},
        "Invalid input for field 'quota_set': 'quota_set' is a required property",
    ),
    (
        "PUT", "/os-quota-sets/{project}", "3.0", {"quota_set": {"volumes": "x"}},
        "Quota volumes must be an integer, got 'x'.",
    ),
    (
        "PUT", "/os-quota-class-sets/default", "3.0", {},
        "Invalid input for field 'quota_class_set': 'quota_class_set' is a required property",
    ),
    (
        "PUT", "/os-quota-class-sets/default", "3.0", {"quota_class_set": {"volumes": []}},
        "Quota class values must be integers.",
    ),
    ("PUT", "/os-services/enable", "3.0", {}, "Missing or invalid host or binary."),
    ("PUT", "/os-services/disable", "3.0", [], "Missing or invalid host or binary."),
    (
        "PUT", "/os-services/disable-log-reason", "3.0", {"host": "h", "binary": "cinder-volume"},
        "Disabled reason contains invalid characters or is too long",
    ),
    (
        "PUT", "/os-services/freeze", "3.0", {"host": 1},
        "Invalid input received: Host 1 is not valid.",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "mv", "body", "words"), BAD_BODIES)
def test_bad_bodies_are_400_in_cinders_words(
    admin: Volume, method: str, path: str, mv: str, body: Any, words: str
) -> None:
    resp = admin(method, path.format(project=admin.project_id), mv, json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"badRequest": {"code": 400, "message": words}}


def test_bad_attachment_bodies_are_400_in_cinders_words(alice: Volume) -> None:
    vol = alice.create()
    alice.wait(vol["id"], "available")
    resp = alice("POST", "/attachments", "3.27", json={"attachment": {"volume_id": vol["id"]}})
    assert resp.status_code == 200, resp.text
    att = resp.json()["attachment"]["id"]
    for body in ({"attachment": {}}, {"attachment": {"connector": []}}, []):
        resp = alice("PUT", f"/attachments/{att}", "3.27", json=body)
        assert resp.status_code == 400, resp.text
        words = "Invalid input for field 'connector': 'connector' is required"
        assert resp.json()["badRequest"]["message"] == words
    for body in ({"os-complete": {}, "x": 1}, {"complete": None}, []):
        resp = alice("POST", f"/attachments/{att}/action", "3.44", json=body)
        assert resp.status_code == 400, resp.text
        words = "The only attachment action is os-complete."
        assert resp.json()["badRequest"]["message"] == words
    assert alice("DELETE", f"/attachments/{att}", "3.27").status_code == 200
    assert alice("DELETE", f"/volumes/{vol['id']}").status_code == 202


MISMATCH = "Request body and URI mismatch"
ONE_ACTION = "The body must name one action."


def _field(name: str, reason: str) -> str:
    return f"Invalid input for field '{name}': {reason}"


def test_bad_type_qos_and_metadata_bodies_are_400_in_cinders_words(
    admin: Volume, alice: Volume
) -> None:
    t = admin("POST", "/types", json={"volume_type": {"name": unique("words")}}).json()
    tid = t["volume_type"]["id"]
    q = admin("POST", "/qos-specs", json={"qos_specs": {"name": unique("words")}}).json()
    qid = q["qos_specs"]["id"]
    vol = alice.create()
    alice.wait(vol["id"], "available")
    snap = alice("POST", "/snapshots", json={"snapshot": {"volume_id": vol["id"]}}).json()
    sid = snap["snapshot"]["id"]
    volume_type = _field("volume_type", "'volume_type' is a required property")
    default = f"/default-types/{admin.project_id}"
    keys = _field("keys", "'keys' is a list of strings")
    cases: list[tuple[Volume, str, str, str, Any, str]] = [
        (admin, "POST", "/types", "3.0", {}, volume_type),
        (admin, "POST", "/types", "3.0", {"volume_type": []}, volume_type),
        (
            admin, "POST", "/types", "3.0", {"volume_type": {"name": ""}},
            _field("name", "String should have at least 1 character"),
        ),
        (admin, "PUT", f"/types/{tid}/extra_specs/k", "3.0", {"j": "v"}, MISMATCH),
        (admin, "PUT", f"/types/{tid}/extra_specs/k", "3.0", {"k": "v", "j": "v"}, MISMATCH),
        (admin, "POST", f"/types/{tid}/action", "3.0", {"a": {}, "b": {}}, ONE_ACTION),
        (
            admin, "POST", f"/types/{tid}/action", "3.0", {"grant": {}},
            "There is no such action: grant",
        ),
        (
            admin, "POST", f"/types/{tid}/action", "3.0", {"addProjectAccess": {"project": ""}},
            _field("project", "'project' is a required property"),
        ),
        (
            admin, "PUT", default, "3.62", {"default_type": {}},
            _field("volume_type", "'volume_type' is required"),
        ),
        (admin, "PUT", default, "3.62", [], _field("volume_type", "'volume_type' is required")),
        (admin, "POST", "/qos-specs", "3.0", {}, _field("qos_specs", "'qos_specs' is required")),
        (
            admin, "POST", "/qos-specs", "3.0", {"qos_specs": {"name": " "}},
            _field("name", "'name' is required"),
        ),
        (
            admin, "PUT", f"/qos-specs/{qid}", "3.0", {"qos_specs": []},
            _field("qos_specs", "'qos_specs' is required"),
        ),
        (admin, "PUT", f"/qos-specs/{qid}/delete_keys", "3.0", {"keys": [1]}, keys),
        (admin, "PUT", f"/qos-specs/{qid}/delete_keys", "3.0", [], keys),
        (alice, "PUT", f"/volumes/{vol['id']}/metadata/k", "3.0", {"meta": {"j": "v"}}, MISMATCH),
        (alice, "PUT", f"/volumes/{vol['id']}/metadata/k", "3.0", [], MISMATCH),
        (alice, "PUT", f"/snapshots/{sid}/metadata/k", "3.0", {"meta": {"j": "v"}}, MISMATCH),
        (alice, "PUT", f"/snapshots/{sid}/metadata/k", "3.0", {"meta": []}, MISMATCH),
        (alice, "POST", f"/snapshots/{sid}/action", "3.0", {"a": {}, "b": {}}, ONE_ACTION),
        (alice, "POST", f"/snapshots/{sid}/action", "3.0", [], ONE_ACTION),
    ]  # fmt: skip
    for who, method, path, mv, body, words in cases:
        resp = who(method, path, mv, json=body)
        assert resp.status_code == 400, (path, body, resp.text)
        assert resp.json() == {"badRequest": {"code": 400, "message": words}}, (path, body)


def test_bad_volume_action_bodies_are_400_in_cinders_words(admin: Volume) -> None:
    vol = admin.create()
    admin.wait(vol["id"], "available")
    path = f"/volumes/{vol['id']}/action"
    one = "There is no such action: the body must name one action."
    upload = "os-volume_upload_image"
    cases: list[tuple[str, Any, str]] = [
        ("3.0", {"a": {}, "b": {}}, one),
        ("3.0", [], one),
        ("3.0", {"os-nothing": {}}, "There is no such action: os-nothing"),
        ("3.68", {"os-reimage": {}}, _field("image_id", "'image_id' is a required property")),
        (
            "3.68", {"os-reimage": {"image_id": "i", "reimage_reserved": "maybe"}},
            _field("reimage_reserved", "'maybe' is not a boolean"),
        ),
        ("3.0", {"os-reset_status": []}, _field("os-reset_status", "must be an object")),
        ("3.0", {"os-set_bootable": {}}, _field("bootable", "'bootable' is a required property")),
        (
            "3.0", {"os-set_bootable": {"bootable": "maybe"}},
            _field("bootable", "'maybe' is not a boolean"),
        ),
        (
            "3.0", {"os-update_readonly_flag": None},
            _field("readonly", "'readonly' is a required property"),
        ),
        (
            "3.0", {"os-update_readonly_flag": {"readonly": 2}},
            _field("readonly", "2 is not a boolean"),
        ),
        (
            "3.0", {"os-set_image_metadata": {"metadata": []}},
            _field("metadata", "'metadata' is a required property"),
        ),
        (
            "3.0", {"os-unset_image_metadata": {"key": 1}},
            _field("key", "'key' is a required property"),
        ),
        ("3.0", {"os-retype": {}}, _field("new_type", "'new_type' is required")),
        (
            "3.0", {"os-retype": {"new_type": "t", "migration_policy": "always"}},
            _field("migration_policy", "never or on-demand"),
        ),
        ("3.40", {"revert": {}}, _field("snapshot_id", "'snapshot_id' is required")),
        ("3.0", {upload: []}, _field("image_name", "'image_name' is required")),
        (
            "3.0", {upload: {"image_name": "i", "disk_format": "vmdk"}},
            "Invalid disk-format 'vmdk' is specified. Allowed disk-formats are raw, qcow2.",
        ),
        (
            "3.0", {upload: {"image_name": "i", "force": "x"}},
            _field("force", "'x' is not a boolean"),
        ),
        ("3.0", {"os-extend": {}}, _field("new_size", "this field is required")),
    ]  # fmt: skip
    for mv, body, words in cases:
        resp = admin("POST", path, mv, json=body)
        assert resp.status_code == 400, (body, resp.text)
        assert resp.json() == {"badRequest": {"code": 400, "message": words}}, body
    assert admin("DELETE", f"/volumes/{vol['id']}").status_code == 202
