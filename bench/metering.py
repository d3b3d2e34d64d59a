"""Metering benchmark: the figures of issue #16, measured in one run on a private cloud.

- ingestion: 10,000 metrics x 100 points posted through ``POST /v1/batch/metrics/measures``
  by 8 client threads in 10,000-measure batches (the JSON bodies made beforehand), measures/s
  end to end (first request sent to last 202), then the seconds until ``GET /v1/status``
  shows nothing left to aggregate;
- one metric's 30 days at 1-minute granularity (43,200 points): ``GET .../measures``;
- a cross-metric aggregate over 1,000 metrics: ``POST /v1/aggregates`` with
  ``(aggregate mean (metric (ID mean) ...))``;
- the pollsters' CPU per guest per poll: the fake driver's counters of 200 guests and the
  samples made of them, in this process (``time.process_time``).

For reference, Gnocchi 3's maintainers published ~970,000 measures/s with 32 API workers on
one server in 5,000-measure batches (about 30,000 per worker).

    .venv/bin/python bench/metering.py [--metrics 10000] [--points 100] [--json]

Prints figures beside their targets with PASS or MISS; exits 0 either way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson

from figures import load
from localcloud import LocalCloud

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

DAY = 86400
T0 = 1_700_000_000  # a fixed start: minute-aligned epoch seconds


def row(name: str, value: float, unit: str, target: str, ok: bool | None) -> dict[str, Any]:
    verdict = "" if ok is None else ("PASS" if ok else "MISS")
    return {
        "name": name,
        "value": round(value, 2),
        "unit": unit,
        "target": target,
        "verdict": verdict,
    }


def make_metrics(client: httpx.Client, count: int, policy: str) -> list[str]:
    def one(_: int) -> str:
        resp = client.post("/v1/metric", json={"archive_policy_name": policy})
        resp.raise_for_status()
        return str(resp.json()["id"])

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def ingestion(client: httpx.Client, ids: list[str], points: int) -> tuple[float, float]:
    """(measures/s end to end, seconds until aggregated)."""
    per_batch = max(1, 10_000 // points)
    bodies = []
    for start in range(0, len(ids), per_batch):
        batch = {
            mid: [{"timestamp": T0 + 60 * i, "value": float(i)} for i in range(points)]
            for mid in ids[start : start + per_batch]
        }
        bodies.append(orjson.dumps(batch))
    headers = {"Content-Type": "application/json"}

    def post(body: bytes) -> None:
        resp = client.post("/v1/batch/metrics/measures", content=body, headers=headers)
        assert resp.status_code == 202, resp.text

    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(post, bodies))
    sent = time.perf_counter() - started
    rate = len(ids) * points / sent
    started = time.perf_counter()
    while True:
        resp = client.get("/v1/status")
        assert resp.status_code == 200, resp.text
        summary = resp.json()["storage"]["summary"]
        if summary["measures"] == 0:
            break
        time.sleep(0.05)
    return rate, time.perf_counter() - started


def read_30_days(client: httpx.Client) -> list[float]:
    client.post(
        "/v1/archive_policy",
        json={
            "name": "bench-30d",
            "aggregation_methods": ["mean"],
            "definition": [{"granularity": 60, "timespan": 30 * DAY}],
        },
    ).raise_for_status()
    mid = client.post("/v1/metric", json={"archive_policy_name": "bench-30d"}).json()["id"]
    points = [{"timestamp": T0 + 60 * i, "value": float(i % 97)} for i in range(30 * 1440)]
    client.post(f"/v1/metric/{mid}/measures", json=points).raise_for_status()
    shown = client.get(f"/v1/metric/{mid}/measures?refresh=true&granularity=60").json()
    assert len(shown) == 30 * 1440, len(shown)
    samples = []
    for _ in range(20):
        started = time.perf_counter()
        resp = client.get(f"/v1/metric/{mid}/measures", params={"granularity": 60})
        samples.append((time.perf_counter() - started) * 1000)
        assert resp.status_code == 200
    return samples


def cross_aggregate(client: httpx.Client, ids: list[str]) -> list[float]:
    ops = "(aggregate mean (metric " + " ".join(f"({m} mean)" for m in ids) + "))"
    samples = []
    for _ in range(10):
        started = time.perf_counter()
        resp = client.post("/v1/aggregates", params={"granularity": 60}, json={"operations": ops})
        samples.append((time.perf_counter() - started) * 1000)
        assert resp.status_code == 200, resp.text
        assert resp.json()["measures"]["aggregated"]
    return samples


def pollster_cost(guests: int = 200, rounds: int = 20) -> float:
    """CPU milliseconds per guest per poll: counters read and turned into samples."""
    from onestack.compute.agent.pollsters import guest_samples
    from onestack.compute.drivers.base import NIC, BootSource, InstanceSpec
    from onestack.compute.drivers.fake import FakeDriver

    meta = {
        "project_id": "p",
        "user_id": "u",
        "display_name": "vm",
        "host": "h",
        "flavor_id": "1",
        "flavor_name": "m1.small",
        "image_ref": "i",
        "root_gb": 1,
    }

    async def run() -> float:
        driver = FakeDriver()
        boot = BootSource("img", Path("/nonexistent"), "raw")
        for n in range(guests):
            nic = NIC(f"port-{n}", "fa:16:3e:00:00:01", f"tap{n}")
            await driver.spawn(
                InstanceSpec(f"g-{n}", f"instance-{n}", "vm", 1, 512, 1, boot, nics=(nic,))
            )
        started = time.process_time()
        for _ in range(rounds):
            now = time.time()
            for uuid in list(driver.guests):
                guest_samples(await driver.guest_stats(uuid), meta, now)
        return (time.process_time() - started) * 1000 / (guests * rounds)

    return asyncio.run(run())


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    cloud = LocalCloud(
        hash_rounds=4,
        env={
            "ONESTACK_NETWORK_DRIVER": "fake",
            "ONESTACK_COMPUTE_DRIVER": "fake",
            "ONESTACK_METERING_INTERVAL": "3600",
            "ONESTACK_METERING_PROCESSING_INTERVAL": "0.2",
            "ONESTACK_METERING_PROCESSING_WORKERS": str(args.workers),
            "ONESTACK_SERVER_MAX_BODY_BYTES": str(64 * 1024 * 1024),
        },
    )
    rows: list[dict[str, Any]] = []
    try:
        cloud.start()
        token = cloud.token()
        client = httpx.Client(
            base_url=f"{cloud.url}/metric", headers={"X-Auth-Token": token}, timeout=300
        )
        client.post(
            "/v1/archive_policy",
            json={
                "name": "bench-1d",
                "definition": [{"granularity": 60, "timespan": DAY}],
            },
        ).raise_for_status()
        ids = make_metrics(client, args.metrics, "bench-1d")
        rate, aggregated = ingestion(client, ids, args.points)
        rows.append(
            row(
                f"ingestion, {args.metrics} metrics x {args.points} points, 8 clients",
                rate,
                "measures/s",
                ">= 100000",
                rate >= 100_000,
            )
        )
        rows.append(row("then aggregated within", aggregated, "s", "<= 10", aggregated <= 10))
        read = statistics.median(read_30_days(client))
        rows.append(
            row("one metric, 30 days at 1 min (43,200 points)", read, "ms", "< 20", read < 20)
        )
        agg = statistics.median(cross_aggregate(client, ids[:1000]))
        rows.append(row("aggregate over 1,000 metrics", agg, "ms", "< 200", agg < 200))
        client.close()
    finally:
        cloud.stop()
        cloud.close()
    cost = pollster_cost()
    rows.append(row("pollsters' CPU per guest per poll", cost, "ms", "< 1", cost < 1))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--metrics", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="aggregation threads")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = run(args)
    if args.json:
        print(json.dumps({"load": load(), "figures": rows}, indent=2))
        return
    print(f"metering benchmark (load {load()})")
    for r in rows:
        print(
            f"  {r['name']:<58} {r['value']:>12,.2f} {r['unit']:<11} target {r['target']:<9}"
            f" {r['verdict']}"
        )


if __name__ == "__main__":
    main()
