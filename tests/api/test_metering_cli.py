"""The metric API (Gnocchi v1) through the real client a user runs: ``openstack metric``
(python-gnocchiclient), with Keystone tokens and Gnocchi's policies."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.support.fixtures import unique
from tests.support.metering import Meter, meter_fixture

pytestmark = pytest.mark.cli

meter = meter_fixture()


def test_catalog_and_status(meter: Meter) -> None:
    status = meter("metric", "status", as_="onestack")
    assert "storage/total number of measures to process" in status
    assert "403" in meter.fails("metric", "status")
    names = {p["name"] for p in meter("metric", "archive-policy", "list")}
    assert {"low", "medium", "high", "bool", "ceilometer-low-rate"} <= names
    types = {t["name"] for t in meter("metric", "resource-type", "list")}
    assert {"generic", "instance", "instance_disk", "instance_network_interface"} <= types


def test_archive_policy_lifecycle(meter: Meter) -> None:
    name = unique("ap")
    created = meter(
        "metric",
        "archive-policy",
        "create",
        name,
        "-d",
        "granularity:1s,timespan:1h",
        "-d",
        "points:48,granularity:1h",
        "-m",
        "mean",
        "-m",
        "rate:mean",
        "-b",
        "2",
        as_="onestack",
    )
    assert created["back_window"] == 2
    assert created["aggregation_methods"] == ["mean", "rate:mean"]
    assert created["definition"] == [
        {"granularity": "0:00:01", "points": 3600, "timespan": "1:00:00"},
        {"granularity": "1:00:00", "points": 48, "timespan": "2 days, 0:00:00"},
    ]
    updated = meter(
        "metric",
        "archive-policy",
        "update",
        name,
        "-d",
        "granularity:1s,timespan:2h",
        "-d",
        "points:24,granularity:1h",
        as_="onestack",
    )
    assert updated["definition"][0]["points"] == 7200
    # Members may not make policies; nobody may make one that keeps too many points.
    assert "403" in meter.fails(
        "metric", "archive-policy", "create", unique("ap"), "-d", "granularity:1s,timespan:1h"
    )
    error = meter.fails(
        "metric",
        "archive-policy",
        "create",
        unique("ap"),
        "-d",
        "granularity:1s,timespan:365 days",
        as_="onestack",
    )
    assert "at most" in error and "400" in error
    rule = unique("rule")
    shown = meter(
        "metric", "archive-policy-rule", "create", rule, "-a", name, "-m", "test.*", as_="onestack"
    )
    assert (shown["archive_policy_name"], shown["metric_pattern"]) == (name, "test.*")
    # The openstack plugin has no rule update; gnocchiclient's library PATCHes this URL.
    renamed = meter.http("onestack").patch(
        f"/v1/archive_policy_rule//{rule}", json={"name": rule + "x"}
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == rule + "x", renamed.text
    rule += "x"
    assert meter("metric", "archive-policy-rule", "show", rule)["archive_policy_name"] == name
    assert rule in {r["name"] for r in meter("metric", "archive-policy-rule", "list")}
    assert "403" in meter.fails("metric", "archive-policy-rule", "delete", rule)
    metric = meter("metric", "create", "test.rule")
    assert metric["archive_policy/name"] == name
    assert "still in use" in meter.fails("metric", "archive-policy", "delete", name, as_="onestack")
    meter.do("metric", "delete", metric["id"])
    meter.do("metric", "archive-policy-rule", "delete", rule, as_="onestack")
    meter.do("metric", "archive-policy", "delete", name, as_="onestack")
    assert "404" in meter.fails("metric", "archive-policy", "show", name)


def test_resource_type_lifecycle(meter: Meter) -> None:
    name = unique("rt").replace("-", "_")
    created = meter(
        "metric",
        "resource-type",
        "create",
        name,
        "-a",
        "color:string:true:max_length=16",
        "-a",
        "size:number:false:min=0",
        as_="onestack",
    )
    assert "max_length=16" in created["attributes/color"]
    res = meter(
        "metric",
        "resource",
        "create",
        "--type",
        name,
        "-a",
        "color:blue",
        str(uuid.uuid4()),
        as_="onestack",
    )
    assert res["color"] == "blue" and res["size"] is None
    updated = meter(
        "metric",
        "resource-type",
        "update",
        name,
        "-a",
        "shape:string:false",
        "-r",
        "size",
        as_="onestack",
    )
    assert "attributes/shape" in updated and "attributes/size" not in updated
    shown = meter("metric", "resource", "show", "--type", name, res["id"], as_="onestack")
    assert shown["shape"] is None and "size" not in shown
    error = meter.fails(
        "metric",
        "resource-type",
        "create",
        unique("rt").replace("-", "_"),
        "-a",
        "weird:colour:true",
        as_="onestack",
    )
    assert "Unknown attribute type" in error
    assert "still in use" in meter.fails("metric", "resource-type", "delete", name, as_="onestack")
    meter.do("metric", "resource", "delete", res["id"], as_="onestack")
    meter.do("metric", "resource-type", "delete", name, as_="onestack")


def test_measures_add_show_aggregations(meter: Meter) -> None:
    metric = meter("metric", "create", "-a", "high", unique("load"))
    mid = metric["id"]
    meter.do(
        "metric",
        "measures",
        "add",
        mid,
        "-m",
        "2024-03-01T10:00:00@10",
        "-m",
        "2024-03-01T10:00:30@20",
        "-m",
        "2024-03-01T10:01:10@40",
        "-m",
        "2024-03-01T10:01:20+00:00@42",
    )
    rows = meter("metric", "measures", "show", mid, "--refresh", "--utc", "--granularity", "60")
    assert [(r["timestamp"], r["value"]) for r in rows] == [
        ("2024-03-01T10:00:00+00:00", 15.0),
        ("2024-03-01T10:01:00+00:00", 41.0),
    ]
    maxima = meter(
        "metric", "measures", "show", mid, "--aggregation", "max", "--utc", "--granularity", "1"
    )
    assert [r["value"] for r in maxima] == [10.0, 20.0, 40.0, 42.0]
    resampled = meter(
        "metric",
        "measures",
        "show",
        mid,
        "--granularity",
        "1",
        "--resample",
        "3600",
        "--aggregation",
        "sum",
        "--utc",
    )
    assert [(r["granularity"], r["value"]) for r in resampled] == [(3600.0, 112.0)]
    window = meter(
        "metric",
        "measures",
        "show",
        mid,
        "--granularity",
        "1",
        "--utc",
        "--start",
        "2024-03-01T10:00:30",
        "--stop",
        "2024-03-01T10:01:20",
    )
    assert [r["value"] for r in window] == [20.0, 40.0]
    error = meter.fails("metric", "measures", "show", mid, "--aggregation", "95pct")
    assert "404" in error and "95pct" in error


def test_batch_and_rate(meter: Meter, tmp_path: Path) -> None:
    a = meter("metric", "create", "-a", "ceilometer-high-rate", unique("cpu"))["id"]
    b = meter("metric", "create", "-a", "ceilometer-high-rate", unique("cpu"))["id"]
    stamps = [f"2024-03-02T00:0{i}:00" for i in range(4)]
    batch = {
        a: [{"timestamp": t, "value": v} for t, v in zip(stamps, [0, 60, 180, 360], strict=True)],
        b: [{"timestamp": t, "value": v} for t, v in zip(stamps, [5, 5, 5, 5], strict=True)],
    }
    (tmp_path / "batch.json").write_text(json.dumps(batch))
    meter.do("metric", "measures", "batch-metrics", str(tmp_path / "batch.json"))
    rate = meter(
        "metric",
        "measures",
        "show",
        a,
        "--refresh",
        "--aggregation",
        "rate:mean",
        "--granularity",
        "60",
        "--utc",
    )
    assert [r["value"] for r in rate] == [60.0, 120.0, 180.0]
    agg = meter(
        "metric",
        "aggregates",
        "--granularity",
        "60",
        f"(aggregate sum (metric ({a} mean) ({b} mean)))",
    )
    assert [r["value"] for r in agg] == [5.0, 65.0, 185.0, 365.0]
    assert {r["name"] for r in agg} == {"aggregated"}
    scaled = meter("metric", "aggregates", "--granularity", "60", f"(* 2 (metric {b} mean))")
    assert [r["value"] for r in scaled] == [10.0] * 4 and scaled[0]["name"] == f"{b}/mean"
    # Gnocchi's older aggregation API: the mean of each metric, summed across them.
    legacy = meter(
        "metric", "measures", "aggregation", "-m", a, b, "--aggregation", "mean",
        "--reaggregation", "sum", "--granularity", "60", "--utc",
    )  # fmt: skip
    assert [(r["timestamp"], r["value"]) for r in legacy] == [
        (f"{t}+00:00", v) for t, v in zip(stamps, [5.0, 65.0, 185.0, 365.0], strict=True)
    ]
    # A series with holes: filled with a number or the previous value, or rolled over.
    gap = meter("metric", "create", "-a", "ceilometer-high-rate", unique("gap"))["id"]
    meter.do("metric", "measures", "add", gap, "-m", f"{stamps[0]}@1", "-m", f"{stamps[3]}@4")
    meter("metric", "measures", "show", gap, "--refresh")
    both = f"(aggregate sum (metric ({b} mean) ({gap} mean)))"
    for fill, values in (("0", [6.0, 5.0, 5.0, 9.0]), ("ffill", [6.0, 6.0, 6.0, 9.0])):
        filled = meter("metric", "aggregates", "--granularity", "60", "--fill", fill, both)
        assert [r["value"] for r in filled] == values, fill
    rolled = meter(
        "metric", "aggregates", "--granularity", "60", f"(rolling sum 2 (metric {a} mean))"
    )
    assert [r["value"] for r in rolled] == [60.0, 240.0, 540.0]
    error = meter.fails("metric", "aggregates", f"(aggregate mean (metric {a} mean)")
    assert "Invalid operations" in error and "400" in error


def test_resources_search_history_and_isolation(meter: Meter) -> None:
    host = unique("host")
    ids = []
    for n in range(3):
        rid = str(uuid.uuid4())
        ids.append(rid)
        meter(
            "metric",
            "resource",
            "create",
            "--type",
            "instance",
            "-a",
            f"host:{host}",
            "-a",
            f"display_name:vm{n}",
            "-a",
            "flavor_id:1",
            "-a",
            f"project_id:{meter.projects['mine']}",
            "--create-metric",
            "cpu:ceilometer-low-rate",
            rid,
        )
    found = meter(
        "metric",
        "resource",
        "search",
        "--type",
        "instance",
        f"host={host} and display_name!=vm1",
        "--sort",
        "display_name:desc",
    )
    assert [r["id"] for r in found] == [ids[2], ids[0]]
    paged = meter(
        "metric", "resource", "search", "--type", "instance", f"host={host}", "--limit", "2"
    )
    assert len(paged) == 2
    meter(
        "metric", "resource", "update", "--type", "instance", ids[0], "-a", "display_name:renamed"
    )
    history = meter("metric", "resource", "history", "--type", "instance", ids[0], "--details")
    assert [h["display_name"] for h in history] == ["vm0", "renamed"]
    assert history[0]["revision_end"] is not None and history[1]["revision_end"] is None
    newest = meter(
        "metric", "resource", "history", "--type", "instance", ids[0], "--details",
        "--sort", "revision_start:desc", "--limit", "1",
    )  # fmt: skip
    assert [h["display_name"] for h in newest] == ["renamed"]
    # Which resource was ever called vm0: only a search through the history knows.
    was = f"host={host} and display_name=vm0"
    assert meter("metric", "resource", "search", "--type", "instance", was) == []
    ever = meter("metric", "resource", "search", "--type", "instance", "--history", was)
    assert [(r["id"], r["display_name"]) for r in ever] == [(ids[0], "vm0")]
    assert ever[0]["revision_end"] is not None
    every = meter("metric", "resource", "search", "--type", "instance", "--history", f"host={host}")
    assert sorted(r["display_name"] for r in every) == ["renamed", "vm0", "vm1", "vm2"]
    # Another project sees none of it (404), an admin sees all.
    error = meter.fails("metric", "resource", "show", ids[0], as_="other")
    assert "404" in error
    assert (
        meter("metric", "resource", "search", "--type", "instance", f"host={host}", as_="other")
        == []
    )
    cpu = meter.http().get(f"/v1/resource/generic/{ids[0]}").json()["metrics"]["cpu"]
    assert "404" in meter.fails("metric", "show", cpu, as_="other")
    assert meter("metric", "show", cpu)["name"] == "cpu"
    assert (
        len(
            meter(
                "metric", "resource", "search", "--type", "instance", f"host={host}", as_="onestack"
            )
        )
        == 3
    )
    meter.do("metric", "resource", "delete", ids[1])
    assert "404" in meter.fails("metric", "resource", "show", ids[1])


def test_aggregates_over_resources_grouped(meter: Meter) -> None:
    host = unique("agg")
    for n, values in enumerate(([100, 200, 400], [10, 20, 30])):
        rid = str(uuid.uuid4())
        meter(
            "metric",
            "resource",
            "create",
            "--type",
            "instance",
            "-a",
            f"host:{host}",
            "-a",
            f"display_name:g{n}",
            "-a",
            f"flavor_id:{n}",
            "--create-metric",
            "cpu:ceilometer-low-rate",
            rid,
        )
        for i, v in enumerate(values):
            meter.do(
                "metric",
                "measures",
                "add",
                "-r",
                rid,
                "cpu",
                "-m",
                f"2024-03-03T00:{i * 5:02d}:00@{v}",
            )
        meter("metric", "measures", "show", "-r", rid, "cpu", "--refresh")
    rates = meter(
        "metric",
        "aggregates",
        "--resource-type",
        "instance",
        "(aggregate rate:mean (metric cpu mean))",
        f"host={host}",
    )
    assert [r["value"] for r in rates] == [55.0, 105.0]
    grouped = meter(
        "metric",
        "aggregates",
        "--resource-type",
        "instance",
        "--groupby",
        "flavor_id",
        "(aggregate max (metric cpu mean))",
        f"host={host}",
    )
    assert {(r["group"], r["value"]) for r in grouped} >= {
        ("flavor_id: 0", 400.0),
        ("flavor_id: 1", 30.0),
    }
    legacy = meter(
        "metric", "measures", "aggregation", "--resource-type", "instance", "--query",
        f"host={host}", "-m", "cpu", "--aggregation", "mean", "--reaggregation", "max",
        "--groupby", "flavor_id", "--granularity", "300",
    )  # fmt: skip
    assert [(r["group"], r["value"]) for r in legacy] == [
        *(("flavor_id: 0", v) for v in (100.0, 200.0, 400.0)),
        *(("flavor_id: 1", v) for v in (10.0, 20.0, 30.0)),
    ]
    fleet = meter(
        "metric", "measures", "aggregation", "--resource-type", "instance", "--query",
        f"host={host}", "-m", "cpu", "--reaggregation", "sum", "--granularity", "300",
    )  # fmt: skip
    assert [r["value"] for r in fleet] == [110.0, 220.0, 430.0]
