"""The metric API over raw HTTP: Gnocchi's bodies and status codes for bad input, batches,
paging and project isolation."""

from __future__ import annotations

import json
import uuid
from typing import Any

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


@pytest.fixture(scope="module")
def places(meter: Meter) -> dict[str, str]:
    """What the bad bodies below are sent to: a resource type with a required and a bounded
    attribute, a generic resource, a metric."""
    admin = meter.http("onestack")
    rtype = unique("rt").replace("-", "_")
    attributes = {
        "host": {"type": "string", "required": True},
        "n": {"type": "number", "required": False, "min": 0, "max": 10},
    }
    resp = admin.post("/v1/resource_type", json={"name": rtype, "attributes": attributes})
    assert resp.status_code == 201, resp.text
    rid = str(uuid.uuid4())
    assert admin.post("/v1/resource/generic", json={"id": rid}).status_code == 201
    metric = admin.post("/v1/metric", json={"archive_policy_name": "low"}).json()["id"]
    return {"rtype": rtype, "rid": rid, "metric": metric}


J = "application/json"
GNOCCHI_PATCH = "application/json-patch+json"
NAMED_MEASURES = {"measures": [{"timestamp": "2024-01-01T00:00:00", "value": 1}], "unit": "u" * 40}


@pytest.mark.parametrize(
    ("method", "path", "body", "code", "description"),
    [
        ("POST", "/v1/archive_policy", [], 400, "the body must be a JSON object"),
        ("POST", "/v1/archive_policy", {"name": "a/b"}, 400,
         "name must be a non-empty string without '/'"),
        ("POST", "/v1/archive_policy", {"name": "ap1", "foo": 1}, 400,
         "extra keys not allowed: ['foo']"),
        ("POST", "/v1/archive_policy", {"name": "ap2", "back_window": True}, 400,
         "back_window must be a non-negative integer"),
        ("POST", "/v1/archive_policy", {"name": "ap3"}, 400,
         "definition must be a non-empty list"),
        ("POST", "/v1/archive_policy", {"name": "ap4", "definition": [{"granularity": "1s"}]},
         400, "points or timespan is required"),
        ("PATCH", "/v1/archive_policy/low", {}, 400,
         "only the definition of a policy may change"),
        ("PATCH", "/v1/archive_policy/low", [], 400, "the body must be a JSON object"),
        ("PATCH", "/v1/archive_policy/low", {"definition": [{"granularity": 1, "points": 5}]},
         400, "Archive policy low does not support change: Cannot add or drop granularities"),
        ("POST", "/v1/archive_policy_rule", {"name": "r"}, 400,
         "an archive policy rule has exactly ('name', 'metric_pattern', 'archive_policy_name')"),
        ("POST", "/v1/archive_policy_rule", [], 400, "the body must be a JSON object"),
        ("PATCH", "/v1/archive_policy_rule/default", {"name": ""}, 400,
         "only the name of a rule may change"),
        ("POST", "/v1/resource_type", {}, 400, "None is not a valid resource type name"),
        ("POST", "/v1/resource_type", {"name": "ok_t", "x": 1}, 400,
         "a resource type has a name and attributes"),
        ("POST", "/v1/resource_type", {"name": "ok_t", "attributes": []}, 400,
         "attributes must be an object"),
        ("POST", "/v1/resource_type", {"name": "ok_t", "attributes": {"id": {"type": "string"}}},
         400, "id is not a valid attribute name"),
        ("PATCH", "/v1/resource_type/{rtype}", {}, 400,
         "a JSON patch (a list of operations) is required"),
        ("PATCH", "/v1/resource_type/{rtype}", [1], 400, "Invalid operation 1: add or remove"),
        ("PATCH", "/v1/resource_type/{rtype}", [{"op": "add", "path": "/x"}], 400,
         "Invalid path '/x': /attributes/NAME"),
        ("PATCH", "/v1/resource_type/{rtype}", [{"op": "remove", "path": "/attributes/no"}],
         400, "attribute no does not exist"),
        ("PATCH", "/v1/resource_type/{rtype}",
         [{"op": "add", "path": "/attributes/host", "value": {"type": "string"}}], 400,
         "attribute host already exists"),
        ("PATCH", "/v1/resource_type/{rtype}",
         [{"op": "add", "path": "/attributes/q", "value": {"type": "number",
                                                           "options": {"fill": "x"}}}],
         400, "expected a number @ q"),
        ("PATCH", "/v1/resource_type/generic", [{"op": "remove", "path": "/attributes/x"}], 400,
         "the generic resource type cannot change"),
        ("POST", "/v1/metric", [], 400, "a metric is an object"),
        ("POST", "/v1/metric", {"x": 1}, 400, "extra keys not allowed @ data['x']"),
        ("POST", "/v1/metric", {"unit": "x" * 40}, 400,
         "unit must be a string of at most 31 characters"),
        ("POST", "/v1/metric", {"name": ""}, 400,
         "a metric name is a non-empty string without '/'"),
        ("POST", "/v1/metric", {"archive_policy_name": 5}, 400,
         "archive_policy_name must be a string"),
        ("POST", "/v1/metric", {"resource_id": "r"}, 400, "a metric of a resource needs a name"),
        ("POST", "/v1/resource/generic", [], 400, "required key not provided @ data['id']"),
        ("POST", "/v1/resource/generic", {"id": "a/b"}, 400, "id must be a string without '/'"),
        ("POST", "/v1/resource/generic", {"id": "x", "foo": 1}, 400,
         "extra keys not allowed @ data['foo']"),
        ("POST", "/v1/resource/generic", {"id": "x", "started_at": "bad"}, 400,
         "Unable to parse started_at: 'bad'"),
        ("POST", "/v1/resource/generic",
         {"id": "x", "started_at": "2024-01-02", "ended_at": "2024-01-01"}, 400,
         "Start timestamp cannot be after end timestamp"),
        ("POST", "/v1/resource/generic", {"id": "x", "project_id": 5}, 400,
         "project_id must be a string of at most 255 characters"),
        ("POST", "/v1/resource/generic", {"id": "x", "metrics": {"m": 5}}, 400,
         "a metric is an object"),
        ("POST", "/v1/resource/{rtype}", {"id": "y"}, 400,
         "required key not provided @ data['host']"),
        ("POST", "/v1/resource/{rtype}", {"id": "y", "host": 5}, 400,
         "expected str for dictionary value @ host"),
        ("POST", "/v1/resource/{rtype}", {"id": "y", "host": "h", "n": 11}, 400,
         "value must be in bounds @ n"),
        ("PATCH", "/v1/resource/generic/{rid}", [], 400, "the body must be an object"),
        ("PATCH", "/v1/resource/generic/{rid}", {"type": "x"}, 400,
         "extra keys not allowed @ data['id']"),
        ("PATCH", "/v1/resource/generic/{rid}", {"started_at": None}, 400,
         "started_at may not be null"),
        ("PATCH", "/v1/resource/generic/{rid}", {"ended_at": "2000-01-01"}, 400,
         "Start timestamp cannot be after end timestamp"),
        ("PATCH", "/v1/resource/generic/{rid}", {"metrics": []}, 200, None),
        ("PATCH", "/v1/resource/generic/{rid}", {"metrics": {"m": {"unit": 5}}}, 400,
         "unit must be a string of at most 31 characters"),
        ("POST", "/v1/resource/generic/{rid}/metric", [], 400,
         "metrics must be an object of name: metric"),
        ("POST", "/v1/resource/generic/{rid}/metric", {"a/b": {}}, 400,
         "a metric name is a non-empty string without '/'"),
        ("DELETE", "/v1/resource/generic", {}, 400, "a filter is required to delete resources"),
        ("POST", "/v1/aggregates", [], 400, "required key not provided @ data['operations']"),
        ("POST", "/v1/batch/metrics/measures", [], 400, "the body maps metric ids to measures"),
        ("POST", "/v1/batch/metrics/measures", {"{metric}": {}}, 400,
         "measures must be a list of {timestamp, value}"),
        ("POST", "/v1/batch/resources/metrics/measures", {"r": []}, 400,
         "the body maps resource ids to {metric: measures}"),
        ("POST", "/v1/batch/resources/metrics/measures?create_metrics=true",
         {"{rid}": {"m3": NAMED_MEASURES}}, 400,
         "unit must be a string of at most 31 characters"),
    ],
)  # fmt: skip
def test_bad_bodies_in_gnocchis_words(
    meter: Meter,
    places: dict[str, str],
    method: str,
    path: str,
    body: Any,
    code: int,
    description: str | None,
) -> None:
    """Each bad body: Gnocchi's status and ``Invalid input: <reason>`` in its error body."""
    raw = json.dumps(body).replace("{metric}", places["metric"]).replace("{rid}", places["rid"])
    ctype = GNOCCHI_PATCH if path.startswith("/v1/resource_type/") else J
    resp = meter.http("onestack").request(
        method, path.format(**places), content=raw.encode(), headers={"Content-Type": ctype}
    )
    if description is None:
        assert resp.status_code == code, resp.text
    else:
        assert _error(resp, code) == f"Invalid input: {description}"


