"""Response bodies as Cinder shapes them, per microversion and per caller (admins see the
host and migration attributes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from onestack.common.microversion import APIVersion
from onestack.volume.models import Attachment, Message, Pool, Snapshot, Volume, VolumeType
from onestack.volume.service.volumes import ListedVolume, Loaded

V = APIVersion


def iso(value: datetime | None) -> str | None:
    """Cinder's timestamps: ``2024-01-02T03:04:05.000000``."""
    if value is None:
        return None
    # The first 26 characters drop an aware value's offset without a replace() (a new
    # datetime for each of a list's 2,000 timestamps).
    return value.isoformat(timespec="microseconds")[:26]


class Views:
    """Renders for one request: its base URL, project, version and whether admin."""

    def __init__(
        self, base: str, project_id: str, version: APIVersion, admin: bool,
        can_see_tenant: bool = True,
    ) -> None:  # fmt: skip
        self.base = base  # e.g. http://host:8770/volume
        self.project_id = project_id
        self.version = version
        self.admin = admin
        self.can_see_tenant = can_see_tenant
        # What a volume shows for this version and caller that is the same for every volume,
        # worked out once: a list of 1,000 compared versions 6,000 times.
        v = version
        fixed: dict[str, Any] = {}
        if v >= V(3, 13):
            fixed["group_id"] = None
        if admin and v >= V(3, 21):
            fixed["provider_id"] = None
        if v >= V(3, 48):
            fixed["shared_targets"] = False
            fixed["service_uuid"] = None
        if admin and v >= V(3, 61):
            fixed["cluster_name"] = None
        if v >= V(3, 65):
            fixed["consumes_quota"] = True
        self._volume_fixed = fixed
        self._volume_type_id = v >= V(3, 63)
        # A volume's links differ only in its id: the rest of their URLs once per request.
        self._volume_href = f"{base}/v3/{project_id}/volumes/"
        self._volume_bookmark = f"{base}/{project_id}/volumes/"

    def links(self, collection: str, ident: str) -> list[dict[str, str]]:
        return [
            {"href": f"{self.base}/v3/{self.project_id}/{collection}/{ident}", "rel": "self"},
            {"href": f"{self.base}/{self.project_id}/{collection}/{ident}", "rel": "bookmark"},
        ]

    def attachment_summary(self, a: Attachment) -> dict[str, Any]:
        return {
            "id": a.volume_id,
            "attachment_id": a.id,
            "volume_id": a.volume_id,
            "server_id": a.instance_uuid,
            "host_name": a.attached_host if self.admin else None,
            "device": a.mountpoint,
            "attached_at": iso(a.attach_time),
        }

    def volume(
        self, row: Volume | ListedVolume, loaded: Loaded[Any], *, extended: bool = True
    ) -> dict[str, Any]:
        vtype = loaded.types.get(row.volume_type_id)
        attachments = loaded.attachments.get(row.id)
        body: dict[str, Any] = {
            "id": row.id,
            "status": row.status,
            "size": row.size,
            "availability_zone": row.availability_zone,
            "created_at": iso(row.created_at),
            "updated_at": iso(row.updated_at),
            "name": row.name,
            "description": row.description,
            "volume_type": vtype.name if vtype is not None else row.volume_type_id,
            "snapshot_id": row.snapshot_id,
            "source_volid": row.source_volid,
            "metadata": dict(row.meta),
            "links": [
                {"href": self._volume_href + row.id, "rel": "self"},
                {"href": self._volume_bookmark + row.id, "rel": "bookmark"},
            ],
            "user_id": row.user_id,
            "bootable": "true" if row.bootable else "false",
            "encrypted": False,
            "replication_status": None,
            "consistencygroup_id": None,
            "multiattach": row.multiattach,
            "attachments": [
                self.attachment_summary(a) for a in attachments if a.attach_status == "attached"
            ]
            if attachments
            else [],
        }
        if self.admin:
            body["migration_status"] = row.migration_status
        body.update(self._volume_fixed)
        if self._volume_type_id:
            body["volume_type_id"] = row.volume_type_id
        if extended:
            self._extensions(body, row)
        return body

    def _extensions(self, body: dict[str, Any], row: Volume | ListedVolume) -> None:
        """The attributes Cinder's extensions add to show and list (not to create)."""
        if self.can_see_tenant:
            body["os-vol-tenant-attr:tenant_id"] = row.project_id
        if self.admin:
            body["os-vol-host-attr:host"] = row.host
            body["os-vol-mig-status-attr:migstat"] = row.migration_status
            body["os-vol-mig-status-attr:name_id"] = None
        if row.image_metadata:
            body["volume_image_metadata"] = dict(row.image_metadata)

    def volume_summary(self, row: Volume | ListedVolume) -> dict[str, Any]:
        return {"id": row.id, "name": row.name, "links": self.links("volumes", row.id)}

    def collection_links(
        self, collection: str, rows: list[Any], limit: int | None, query: dict[str, str]
    ) -> list[dict[str, str]]:
        from onestack.common.pagination import next_link

        if not rows or limit is None or len(rows) < limit:
            return []
        url = f"{self.base}/v3/{self.project_id}/{collection}"
        return [{"href": next_link(url, query, rows[-1].id), "rel": "next"}]

    def volume_type(
        self, t: VolumeType, *, specs: bool = True, qos: bool = False
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": t.id,
            "name": t.name,
            "description": t.description,
            "is_public": t.is_public,
            "os-volume-type-access:is_public": t.is_public,
        }
        if specs:
            body["extra_specs"] = dict(t.extra_specs)
        if qos:
            body["qos_specs_id"] = t.qos_specs_id
        return body

    def message(self, m: Message) -> dict[str, Any]:
        return {
            "id": m.id,
            "event_id": m.event_id,
            "user_message": m.user_message,
            "message_level": m.message_level,
            "resource_type": m.resource_type,
            "resource_uuid": m.resource_uuid,
            "created_at": iso(m.created_at),
            "guaranteed_until": iso(m.expires_at),
            "request_id": m.request_id,
            "links": self.links("messages", m.id),
        }

    def pool(self, p: Pool, detail: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"name": p.name}
        if detail:
            body["capabilities"] = {
                "volume_backend_name": p.backend,
                "vendor_name": "OneStack",
                "driver_version": "1.0",
                "storage_protocol": "file" if p.driver != "fake" else "fake",
                "total_capacity_gb": p.total_capacity_gb,
                "free_capacity_gb": p.free_capacity_gb,
                "allocated_capacity_gb": p.allocated_capacity_gb,
                "provisioned_capacity_gb": p.allocated_capacity_gb,
                "reserved_percentage": p.reserved_percentage,
                "max_over_subscription_ratio": p.max_over_subscription_ratio,
                "thin_provisioning_support": p.thin,
                "thick_provisioning_support": not p.thin,
                "multiattach": True,
                "QoS_support": True,
                "updated": iso(p.updated_at),
            }
        return body

    def snapshot(self, row: Snapshot, *, extended: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": row.id,
            "status": row.status,
            "size": row.size,
            "created_at": iso(row.created_at),
            "updated_at": iso(row.updated_at),
            "name": row.name,
            "description": row.description,
            "volume_id": row.volume_id,
            "metadata": dict(row.meta),
        }
        v = self.version
        if v >= V(3, 14):
            body["group_snapshot_id"] = None
        if v >= V(3, 41):
            body["user_id"] = row.user_id
        if v >= V(3, 65):
            body["consumes_quota"] = True
        if extended:
            body["os-extended-snapshot-attributes:progress"] = row.progress
            body["os-extended-snapshot-attributes:project_id"] = row.project_id
        return body
