"""``os-migrations`` through `openstack server migration list` and openstacksdk: a resize on
the one host is a migration with Nova's statuses and fields, a server's in-progress live
migrations are none, and the list is admin's; ``server list --changes-before`` (2.66)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.cloud import Cloud
from tests.support.fixtures import member_sdk_with_image_and_network, unique

conn = member_sdk_with_image_and_network("mig", "10.64.0.0/24")


def _boot(conn: Any, name: str) -> Any:
    server = conn.compute.create_server(
        name=name,
        image_id=conn.test_image.id,
        flavor_id=conn.compute.find_flavor("m1.nano").id,
        networks=[{"uuid": conn.test_network.id}],
    )
    return conn.compute.wait_for_server(server, interval=0.05, wait=30)


def _until(conn: Any, server: Any, status: str) -> Any:
    for _ in range(300):
        server = conn.compute.get_server(server)
        if server.status == status and not server.task_state:
            return server
        time.sleep(0.1)
    raise AssertionError(f"server {server.id} is {server.status}, not {status}")


def test_a_resize_is_a_migration(cloud: Cloud, conn: Any) -> None:
    server = _boot(conn, unique("mig"))
    assert cloud.openstack("server", "migration", "list", "--server", server.id) == []

    conn.compute.resize_server(server, conn.compute.find_flavor("m1.tiny").id)
    _until(conn, server, "VERIFY_RESIZE")
    rows = cloud.openstack(
        "server", "migration", "list", "--server", server.id, "--os-compute-api-version", "2.80"
    )
    assert len(rows) == 1
    (row,) = rows
    assert row["Status"] == "finished"
    assert row["Type"] == "resize"
    assert row["Source Compute"] == row["Dest Compute"]
    # 2.80: filtered by the server's project and user, which the rows then show.
    mine = cloud.openstack(
        "server", "migration", "list", "--project", conn.current_project_id,
        "--user", conn.current_user_id, "--os-compute-api-version", "2.80",
    )  # fmt: skip
    assert [(r["Project"], r["User"]) for r in mine] == [
        (conn.current_project_id, conn.current_user_id)
    ]

    conn.compute.confirm_server_resize(server)
    _until(conn, server, "ACTIVE")
    admin = cloud.sdk("onestack")
    (mig,) = list(admin.compute.migrations(instance_uuid=server.id))
    assert mig.status == "confirmed"
    assert isinstance(mig.old_flavor_id, int) and isinstance(mig.new_flavor_id, int)
    assert mig.new_flavor_id != mig.old_flavor_id

    # A reverted resize ends "reverted"; the newest comes first.
    conn.compute.resize_server(server, conn.compute.find_flavor("m1.small").id)
    _until(conn, server, "VERIFY_RESIZE")
    conn.compute.revert_server_resize(server)
    _until(conn, server, "ACTIVE")
    statuses = [m.status for m in admin.compute.migrations(instance_uuid=server.id)]
    assert statuses == ["reverted", "confirmed"]
    assert [m.status for m in admin.compute.migrations(status="reverted")].count("reverted") >= 1

    # No live migration runs on one host.
    assert list(admin.compute.server_migrations(server)) == []

    refused = cloud.openstack(
        "server", "migration", "list", cloud="onestack-demo", check=False, json_output=False
    )
    assert refused.returncode != 0
    assert "403" in refused.stderr or "not allowed" in refused.stderr.lower()
    conn.compute.delete_server(server)


def test_migration_list_pages(cloud: Cloud, conn: Any) -> None:
    admin = cloud.sdk("onestack")
    server = _boot(conn, unique("mig-page"))
    for flavor in ("m1.tiny", "m1.small"):
        conn.compute.resize_server(server, conn.compute.find_flavor(flavor).id)
        _until(conn, server, "VERIFY_RESIZE")
        conn.compute.confirm_server_resize(server)
        _until(conn, server, "ACTIVE")
    body = admin.compute.get(
        f"/os-migrations?instance_uuid={server.id}&limit=1",
        microversion="2.59",
    ).json()
    (first,) = body["migrations"]
    assert "uuid" in first and "migrations_links" in body
    second = admin.compute.get(
        f"/os-migrations?instance_uuid={server.id}&limit=1&marker={first['uuid']}",
        microversion="2.59",
    ).json()["migrations"]
    assert [m["id"] for m in second] != [first["id"]] and len(second) == 1
    old = admin.compute.get("/os-migrations?marker=nonesuch", microversion="2.59")
    assert old.status_code == 400
    conn.compute.delete_server(server)


def test_changes_before_keeps_servers_changed_before(cloud: Cloud, conn: Any) -> None:
    server = _boot(conn, unique("before"))
    later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    earlier = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    listed = cloud.openstack(
        "server", "list", "--changes-before", later, "--os-compute-api-version", "2.66",
        "--all-projects",
    )  # fmt: skip
    assert server.id in [row["ID"] for row in listed]
    listed = cloud.openstack(
        "server", "list", "--changes-before", earlier, "--os-compute-api-version", "2.66",
        "--all-projects",
    )  # fmt: skip
    assert server.id not in [row["ID"] for row in listed]
    conn.compute.delete_server(server)
