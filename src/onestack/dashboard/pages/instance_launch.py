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
from onestack.dashboard.web import Ctx, page

SOURCES = (("image", "Image"), ("volume", "Volume"), ("volume_snapshot", "Volume Snapshot"))
_CHOICES = 200  # a select's entries (Horizon lists them all; a page has to stop somewhere)

# Which field a refusal concerns, by the words Nova's message uses (first match wins).
_FIELD_WORDS = (
    ("flavor", "flavor"),
    ("availability zone", "availability_zone"),
    ("security group", "security_groups"),
    ("key pair", "key_name"),
    ("keypair", "key_name"),
    ("network", "networks"),
    ("port", "networks"),
    ("user data", "user_data"),
    ("user_data", "user_data"),
    ("snapshot", "source"),
    ("volume", "source"),
    ("image", "source"),
    ("count", "count"),
    ("name", "name"),
)


def field_of(message: str) -> str:
    """The form field Nova's message is about ('' when it names none: above the form)."""
    text = message.lower()
    return next((f for words, f in _FIELD_WORDS if words in text), "")


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


def _values(form: FormData) -> dict[str, Any]:
    return {
        "name": str(form.get("name", "")).strip(),
        "source": str(form.get("source", "image")),
        "image": str(form.get("image", "")),
        "volume": str(form.get("volume", "")),
        "snapshot": str(form.get("snapshot", "")),
        "create_volume": bool(form.get("create_volume")),
        "volume_size": str(form.get("volume_size", "")).strip(),
        "delete_on_termination": bool(form.get("delete_on_termination")),
        "flavor": str(form.get("flavor", "")),
        "networks": [str(n) for n in form.getlist("networks")],
        "key_name": str(form.get("key_name", "")),
        "security_groups": [str(g) for g in form.getlist("security_groups")],
        "user_data": str(form.get("user_data", "")),
        "count": str(form.get("count", "1")).strip() or "1",
        "availability_zone": str(form.get("availability_zone", "")),
    }


def _check(values: dict[str, Any]) -> dict[str, str]:
    """The fields the API would refuse without a call: required ones and numbers."""
    errors: dict[str, str] = {}
    if not values["name"]:
        errors["name"] = "This field is required."
    source = values["source"]
    if source not in {s for s, _ in SOURCES}:
        errors["source"] = "Choose a source."
    elif not values[{"volume_snapshot": "snapshot"}.get(source, source)]:
        errors["source"] = f"Choose the {dict(SOURCES)[source].lower()} to boot from."
    if not values["flavor"]:
        errors["flavor"] = "This field is required."
    if not values["count"].isdigit() or int(values["count"]) < 1:
        errors["count"] = "Enter a whole number, 1 or more."
    size = values["volume_size"]
    if source == "image" and values["create_volume"] and not (size.isdigit() and int(size) > 0):
        errors["volume_size"] = "Enter the new volume's size in GB (1 or more)."
    return errors


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
        bdm["delete_on_termination"] = values["delete_on_termination"]
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


def _defaults(ctx: Ctx) -> dict[str, Any]:
    return {
        "name": "", "source": "image", "image": "", "volume": "", "snapshot": "",
        "create_volume": False, "volume_size": "1", "delete_on_termination": False,
        "flavor": "", "networks": [], "key_name": "", "security_groups": ["default"],
        "user_data": "", "count": "1", "availability_zone": "",
    }  # fmt: skip


def _form(
    ctx: Ctx, values: dict[str, Any], errors: dict[str, str], status: int = 200, **c: Any
) -> Response:
    return ctx.render(
        "project/instance_launch.html", status=status, values=values, errors=errors, **c
    )


@page()
async def launch(ctx: Ctx) -> Response:
    """GET: the dialog; POST: the launch, then the list (new rows BUILD, then ACTIVE)."""
    offered = await choices(ctx)
    if ctx.request.method == "GET":
        return _form(ctx, _defaults(ctx), {}, **offered)
    form = await ctx.form()
    values = _values(form)
    await _user_data(form, values)
    errors = _check(values)
    if errors:
        return _form(ctx, values, errors, 400, **offered)
    try:
        await ctx.api.post("compute", "/servers", body(values))
    except APIError as exc:
        if exc.status >= 500:
            raise
        errors = {field_of(exc.message) or "__all__": exc.message}
        return _form(ctx, values, errors, 400, **offered)
    count = int(values["count"])
    what = f'instance "{values["name"]}"' if count == 1 else f'{count} instances "{values["name"]}"'
    ctx.flash("success", f"Launched {what}.")
    return ctx.redirect("/project/instances/")


ROUTES = [Route("/project/instances/launch/", launch, methods=["GET", "POST"])]
