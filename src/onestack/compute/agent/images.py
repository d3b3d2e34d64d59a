"""A guest's disk written to an image: snapshots and backups (with their rotation), and
shelving, which offloads the guest after."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from onestack.common import errors
from onestack.common.agent import handler
from onestack.common.logging import get_logger
from onestack.compute import states
from onestack.compute.agent.base import AgentBase, instances_dir
from onestack.compute.drivers.base import Snapshots

log = get_logger(__name__)


def work_dir(instances: Path) -> tempfile.TemporaryDirectory[str]:
    """A scratch directory beside the guests' (same file system: the image moves cheaply).
    Its name starts with "_": the driver takes any other directory there for a guest's, and
    the power sync wiped one as an orphan guest's in the middle of a long snapshot."""
    return tempfile.TemporaryDirectory(prefix="_", dir=instances)


class ImageHandlers(AgentBase):
    @handler("compute_snapshot_instance")
    async def snapshot(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid, image_id = payload["uuid"], payload["image_id"]
        image = self.svc.context.image
        try:
            with work_dir(instances_dir(self.runtime)) as tmp:
                target = Path(tmp) / "snapshot"
                await self.finish(
                    uuid, "compute_snapshot_instance_start", task_state=states.IMAGE_UPLOADING
                )
                fmt = await self.part(Snapshots).snapshot(uuid, target)
                await image.upload_local_file(image_id, target, fmt)
            if backup := payload.get("backup"):
                await self._rotate_backups(uuid, backup["type"], backup["rotation"])
        except Exception:
            try:
                await image.delete_image(image_id)
            except Exception:
                log.warning("could not delete the failed snapshot image %s", image_id)
            raise
        await self.finish(uuid, "compute_snapshot_instance", task_state=None)
        return None

    async def _rotate_backups(self, uuid: str, backup_type: str, rotation: int) -> None:
        """Delete the server's oldest backups of ``backup_type`` beyond ``rotation`` (the new
        one counts: a rotation of 0 keeps none), as Nova's ``_rotate_backups`` does."""
        row = await self.row(uuid)
        if row is None:
            return
        image = self.svc.context.image
        wanted = {"image_type": "backup", "backup_type": backup_type, "instance_uuid": uuid}
        backups = await image.owned_with_properties(row.project_id, wanted)
        for image_id in backups[rotation:]:
            try:
                await image.delete_image(image_id)
            except errors.OneStackError as exc:
                log.warning("server %s: cannot rotate out backup %s: %s", uuid, image_id, exc)

    @handler("compute_shelve_instance")
    async def shelve(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        uuid, image_id = payload["uuid"], payload["image_id"]
        await self.driver.power_off(uuid, self.runtime.settings.compute.shutdown_timeout)
        with work_dir(instances_dir(self.runtime)) as tmp:
            target = Path(tmp) / "shelved"
            fmt = await self.part(Snapshots).snapshot(uuid, target)
            await self.svc.context.image.upload_local_file(image_id, target, fmt)
        await self.driver.destroy(uuid)
        await self.event(uuid, "compute_shelve_offload_instance")
        await self.svc.shelve.offloaded(uuid)
        return None
