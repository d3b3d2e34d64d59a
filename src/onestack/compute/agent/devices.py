"""A guest's consoles and diagnostics (reads that never wait for an operation under way), and
hot-plugging its network interfaces."""

from __future__ import annotations

from typing import Any

from onestack.common.agent import handler
from onestack.compute.agent.base import AgentBase
from onestack.compute.drivers.base import NIC, Consoles, Diagnostics, InterfaceHotplug


class DeviceHandlers(AgentBase):
    async def console_output(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        length = payload.get("length")
        text = await self.part(Consoles).console_output(payload["uuid"])
        if length is not None:
            # Nova's tail: the last ``length`` pieces of the log split on newlines, so a log
            # that ends with one yields length - 1 lines and an empty last piece.
            text = "\n".join(text.split("\n")[-length:]) if length > 0 else ""
        return {"output": text}

    async def console_socket(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        consoles = self.part(Consoles)
        if payload.get("kind") == "serial":
            path = await consoles.serial_socket(payload["uuid"])
        else:
            path = await consoles.vnc_socket(payload["uuid"])
        return {"path": str(path)}

    async def diagnostics(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        return await self.part(Diagnostics).diagnostics(payload["uuid"])

    # A failed attach or detach reaches the API request that asked for it.
    @handler("compute_attach_interface", record=False)
    async def attach_interface(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        await self.wait_ports([{"port_id": payload["port_id"]}])
        nic = NIC(
            port_id=payload["port_id"],
            mac_address=payload["mac_address"],
            tap=await self.svc.networking.devname(payload["port_id"]),
            mtu=int(payload.get("mtu") or 1500),
        )
        await self.part(InterfaceHotplug).attach_interface(payload["uuid"], nic)
        return None

    @handler("compute_detach_interface", record=False)
    async def detach_interface(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        await self.part(InterfaceHotplug).detach_interface(payload["uuid"], payload["port_id"])
        return None
