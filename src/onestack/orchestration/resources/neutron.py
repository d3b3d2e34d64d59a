"""Neutron's resource types, made through the network service's typed facade
(``NetworkAPI``) as the stack's owner: networks, subnets, ports, routers and their
interfaces, security groups and rules, floating IPs and their associations."""

from __future__ import annotations

from typing import Any, ClassVar

from onestack.common import errors
from onestack.network.facade import Caller, NetworkAPI
from onestack.orchestration.errors import ResourceFailure
from onestack.orchestration.resources.base import Context, Created, Plugin, Prop, Replace


def api(c: Context) -> tuple[NetworkAPI, Caller]:
    return c.runtime.service(NetworkAPI), Caller.of(c.ctx)


async def find_id(c: Context, collection: str, ref: str) -> str:
    """The id of the ``collection`` resource named or numbered ``ref`` the owner may see
    (the network service's own 404 otherwise; several of one name: a failure)."""
    net, caller = api(c)
    try:
        return str((await net.show(collection, caller, ref))["id"])
    except errors.NotFound as missing:
        found = await net.find(collection, caller, name=[ref])
        if len(found) == 1:
            return str(found[0]["id"])
        if len(found) > 1:
            raise ResourceFailure(
                f"Multiple {collection} matches found for name '{ref}', use an ID to be more "
                "specific."
            ) from None
        raise missing from None


def mark(c: Context) -> str:
    """The tag a stack's Neutron resource carries from its create on: what finds it again
    when the engine died before recording its id."""
    return f"heat:{c.stack_id}:{c.resource_name}"[:255]


