"""Servers: create, list (summary and detail), show, update, delete."""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.http import empty, json_response, query_bool, read_json
from onestack.compute import states, views
from onestack.compute.api import checks
from onestack.compute.api.helpers import allowed, at_least, authorize, href, links, service
from onestack.compute.service.servers import SORT_KEYS, BootRequest, ListFilters

MAX_LIMIT = 1000
USER_DATA_MAX = 65535
GiB = 1024**3

CREATE_KEYS = {
    "name",
    "imageRef",
    "flavorRef",
    "networks",
    "key_name",
    "user_data",
    "config_drive",
    "metadata",
    "security_groups",
    "block_device_mapping_v2",
    "block_device_mapping",
    "availability_zone",
    "min_count",
    "max_count",
    "return_reservation_id",
    "description",
    "tags",
    "hostname",
    "accessIPv4",
    "accessIPv6",
    "adminPass",
    "OS-DCF:diskConfig",
    "personality",
    "trusted_image_certificates",
    "host",
    "hypervisor_hostname",
}
UPDATE_KEYS = {"name", "description", "accessIPv4", "accessIPv6", "hostname", "OS-DCF:diskConfig"}


def bad(field: str, reason: str) -> errors.ValidationError:
    return errors.ValidationError(field=field, reason=reason)


def _string(body: dict[str, Any], key: str, max_len: int = 255, *, empty_ok: bool = False) -> str:
    value = body[key]
    if not isinstance(value, str):
        raise bad(key, f"{value!r} is not of type 'string'")
    if not value.strip() and not empty_ok:
        raise bad(key, f"{value!r} is too short")
    if len(value) > max_len:
        raise bad(key, f"{value!r} is too long")
    return value


def hostname_max(request: Request) -> int:
    """A hostname is one DNS label until 2.94, a fully qualified name from then on."""
    return 255 if at_least(request, 94) else 63


def _int(body: dict[str, Any], key: str, default: int) -> int:
    value = body.get(key, default)
    # Nova's schema: an integer, or a string of digits; never a float or a bool.
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise bad(key, f"{value!r} is not of type 'integer', 'string'")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise bad(key, f"{value!r} is not of type 'integer', 'string'") from None
    if number < 1:
        raise bad(key, f"{value!r} is less than the minimum of 1")
    return number


def _metadata(value: Any, field: str = "metadata") -> dict[str, str]:
    if not isinstance(value, dict):
        raise bad(field, f"{value!r} is not of type 'object'")
    for k, v in value.items():
        if not isinstance(k, str) or not 1 <= len(k) <= 255:
            raise bad(field, f"invalid metadata key {k!r}")
        if not isinstance(v, str) or len(v) > 255:
            raise bad(f"{field}.{k}", f"{v!r} is not a string of at most 255 characters")
    return dict(value)


