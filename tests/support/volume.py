"""What block storage API tests share: a client that asks for a volume microversion per call,
Tempest's volume response schemas, and waiting for a volume's status."""

from __future__ import annotations

import importlib
import time
from typing import Any

import httpx

from tests.support.cloud import Cloud
from tests.support.compute import check_schema as check_schema


def volume_schema(module: str, name: str, version: str = "") -> dict[str, Any]:
    """Tempest's schema ``name`` in ``volume/[<version>/]<module>``."""
    base = "tempest.lib.api_schema.response.volume"
    mod = importlib.import_module(f"{base}.{version}.{module}" if version else f"{base}.{module}")
    found: dict[str, Any] = getattr(mod, name)
    return found


class Volume:
    """An httpx client of ``/volume/v3/{project_id}`` that asks for a microversion per call."""

    def __init__(self, client: httpx.Client, project_id: str) -> None:
        self.client = client
        self.project_id = project_id

    def __call__(self, method: str, path: str, mv: str = "3.0", **kw: Any) -> httpx.Response:
        headers = {"OpenStack-API-Version": f"volume {mv}", **kw.pop("headers", {})}
        url = f"/volume/v3/{self.project_id}{path}"
        return self.client.request(method, url, headers=headers, **kw)

    def create(self, mv: str = "3.0", **volume: Any) -> dict[str, Any]:
        resp = self("POST", "/volumes", mv, json={"volume": {"size": 1, **volume}})
        assert resp.status_code == 202, resp.text
        body: dict[str, Any] = resp.json()["volume"]
        return body

    def wait(self, volume_id: str, status: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            resp = self("GET", f"/volumes/{volume_id}", "3.70")
            if resp.status_code == 404 and status == "deleted":
                return {}
            last = resp.json().get("volume", {})
            if last.get("status") == status:
                return last
            if status != "error" and str(last.get("status", "")).startswith("error"):
                raise AssertionError(f"volume {volume_id} went to {last['status']}")
            time.sleep(0.05)
        raise AssertionError(f"volume {volume_id} not {status} after {timeout}s: {last}")


def public_raw_image(cloud: Cloud, name: str, data: bytes, **extra: Any) -> str:
    """A public raw image holding ``data`` (``extra``: more Glance fields), made by the admin."""
    with cloud.http(cloud.token()) as admin:
        body = {"name": name, "disk_format": "raw", "container_format": "bare",
                "visibility": "public", **extra}  # fmt: skip
        image = admin.post("/image/v2/images", json=body).json()["id"]
        put = admin.put(
            f"/image/v2/images/{image}/file", content=data,
            headers={"Content-Type": "application/octet-stream"},
        )  # fmt: skip
        assert put.status_code == 204, put.text
        return str(image)
