"""Nova's image proxy (/images below 2.36) through openstacksdk's compute proxy and raw HTTP:
the image service's images as the caller sees them, their metadata, and 404 from 2.36."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openstack
import pytest

from tests.support.cloud import Cloud
from tests.support.keystone import Admin, issue, password_body, project_scope, unique


@pytest.fixture(scope="module")
def conn(cloud: Cloud) -> Iterator[Any]:
    c = cloud.sdk()
    yield c
    c.close()


def _image(conn: Any, **props: str) -> Any:
    image = conn.image.create_image(
        name=unique("img"), disk_format="raw", container_format="bare", data=b"x" * 1024, **props
    )
    return conn.image.wait_for_status(image, "active")


def test_image_proxy_lists_shows_and_deletes(cloud: Cloud, conn: Any) -> None:
    image = _image(conn, visibility="private")
    listed = {i.id for i in conn.compute.images()}
    assert image.id in listed
    shown = conn.compute.get_image(image.id)
    assert (shown.name, shown.status, shown.progress) == (image.name, "ACTIVE", 100)
    assert shown.min_ram == 0 and shown.size == 1024
    token = cloud.token()
    with cloud.http(token) as c:
        v = "/compute/v2.1/images"
        body = c.get(f"{v}/detail?name={image.name}").json()["images"]
        assert [i["id"] for i in body] == [image.id]
        assert {link["rel"] for link in body[0]["links"]} == {"self", "bookmark", "alternate"}
        assert c.get(f"{v}?status=ACTIVE&limit=1").json()["images_links"][0]["rel"] == "next"
        # Gone from 2.36 on.
        r = c.get(f"{v}/{image.id}", headers={"X-OpenStack-Nova-API-Version": "2.36"})
        assert r.status_code == 404
    # Another project's member does not see a private image.
    admin = Admin(cloud)
    user, project_id = admin.member_of_new_project()
    admin.close()
    other = issue(
        cloud, password_body(user.password, user_id=user.id, scope=project_scope(project_id))
    )
    with cloud.http(other) as c:
        assert c.get(f"/compute/v2.1/images/{image.id}").status_code == 404
        assert c.delete(f"/compute/v2.1/images/{image.id}").status_code == 404
    conn.compute.delete_image(image.id)
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.compute.get_image(image.id)
    assert conn.image.find_image(image.id) is None


def test_image_proxy_metadata(cloud: Cloud, conn: Any) -> None:
    image = _image(conn)
    compute_image = conn.compute.get_image(image.id)
    conn.compute.set_image_metadata(compute_image, k0="", k1="v1")
    # (the SDK's image upload adds owner_specified.* properties of its own)
    metadata = conn.compute.fetch_image_metadata(compute_image).metadata
    assert (metadata["k0"], metadata["k1"]) == ("", "v1")
    assert conn.image.get_image(image.id).properties["k1"] == "v1"  # it is Glance's property
    conn.compute.delete_image_metadata(compute_image, ["k0"])
    metadata = conn.compute.fetch_image_metadata(compute_image).metadata
    assert "k0" not in metadata and metadata["k1"] == "v1"
    with cloud.http(cloud.token()) as c:
        base = f"/compute/v2.1/images/{image.id}/metadata"
        assert c.get(f"{base}/k1").json() == {"meta": {"k1": "v1"}}
        assert c.get(f"{base}/nope").status_code == 404
        r = c.put(f"{base}/k2", json={"meta": {"other": "x"}})
        assert r.status_code == 400
        r = c.put(base, json={"metadata": {"only": "this"}})
        assert r.json() == {"metadata": {"only": "this"}}
        assert c.delete(f"{base}/k1").status_code == 404
        too_many = {f"k{i}": "v" for i in range(129)}
        assert c.post(base, json={"metadata": too_many}).status_code == 403
    conn.image.delete_image(image)
