"""The Neutron collections, each a ``Collection`` bound to its service-layer manager."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from onestack.common.context import RequestContext
from onestack.network.api.framework import Collection, enforce
from onestack.network.service import Caller, NetworkService


def _router_check(
    request: Request,
    ctx: RequestContext,
    values: dict[str, Any],
    action: str,
    _target: dict[str, Any],
) -> None:
    """Neutron guards parts of ``external_gateway_info`` separately (admin-only SNAT/IPs)."""
    info = values.get("external_gateway_info")
    if not info:
        return
    target = {"project_id": values.get("project_id") or ctx.project_id}
    if "enable_snat" in info:
        enforce(request, f"{action}_router:external_gateway_info:enable_snat", target)
    if "external_fixed_ips" in info:
        enforce(request, f"{action}_router:external_gateway_info:external_fixed_ips", target)


def _rbac_check(
    request: Request,
    ctx: RequestContext,
    values: dict[str, Any],
    action: str,
    _target: dict[str, Any],
) -> None:
    """Sharing with every project (``*``) is for admins; with one project, for the owner."""
    if values.get("target_tenant") == "*":
        target = {"project_id": values.get("project_id") or ctx.project_id}
        enforce(request, f"{action}_rbac_policy:target_tenant", target)


def _port_check(
    request: Request,
    ctx: RequestContext,
    values: dict[str, Any],
    action: str,
    target: dict[str, Any],
) -> None:
    """Neutron guards the parts of ``fixed_ips`` separately: naming a subnet is allowed on a
    shared network, choosing the address only to the network's owner."""
    for item in values.get("fixed_ips") or ():
        if not isinstance(item, dict):
            continue  # the service layer rejects it with Neutron's message
        for key in ("subnet_id", "ip_address"):
            if key in item:
                enforce(request, f"{action}_port:fixed_ips:{key}", target)


async def _port_target(
    s: NetworkService, c: Caller, v: dict[str, Any], current: dict[str, Any] | None
) -> dict[str, Any]:
    network_id = str(current["network_id"] if current else v.get("network_id", ""))
    owner = v.get("device_owner", current.get("device_owner", "") if current else "")
    return await s.ports.policy_facts(c, network_id, str(owner or ""))


async def _create_network(s: NetworkService, c: Caller, v: dict[str, Any]) -> Any:
    return await s.networks.create(c, v)


async def _update_network(s: NetworkService, c: Caller, i: str, v: dict[str, Any]) -> Any:
    return await s.networks.update(c, i, v)


async def _delete_network(s: NetworkService, c: Caller, i: str) -> None:
    await s.networks.delete(c, i)


async def _create_subnet(s: NetworkService, c: Caller, v: dict[str, Any]) -> Any:
    return await s.subnets.create(c, v)


async def _update_subnet(s: NetworkService, c: Caller, i: str, v: dict[str, Any]) -> Any:
    return await s.subnets.update(c, i, v)


async def _delete_subnet(s: NetworkService, c: Caller, i: str) -> None:
    await s.subnets.delete(c, i)


async def _create_port(s: NetworkService, c: Caller, v: dict[str, Any]) -> Any:
    return await s.ports.create(c, v)


async def _update_port(s: NetworkService, c: Caller, i: str, v: dict[str, Any]) -> Any:
    return await s.ports.update(c, i, v)


async def _delete_port(s: NetworkService, c: Caller, i: str) -> None:
    await s.ports.delete(c, i)


async def _create_group(s: NetworkService, c: Caller, v: dict[str, Any]) -> Any:
    return await s.security_groups.create(c, v)


async def _update_group(s: NetworkService, c: Caller, i: str, v: dict[str, Any]) -> Any:
    return await s.security_groups.update(c, i, v)


async def _default_group(s: NetworkService, c: Caller) -> None:
    """Neutron makes a project's default group the first time the project looks."""
    await s.security_groups.ensure_default(c.project_id)


async def _delete_group(s: NetworkService, c: Caller, i: str) -> None:
    await s.security_groups.delete(c, i)


