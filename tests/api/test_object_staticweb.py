"""Object Storage static web (Swift's staticweb): index pages, HTML listings, error pages,
redirects to the trailing slash, directory markers; only without a token (or X-Web-Mode)
and only as far as the container's read ACL allows."""

from __future__ import annotations

import pytest

from tests.support.fixtures import unique
from tests.support.objects import Account, account_fixture

admin = account_fixture("onestack")


@pytest.fixture
def site(admin: Account) -> str:
    name = unique("web")
    assert admin.request("PUT", name, headers={"X-Container-Read": ".r:*,.rlistings"}).is_success
    for obj, body in (
        ("index.html", b"<h1>home</h1>"),
        ("docs/index.html", b"<h1>docs</h1>"),
        ("files/a.txt", b"a" * 2048),
        ("files/sub/b.txt", b"b"),
        ("404error.html", b"<h1>lost</h1>"),
    ):
        assert admin.request("PUT", f"{name}/{obj}", content=body).status_code == 201
    marker = {"Content-Type": "application/directory"}
    assert admin.request("PUT", f"{name}/files", content=b"", headers=marker).status_code == 201
    return name


def web(admin: Account, container: str, **meta: str) -> None:
    headers = {f"X-Container-Meta-Web-{k.replace('_', '-')}": v for k, v in meta.items()}
    assert admin.request("POST", container, headers=headers).status_code == 204


def test_index_and_redirects(admin: Account, site: str) -> None:
    web(admin, site, index="index.html")
    bare = admin.anonymous.get(site)
    assert bare.status_code == 301
    assert bare.headers["location"].endswith(f"/{site}/")
    home = admin.anonymous.get(f"{site}/")
    assert home.status_code == 200 and home.content == b"<h1>home</h1>"
    docs = admin.anonymous.get(f"{site}/docs")
    assert docs.status_code == 301 and docs.headers["location"].endswith(f"/{site}/docs/")
    assert admin.anonymous.get(f"{site}/docs/").content == b"<h1>docs</h1>"
    assert admin.anonymous.get(f"{site}/", follow_redirects=True).status_code == 200
    # With a token the API answers as always (a container GET is its listing).
    assert "index.html" in admin.request("GET", f"{site}/").text.split("\n")
    web_mode = admin.request("GET", f"{site}/", headers={"X-Web-Mode": "true"})
    assert web_mode.content == b"<h1>home</h1>"


def test_listings_css_and_directory_markers(admin: Account, site: str) -> None:
    web(admin, site, listings="true", listings_css="style.css")
    page = admin.anonymous.get(f"{site}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<link rel="stylesheet" type="text/css" href="style.css" />' in page.text
    assert '<a href="./docs/">docs/</a>' in page.text
    assert '<a href="./index%2Ehtml">index.html</a>' in page.text
    # A directory marker is no object: its path lists what is below it.
    files = admin.anonymous.get(f"{site}/files")
    assert files.status_code == 301
    listing = admin.anonymous.get(f"{site}/files/")
    assert listing.status_code == 200
    assert '<a href="../">../</a>' in listing.text
    assert 'href="../style.css"' in listing.text
    assert '<td class="colsize">2Ki</td>' in listing.text
    assert '<a href="./sub/">sub/</a>' in listing.text
    assert admin.anonymous.get(f"{site}/nothing/").status_code == 404


def test_error_pages(admin: Account, site: str) -> None:
    web(admin, site, listings="true", error="error.html")
    missing = admin.anonymous.get(f"{site}/nothing")
    assert missing.status_code == 404 and missing.content == b"<h1>lost</h1>"
    # Listings without the ACL for them: 401, and no error page named 401error.html.
    assert admin.request("POST", site, headers={"X-Container-Read": ".r:*"}).is_success
    assert admin.anonymous.get(f"{site}/").status_code == 401
    assert admin.anonymous.get(f"{site}/index.html").status_code == 200  # objects still read


def test_listings_disabled_and_no_acl(admin: Account, site: str) -> None:
    web(admin, site, index="missing.html")
    page = admin.anonymous.get(f"{site}/")
    assert page.status_code == 404 and "Web Listing Disabled" in page.text
    private = unique("private")
    assert admin.request("PUT", private, headers={"X-Container-Meta-Web-Index": "i"}).is_success
    assert admin.request("PUT", f"{private}/i", content=b"secret").status_code == 201
    assert admin.anonymous.get(f"{private}/").status_code == 401
    assert admin.anonymous.get(f"{private}/i").status_code == 401
    # Not a static web container: the API's own answers.
    plain = unique("plain")
    assert admin.request("PUT", plain).is_success
    assert admin.anonymous.get(plain).status_code == 401
    assert admin.anonymous.get(plain, headers={"X-Web-Mode": "true"}).status_code == 404
