"""Application credentials (``/identity/application_credentials/``): the signed-in user's
own, listed, created (the secret shown once, with its clouds.yaml and RC file) and deleted."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import PANEL, Field, Form, FormError, checkbox, confirm
from onestack.dashboard.pages import api_access
from onestack.dashboard.tables import action, cell, row
from onestack.dashboard.web import Ctx, page

BASE = "/identity/application_credentials/"


def _path(ctx: Ctx, cred_id: str = "") -> str:
    tail = f"/{cred_id}" if cred_id else ""
    return f"/users/{ctx.user.user_id}/application_credentials{tail}"


@page()
async def index(ctx: Ctx) -> Response:
    creds = (await ctx.api.get("identity", _path(ctx)))["application_credentials"]
    rows = [
        row(
            c["id"],
            [
                cell(c["name"]),
                cell(c.get("description") or ""),
                cell(c.get("expires_at") or "Never"),
                cell(", ".join(r["name"] for r in c.get("roles", []))),
                cell("Yes" if c.get("unrestricted") else "No"),
            ],
            [action("Delete", ctx.url(f"{BASE}{c['id']}/delete/"), danger=True)],
        )
        for c in sorted(creds, key=lambda c: str(c["name"]))
    ]
    return ctx.render(
        "admin/list.html",
        title="Application Credentials",
        buttons=[("Create Application Credential", ctx.url(f"{BASE}create/"))],
        filters=[],
        columns=["Name", "Description", "Expiration", "Roles", "Unrestricted", "Actions"],
        rows=rows,
    )


def _form(ctx: Ctx) -> Form:
    roles = [(r, r) for r in ctx.user.roles]
    return Form(
        title="Create Application Credential",
        fields=[
            Field("name", "Name", required=True),
            Field("description", "Description", "textarea"),
            Field("expires_date", "Expiration Date", "date", help="Empty: never expires."),
            Field("expires_time", "Expiration Time", "time", help="UTC; 00:00 when empty."),
            Field(
                "roles",
                "Roles",
                "select",
                options=roles,
                multiple=True,
                help="Empty: all of your roles on the current project.",
            ),
            Field(
                "unrestricted",
                "Unrestricted (dangerous)",
                "checkbox",
                help="Lets the credential create and delete other credentials and trusts.",
            ),
        ],
        button="Create Application Credential",
        cancel=ctx.url(BASE),
        template=PANEL,
    )


def _body(values: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": values["name"],
        "unrestricted": checkbox(values, "unrestricted"),
    }
    if values.get("description"):
        body["description"] = values["description"]
    if values.get("expires_date"):
        clock = values.get("expires_time") or "00:00"
        body["expires_at"] = f"{values['expires_date']}T{clock}:00"
    elif values.get("expires_time"):
        raise FormError("Give the date the credential expires.", "expires_date")
    if values.get("roles"):
        body["roles"] = [{"name": r} for r in values["roles"]]
    return body


@page()
async def create(ctx: Ctx) -> Response:
    form = _form(ctx)
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    if form.errors:
        return form.render(ctx)
    try:
        made = await ctx.api.post("identity", _path(ctx), {"application_credential": _body(values)})
    except (FormError, APIError) as exc:
        form.refused(exc)
        return form.render(ctx)
    cred = made["application_credential"]
    return ctx.render(
        "identity/app_cred_created.html",
        title="Your Application Credential",
        cred=cred,
        auth_url=await api_access.auth_url(ctx),
    )


async def _download_values(ctx: Ctx) -> tuple[str, str, str]:
    form = await ctx.form()
    cred_id = ctx.request.path_params["cred_id"]
    secret = str(form.get("secret", ""))
    url = await api_access.auth_url(ctx)
    if not secret:
        raise APIError(400, "The secret is shown once only: create a new credential.")
    return cred_id, secret, url


@page()
async def clouds(ctx: Ctx) -> Response:
    cred_id, secret, url = await _download_values(ctx)
    auth = {
        "auth_url": url,
        "application_credential_id": cred_id,
        "application_credential_secret": secret,
    }
    text = api_access.clouds_yaml(auth, ctx.user.region, "v3applicationcredential")
    return api_access.download(text, "clouds.yaml", "application/x-yaml")


@page()
async def openrc(ctx: Ctx) -> Response:
    cred_id, secret, url = await _download_values(ctx)
    text = api_access.app_cred_openrc(url, ctx.user.region, cred_id, secret)
    return api_access.download(text, "app-cred-openrc.sh", "text/x-shellscript")


@page()
async def delete(ctx: Ctx) -> Response:
    cred_id = ctx.request.path_params["cred_id"]
    cred = (await ctx.api.get("identity", _path(ctx, cred_id)))["application_credential"]
    if ctx.request.method == "GET":
        question = f'Delete the application credential "{cred["name"]}"? It cannot be undone.'
        return confirm(ctx, "Delete Application Credential", question, BASE,
                       "Delete Application Credential")  # fmt: skip
    await ctx.api.delete("identity", _path(ctx, cred_id))
    ctx.flash("success", f'Deleted application credential "{cred["name"]}".')
    return ctx.redirect(BASE)


ROUTES = [
    Route(BASE, index, methods=["GET"]),
    Route(f"{BASE}create/", create, methods=["GET", "POST"]),
    Route(BASE + "{cred_id}/clouds.yaml/", clouds, methods=["POST"]),
    Route(BASE + "{cred_id}/openrc/", openrc, methods=["POST"]),
    Route(BASE + "{cred_id}/delete/", delete, methods=["GET", "POST"]),
]
