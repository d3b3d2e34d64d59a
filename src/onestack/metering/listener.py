"""Collection on the metering side (Ceilometer's notification agent and central pollster):
samples the hosts' pollsters publish, the services' notifications that create, update and
end resources (servers, images, volumes), and what is polled from the services' facades:
the network's resources, and each project's object-storage account."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from onestack.common.agent import Periodic
from onestack.common.logging import get_logger
from onestack.compute.facade import COMPUTE_NOTIFICATIONS, SAMPLES_TOPIC, ComputeAPI
from onestack.identity.facade import IdentityAPI
from onestack.image.facade import IMAGE_NOTIFICATIONS, ImageAPI
from onestack.metering.facade import Sample
from onestack.metering.publisher import Publisher
from onestack.network.facade import ADMIN, METER_TOPIC, NetworkAPI
from onestack.object.facade import ObjectAPI
from onestack.volume.facade import VOLUME_NOTIFICATIONS, VolumeAPI

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime

log = get_logger(__name__)
ENDS = ("delete", "shelve_offload")
# (Neutron collection, meter, resource type) polled from the network service.
NETWORK_METERS = (
    ("networks", "network", "network"),
    ("ports", "port", "port"),
    ("floatingips", "ip.floating", "floatingip"),
    ("routers", "router", "router"),
)
# Ceilometer's swift pollsters: (meter, unit, index in ObjectAPI.account_usage).
ACCOUNT_METERS = (
    ("storage.objects.containers", "container", 0),
    ("storage.objects", "object", 1),
    ("storage.objects.size", "B", 2),
)


class CentralPolling(Periodic):
    """The metering service's own periodic tasks (the network poll)."""


def sample_of(raw: Mapping[str, Any]) -> Sample:
    return Sample(
        resource_id=str(raw["resource_id"]),
        resource_type=str(raw.get("resource_type", "generic")),
        name=str(raw["name"]),
        unit=str(raw.get("unit", "")),
        value=float(raw["volume"]),
        timestamp=float(raw.get("timestamp", time.time())),
        project_id=raw.get("project_id"),
        user_id=raw.get("user_id"),
        attributes=dict(raw.get("resource_metadata", {})),
        cumulative=raw.get("type") == "cumulative",
    )


