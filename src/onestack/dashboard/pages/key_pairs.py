"""The user's key pairs: list, create (the private key handed over once, as a download, and
kept nowhere), import a public key, detail, delete."""

from __future__ import annotations

import re
from urllib.parse import quote

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import Field, Form, confirm
from onestack.dashboard.web import Ctx, page

# Nova stopped generating keys at 2.92; the dashboard asks the last version that does, so
# the private key is Nova's and never the dashboard's.
GENERATE = {"openstack-api-version": "compute 2.91"}
TYPES = (("ssh", "SSH Key"), ("x509", "X509 Certificate"))
NAME = Field("name", "Key Pair Name", required=True, words=("keypair name", "key pair"))
KEY_TYPE = Field("key_type", "Key Type", type="select", options=TYPES, words=("type",))
PUBLIC_KEY = Field(
    "public_key",
    "Public Key",
    type="textarea",
    required=True,
    words=("public key", "keypair data", "key"),
    help="Paste the public key (for example the contents of ~/.ssh/id_ed25519.pub).",
)


def _path(name: str) -> str:
    return f"/os-keypairs/{quote(name, safe='')}"


@page()
async def index(ctx: Ctx) -> Response:
    query = ctx.request.query_params
    found = await ctx.api.get(
        "compute", "/os-keypairs", limit=ctx.page_size, marker=query.get("marker")
    )
    pairs = [k["keypair"] for k in found["keypairs"]]
    more = any(link.get("rel") == "next" for link in found.get("keypairs_links", []))
    return ctx.render(
        "project/key_pairs.html",
        pairs=pairs,
        next_marker=pairs[-1]["name"] if pairs and more else "",
        paged=bool(query.get("marker")),
        quote=lambda n: quote(n, safe=""),
    )


def _create_form(ctx: Ctx) -> Form:
    return Form(
        title="Create Key Pair",
        action=ctx.url("/project/key_pairs/create/"),
        cancel=ctx.url("/project/key_pairs/"),
        button="Create Key Pair",
        fields=[NAME, KEY_TYPE],
        values={"key_type": "ssh"},
        intro="The private key is downloaded once, now: the cloud does not keep it.",
    )


@page()
async def create(ctx: Ctx) -> Response:
    form = _create_form(ctx)
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    if form.errors:
        return form.render(ctx)
    body = {"keypair": {"name": values["name"], "type": values["key_type"] or "ssh"}}
    try:
        resp = await ctx.api.request("POST", "compute", "/os-keypairs", json=body, headers=GENERATE)
    except APIError as err:
        form.refused(err)
        return form.render(ctx)
    made = resp.json()["keypair"]
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", made["name"]) + ".pem"
    ctx.flash("success", f'Created key pair "{made["name"]}".')
    return Response(
        made["private_key"],
        media_type="application/x-pem-file",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


@page()
async def import_key(ctx: Ctx) -> Response:
    form = Form(
        title="Import Public Key",
        action=ctx.url("/project/key_pairs/import/"),
        cancel=ctx.url("/project/key_pairs/"),
        button="Import Public Key",
        fields=[NAME, KEY_TYPE, PUBLIC_KEY],
        values={"key_type": "ssh"},
    )
    if ctx.request.method == "GET":
        return form.render(ctx)
    values = await form.read(ctx)
    if form.errors:
        return form.render(ctx)
    body = {
        "keypair": {
            "name": values["name"],
            "type": values["key_type"] or "ssh",
            "public_key": values["public_key"],
        }
    }
    try:
        await ctx.api.post("compute", "/os-keypairs", body)
    except APIError as err:
        form.refused(err)
        return form.render(ctx)
    ctx.flash("success", f'Imported key pair "{values["name"]}".')
    return ctx.redirect(f"/project/key_pairs/{quote(values['name'], safe='')}/")


@page()
async def detail(ctx: Ctx) -> Response:
    name = ctx.request.path_params["name"]
    pair = (await ctx.api.get("compute", _path(name)))["keypair"]
    return ctx.render("project/key_pair_detail.html", pair=pair, quoted=quote(name, safe=""))


@page()
async def delete(ctx: Ctx) -> Response:
    """GET: the confirmation; POST: the deletion."""
    name = ctx.request.path_params["name"]
    await ctx.api.get("compute", _path(name))  # a 404 page for a key pair that is not there
    if ctx.request.method == "GET":
        return confirm(
            ctx,
            "Delete Key Pair",
            f'Delete the key pair "{name}"? It cannot be undone.',
            "/project/key_pairs/",
            action=f"/project/key_pairs/{quote(name, safe='')}/delete/",
        )
    await ctx.api.delete("compute", _path(name))
    ctx.flash("success", f'Deleted key pair "{name}".')
    return ctx.redirect("/project/key_pairs/")


ROUTES = [
    Route("/project/key_pairs/", index, methods=["GET"]),
    Route("/project/key_pairs/create/", create, methods=["GET", "POST"]),
    Route("/project/key_pairs/import/", import_key, methods=["GET", "POST"]),
    Route("/project/key_pairs/{name}/", detail, methods=["GET"]),
    Route("/project/key_pairs/{name}/delete/", delete, methods=["GET", "POST"]),
]
