"""Collection end to end on the fake data plane: the compute agent's pollsters (every
second here), the services' notifications and the network poll make resources, metrics and
measures a user reads with ``openstack metric``; deleting a server ends its resources."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support.fixtures import cloud_of_own
from tests.support.metering import Meter, meter_fixture
from tests.support.waiting import wait_for

pytestmark = pytest.mark.cli


# Pollsters and the network's meter every second: a cloud of the module's own.
cloud = cloud_of_own(
    "metering-cloud", ONESTACK_METERING_INTERVAL="1", ONESTACK_NETWORK_METER_INTERVAL="1"
)


meter = meter_fixture()


@pytest.fixture(scope="module")
def server(meter: Meter, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    files = tmp_path_factory.mktemp("img")
    (files / "disk.raw").write_bytes(b"\x00" * 4096)
    meter("image", "create", "--file", str(files / "disk.raw"), "--disk-format", "raw", "meter-img")
    meter("network", "create", "meter-net")
    meter("subnet", "create", "--network", "meter-net", "--subnet-range", "10.66.0.0/24", "s")
    found: dict[str, Any] = meter(
        "server",
        "create",
        "--image",
        "meter-img",
        "--flavor",
        "m1.tiny",
        "--network",
        "meter-net",
        "--wait",
        "vm-meter",
    )
    return found


def test_a_booted_server_is_measured(meter: Meter, server: dict[str, Any]) -> None:
    sid = server["id"]

    def shown() -> Any:
        result = meter.run("metric", "resource", "show", sid, "-f", "json")
        return result.returncode == 0 and "cpu" in result.stdout and result.stdout

    wait_for("instance resource with a cpu metric", shown)
    res = meter.http().get(f"/v1/resource/instance/{sid}").json()
    assert res["display_name"] == "vm-meter" and res["flavor_name"] == "m1.tiny"
    assert res["project_id"] == meter.projects["mine"]
    assert {"cpu", "vcpus", "memory", "memory.usage", "disk.root.size"} <= set(res["metrics"])

    def rates() -> Any:
        rows = meter(
            "metric",
            "measures",
            "show",
            "--resource-id",
            sid,
            "cpu",
            "--aggregation",
            "rate:mean",
            "--granularity",
            "1",
            "--refresh",
        )
        return len(rows) >= 2 and rows

    rows = wait_for("two cpu rates", rates)
    # The fake guest keeps a third of its vCPU busy: ~333 ms of CPU per second.
    assert all(2.5e8 < r["value"] < 4.5e8 for r in rows), rows
    agg = meter(
        "metric",
        "aggregates",
        "--resource-type",
        "instance",
        "--granularity",
        "1",
        "(aggregate rate:mean (metric cpu mean))",
        f"project_id={meter.projects['mine']}",
    )
    assert agg and all(r["name"] == "aggregated" for r in agg)
    disks = (
        meter.http()
        .post("/v1/search/resource/instance_disk", json={"=": {"instance_id": sid}})
        .json()
    )
    assert [d["name"] for d in disks] == ["vda"]
    assert "disk.device.read.bytes" in disks[0]["metrics"]
    nics = (
        meter.http()
        .post("/v1/search/resource/instance_network_interface", json={"=": {"instance_id": sid}})
        .json()
    )
    assert len(nics) == 1 and "network.incoming.bytes" in nics[0]["metrics"]
    # Another project sees none of it.
    assert meter.http("other").get(f"/v1/resource/generic/{sid}").status_code == 404
    # A rename reaches the resource at once (compute.instance.update), not after the
    # pollsters' minute of cached names, and the next polls do not undo it.
    meter.do("server", "set", "--name", "vm-renamed", sid)

    def name() -> str:
        return str(meter.http().get(f"/v1/resource/instance/{sid}").json()["display_name"])

    wait_for("the renamed resource", lambda: name() == "vm-renamed", timeout=15)
    time.sleep(3)  # three polls
    assert name() == "vm-renamed"
    history = meter("metric", "resource", "history", "--type", "instance", sid, "--details")
    assert [h["display_name"] for h in history][-2:] == ["vm-meter", "vm-renamed"]
    assert {h["flavor_id"] for h in history} == {"1"}  # the listener's and the pollsters'


def test_network_and_image_resources(meter: Meter, server: dict[str, Any]) -> None:
    def ports() -> Any:
        return (
            meter.http()
            .post("/v1/search/resource/port", json={"=": {"device_id": server["id"]}})
            .json()
        )

    port = wait_for("the server's port resource", ports)[0]
    assert "port" in port["metrics"]
    images = meter.http().get("/v1/resource/image").json()
    assert any(i["name"] == "meter-img" and "image.size" in i["metrics"] for i in images)


def test_router_and_floating_ip_resources(meter: Meter) -> None:
    """The network poll: a router and a floating IP become resources of their project with
    their gauges, and a deleted router's resource ends."""
    router = meter("router", "create", "meter-router")["id"]
    meter("network", "create", "--external", "meter-ext", as_="onestack")
    meter("subnet", "create", "--network", "meter-ext", "--subnet-range", "203.0.113.0/24",
          "meter-ext-s", as_="onestack")  # fmt: skip
    fip = meter("floating", "ip", "create", "meter-ext")["id"]

    def resource(rtype: str, rid: str, metric: str) -> Any:
        resp = meter.http().get(f"/v1/resource/{rtype}/{rid}")
        return resp.status_code == 200 and metric in resp.json()["metrics"] and resp.json()

    found = wait_for("the router's resource", lambda: resource("router", router, "router"))
    assert found["project_id"] == meter.projects["mine"] and found["ended_at"] is None
    found = wait_for(
        "the floating IP's resource", lambda: resource("floatingip", fip, "ip.floating")
    )
    assert found["project_id"] == meter.projects["mine"]
    assert meter.http("other").get(f"/v1/resource/router/{router}").status_code == 404
    meter.do("router", "delete", router)
    wait_for(
        "ended_at on the router",
        lambda: meter.http().get(f"/v1/resource/router/{router}").json()["ended_at"],
    )


