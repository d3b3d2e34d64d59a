"""What every page shares: the session from its cookie, the CSRF check, the API client as
the user, templates, messages, and the error pages (never a traceback)."""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from onestack.common.logging import get_logger
from onestack.config import DashboardSettings
from onestack.dashboard.client import Api, APIError, Cloud, SessionExpired
from onestack.dashboard.session import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    Sealer,
    Session,
    new_csrf_token,
)

log = get_logger(__name__)

# Seconds a session cookie outlives its token (see _finish).
SESSION_GRACE = 3600

TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,  # every value a page shows is the user's or the cloud's: escaped
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass
class Dashboard:
    """The dashboard's process-wide parts (``request.app.state.dashboard``)."""

    cloud: Cloud
    sealer: Sealer
    settings: DashboardSettings


class Forbidden(Exception):
    """A page the user's roles do not open (the 403 page)."""


class NotFound(Exception):
    """A resource that is not there or not the user's (the 404 page)."""


@dataclass
class Ctx:
    """One request to a page: who asks, and the APIs as them."""

    request: Request
    dashboard: Dashboard
    session: Session | None
    csrf: str
    _form: FormData | None = None
    dirty: bool = False
    cookies: list[tuple[str, str]] = field(default_factory=list)

    @property
    def base(self) -> str:
        return str(self.request.scope.get("root_path", ""))

    @property
    def user(self) -> Session:
        assert self.session is not None, "a page for signed-in users only"
        return self.session

    @property
    def api(self) -> Api:
        return self.dashboard.cloud.api(self.user.token, self.user.region)

    @property
    def page_size(self) -> int:
        return self.dashboard.settings.page_size

    def url(self, path: str, **query: str) -> str:
        tail = "&".join(f"{k}={quote(str(v))}" for k, v in query.items() if v not in (None, ""))
        return f"{self.base}{path}" + (f"?{tail}" if tail else "")

    def flash(self, level: str, text: str) -> None:
        """A message shown on the next page rendered (success, info, warning, error)."""
        self.user.flash(level, text)
        self.dirty = True

    def redirect(self, path: str, **query: str) -> Response:
        return RedirectResponse(self.url(path, **query), status_code=303)

    async def form(self) -> FormData:
        if self._form is None:
            self._form = await self.request.form()
        return self._form

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        messages: list[list[str]] = []
        if self.session is not None and self.session.messages:
            messages, self.session.messages = self.session.messages, []
            self.dirty = True
        html = TEMPLATES.get_template(template).render(
            base=self.base,
            session=self.session,
            csrf_token=self.csrf,
            csrf_field=CSRF_FIELD,
            messages=messages,
            path=self.request.url.path,
            **values,
        )
        return HTMLResponse(html, status_code=status)


Page = Callable[[Ctx], Awaitable[Response]]


def page(*, public: bool = False, admin: bool = False) -> Callable[[Page], Any]:
    """A page handler: session, CSRF on unsafe methods, sign-in and admin checks, the
    service errors turned into the right page, the session cookie written back."""

    def wrap(handler: Page) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            dashboard: Dashboard = request.app.state.dashboard
            session = dashboard.sealer.open(request.cookies.get(SESSION_COOKIE))
            if session is not None and session.expired:
                session = None
            csrf = request.cookies.get(CSRF_COOKIE) or ""
            ctx = Ctx(request, dashboard, session, csrf or new_csrf_token())
            if request.method not in ("GET", "HEAD") and not await _csrf_ok(ctx, csrf):
                return _error(ctx, 403, "The form expired or did not come from this site.")
            if not public and session is None:
                return _to_login(ctx, expired=SESSION_COOKIE in request.cookies)
            if admin and session is not None and not session.is_admin:
                return _error(ctx, 403, "You are not allowed to open this page.")
            response = await _run(handler, ctx)
            return _finish(ctx, response)

        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        return endpoint

    return wrap


async def _run(handler: Page, ctx: Ctx) -> Response:
    try:
        return await handler(ctx)
    except SessionExpired:
        ctx.session = None
        return _to_login(ctx, expired=True)
    except Forbidden as exc:
        return _error(ctx, 403, str(exc) or "You are not allowed to do this.")
    except NotFound as exc:
        return _error(ctx, 404, str(exc) or "The page or resource was not found.")
    except APIError as exc:
        if exc.status in (403, 404):
            return _error(ctx, exc.status, exc.message)
        return _error(ctx, exc.status if exc.status < 500 else 502, exc.message)


async def _csrf_ok(ctx: Ctx, cookie: str) -> bool:
    if not cookie:
        return False
    sent = ctx.request.headers.get(CSRF_HEADER, "")
    if not sent and ctx.request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = str((await ctx.form()).get(CSRF_FIELD, ""))
    return bool(sent) and hmac.compare_digest(sent, cookie)


def _to_login(ctx: Ctx, *, expired: bool) -> Response:
    here = ctx.request.url.path
    query = {"next": here} if ctx.request.method == "GET" and here != ctx.url("/") else {}
    if expired:
        query["expired"] = "1"
    response = ctx.redirect("/auth/login/", **query)
    response.delete_cookie(SESSION_COOKIE, path=ctx.base or "/")
    return response


def _error(ctx: Ctx, status: int, message: str) -> Response:
    titles = {403: "Forbidden", 404: "Not Found", 409: "Conflict", 502: "Service error"}
    title = titles.get(status, "Error")
    return ctx.render("error.html", status=status, title=title, message=message)


def _finish(ctx: Ctx, response: Response) -> Response:
    secure = ctx.request.url.scheme == "https"
    path = ctx.base or "/"
    if ctx.request.cookies.get(CSRF_COOKIE) != ctx.csrf:
        response.set_cookie(
            CSRF_COOKIE, ctx.csrf, path=path, httponly=True, samesite="lax", secure=secure
        )
    if ctx.dirty and ctx.session is not None:
        response.set_cookie(
            SESSION_COOKIE,
            ctx.dashboard.sealer.seal(ctx.session),
            # Kept a while past its token so the next page can say the session expired
            # (a cookie gone with the token would be a bare login page); it is only ever
            # opened while its token lives.
            max_age=max(0, int(ctx.session.expires - time.time())) + SESSION_GRACE,
            path=path,
            httponly=True,
            samesite="lax",
            secure=secure,
        )
    response.headers.setdefault("cache-control", "no-store")
    return response


def sign_in(ctx: Ctx, session: Session) -> None:
    ctx.session = session
    ctx.dirty = True
    # A new CSRF token with the new session: one fixed before sign-in is not reused after.
    ctx.csrf = new_csrf_token()


def sign_out(ctx: Ctx, response: Response) -> Response:
    ctx.session = None
    response.delete_cookie(SESSION_COOKIE, path=ctx.base or "/")
    return response
