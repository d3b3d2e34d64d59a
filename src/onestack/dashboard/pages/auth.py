"""Sign in, sign out, switch project (Horizon's ``/auth/...`` pages)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError, Scoped
from onestack.dashboard.session import Session
from onestack.dashboard.web import Ctx, page, sign_in, sign_out

DEFAULT_DOMAIN = "Default"


@page(public=True)
async def home(ctx: Ctx) -> Response:
    if ctx.session is None:
        return ctx.redirect("/auth/login/")
    return ctx.redirect("/project/")


def _login_page(ctx: Ctx, status: int = 200, error: str = "", **values: str) -> Response:
    expired = ctx.request.query_params.get("expired") == "1"
    return ctx.render(
        "auth/login.html",
        status=status,
        error=error,
        notice="Your session has expired. Please sign in again." if expired else "",
        region=ctx.dashboard.cloud.region,
        next=_safe_next(ctx, ctx.request.query_params.get("next", "")),
        username=values.get("username", ""),
        domain=values.get("domain", DEFAULT_DOMAIN),
    )


def _safe_next(ctx: Ctx, target: str) -> str:
    """Only a page of this dashboard: never an open redirect elsewhere."""
    base = ctx.base + "/"
    if target.startswith(base) and not target.startswith("//") and "\\" not in target:
        return target
    return ""


@page(public=True)
async def login(ctx: Ctx) -> Response:
    if ctx.request.method == "GET":
        if ctx.session is not None:
            return ctx.redirect("/project/")
        return _login_page(ctx)
    form = await ctx.form()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    domain = str(form.get("domain", "")).strip() or DEFAULT_DOMAIN
    if not username or not password:
        return _login_page(
            ctx, 400, "Enter your user name and password.", username=username, domain=domain
        )
    cloud = ctx.dashboard.cloud
    try:
        unscoped, default = await cloud.password(username, password, domain)
        projects = [str(p["id"]) for p in await cloud.projects(unscoped) if p.get("enabled", True)]
        if not projects:
            raise APIError(401, "You are not authorized for any projects.")
        # As Horizon: the user's default project when they may work in it, else the first.
        scoped = await cloud.scope(unscoped, default if default in projects else projects[0])
    except APIError as exc:
        # Keystone's 401 says nothing of which part was wrong; neither do we.
        text = "Invalid credentials." if exc.status == 401 else exc.message
        if exc.message == "You are not authorized for any projects.":
            text = exc.message
        return _login_page(ctx, 401 if exc.status == 401 else 400, text, username=username,
                           domain=domain)  # fmt: skip
    region = str(form.get("region", "")) or cloud.region
    sign_in(ctx, _session(scoped, unscoped, domain, region))
    target = _safe_next(ctx, str(form.get("next", "")))
    return ctx.redirect(target[len(ctx.base) :] if target else "/project/")


def _session(scoped: Scoped, unscoped: str, domain: str, region: str) -> Session:
    return Session(
        user_id=scoped.user_id,
        user_name=scoped.user_name,
        domain_name=domain,
        project_id=scoped.project_id,
        project_name=scoped.project_name,
        token=scoped.token,
        unscoped=unscoped,
        expires=scoped.expires,
        roles=scoped.roles,
        region=region,
    )


@page(public=True)
async def logout(ctx: Ctx) -> Response:
    if ctx.session is not None:
        await ctx.dashboard.cloud.revoke(ctx.session.token)
        await ctx.dashboard.cloud.revoke(ctx.session.unscoped)
    return sign_out(ctx, ctx.redirect("/auth/login/"))


@page()
async def switch(ctx: Ctx) -> Response:
    """Rescope to another of the user's projects (the project menu's form)."""
    project_id = str((await ctx.form()).get("project_id", ""))
    old = ctx.user
    scoped = await ctx.dashboard.cloud.scope(old.unscoped, project_id)
    sign_in(ctx, _session(scoped, old.unscoped, old.domain_name, old.region))
    ctx.flash("success", f'Switched to project "{scoped.project_name}".')
    return ctx.redirect("/project/")


@page()
async def projects(ctx: Ctx) -> Response:
    """The user's projects, for the project menu (also a page of its own)."""
    found = await ctx.dashboard.cloud.projects(ctx.user.unscoped)
    return ctx.render("auth/projects.html", projects=found)


@page()
async def regions(ctx: Ctx) -> Response:
    """The cloud's regions; the session's endpoints are those of the chosen one."""
    found = (await ctx.api.get("identity", "/regions"))["regions"]
    if ctx.request.method == "POST":
        wanted = str((await ctx.form()).get("region", ""))
        if wanted not in {r["id"] for r in found}:
            return ctx.render("auth/regions.html", status=400, regions=found,
                              error=f'There is no region "{wanted}".')  # fmt: skip
        ctx.user.region = wanted
        ctx.flash("success", f'Switched to region "{wanted}".')
        return ctx.redirect("/project/")
    return ctx.render("auth/regions.html", regions=found, error="")


ROUTES = [
    Route("/", home, methods=["GET"]),
    Route("/auth/login/", login, methods=["GET", "POST"]),
    Route("/auth/logout/", logout, methods=["GET", "POST"]),
    Route("/auth/switch/", switch, methods=["POST"]),
    Route("/auth/projects/", projects, methods=["GET"]),
    Route("/auth/regions/", regions, methods=["GET", "POST"]),
]
