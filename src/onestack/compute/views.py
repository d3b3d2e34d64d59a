"""Servers as Nova shows them, per microversion: exactly the fields of that version."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson
from starlette.requests import Request

from onestack.compute import states
from onestack.compute.api.helpers import allowed, at_least, bookmark, href, links
from onestack.compute.service.networking import addresses
from onestack.compute.service.servers import Server

# orjson writes a naive datetime ~3x as fast as ``isoformat`` (a list of 1,000 servers
# formats 4,000 timestamps, a tenth of its time, #19), in the same text: ``iso`` as UTC with a
# ``Z`` and no fraction, ``usg`` as it is (with the fraction unless it is zero, see there).
_ISO = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z | orjson.OPT_OMIT_MICROSECONDS


def iso(value: datetime | None) -> str | None:
    """Nova's timestamps: ``2026-11-24T12:00:00Z`` (no fraction)."""
    if value is None:
        return None
    if value.tzinfo is None:  # the database's naive UTC
        return orjson.dumps(value, option=_ISO)[1:-1].decode()
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def usg(value: datetime | None) -> str | None:
    """``OS-SRV-USG`` timestamps keep microseconds and have no zone, as Nova prints them."""
    if value is None:
        return None
    if value.tzinfo is None:
        if value.microsecond:  # orjson leaves out a zero fraction, which Nova prints
            return orjson.dumps(value)[1:-1].decode()
        return value.isoformat(timespec="microseconds")
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")


def host_id(project_id: str, host: str | None) -> str:
    """Nova's opaque ``hostId``: the same for one project's servers on one host."""
    if not host:
        return ""
    return hashlib.sha224((project_id + host).encode()).hexdigest()


def summary(request: Request, srv: Server) -> dict[str, Any]:
    r = srv.row
    return {"id": r.uuid, "name": r.display_name, "links": links(request, "servers", r.uuid)}


# What the update and rebuild answers leave out before 2.75 (Nova builds them with every
# ``show_*`` flag off); from 2.75 they carry what GET does.
_NOT_IN_CHANGED = {
    "OS-EXT-AZ:availability_zone",
    "config_drive",
    "key_name",
    "OS-SRV-USG:launched_at",
    "OS-SRV-USG:terminated_at",
    "OS-EXT-STS:task_state",
    "OS-EXT-STS:vm_state",
    "OS-EXT-STS:power_state",
    "os-extended-volumes:volumes_attached",
    "security_groups",
    "host_status",
}


def changed(request: Request, srv: Server, *, rebuild: bool = False) -> dict[str, Any]:
    """The server as the update (PUT) and rebuild answers show it."""
    out = detail(request, srv, show=True)
    # Never the OS-EXT-IPS extensions here (Nova's extend_address=False).
    out["addresses"] = {
        net: [{"version": a["version"], "addr": a["addr"]} for a in items]
        for net, items in out["addresses"].items()
    }
    if not at_least(request, 75):
        for key in list(out):
            if key in _NOT_IN_CHANGED or key.startswith("OS-EXT-SRV-ATTR:"):
                del out[key]
    if rebuild:
        out.pop("OS-EXT-SRV-ATTR:user_data", None)
        if at_least(request, 54):
            out["key_name"] = srv.row.key_name
        if at_least(request, 57):
            out["user_data"] = srv.row.user_data
    return out


def detail(request: Request, srv: Server, *, show: bool = False) -> dict[str, Any]:
    return Details(request, show=show)(srv)


