"""Keystone's resource types (Project, User, Role) through identity's typed facade
(``IdentityAPI``), made as the stack's owner under Keystone's policy; Heat's own policy
(``resource_types:OS::Keystone::*``) keeps them to admins first."""

from __future__ import annotations

import secrets
from typing import Any

from onestack.common import errors
from onestack.identity.facade import IdentityAPI
from onestack.orchestration.resources.base import Context, Created, Plugin, Prop


def admin_only(c: Context, type_name: str) -> None:
    """Heat's ``resource_types:<type>`` rule: a 403 in the resource's event otherwise."""
    c.runtime.enforcer.enforce(
        c.ctx, f"resource_types:{type_name}", {"project_id": c.ctx.project_id}
    )


def default_name(c: Context) -> str:
    return f"{c.stack_name}-{c.resource_name}-{secrets.token_hex(4)}"


class Project(Plugin):
    type_name = "OS::Keystone::Project"
    description = "Heat Template Resource for Keystone Project."
    properties = {
        "name": Prop("string", description="Name of keystone project."),
        "domain": Prop("string", default="default", description="Name or id of keystone domain."),
        "description": Prop("string", default="", description="Description of keystone project."),
        "enabled": Prop(
            "boolean", default=True, description="This project is enabled or disabled."
        ),
        "parent": Prop(
            "string", description="The name or ID of parent of this keystone project in hierarchy."
        ),
        "tags": Prop(
            "list", default=[], description="A list of tags for labeling and sorting projects."
        ),
    }
    attributes = {
        "name": "Project name.",
        "domain_id": "Project domain ID.",
        "enabled": "Flag of enable project.",
        "parent_id": "Project parent ID.",
        "is_domain": "Indicates whether the project also acts as a domain.",
    }

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        admin_only(c, self.type_name)
        name = str(props.get("name") or default_name(c))
        values: dict[str, Any] = {
            "name": name,
            "domain_id": props.get("domain"),
            "description": props.get("description") or "",
            "enabled": bool(props.get("enabled", True)),
            "tags": [str(t) for t in props.get("tags") or []],
        }
        if props.get("parent"):
            values["parent_id"] = str(props["parent"])
        project_id = await c.runtime.service(IdentityAPI).create_project(c.ctx, values)
        return Created(project_id, {"name": name, "domain_id": values["domain_id"],
                                    "enabled": values["enabled"],
                                    "parent_id": values.get("parent_id"),
                                    "is_domain": False})  # fmt: skip

    async def delete(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        await c.runtime.service(IdentityAPI).delete_project(c.ctx, physical_id)


class Role(Plugin):
    type_name = "OS::Keystone::Role"
    description = "Heat Template Resource for Keystone Role."
    properties = {
        "name": Prop("string", description="Name of keystone role."),
        "domain": Prop("string", description="Name or id of keystone domain."),
    }

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        admin_only(c, self.type_name)
        values: dict[str, Any] = {"name": str(props.get("name") or default_name(c))}
        if props.get("domain"):
            values["domain_id"] = str(props["domain"])
        return Created(await c.runtime.service(IdentityAPI).create_role(c.ctx, values))

    async def delete(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        await c.runtime.service(IdentityAPI).delete_role(c.ctx, physical_id)


class User(Plugin):
    type_name = "OS::Keystone::User"
    description = "Heat Template Resource for Keystone User."
    properties = {
        "name": Prop("string", description="Name of keystone user."),
        "domain": Prop("string", default="default", description="Name or ID of keystone domain."),
        "description": Prop("string", default="", description="Description of keystone user."),
        "enabled": Prop(
            "boolean", default=True, description="Keystone user is enabled or disabled."
        ),
        "email": Prop("string", description="Email address of keystone user."),
        "password": Prop("string", description="Password of keystone user."),
        "default_project": Prop(
            "string", description="Name or ID of default project of keystone user."
        ),
        "roles": Prop(
            "list", default=[], description="List of role assignments: maps of role and project."
        ),
    }
    attributes = {
        "name": "User name.",
        "default_project_id": "Default project id for user.",
        "domain_id": "Domain id for user.",
        "enabled": "Flag of enable user.",
    }

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        admin_only(c, self.type_name)
        identity = c.runtime.service(IdentityAPI)
        name = str(props.get("name") or default_name(c))
        values: dict[str, Any] = {
            "name": name,
            "domain_id": props.get("domain"),
            "description": props.get("description") or "",
            "enabled": bool(props.get("enabled", True)),
        }
        for key, prop in (("password", "password"), ("email", "email"),
                          ("default_project_id", "default_project")):  # fmt: skip
            if props.get(prop):
                values[key] = str(props[prop])
        user_id = await identity.create_user(c.ctx, values)
        try:
            for grant in props.get("roles") or []:
                if not isinstance(grant, dict) or not grant.get("role") or not grant.get(
                    "project"
                ):  # fmt: skip
                    raise errors.BadRequest("Each of roles must name a role and a project.")
                await identity.grant_project_role(
                    c.ctx, user_id, str(grant["project"]), str(grant["role"])
                )
        except errors.OneStackError:
            await identity.delete_user(c.ctx, user_id)
            raise
        return Created(user_id, {"name": name, "default_project_id":
                                 values.get("default_project_id"),
                                 "domain_id": values["domain_id"],
                                 "enabled": values["enabled"]})  # fmt: skip

    async def delete(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        await c.runtime.service(IdentityAPI).delete_user(c.ctx, physical_id)


PLUGINS: tuple[type[Plugin], ...] = (Project, Role, User)
