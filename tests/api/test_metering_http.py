"""The metric API over raw HTTP: Gnocchi's bodies and status codes for bad input, batches,
paging and project isolation."""

from __future__ import annotations

import uuid

import pytest

from tests.support.fixtures import unique
from tests.support.metering import Meter, meter_fixture

meter = meter_fixture()


@pytest.fixture(scope="module")
def metric_id(meter: Meter) -> str:
    resp = meter.http().post("/v1/metric", json={"archive_policy_name": "high"})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def _error(resp: object, code: int) -> str:
    assert resp.status_code == code, resp.text  # type: ignore[attr-defined]
    body = resp.json()  # type: ignore[attr-defined]
    assert body["code"] == code and "title" in body
    return str(body["description"])


@pytest.mark.parametrize(
    ("measures", "needle"),
    [
        ([{"timestamp": "yesterday-ish", "value": 1}], "Unable to parse timestamp"),
        ([{"timestamp": "2024-01-01T00:00:00", "value": "12"}], "a number is expected"),
        ([{"timestamp": "2024-01-01T00:00:00", "value": True}], "a number is expected"),
        ([{"timestamp": "2024-01-01T00:00:00"}], "a timestamp and a value"),
        ({"timestamp": "2024-01-01T00:00:00", "value": 1}, "must be a list"),
    ],
)
def test_bad_measures(meter: Meter, metric_id: str, measures: object, needle: str) -> None:
    resp = meter.http().post(f"/v1/metric/{metric_id}/measures", json=measures)
    assert needle in _error(resp, 400)


def test_nan_and_infinity_are_refused(meter: Meter, metric_id: str) -> None:
    for literal in (b"NaN", b"Infinity", b"1e999"):
        body = b'[{"timestamp": "2024-01-01T00:00:00", "value": ' + literal + b"}]"
        resp = meter.http().post(
            f"/v1/metric/{metric_id}/measures",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        assert resp.status_code == 400, (literal, resp.text)


def test_bad_archive_policies_and_types(meter: Meter) -> None:
    admin = meter.http("onestack")
    huge = {"name": unique("ap"), "definition": [{"granularity": "1s", "points": 10**9}]}
    assert "at most" in _error(admin.post("/v1/archive_policy", json=huge), 400)
    bad_method = {
        "name": unique("ap"),
        "definition": [{"granularity": 60, "points": 10}],
        "aggregation_methods": ["avg"],
    }
    assert "aggregation_methods" in _error(admin.post("/v1/archive_policy", json=bad_method), 400)
    mismatch = {
        "name": unique("ap"),
        "definition": [{"granularity": 60, "points": 10, "timespan": 3600}],
    }
    assert "timespan" in _error(admin.post("/v1/archive_policy", json=mismatch), 400)
    bad_type = {"name": unique("rt").replace("-", "_"), "attributes": {"x": {"type": "blob"}}}
    assert "Unknown attribute type" in _error(admin.post("/v1/resource_type", json=bad_type), 400)


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ({"=": {"no_such_attribute": 1}}, "has no no_such_attribute attribute"),
        ({"~=": {"id": "x"}}, "Unknown operator"),
        ({"and": {"=": {"id": "x"}}}, "non-empty list"),
        ({"=": {"started_at": "not a date"}}, "Unable to parse timestamp"),
    ],
)
def test_bad_search_filters(meter: Meter, query: object, needle: str) -> None:
    resp = meter.http().post("/v1/search/resource/generic", json=query)
    assert needle in _error(resp, 400)


def test_bad_string_filter_and_operations(meter: Meter, metric_id: str) -> None:
    resp = meter.http().post("/v1/search/resource/generic", params={"filter": "id = = x"})
    assert "Invalid input" in _error(resp, 400)
    for ops in ("(aggregate mean (metric x mean)", "(frobnicate (metric x mean))", "((", "42"):
        resp = meter.http().post("/v1/aggregates", json={"operations": ops})
        assert resp.status_code == 400, (ops, resp.text)
        assert resp.json()["description"]["cause"] in (
            "Invalid operations",
            "Operations is invalid",
        )
    missing = str(uuid.uuid4())
    resp = meter.http().post("/v1/aggregates", json={"operations": f"(metric {missing} mean)"})
    assert resp.status_code == 404 and resp.json()["description"]["detail"] == [missing]


def test_batch_resources_with_create_metrics(meter: Meter) -> None:
    http = meter.http()
    rid = str(uuid.uuid4())
    assert http.post("/v1/resource/generic", json={"id": rid}).status_code == 201
    body = {
        rid: {
            "temp": {
                "archive_policy_name": "low",
                "unit": "C",
                "measures": [{"timestamp": "2024-05-01T00:00:00", "value": 21}],
            },
            "hum": [{"timestamp": "2024-05-01T00:00:00", "value": 40}],
        }
    }
    unknown = http.post("/v1/batch/resources/metrics/measures", json=body)
    detail = _error(unknown, 400)
    assert "Unknown metrics" in str(detail)
    resp = http.post("/v1/batch/resources/metrics/measures?create_metrics=true", json=body)
    assert resp.status_code == 202, resp.text
    metrics = http.get(f"/v1/resource/generic/{rid}").json()["metrics"]
    assert set(metrics) == {"temp", "hum"}
    shown = http.get(f"/v1/resource/generic/{rid}/metric/temp")
    assert shown.json()["unit"] == "C" and shown.json()["archive_policy"]["name"] == "low"
    got = http.get(f"/v1/resource/generic/{rid}/metric/temp/measures?refresh=true").json()
    assert got == [["2024-05-01T00:00:00+00:00", 300.0, 21.0]]
    ghost = {str(uuid.uuid4()): {"temp": []}}
    resp = http.post("/v1/batch/resources/metrics/measures", json=ghost)
    assert resp.status_code == 400 and resp.json()["description"]["cause"] == "Unknown resources"


def test_paging_links(meter: Meter) -> None:
    http = meter.http()
    for _ in range(3):
        assert http.post("/v1/metric", json={"archive_policy_name": "low"}).status_code == 201
    first = http.get("/v1/metric", params={"limit": 2})
    assert len(first.json()) == 2 and 'rel="next"' in first.headers["link"]
    url = first.links["next"]["url"]
    second = http.get(url)
    assert second.status_code == 200
    seen = {m["id"] for m in first.json()}
    assert not seen & {m["id"] for m in second.json()}


def test_isolation_of_metrics_and_measures(meter: Meter, metric_id: str) -> None:
    other = meter.http("other")
    assert other.get(f"/v1/metric/{metric_id}").status_code == 404
    assert other.get(f"/v1/metric/{metric_id}/measures").status_code == 404
    resp = other.post(
        f"/v1/metric/{metric_id}/measures", json=[{"timestamp": "2024-01-01T00:00:00", "value": 1}]
    )
    assert resp.status_code == 404
    batch = other.post(
        "/v1/batch/metrics/measures",
        json={metric_id: [{"timestamp": "2024-01-01T00:00:00", "value": 1}]},
    )
    assert batch.status_code == 400 and metric_id in batch.json()["description"]["detail"]
    assert metric_id not in {m["id"] for m in other.get("/v1/metric").json()}
    assert metric_id in {
        m["id"] for m in meter.http("onestack").get("/v1/metric?limit=1000").json()
    }
    assert other.delete(f"/v1/metric/{metric_id}").status_code == 404
