"""The Swift API's entry point below ``/object``: one ASGI app that splits the path, lets
signed requests (temp URLs, form POSTs) in by their signature, authenticates and authorises
the rest (keystoneauth), hands bulk requests to the bulk code and the others to the
account, container or object handlers, and answers every failure with Swift's body."""

from __future__ import annotations

import orjson
from starlette.types import Message, Receive, Scope, Send

from onestack.common.errors import OneStackError, render_error
from onestack.common.logging import get_logger
from onestack.common.runtime import Runtime
from onestack.object import errors
from onestack.object.api import (
    accounts,
    auth,
    bulk,
    containers,
    cors,
    formpost,
    info,
    objects,
    signed,
    staticweb,
)
from onestack.object.api.http import SwiftRequest, base_headers, parse, trans_id
from onestack.object.api.metadata import check_object_name
from onestack.object.service import ObjectService

log = get_logger(__name__)
JSON = b"application/json; charset=utf-8"


def _route(scope: Scope) -> str:
    """The still percent-encoded path below the mount point (object names may hold
    ``%2F`` and ``?``: only the raw path keeps them apart)."""
    raw: bytes = scope.get("raw_path") or scope["path"].encode()
    path = raw.decode("latin-1").split("?", 1)[0]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


async def _send_error(send: Send, txid: str, method: str, err: OneStackError) -> None:
    ctype, body = render_error(errors.swift_body, err)
    raw = [(b"x-trans-id", txid.encode()), (b"x-openstack-request-id", txid.encode())]
    raw += [(k.lower().encode(), str(v).encode()) for k, v in err.headers.items()]
    raw += [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": err.code, "headers": raw})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


class SwiftProxy:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._svc: ObjectService | None = None

    @property
    def svc(self) -> ObjectService:
        if self._svc is None:
            self._svc = self.runtime.service(ObjectService)
        return self._svc

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = True
            await out(message)

        req: SwiftRequest | None = None
        out = send  # with CORS headers added once the request is known to want them
        try:
            route = _route(scope)
            if route in ("/info", "/info/"):
                await self.info(scope, send)
                return
            if route == "/healthcheck":
                await _reply(send, scope["method"], 200, b"OK", b"text/plain")
                return
            if route in ("", "/"):
                await self.versions(scope, send)
                return
            req = parse(scope, receive, route)
            if req is None:
                raise errors.NotFound()
            scope.setdefault("state", {})["request_id"] = req.txid
            out = await cors.wrap(self.svc, req, send)
            await self.dispatch(req, tracking)
        except OneStackError as err:
            if started:
                raise
            if err.code == 401 and req is not None and req.authorized_by != "tempurl":
                err.headers.setdefault(
                    "WWW-Authenticate", f"Keystone uri='{self.runtime.public_url}/identity'"
                )
            txid = req.txid if req is not None else trans_id()
            await _send_error(out, txid, scope["method"], err)

    async def dispatch(self, req: SwiftRequest, send: Send) -> None:
        svc = self.svc
        if req.method == "OPTIONS":  # CORS preflights come without a token
            await cors.options(svc, req, send)
            return
        if req.obj and "temp_url_sig" in req.query:
            await signed.check_temp_url(svc, req)
        elif formpost.is_form_post(req):
            await formpost.handle(svc, req, send)
            return
        else:
            auth.token_context(svc, req)
            if staticweb.applies(req) and await staticweb.handle(svc, req, send):
                return
            method = req.method
            if req.obj:
                check_object_name(req.obj)
            if method == "COPY":
                method = "GET"  # the copy authorises both ends itself
            elif "bulk-delete" in req.query or "extract-archive" in req.query:
                if not req.container:  # each path is authorised as it comes; an account's
                    await auth.authorize(svc, req, req.account, "", "", "HEAD")  # owner only
                await self.bulk(req, send)
                return
            await auth.authorize(svc, req, req.account, req.container, req.obj, method)
        if req.obj:
            await objects.handle(svc, req, send)
        elif req.container:
            await containers.handle(svc, req, send)
        else:
            await accounts.handle(svc, req, send)

    async def bulk(self, req: SwiftRequest, send: Send) -> None:
        if "bulk-delete" in req.query and req.method in ("POST", "DELETE"):
            await bulk.bulk_delete(self.svc, req, send)
        elif "extract-archive" in req.query and req.method == "PUT":
            await bulk.extract(self.svc, req, send)
        else:
            raise errors.MethodNotAllowed()

    async def info(self, scope: Scope, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            raise errors.MethodNotAllowed()
        body = orjson.dumps(info.capabilities(self.runtime.settings.object))
        await _reply(send, scope["method"], 200, body, JSON)

    async def versions(self, scope: Scope, send: Send) -> None:
        href = f"{self.runtime.public_url}/object/v1/"
        doc = {
            "versions": [
                {"id": "v1.0", "status": "CURRENT", "links": [{"rel": "self", "href": href}]}
            ]
        }
        await _reply(send, scope["method"], 200, orjson.dumps(doc), JSON)


async def _reply(send: Send, method: str, status: int, body: bytes, ctype: bytes) -> None:
    txid = trans_id().encode()
    headers = [
        (b"x-trans-id", txid),
        (b"x-openstack-request-id", txid),
        (b"content-type", ctype),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


class RootPaths:
    """``/info`` and ``/healthcheck`` at the root of the host, where Swift clients look."""

    def __init__(self, runtime: Runtime, what: str) -> None:
        self.runtime = runtime
        self.what = what

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if self.what == "healthcheck":
            await _reply(send, method, 200, b"OK", b"text/plain")
            return
        body = orjson.dumps(info.capabilities(self.runtime.settings.object))
        await _reply(send, method, 200, body, JSON)


__all__ = ["RootPaths", "SwiftProxy", "base_headers"]