class Details:
    """The detail view of servers for one request. What is the same for every server of a
    list (the microversion's answers, base URLs, policy answers per owner, host ids) is
    worked out once: asked per server, it was half the time of a list of 1,000."""

    def __init__(self, request: Request, *, show: bool = False) -> None:
        self.request = request
        self.show = show
        self.v3, self.v9, self.v16, self.v19, self.v26, self.v47 = (
            at_least(request, n) for n in (3, 9, 16, 19, 26, 47)
        )
        self.v63, self.v71, self.v73, self.v90, self.v96 = (
            at_least(request, n) for n in (63, 71, 73, 90, 96)
        )
        self.self_base = href(request, "servers", "")
        self.bookmark_base = bookmark(request, "")
        self._owners: dict[tuple[str, str], tuple[bool, bool]] = {}
        self._extra_specs: dict[str, bool] = {}
        self._host_ids: dict[tuple[str, str | None], str] = {}
        # Views shared by the servers of one answer (serialized, never changed): the keys'
        # values live as long as the answer's rows.
        self._images: dict[str, dict[str, Any]] = {}
        self._flavors: dict[tuple[int, str], dict[str, Any]] = {}

    def _owner(self, project_id: str, user_id: str) -> tuple[bool, bool]:
        """(extended server attributes, host status) allowed on this owner's servers."""
        key = (project_id, user_id)
        answers = self._owners.get(key)
        if answers is None:
            target = {"project_id": project_id, "user_id": user_id}
            admin_attrs = allowed(self.request, "os-extended-server-attributes", target)
            host_status = self.v16 and allowed(self.request, "servers:show:host_status", target)
            answers = self._owners[key] = (admin_attrs, host_status)
        return answers

    def _host_id(self, project_id: str, host: str | None) -> str:
        key = (project_id, host)
        value = self._host_ids.get(key)
        if value is None:
            value = self._host_ids[key] = host_id(project_id, host)
        return value

    def _image(self, image_ref: str) -> dict[str, Any]:
        image = self._images.get(image_ref)
        if image is None:
            link = {"rel": "bookmark", "href": f"{self.bookmark_base}images/{image_ref}"}
            image = self._images[image_ref] = {"id": image_ref, "links": [link]}
        return image

    def _flavor(self, flavor: dict[str, Any], project_id: str) -> dict[str, Any]:
        """The flavor's view, one per flavor value and owner in the response: a list's servers
        share their decoded flavor (``server_lists.listed``), and from 2.47 its view was a
        tenth of the list's time when made for each server."""
        key = (id(flavor), project_id)
        view = self._flavors.get(key)
        if view is None:
            view = self._flavors[key] = self._flavor_view(flavor, project_id)
        return view

    def _flavor_view(self, flavor: dict[str, Any], project_id: str) -> dict[str, Any]:
        if not self.v47:
            fid = flavor.get("flavorid", "")
            return {
                "id": fid,
                "links": [{"rel": "bookmark", "href": f"{self.bookmark_base}flavors/{fid}"}],
            }
        out: dict[str, Any] = {
            "vcpus": flavor["vcpus"],
            "ram": flavor["memory_mb"],
            "disk": flavor["root_gb"],
            "ephemeral": flavor.get("ephemeral_gb", 0),
            "swap": flavor.get("swap", 0),
            "original_name": flavor["name"],
        }
        specs = self._extra_specs.get(project_id)
        if specs is None:
            target = {"project_id": project_id}
            specs = allowed(self.request, "servers:show:flavor-extra-specs", target)
            self._extra_specs[project_id] = specs
        if specs:
            out["extra_specs"] = dict(flavor.get("extra_specs") or {})
        return out

    def __call__(self, srv: Server) -> dict[str, Any]:
        r = srv.row
        uuid = r.uuid
        status = states.status(r.vm_state, r.task_state)
        admin_attrs, host_status = self._owner(r.project_id, r.user_id)
        bookmarks = self.bookmark_base
        image = self._image(r.image_ref) if r.image_ref else ""
        volumes = srv.volumes if self.v3 else [{"id": v["id"]} for v in srv.volumes]
        out: dict[str, Any] = {
            "id": uuid,
            "name": r.display_name,
            "status": status,
            "tenant_id": r.project_id,
            "user_id": r.user_id,
            "metadata": srv.metadata,
            "hostId": self._host_id(r.project_id, r.host),
            "image": image,
            "flavor": self._flavor(r.flavor, r.project_id),
            "created": iso(r.created_at),
            "updated": iso(r.updated_at),
            "addresses": addresses(srv.ports) if srv.ports else {},
            "accessIPv4": r.access_ip_v4 or "",
            "accessIPv6": r.access_ip_v6 or "",
            "links": [
                {"rel": "self", "href": self.self_base + uuid},
                {"rel": "bookmark", "href": f"{bookmarks}servers/{uuid}"},
            ],
            "OS-DCF:diskConfig": (r.request or {}).get("disk_config") or "MANUAL",
            "OS-EXT-AZ:availability_zone": r.availability_zone or "",
            "config_drive": "True" if r.config_drive else "",
            "key_name": r.key_name,
            "OS-SRV-USG:launched_at": usg(r.launched_at),
            "OS-SRV-USG:terminated_at": usg(r.terminated_at),
            "OS-EXT-STS:task_state": r.task_state,
            "OS-EXT-STS:vm_state": r.vm_state,
            "OS-EXT-STS:power_state": r.power_state,
            "os-extended-volumes:volumes_attached": list(volumes),
        }
        if status in states.PROGRESS_STATUSES:
            out["progress"] = r.progress or 0
        # As Nova: the groups of the server's ports, by name (its request until it has ports).
        names = (
            list(dict.fromkeys(n for p in srv.ports for n in p.get("security_groups", ())))
            if srv.ports
            else list(r.security_groups or [])
        )
        if names:
            out["security_groups"] = [{"name": n} for n in names]
        if admin_attrs:
            self._server_attributes(out, r)
        elif self.v90:
            out["OS-EXT-SRV-ATTR:hostname"] = r.hostname
        if self.v9:
            out["locked"] = bool(r.locked)
        if host_status:
            out["host_status"] = "UP" if r.host else ""
        if self.v19:
            out["description"] = r.display_description
        if self.v26:
            out["tags"] = srv.tags
        if self.v63:
            out["trusted_image_certificates"] = r.trusted_image_certificates
        if self.v71 and self.show:
            out["server_groups"] = srv.group_uuids
        if self.v73:
            out["locked_reason"] = r.locked_reason
        if self.v96:
            out["pinned_availability_zone"] = (
                r.availability_zone if r.request.get("az_pinned") else None
            )
        if r.vm_state in (states.ERROR, states.DELETED) and r.fault:
            out["fault"] = fault_view(r.fault, admin_attrs)
        return out

    def _server_attributes(self, out: dict[str, Any], r: Any) -> None:
        """``OS-EXT-SRV-ATTR``: where and how the server runs, for those who may see it."""
        out["OS-EXT-SRV-ATTR:host"] = r.host
        out["OS-EXT-SRV-ATTR:instance_name"] = f"instance-{r.id:08x}"
        out["OS-EXT-SRV-ATTR:hypervisor_hostname"] = r.node
        if self.v3:
            out["OS-EXT-SRV-ATTR:reservation_id"] = r.reservation_id
            out["OS-EXT-SRV-ATTR:launch_index"] = r.launch_index
            out["OS-EXT-SRV-ATTR:hostname"] = r.hostname
            out["OS-EXT-SRV-ATTR:kernel_id"] = ""
            out["OS-EXT-SRV-ATTR:ramdisk_id"] = ""
            out["OS-EXT-SRV-ATTR:root_device_name"] = "/dev/vda"
            out["OS-EXT-SRV-ATTR:user_data"] = r.user_data


def fault_view(stored: dict[str, Any], with_details: bool) -> dict[str, Any]:
    """A server's fault as Nova shows it: the details of a 500 only ``with_details``."""
    f = dict(stored)
    body = {
        "code": f.get("code", 500),
        "created": f.get("created", ""),
        "message": f.get("message", ""),
    }
    if body["created"] and not body["created"].endswith("Z"):
        body["created"] = body["created"].split(".")[0] + "Z"
    if f.get("details") and (body["code"] != 500 or with_details):
        body["details"] = f["details"]
    return body
