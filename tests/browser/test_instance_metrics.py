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
        api(cloud, "POST", path, admin, json=body)
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
    expect(cpu_chart.locator("polyline")).to_have_count(1)
    shot(demo_page, "instance-metrics")
    demo_page.get_by_label("Period").select_option("7d")
    demo_page.get_by_role("button", name="Show").click()
    expect(demo_page.get_by_role("img", name=re.compile(r"^CPU over last week"))).to_be_visible()
