"""Compute's side of the network contract: the ports a server asks for, made and bound through
the network service's public functions, and the addresses a server shows."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.compute.service.base import ComputeContext
from onestack.network.facade import ADMIN, Caller, NetworkAPI


class NetworkAmbiguous(errors.Conflict):
    template = "Multiple possible networks found, use a Network ID to be more specific."


class PortInUse(errors.Conflict):
    template = "Port {id} is still in use."


@dataclass(frozen=True)
class NicRequest:
    network_id: str | None = None
    port_id: str | None = None
    fixed_ip: str | None = None
    tag: str | None = None


def _caller(ctx: RequestContext, project_id: str) -> Caller:
    return Caller(project_id=project_id, is_admin=ctx.is_admin)


class Networking:
    def __init__(self, context: ComputeContext) -> None:
        self.context = context

    @property
    def net(self) -> NetworkAPI:
        return self.context.network

    async def _show(self, collection: str, caller: Caller, ident: str) -> dict[str, Any] | None:
        try:
            return await self.net.show(collection, caller, ident)
        except errors.OneStackError as exc:
            if exc.code == 404:
                return None
            raise

    async def _list(
        self, collection: str, caller: Caller, **filters: list[str]
    ) -> list[dict[str, Any]]:
        return await self.net.find(collection, caller, **filters)

    async def resolve(
        self, ctx: RequestContext, project_id: str, requested: Any
    ) -> list[NicRequest]:
        """What ``networks`` in a create request means: 400 for unknown networks or ports,
        409 for a port already in use or an ambiguous ``auto``."""
        caller = _caller(ctx, project_id)
        if requested == "none":
            return []
        if requested is None or requested == "auto":
            nets = [
                n
                for n in await self._list("networks", caller)
                if not n.get("router:external") and n.get("status") != "DOWN"
            ]
            own = [n for n in nets if n["project_id"] == project_id] or nets
            if not own:
                if requested == "auto":
                    return [NicRequest(network_id=await self._auto_allocate(project_id))]
                return []
            if len(own) > 1:
                raise NetworkAmbiguous()
            return [NicRequest(network_id=own[0]["id"])]
        out: list[NicRequest] = []
        for item in requested:
            port_id = item.get("port")
            if port_id:
                port = await self._show("ports", caller, port_id)
                if port is None:
                    raise errors.BadRequest(f"Port {port_id} could not be found.")
                if port.get("device_id"):
                    raise PortInUse(id=port_id)
                out.append(
                    NicRequest(network_id=port["network_id"], port_id=port_id, tag=item.get("tag"))
                )
                continue
            net_id = item.get("uuid")
            if not net_id:
                raise errors.BadRequest("Bad networks format: network uuid is not in proper format")
            if await self._show("networks", caller, net_id) is None:
                raise errors.BadRequest(f"Network {net_id} could not be found.")
            fixed = item.get("fixed_ip")
            if fixed is not None:
                try:
                    ipaddress.ip_address(fixed)
                except ValueError:
                    raise errors.BadRequest(f"Invalid fixed IP address ({fixed})") from None
            out.append(NicRequest(network_id=net_id, fixed_ip=fixed, tag=item.get("tag")))
        return out

    async def _auto_allocate(self, project_id: str) -> str:
        """Nova's ``auto`` with no network to choose: the project's auto-allocated network
        (get-me-a-network), made by the network service on first use."""
        try:
            return await self.net.auto_allocated_network(project_id)
        except errors.OneStackError as exc:
            if exc.code != 409:
                raise
            raise errors.BadRequest(
                f"Unable to automatically allocate a network for project {project_id}"
            ) from exc

    async def security_group_ids(
        self, ctx: RequestContext, project_id: str, names: list[str]
    ) -> list[str]:
        """Nova takes security groups by name (or id); 400 when one is unknown."""
        caller = _caller(ctx, project_id)
        ids: list[str] = []
        for name in names:
            found = await self._list("security-groups", caller, name=[name])
            own = [g for g in found if g["project_id"] == project_id] or found
            if not own:
                group = await self._show("security-groups", caller, name)
                if group is None:
                    raise errors.BadRequest(
                        f"Security group {name} not found for project {project_id}."
                    )
                own = [group]
            ids.append(own[0]["id"])
        return ids

    async def allocate(
        self,
        project_id: str,
        instance_uuid: str,
        host: str,
        zone: str,
        requests: list[NicRequest],
        security_group_ids: list[str] | None,
    ) -> list[dict[str, Any]]:
        """Create (or bind) the server's ports on ``host``; what ``network_info`` records."""
        caller = Caller(project_id=project_id, is_admin=True)
        owner = f"compute:{zone}"
        info: list[dict[str, Any]] = []
        try:
            for req in requests:
                if req.port_id:
                    await self.net.bind_port(
                        req.port_id, host=host, device_id=instance_uuid, device_owner=owner
                    )
                    info.append(
                        {
                            "port_id": req.port_id,
                            "network_id": req.network_id,
                            "created_port": False,
                            "tag": req.tag,
                        }
                    )
                    continue
                body: dict[str, Any] = {
                    "network_id": req.network_id,
                    "project_id": project_id,
                    "device_id": instance_uuid,
                    "device_owner": owner,
                    "binding_host_id": host,
                }
                if req.fixed_ip:
                    body["fixed_ips"] = [{"ip_address": req.fixed_ip}]
                if security_group_ids is not None:
                    body["security_groups"] = security_group_ids
                port_id = await self.net.create_port(caller, body)
                info.append(
                    {
                        "port_id": port_id,
                        "network_id": req.network_id,
                        "created_port": True,
                        "tag": req.tag,
                    }
                )
        except BaseException:
            await self.deallocate(info)
            raise
        return info

    async def allocate_one(
        self,
        ctx: RequestContext,
        row: Any,
        *,
        port_id: str | None = None,
        network_id: str | None = None,
        fixed_ip: str | None = None,
        tag: str | None = None,
    ) -> dict[str, Any]:
        """One more port for a server already on its host (``os-interface``): the caller's
        port, or a new one on the network given (or the project's only one); its
        ``network_info`` entry. 404 for an unknown port or network, 409 for a port in use,
        400 when no network (or more than one) could be chosen."""
        caller = _caller(ctx, row.project_id)
        if port_id:
            port = await self._show("ports", caller, port_id)
            if port is None:
                raise errors.NotFound(f"Port {port_id} could not be found.")
            if port.get("device_id"):
                raise PortInUse(id=port_id)
            req = NicRequest(network_id=port["network_id"], port_id=port_id, tag=tag)
        else:
            if network_id:
                if await self._show("networks", caller, network_id) is None:
                    raise errors.NotFound(f"Network {network_id} could not be found.")
            else:
                try:
                    nics = await self.resolve(ctx, row.project_id, None)
                except NetworkAmbiguous:
                    raise errors.BadRequest(NetworkAmbiguous.template) from None
                if not nics:
                    raise errors.BadRequest(
                        "No specific network was requested and none are available for "
                        f"project '{row.project_id}'."
                    )
                network_id = nics[0].network_id
            req = NicRequest(network_id=network_id, fixed_ip=fixed_ip, tag=tag)
        zone = row.availability_zone or self.context.settings.compute.default_availability_zone
        groups = (row.request or {}).get("security_group_ids")
        info = await self.allocate(row.project_id, row.uuid, row.host or "", zone, [req], groups)
        return info[0]

    async def security_groups(self, ids: list[str]) -> list[dict[str, Any]]:
        """The security groups ``ids`` with their rules, in the order given."""
        if not ids:
            return []
        found = {g["id"]: g for g in await self._list("security-groups", ADMIN, id=ids)}
        return [found[i] for i in ids if i in found]

    async def deallocate(self, network_info: list[dict[str, Any]]) -> None:
        """Delete the ports the server made, unbind the ones it was given."""
        for nic in network_info:
            try:
                if nic.get("created_port"):
                    await self.net.delete_port(ADMIN, nic["port_id"], internal=True)
                else:
                    await self.net.unbind_port(nic["port_id"])
            except errors.NotFound:
                pass

    async def release(self, uuid: str, network_info: list[dict[str, Any]], request: Any) -> None:
        """Give back every port of the server being deleted: those ``network_info`` records,
        and any other port bound to it: a crash between a port's create and its record leaves
        one (Nova's delete lists the ports by device_id for the same reason). Of those, the
        ports the request named are unbound (they are the caller's), the others deleted."""
        await self.deallocate(network_info)
        recorded = {nic["port_id"] for nic in network_info}
        given = {nic.get("port_id") for nic in (request or {}).get("nics", [])}
        strays = [
            {"port_id": port["id"], "created_port": port["id"] not in given}
            for port in await self._list("ports", ADMIN, device_id=[uuid])
            if port["id"] not in recorded and port["device_owner"].startswith("compute:")
        ]
        await self.deallocate(strays)

    async def rebind(self, network_info: list[dict[str, Any]], host: str, uuid: str) -> None:
        for nic in network_info:
            port = await self._show("ports", ADMIN, nic["port_id"])
            if port is not None:
                await self.net.bind_port(
                    nic["port_id"], host=host, device_id=uuid, device_owner=port["device_owner"]
                )

    async def ports_of(self, instance_uuids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Every port of these servers, with its network's name and its floating IPs, in three
        queries whatever the number of servers (server lists show addresses)."""
        if not instance_uuids:
            return {}
        ports = await self._list("ports", ADMIN, device_id=list(instance_uuids))
        if not ports:
            return {}
        net_ids = sorted({p["network_id"] for p in ports})
        names = {n["id"]: n for n in await self._list("networks", ADMIN, id=net_ids)}
        fips = await self._list("floatingips", ADMIN, port_id=[p["id"] for p in ports])
        by_port: dict[str, list[dict[str, Any]]] = {}
        for fip in fips:
            by_port.setdefault(fip["port_id"], []).append(fip)
        out: dict[str, list[dict[str, Any]]] = {}
        for port in sorted(ports, key=lambda p: p.get("created_at") or ""):
            net = names.get(port["network_id"], {})
            out.setdefault(port["device_id"], []).append(
                {
                    **port,
                    "network_name": net.get("name") or port["network_id"],
                    "mtu": net.get("mtu") or 1500,
                    "floating_ips": by_port.get(port["id"], []),
                }
            )
        return out

    async def set_security_groups(
        self, uuid: str, project_id: str, change: str, group_id: str
    ) -> None:
        """Add (``change`` "add") or remove a group on every port of the server."""
        caller = Caller(project_id=project_id, is_admin=True)
        for port in (await self.ports_of([uuid])).get(uuid, []):
            groups = list(port.get("security_groups") or [])
            if change == "add" and group_id not in groups:
                groups.append(group_id)
            elif change == "remove" and group_id in groups:
                groups.remove(group_id)
            else:
                continue
            await self.net.update_port(caller, port["id"], {"security_groups": groups})

    async def port_status(self, port_id: str) -> str | None:
        """The port's status once its host has plugged it (its binding names the tap)."""
        vifs = await self.net.vifs(port_ids=[port_id])
        if not vifs:
            return None
        return str(vifs[0]["status"]) if vifs[0]["devname"] else "DOWN"

    async def vifs_of(self, uuid: str) -> list[dict[str, Any]]:
        """The server's ports as its guest's NICs plug them, oldest first (``id``,
        ``mac_address``, ``devname``, ``mtu``): one query, on every boot's path."""
        return await self.net.vifs(device_id=uuid)

    async def devname(self, port_id: str) -> str:
        port = await self._show("ports", ADMIN, port_id)
        if port is None:
            raise errors.NotFound(f"Port {port_id} could not be found.")
        return devname(port)


def devname(port: dict[str, Any]) -> str:
    """The tap a guest's NIC plugs into: what the port's binding says (its host's network
    agent made it), as Nova reads ``vif.devname``."""
    name = (port.get("binding:vif_details") or {}).get("devname")
    if not name:
        raise errors.Conflict(f"Port {port['id']} is not plugged on its host yet.")
    return str(name)


def plugged_tap(vif: dict[str, Any]) -> str:
    """``devname`` of one of ``vifs_of``: the tap its host's network agent made."""
    if not vif.get("devname"):
        raise errors.Conflict(f"Port {vif['id']} is not plugged on its host yet.")
    return str(vif["devname"])


def addresses(ports: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Nova's ``addresses``: per network name, fixed then floating addresses."""
    out: dict[str, list[dict[str, Any]]] = {}
    for port in ports:
        entries = out.setdefault(port["network_name"], [])
        for ip in port.get("fixed_ips") or []:
            addr = ip["ip_address"]
            entries.append(
                {
                    "version": ipaddress.ip_address(addr).version,
                    "addr": addr,
                    "OS-EXT-IPS:type": "fixed",
                    "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
                }
            )
        for fip in port.get("floating_ips") or []:
            addr = fip["floating_ip_address"]
            entries.append(
                {
                    "version": ipaddress.ip_address(addr).version,
                    "addr": addr,
                    "OS-EXT-IPS:type": "floating",
                    "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
                }
            )
    return out
