"""Remote console tokens: made by the API, redeemed by the console proxy of any API process.

A token is 32 random bytes (URL-safe); the database keeps only its SHA-256, the server, the
console's kind and the host that runs the guest. A token stays valid until it expires
(``TOKEN_TTL``): noVNC reconnects with the same URL, as Nova's tokens allow.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, urlsplit

from sqlalchemy import delete, select

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.compute import models, states
from onestack.compute.service.actions import Actions
from onestack.compute.service.base import ComputeContext

TOKEN_TTL = timedelta(minutes=10)
KINDS = ("vnc", "serial")

# console type: the protocol whose server the guest has (None: this cloud has none of it)
TYPES: dict[str, str | None] = {
    "novnc": "vnc",
    "xvpvnc": None,
    "serial": "serial",
    "spice-html5": None,
    "rdp-html5": None,
    "webmks": None,
}


class ConsoleTypeUnavailable(errors.BadRequest):
    template = "Unavailable console type {type}."


@dataclass(frozen=True)
class ConsoleTarget:
    instance_uuid: str
    kind: str  # vnc, serial
    host: str


class InstanceNotReady(errors.Conflict):
    template = "Instance {id} is not ready"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def console_link(proxy_base: str, token: str, kind: str) -> str:
    """The URL a client opens for the ``kind`` console with ``token``, the proxy being at
    ``proxy_base`` (the public URL and ``[compute] vnc_proxy_path``)."""
    if kind == "serial":
        ws = (
            "wss" + proxy_base[5:]
            if proxy_base.startswith("https")
            else "ws" + proxy_base.removeprefix("http")
        )
        return f"{ws}/serial?token={token}"
    # noVNC joins ``path`` to the page's host: the proxy's path below it, without the slash.
    target = quote(f"{urlsplit(proxy_base).path.lstrip('/')}/websockify?token={token}", safe="/")
    return f"{proxy_base}/vnc_lite.html?path={target}"


class Consoles:
    def __init__(self, context: ComputeContext, actions: Actions) -> None:
        self.context = context
        self.actions = actions

    async def open(self, ctx: RequestContext, uuid: str, kind: str) -> str:
        """A new token for the server's ``kind`` console: its guest must run (409 otherwise)
        and its host's agent must know the console's socket."""
        async with self.context.db.session() as s:
            row = await s.scalar(
                select(models.Instance).where(
                    models.Instance.uuid == uuid, models.Instance.deleted.is_(False)
                )
            )
        if row is None or row.host is None or row.vm_state != states.ACTIVE:
            raise InstanceNotReady(id=uuid)
        try:
            await self.actions.ask(ctx, uuid, "console_socket", kind=kind)
        except errors.OneStackError as exc:
            if exc.code >= 500:
                raise InstanceNotReady(id=uuid) from None
            raise
        return await self.create_token(uuid, kind, row.host)

    async def create_token(self, instance_uuid: str, kind: str, host: str) -> str:
        """A new token for ``kind`` console of the server on ``host``; expired ones go."""
        if kind not in KINDS:
            raise ValueError(f"unknown console kind {kind!r}")
        token = secrets.token_urlsafe(32)
        now = utcnow()
        async with self.context.db.session() as s:
            await s.execute(delete(models.ConsoleToken).where(models.ConsoleToken.expires < now))
            s.add(
                models.ConsoleToken(
                    token_hash=token_hash(token),
                    instance_uuid=instance_uuid,
                    kind=kind,
                    host=host,
                    expires=now + TOKEN_TTL,
                )
            )
        return token

    async def redeem(self, token: str, kind: str) -> ConsoleTarget | None:
        """What ``token`` opens, if it is unexpired, of ``kind``, and its server still lives
        on the host it was made for."""
        if not token or len(token) > 256:
            return None
        async with self.context.db.session() as s:
            rec = await s.scalar(
                select(models.ConsoleToken).where(
                    models.ConsoleToken.token_hash == token_hash(token)
                )
            )
            if rec is None or rec.kind != kind or rec.expires < utcnow():
                return None
            row = await s.scalar(
                select(models.Instance).where(
                    models.Instance.uuid == rec.instance_uuid, models.Instance.deleted.is_(False)
                )
            )
            if row is None or row.host != rec.host:
                return None
            return ConsoleTarget(rec.instance_uuid, rec.kind, rec.host)
