"""An instance's metrics charts, from the measures the metric API holds for it."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.support.browser import active, api, server, shot, token
from tests.support.cloud import Cloud
from tests.support.keystone import unique


def instance_resource(cloud: Cloud, tok: str, server_id: str) -> dict[str, Any]:
    """The metric API's resource of the server (made from compute's notification)."""
    deadline = time.monotonic() + 30
    while True:
        resp = httpx.get(
            f"{cloud.url}/metric/v1/resource/instance/{server_id}",
            headers={"x-auth-token": tok},
            timeout=30,
        )
        if resp.status_code == 200 or time.monotonic() > deadline:
            assert resp.status_code == 200, resp.text
            return dict(resp.json())
        time.sleep(0.3)


def test_cpu_and_memory_are_drawn_from_the_measures(demo_page: Page, cloud: Cloud) -> None:
    tok = token(cloud, "demo")
    made = active(cloud, tok, server(cloud, tok, unique("metrics"))["id"])
    admin = token(cloud, "admin", "admin")
    metrics = instance_resource(cloud, admin, made["id"])["metrics"]
    if "cpu" not in metrics:  # before the pollsters' first samples: made as they make it
        path = f"/metric/v1/resource/instance/{made['id']}/metric"
        body = {"cpu": {"archive_policy_name": "ceilometer-low-rate"}}
        resp = httpx.post(
            f"{cloud.url}{path}", headers={"x-auth-token": admin}, json=body, timeout=30
        )
        # 409: the pollsters made it in the meantime, which is as good.
        assert resp.status_code in (200, 201, 409), resp.text
        metrics = instance_resource(cloud, admin, made["id"])["metrics"]
    now = datetime.now(UTC).replace(microsecond=0)
    # CPU time in ns, cumulative: 0.5 s of CPU per 60 s minute is 0.83 % of one vCPU.
    cpu = [
        {"timestamp": (now - timedelta(minutes=m)).isoformat(), "value": (10 - m) * 5e8}
        for m in range(10, 0, -1)
    ]
    api(cloud, "POST", f"/metric/v1/metric/{metrics['cpu']}/measures", admin, json=cpu)
    if "memory.usage" in metrics:
        mem = [{"timestamp": (now - timedelta(minutes=1)).isoformat(), "value": 200}]
        api(cloud, "POST", f"/metric/v1/metric/{metrics['memory.usage']}/measures", admin, json=mem)
    demo_page.goto(f"{cloud.url}/dashboard/project/instances/{made['id']}/metrics/")
    cpu_chart = demo_page.get_by_role("img", name=re.compile(r"^CPU over last hour: last \d"))
    expect(cpu_chart).to_be_visible()
    # Ten minutes of samples make one or two 5-minute rates, by where the minute falls: a
    # one-rate series is drawn as a dot, a longer one as a line.
    expect(cpu_chart.locator("polyline.line, circle.dot")).to_have_count(1)
    shot(demo_page, "instance-metrics")
    demo_page.get_by_label("Period").select_option("7d")
    demo_page.get_by_role("button", name="Show").click()
    expect(demo_page.get_by_role("img", name=re.compile(r"^CPU over last week"))).to_be_visible()


def _device(cloud: Cloud, admin: str, made: dict[str, Any], kind: str, name: str,
            measures: dict[str, list[float]]) -> None:  # fmt: skip
    """A disk or NIC resource of the server in the metric API (as the pollsters make them,
    under a name of the test's own so they never meet the fake guest's real samples), each
    counter given cumulative values at the ends of the last 5-minute buckets of the archive
    policy, oldest first, so each bucket holds one value and the rates are exact."""
    body = {
        "id": f"{made['id']}-{name}",
        "name": name,
        "instance_id": made["id"],
        "project_id": made["tenant_id"],
        "user_id": made["user_id"],
        "metrics": {m: {"archive_policy_name": "ceilometer-low-rate"} for m in measures},
    }
    metrics = api(cloud, "POST", f"/metric/v1/resource/{kind}", admin, json=body)["metrics"]
    bucket = int(time.time()) // 300 * 300
    for metric, values in measures.items():
        if not values:
            continue
        stamps = [bucket - 300 * (len(values) - i) for i in range(len(values))]
        points = [
            {"timestamp": datetime.fromtimestamp(t, UTC).isoformat(), "value": v}
            for t, v in zip(stamps, values, strict=True)
        ]
        api(cloud, "POST", f"/metric/v1/metric/{metrics[metric]}/measures", admin, json=points)


def test_disk_and_network_are_drawn_from_the_measures(demo_page: Page, cloud: Cloud) -> None:
    tok = token(cloud, "demo")
    made = active(cloud, tok, server(cloud, tok, unique("metrics"))["id"])
    admin = token(cloud, "admin", "admin")
    instance_resource(cloud, admin, made["id"])
    # Rates (per second over each 300 s bucket): read 1000 steady; write one rate only, 2048;
    # in 500, 1500, 1000; out no measures at all.
    _device(cloud, admin, made, "instance_disk", "vdq", {
        "disk.device.read.bytes": [0, 300_000, 600_000, 900_000],
        "disk.device.write.bytes": [1_000, 1_000 + 2048 * 300],
    })  # fmt: skip
    _device(cloud, admin, made, "instance_network_interface", "tapcharts", {
        "network.incoming.bytes": [0, 150_000, 600_000, 900_000],
        "network.outgoing.bytes": [],
    })  # fmt: skip
    demo_page.goto(f"{cloud.url}/dashboard/project/instances/{made['id']}/metrics/")

    def chart(title: str) -> Any:
        return demo_page.locator("figure.metric").filter(
            has=demo_page.locator("figcaption strong", has_text=re.compile(f"^{title}$"))
        )

    read, write = chart("Disk vdq read"), chart("Disk vdq write")
    incoming, outgoing = chart("tapcharts in"), chart("tapcharts out")
    expect(read.locator("figcaption")).to_contain_text("last 1000.00, peak 1000.00, 3 points")
    expect(read.get_by_role("img")).to_have_accessible_name(
        "Disk vdq read over last hour: last 1000.00 B/s"
    )
    # A steady rate is a level line at the top's 1/1.1: y = 160 - 160 / 1.1.
    line = read.locator("polyline")
    expect(line).to_have_attribute("points", re.compile(r"^(\S+,14\.5 ?){3}$"))
    # One rate is one point: a dot, not a polyline that draws nothing.
    expect(write.locator("figcaption")).to_contain_text("last 2048.00, peak 2048.00, 1 point")
    expect(write.locator("circle.dot")).to_have_attribute("cy", "14.5")
    expect(write.locator("polyline")).to_have_count(0)
    expect(incoming.locator("figcaption")).to_contain_text("last 1000.00, peak 1500.00, 3 points")
    # Top is 1500 * 1.1: 500 -> 111.5, 1500 -> 14.5, 1000 -> 63.0, left to right.
    ys = re.compile(r"^(\d+\.\d),111\.5 (\d+\.\d),14\.5 (\d+\.\d),63\.0$")
    expect(incoming.locator("polyline")).to_have_attribute("points", ys)
    xs = [
        float(x) for x in ys.findall(incoming.locator("polyline").get_attribute("points") or "")[0]
    ]
    assert 0 < xs[0] < xs[1] < xs[2] <= 640, xs
    # A counter without measures says so, in words and in the plot, with no line.
    expect(outgoing.locator("figcaption")).to_contain_text("no measures in this period")
    expect(outgoing.get_by_role("img")).to_have_accessible_name(
        "tapcharts out over last hour: no measures"
    )
    expect(outgoing.locator("text.empty")).to_have_text("No data")
    expect(outgoing.locator("polyline, circle")).to_have_count(0)
    shot(demo_page, "instance-metrics-devices")


def test_a_server_without_ports_shows_no_network_data(demo_page: Page, cloud: Cloud) -> None:
    tok = token(cloud, "demo")
    made = active(cloud, tok, server(cloud, tok, unique("metrics"))["id"])  # networks: none
    admin = token(cloud, "admin", "admin")
    instance_resource(cloud, admin, made["id"])
    # A disk measured, so the page has charts to show (not its "nothing measured yet" note).
    _device(cloud, admin, made, "instance_disk", "vdq", {"disk.device.read.bytes": [0, 3000]})
    demo_page.goto(f"{cloud.url}/dashboard/project/instances/{made['id']}/metrics/")
    network = demo_page.get_by_role("img", name="Network over last hour: no measures")
    expect(network).to_be_visible()
    expect(network.locator("text.empty")).to_have_text("No data")
    expect(network.locator("polyline, circle")).to_have_count(0)
    caption = demo_page.locator("figure.metric figcaption").filter(has_text=re.compile("^Network"))
    expect(caption).to_contain_text("no measures in this period")
