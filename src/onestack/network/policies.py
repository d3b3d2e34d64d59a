"""Neutron's policy defaults, one rule per action, under Neutron's own rule names so that an
operator's Neutron policy file applies unchanged.

Defaults follow Neutron's secure RBAC: admins may do anything in any project; a project
member may write its project's resources; a reader may only read. What a caller can *see* at
all (own, shared, external, RBAC-shared) is decided by the service layer, so ``get_*`` rules
only ask for a reader; a resource outside that view is 404, as in Neutron.
"""

from __future__ import annotations

from onestack.common.policy import RuleDefault

ADMIN = "role:admin"
MEMBER = "(role:member and project_id:%(project_id)s)"
ADMIN_OR_MEMBER = f"{ADMIN} or {MEMBER}"
ANY_READER = f"{ADMIN} or role:reader"
PROJECT_READER = f"{ADMIN} or (role:reader and project_id:%(project_id)s)"
# Port attributes that steer anti-spoofing or claim network-owned devices are checked against
# the *network's* owner, as Neutron does (``network:tenant_id`` in the port's policy target),
# so a project cannot switch off port security on a network it merely shares.
NET_OWNER_MEMBER = "(role:member and rule:network_owner)"
ADMIN_OR_NET_OWNER = f"{ADMIN} or {NET_OWNER_MEMBER}"
SCOPES = ("project",)


def _rule(name: str, check: str, description: str) -> RuleDefault:
    return RuleDefault(name, check, description, SCOPES)


def _crud(member: str, write: str = ADMIN_OR_MEMBER, read: str = ANY_READER) -> list[RuleDefault]:
    label = member.replace("_", " ")
    return [
        _rule(f"get_{member}", read, f"Show or list {label}s the caller can see."),
        _rule(f"create_{member}", write, f"Create a {label}."),
        _rule(f"update_{member}", write, f"Update a {label}."),
        _rule(f"delete_{member}", write, f"Delete a {label}."),
    ]


def _fields(
    member: str, check: str, *fields: str, actions: tuple[str, ...] = ("create", "update")
) -> list[RuleDefault]:
    return [
        _rule(f"{action}_{member}:{field}", check, f"{action.title()} a {member} with {field}.")
        for action in actions
        for field in fields
    ]


PROVIDER = ("provider:network_type", "provider:physical_network", "provider:segmentation_id")
BINDING = ("binding:host_id", "binding:profile")
BINDING_READ = ("binding:host_id", "binding:profile", "binding:vif_type", "binding:vif_details")
TAGGABLE = (
    "networks", "subnets", "ports", "routers", "floatingips", "security_groups",
    "subnetpools", "address_scopes", "policies",
)  # fmt: skip

