"""Domain-specific configuration through openstacksdk and raw HTTP: whole config, groups and
options, the defaults, sensitive options never shown, and Keystone's errors."""

from __future__ import annotations

from typing import Any

from tests.support.cloud import Cloud
from tests.support.fixtures import keystone_admin, member_of_new_project
from tests.support.keystone import (
    V3,
    Admin,
    assert_error,
    unique,
)

admin = keystone_admin("function")


def test_domain_config_through_the_sdk(cloud: Cloud, admin: Admin) -> None:
    conn: Any = cloud.sdk()
    domain = conn.identity.create_domain(name=unique("dom"))
    made = conn.identity.create_domain_config(
        domain, identity={"driver": "ldap"}, ldap={"url": "ldap://a", "password": "s3cret"}
    )
    assert made.ldap.url == "ldap://a"
    conn.identity.update_domain_config(domain, ldap={"url": "ldap://b"})
    shown = conn.identity.get_domain_config(domain)
    assert shown.ldap.url == "ldap://b" and shown.identity.driver == "ldap"
    raw = admin.request("GET", f"/domains/{domain.id}/config", 200)["config"]
    assert raw == {"identity": {"driver": "ldap"}, "ldap": {"url": "ldap://b"}}  # no password
    conn.identity.delete_domain_config(domain, ignore_missing=False)
    admin.request("GET", f"/domains/{domain.id}/config", 404)
    conn.identity.update_domain(domain, enabled=False)
    conn.identity.delete_domain(domain)
    conn.close()


def test_domain_config_groups_options_and_defaults(cloud: Cloud, admin: Admin) -> None:
    domain = admin.request("POST", "/domains", 201, json={"domain": {"name": unique("d")}})[
        "domain"
    ]
    base = f"/domains/{domain['id']}/config"
    body = {"config": {"identity": {"driver": "ldap"}}}
    assert admin.request("PUT", base, 201, json=body)["config"] == body["config"]
    assert admin.request("PUT", base, 200, json=body)["config"] == body["config"]
    grp = {"config": {"identity": {"driver": "x", "list_limit": 7}}}
    assert admin.request("PATCH", f"{base}/identity", 200, json=grp)["config"]["identity"] == {
        "driver": "x",
        "list_limit": 7,
    }
    opt = admin.request("PATCH", f"{base}/identity/driver", 200, json={"config": {"driver": "y"}})
    assert opt["config"]["identity"]["driver"] == "y"
    assert admin.request("GET", f"{base}/identity/driver", 200) == {"config": {"driver": "y"}}
    # A group not yet configured cannot be patched through its path; unknown options are 403.
    admin.request("PATCH", f"{base}/ldap", 404, json={"config": {"ldap": {"url": "u"}}})
    bad = {"config": {"identity": {"colour": "red"}}}
    assert_error(admin.client.patch(f"{V3}{base}", json=bad), 403)
    assert_error(admin.client.put(f"{V3}{base}", json={"config": {"nope": {"a": 1}}}), 403)
    admin.request("DELETE", f"{base}/identity/driver", 204)
    admin.request("GET", f"{base}/identity/driver", 404)
    admin.request("DELETE", f"{base}/identity", 204)
    admin.request("GET", f"{base}/identity", 404)
    # The defaults.
    defaults = admin.request("GET", "/domains/config/default", 200)["config"]
    assert defaults["identity"] == {"driver": "sql", "list_limit": None}
    assert "password" not in defaults["ldap"] and defaults["ldap"]["url"] == "ldap://localhost"
    ldap = admin.request("GET", "/domains/config/ldap/default", 200)["config"]
    assert set(ldap) == {"ldap"}
    assert admin.request("GET", "/domains/config/identity/driver/default", 200) == {
        "config": {"driver": "sql"}
    }
    # A member reads neither; everyone reads the default domain's password rules.
    with member_of_new_project(cloud, admin).client as c:
        assert_error(c.get(f"{V3}/domains/config/default"), 403)
        assert_error(c.get(f"{V3}{base}"), 403)
        rules = c.get(f"{V3}/domains/default/config/security_compliance")
        assert rules.status_code == 200
        assert set(rules.json()["config"]["security_compliance"]) == {
            "password_regex",
            "password_regex_description",
        }
