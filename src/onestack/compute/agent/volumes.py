"""Hot-plugging a volume's file into a guest and out again (the block storage service says
where the file is; ``service/volumes.py`` keeps the attachments)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from onestack.common.agent import handler
from onestack.compute.agent.base import AgentBase
from onestack.compute.drivers.base import Volume, VolumeHotplug


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
        )
        await self.part(VolumeHotplug).attach_volume(payload["uuid"], vol)
        return None

    @handler("compute_detach_volume", record=False)
    async def detach_volume(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        await self.part(VolumeHotplug).detach_volume(payload["uuid"], payload["volume_id"])
        return None