async def _create_rule(s: NetworkService, c: Caller, v: dict[str, Any]) -> Any:
    return await s.security_groups.create_rule(c, v)


async def _delete_rule(s: NetworkService, c: Caller, i: str) -> None:
    await s.security_groups.delete_rule(c, i)


async def _create_router(s: NetworkService, c: Caller, v: dict[str, Any]) -> Any:
    return await s.routers.create(c, v)


async def _update_router(s: NetworkService, c: Caller, i: str, v: dict[str, Any]) -> Any:
    return await s.routers.update(c, i, v)


async def _delete_router(s: NetworkService, c: Caller, i: str) -> None:
    await s.routers.delete(c, i)


async def _create_fip(s: NetworkService, c: Caller, v: dict[str, Any]) -> Any:
    return await s.floating_ips.create(c, v)


async def _update_fip(s: NetworkService, c: Caller, i: str, v: dict[str, Any]) -> Any:
    return await s.floating_ips.update(c, i, v)


async def _delete_fip(s: NetworkService, c: Caller, i: str) -> None:
    await s.floating_ips.delete(c, i)


async def _create_rbac(s: NetworkService, c: Caller, v: dict[str, Any]) -> Any:
    return await s.rbac.create(c, v)


async def _update_rbac(s: NetworkService, c: Caller, i: str, v: dict[str, Any]) -> Any:
    return await s.rbac.update(c, i, v)


async def _delete_rbac(s: NetworkService, c: Caller, i: str) -> None:
    await s.rbac.delete(c, i)


async def _create_scope(s: NetworkService, c: Caller, v: dict[str, Any]) -> Any:
    return await s.address_scopes.create(c, v)


async def _update_scope(s: NetworkService, c: Caller, i: str, v: dict[str, Any]) -> Any:
    return await s.address_scopes.update(c, i, v)


async def _delete_scope(s: NetworkService, c: Caller, i: str) -> None:
    await s.address_scopes.delete(c, i)


async def _create_pool(s: NetworkService, c: Caller, v: dict[str, Any]) -> Any:
    return await s.subnet_pools.create(c, v)


async def _update_pool(s: NetworkService, c: Caller, i: str, v: dict[str, Any]) -> Any:
    return await s.subnet_pools.update(c, i, v)


async def _delete_pool(s: NetworkService, c: Caller, i: str) -> None:
    await s.subnet_pools.delete(c, i)


async def _update_agent(s: NetworkService, c: Caller, i: str, v: dict[str, Any]) -> Any:
    return await s.agents.update(i, v)


async def _delete_agent(s: NetworkService, c: Caller, i: str) -> None:
    await s.agents.delete(i)


COLLECTIONS: tuple[Collection, ...] = (
    Collection("networks", "network", "networks",
               _create_network, _update_network, _delete_network),
    Collection("subnets", "subnet", "subnets", _create_subnet, _update_subnet, _delete_subnet),
    Collection("ports", "port", "ports", _create_port, _update_port, _delete_port,
               write_check=_port_check, target_hook=_port_target),
    Collection("security-groups", "security_group", "security_groups",
               _create_group, _update_group, _delete_group, before_list=_default_group),
    Collection("security-group-rules", "security_group_rule", "security_group_rules",
               _create_rule, None, _delete_rule),
    Collection("routers", "router", "routers", _create_router, _update_router, _delete_router,
               write_check=_router_check),
    Collection("floatingips", "floatingip", "floatingips", _create_fip, _update_fip, _delete_fip),
    Collection("rbac-policies", "rbac_policy", "rbac_policies",
               _create_rbac, _update_rbac, _delete_rbac, write_check=_rbac_check),
    Collection("address-scopes", "address_scope", "address_scopes",
               _create_scope, _update_scope, _delete_scope),
    Collection("subnetpools", "subnetpool", "subnetpools",
               _create_pool, _update_pool, _delete_pool),
    Collection("agents", "agent", "agents", None, _update_agent, _delete_agent),
)  # fmt: skip


def routes() -> list[Route]:
    return [r for c in COLLECTIONS for r in c.routes()]