def test_metering_label_traffic_is_the_bandwidth_meter(meter: Meter) -> None:
    """The network agent's ``l3.meter`` reports (the fake data plane counts nothing) become
    Ceilometer's ``bandwidth`` meter on the label's resource, once the label counts on a
    router of its project that has a gateway."""
    meter("network", "create", "--external", "meter-bw-ext", as_="onestack")
    meter("subnet", "create", "--network", "meter-bw-ext", "--subnet-range", "198.51.100.0/24",
          "meter-bw-ext-s", as_="onestack")  # fmt: skip
    meter("router", "create", "meter-bw-router")
    meter.do("router", "set", "--external-gateway", "meter-bw-ext", "meter-bw-router")
    project = meter.projects["mine"]
    label = meter("network", "meter", "create", "--project", project, "bw", as_="onestack")["id"]
    meter("network", "meter", "rule", "create", "--egress", "--remote-ip-prefix", "0.0.0.0/0",
          label, as_="onestack")  # fmt: skip

    def bandwidth() -> Any:
        resp = meter.http().get(f"/v1/resource/generic/{label}")
        return resp.status_code == 200 and resp.json()["metrics"].get("bandwidth")

    metric = wait_for("the label's bandwidth metric", bandwidth)
    found = meter.http().get(f"/v1/resource/generic/{label}").json()
    assert found["project_id"] == project
    shown = meter.http().get(f"/v1/metric/{metric}").json()
    assert shown["unit"] == "B"
    assert meter.http("other").get(f"/v1/resource/generic/{label}").status_code == 404


def test_deleting_the_server_ends_its_resources(meter: Meter, server: dict[str, Any]) -> None:
    sid = server["id"]
    wait_for(
        "the instance resource",
        lambda: meter.http().get(f"/v1/resource/instance/{sid}").status_code == 200,
    )

    def disks() -> Any:
        search = {"=": {"instance_id": sid}}
        return meter.http().post("/v1/search/resource/instance_disk", json=search).json()

    wait_for("the instance's disk resources", disks)  # polled after the instance's own
    meter.do("server", "delete", "--wait", sid)

    def ended() -> Any:
        res = meter.http().get(f"/v1/resource/instance/{sid}").json()
        return res["ended_at"] is not None and res

    wait_for("ended_at on the instance", ended)
    found = disks()
    assert found and all(d["ended_at"] is not None for d in found)


def _last(meter: Meter, resource: str, name: str) -> Any:
    # The max of the last period, not its mean: a gauge changed within the second it was
    # first published (a volume extended at once) has one period holding both values.
    rows = meter(
        "metric", "measures", "show", "--resource-id", resource, name, "--refresh",
        "--aggregation", "max",
    )  # fmt: skip
    return rows and rows[-1]["value"]


def test_volume_resource_follows_the_volume(meter: Meter) -> None:
    """From the volume service's notifications: created with its name and a volume.size
    gauge, the gauge follows a resize, and the resource ends when the volume is deleted."""
    vol = meter("volume", "create", "--size", "1", "meter-vol")
    vid = vol["id"]

    def shown() -> Any:
        result = meter.run("metric", "resource", "show", "--type", "volume", vid, "-f", "json")
        return result.returncode == 0 and "volume.size" in result.stdout and result.stdout

    wait_for("the volume resource", shown)
    res = meter("metric", "resource", "show", "--type", "volume", vid)
    assert res["display_name"] == "meter-vol"
    assert res["project_id"] == meter.projects["mine"]
    assert wait_for("volume.size 1", lambda: _last(meter, vid, "volume.size") == 1.0)
    wait_for("an available volume", lambda: meter("volume", "show", vid)["status"] == "available")
    meter.do("volume", "set", "--size", "2", vid)
    assert wait_for("volume.size 2", lambda: _last(meter, vid, "volume.size") == 2.0)
    assert meter.run("metric", "resource", "show", vid, as_="other").returncode != 0
    meter.do("volume", "delete", vid)
    ended = wait_for(
        "ended_at on the volume",
        lambda: meter("metric", "resource", "show", vid)["ended_at"],
    )
    assert ended
    # The revision before the end is kept, still running.
    history = meter.http().get(f"/v1/resource/volume/{vid}/history").json()
    assert history[-1]["ended_at"] == ended and history[-2]["ended_at"] is None


def test_object_storage_account_is_measured(meter: Meter, tmp_path_factory: Any) -> None:
    """The account poll: the project's swift_account resource and its storage meters."""
    data = tmp_path_factory.mktemp("obj") / "blob.bin"
    data.write_bytes(b"x" * 12345)
    meter("container", "create", "meter-box")
    meter("object", "create", "meter-box", str(data))
    project = meter.projects["mine"]

    def sized() -> Any:
        result = meter.run("metric", "resource", "show", "--type", "swift_account", project)
        return result.returncode == 0 and _last(meter, project, "storage.objects.size") == 12345

    wait_for("storage.objects.size of the account", sized)
    res = meter("metric", "resource", "show", "--type", "swift_account", project)
    assert {"storage.objects", "storage.objects.containers"} <= set(res["metrics"])
    assert _last(meter, project, "storage.objects") == 1.0
    assert _last(meter, project, "storage.objects.containers") == 1.0
    assert meter.http("other").get(f"/v1/resource/swift_account/{project}").status_code == 404
