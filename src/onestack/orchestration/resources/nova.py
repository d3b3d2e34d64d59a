"""Nova's resource types, through compute's typed facade (``ComputeAPI``), with images found
through ``ImageAPI`` and networks, ports and addresses through ``NetworkAPI``."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
import uuid
from typing import Any

from onestack.common import errors
from onestack.compute.facade import ComputeAPI, CreateRequest, FlavorSpec
from onestack.image.facade import ImageAPI
from onestack.network.facade import NetworkAPI
from onestack.orchestration import software
from onestack.orchestration.errors import ResourceFailure, StackValidationFailed, not_allowed
from onestack.orchestration.resources import server_bdm, server_checks, server_nets
from onestack.orchestration.resources.base import (
    Asked,
    Checking,
    Context,
    Created,
    Plugin,
    Prop,
    Replace,
)
from onestack.orchestration.software import SoftwareService

BUILD_TIMEOUT = 600.0  # seconds a server may take to become ACTIVE (or to go)
# Heat's ``support_console_types``, the keys of a server's ``console_urls``
CONSOLE_TYPES = ("novnc", "xvpvnc", "spice-html5", "rdp-html5", "serial", "webmks")


class ConsoleUrls(dict[str, str]):
    """Heat's ConsoleUrls mapping: its items are the console types Heat knows; another key
    reads as novaclient's UnsupportedConsoleType text (``[server, console_urls, rdp]``)."""

    def get(self, key: str, default: Any = None) -> Any:
        if key not in CONSOLE_TYPES:
            return f'Unsupported console_type "{key}"'
        return super().get(key, default)


async def image_id(c: Context, ref: str) -> str:
    images = c.runtime.service(ImageAPI)
    try:
        return (await images.get_image(c.ctx, ref)).id
    except errors.NotFound:
        found = await images.list_images(c.ctx, {"name": ref})
        if len(found) == 1:
            return found[0].id
        if len(found) > 1:
            raise ResourceFailure(f"Multiple images match the name '{ref}', use an ID") from None
        raise ResourceFailure(f"Error validating value '{ref}': The Image ({ref}) could not be "
                              "found.") from None  # fmt: skip


