"""API Access: the catalog's endpoints in the session's region, and the files that let a
command-line client speak as the signed-in user (``clouds.yaml``, an OpenStack RC file).
Neither holds a password: the RC file asks for it as Horizon's does."""

from __future__ import annotations

import shlex
from typing import Any

import yaml
from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.web import Ctx, page


async def _endpoints(ctx: Ctx) -> list[dict[str, Any]]:
    """One row per service: its type, name and public URL in the session's region."""
    rows = []
    for entry in await ctx.dashboard.cloud.catalog(ctx.user.token):
        urls = {
            str(ep.get("interface")): str(ep.get("url"))
            for ep in entry.get("endpoints", [])
            if ep.get("region_id", ep.get("region")) in (ctx.user.region, None)
        }
        if urls:
            rows.append(
                {
                    "type": entry.get("type", ""),
                    "name": entry.get("name", ""),
                    "public": urls.get("public", ""),
                    "internal": urls.get("internal", ""),
                    "admin": urls.get("admin", ""),
                }
            )
    return sorted(rows, key=lambda r: str(r["type"]))


async def auth_url(ctx: Ctx) -> str:
    """Keystone's public URL as the catalog names it (what a client outside should use)."""
    for row in await _endpoints(ctx):
        if row["type"] == "identity" and row["public"]:
            url = str(row["public"]).rstrip("/")
            return url if url.endswith("/v3") else f"{url}/v3"
    return await ctx.api.endpoint("identity")


async def _token_info(ctx: Ctx) -> dict[str, Any]:
    resp = await ctx.api.request(
        "GET", "identity", "/auth/tokens", headers={"x-subject-token": ctx.user.token}
    )
    token: dict[str, Any] = resp.json()["token"]
    return token


@page()
async def index(ctx: Ctx) -> Response:
    return ctx.render("project/api_access.html", endpoints=await _endpoints(ctx))


async def _identity(ctx: Ctx) -> dict[str, str]:
    token = await _token_info(ctx)
    return {
        "auth_url": await auth_url(ctx),
        "username": ctx.user.user_name,
        "user_domain_name": str(token["user"]["domain"]["name"]),
        "project_id": ctx.user.project_id,
        "project_name": ctx.user.project_name,
        "project_domain_id": str(token["project"]["domain"]["id"]),
        "region": ctx.user.region,
    }


def clouds_yaml(auth: dict[str, Any], region: str, auth_type: str = "") -> str:
    cloud: dict[str, Any] = {"auth": auth}
    if auth_type:
        cloud["auth_type"] = auth_type
    cloud.update({"region_name": region, "interface": "public", "identity_api_version": 3})
    return yaml.safe_dump({"clouds": {"openstack": cloud}}, sort_keys=False)


def download(text: str, filename: str, media_type: str) -> Response:
    return Response(
        text,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


@page()
async def clouds(ctx: Ctx) -> Response:
    me = await _identity(ctx)
    auth = {
        "auth_url": me["auth_url"],
        "username": me["username"],
        "project_id": me["project_id"],
        "project_name": me["project_name"],
        "user_domain_name": me["user_domain_name"],
        "project_domain_id": me["project_domain_id"],
    }
    return download(clouds_yaml(auth, me["region"]), "clouds.yaml", "application/x-yaml")


def _export(name: str, value: str) -> str:
    return f"export {name}={shlex.quote(value)}"


@page()
async def openrc(ctx: Ctx) -> Response:
    me = await _identity(ctx)
    lines = [
        "#!/usr/bin/env bash",
        "# To use an OpenStack cloud you need to authenticate against the Identity",
        "# service. This file asks for your password and sets the variables the",
        "# command-line clients read. Source it: . ./openrc",
        _export("OS_AUTH_URL", me["auth_url"]),
        _export("OS_PROJECT_ID", me["project_id"]),
        _export("OS_PROJECT_NAME", me["project_name"]),
        _export("OS_USER_DOMAIN_NAME", me["user_domain_name"]),
        'if [ -z "$OS_USER_DOMAIN_NAME" ]; then unset OS_USER_DOMAIN_NAME; fi',
        _export("OS_PROJECT_DOMAIN_ID", me["project_domain_id"]),
        'if [ -z "$OS_PROJECT_DOMAIN_ID" ]; then unset OS_PROJECT_DOMAIN_ID; fi',
        "unset OS_TENANT_ID",
        "unset OS_TENANT_NAME",
        _export("OS_USERNAME", me["username"]),
        'echo "Please enter your OpenStack Password for project $OS_PROJECT_NAME as user '
        '$OS_USERNAME: "',
        "read -sr OS_PASSWORD_INPUT",
        'export OS_PASSWORD="$OS_PASSWORD_INPUT"',
        _export("OS_REGION_NAME", me["region"]),
        'if [ -z "$OS_REGION_NAME" ]; then unset OS_REGION_NAME; fi',
        "export OS_INTERFACE=public",
        "export OS_IDENTITY_API_VERSION=3",
        "",
    ]
    filename = f"{me['project_name']}-openrc.sh".replace('"', "")
    return download("\n".join(lines), filename, "text/x-shellscript")


def app_cred_openrc(url: str, region: str, cred_id: str, secret: str) -> str:
    lines = [
        "#!/usr/bin/env bash",
        "export OS_AUTH_TYPE=v3applicationcredential",
        _export("OS_AUTH_URL", url),
        "export OS_IDENTITY_API_VERSION=3",
        _export("OS_REGION_NAME", region),
        "export OS_INTERFACE=public",
        _export("OS_APPLICATION_CREDENTIAL_ID", cred_id),
        _export("OS_APPLICATION_CREDENTIAL_SECRET", secret),
        "",
    ]
    return "\n".join(lines)


ROUTES = [
    Route("/project/api_access/", index, methods=["GET"]),
    Route("/project/api_access/clouds.yaml/", clouds, methods=["GET"]),
    Route("/project/api_access/openrc/", openrc, methods=["GET"]),
]
