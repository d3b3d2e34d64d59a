"""What the image API's handlers do, for another service acting as a user (orchestration's
``OS::Glance::WebImage``): create, import, update, show and delete under Glance's policy
rules for that user, the bodies checked as the API checks them."""

from __future__ import annotations

from typing import Any

from onestack.common import errors
from onestack.common.context import RequestContext
from onestack.common.policy import Enforcer
from onestack.image import schemas
from onestack.image.service.data import ImageData
from onestack.image.service.images import Images, PatchOp
from onestack.image.service.records import ImageRecord
from onestack.image.views import image_view


class AsCaller:
    images: Images
    data: ImageData
    enforcer: Enforcer | None

    def _enforce(self, ctx: RequestContext, rule: str, target: dict[str, Any]) -> None:
        if self.enforcer is not None:
            self.enforcer.enforce(ctx, rule, target)

    def _visibility(self, ctx: RequestContext, visibility: Any, target: dict[str, Any]) -> None:
        if visibility == "public":
            self._enforce(ctx, "publicize_image", target)
        elif visibility == "community":
            self._enforce(ctx, "communitize_image", target)

    async def _visible(self, ctx: RequestContext, image_id: str, rule: str) -> ImageRecord:
        rec = await self.images.get(ctx, image_id)
        member = ctx.project_id if rec.caller_is_member else None
        self._enforce(ctx, rule, rec.policy_target(member))
        return rec

    async def create_image_as(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        core, props = schemas.parse_create(body)
        owner = core.get("owner", ctx.project_id)
        target = {"project_id": owner, "owner": owner, "visibility": core.get("visibility")}
        self._enforce(ctx, "add_image", target)
        if owner != ctx.project_id and not ctx.is_admin:
            raise errors.Forbidden(f"You are not permitted to create images owned by '{owner}'.")
        self._visibility(ctx, core.get("visibility"), target)
        return image_view(await self.images.create(ctx, core, props))

    async def import_image_as(
        self, ctx: RequestContext, image_id: str, method: str, uri: str | None = None
    ) -> None:
        rec = await self._visible(ctx, image_id, "modify_image")
        request: dict[str, Any] = {"method": {"name": method}}
        if uri is not None:
            request["method"]["uri"] = uri
        await self.data.import_image(ctx, rec.id, method, None, request)

    async def update_image_as(
        self, ctx: RequestContext, image_id: str, values: dict[str, Any], remove: list[str]
    ) -> dict[str, Any]:
        rec = await self._visible(ctx, image_id, "modify_image")
        ops = [PatchOp("remove", name) for name in remove if name in rec.properties]
        for name, value in values.items():
            schemas.check_settable(name)
            if name in schemas.CORE:
                value = schemas.check_core(name, value)
            else:
                value = schemas.check_property(name, value)
            if name == "visibility":
                self._visibility(ctx, value, rec.policy_target())
            if name == "owner" and value != rec.owner and not ctx.is_admin:
                raise errors.Forbidden("Only an admin can change the owner of an image.")
            ops.append(PatchOp("add" if name not in schemas.CORE else "replace", name, value))
        return image_view(await self.images.update(ctx, rec.id, ops))

    async def show_image_as(self, ctx: RequestContext, image_id: str) -> dict[str, Any]:
        return image_view(await self._visible(ctx, image_id, "get_image"))
