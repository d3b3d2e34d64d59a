"""Alarms in the dashboard: one on an instance's metric created through the form, its
detail and history, enable/disable and deletion, checked through the alarming API."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.support.browser import api, server, shot, token
from tests.support.cloud import Cloud
from tests.support.keystone import unique


def instance(cloud: Cloud, tok: str) -> dict[str, Any]:
    """A server whose metric resource exists (it comes with the compute notification)."""
    vm = server(cloud, tok, unique("dash-alarm-vm"))
    deadline = time.monotonic() + 30
    url = f"{cloud.url}/metric/v1/resource/instance/{vm['id']}"
    while httpx.get(url, headers={"x-auth-token": tok}, timeout=30).status_code != 200:
        assert time.monotonic() < deadline, f"no metric resource for {vm['id']}"
        time.sleep(0.3)
    return vm


def test_create_an_alarm_on_an_instance_metric(demo_page: Page, cloud: Cloud) -> None:
    page = demo_page
    tok = token(cloud, "demo")
    vm = instance(cloud, tok)
    name = unique("dash-alarm")
    page.goto(f"{cloud.url}/dashboard/project/alarms/")
    page.get_by_role("link", name="Create Alarm").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Instance").select_option(vm["id"])
    page.get_by_label("Metric").fill("cpu")
    page.get_by_label("Aggregation").select_option("max")
    page.get_by_label("Comparison").select_option("ge")
    page.get_by_label("Threshold").fill("75.5")
    page.get_by_label("Granularity (seconds)").fill("60")
    page.get_by_label("Evaluation Periods").fill("3")
    page.get_by_label("Severity").select_option("critical")
    page.get_by_label("Alarm Actions").fill("http://127.0.0.1:9/hook\nhttps://example.com/alarm")
    shot(page, "alarms-create")
    page.get_by_role("button", name="Create Alarm").click()
    expect(page.get_by_role("status")).to_contain_text(f'Alarm "{name}" created.')
    alarm_id = page.url.rstrip("/").split("/")[-1]
    alarm = api(cloud, "GET", f"/alarming/v2/alarms/{alarm_id}", tok)
    assert alarm["name"] == name and alarm["type"] == "gnocchi_resources_threshold"
    assert alarm["severity"] == "critical" and alarm["enabled"] is True
    assert alarm["alarm_actions"] == ["http://127.0.0.1:9/hook", "https://example.com/alarm"]
    rule = alarm["gnocchi_resources_threshold_rule"]
    assert rule == {**rule, "resource_id": vm["id"], "resource_type": "instance", "metric": "cpu",
                    "aggregation_method": "max", "comparison_operator": "ge",
                    "threshold": 75.5, "granularity": 60, "evaluation_periods": 3}  # fmt: skip
    # The detail: its state and the history of its creation.
    expect(page.locator("#alarm-state")).to_have_text("insufficient data")
    expect(page.get_by_role("row", name=re.compile("creation"))).to_be_visible()
    shot(page, "alarms-detail")
    page.get_by_role("button", name="Disable Alarm").click()
    expect(page.get_by_role("status")).to_contain_text("disabled")
    expect(page.locator("#alarm-enabled")).to_have_text("No")
    assert api(cloud, "GET", f"/alarming/v2/alarms/{alarm_id}", tok)["enabled"] is False
    expect(page.get_by_role("row", name=re.compile("rule change"))).to_be_visible()
    page.get_by_role("button", name="Enable Alarm").click()
    expect(page.locator("#alarm-enabled")).to_have_text("Yes")
    assert api(cloud, "GET", f"/alarming/v2/alarms/{alarm_id}", tok)["enabled"] is True
    page.goto(f"{cloud.url}/dashboard/project/alarms/")
    row = page.get_by_role("row", name=re.compile(name))
    expect(row).to_contain_text("max(cpu) greater than or equal to 75.5")
    expect(row).to_contain_text("insufficient data")
    shot(page, "alarms")
    row.get_by_role("link", name=f"Delete alarm {name}").click()
    page.get_by_role("button", name="Delete Alarm").click()
    expect(page.get_by_role("status")).to_contain_text(f'Alarm "{name}" deleted.')
    gone = httpx.get(
        f"{cloud.url}/alarming/v2/alarms/{alarm_id}", headers={"x-auth-token": tok}, timeout=30
    )
    assert gone.status_code == 404


def test_bad_input_shows_aodhs_words_and_keeps_the_values(demo_page: Page, cloud: Cloud) -> None:
    page = demo_page
    tok = token(cloud, "demo")
    vm = instance(cloud, tok)
    page.goto(f"{cloud.url}/dashboard/project/alarms/create/")
    page.get_by_role("button", name="Create Alarm").click()
    # The browser's own check stops an empty required field first; the server's is behind it.
    page.evaluate("document.querySelector('form.confirm').noValidate = true")
    page.get_by_role("button", name="Create Alarm").click()
    expect(page.locator("#err_name")).to_have_text("This field is required.")
    page.get_by_label("Name").fill("bad-actions")
    page.get_by_label("Instance").select_option(vm["id"])
    page.get_by_label("Threshold").fill("10")
    page.get_by_label("Alarm Actions").fill("ftp://example.com/nope")
    page.get_by_role("button", name="Create Alarm").click()
    expect(page.locator(".field.invalid")).to_contain_text("ftp")
    expect(page.get_by_label("Alarm Actions")).to_have_value("ftp://example.com/nope")
    expect(page.get_by_label("Name")).to_have_value("bad-actions")


def test_another_projects_alarm_is_not_found(demo_page: Page, cloud: Cloud) -> None:
    admin = token(cloud, "admin", "admin")
    vm = server(cloud, admin, unique("admin-vm"))
    body = {
        "name": unique("admin-alarm"),
        "type": "gnocchi_resources_threshold",
        "gnocchi_resources_threshold_rule": {
            "metric": "cpu", "resource_type": "instance", "resource_id": vm["id"],
            "aggregation_method": "mean", "threshold": 1,
        },
    }  # fmt: skip
    # The instance's metric resource comes with the compute notification: shortly after.
    deadline = time.monotonic() + 30
    while True:
        resp = httpx.post(f"{cloud.url}/alarming/v2/alarms", json=body,
                          headers={"x-auth-token": admin}, timeout=30)  # fmt: skip
        if resp.status_code == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert resp.status_code == 201, resp.text
    page = demo_page
    for path in ("", "delete/"):
        page.goto(f"{cloud.url}/dashboard/project/alarms/{resp.json()['alarm_id']}/{path}")
        expect(page.get_by_role("heading", name="Not Found")).to_be_visible()


def test_a_state_change_shows_in_the_alarms_history(demo_page: Page, cloud: Cloud) -> None:
    tok = token(cloud, "demo")
    vm = instance(cloud, tok)
    body = {
        "name": unique("dash-alarm-state"),
        "type": "gnocchi_resources_threshold",
        "gnocchi_resources_threshold_rule": {
            "metric": "cpu", "resource_type": "instance", "resource_id": vm["id"],
            "aggregation_method": "mean", "threshold": 1e12,
        },
    }  # fmt: skip
    alarm_id = api(cloud, "POST", "/alarming/v2/alarms", tok, json=body)["alarm_id"]
    try:
        page = demo_page
        page.goto(f"{cloud.url}/dashboard/project/alarms/{alarm_id}/")
        history = page.locator("table").filter(has_text="Detail").locator("tbody tr")
        expect(history.last).to_contain_text("creation")
        # The threshold is out of the fake metrics' reach: the evaluator never moves the
        # alarm to "alarm" itself (it may record other transitions meanwhile).
        went = history.filter(has_text="state transition").filter(has_text='"state": "alarm"')
        expect(went).to_have_count(0)
        api(cloud, "PUT", f"/alarming/v2/alarms/{alarm_id}/state", tok, json="alarm")
        page.reload()
        expect(went).to_have_count(1)
        expect(history.last).to_contain_text("creation")
        shot(page, "alarms-history")
    finally:
        api(cloud, "DELETE", f"/alarming/v2/alarms/{alarm_id}", tok)
