"""Swift's container type, through the object service's ``ContainersAPI``, in the stack
owner's account."""

from __future__ import annotations

from typing import Any

from onestack.object.facade import ContainersAPI
from onestack.orchestration.resources.base import Context, Created, Plugin, Prop


def _account(c: Context) -> str:
    return f"AUTH_{c.ctx.project_id}"


class Container(Plugin):
    type_name = "OS::Swift::Container"
    description = "A resource for managing Swift containers."
    properties = {
        "name": Prop("string", description="Name for the container."),
        "X-Container-Read": Prop("string", description="Who may read the container."),
        "X-Container-Write": Prop("string", description="Who may write the container."),
        "X-Container-Meta": Prop("map", default={}, description="Container metadata."),
        "X-Account-Meta": Prop("map", default={}, description="Account metadata (unused)."),
        "PurgeOnDelete": Prop("boolean", default=False, description="Delete its objects too."),
    }
    attributes = {
        "DomainName": "The host from the container URL.",
        "WebsiteURL": "The URL of the container.",
        "RootURL": "The parent URL of the container.",
        "ObjectCount": "The number of objects stored in the container.",
        "BytesUsed": "The number of bytes stored in the container.",
        "HeadContainer": "A map containing all headers for the container.",
    }

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        name = props.get("name") or f"{c.stack_name}-{c.resource_name}"
        meta = {f"X-Container-Meta-{k}": str(v) for k, v in props["X-Container-Meta"].items()}
        for key in ("X-Container-Read", "X-Container-Write"):
            if props.get(key):
                meta[key] = str(props[key])
        await c.runtime.service(ContainersAPI).create_container(_account(c), name, meta)
        return Created(name, self._urls(c, name, 0, 0), {"purge": bool(props["PurgeOnDelete"])})

    def _urls(self, c: Context, name: str, count: int, used: int) -> dict[str, Any]:
        root = f"{c.runtime.public_url}/object/v1/{_account(c)}"
        return {
            "DomainName": c.runtime.public_url.split("://", 1)[-1].split("/")[0].split(":")[0],
            "WebsiteURL": f"{root}/{name}",
            "RootURL": f"{root}/",
            "ObjectCount": count,
            "BytesUsed": used,
            "HeadContainer": {"x-container-object-count": count, "x-container-bytes-used": used},
        }

    async def refresh(
        self, c: Context, physical_id: str, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        usage = await c.runtime.service(ContainersAPI).container_usage(_account(c), physical_id)
        return None if usage is None else self._urls(c, physical_id, *usage)

    async def delete(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        await c.runtime.service(ContainersAPI).delete_container(
            _account(c), physical_id, purge=bool(data.get("purge"))
        )


PLUGINS: tuple[type[Plugin], ...] = (Container,)
