"""The Neutron collections, each a common ``Collection`` bound to its service-layer manager."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from onestack.common import resource
from onestack.common.context import RequestContext
from onestack.network.api.framework import enforce
from onestack.network.api.framework import neutron_collection as collection
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


def _manager(attr: str) -> tuple[Any, Any, Any]:
    """Create, update and delete through the service's manager ``attr`` (most collections)."""

    async def create(s: NetworkService, c: Caller, v: dict[str, Any]) -> Any:
        return await getattr(s, attr).create(c, v)

    async def update(s: NetworkService, c: Caller, i: str, v: dict[str, Any]) -> Any:
        return await getattr(s, attr).update(c, i, v)

    async def delete(s: NetworkService, c: Caller, i: str) -> None:
        await getattr(s, attr).delete(c, i)

    return create, update, delete


async def _default_group(s: NetworkService, c: Caller) -> None:
    """Neutron makes a project's default group the first time the project looks."""
    await s.security_groups.ensure_default(c.project_id)


async def _create_rule(s: NetworkService, c: Caller, v: dict[str, Any]) -> Any:
    return await s.security_groups.create_rule(c, v)


async def _delete_rule(s: NetworkService, c: Caller, i: str) -> None:
    await s.security_groups.delete_rule(c, i)


async def _update_agent(s: NetworkService, c: Caller, i: str, v: dict[str, Any]) -> Any:
    return await s.agents.update(i, v)


async def _delete_agent(s: NetworkService, c: Caller, i: str) -> None:
    await s.agents.delete(i)


async def _create_profile(s: NetworkService, c: Caller, v: dict[str, Any]) -> Any:
    return await s.flavors.create_profile(c, v)


async def _update_profile(s: NetworkService, c: Caller, i: str, v: dict[str, Any]) -> Any:
    return await s.flavors.update_profile(c, i, v)


async def _delete_profile(s: NetworkService, c: Caller, i: str) -> None:
    await s.flavors.delete_profile(c, i)


async def _create_label(s: NetworkService, c: Caller, v: dict[str, Any]) -> Any:
    return await s.metering.create_label(c, v)


async def _delete_label(s: NetworkService, c: Caller, i: str) -> None:
    await s.metering.delete_label(c, i)


async def _create_label_rule(s: NetworkService, c: Caller, v: dict[str, Any]) -> Any:
    return await s.metering.create_rule(c, v)


async def _delete_label_rule(s: NetworkService, c: Caller, i: str) -> None:
    await s.metering.delete_rule(c, i)


COLLECTIONS: tuple[resource.Collection, ...] = (
    collection("networks", "network", "networks", *_manager("networks")),
    collection("subnets", "subnet", "subnets", *_manager("subnets")),
    collection("ports", "port", "ports", *_manager("ports"),
               write_check=_port_check, target_hook=_port_target),
    collection("security-groups", "security_group", "security_groups",
               *_manager("security_groups"), before_list=_default_group),
    collection("security-group-rules", "security_group_rule", "security_group_rules",
               _create_rule, None, _delete_rule),
    collection("routers", "router", "routers", *_manager("routers"), write_check=_router_check),
    collection("floatingips", "floatingip", "floatingips", *_manager("floating_ips")),
    collection("rbac-policies", "rbac_policy", "rbac_policies", *_manager("rbac"),
               write_check=_rbac_check),
    collection("address-scopes", "address_scope", "address_scopes",
               *_manager("address_scopes")),
    collection("subnetpools", "subnetpool", "subnetpools", *_manager("subnet_pools")),
    collection("agents", "agent", "agents", None, _update_agent, _delete_agent),
    collection("metering/metering-labels", "metering_label", "metering_labels",
               _create_label, None, _delete_label),
    collection("qos/policies", "policy", "policies", *_manager("qos")),
    collection("metering/metering-label-rules", "metering_label_rule", "metering_label_rules",
               _create_label_rule, None, _delete_label_rule),
    collection("flavors", "flavor", "flavors", *_manager("flavors")),
    collection("trunks", "trunk", "trunks", *_manager("trunks")),
    collection("service_profiles", "service_profile", "service_profiles",
               _create_profile, _update_profile, _delete_profile),
)  # fmt: skip


def routes() -> list[Route]:
    return [r for c in COLLECTIONS for r in c.routes()]
