"""Object Storage symlinks (Swift's symlink middleware): dynamic and static links, following
on reads with the caller's rights, ?symlink=get, loops, POST's 307, COPY, listings."""

from __future__ import annotations

import hashlib

import pytest

from tests.support.fixtures import unique
from tests.support.objects import Account, account_fixture

admin = account_fixture("onestack")
demo = account_fixture("onestack-demo")


@pytest.fixture
def container(admin: Account) -> str:
    name = unique("ln")
    assert admin.request("PUT", name).status_code == 201
    assert admin.request("PUT", f"{name}/file.txt", content=b"target bytes").status_code == 201
    return name


def link(admin: Account, path: str, target: str, **headers: str) -> int:
    sent = {"X-Symlink-Target": target, **{k.replace("_", "-"): v for k, v in headers.items()}}
    return admin.request("PUT", path, content=b"", headers=sent).status_code


def test_dynamic_link_follows_and_lists(admin: Account, container: str) -> None:
    assert link(admin, f"{container}/link", f"{container}/file.txt") == 201
    got = admin.request("GET", f"{container}/link")
    assert got.status_code == 200 and got.content == b"target bytes"
    assert got.headers["content-location"].endswith(f"/{container}/file.txt")
    head = admin.request("HEAD", f"{container}/link")
    assert head.headers["content-length"] == str(len(b"target bytes"))
    own = admin.request("GET", f"{container}/link", params={"symlink": "get"})
    assert own.status_code == 200 and own.content == b""
    assert own.headers["x-symlink-target"] == f"{container}/file.txt"
    assert own.headers["content-type"] == "application/symlink"
    assert not any("sysmeta" in k for k in own.headers)
    rows = {r["name"]: r for r in admin.request("GET", container, params={"format": "json"}).json()}
    assert rows["link"]["content_type"] == "application/symlink"
    assert rows["link"]["symlink_path"].endswith(f"/{container}/file.txt")
    assert "symlink_path" not in rows["file.txt"]
    xml = admin.request("GET", container, params={"format": "xml"}).text
    assert "symlink_target" not in xml
    # A broken link answers 404; DELETE removes the link, not the target.
    assert admin.request("DELETE", f"{container}/file.txt").status_code == 204
    assert admin.request("GET", f"{container}/link").status_code == 404
    assert admin.request("DELETE", f"{container}/link").status_code == 204


def test_static_link_checks_the_etag(admin: Account, container: str) -> None:
    etag = hashlib.md5(b"target bytes", usedforsecurity=False).hexdigest()
    path = f"{container}/static"
    assert link(admin, path, f"{container}/file.txt", X_Symlink_Target_Etag="0" * 32) == 409
    assert link(admin, path, f"{container}/missing", X_Symlink_Target_Etag=etag) == 409
    assert link(admin, path, f"{container}/file.txt", X_Symlink_Target_Etag=etag) == 201
    rows = admin.request("GET", container, params={"format": "json"}).json()
    row = next(r for r in rows if r["name"] == "static")
    assert row["symlink_etag"] == etag and row["symlink_bytes"] == len(b"target bytes")
    assert admin.request("GET", path).content == b"target bytes"
    assert admin.request("PUT", f"{container}/file.txt", content=b"changed").status_code == 201
    assert admin.request("GET", path).status_code == 409  # the target is not that object now


def test_bad_links_and_loops(admin: Account, container: str) -> None:
    assert link(admin, f"{container}/x", "no-slash") == 412
    assert link(admin, f"{container}/x", f"/{container}/file.txt") == 412
    assert link(admin, f"{container}/x", f"{container}/x") == 400  # itself
    body = admin.request(
        "PUT", f"{container}/x", content=b"data", headers={"X-Symlink-Target": f"{container}/a"}
    )
    assert body.status_code == 400
    for name, target in (("l1", "l2"), ("l2", "l3"), ("l3", "l4"), ("l4", "file.txt")):
        assert link(admin, f"{container}/{name}", f"{container}/{target}") == 201
    assert admin.request("GET", f"{container}/l3").content == b"target bytes"  # two hops
    assert admin.request("GET", f"{container}/l1").status_code == 409  # more than two


def test_post_copy_and_rights(admin: Account, demo: Account, container: str) -> None:
    assert link(admin, f"{container}/link", f"{container}/file.txt") == 201
    post = admin.request("POST", f"{container}/link", headers={"X-Object-Meta-A": "b"})
    assert post.status_code == 307
    assert post.headers["location"].endswith(f"/{container}/file.txt")
    own = admin.request("HEAD", f"{container}/link", params={"symlink": "get"})
    assert own.headers["x-object-meta-a"] == "b"
    assert admin.request("GET", f"{container}/link").content == b"target bytes"  # still a link
    refused = admin.request("POST", f"{container}/link", headers={"X-Symlink-Target": "a/b"})
    assert refused.status_code == 400
    copied = admin.request("COPY", f"{container}/link", headers={"Destination": f"{container}/c"})
    assert copied.status_code == 201
    assert admin.request("GET", f"{container}/c", params={"symlink": "get"}).content == (
        b"target bytes"
    )
    # A link another project can read, to an object it cannot: its rights decide.
    public = unique("pub")
    assert admin.request("PUT", public, headers={"X-Container-Read": ".r:*"}).status_code == 201
    assert link(admin, f"{public}/link", f"{container}/file.txt") == 201
    assert admin.anonymous.get(f"{public}/link").status_code == 401
    assert demo.http.get(f"{admin.url}/{public}/link").status_code == 403
