"""Image metadata definitions through the real clients: the standard namespaces Glance ships
(what the dashboard's property editor reads), namespaces with their resource types, objects,
properties and tags, their schemas, and who may see and change them."""

from __future__ import annotations

from typing import Any

import pytest
from openstack import exceptions

from tests.support.cloud import Cloud
from tests.support.fixtures import sdk_connection, unique

admin = sdk_connection("onestack")
demo = sdk_connection("onestack-demo")


def test_the_standard_namespaces_are_loaded(demo: Any) -> None:
    names = {ns.namespace for ns in demo.image.metadef_namespaces()}
    assert {"OS::Compute::Watchdog", "OS::Compute::Quota", "OS::Software::DBMS"} <= names

    watchdog = demo.image.get_metadef_namespace("OS::Compute::Watchdog")
    assert watchdog.is_protected is True
    assert watchdog.visibility == "public"
    doc = demo.image.get("/metadefs/namespaces/OS::Compute::Watchdog").json()
    assert doc["properties"]["watchdog_action"]["enum"] == [
        "disabled", "reset", "poweroff", "pause", "none",
    ]  # fmt: skip
    assert {a["name"] for a in watchdog.resource_type_associations} == {
        "OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor",
    }  # fmt: skip
    flavor = next(a for a in watchdog.resource_type_associations if a["name"] == "OS::Nova::Flavor")
    assert flavor["prefix"] == "hw:"

    # Asked for as a flavor's extra spec spells it (the association's prefix).
    prop = demo.image.get(
        "/metadefs/namespaces/OS::Compute::Watchdog/properties/hw:watchdog_action",
        params={"resource_type": "OS::Nova::Flavor"},
    ).json()
    assert prop["name"] == "watchdog_action"
    quota = {o.name: o for o in demo.image.metadef_objects("OS::Compute::Quota")}
    assert "quota:cpu_shares" in quota["CPU Limits"].properties

    types = [t.name for t in demo.image.metadef_resource_types()]
    assert {"OS::Glance::Image", "OS::Nova::Flavor", "OS::Trove::Instance"} <= set(types)


def test_namespace_lifecycle_from_the_command_line(cloud: Cloud) -> None:
    name = unique("ns")
    created = cloud.openstack(
        "image", "metadef", "namespace", "create", "--display-name", "Tuning",
        "--description", "tuning knobs", "--public", "--protected", name,
    )  # fmt: skip
    assert created["namespace"] == name
    assert created["visibility"] == "public"
    assert created["protected"] is True

    listed = cloud.openstack("image", "metadef", "namespace", "list")
    assert name in [row["namespace"] for row in listed]

    refused = cloud.openstack(
        "image", "metadef", "namespace", "delete", name, check=False, json_output=False
    )
    assert refused.returncode != 0
    assert "protected" in refused.stderr

    cloud.openstack(
        "image", "metadef", "namespace", "set", "--unprotected", "--private", name,
        json_output=False,
    )  # fmt: skip
    shown = cloud.openstack("image", "metadef", "namespace", "show", name)
    assert shown["protected"] is False
    assert shown["visibility"] == "private"

    cloud.openstack(
        "image", "metadef", "resource", "type", "association", "create", name,
        "OS::Glance::Image", json_output=False,
    )  # fmt: skip
    assocs = cloud.openstack("image", "metadef", "resource", "type", "association", "list", name)
    assert [a["Name"] for a in assocs] == ["OS::Glance::Image"]

    cloud.openstack(
        "image", "metadef", "property", "create", "--title", "Speed",
        "--type", "integer", "--schema", '{"minimum": 1, "maximum": 10}', "--name", "speed",
        name,
    )  # fmt: skip
    prop = cloud.openstack("image", "metadef", "property", "show", name, "speed")
    assert prop["title"] == "Speed"
    assert prop["maximum"] == 10

    cloud.openstack("image", "metadef", "namespace", "delete", name, json_output=False)
    gone = cloud.openstack("image", "metadef", "namespace", "show", name, check=False)
    assert gone.returncode != 0


