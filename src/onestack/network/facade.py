"""What other services may ask of the network service: ``runtime.service(NetworkAPI)``.

Resources come back as the dictionaries the Neutron API shows (``"binding:vif_details"`` and
all). A port bound to a host carries in ``binding:vif_details`` what a hypervisor needs to
plug it: ``devname``, the tap device the host's network agent bridges (Nova's ``vif.devname``);
compute never needs to know the network's drivers. Port status changes are published on
``PORT_STATUS_TOPIC`` (Nova's ``network-vif-plugged``): ``{"ports": {port_id: status}}``.
The hosts' agents publish the metering labels' traffic on ``METER_TOPIC`` (``l3.meter``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from onestack.network.agent import METER_TOPIC
from onestack.network.api import bodies
from onestack.network.service import ADMIN, PORT_STATUS_TOPIC, Caller, ListQuery, NetworkService

__all__ = ["ADMIN", "METER_TOPIC", "PORT_STATUS_TOPIC", "Caller", "NetworkAPI", "NetworkFacade"]


class NetworkAPI(Protocol):
    async def show(self, collection: str, caller: Caller, ident: str) -> dict[str, Any]:
        """One resource of ``collection`` ("networks", "ports", "security-groups", ...) as
        ``caller`` may see it; the network's 404 otherwise."""
        ...

    async def find(
        self, collection: str, caller: Caller, **filters: list[str]
    ) -> list[dict[str, Any]]:
        """Every resource of ``collection`` ``caller`` may see matching Neutron's filters
        (each a list of accepted values, e.g. ``device_id=[...]``)."""
        ...

    async def create(self, collection: str, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        """Create a "security-groups", "security-group-rules" or "floatingips" resource as
        ``caller`` (what Nova's proxies below 2.36 write), shown as Neutron shows it."""
        ...

    async def update(
        self, collection: str, caller: Caller, ident: str, changes: dict[str, Any]
    ) -> dict[str, Any]: ...

    async def delete(self, collection: str, caller: Caller, ident: str) -> None: ...

    async def create_port(self, caller: Caller, body: dict[str, Any]) -> str:
        """A new port (Nova's port create on boot): its id. Not the API's view of it, which
        costs several queries on every boot's path while the host's agent plugs the port."""
        ...

    async def update_port(
        self, caller: Caller, port_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]: ...

    async def delete_port(self, caller: Caller, port_id: str, *, internal: bool = False) -> None:
        """Delete a port; ``internal`` allows ports a device owns (compute's own)."""
        ...

    async def bind_port(
        self, port_id: str, *, host: str, device_id: str, device_owner: str
    ) -> dict[str, Any]:
        """Plug a port into a host for a device (Nova's port update on boot)."""
        ...

    async def unbind_port(self, port_id: str) -> None: ...

    async def device_addresses(self, device_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Per device, its ports' addresses (what a server list shows), in two queries."""
        ...

    async def vifs(
        self, *, device_id: str | None = None, port_ids: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """What a hypervisor plugs of the ports of ``device_id`` (or ``port_ids``), oldest
        first: ``{"id", "status", "mac_address", "devname", "mtu"}`` (``devname`` None until
        the port's host has plugged it)."""
        ...

    async def find_tagged(self, collection: str, caller: Caller, tag: str) -> list[str]:
        """The ids of ``collection``'s resources ``caller`` sees that carry ``tag``."""
        ...

    async def create_resource(
        self, collection: str, caller: Caller, body: dict[str, Any]
    ) -> dict[str, Any]:
        """Create one resource of ``collection`` ("networks", "subnets", "ports", "routers",
        "security-groups", "security-group-rules", "floatingips") from a body in the Neutron
        API's vocabulary, checked as the API checks it (orchestration's resources)."""
        ...

    async def update_resource(
        self, collection: str, caller: Caller, ident: str, changes: dict[str, Any]
    ) -> dict[str, Any]: ...

    async def delete_resource(self, collection: str, caller: Caller, ident: str) -> None: ...

    async def router_interface(
        self, caller: Caller, router_id: str, body: dict[str, Any], *, add: bool
    ) -> dict[str, Any]:
        """Add (``add``) or remove a router's interface on ``{"subnet_id"}`` or
        ``{"port_id"}``, as ``PUT /routers/{id}/add_router_interface`` does."""
        ...

    async def auto_allocated_network(self, project_id: str) -> str:
        """The id of ``project_id``'s auto-allocated network (Neutron's get-me-a-network),
        built on the first call; the network's 409 ``AutoAllocationFailure`` when the cloud
        has no default external network or default subnet pool."""
        ...


class NetworkFacade:
    """``NetworkAPI`` over the network service layer."""

    def __init__(self, svc: NetworkService) -> None:
        self._svc = svc

    async def show(self, collection: str, caller: Caller, ident: str) -> dict[str, Any]:
        return await self._svc.show(collection, caller, ident)

    async def find(
        self, collection: str, caller: Caller, **filters: list[str]
    ) -> list[dict[str, Any]]:
        rows, _page = await self._svc.list_page(collection, caller, ListQuery(filters=filters))
        return rows

    def _writer(self, collection: str, which: int) -> Any:
        sg, fip = self._svc.security_groups, self._svc.floating_ips
        writers: dict[str, tuple[Any, Any, Any]] = {
            "security-groups": (sg.create, sg.update, sg.delete),
            "security-group-rules": (sg.create_rule, None, sg.delete_rule),
            "floatingips": (fip.create, fip.update, fip.delete),
        }
        fn = writers[collection][which]
        if fn is None:
            raise KeyError(collection)
        return fn

    async def create(self, collection: str, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        row = await self._svc.run(self._writer(collection, 0), caller, body)
        return await self._svc.render(collection, caller, row)

    async def update(
        self, collection: str, caller: Caller, ident: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        row = await self._svc.run(self._writer(collection, 1), caller, ident, changes)
        return await self._svc.render(collection, caller, row)

    async def delete(self, collection: str, caller: Caller, ident: str) -> None:
        await self._writer(collection, 2)(caller, ident)

    async def create_port(self, caller: Caller, body: dict[str, Any]) -> str:
        row = await self._svc.run(self._svc.ports.create, caller, body)
        return str(row.id)

    async def update_port(
        self, caller: Caller, port_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        row = await self._svc.run(self._svc.ports.update, caller, port_id, changes)
        return await self._svc.render("ports", caller, row)

    async def delete_port(self, caller: Caller, port_id: str, *, internal: bool = False) -> None:
        await self._svc.ports.delete(caller, port_id, internal=internal)

    async def bind_port(
        self, port_id: str, *, host: str, device_id: str, device_owner: str
    ) -> dict[str, Any]:
        return await self._svc.bind_port(
            port_id, host=host, device_id=device_id, device_owner=device_owner
        )

    async def unbind_port(self, port_id: str) -> None:
        await self._svc.unbind_port(port_id)

    async def device_addresses(self, device_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        return await self._svc.device_addresses(device_ids)

    async def auto_allocated_network(self, project_id: str) -> str:
        return await self._svc.auto_allocation.get(project_id)

    async def vifs(
        self, *, device_id: str | None = None, port_ids: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        return await self._svc.vifs(device_id=device_id, port_ids=port_ids)

    async def find_tagged(self, collection: str, caller: Caller, tag: str) -> list[str]:
        rows, _page = await self._svc.list_page(collection, caller, ListQuery(tags=(tag,)))
        return [str(r["id"]) for r in rows]

    def _manager(self, collection: str) -> tuple[str, Any]:
        """(the API's member name, the service's manager) of ``collection``."""
        svc = self._svc
        found: dict[str, tuple[str, Any]] = {
            "networks": ("network", svc.networks),
            "subnets": ("subnet", svc.subnets),
            "ports": ("port", svc.ports),
            "routers": ("router", svc.routers),
            "security-groups": ("security_group", svc.security_groups),
            "floatingips": ("floatingip", svc.floating_ips),
        }
        return found[collection]

    async def create_resource(
        self, collection: str, caller: Caller, body: dict[str, Any]
    ) -> dict[str, Any]:
        if collection == "security-group-rules":
            values, _ = bodies.parse("security_group_rule", body, creating=True)
            row = await self._svc.run(self._svc.security_groups.create_rule, caller, values)
            return await self._svc.render(collection, caller, row)
        member, manager = self._manager(collection)
        values, _ = bodies.parse(member, body, creating=True)
        row = await self._svc.run(manager.create, caller, values)
        return await self._svc.render(collection, caller, row)

    async def update_resource(
        self, collection: str, caller: Caller, ident: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        member, manager = self._manager(collection)
        values, _ = bodies.parse(member, changes, creating=False)
        row = await self._svc.run(manager.update, caller, ident, values)
        return await self._svc.render(collection, caller, row)

    async def delete_resource(self, collection: str, caller: Caller, ident: str) -> None:
        if collection == "security-group-rules":
            await self._svc.security_groups.delete_rule(caller, ident)
            return
        await self._manager(collection)[1].delete(caller, ident)

    async def router_interface(
        self, caller: Caller, router_id: str, body: dict[str, Any], *, add: bool
    ) -> dict[str, Any]:
        routers = self._svc.routers
        fn = routers.add_interface if add else routers.remove_interface
        result: dict[str, Any] = await self._svc.run(fn, caller, router_id, body)
        return result
