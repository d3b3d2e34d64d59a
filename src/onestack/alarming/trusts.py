"""``trust+http(s)://`` actions: Aodh makes a Keystone trust for the alarm's creator; here an
application credential of the creator (made through identity's facade, with the roles the
creator holds on the project: no token needed, a stack's engine has none), kept in the action
URL (hidden from every view) and traded for a token per call."""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from onestack.alarming.errors import InvalidAlarm
from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.identity.facade import IdentityAPI

TIMEOUT = 10.0


def _call(url: str, body: Mapping[str, Any], token: str | None) -> tuple[dict[str, Any], str]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["X-Auth-Token"] = token
    if urlsplit(url).scheme not in ("http", "https"):
        raise OSError(f"not an HTTP URL: {url}")
    data = json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST", headers=headers)  # noqa: S310
    with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310
        return json.loads(resp.read() or b"{}"), resp.headers.get("X-Subject-Token", "")


class Trusts:
    def __init__(self, identity_url: str, identity: Callable[[], IdentityAPI]) -> None:
        self.identity_url = identity_url.rstrip("/")
        self.identity = identity

    async def bind(self, ctx: RequestContext, actions: list[str]) -> list[str]:
        """Each new trust action with a fresh credential of the caller in its URL."""
        out = []
        for action in actions:
            url = urlsplit(action)
            if not url.scheme.startswith("trust+"):
                out.append(action)
                continue
            if "@" in url.netloc:
                raise InvalidAlarm(reason="trust URL cannot contain a trust ID.")
            try:
                cred_id, secret = await self.identity().create_application_credential(
                    ctx,
                    f"alarm-action-{uuid.uuid4().hex[:12]}",
                    f"Alarm action to {url.hostname}{url.path}",
                )
            except errors.Forbidden as exc:
                raise InvalidAlarm(reason=f"Cannot make a trust for {action}: {exc}") from None
            userinfo = f"{quote(cred_id, safe='')}:{quote(secret, safe='')}"
            out.append(urlunsplit(url._replace(netloc=f"{userinfo}@{url.netloc}")))
        return out

    async def token(self, credential_id: str, secret: str) -> str:
        body = {
            "auth": {
                "identity": {
                    "methods": ["application_credential"],
                    "application_credential": {"id": credential_id, "secret": secret},
                }
            }
        }
        _, token = await asyncio.to_thread(_call, f"{self.identity_url}/v3/auth/tokens", body, None)
        return token
