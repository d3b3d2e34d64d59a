"""The compute API's legacy corners that old clients and Tempest still call: the v2.0
endpoint, ``/extensions`` and ``os-hosts`` (gone from 2.43), against Tempest's schemas."""

from __future__ import annotations

import httpx

from tests.api.test_compute_catalog_api import Compute, check
from tests.support.cloud import Cloud
from tests.support.fixtures import http_client

admin = http_client("onestack", Compute)
demo = http_client("onestack-demo", Compute)


def test_versions_list_v20_first_and_each_self_link_answers(cloud: Cloud) -> None:
    with httpx.Client(base_url=cloud.url, timeout=30) as anon:
        versions = anon.get("/compute/").json()["versions"]
        assert [v["id"] for v in versions] == ["v2.0", "v2.1"]
        for v in versions:
            (self_link,) = [lk["href"] for lk in v["links"] if lk["rel"] == "self"]
            doc = anon.get(self_link).json()["version"]
            assert doc["id"] == v["id"]
            assert [lk["href"] for lk in doc["links"] if lk["rel"] == "self"] == [self_link]
    assert versions[0]["status"] == "DEPRECATED" and versions[0]["version"] == ""


def test_v20_serves_the_api_without_microversions(admin: Compute) -> None:
    resp = admin.client.get(
        "/compute/v2/flavors/detail", headers={"OpenStack-API-Version": "compute 2.61"}
    )
    assert resp.status_code == 200, resp.text
    # No microversion on v2.0: the 2.61 extra_specs field is absent, no version header.
    assert "extra_specs" not in resp.json()["flavors"][0]
    assert "OpenStack-API-Version" not in resp.headers


def test_extensions(admin: Compute, demo: Compute) -> None:
    body = check(demo("GET", "/extensions"), "v2_1", "extensions", "list_extensions")
    aliases = [e["alias"] for e in body["extensions"]]
    assert "os-hosts" in aliases and "os-consoles" in aliases
    one = admin("GET", "/extensions/os-consoles").json()["extension"]
    assert one["alias"] == "os-consoles" and one["name"] == "Consoles"
    assert admin("GET", "/extensions/os-no-such").status_code == 404


def test_os_hosts(admin: Compute, demo: Compute) -> None:
    body = check(admin("GET", "/os-hosts", "2.42"), "v2_1", "hosts", "list_hosts")
    services = {h["service"] for h in body["hosts"]}
    assert {"compute", "conductor", "scheduler"} <= services
    compute = next(h for h in body["hosts"] if h["service"] == "compute")
    assert compute in admin("GET", "/os-hosts", params={"zone": compute["zone"]}).json()["hosts"]
    assert admin("GET", "/os-hosts", params={"zone": "no-such"}).json()["hosts"] == []
    name = compute["host_name"]
    shown = check(admin("GET", f"/os-hosts/{name}"), "v2_1", "hosts", "get_host_detail")
    projects = [r["resource"]["project"] for r in shown["host"]]
    assert projects[:3] == ["(total)", "(used_now)", "(used_max)"]
    assert shown["host"][0]["resource"]["host"] == name and shown["host"][0]["resource"]["cpu"]
    assert admin("GET", "/os-hosts/no-such").status_code == 404
    assert demo("GET", "/os-hosts").status_code == 403
    assert admin("GET", "/os-hosts", "2.43").status_code == 404

    assert admin("PUT", f"/os-hosts/{name}", json={"status": "off"}).status_code == 400
    assert admin("PUT", f"/os-hosts/{name}", json={}).status_code == 400
    assert admin("PUT", "/os-hosts/no-such", json={"status": "enable"}).status_code == 404
    assert admin("GET", "/os-hosts/no-such/reboot").status_code == 404
    assert demo("GET", f"/os-hosts/{name}/reboot").status_code == 403
    try:
        check(
            admin("PUT", f"/os-hosts/{name}", json={"status": "disable"}),
            "v2_1",
            "hosts",
            "update_host",
        )
        svc = admin("GET", "/os-services", params={"host": name, "binary": "nova-compute"})
        assert svc.json()["services"][0]["status"] == "disabled"
    finally:
        admin("PUT", f"/os-hosts/{name}", json={"status": "enable"})
