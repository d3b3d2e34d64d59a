"""The token catalog: endpoint URL templates are filled per token, as Keystone does."""

from __future__ import annotations

from tests.support.cloud import Cloud
from tests.support.fixtures import keystone_admin
from tests.support.keystone import V3, Admin, issue, password_body, unique

admin = keystone_admin("function")


def test_project_template_is_filled_and_dropped_without_a_project(
    cloud: Cloud, admin: Admin
) -> None:
    service_type = unique("object-store")
    svc = admin.request(
        "POST", "/services", 201, json={"service": {"type": service_type, "name": "swiftish"}}
    )["service"]
    template = "http://objects.example:8080/v1/AUTH_$(project_id)s"
    admin.request(
        "POST",
        "/endpoints",
        201,
        json={
            "endpoint": {
                "service_id": svc["id"],
                "interface": "public",
                "url": template,
                "region_id": "RegionOne",
            }
        },
    )
    try:
        # The endpoint API shows the template itself...
        listed = admin.request("GET", f"/endpoints?service_id={svc['id']}", 200)["endpoints"]
        assert [e["url"] for e in listed] == [template]
        # ...a project-scoped token's catalog shows it filled with the token's project...
        resp = admin.client.post(
            f"{V3}/auth/tokens",
            json=password_body(cloud.secrets["admin_password"], name="admin"),
        )
        token = resp.json()["token"]
        entry = next(s for s in token["catalog"] if s["type"] == service_type)
        assert [e["url"] for e in entry["endpoints"]] == [
            f"http://objects.example:8080/v1/AUTH_{token['project']['id']}"
        ]
        # ...as does GET /v3/auth/catalog...
        catalog = admin.request("GET", "/auth/catalog", 200)["catalog"]
        entry = next(s for s in catalog if s["type"] == service_type)
        assert entry["endpoints"][0]["url"].endswith(f"AUTH_{admin.project_id}")
        # ...and a domain-scoped token, which has no project, leaves that endpoint out.
        domain_token = issue(
            cloud,
            password_body(
                cloud.secrets["admin_password"], name="admin", scope={"domain": {"id": "default"}}
            ),
        )
        with cloud.http(domain_token) as c:
            catalog = c.get(f"{V3}/auth/catalog").json()["catalog"]
        entry = next(s for s in catalog if s["type"] == service_type)
        assert entry["endpoints"] == []
    finally:
        admin.request("DELETE", f"/services/{svc['id']}", 204)


def test_a_validated_tokens_catalog_follows_endpoint_changes(cloud: Cloud, admin: Admin) -> None:
    """A validated token's body is kept rendered: a new or deleted endpoint still shows at
    once, and ``nocatalog`` still leaves the catalog out."""
    subject = issue(cloud, password_body(cloud.secrets["admin_password"], name="admin"))
    headers = {"X-Subject-Token": subject}

    def validated(query: str = "") -> dict[str, object]:
        resp = admin.client.get(f"{V3}/auth/tokens{query}", headers=headers)
        assert resp.status_code == 200, resp.text
        assert resp.headers["X-Subject-Token"] == subject
        token: dict[str, object] = resp.json()["token"]
        return token

    def types() -> set[str]:
        catalog = validated()["catalog"]
        assert isinstance(catalog, list)
        return {s["type"] for s in catalog}

    before = validated()
    assert validated() == before  # the same body twice
    service_type = unique("cached")
    assert service_type not in types()
    svc = admin.request(
        "POST", "/services", 201, json={"service": {"type": service_type, "name": "cached"}}
    )["service"]
    admin.request(
        "POST",
        "/endpoints",
        201,
        json={
            "endpoint": {
                "service_id": svc["id"],
                "interface": "public",
                "url": "http://cached.example/v1",
                "region_id": "RegionOne",
            }
        },
    )
    try:
        assert service_type in types()
        assert "catalog" not in validated("?nocatalog")
        assert service_type in types()
    finally:
        admin.request("DELETE", f"/services/{svc['id']}", 204)
    assert service_type not in types()
    assert validated()["audit_ids"] == before["audit_ids"]
