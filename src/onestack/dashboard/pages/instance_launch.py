"""The launch dialog: name, source (an image, optionally onto a new volume; a bootable
volume; a volume snapshot), flavor with its size, networks, key pair, security groups, user
data, count and availability zone. Checked on the server; Nova's refusal shown beside the
field it concerns."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import Field, Form
from onestack.dashboard.web import Ctx, page

SOURCES = (("image", "Image"), ("volume", "Volume"), ("volume_snapshot", "Volume Snapshot"))
_CHOICES = 200  # a select's entries (Horizon lists them all; a page has to stop somewhere)

FIELDS = [
    Field("name", required=True),
    Field("source", value="image", words=("snapshot", "volume", "image")),
    Field("image"),
    Field("volume"),
    Field("snapshot"),
    Field("create_volume", type="checkbox"),
    Field("volume_size", value="1"),
    Field("delete_on_termination", type="checkbox"),
    Field("flavor", required=True),
    Field("networks", multiple=True, words=("network", "port")),
    Field("key_name", words=("key pair", "keypair")),
    Field("security_groups", multiple=True, words=("security group",)),
    Field("user_data", type="textarea", words=("user data",)),
    Field("count", value="1"),
    Field("availability_zone"),
]
# The fields a refusal may name: one about the image, volume or snapshot names the source.
NAMED = [f.name for f in FIELDS if f.name not in ("image", "volume", "snapshot")]


async def _get(ctx: Ctx, service: str, path: str, key: str, **params: Any) -> list[Any]:
    """One choice list; an unavailable service gives none (the field shows none) rather
    than the page failing."""
    try:
        found = await ctx.api.get(service, path, **params)
    except APIError:
        return []
    return list(found.get(key, []))


async def choices(ctx: Ctx) -> dict[str, Any]:
    """Everything the form offers, one call per list, all at once."""
    project = ctx.user.project_id
    (images, volumes, snapshots, flavors, networks, keypairs, groups, zones) = await asyncio.gather(
        _get(
            ctx, "image", "/v2/images", "images", limit=_CHOICES, status="active", sort="name:asc"
        ),
        _get(ctx, "volumev3", "/volumes/detail", "volumes", limit=_CHOICES, status="available"),
        _get(ctx, "volumev3", "/snapshots/detail", "snapshots", limit=_CHOICES, status="available"),
        _get(ctx, "compute", "/flavors/detail", "flavors"),
        _get(ctx, "network", "/v2.0/networks", "networks", limit=_CHOICES),
        _get(ctx, "compute", "/os-keypairs", "keypairs"),
        _get(ctx, "network", "/v2.0/security-groups", "security_groups", project_id=project),
        _get(ctx, "compute", "/os-availability-zone", "availabilityZoneInfo"),
    )
    return {
        "sources": SOURCES,
        "images": images,
        "volumes": [v for v in volumes if str(v.get("bootable")).lower() == "true"],
        "snapshots": snapshots,
        "flavors": sorted(flavors, key=lambda f: (f.get("ram", 0), f.get("name", ""))),
        # The project's and the shared ones; an external network is not for ports of its own.
        "networks": [
            n
            for n in networks
            if n.get("project_id") == project or n.get("shared")
            if not n.get("router:external") or n.get("shared")
        ],
        "keypairs": [k["keypair"] for k in keypairs if "keypair" in k],
        "groups": sorted({str(g.get("name", "")) for g in groups}),
        "zones": [z["zoneName"] for z in zones if (z.get("zoneState") or {}).get("available")],
    }


def _check(form: Form) -> None:
    """What the API would refuse without a call, beyond the required fields: the source
    and the numbers."""
    values, errors = form.values, form.errors
    source = values["source"]
    if source not in {s for s, _ in SOURCES}:
        errors["source"] = "Choose a source."
    elif not values[{"volume_snapshot": "snapshot"}.get(source, source)]:
        errors["source"] = f"Choose the {dict(SOURCES)[source].lower()} to boot from."
    if not values["count"].isdigit() or int(values["count"]) < 1:
        errors["count"] = "Enter a whole number, 1 or more."
    size = values["volume_size"]
    if source == "image" and values["create_volume"] and not (size.isdigit() and int(size) > 0):
        errors["volume_size"] = "Enter the new volume's size in GB (1 or more)."


def _boot(values: dict[str, Any]) -> dict[str, Any]:
    """The source as Nova's create wants it: ``imageRef``, or a boot block device."""
    source = values["source"]
    if source == "image" and not values["create_volume"]:
        return {"imageRef": values["image"]}
    bdm: dict[str, Any] = {"boot_index": 0, "destination_type": "volume"}
    if source == "image":
        bdm.update(
            source_type="image", uuid=values["image"], volume_size=int(values["volume_size"])
        )
        bdm["delete_on_termination"] = bool(values["delete_on_termination"])
    elif source == "volume":
        bdm.update(source_type="volume", uuid=values["volume"])
    else:
        bdm.update(source_type="snapshot", uuid=values["snapshot"])
    return {"imageRef": "", "block_device_mapping_v2": [bdm]}


def body(values: dict[str, Any]) -> dict[str, Any]:
    count = int(values["count"])
    server: dict[str, Any] = {
        "name": values["name"],
        "flavorRef": values["flavor"],
        "networks": [{"uuid": n} for n in values["networks"]] or "none",
        "min_count": count,
        "max_count": count,
        **_boot(values),
    }
    if values["key_name"]:
        server["key_name"] = values["key_name"]
    if values["security_groups"] and values["networks"]:
        server["security_groups"] = [{"name": g} for g in values["security_groups"]]
    if values["user_data"]:
        server["user_data"] = base64.b64encode(values["user_data"].encode()).decode()
    if values["availability_zone"]:
        server["availability_zone"] = values["availability_zone"]
    return {"server": server}


async def _user_data(form: FormData, values: dict[str, Any]) -> None:
    """A chosen file's contents stand for the textarea's."""
    upload = form.get("user_data_file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read()
        values["user_data"] = data.decode("utf-8", "replace")


@page()
async def launch(ctx: Ctx) -> Response:
    """GET: the dialog; POST: the launch, then the list (new rows BUILD, then ACTIVE)."""
    offered = await choices(ctx)
    form = Form(fields=FIELDS, template="project/instance_launch.html")
    if ctx.request.method == "GET":
        form.values["security_groups"] = ["default"]
        return form.render(ctx, **offered)
    values = await form.read(ctx)
    values["source"] = values["source"] or "image"
    values["count"] = values["count"] or "1"
    await _user_data(await ctx.form(), values)
    _check(form)
    if form.errors:
        return form.render(ctx, **offered)
    try:
        await ctx.api.post("compute", "/servers", body(values))
    except APIError as exc:
        if exc.status >= 500:
            raise
        form.refused(exc, among=NAMED)
        return form.render(ctx, **offered)
    count = int(values["count"])
    what = f'instance "{values["name"]}"' if count == 1 else f'{count} instances "{values["name"]}"'
    ctx.flash("success", f"Launched {what}.")
    return ctx.redirect("/project/instances/")


ROUTES = [Route("/project/instances/launch/", launch, methods=["GET", "POST"])]
