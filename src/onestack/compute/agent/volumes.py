"""Hot-plugging a volume's file into a guest and out again (the block storage service says
where the file is; ``service/volumes.py`` keeps the attachments)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from onestack.common.agent import handler
from onestack.common.logging import get_logger
from onestack.compute.agent.base import AgentBase
from onestack.compute.drivers.base import Volume, VolumeHotplug

log = get_logger(__name__)


class VolumeHandlers(AgentBase):
    # A failed attach or detach reaches the API request that asked for it.
    @handler("compute_attach_volume", record=False)
    async def attach_volume(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        vol = Volume(
            volume_id=payload["volume_id"],
            path=Path(payload["path"]),
            format=payload.get("format", "raw"),
            serial=payload["volume_id"],
            device=payload.get("device", ""),
            qos=tuple(sorted((str(k), str(v)) for k, v in payload.get("qos", {}).items())),
        )
        await self.part(VolumeHotplug).attach_volume(payload["uuid"], vol)
        return None

    @handler("compute_detach_volume", record=False)
    async def detach_volume(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        await self.part(VolumeHotplug).detach_volume(payload["uuid"], payload["volume_id"])
        return None

    async def volume_event(self, event_type: str, payload: dict[str, Any]) -> None:
        """The block storage service's notifications: an attached volume that grew (3.42)
        grows in the guests of this host that have it."""
        if event_type != "volume.resize.attached":
            return
        backend = self.svc.context.volume
        for uuid in payload.get("servers", []):
            row = await self.row(uuid)
            if row is None or row.host != self.host or backend is None:
                continue
            try:
                await self.part(VolumeHotplug).extend_volume(
                    uuid, payload["volume_id"], int(payload["size_gb"]) * 1024**3
                )
            except Exception as exc:
                log.warning(
                    "server %s: growing volume %s failed: %s", uuid, payload["volume_id"], exc
                )
                await backend.extended(payload["volume_id"], ok=False)
                continue
            await backend.extended(payload["volume_id"], ok=True)