def test_objects_properties_tags_and_associations(admin: Any) -> None:
    name = unique("ns")
    ns = admin.image.create_metadef_namespace(namespace=name, visibility="public")
    try:
        obj = admin.image.create_metadef_object(
            ns,
            name="Disk",
            description="disk tuning",
            required=["disk:bus"],
            properties={"disk:bus": {"title": "Bus", "type": "string", "enum": ["virtio"]}},
        )
        assert obj.name == "Disk"
        assert obj.required == ["disk:bus"]
        with pytest.raises(exceptions.ConflictException):
            admin.image.create_metadef_object(ns, name="Disk")
        admin.image.create_metadef_property(
            ns, name="cores", title="Cores", type="integer", minimum=1
        )
        admin.image.create_metadef_resource_type_association(
            ns, name="OS::Nova::Flavor", prefix="hw:"
        )
        assocs = list(admin.image.metadef_resource_type_associations(ns))
        assert [(a.name, a.prefix) for a in assocs] == [("OS::Nova::Flavor", "hw:")]
        # A namespace shown for a resource type spells its properties with the prefix.
        detail = admin.image.get(
            f"/metadefs/namespaces/{name}", params={"resource_type": "OS::Nova::Flavor"}
        ).json()
        assert "hw:cores" in detail["properties"]
        assert detail["objects"][0]["required"] == ["hw:disk:bus"]

        renamed = admin.image.update_metadef_object(obj, namespace=ns, name="Disk2")
        assert renamed.name == "Disk2"
        assert [o.name for o in admin.image.metadef_objects(ns)] == ["Disk2"]

        props = {p.name: p for p in admin.image.metadef_properties(ns)}
        assert props["cores"].minimum == 1
        shown = admin.image.get_metadef_property("cores", ns)
        assert shown.title == "Cores"

        admin.image.add_tag_to_metadef_namespace(ns, "fast")
        admin.image.add_tag_to_metadef_namespace(ns, "ssd")
        tags = admin.image.get(f"/metadefs/namespaces/{name}/tags").json()["tags"]
        assert sorted(t["name"] for t in tags) == ["fast", "ssd"]
        admin.image.remove_tag_from_metadef_namespace(ns, "fast")
        shown_ns = admin.image.get(f"/metadefs/namespaces/{name}").json()
        assert shown_ns["tags"] == [{"name": "ssd"}]

        admin.image.delete_all_metadef_objects(ns)
        assert list(admin.image.metadef_objects(ns)) == []
        admin.image.delete_all_metadef_properties(ns)
        assert list(admin.image.metadef_properties(ns)) == []
    finally:
        admin.image.delete_metadef_namespace(name)
    with pytest.raises(exceptions.NotFoundException):
        admin.image.get_metadef_namespace(name)


def test_nothing_is_deleted_from_a_protected_namespace(admin: Any) -> None:
    with pytest.raises(exceptions.ForbiddenException):
        admin.image.delete_metadef_property("watchdog_action", "OS::Compute::Watchdog")
    with pytest.raises(exceptions.ForbiddenException):
        admin.image.delete_metadef_namespace("OS::Compute::Watchdog")
    assert admin.image.get_metadef_property("watchdog_action", "OS::Compute::Watchdog")


def test_members_read_public_namespaces_only_and_change_nothing(admin: Any, demo: Any) -> None:
    private = unique("private-ns")
    admin.image.create_metadef_namespace(namespace=private, visibility="private")
    try:
        assert private not in {ns.namespace for ns in demo.image.metadef_namespaces()}
        with pytest.raises(exceptions.NotFoundException):
            demo.image.get_metadef_namespace(private)
        with pytest.raises(exceptions.ForbiddenException):
            demo.image.create_metadef_namespace(namespace=unique("mine"))
        with pytest.raises(exceptions.ForbiddenException):
            demo.image.create_metadef_property(
                "OS::Compute::Watchdog", name="x", title="X", type="string"
            )
    finally:
        admin.image.delete_metadef_namespace(private)


@pytest.mark.parametrize(
    ("kind", "title"),
    [
        ("namespace", "namespace"),
        ("namespaces", "namespaces"),
        ("resource_type", "resource_type_association"),
        ("resource_types", "resource_type_associations"),
        ("object", "object"),
        ("objects", "objects"),
        ("property", "property"),
        ("properties", "properties"),
        ("tag", "tag"),
        ("tags", "tags"),
    ],
)
def test_schemas(demo: Any, kind: str, title: str) -> None:
    doc = demo.image.get(f"/schemas/metadefs/{kind}").json()
    assert doc["name"] == title


def test_schema_documents_through_the_sdk(demo: Any) -> None:
    ns = demo.image.get_metadef_namespace_schema()
    assert ns.required == ["namespace"]
    assert ns.properties["visibility"]["enum"] == ["public", "private"]
    props = demo.image.get_metadef_properties_schema()
    assert props.properties["properties"]["type"] == "object"
