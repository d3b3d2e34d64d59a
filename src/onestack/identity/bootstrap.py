"""First start: the default domain, the default roles, admin and demo, and the catalog.

Safe to run on every start: it only creates what is missing, and re-points the catalog
endpoints of OneStack's own services at the current public URL.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from pathlib import Path

from onestack.common import errors, filelock
from onestack.common.logging import get_logger
from onestack.common.runtime import Runtime
from onestack.identity.facade import Bootstrapped
from onestack.identity.service import IdentityService

log = get_logger(__name__)

DEFAULT_DOMAIN = {"id": "default", "name": "Default", "description": "The default domain"}
# Keystone's bootstrap roles: admin implies manager implies member implies reader; service
# stands alone (services' own users, e.g. Nova's server external events).
ROLES = ("admin", "manager", "member", "reader", "service")
IMPLIED = (("admin", "manager"), ("manager", "member"), ("member", "reader"))


def secrets_path(data_dir: Path) -> Path:
    return data_dir / "bootstrap.json"


def load_secrets(data_dir: Path) -> dict[str, str]:
    path = secrets_path(data_dir)
    if not path.exists():
        return {}
    data: dict[str, str] = json.loads(path.read_text())
    return data


def _save_secrets(data_dir: Path, values: dict[str, str]) -> None:
    path = secrets_path(data_dir)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(values, f)
    tmp.rename(path)


async def _ensure_role(svc: IdentityService, name: str) -> str:
    role = await svc.roles.find_global_role(name)
    if role is None:
        role = await svc.roles.create_role({"name": name})
    return role.id


async def _ensure_project(svc: IdentityService, name: str, description: str) -> str:
    try:
        return (await svc.resources.find_project(name, "default")).id
    except errors.NotFound:
        project, _ = await svc.resources.create_project(
            {"name": name, "domain_id": "default", "description": description, "enabled": True}
        )
        return project.id


async def _ensure_user(
    svc: IdentityService, name: str, password: str, project_id: str
) -> tuple[str, bool]:
    user = await svc.users.find_user(name, "default")
    if user is not None:
        return user.id, False
    user = await svc.users.create_user(
        {
            "name": name,
            "domain_id": "default",
            "password": password,
            "default_project_id": project_id,
            "enabled": True,
        }
    )
    return user.id, True


async def bootstrap(runtime: Runtime, svc: IdentityService) -> Bootstrapped:
    """The default domain, roles, projects, users and catalog, made once. Processes that start
    together on one data directory (``onestack api`` twice) take turns: each would otherwise
    make its own passwords, and the last to write ``bootstrap.json`` would not be the one
    whose hash the database kept."""
    async with filelock.held(runtime.settings.data_dir / "bootstrap.lock"):
        return await _bootstrap(runtime, svc)


async def _bootstrap(runtime: Runtime, svc: IdentityService) -> Bootstrapped:
    data_dir = runtime.settings.data_dir
    stored = load_secrets(data_dir)
    try:
        await svc.resources.get_domain("default")
    except errors.NotFound:
        await svc.resources.create_domain(
            {k: v for k, v in DEFAULT_DOMAIN.items() if k != "id"} | {"enabled": True}, "default"
        )
    role_ids = {name: await _ensure_role(svc, name) for name in ROLES}
    rules = await svc.roles.inference_rules()
    for prior, implied in IMPLIED:
        if role_ids[implied] not in rules.get(role_ids[prior], []):
            await svc.roles.create_implied(role_ids[prior], role_ids[implied])
    if role_ids["member"] in rules.get(role_ids["admin"], []):
        # Clouds made before the manager role: admin now reaches member through manager.
        await svc.roles.delete_implied(role_ids["admin"], role_ids["member"])
    admin_project = await _ensure_project(
        svc, "admin", "Bootstrap project for the cloud administrator"
    )
    demo_project = await _ensure_project(svc, "demo", "Demo project")
    passwords = {
        "admin_password": stored.get("admin_password") or secrets.token_urlsafe(18),
        "demo_password": stored.get("demo_password") or secrets.token_urlsafe(18),
    }
    (admin_id, admin_new), (demo_id, demo_new) = await asyncio.gather(
        _ensure_user(svc, "admin", passwords["admin_password"], admin_project),
        _ensure_user(svc, "demo", passwords["demo_password"], demo_project),
    )
    if admin_new:
        await svc.assignments.grant("user", admin_id, "project", admin_project, role_ids["admin"])
        await svc.assignments.grant("user", admin_id, "system", "system", role_ids["admin"])
        await svc.assignments.grant("user", admin_id, "domain", "default", role_ids["admin"])
    if demo_new:
        await svc.assignments.grant("user", demo_id, "project", demo_project, role_ids["member"])
    if admin_new or demo_new or stored != passwords:
        _save_secrets(data_dir, passwords)
        log.info("bootstrapped identity: users admin and demo, projects admin and demo")
    region = runtime.settings.identity.region
    await svc.catalog.ensure_services(
        [
            (type_, name, runtime.public_url + spec.endpoint_path)
            for spec in runtime.listed()
            if spec.catalog_type  # the dashboard is a web page, not an API of the catalog
            for type_, name in ((spec.catalog_type, spec.catalog_name), *spec.catalog_aliases)
        ],
        region,
    )
    return Bootstrapped(admin_project_id=admin_project, demo_project_id=demo_project, **passwords)
