"""How the dashboard reaches the cloud: the services' public APIs with the user's token, in
process through the process's own ASGI app (``onestack up``), or over HTTP when
``[dashboard] endpoint`` names the APIs' address. Never a side door: what the API refuses
the user, the dashboard cannot do."""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import orjson
from starlette.types import Receive, Scope, Send

from onestack.common.runtime import Runtime
from onestack.dashboard.transport import StreamingASGITransport

# The newest microversions the pages are written against.
MICROVERSIONS = {"compute": "compute 2.96", "volumev3": "volume 3.70"}
_CATALOG_CACHE = 1024


class APIError(Exception):
    """A service refused: its status and its own message (shown to the user as it is)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SessionExpired(Exception):
    """The token no longer works (expired or revoked): the user signs in again."""


class _ProcessApp:
    """The process's whole app, looked up per call: it is built after the dashboard's."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.runtime.app(scope, receive, send)


@dataclass(frozen=True)
class Scoped:
    """What a sign-in or a project switch gives: a scoped token and who it speaks for."""

    token: str
    expires: float
    user_id: str
    user_name: str
    project_id: str
    project_name: str
    roles: list[str]


class Cloud:
    def __init__(self, runtime: Runtime) -> None:
        endpoint = runtime.settings.dashboard.endpoint.rstrip("/")
        timeout = httpx.Timeout(120.0, connect=10.0)
        if endpoint:
            self.http = httpx.AsyncClient(timeout=timeout)
            base = endpoint
        else:
            transport = StreamingASGITransport(_ProcessApp(runtime))
            self.http = httpx.AsyncClient(transport=transport, timeout=timeout)
            base = runtime.public_url
        self.identity = f"{base}/identity/v3"
        self.region = runtime.settings.identity.region
        self._catalogs: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()

    async def close(self) -> None:
        await self.http.aclose()

    async def password(self, user: str, password: str, domain: str) -> tuple[str, str]:
        """The sign-in token of ``user`` (APIError 401 on wrong credentials) and the id of
        their default project ('' when none): asked for without a scope, as Horizon does,
        Keystone scopes it to that project."""
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {"name": user, "password": password, "domain": {"name": domain}}
                    },
                },
            }
        }
        resp = await self.http.post(f"{self.identity}/auth/tokens", json=body)
        raise_for(resp)
        project = resp.json()["token"].get("project") or {}
        return resp.headers["x-subject-token"], str(project.get("id", ""))

    async def projects(self, unscoped: str) -> list[dict[str, Any]]:
        resp = await self.http.get(
            f"{self.identity}/auth/projects", headers={"x-auth-token": unscoped}
        )
        raise_for(resp, session=True)
        projects: list[dict[str, Any]] = resp.json()["projects"]
        return sorted(projects, key=lambda p: str(p.get("name", "")))

    async def scope(self, unscoped: str, project_id: str) -> Scoped:
        body = {
            "auth": {
                "identity": {"methods": ["token"], "token": {"id": unscoped}},
                "scope": {"project": {"id": project_id}},
            }
        }
        resp = await self.http.post(f"{self.identity}/auth/tokens", json=body)
        raise_for(resp)
        token = resp.json()["token"]
        self._remember(resp.headers["x-subject-token"], token.get("catalog", []))
        return Scoped(
            token=resp.headers["x-subject-token"],
            expires=_epoch(token["expires_at"]),
            user_id=token["user"]["id"],
            user_name=token["user"]["name"],
            project_id=token["project"]["id"],
            project_name=token["project"]["name"],
            roles=sorted(r["name"] for r in token.get("roles", [])),
        )

    async def revoke(self, token: str) -> None:
        headers = {"x-auth-token": token, "x-subject-token": token}
        # Signing out ends the session whatever the identity service answers.
        with contextlib.suppress(httpx.HTTPError):
            await self.http.delete(f"{self.identity}/auth/tokens", headers=headers)

    def api(self, token: str, region: str) -> Api:
        return Api(self, token, region)

    def _remember(self, token: str, catalog: list[dict[str, Any]]) -> None:
        key = _digest(token)
        self._catalogs[key] = catalog
        self._catalogs.move_to_end(key)
        while len(self._catalogs) > _CATALOG_CACHE:
            self._catalogs.popitem(last=False)

    async def catalog(self, token: str) -> list[dict[str, Any]]:
        key = _digest(token)
        found = self._catalogs.get(key)
        if found is None:
            resp = await self.http.get(
                f"{self.identity}/auth/catalog", headers={"x-auth-token": token}
            )
            raise_for(resp, session=True)
            found = resp.json()["catalog"]
            self._remember(token, found)
        return found


