"""Shelve and unshelve. A shelved server is always offloaded at once (Nova with
``shelved_offload_time = 0``): its disk becomes an image, its guest and claims go, its ports stay
(unbound). Unshelve places it again, as a boot does, and spawns it from that image."""

from __future__ import annotations

from sqlalchemy import select

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.logging import get_logger
from onestack.compute import models, states
from onestack.compute.scheduler_glue import place, release
from onestack.compute.service.base import ComputeContext, compute_topic
from onestack.compute.service.block_devices import refuse_image_of_volume_backed
from onestack.compute.service.networking import Networking
from onestack.compute.service.records import fault, get_row, record_event, start_action, touch
from onestack.compute.service.servers import check_lock, check_state

log = get_logger(__name__)

SHELVABLE = (states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED)


class Shelve:
    def __init__(self, context: ComputeContext, networking: Networking) -> None:
        self.context = context
        self.networking = networking

    async def shelve(self, ctx: RequestContext, uuid: str) -> None:
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid)
            check_lock(ctx, row)
            check_state(row, "shelve", SHELVABLE)
        await refuse_image_of_volume_backed(self.context, uuid, "shelve")
        image_id: str = await self.context.image.create_queued_image(
            name=f"{row.display_name}-shelved",
            owner=row.project_id,
            disk_format="qcow2",
            properties={
                "image_type": "snapshot",
                "instance_uuid": uuid,
                "base_image_ref": row.image_ref,
            },
        )
        try:
            async with self.context.db.session() as s:
                row = await get_row(s, ctx, uuid, lock=True)
                check_state(row, "shelve", SHELVABLE)
                row.task_state = states.SHELVING
                row.request = {**row.request, "shelved_image_id": image_id}
                touch(row)
                await start_action(s, ctx, row, "shelve")
        except BaseException:
            await self.context.image.delete_image(image_id)
            raise
        await self.context.bus.cast(
            compute_topic(row.host or ""), "shelve", {"uuid": uuid, "image_id": image_id}
        )

    async def shelve_offload(self, ctx: RequestContext, uuid: str) -> None:
        """Shelved servers are offloaded at once: only a shelved one (none stays) may be
        offloaded again, a no-op; 409 for any other."""
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid)
        if row.vm_state != states.SHELVED:
            raise errors.Conflict(
                f"Cannot 'shelveOffload' instance {uuid} while it is in vm_state {row.vm_state}"
            )

    async def offloaded(self, uuid: str) -> None:
        """The agent has written the image and removed the guest: give back the host."""
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Instance).where(models.Instance.uuid == uuid))
            if row is None:
                return
            info = list(row.network_info)
            row.vm_state = states.SHELVED_OFFLOADED
            row.task_state = None
            row.power_state = 4
            row.host = None
            row.node = None
            touch(row)
        for nic in info:
            await self.networking.net.bind_port(
                nic["port_id"], host="", device_id=uuid, device_owner="compute:nova"
            )
        await release(self.context, uuid)

    async def unshelve(self, ctx: RequestContext, uuid: str) -> None:
        async with self.context.db.session() as s:
            row = await get_row(s, ctx, uuid, lock=True)
            check_lock(ctx, row)
            check_state(row, "unshelve", (states.SHELVED, states.SHELVED_OFFLOADED))
            row.task_state = states.UNSHELVING
            touch(row)
            await start_action(s, ctx, row, "unshelve")
        self.context.runtime.spawn(self._unshelve(uuid), f"unshelve {uuid}")

    async def _unshelve(self, uuid: str) -> None:
        row = None
        try:
            async with self.context.db.session() as s:
                row = await get_row(s, None, uuid)
            placement = await place(self.context, row, [])
            async with self.context.db.session() as s:
                row = await get_row(s, None, uuid)
                row.host = placement.host
                row.node = placement.hypervisor_hostname
                touch(row)
            await self.networking.rebind(row.network_info, placement.host, uuid)
            await self.context.bus.call(
                compute_topic(placement.host), "unshelve", {"uuid": uuid}, timeout=900
            )
        except Exception as exc:
            log.warning("server %s: unshelve failed: %s", uuid, exc)
            await release(self.context, uuid)
            async with self.context.db.session() as s:
                found = await s.scalar(select(models.Instance).where(models.Instance.uuid == uuid))
                if found is not None:
                    found.task_state = None
                    found.host = found.node = None
                    found.fault = fault(getattr(exc, "message", str(exc)))
                    touch(found)
                    await record_event(s, uuid, "compute_unshelve_instance", None, str(exc))

    async def unshelved(self, uuid: str) -> None:
        """The guest runs again: forget the shelved image."""
        async with self.context.db.session() as s:
            row = await s.scalar(select(models.Instance).where(models.Instance.uuid == uuid))
            if row is None:
                return
            image_id = row.request.get("shelved_image_id")
            row.request = {k: v for k, v in row.request.items() if k != "shelved_image_id"}
        if image_id:
            await self.forget_image(image_id)

    async def forget_image(self, image_id: str) -> None:
        """Delete a shelved server's image (it is unshelved or deleted)."""
        try:
            await self.context.image.delete_image(image_id)
        except errors.OneStackError as exc:
            log.warning("cannot delete the shelved image %s: %s", image_id, exc.message)
