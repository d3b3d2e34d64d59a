"""Object Storage CORS (Swift's rules from container metadata): preflights without a token,
the headers added to actual requests, strict mode for origins not allowed."""

from __future__ import annotations

import pytest

from tests.support.fixtures import unique
from tests.support.objects import Account, account_fixture

admin = account_fixture("onestack")

ORIGIN = "https://app.example.com"


@pytest.fixture
def container(admin: Account) -> str:
    name = unique("cors")
    headers = {
        "X-Container-Meta-Access-Control-Allow-Origin": f"https://other.example.com {ORIGIN}",
        "X-Container-Meta-Access-Control-Max-Age": "600",
        "X-Container-Meta-Access-Control-Expose-Headers": "X-Custom-One x-custom-two",
    }
    assert admin.request("PUT", name, headers=headers).status_code == 201
    resp = admin.request("PUT", f"{name}/o", content=b"x", headers={"X-Object-Meta-Color": "red"})
    assert resp.status_code == 201
    return name


def test_options_without_origin_lists_the_methods(admin: Account, container: str) -> None:
    obj = admin.anonymous.options(f"{container}/o")
    assert obj.status_code == 200
    assert set(obj.headers["allow"].split(", ")) == {
        "DELETE",
        "GET",
        "HEAD",
        "OPTIONS",
        "POST",
        "PUT",
        "COPY",
    }
    assert "access-control-allow-origin" not in obj.headers
    cont = admin.anonymous.options(container)
    assert cont.status_code == 200 and "COPY" not in cont.headers["allow"]
    assert admin.anonymous.options("").status_code == 200


def test_preflight_allowed_origin(admin: Account, container: str) -> None:
    resp = admin.anonymous.options(
        f"{container}/o",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "x-auth-token, content-type",
        },
    )
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] == ORIGIN
    assert resp.headers["access-control-max-age"] == "600"
    assert "PUT" in resp.headers["access-control-allow-methods"].split(", ")
    assert set(resp.headers["access-control-allow-headers"].split(", ")) == {
        "x-auth-token",
        "content-type",
    }
    assert resp.headers["vary"] == "Origin, Access-Control-Request-Headers"


def test_preflight_refused(admin: Account, container: str) -> None:
    def preflight(path: str, origin: str, method: str) -> int:
        headers = {"Origin": origin, "Access-Control-Request-Method": method}
        return admin.anonymous.options(path, headers=headers).status_code

    assert preflight(f"{container}/o", "https://evil.example.com", "GET") == 401
    assert preflight(f"{container}/o", ORIGIN, "PATCH") == 401  # a method not offered
    assert preflight(f"{unique('missing')}/o", ORIGIN, "GET") == 401  # no container: no rules
    assert preflight(f"{container}/o", ORIGIN, "GET") == 200


def test_actual_requests_get_cors_headers(admin: Account, container: str) -> None:
    resp = admin.request("GET", f"{container}/o", headers={"Origin": ORIGIN})
    assert resp.status_code == 200 and resp.content == b"x"
    assert resp.headers["access-control-allow-origin"] == ORIGIN
    assert resp.headers["vary"] == "Origin"
    exposed = set(resp.headers["access-control-expose-headers"].split(", "))
    assert {"etag", "x-trans-id", "x-object-meta-color", "x-custom-one", "x-custom-two"} <= exposed
    # Errors carry them too (a browser script may read why it failed).
    missing = admin.request("GET", f"{container}/nope", headers={"Origin": ORIGIN})
    assert missing.status_code == 404
    assert missing.headers["access-control-allow-origin"] == ORIGIN
    # Without Origin, or from an origin not allowed (strict mode): none.
    plain = admin.request("GET", f"{container}/o")
    assert "access-control-allow-origin" not in plain.headers
    other = admin.request("GET", f"{container}/o", headers={"Origin": "https://evil.example.com"})
    assert other.status_code == 200
    assert "access-control-allow-origin" not in other.headers
    assert "access-control-expose-headers" not in other.headers


def test_wildcard_origin(admin: Account) -> None:
    name = unique("corsall")
    headers = {"X-Container-Meta-Access-Control-Allow-Origin": "*"}
    assert admin.request("PUT", name, headers=headers).status_code == 201
    listing = admin.request("GET", name, headers={"Origin": "https://any.example.com"})
    assert listing.status_code == 204
    assert listing.headers["access-control-allow-origin"] == "*"
    assert "vary" not in listing.headers
    preflight = admin.anonymous.options(
        name, headers={"Origin": "https://any.example.com", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
