"""A new server's metering resource has its type's metrics from the start (as Ceilometer's
Gnocchi publisher makes a resource with every metric of its definition): before the
compute pollsters' first poll, ``openstack metric`` lists ``cpu`` and its measures are an
empty list, not a 404. The pollsters poll once an hour here, so no poll comes between."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.fixtures import cloud_of_own
from tests.support.metering import Meter, meter_fixture
from tests.support.waiting import wait_for

pytestmark = pytest.mark.cli

cloud = cloud_of_own("metering-definitions", ONESTACK_METERING_INTERVAL="3600")

meter = meter_fixture()

INSTANCE_METRICS = {"cpu", "vcpus", "memory", "memory.usage", "disk.root.size"}


def test_a_new_server_has_its_metrics_before_the_first_poll(
    meter: Meter, tmp_path_factory: pytest.TempPathFactory
) -> None:
    files = tmp_path_factory.mktemp("img")
    (files / "disk.raw").write_bytes(b"\x00" * 4096)
    meter("image", "create", "--file", str(files / "disk.raw"), "--disk-format", "raw", "def-img")
    meter("network", "create", "def-net")
    meter("subnet", "create", "--network", "def-net", "--subnet-range", "10.68.0.0/24", "s")
    server = meter("server", "create", "--image", "def-img", "--flavor", "m1.tiny",
                   "--network", "def-net", "--wait", "vm-def")  # fmt: skip
    sid = server["id"]

    def resource() -> Any:
        # Made by the listener on the boot's notification, a moment after ACTIVE.
        result = meter.run("metric", "resource", "show", sid, "-f", "json")
        return result.returncode == 0 and result.stdout

    wait_for("the server's instance resource", resource, timeout=30)
    shown = meter("metric", "resource", "show", sid)
    assert shown["type"] == "instance" and shown["project_id"] == meter.projects["mine"]
    assert set(shown["metrics"]) == INSTANCE_METRICS, shown["metrics"]
    assert meter("metric", "measures", "show", "--resource-id", sid, "cpu") == []
    # No poll came between: it would have made the guest's disk resource.
    disks = meter.http().post("/v1/search/resource/instance_disk", json={"=": {"instance_id": sid}})
    assert disks.status_code == 200 and disks.json() == []
    # Each with the policy its first sample would have given it: a counter the -rate one.
    metrics = meter.http().get(f"/v1/resource/instance/{sid}").json()["metrics"]
    policies = {
        name: meter.http().get(f"/v1/metric/{mid}").json()["archive_policy"]["name"]
        for name, mid in metrics.items()
    }
    assert policies["cpu"] == "ceilometer-high-rate"
    assert {policies[n] for n in INSTANCE_METRICS - {"cpu"}} == {"ceilometer-high"}
    resp = meter.http().get(f"/v1/resource/instance/{sid}/metric/cpu/measures")
    assert resp.status_code == 200 and resp.json() == []
    # Another project sees neither the resource nor its metrics.
    assert meter.http("other").get(f"/v1/resource/instance/{sid}").status_code == 404
    assert meter.http("other").get(f"/v1/metric/{metrics['cpu']}").status_code in (403, 404)