def _config_drive(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", ""):
        return value.lower() == "true"
    raise bad("config_drive", f"{value!r} is not of type 'boolean', 'string'")


def _user_data(value: Any) -> str:
    if not isinstance(value, str):
        raise bad("user_data", f"{value!r} is not of type 'string'")
    if len(value) > USER_DATA_MAX:
        raise bad("user_data", f"the value is longer than {USER_DATA_MAX} characters")
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise bad("user_data", "the value is not valid base64") from None
    return value


async def personality(request: Request, body: dict[str, Any], project_id: str) -> list[Any]:
    """Injected files (before 2.57): ``[{"path", "contents" (base64)}]``, 403 past the
    project's injected-file quotas; kept as given for the metadata service and config drive."""
    files = body["personality"]
    if at_least(request, 57):
        raise bad("server", "Additional properties are not allowed ('personality' was unexpected)")
    if not isinstance(files, list):
        raise bad("personality", f"{files!r} is not of type 'array'")
    limits = await service(request).quotas.limits(project_id)
    if 0 <= limits["injected_files"] < len(files):
        raise errors.Forbidden("Personality file limit exceeded")
    out = []
    for item in files:
        if not isinstance(item, dict) or set(item) != {"path", "contents"}:
            raise bad("personality", f"{item!r} is not a {{'path', 'contents'}} object")
        path, contents = item["path"], item["contents"]
        if not isinstance(path, str) or not path or not isinstance(contents, str):
            raise bad("personality", "path and contents are strings")
        try:
            data = base64.b64decode(contents, validate=True)
        except (binascii.Error, ValueError):
            reason = f"Personality content for {path} cannot be decoded"
            raise bad("personality", reason) from None
        if 0 <= limits["injected_file_path_bytes"] < len(path.encode()):
            raise errors.Forbidden("Personality file path exceeds maximum 255")
        if 0 <= limits["injected_file_content_bytes"] < len(data):
            raise errors.Forbidden("Personality file content exceeds maximum")
        out.append({"path": path, "contents": contents})
    return out


async def _image(request: Request, ref: str, flavor: dict[str, Any]) -> dict[str, Any]:
    ctx = authorize(request, "servers:create")
    image_id = ref.rstrip("/").rsplit("/", 1)[-1]
    try:
        rec = await service(request).context.image.get_image(ctx, image_id)
    except errors.NotFound:
        raise errors.BadRequest(f"Image {image_id} could not be found.") from None
    if rec.status != "active":
        raise errors.BadRequest(f"Image {image_id} is not active.")
    if (rec.min_ram or 0) > flavor["memory_mb"]:
        raise errors.BadRequest("Flavor's memory is too small for requested image.")
    root = flavor["root_gb"]
    if root and (rec.min_disk or 0) > root:
        raise errors.BadRequest("Flavor's disk is too small for requested image.")
    size = rec.virtual_size or rec.size or 0
    if root and size > root * GiB:
        raise errors.BadRequest(
            f"Flavor's disk is too small for requested image. Flavor disk is {root * GiB} "
            f"bytes, image is {size} bytes."
        )
    return {
        "id": rec.id,
        "min_disk": rec.min_disk,
        "min_ram": rec.min_ram,
        "disk_format": rec.disk_format,
        "properties": dict(getattr(rec, "properties", {}) or {}),
    }


async def create(request: Request) -> Response:
    data = await read_json(request)
    if not isinstance(data, dict) or not isinstance(data.get("server"), dict):
        raise bad("server", "'server' is a required property")
    body: dict[str, Any] = data["server"]
    hints = data.get("os:scheduler_hints") or data.get("OS-SCH-HNT:scheduler_hints") or {}
    ctx = authorize(request, "servers:create")
    svc = service(request)
    unknown = sorted(set(body) - CREATE_KEYS)
    if unknown:
        raise bad(
            "server", f"Additional properties are not allowed ({unknown[0]!r} was unexpected)"
        )
    if "name" not in body:
        raise bad("name", "'name' is a required property")
    name = _string(body, "name")
    if "flavorRef" not in body:
        raise bad("flavorRef", "'flavorRef' is a required property")
    flavor = await svc.flavors.for_boot(ctx, str(body["flavorRef"]))
    bdms = body.get("block_device_mapping_v2") or []
    if not isinstance(bdms, list):
        raise bad("block_device_mapping_v2", "is not of type 'array'")
    roots = [b for b in bdms if isinstance(b, dict) and b.get("boot_index") in (0, "0")]
    boot_volume = any(b.get("destination_type") == "volume" for b in roots)
    image_ref = body.get("imageRef", "")
    if not image_ref and not boot_volume:
        # OSC and the SDK send the image as a local root device mapping.
        image_ref = next((b.get("uuid") for b in roots if b.get("source_type") == "image"), "")
    # Local root devices are the image itself: only volumes are attachments.
    bdms = [b for b in bdms if isinstance(b, dict) and b.get("destination_type") == "volume"]
    image = None
    if image_ref:
        if not isinstance(image_ref, str):
            raise bad("imageRef", f"{image_ref!r} is not of type 'string'")
        image = await _image(request, image_ref, flavor)
    elif not boot_volume:
        raise errors.BadRequest(
            "Block Device Mapping is Invalid: Boot sequence for the instance "
            "and image/block device mapping combination is not valid."
        )
    if boot_volume and service(request).context.volume is None:
        raise errors.BadRequest(
            "Booting from a volume needs the block storage service, "
            "which this cloud does not run yet."
        )
    networks = body.get("networks")
    if at_least(request, 37) and networks is None:
        raise bad("networks", "'networks' is a required property")
    if isinstance(networks, str) and networks not in ("auto", "none"):
        raise bad("networks", f"{networks!r} is not one of ['none', 'auto']")
    if networks is not None and not isinstance(networks, (str, list)):
        raise bad("networks", f"{networks!r} is not of type 'array'")
    if isinstance(networks, list):
        for item in networks:
            if not isinstance(item, dict):
                raise bad("networks", f"{item!r} is not of type 'object'")
        if networks:
            authorize(request, "servers:create:attach_network")
    nics = await svc.networking.resolve(ctx, ctx.project_id or "", networks)
    sg_names: list[str] = []
    for group in body.get("security_groups") or []:
        if not isinstance(group, dict) or not isinstance(group.get("name"), str):
            raise bad("security_groups", f"{group!r} is not a {{'name': ...}} object")
        sg_names.append(group["name"])
    sg_ids = None
    if sg_names:
        sg_ids = await svc.networking.security_group_ids(ctx, ctx.project_id or "", sg_names)
    key_name = body.get("key_name")
    key_data = None
    if key_name is not None:
        try:
            key_data = (await svc.keypairs.get(ctx.user_id, str(key_name))).public_key
        except errors.NotFound:
            raise errors.BadRequest("Invalid key_name provided.") from None
    user_data = _user_data(body["user_data"]) if body.get("user_data") is not None else None
    metadata = _metadata(body.get("metadata", {}))
    limits = await svc.quotas.limits(ctx.project_id or "")
    if 0 <= limits["metadata_items"] < len(metadata):
        raise errors.Forbidden(
            "Quota exceeded for metadata_items: Maximum number of metadata "
            "items exceeds " + str(limits["metadata_items"])
        )
    min_count = _int(body, "min_count", 1)
    max_count = _int(body, "max_count", min_count)
    if min_count > max_count:
        raise errors.BadRequest("min_count must be <= max_count")
    count = await _count_within_quota(request, flavor, min_count, max_count, limits)
    zone, forced_host = body.get("availability_zone"), None
    if isinstance(zone, str) and ":" in zone:
        zone, _, forced_host = zone.partition(":")
        forced_host = forced_host.split(":")[0] or None
        if forced_host:
            authorize(request, "servers:create:forced_host")
        zone = zone or None
    if zone is not None:
        await _check_zone(request, zone)
    group = hints.get("group") if isinstance(hints, dict) else None
    if group is not None:
        await _check_group(request, str(group))
    tags = body.get("tags") or []
    if tags and not at_least(request, 52):
        raise bad("server", "Additional properties are not allowed ('tags' was unexpected)")
    if (
        not isinstance(tags, list)
        or len(tags) > 50
        or any(not isinstance(t, str) or not t or len(t) > 60 or "/" in t or "," in t for t in tags)
    ):
        raise bad("tags", "each tag is a string of 1-60 characters without '/' or ','")
    description = body.get("description")
    if description is not None:
        if not at_least(request, 19):
            raise bad(
                "server", "Additional properties are not allowed ('description' was unexpected)"
            )
        description = _string(body, "description", empty_ok=True)
    hostname = body.get("hostname")
    if hostname is not None:
        if not at_least(request, 90):
            raise bad("server", "Additional properties are not allowed ('hostname' was unexpected)")
        hostname = _string(body, "hostname", hostname_max(request))
    files = []
    if "personality" in body:
        files = await personality(request, body, ctx.project_id or "")
    req = BootRequest(
        name=name,
        flavor=flavor,
        image=image,
        nics=nics,
        security_groups=sg_names or ["default"] if nics else sg_names,
        security_group_ids=sg_ids,
        availability_zone=zone,
        forced_host=forced_host,
        key_name=key_name,
        key_data=key_data,
        user_data=user_data,
        config_drive=_config_drive(body.get("config_drive", False)),
        metadata=metadata,
        min_count=min_count,
        max_count=max_count,
        group=str(group) if group else None,
        tags=tags,
        description=description,
        hostname=hostname,
        access_ip_v4=checks.access_ip(body, "accessIPv4"),
        access_ip_v6=checks.access_ip(body, "accessIPv6"),
        block_devices=[b for b in bdms if isinstance(b, dict)],
        disk_config=checks.disk_config(body) or "MANUAL",
        files=files,
    )
    rows = await svc.servers.create_rows(ctx, req, count)
    runtime = request.app.state.runtime
    for row in rows:
        runtime.spawn(svc.boot.run(row.uuid), f"boot {row.uuid}")
    if body.get("return_reservation_id"):
        return json_response({"reservation_id": rows[0].reservation_id}, 202)
    first = rows[0]
    server: dict[str, Any] = {
        "id": first.uuid,
        "links": links(request, "servers", first.uuid),
        "OS-DCF:diskConfig": req.disk_config,
        "security_groups": [{"name": n} for n in req.security_groups] or [{"name": "default"}],
    }
    server["adminPass"] = body.get("adminPass") or secrets.token_urlsafe(9)
    return json_response(
        {"server": server}, 202, {"Location": href(request, "servers", first.uuid)}
    )


async def _count_within_quota(
    request: Request,
    flavor: dict[str, Any],
    min_count: int,
    max_count: int,
    limits: dict[str, int],
) -> int:
    """As many servers as the quota allows between ``min_count`` and ``max_count`` (the
    project's ``limits``); 403 with Nova's message when not even ``min_count`` fit."""
    ctx = authorize(request, "servers:create")
    count: int = await service(request).quotas.instances_within(
        ctx.project_id or "", min_count, max_count, flavor["vcpus"], flavor["memory_mb"], limits
    )
    return count


async def _check_zone(request: Request, zone: str) -> None:
    if zone not in await service(request).hosts.zones():
        raise errors.BadRequest("The requested availability zone is not available")


async def _check_group(request: Request, group: str) -> None:
    ctx = authorize(request, "servers:create")
    try:
        await service(request).groups.get(ctx, group)
    except errors.NotFound:
        raise errors.BadRequest(f"Invalid server group {group}") from None


def _time(value: str, field: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise bad(field, f"{value!r} is not a 'date-time'") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


ADMIN_FILTERS = {
    "host",
    "node",
    "deleted",
    "user_id",
    "vm_state",
    "task_state",
    "project_id",
    "tenant_id",
}


def _filters(request: Request) -> ListFilters:
    q = request.query_params
    ctx = authorize(request, "servers:index")
    all_projects = False
    raw_all = q.get("all_tenants", q.get("all_projects"))
    if raw_all is not None:
        all_projects = bool(query_bool(raw_all))
        if all_projects:
            authorize(request, "servers:index:get_all_tenants")
    admin = allowed(request, "servers:allow_all_filters")
    f = ListFilters(all_projects=all_projects)
    if admin:
        # As Nova (bug 1185290): the project filter counts only with all_tenants; without
        # it the list is the caller's own project whatever project is named.
        if all_projects:
            f.project_id = q.get("project_id") or q.get("tenant_id")
        f.host = q.get("host")
        f.node = q.get("node")
        f.user_id = q.get("user_id")
        f.deleted = bool(query_bool(q.get("deleted"))) if "deleted" in q else False
        f.vm_state = q.getlist("vm_state") or None
        f.task_state = q.getlist("task_state") or None
    elif ctx.is_admin:
        f.project_id = q.get("project_id")
    f.name = q.get("name") or None
    f.status = q.getlist("status") or None
    f.image = q.get("image")
    f.flavor = q.get("flavor")
    f.ip = q.get("ip")
    f.ip6 = q.get("ip6")
    f.reservation_id = q.get("reservation_id")
    f.availability_zone = q.get("availability_zone")
    f.key_name = q.get("key_name")
    f.description = q.get("description")
    if "locked" in q and at_least(request, 73):
        f.locked = query_bool(q.get("locked"))
    if q.get("changes-since"):
        f.changes_since = _time(q["changes-since"], "changes-since")
    if q.get("changes-before"):
        f.changes_before = _time(q["changes-before"], "changes-before")
        if f.changes_since and f.changes_before < f.changes_since:
            raise errors.BadRequest(
                "The value of changes-since must be less than or equal to changes-before."
            )
    for key, attr in (
        ("tags", "tags"),
        ("tags-any", "tags_any"),
        ("not-tags", "not_tags"),
        ("not-tags-any", "not_tags_any"),
    ):
        values = [t for v in q.getlist(key) for t in v.split(",") if t]
        setattr(f, attr, values)
    return f


def _paging(request: Request) -> tuple[list[tuple[str, str]], int, str | None]:
    q = request.query_params
    keys = q.getlist("sort_key")
    dirs = q.getlist("sort_dir")
    sort: list[tuple[str, str]] = []
    for index, key in enumerate(keys):
        if key not in SORT_KEYS:
            raise errors.BadRequest(f"Invalid sort_key {key!r}.")
        direction = dirs[index] if index < len(dirs) else (dirs[-1] if dirs else "desc")
        if direction not in ("asc", "desc"):
            raise errors.BadRequest(f"Invalid sort_dir {direction!r}.")
        sort.append((key, direction))
    limit = MAX_LIMIT
    if "limit" in q:
        try:
            limit = int(q["limit"])
        except ValueError:
            raise bad("limit", f"{q['limit']!r} is not an integer") from None
        if limit < 0:
            raise bad("limit", "must be >= 0")
        limit = min(limit, MAX_LIMIT)
    return sort, limit, q.get("marker")


async def _list(request: Request, detail: bool) -> Response:
    f = _filters(request)
    sort, limit, marker = _paging(request)
    if f.status and any(s.upper() not in states.STATUS_TO_VM_STATES for s in f.status):
        found: list[Any] = []
    else:
        ctx = authorize(request, "servers:detail" if detail else "servers:index")
        found = await service(request).servers.listing(ctx, f, sort, limit, marker, detail=detail)
    if detail:
        render = views.Details(request)
        items = [render(s) for s in found]
    else:
        items = [views.summary(request, s) for s in found]
    body: dict[str, Any] = {"servers": items}
    if found and len(found) == limit:
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "marker"]
        path = "servers/detail" if detail else "servers"
        query = urlencode([*kept, ("marker", found[-1].row.uuid)])
        body["servers_links"] = [{"rel": "next", "href": f"{href(request, path)}?{query}"}]
    return json_response(body)


async def list_servers(request: Request) -> Response:
    return await _list(request, detail=False)


async def list_detail(request: Request) -> Response:
    return await _list(request, detail=True)


async def show(request: Request) -> Response:
    ctx = authorize(request, "servers:show")
    srv = await service(request).servers.get(ctx, request.path_params["server_id"])
    return json_response({"server": views.detail(request, srv, show=True)})


async def _owned(request: Request, rule: str) -> tuple[RequestContext, str, Any]:
    """The caller, the server's id and the server, once ``rule`` allows the caller to act on
    it (a server the caller cannot see is a 404 first)."""
    ctx = authorize(request, "servers:show")
    uuid = request.path_params["server_id"]
    current = await service(request).servers.get(ctx, uuid)
    authorize(request, rule, {"project_id": current.row.project_id, "user_id": current.row.user_id})
    return ctx, uuid, current


async def update(request: Request) -> Response:
    ctx, uuid, current = await _owned(request, "servers:update")
    svc = service(request)
    data = await read_json(request)
    body = data.get("server") if isinstance(data, dict) else None
    if not isinstance(body, dict):
        raise bad("server", "'server' is a required property")
    unknown = sorted(set(body) - UPDATE_KEYS)
    if (
        unknown
        or ("description" in body and not at_least(request, 19))
        or ("hostname" in body and not at_least(request, 90))
    ):
        bad_key = (unknown or ["description" if "description" in body else "hostname"])[0]
        raise bad("server", f"Additional properties are not allowed ({bad_key!r} was unexpected)")
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["display_name"] = _string(body, "name")
    if "description" in body:
        changes["display_description"] = (
            None if body["description"] is None else _string(body, "description", empty_ok=True)
        )
    if "hostname" in body:
        changes["hostname"] = _string(body, "hostname", hostname_max(request))
    for key, col in (("accessIPv4", "access_ip_v4"), ("accessIPv6", "access_ip_v6")):
        if key in body:
            changes[col] = checks.access_ip(body, key)
    disk_config = checks.disk_config(body)
    if disk_config is not None:
        changes["request"] = {**(current.row.request or {}), "disk_config": disk_config}
    srv = await svc.servers.update(ctx, uuid, changes)
    return json_response({"server": views.changed(request, srv)})


async def delete(request: Request) -> Response:
    ctx, uuid, _ = await _owned(request, "servers:delete")
    await service(request).actions.delete(ctx, uuid)
    return empty(204)


routes = [
    Route("/servers", list_servers, methods=["GET"]),
    Route("/servers", create, methods=["POST"]),
    Route("/servers/detail", list_detail, methods=["GET"]),
    Route("/servers/{server_id}", show, methods=["GET"]),
    Route("/servers/{server_id}", update, methods=["PUT"]),
    Route("/servers/{server_id}", delete, methods=["DELETE"]),
]
