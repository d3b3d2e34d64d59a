"""The dashboard calling the APIs over HTTP (``[dashboard] endpoint``), as it does when it
runs apart from them, instead of in process."""

from __future__ import annotations

import re

import httpx

from tests.support.cloud import Cloud


def test_the_dashboard_works_through_the_apis_address(fresh_cloud: Cloud) -> None:
    fresh_cloud.env["ONESTACK_DASHBOARD_ENDPOINT"] = fresh_cloud.url
    fresh_cloud.start()
    try:
        with httpx.Client(base_url=f"{fresh_cloud.url}/dashboard", timeout=30) as client:
            login = client.get("/auth/login/")
            csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text)
            assert csrf is not None
            form = {
                "username": "demo",
                "password": fresh_cloud.secrets["demo_password"],
                "csrfmiddlewaretoken": csrf.group(1),
            }
            signed = client.post("/auth/login/", data=form, follow_redirects=True)
            assert signed.status_code == 200 and "Limit Summary" in signed.text
            page = client.get("/project/instances/")
            assert page.status_code == 200 and "No items to display." in page.text
        log = fresh_cloud.log.read_text()
        # Over HTTP the dashboard's calls reach the API port like any client's.
        assert re.search(r"GET /compute/v2\.1/servers/detail\S* 200", log)
    finally:
        fresh_cloud.stop()
