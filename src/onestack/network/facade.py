"""What other services may ask of the network service: ``runtime.service(NetworkAPI)``.

Resources come back as the dictionaries the Neutron API shows (``"binding:vif_details"`` and
all). A port bound to a host carries in ``binding:vif_details`` what a hypervisor needs to
plug it: ``devname``, the tap device the host's network agent bridges (Nova's ``vif.devname``);
compute never needs to know the network's drivers. Port status changes are published on
``PORT_STATUS_TOPIC`` (Nova's ``network-vif-plugged``): ``{"ports": {port_id: status}}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from onestack.network.service import ADMIN, PORT_STATUS_TOPIC, Caller, ListQuery, NetworkService

__all__ = ["ADMIN", "PORT_STATUS_TOPIC", "Caller", "NetworkAPI", "NetworkFacade"]


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

    async def create_port(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]: ...

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

    async def create_port(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        row = await self._svc.run(self._svc.ports.create, caller, body)
        return await self._svc.render("ports", caller, row)

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