RULES: list[RuleDefault] = [
    _rule("admin_only", ADMIN, "Neutron's admin rule."),
    _rule("network_owner", "project_id:%(network:tenant_id)s",
          "The caller's project owns the port's network."),
    # Neutron spells these two ``field:networks:shared=True`` and
    # ``field:port:device_owner=~^network:``; the API puts both facts in the port's target.
    _rule("shared", "'True':%(network:shared)s", "The port's network is shared with everyone."),
    _rule("network_device", "'True':%(network_device)s",
          "The port's device_owner starts with network: (a router, DHCP or floating IP port)."),
    *_crud("network"),
    *_fields("network", ADMIN, "shared", "router:external", "is_default", *PROVIDER),
    *_fields("network", ADMIN, *PROVIDER, actions=("get",)),
    *_crud("subnet"),
    *_crud("port"),
    *_fields("port", f"not rule:network_device or {ADMIN_OR_NET_OWNER}", "device_owner"),
    *_fields("port", ADMIN_OR_NET_OWNER, "port_security_enabled", "allowed_address_pairs",
             "fixed_ips:ip_address"),
    *_fields("port", f"{ADMIN_OR_NET_OWNER} or rule:shared", "fixed_ips:subnet_id"),
    _rule("create_port:fixed_ips", f"{ADMIN_OR_NET_OWNER} or rule:shared",
          "Create a port with fixed_ips."),
    _rule("update_port:fixed_ips", ADMIN_OR_NET_OWNER, "Update a port's fixed_ips."),
    _rule("create_port:mac_address", ADMIN_OR_NET_OWNER, "Create a port with mac_address."),
    _rule("update_port:mac_address", ADMIN, "Update a port's mac_address."),
    *_fields("port", ADMIN, *BINDING),
    *_fields("port", ADMIN, *BINDING_READ, actions=("get",)),
    *_crud("security_group"),
    *_crud("security_group_rule"),
    *_crud("router"),
    *_fields("router", ADMIN, "distributed", "ha", "external_gateway_info:enable_snat",
             "external_gateway_info:external_fixed_ips"),
    *_fields("router", ADMIN, "ha", actions=("get",)),
    _rule("add_router_interface", ADMIN_OR_MEMBER, "Attach a subnet or port to a router."),
    _rule("remove_router_interface", ADMIN_OR_MEMBER, "Detach a router interface."),
    _rule("get_network_ip_availability", ADMIN, "Show networks' IP availability."),
    _rule("add_extraroutes", ADMIN_OR_MEMBER, "Add extra routes to a router (atomic)."),
    _rule("remove_extraroutes", ADMIN_OR_MEMBER, "Remove extra routes from a router (atomic)."),
    *_crud("floatingip"),
    *_fields("floatingip", ADMIN, "floating_ip_address", actions=("create",)),
    *_crud("floatingip_port_forwarding"),
    *_crud("rbac_policy"),
    *_fields("rbac_policy", ADMIN, "target_tenant"),
    *_crud("address_scope"),
    # Neutron's metering policies: admin's alone.
    *_crud("metering_label", ADMIN, ADMIN),
    *_crud("metering_label_rule", ADMIN, ADMIN),
    *_fields("address_scope", ADMIN, "shared"),
    # Neutron's flavors: admins manage them and the profiles; readers see the flavors.
    *_crud("flavor", ADMIN, ANY_READER),
    *_crud("service_profile", ADMIN, ADMIN),
    _rule("create_flavor_service_profile", ADMIN, "Associate a flavor with a service profile."),
    _rule("delete_flavor_service_profile", ADMIN,
          "Disassociate a flavor from a service profile."),
    *_crud("subnetpool"),
    *_fields("subnetpool", ADMIN, "shared", "is_default"),
    *_crud("trunk"),
    _rule("get_subports", ANY_READER, "List a trunk's sub-ports."),
    _rule("add_subports", ADMIN_OR_MEMBER, "Add sub-ports to a trunk."),
    _rule("remove_subports", ADMIN_OR_MEMBER, "Remove sub-ports from a trunk."),
    # Neutron's QoS policies: admins make them, readers see their own and shared ones.
    *_crud("policy", ADMIN),
    _rule("get_rule_type", ADMIN, "List or show the available QoS rule types."),
    *[
        rule
        for kind in ("bandwidth_limit", "dscp_marking", "minimum_bandwidth")
        for rule in _crud(f"policy_{kind}_rule", ADMIN)
    ],
    _rule("get_agent", ADMIN, "Show or list network agents."),
    _rule("get_dhcp-networks", ADMIN, "List the networks a DHCP agent hosts."),
    _rule("create_dhcp-network", ADMIN, "Add a network to a DHCP agent."),
    _rule("delete_dhcp-network", ADMIN, "Remove a network from a DHCP agent."),
    _rule("get_dhcp-agents", ADMIN, "List the DHCP agents hosting a network."),
    _rule("get_l3-routers", ADMIN, "List the routers an L3 agent hosts."),
    _rule("create_l3-router", ADMIN, "Add a router to an L3 agent."),
    _rule("delete_l3-router", ADMIN, "Remove a router from an L3 agent."),
    _rule("get_l3-agents", ADMIN, "List the L3 agents hosting a router."),
    _rule("update_agent", ADMIN, "Update a network agent."),
    _rule("delete_agent", ADMIN, "Delete a network agent."),
    _rule("get_quota", PROJECT_READER,
          "Show a project's quotas."),
    _rule("update_quota", ADMIN, "Set a project's quotas."),
    _rule("delete_quota", ADMIN, "Reset a project's quotas to the defaults."),
    # Reading a project's auto-allocated topology builds it on the first read (Neutron's
    # defaults: the project's readers may).
    _rule("get_auto_allocated_topology", PROJECT_READER,
          "Get a project's auto-allocated topology, allocating it on the first request."),
    _rule("delete_auto_allocated_topology", ADMIN_OR_MEMBER,
          "Delete a project's auto-allocated topology."),
    _rule("get_availability_zone", ANY_READER, "List availability zones."),
    _rule("get_extension", ANY_READER, "List or show API extensions."),
    *[
        rule
        for collection in TAGGABLE
        for rule in (
            _rule(f"get_{collection}_tags", ANY_READER, f"Read the tags of {collection}."),
            _rule(f"create_{collection}_tags", ADMIN_OR_MEMBER, f"Add tags to {collection}."),
            _rule(f"update_{collection}_tags", ADMIN_OR_MEMBER, f"Replace tags of {collection}."),
            _rule(f"delete_{collection}_tags", ADMIN_OR_MEMBER, f"Remove tags of {collection}."),
        )
    ],
]  # fmt: skip