class Api:
    """The APIs as the signed-in user: ``await api.get("compute", "/servers/detail")``."""

    def __init__(self, cloud: Cloud, token: str, region: str) -> None:
        self.cloud = cloud
        self.token = token
        self.region = region

    async def endpoint(self, service: str) -> str:
        if service == "identity":
            return self.cloud.identity
        for entry in await self.cloud.catalog(self.token):
            if entry.get("type") != service:
                continue
            for ep in entry.get("endpoints", []):
                if ep.get("interface") == "public" and ep.get("region_id", ep.get("region")) in (
                    self.region,
                    None,
                ):
                    return str(ep["url"]).rstrip("/")
        raise APIError(503, f"The cloud offers no {service} service in region {self.region}.")

    async def request(
        self,
        method: str,
        service: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content: Any = None,
    ) -> httpx.Response:
        url = await self.endpoint(service) + path
        sent = {"x-auth-token": self.token}
        if service in MICROVERSIONS:
            sent["openstack-api-version"] = MICROVERSIONS[service]
        sent.update(headers or {})
        resp = await self.cloud.http.request(
            method, url, json=json, params=params, headers=sent, content=content
        )
        raise_for(resp, session=True)
        return resp

    async def get(self, service: str, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None and v != ""}
        return (await self.request("GET", service, path, params=clean)).json()

    async def post(self, service: str, path: str, body: Any = None) -> Any:
        return _json(await self.request("POST", service, path, json=body))

    async def put(self, service: str, path: str, body: Any = None) -> Any:
        return _json(await self.request("PUT", service, path, json=body))

    async def patch(
        self, service: str, path: str, body: Any, content_type: str = "application/json"
    ) -> Any:
        """PATCH ``body`` as ``content_type`` (Glance and Keystone want their patch types)."""
        headers = {"content-type": content_type}
        content = orjson.dumps(body)
        return _json(await self.request("PATCH", service, path, content=content, headers=headers))

    async def delete(self, service: str, path: str) -> None:
        await self.request("DELETE", service, path)


def _json(resp: httpx.Response) -> Any:
    if not resp.content:
        return None
    try:
        return resp.json()
    except ValueError:
        return None


def raise_for(resp: httpx.Response, *, session: bool = False) -> None:
    """APIError for a refusal; with ``session`` (a call with the session's token) a 401
    means the token ended."""
    if session and resp.status_code == 401:
        raise SessionExpired()
    if resp.status_code >= 400:
        raise APIError(resp.status_code, error_message(resp))


_TAGS = re.compile(r"<[^>]+>")


def error_message(resp: httpx.Response) -> str:
    """The service's own words, whichever body its kind of service answers with."""
    try:
        body = resp.json()
    except ValueError:
        text = _TAGS.sub(" ", resp.text)
        return " ".join(text.split())[:500] or resp.reason_phrase
    return _message_in(body) or resp.reason_phrase


def _message_in(body: Any) -> str:
    if isinstance(body, str):
        return body
    if not isinstance(body, dict):
        return ""
    # Heat's body has a generic top-level "explanation" beside its own words in "error".
    inner = _message_in(body["error"]) if isinstance(body.get("error"), dict) else ""
    if inner:
        return inner
    for key in ("message", "faultstring", "description", "explanation"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    # Nova/Cinder ({"badRequest": {...}}), Neutron ({"NeutronError": ...}), Keystone and
    # Heat ({"error": {...}}), Aodh ({"error_message": {...}}).
    for value in body.values():
        found = _message_in(value) if isinstance(value, dict) else ""
        if found:
            return found
    return ""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