class NeutronResource(Plugin):
    """One Neutron resource: the properties become the API body (``body``), its shown
    dictionary is the attributes, its id the physical id."""

    collection: ClassVar[str]
    # What the API is sent for an update-allowed property the new definition drops or
    # sets to null (its ``None`` leaves the body); without an entry such a change replaces.
    cleared: ClassVar[dict[str, Any]] = {}

    async def body(self, c: Context, props: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in props.items() if v is not None and k != "value_specs"}
        out.update(props.get("value_specs") or {})
        return out

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        net, caller = api(c)
        body = await self.body(c, props)
        if self.collection != "security-group-rules":
            body["tags"] = [*(body.get("tags") or []), mark(c)]
        shown = await net.create_resource(self.collection, caller, body)
        return Created(str(shown["id"]), shown)

    async def orphans(self, c: Context) -> list[str]:
        if self.collection == "security-group-rules":
            return []
        net, caller = api(c)
        return await net.find_tagged(self.collection, caller, mark(c))

    async def update(
        self, c: Context, physical_id: str, data: dict[str, Any], old: dict[str, Any],
        new: dict[str, Any],
    ) -> dict[str, Any]:  # fmt: skip
        before, after = await self.body(c, old), await self.body(c, new)
        changes = {k: v for k, v in after.items() if before.get(k) != v}
        for key, empty in self.cleared.items():
            if key in before and key not in after and before[key] != empty:
                changes[key] = empty
        if not changes or any(k not in self.properties for k in changes):
            raise Replace()
        net, caller = api(c)
        return await net.update_resource(self.collection, caller, physical_id, changes)

    async def refresh(self, c: Context, physical_id: str, data: dict[str, Any]) -> dict[str, Any]:
        net, caller = api(c)
        return await net.show(self.collection, caller, physical_id)

    async def delete(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        net, caller = api(c)
        await net.delete_resource(self.collection, caller, physical_id)


_SPECS = Prop("map", default={}, description="Extra parameters to include in the request.")
_TAGS = Prop("list", update_allowed=True, description="The tags to be added.")


class Net(NeutronResource):
    type_name = "OS::Neutron::Net"
    description = "A resource for managing Neutron net."
    collection = "networks"
    properties = {
        "name": Prop("string", update_allowed=True, description="A string specifying a name."),
        "admin_state_up": Prop("boolean", default=True, update_allowed=True),
        "shared": Prop("boolean", default=False, update_allowed=True),
        "port_security_enabled": Prop("boolean", update_allowed=True),
        "dns_domain": Prop("string", update_allowed=True),
        "value_specs": _SPECS,
        "tags": _TAGS,
        "tenant_id": Prop("string"),
    }
    attributes = {
        "name": "The name of the network.",
        "status": "The status of the network.",
        "subnets": "Subnets of this network.",
        "admin_state_up": "The administrative status of the network.",
        "tenant_id": "The tenant owning this network.",
        "mtu": "The maximum transmission unit size (in bytes) for the network.",
        "port_security_enabled": "Port security enabled of the network.",
    }

    async def body(self, c: Context, props: dict[str, Any]) -> dict[str, Any]:
        out = await super().body(c, props)
        out.setdefault("name", f"{c.stack_name}-{c.resource_name}")
        return out


class Subnet(NeutronResource):
    type_name = "OS::Neutron::Subnet"
    description = "A resource for managing Neutron subnets."
    collection = "subnets"
    # Heat: no gateway, and no pools (Neutron's ``[]``).
    cleared = {"gateway_ip": None, "allocation_pools": []}
    properties = {
        "network": Prop("string", description="The ID or name of the network."),
        "network_id": Prop("string", description="The ID of the network (deprecated)."),
        "cidr": Prop("string", description="The CIDR."),
        "ip_version": Prop("integer", default=4),
        "name": Prop("string", update_allowed=True),
        "enable_dhcp": Prop("boolean", default=True, update_allowed=True),
        "gateway_ip": Prop("string", update_allowed=True),
        "allocation_pools": Prop("list", update_allowed=True),
        "dns_nameservers": Prop("list", update_allowed=True),
        "host_routes": Prop("list", update_allowed=True),
        "ipv6_address_mode": Prop("string"),
        "ipv6_ra_mode": Prop("string"),
        "subnetpool": Prop("string"),
        "prefixlen": Prop("integer"),
        "value_specs": _SPECS,
        "tags": _TAGS,
        "tenant_id": Prop("string"),
    }
    attributes = {
        "name": "Friendly name of the subnet.",
        "network_id": "Parent network of the subnet.",
        "tenant_id": "Tenant owning the subnet.",
        "allocation_pools": "Ip allocation pools and their ranges.",
        "gateway_ip": "Ip of the subnet's gateway.",
        "host_routes": "Additional routes for this subnet.",
        "ip_version": "Ip version for the subnet.",
        "cidr": "CIDR block notation for this subnet.",
        "dns_nameservers": "List of dns nameservers.",
        "enable_dhcp": "'true' if DHCP is enabled for this subnet; 'false' otherwise.",
    }

    async def body(self, c: Context, props: dict[str, Any]) -> dict[str, Any]:
        ref = props.get("network") or props.get("network_id")
        if not ref:
            raise ResourceFailure("Property network not assigned")
        out = await super().body(c, props)
        out.pop("network", None)
        out["network_id"] = await find_id(c, "networks", str(ref))
        if props.get("subnetpool"):
            out["subnetpool_id"] = out.pop("subnetpool")
        out.setdefault("name", f"{c.stack_name}-{c.resource_name}")
        return out


async def _security_groups(c: Context, refs: list[Any]) -> list[str]:
    return [await find_id(c, "security-groups", str(r)) for r in refs]


async def _fixed_ips(c: Context, items: list[Any]) -> list[dict[str, Any]]:
    out = []
    for item in items:
        entry = {k: v for k, v in item.items() if k in ("ip_address",) and v}
        subnet = item.get("subnet") or item.get("subnet_id")
        if subnet:
            entry["subnet_id"] = await find_id(c, "subnets", str(subnet))
        out.append(entry)
    return out


class Port(NeutronResource):
    type_name = "OS::Neutron::Port"
    description = "A resource for managing Neutron ports."
    collection = "ports"
    properties = {
        "network": Prop("string", description="Network this port belongs to."),
        "network_id": Prop("string"),
        "name": Prop("string", update_allowed=True),
        "fixed_ips": Prop("list", update_allowed=True),
        "security_groups": Prop("list", update_allowed=True),
        "mac_address": Prop("string", update_allowed=True),  # Neutron: an admin's change
        "admin_state_up": Prop("boolean", default=True, update_allowed=True),
        "device_id": Prop("string", update_allowed=True),
        "device_owner": Prop("string", update_allowed=True),
        "binding:vnic_type": Prop("string", update_allowed=True),
        "port_security_enabled": Prop("boolean", update_allowed=True),
        "allowed_address_pairs": Prop("list", update_allowed=True),
        "replacement_policy": Prop("string", default="AUTO"),
        "value_specs": _SPECS,
        "tags": _TAGS,
    }
    attributes = {
        "admin_state_up": "The administrative state of this port.",
        "device_id": "Unique identifier for the device.",
        "device_owner": "Name of the network owning the port.",
        "fixed_ips": "Fixed IP addresses.",
        "mac_address": "MAC address of the port.",
        "name": "Friendly name of the port.",
        "network_id": "Unique identifier for the network owning the port.",
        "security_groups": "A list of security groups for the port.",
        "status": "The status of the port.",
        "tenant_id": "Tenant owning the port.",
        "allowed_address_pairs": "Additional MAC/IP address pairs allowed to pass through.",
        "subnets": "Subnets of this network.",
    }

    async def body(self, c: Context, props: dict[str, Any]) -> dict[str, Any]:
        ref = props.get("network") or props.get("network_id")
        if not ref:
            raise ResourceFailure("Property network not assigned")
        out = await super().body(c, props)
        out.pop("network", None)
        out.pop("replacement_policy", None)
        out["network_id"] = await find_id(c, "networks", str(ref))
        if props.get("fixed_ips"):
            out["fixed_ips"] = await _fixed_ips(c, props["fixed_ips"])
        if props.get("security_groups") is not None:
            out["security_groups"] = await _security_groups(c, props["security_groups"])
        out.setdefault("name", f"{c.stack_name}-{c.resource_name}")
        return out


class Router(NeutronResource):
    type_name = "OS::Neutron::Router"
    description = "A resource that implements Neutron router."
    collection = "routers"
    properties = {
        "name": Prop("string", update_allowed=True),
        "external_gateway_info": Prop("map", update_allowed=True),
        "admin_state_up": Prop("boolean", default=True, update_allowed=True),
        "distributed": Prop("boolean"),
        "ha": Prop("boolean"),
        "value_specs": _SPECS,
        "tags": _TAGS,
    }
    attributes = {
        "status": "The status of the router.",
        "external_gateway_info": "Gateway network for the router.",
        "name": "Friendly name of the router.",
        "admin_state_up": "Administrative state of the router.",
        "tenant_id": "Tenant owning the router.",
    }

    async def body(self, c: Context, props: dict[str, Any]) -> dict[str, Any]:
        out = await super().body(c, props)
        gw = props.get("external_gateway_info")
        if gw:
            info: dict[str, Any] = {"network_id": await find_id(c, "networks", str(gw["network"]))}
            if gw.get("enable_snat") is not None:
                info["enable_snat"] = gw["enable_snat"]
            if gw.get("external_fixed_ips"):
                info["external_fixed_ips"] = await _fixed_ips(c, gw["external_fixed_ips"])
            out["external_gateway_info"] = info
        out.setdefault("name", f"{c.stack_name}-{c.resource_name}")
        return out


class RouterInterface(Plugin):
    type_name = "OS::Neutron::RouterInterface"
    description = "A resource for managing Neutron router interfaces."
    properties = {
        "router": Prop("string", required=True, description="The router."),
        "subnet": Prop("string", description="The subnet, either subnet or port required."),
        "port": Prop("string", description="The port, either subnet or port required."),
    }

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        net, caller = api(c)
        router = await find_id(c, "routers", str(props["router"]))
        if props.get("subnet"):
            key, ident = "subnet_id", await find_id(c, "subnets", str(props["subnet"]))
        elif props.get("port"):
            key, ident = "port_id", await find_id(c, "ports", str(props["port"]))
        else:
            raise ResourceFailure("Either subnet or port must be specified")
        await net.router_interface(caller, router, {key: ident}, add=True)
        return Created(f"{router}:{key}={ident}", data={"router": router, key: ident})

    async def delete(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        net, caller = api(c)
        router, _, rest = physical_id.partition(":")
        key, _, ident = rest.partition("=")
        await net.router_interface(caller, router, {key: ident}, add=False)


class SecurityGroup(NeutronResource):
    type_name = "OS::Neutron::SecurityGroup"
    description = "A resource for managing Neutron security groups."
    collection = "security-groups"
    properties = {
        "name": Prop("string", update_allowed=True),
        "description": Prop("string", update_allowed=True),
        "rules": Prop("list", default=[], update_allowed=True),
    }
    attributes = {"name": "Name of the group.", "rules": "The rules of the group."}

    async def update(
        self, c: Context, physical_id: str, data: dict[str, Any], old: dict[str, Any],
        new: dict[str, Any],
    ) -> dict[str, Any]:  # fmt: skip
        raise Replace()

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        net, caller = api(c)
        body: dict[str, Any] = {
            "name": props.get("name") or f"{c.stack_name}-{c.resource_name}",
            "tags": [mark(c)],
        }
        if props.get("description"):
            body["description"] = props["description"]
        group = await net.create_resource(self.collection, caller, body)
        rules = props.get("rules") or []
        if any(r.get("direction") == "egress" for r in rules):
            # Heat's way: egress rules given replace Neutron's default egress rules.
            for rule in group.get("security_group_rules") or []:
                if rule["direction"] == "egress":
                    await net.delete_resource("security-group-rules", caller, rule["id"])
        for rule in rules:
            await net.create_resource(
                "security-group-rules", caller, await _rule_body(c, group["id"], rule)
            )
        shown = await net.show(self.collection, caller, group["id"])
        return Created(str(group["id"]), {**shown, "rules": shown.get("security_group_rules")})


async def _rule_body(c: Context, group_id: str, rule: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"security_group_id": group_id,
                            "direction": rule.get("direction", "ingress"),
                            "ethertype": rule.get("ethertype", "IPv4")}  # fmt: skip
    for key in ("port_range_min", "port_range_max", "protocol", "remote_ip_prefix", "description"):
        if rule.get(key) is not None:
            body[key] = rule[key]
    remote_group = rule.get("remote_group_id") or rule.get("remote_group")
    if rule.get("remote_mode") == "remote_group_id" and not remote_group:
        remote_group = group_id
    if remote_group:
        body["remote_group_id"] = await find_id(c, "security-groups", str(remote_group))
    return body


class SecurityGroupRule(NeutronResource):
    type_name = "OS::Neutron::SecurityGroupRule"
    description = "A resource for managing Neutron security group rules."
    collection = "security-group-rules"
    properties = {
        "security_group": Prop("string", required=True),
        "description": Prop("string"),
        "direction": Prop("string", default="ingress"),
        "ethertype": Prop("string", default="IPv4"),
        "port_range_min": Prop("integer"),
        "port_range_max": Prop("integer"),
        "protocol": Prop("string"),
        "remote_group": Prop("string"),
        "remote_ip_prefix": Prop("string"),
    }

    async def body(self, c: Context, props: dict[str, Any]) -> dict[str, Any]:
        group = await find_id(c, "security-groups", str(props["security_group"]))
        return await _rule_body(c, group, props)


class FloatingIP(NeutronResource):
    type_name = "OS::Neutron::FloatingIP"
    description = "A resource for managing Neutron floating ips."
    collection = "floatingips"
    properties = {
        "floating_network": Prop("string", description="Network to allocate floating IP from."),
        "floating_network_id": Prop("string"),
        "port_id": Prop("string", update_allowed=True),
        "fixed_ip_address": Prop("string", update_allowed=True),
        "floating_ip_address": Prop("string"),
        "dns_name": Prop("string"),
        "dns_domain": Prop("string"),
        "value_specs": _SPECS,
    }
    attributes = {
        "router_id": "ID of the router used as gateway.",
        "tenant_id": "The tenant owning this floating IP.",
        "floating_network_id": "ID of the network in which this IP is allocated.",
        "fixed_ip_address": "IP address of the associated port, if specified.",
        "floating_ip_address": "The allocated address of this IP.",
        "port_id": "ID of the port associated with this IP.",
    }

    async def body(self, c: Context, props: dict[str, Any]) -> dict[str, Any]:
        ref = props.get("floating_network") or props.get("floating_network_id")
        if not ref:
            raise ResourceFailure("Property floating_network not assigned")
        out = await super().body(c, props)
        out.pop("floating_network", None)
        out["floating_network_id"] = await find_id(c, "networks", str(ref))
        if props.get("port_id"):
            out["port_id"] = await find_id(c, "ports", str(props["port_id"]))
        return out


class FloatingIPAssociation(Plugin):
    type_name = "OS::Neutron::FloatingIPAssociation"
    description = "A resource for associating floating ips and ports."
    properties = {
        "floatingip_id": Prop("string", required=True, update_allowed=True,
                              description="ID of the floating IP to associate."),
        "port_id": Prop("string", required=True, update_allowed=True,
                        description="ID of an existing port with at least one IP address to "
                        "associate with this floating IP."),
        "fixed_ip_address": Prop("string", update_allowed=True,
                                 description="IP address to use if the port has multiple "
                                 "addresses."),
    }  # fmt: skip

    async def _associate(self, c: Context, props: dict[str, Any]) -> str:
        net, caller = api(c)
        fip = await find_id(c, "floatingips", str(props["floatingip_id"]))
        body: dict[str, Any] = {"port_id": await find_id(c, "ports", str(props["port_id"]))}
        if props.get("fixed_ip_address"):
            body["fixed_ip_address"] = props["fixed_ip_address"]
        await net.update_resource("floatingips", caller, fip, body)
        return f"{fip}:{body['port_id']}"

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        return Created(await self._associate(c, props))

    async def update(
        self, c: Context, physical_id: str, data: dict[str, Any], old: dict[str, Any],
        new: dict[str, Any],
    ) -> dict[str, Any]:  # fmt: skip
        fip = await find_id(c, "floatingips", str(new["floatingip_id"]))
        port = await find_id(c, "ports", str(new["port_id"]))
        if f"{fip}:{port}" != physical_id:
            # A new pair: associated by the replacement, the old one let go by its delete
            # (which leaves a floating IP the replacement moved to another port alone).
            raise Replace()
        await self._associate(c, new)  # only the fixed address changed
        return {}

    async def delete(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        net, caller = api(c)
        fip, _, port = physical_id.partition(":")
        try:
            shown = await net.show("floatingips", caller, fip)
        except errors.NotFound:
            return  # released with its stack's floating IP resource, or by hand
        if shown.get("port_id") == port:
            await net.update_resource("floatingips", caller, fip, {"port_id": None})


PLUGINS: tuple[type[Plugin], ...] = (
    Net, Subnet, Port, Router, RouterInterface, SecurityGroup, SecurityGroupRule, FloatingIP,
    FloatingIPAssociation,
)  # fmt: skip