@pytest.mark.parametrize(
    ("raw", "ctype", "code", "description"),
    [
        (b"", J, 400, "Invalid input: a JSON body is required"),
        (b"  ", J, 400, "Invalid input: a JSON body is required"),
        (b"{", J, 400, "Invalid input: Unable to decode body: it is not valid JSON"),
        (b"{}", "text/plain", 415,
         "The media type text/plain is not supported, use application/json."),
        (b"[" * 100 + b"]" * 100, J, 400,
         "Invalid input: the document is nested deeper than 64 levels."),
        (b'{"name": 99999999999999999999999}', J, 400,
         "Invalid input: the number 1e+23 is out of range."),
    ],
)  # fmt: skip
def test_bodies_that_are_no_json_document(
    meter: Meter, raw: bytes, ctype: str, code: int, description: str
) -> None:
    resp = meter.http("onestack").post(
        "/v1/archive_policy", content=raw, headers={"Content-Type": ctype}
    )
    assert _error(resp, code) == description


def test_an_empty_search_body_is_no_filter(meter: Meter, places: dict[str, str]) -> None:
    http = meter.http("onestack")
    for raw in (b"", b"[]", b"{}"):
        resp = http.post(
            "/v1/search/resource/generic",
            content=raw,
            headers={"Content-Type": "application/json"},
        )
        assert resp.status_code == 200, (raw, resp.text)
        assert places["rid"] in {r["id"] for r in resp.json()}