def carried(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """The volume as a notification that carries it (Cinder's payload fields) states it, in
    the volume facade's terms; None when it only names the volume."""
    if "size" not in payload or "volume_attachment" not in payload:
        return None
    servers = [a.get("server_id") or a.get("instance_uuid") for a in payload["volume_attachment"]]
    return {
        "id": payload["volume_id"],
        "name": payload.get("display_name"),
        "volume_type": payload.get("volume_type"),
        "image_id": payload.get("image_id"),
        "instance_id": servers[0] if servers else None,
        "project_id": payload.get("tenant_id"),
        "user_id": payload.get("user_id"),
        "size": payload["size"],
    }


class Listener:
    def __init__(self, runtime: Runtime, publisher: Publisher) -> None:
        self.runtime = runtime
        self.publisher = publisher
        self.network_seen: dict[str, set[str]] = {}

    def subscribe(self) -> None:
        bus = self.runtime.bus
        bus.subscribe(SAMPLES_TOPIC, self.on_samples)
        bus.subscribe(COMPUTE_NOTIFICATIONS, self.on_compute)
        bus.subscribe(IMAGE_NOTIFICATIONS, self.on_image)
        bus.subscribe(VOLUME_NOTIFICATIONS, self.on_volume)
        bus.subscribe(METER_TOPIC, self.on_network)

    async def on_samples(self, _event: str, payload: dict[str, Any]) -> None:
        samples = []
        for raw in payload.get("samples", []):
            try:
                samples.append(sample_of(raw))
            except (KeyError, TypeError, ValueError):
                log.warning("metering: malformed sample dropped: %r", raw)
        await self.publisher.publish(samples)

    async def on_compute(self, event: str, payload: dict[str, Any]) -> None:
        """``compute.instance.<what>.end``: the instance resource follows the server."""
        parts = event.split(".")
        what = parts[2] if len(parts) > 3 else ""
        server_id = payload.get("instance_id")
        if not server_id:
            return
        if what in ENDS:
            await self.publisher.end_resource(str(server_id), time.time())
            return
        compute = self.runtime.optional(ComputeAPI)
        if compute is None:
            return
        try:
            info = await compute.get_server(None, str(server_id))
        except Exception:  # gone meanwhile
            return
        attrs = {
            "display_name": info.name,
            "host": info.host or "",
            "flavor_name": info.flavor_name,
            "flavor_id": str(payload.get("instance_type_id") or info.flavor_id or info.flavor_name),
            "image_ref": info.image_id or None,
        }
        # A boot's: made at once (a boot storm's notifications each read it first, #19).
        await self.publisher.ensure_resource(
            "instance", info.id, info.project_id, info.user_id, attrs, new=what == "create"
        )

    async def on_image(self, event: str, payload: dict[str, Any]) -> None:
        image_id = payload.get("id")
        images = self.runtime.optional(ImageAPI)
        if not image_id or images is None:
            return
        if event == "image.delete":
            await self.publisher.end_resource(str(image_id), time.time())
            return
        try:
            rec = await images.get_image(None, str(image_id))
        except Exception:
            return
        attrs = {
            "name": rec.name or "",
            "container_format": rec.container_format or "",
            "disk_format": rec.disk_format or "",
        }
        await self.publisher.publish(
            [
                Sample(
                    rec.id,
                    "image",
                    "image.size",
                    "B",
                    float(rec.size or 0),
                    time.time(),
                    rec.owner,
                    None,
                    attrs,
                )
            ]
        )

    async def on_volume(self, event: str, payload: dict[str, Any]) -> None:
        """``volume.<what>.end``: the volume resource follows the volume (name, type, the
        server it is attached to) with a ``volume.size`` gauge in GB; a delete ends it."""
        volume_id = payload.get("volume_id")
        volumes = self.runtime.optional(VolumeAPI)
        if not volume_id or volumes is None:
            return
        if event == "volume.delete.end":
            await self.publisher.end_resource(str(volume_id), time.time())
            return
        vol = carried(payload)
        if vol is None:
            try:
                vol = await volumes.get(None, str(volume_id))
            except Exception:  # deleted meanwhile
                return
        attrs = {
            "display_name": vol.get("name") or "",
            "volume_type": vol.get("volume_type"),
            "image_id": vol.get("image_id"),
            "instance_id": vol.get("instance_id"),
        }
        project, user = vol.get("project_id"), vol.get("user_id")
        size = float(vol.get("size") or 0)
        now = time.time()
        # Publishing creates or updates the resource with these attributes.
        await self.publisher.publish(
            [Sample(vol["id"], "volume", "volume.size", "GB", size, now, project, user, attrs)],
            new=event == "volume.create.start",
        )

    async def on_network(self, event: str, payload: dict[str, Any]) -> None:
        """``l3.meter`` from a host's network agent: Ceilometer's ``bandwidth`` meter, the
        bytes a metering label counted since the agent's last report (a delta), on the
        label's resource."""
        if event != "l3.meter":
            return
        try:
            label_id = str(payload["label_id"])
            size = float(payload["bytes"])
        except (KeyError, TypeError, ValueError):
            log.warning("metering: malformed l3.meter dropped: %r", payload)
            return
        when = float(payload.get("last_update") or time.time())
        await self.publisher.publish(
            [
                Sample(
                    label_id,
                    "generic",
                    "bandwidth",
                    "B",
                    size,
                    when,
                    payload.get("tenant_id") or None,
                )
            ]
        )

    async def poll_object_storage(self) -> None:
        """Ceilometer's swift pollsters: each project's account (``AUTH_<project>``), once
        something was written to it, as a ``swift_account`` resource named by the project."""
        objects = self.runtime.optional(ObjectAPI)
        identity = self.runtime.optional(IdentityAPI)
        if objects is None or identity is None:
            return
        now = time.time()
        samples: list[Sample] = []
        for project in await identity.project_ids():
            try:
                usage = await objects.account_usage(f"AUTH_{project}")
            except Exception:
                log.exception("metering: cannot read the account of project %s", project)
                continue
            if usage is None:
                continue
            for meter, unit, index in ACCOUNT_METERS:
                value = float(usage[index])
                samples.append(Sample(project, "swift_account", meter, unit, value, now, project))
        await self.publisher.publish(samples)

    async def poll_network(self) -> None:
        """Ceilometer's central pollster for the network: one gauge per network, port,
        floating IP and router; those gone since the last poll end."""
        network = self.runtime.optional(NetworkAPI)
        if network is None:
            return
        now = time.time()
        samples: list[Sample] = []
        for collection, meter, rtype in NETWORK_METERS:
            try:
                found = await network.find(collection, ADMIN)
            except Exception:
                log.exception("metering: cannot list %s", collection)
                continue
            seen = set()
            for item in found:
                seen.add(str(item["id"]))
                attrs = {"name": item.get("name") or ""} if rtype == "port" else {}
                if rtype == "port":
                    attrs.update(
                        network_id=item.get("network_id"), device_id=item.get("device_id") or ""
                    )
                samples.append(
                    Sample(
                        str(item["id"]),
                        rtype,
                        meter,
                        meter,
                        1.0,
                        now,
                        item.get("project_id") or item.get("tenant_id"),
                        None,
                        attrs,
                    )
                )
            for gone in self.network_seen.get(collection, set()) - seen:
                await self.publisher.end_resource(gone, now)
            self.network_seen[collection] = seen
        await self.publisher.publish(samples)
