"""The dashboard's ASGI app: its pages, its static files, and the headers every answer
carries (a Content-Security-Policy without inline script, no framing)."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onestack.common.errors import ErrorPage, OneStackError
from onestack.common.runtime import Runtime
from onestack.dashboard import pages
from onestack.dashboard.client import Cloud
from onestack.dashboard.session import Sealer, session_key
from onestack.dashboard.web import TEMPLATES, Dashboard

STATIC = Path(__file__).parent / "static"

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
        b"form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


def routes() -> list[BaseRoute]:
    static = StaticFiles(directory=STATIC, packages=None)
    return [*pages.routes(), Mount("/static", app=static, name="static")]


def build(runtime: Runtime) -> ASGIApp:
    dashboard = Dashboard(
        cloud=Cloud(runtime),
        sealer=Sealer(session_key(runtime.settings)),
        settings=runtime.settings.dashboard,
    )
    app = Starlette(routes=routes(), exception_handlers={404: _not_found, 405: _not_found})
    app.state.dashboard = dashboard
    return SecurityHeaders(app)


async def _not_found(request: Request, exc: Exception) -> Response:
    html = TEMPLATES.get_template("error.html").render(
        base=request.scope.get("root_path", ""),
        session=None,
        csrf_token="",
        csrf_field="",
        messages=[],
        path=request.url.path,
        title="Not Found",
        message="The page was not found.",
    )
    return HTMLResponse(html, status_code=404)


def error_page(err: OneStackError) -> ErrorPage:
    """A failure outside any page (the process's error middleware): a plain page, no trace."""
    text = "Something went wrong on the server." if err.code >= 500 else err.message
    body = f"<!doctype html><title>Error</title><h1>Error {err.code}</h1><p>{_escape(text)}</p>"
    return ErrorPage("text/html; charset=utf-8", body.encode())


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
