"""What compute API tests share: a client that asks for a microversion per call, and Tempest's
strict response schemas to hold the answers to."""

from __future__ import annotations

import importlib
from typing import Any

import httpx
from tempest.lib.common.jsonschema_validator import FORMAT_CHECKER, JSONSCHEMA_VALIDATOR

C = "/compute/v2.1"


def tempest_schema(version: str, module: str, name: str) -> dict[str, Any]:
    """Tempest's schema ``name`` in ``compute/<version>/<module>`` (``v2_1``, ``servers``)."""
    mod = importlib.import_module(f"tempest.lib.api_schema.response.compute.{version}.{module}")
    found: dict[str, Any] = getattr(mod, name)
    return found


def newest_schema(mv: str, module: str, name: str) -> dict[str, Any]:
    """The schema ``name`` of ``module`` in the newest Tempest version <= microversion ``mv``."""
    for minor in range(int(mv.split(".")[1]), 0, -1):
        try:
            return tempest_schema(f"v2_{minor}", module, name)
        except (ModuleNotFoundError, AttributeError):
            continue
    raise LookupError(f"{module}.{name} at {mv}")


def check_schema(resp: httpx.Response, schema: dict[str, Any]) -> Any:
    """Assert ``resp`` matches ``schema`` (status code and body); return its body."""
    assert resp.status_code in schema["status_code"], resp.text
    body = resp.json() if resp.content else None
    if "response_body" in schema:
        validator = JSONSCHEMA_VALIDATOR(schema["response_body"], format_checker=FORMAT_CHECKER)
        validator.validate(body)
    return body


class Compute:
    """An httpx client of the compute API that asks for a microversion per call."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def __call__(self, method: str, path: str, mv: str = "2.1", **kw: Any) -> httpx.Response:
        headers = {"OpenStack-API-Version": f"compute {mv}", **kw.pop("headers", {})}
        return self.client.request(method, f"{C}{path}", headers=headers, **kw)