class Server(Plugin):
    type_name = "OS::Nova::Server"
    description = "A resource for managing Nova instances."
    properties = {
        "name": Prop("string", update_allowed=True, description="Server name."),
        "image": Prop("string", update_allowed=True, description="The ID or name of the image."),
        "flavor": Prop("string", required=True, update_allowed=True, description="Flavor."),
        "key_name": Prop("string", description="Name of keypair to inject into the server."),
        "networks": Prop("list", update_allowed=True, description="Networks to attach to."),
        "security_groups": Prop("list", default=[], description="Security groups."),
        "user_data": Prop("string", default="", update_allowed=True),
        "user_data_format": Prop("string", default="HEAT_CFNTOOLS"),
        "user_data_update_policy": Prop("string", update_allowed=True, default="REPLACE"),
        "software_config_transport": Prop("string", default="POLL_SERVER_CFN"),
        "metadata": Prop("map", update_allowed=True, description="Arbitrary key/value metadata."),
        "availability_zone": Prop("string"),
        "config_drive": Prop("boolean"),
        "admin_pass": Prop("string", update_allowed=True),
        "scheduler_hints": Prop("map"),
        "flavor_update_policy": Prop("string", update_allowed=True, default="RESIZE"),
        "image_update_policy": Prop("string", update_allowed=True, default="REBUILD"),
        "block_device_mapping": Prop("list", description="Block device mappings (v1)."),
        "block_device_mapping_v2": Prop("list"),
        "tags": Prop("list", update_allowed=True),
        "diskConfig": Prop("string"),
    }
    attributes = {
        "name": "Name of the server.",
        "first_address": "Convenience attribute to fetch the first assigned network address.",
        "networks": "A dict of assigned network addresses of the form: {net_name: [ip, ...]}.",
        "addresses": "A dict of all network addresses with corresponding port_id.",
        "accessIPv4": "The manually assigned alternative public IPv4 address of the server.",
        "accessIPv6": "The manually assigned alternative public IPv6 address of the server.",
        "instance_name": "AWS compatible instance name.",
        "console_urls": "URLs of server's consoles.",
        "os_collect_config": "The os-collect-config configuration for the server's local agent.",
    }

    @classmethod
    def check_definition(cls, rdef: Any, env: Checking) -> None:
        fns = env.tmpl.functions
        problem = server_checks.problem(rdef.properties, rdef.name, rdef.metadata, lambda v: (
            isinstance(v, dict) and len(v) == 1 and next(iter(v)) in fns))  # fmt: skip
        if problem:
            raise StackValidationFailed(message=problem)

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        image = await image_id(c, str(props["image"])) if props.get("image") else ""
        boot = await server_bdm.server_boot(
            image, props, c.resource_name, lambda ref: image_id(c, ref)
        )
        if not boot[0] and not boot[1]:
            raise ResourceFailure("Neither image nor bootable volume is specified for instance")
        groups = [str(g) for g in props.get("security_groups") or []]
        made: list[str] = []
        try:
            return await self._create(c, props, groups, made, boot)
        except ServerFailed:
            raise  # made: its id and ports are kept, a delete removes them
        except Exception:
            await server_nets.delete_ports(c, made)  # a server never made: no port of its own
            raise

    async def _create(
        self,
        c: Context,
        props: dict[str, Any],
        groups: list[str],
        made: list[str],
        boot: tuple[str, bool, list[dict[str, Any]]],
    ) -> Created:
        compute = c.runtime.service(ComputeAPI)
        networks = await server_nets.request_networks(c, props.get("networks"), groups, made)
        user_data = props.get("user_data") or ""
        collect: dict[str, Any] = {}
        if props.get("user_data_format") == "SOFTWARE_CONFIG":
            user_data, collect = await self._software_config(c, user_data)
        req = CreateRequest(
            name=props.get("name") or f"{c.stack_name}-{c.resource_name}",
            flavor_ref=await compute.flavor_id(c.ctx, str(props["flavor"])),
            image_ref=boot[0],
            boot_volume=boot[1],
            block_devices=boot[2],
            networks=networks,
            security_groups=groups,
            key_name=props.get("key_name"),
            user_data=base64.b64encode(user_data.encode()).decode() if user_data else None,
            config_drive=bool(props.get("config_drive")),
            metadata={str(k): str(v) for k, v in (props.get("metadata") or {}).items()},
            availability_zone=props.get("availability_zone"),
            tags=props.get("tags"),
        )
        server_id = await compute.create_server(c.ctx, req)
        deadline = time.monotonic() + BUILD_TIMEOUT
        while True:
            info = await compute.get_server(c.ctx, server_id)
            if info.status == "ACTIVE":
                break
            if info.status == "ERROR" or time.monotonic() > deadline:
                # Created: the engine keeps the id, so a delete removes the failed server.
                raise ServerFailed(server_id, f"Went to status {info.status} due to "
                                   '"Message: The server could not be built"',
                                   {server_nets.INTERNAL: made})  # fmt: skip
            await asyncio.sleep(0.5)
        attributes = await self._attributes(c, server_id)
        attributes["os_collect_config"] = collect
        return Created(server_id, attributes, {server_nets.INTERNAL: made})

    async def _software_config(self, c: Context, user_data: str) -> tuple[str, dict[str, Any]]:
        """The guest hook (``orchestration.software``) as user data, the user's own (a
        script, or a software config's id) run after it; the hook's URL for
        ``os_collect_config``."""
        if user_data:
            with contextlib.suppress(ValueError, errors.NotFound):
                uuid.UUID(user_data)
                row = await c.runtime.service(SoftwareService).config(c.ctx, user_data)
                user_data = str(row.config.get("config", ""))
        project = c.ctx.project_id or ""
        hook = software.hook_script(c.runtime, project, c.stack_id, c.resource_name)
        if user_data.startswith("#!"):
            hook += (
                "cat > /tmp/heat-user-data <<'ONESTACK_USER_DATA_EOF'\n"
                f"{user_data.rstrip()}\nONESTACK_USER_DATA_EOF\n"
                "chmod 700 /tmp/heat-user-data && /tmp/heat-user-data\n"
            )
        url = software.hook_url(c.runtime, project, c.stack_id, c.resource_name)
        return hook, {"request": {"metadata_url": url}}

    async def _attributes(self, c: Context, server_id: str) -> dict[str, Any]:
        info = await c.runtime.service(ComputeAPI).get_server(c.ctx, server_id)
        ports = (await c.runtime.service(NetworkAPI).device_addresses([server_id])).get(
            server_id, []
        )
        networks: dict[str, list[str]] = {}
        addresses: dict[str, list[dict[str, Any]]] = {}
        first = ""
        for port in ports:
            for key in (port.get("network_name") or port["network_id"], port["network_id"]):
                networks.setdefault(key, [])
            for ip in port.get("fixed_ips") or []:
                addr = ip["ip_address"]
                first = first or addr
                networks[port.get("network_name") or port["network_id"]].append(addr)
                networks[port["network_id"]].append(addr)
                entry = {
                    "addr": addr,
                    "version": 6 if ":" in addr else 4,
                    "port": port["id"],
                    "OS-EXT-IPS-MAC:mac_addr": port.get("mac_address"),
                    "OS-EXT-IPS:type": "fixed",
                }
                # By the network's name and, as Heat extends them, by its id (what
                # `get_attr: [server, addresses, {get_resource: net}, 0, port]` reads).
                for key in dict.fromkeys((port.get("network_name") or port["network_id"],
                                          port["network_id"])):  # fmt: skip
                    addresses.setdefault(key, []).append(entry)
        return {
            "name": info.name,
            "first_address": first,
            "networks": networks,
            "addresses": addresses,
            "accessIPv4": "",
            "accessIPv6": "",
            "instance_name": info.name,
            "console_urls": {},
            "status": info.status,
            "id": server_id,
        }

    async def refresh(
        self, c: Context, physical_id: str, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        return await self._attributes(c, physical_id)

    async def live(self, c: Context, physical_id: str, asked: set[Asked]) -> dict[str, Any]:
        """``console_urls`` as Heat's ``get_console_urls``, a lazy mapping: a new URL of each
        console type read, or the text of the error compute gave for it (a type this cloud
        does not offer, a server that does not run). ``[server, console_urls, novnc]``
        opens a novnc console only; the whole attribute, each type Heat knows."""
        # An attribute named by a function (None) may be this one, its key unknown too.
        whole = ("console_urls", None) in asked or any(a is None for a, _ in asked)
        keys = {k for a, k in asked if a == "console_urls" and k is not None}
        if not whole and not keys:
            return {}
        compute = c.runtime.service(ComputeAPI)
        urls = ConsoleUrls()
        for kind in CONSOLE_TYPES if whole else [k for k in CONSOLE_TYPES if k in keys]:
            try:
                urls[kind] = await compute.console_url(c.ctx, physical_id, kind)
            except errors.NotFound:
                raise
            except errors.OneStackError as exc:
                urls[kind] = f"Cannot get console url: {exc.message} (HTTP {exc.code})"
        return {"console_urls": urls}

    async def metadata(self, c: Context, row: Any) -> dict[str, Any]:
        """With user data SOFTWARE_CONFIG, Heat's server adds to its template's metadata the
        deployments made for it (by any stack: os-collect-config polls this to learn them)
        and the agent's configuration, the template's ``os-collect-config`` keys over it."""
        meta = dict(row.rsrc_metadata or {})
        if row.properties.get("user_data_format") != "SOFTWARE_CONFIG":
            return meta
        if not row.physical_resource_id:
            return meta
        svc = c.runtime.service(SoftwareService)
        occ = dict(row.attributes.get("os_collect_config") or {})
        occ.update(meta.get("os-collect-config") or {})
        found = await svc.metadata(c.ctx, row.physical_resource_id)
        return {**meta, "deployments": found, "os-collect-config": occ}

    async def update(
        self,
        c: Context,
        physical_id: str,
        data: dict[str, Any],
        old: dict[str, Any],
        new: dict[str, Any],
    ) -> dict[str, Any]:
        """As Heat's handle_update: a new flavor resizes the server (and confirms), a new
        image rebuilds it, unless their update policy is REPLACE; new user data replaces it
        (policy REPLACE) or is ignored (IGNORE); a new name or metadata is set in place."""
        changed = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
        if (
            ("flavor" in changed and new.get("flavor_update_policy") == "REPLACE")
            or ("image" in changed and new.get("image_update_policy") == "REPLACE")
            or ("user_data" in changed and new.get("user_data_update_policy") != "IGNORE")
        ):
            raise Replace()
        # Interfaces are not attached and detached in place yet: only entries that name the
        # ports the server has keep it.
        if "networks" in changed and not await server_nets.ports_fit(
            c, physical_id, new.get("networks")
        ):
            raise Replace()
        compute = c.runtime.service(ComputeAPI)
        if "name" in changed or "metadata" in changed:
            await compute.update_server(
                c.ctx,
                physical_id,
                name=(new.get("name") or f"{c.stack_name}-{c.resource_name}")
                if "name" in changed
                else None,
                metadata={str(k): str(v) for k, v in (new.get("metadata") or {}).items()}
                if "metadata" in changed
                else None,
            )
        if "flavor" in changed:
            flavor = await compute.flavor_id(c.ctx, str(new["flavor"]))
            # A resize already waiting for its confirmation (an update retried) is confirmed.
            if (await compute.get_server(c.ctx, physical_id)).status != "VERIFY_RESIZE":
                await compute.resize_server(c.ctx, physical_id, flavor)
                await wait_status(c, physical_id, "VERIFY_RESIZE")
            await compute.server_action(c.ctx, physical_id, "confirm_resize")
            await wait_status(c, physical_id, "ACTIVE")
        if "image" in changed:
            await compute.rebuild_server(c.ctx, physical_id, await image_id(c, str(new["image"])))
            await wait_status(c, physical_id, "ACTIVE")
        return await self._attributes(c, physical_id)

    async def snapshot(self, c: Context, physical_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """Heat's: an image of the server, waited for until active."""
        compute = c.runtime.service(ComputeAPI)
        before = (await compute.get_server(c.ctx, physical_id)).status
        image = await compute.snapshot_server(
            c.ctx, physical_id, f"{c.stack_name}-{c.resource_name}-snapshot"
        )
        await _image_active(c, image, physical_id)
        await wait_status(c, physical_id, before)
        return {"snapshot_image_id": image}

    async def snapshot_delete(
        self, c: Context, physical_id: str, data: dict[str, Any], state: tuple[str, str]
    ) -> None:
        """Heat's: unless the server failed, an image of it waited for until active (one
        that errors fails the delete, the server kept); then the server is deleted, the
        image kept."""
        if state[1] != "FAILED":
            image = await c.runtime.service(ComputeAPI).snapshot_server(
                c.ctx, physical_id, f"{c.stack_name}-{c.resource_name}"
            )
            await _image_active(c, image, physical_id)
        await self.delete(c, physical_id, data)

    async def delete_snapshot(self, c: Context, data: dict[str, Any]) -> None:
        image = data.get("snapshot_image_id")
        if image:
            with contextlib.suppress(errors.NotFound):
                await c.runtime.service(ImageAPI).delete_image_as(c.ctx, str(image))

    @classmethod
    def restore_properties(
        cls, props: dict[str, Any], snapshot_data: dict[str, Any]
    ) -> dict[str, Any]:
        image = snapshot_data.get("snapshot_image_id")
        return {**props, "image": image} if image else props

    async def suspend(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        await _power(c, physical_id, "suspend", "SUSPENDED")

    async def resume(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        await _power(c, physical_id, "resume", "ACTIVE")

    async def delete(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        compute = c.runtime.service(ComputeAPI)
        await compute.delete_server(c.ctx, physical_id)
        deadline = time.monotonic() + BUILD_TIMEOUT
        while time.monotonic() < deadline:  # Heat waits for the server to be gone
            try:
                await compute.get_server(c.ctx, physical_id)
            except errors.NotFound:
                await server_nets.delete_ports(c, list(data.get(server_nets.INTERNAL) or []))
                return
            await asyncio.sleep(0.5)
        raise ResourceFailure(f"Server {physical_id} was not deleted in time")


async def _image_active(c: Context, image: str, server_id: str) -> None:
    images = c.runtime.service(ImageAPI)
    deadline = time.monotonic() + BUILD_TIMEOUT
    while (status := (await images.get_image(c.ctx, image)).status) != "active":
        if status in ("killed", "deleted") or time.monotonic() > deadline:
            raise ResourceFailure(f"Image {image} of server {server_id} is {status}")
        await asyncio.sleep(0.5)


async def _power(c: Context, server_id: str, op: str, want: str) -> None:
    """Suspend or resume, unless the server already is so (a retried action)."""
    compute = c.runtime.service(ComputeAPI)
    if (await compute.get_server(c.ctx, server_id)).status != want:
        await compute.server_action(c.ctx, server_id, op)
    await wait_status(c, server_id, want)


async def wait_status(c: Context, server_id: str, want: str) -> None:
    compute = c.runtime.service(ComputeAPI)
    deadline = time.monotonic() + BUILD_TIMEOUT
    while True:
        info = await compute.get_server(c.ctx, server_id)
        if info.status == want and not info.task_state:
            return
        if info.status == "ERROR":
            raise ResourceFailure(f"Server {server_id} went to status ERROR")
        if time.monotonic() > deadline:
            raise ResourceFailure(f"Server {server_id} is {info.status}, not {want}, in time")
        await asyncio.sleep(0.5)


class ServerFailed(ResourceFailure):
    """A server that was made but did not become ACTIVE: its id is kept for the delete."""

    def __init__(self, physical_id: str, reason: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.physical_id = physical_id
        self.data = data or {}


class KeyPair(Plugin):
    type_name = "OS::Nova::KeyPair"
    description = "A resource for creating Nova key pairs."
    properties = {
        "name": Prop("string", required=True, description="The name of the key pair."),
        "save_private_key": Prop("boolean", default=False),
        "public_key": Prop("string", description="The public key to import."),
        "type": Prop("string", default="ssh", description="Keypair type (ssh or x509)."),
        "user": Prop("string", description="ID or name of user to whom to add key-pair."),
    }
    attributes = {
        "public_key": "The public key.",
        "private_key": "The private key if it has been saved.",
    }

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        made = await c.runtime.service(ComputeAPI).create_keypair(
            c.ctx, str(props["name"]), props.get("public_key"), str(props.get("type") or "ssh")
        )
        private = made.private_key if props.get("save_private_key") else ""
        return Created(made.name, {"public_key": made.public_key, "private_key": private or ""})

    async def delete(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        await c.runtime.service(ComputeAPI).delete_keypair(c.ctx, physical_id)


class Flavor(Plugin):
    type_name = "OS::Nova::Flavor"
    description = "A resource for creating OpenStack virtual hardware templates (admin only)."
    properties = {
        "name": Prop("string", description="Name of the flavor."),
        "flavorid": Prop("string", description="Unique ID of the flavor."),
        "ram": Prop("integer", required=True, description="Memory in MB for the flavor."),
        "vcpus": Prop("integer", required=True, description="Number of VCPUs for the flavor."),
        "disk": Prop("integer", default=0, description="Size of local disk in GB."),
        "swap": Prop("integer", default=0, description="Swap space in MB."),
        "ephemeral": Prop(
            "integer", default=0, description="Size of a secondary ephemeral data disk in GB."
        ),
        "rxtx_factor": Prop("number", default=1.0, description="RX/TX factor."),
        "is_public": Prop("boolean", default=True, description="Scope of flavor accessibility."),
        "extra_specs": Prop(
            "map",
            default={},
            description="Key/Value pairs to extend the capabilities of the flavor.",
        ),
        "tenants": Prop(
            "list", default=[], description="List of tenants a private flavor is shared with."
        ),
        "description": Prop("string", description="Description of the flavor."),
    }
    attributes = {
        "is_public": "Whether the flavor is shared across all projects.",
        "extra_specs": "Extra specs of the flavor in key-value pairs.",
        "name": "Name of the flavor.",
    }

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        c.runtime.enforcer.enforce(
            c.ctx, f"resource_types:{self.type_name}", {"project_id": c.ctx.project_id}
        )
        name = str(props.get("name") or f"{c.stack_name}-{c.resource_name}-"
                   f"{uuid.uuid4().hex[:8]}")  # fmt: skip
        spec = FlavorSpec(
            name=name, ram=int(props["ram"]), vcpus=int(props["vcpus"]),
            disk=int(props.get("disk") or 0), flavorid=props.get("flavorid"),
            ephemeral=int(props.get("ephemeral") or 0), swap=int(props.get("swap") or 0),
            rxtx_factor=float(props.get("rxtx_factor") or 1.0),
            is_public=bool(props.get("is_public", True)), description=props.get("description"),
            extra_specs={str(k): str(v) for k, v in (props.get("extra_specs") or {}).items()},
            tenants=[str(t) for t in props.get("tenants") or []],
        )  # fmt: skip
        flavor_id = await c.runtime.service(ComputeAPI).create_flavor(c.ctx, spec)
        return Created(flavor_id, {"name": name, "is_public": spec.is_public,
                                   "extra_specs": spec.extra_specs})  # fmt: skip

    async def delete(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        await c.runtime.service(ComputeAPI).delete_flavor(c.ctx, physical_id)


class ServerGroup(Plugin):
    type_name = "OS::Nova::ServerGroup"
    description = "A resource for managing a Nova server group."
    properties = {
        "name": Prop("string", description="Server Group name."),
        "policies": Prop(
            "list",
            default=["anti-affinity"],
            description="A list of string policies to apply. Defaults to anti-affinity.",
        ),
        "rules": Prop(
            "map",
            default={},
            description="Rules for the policy (max_server_per_host for anti-affinity).",
        ),
    }
    _POLICIES = ("anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity")

    @classmethod
    def check_properties(cls, props: dict[str, Any], path: str, literal: set[str]) -> str:
        problem = super().check_properties(props, path, literal)
        policies = props.get("policies")
        if not problem and "policies" in literal and isinstance(policies, list):
            for policy in policies:
                if policy not in cls._POLICIES:
                    return f"{path}.policies: {not_allowed(policy, cls._POLICIES)}"
        return problem

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        policies = props.get("policies") or ["anti-affinity"]
        if len(policies) != 1:
            raise ResourceFailure("Only one policy is allowed.")
        name = str(props.get("name") or f"{c.stack_name}-{c.resource_name}")
        group_id = await c.runtime.service(ComputeAPI).create_server_group(
            c.ctx, name, str(policies[0]), dict(props.get("rules") or {})
        )
        return Created(group_id)

    async def delete(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        await c.runtime.service(ComputeAPI).delete_server_group(c.ctx, physical_id)


PLUGINS: tuple[type[Plugin], ...] = (Server, KeyPair, Flavor, ServerGroup)
