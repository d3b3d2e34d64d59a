"""``/v2.0/extensions``: exactly the API extensions this service implements."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.auth import get_context
from onestack.common.http import json_response
from onestack.network import errors as nerr
from onestack.network.api.framework import enforce, service
from onestack.network.service import ip_availability

UPDATED = "2024-01-01T00:00:00-00:00"

# (alias, name, description)
EXTENSIONS: tuple[tuple[str, str, str], ...] = (
    ("address-scope", "Address scope", "Address scopes extension."),
    ("agent", "agent", "The agent management extension."),
    ("allowed-address-pairs", "Allowed Address Pairs", "Provides allowed address pairs"),
    ("auto-allocated-topology", "Auto Allocated Topology Services",
     "Auto Allocated Topology Services."),
    ("availability_zone", "Availability Zone", "The availability zone extension."),
    ("binding", "Port Binding", "Expose port bindings of a virtual port to external application"),
    ("expose-port-forwarding-in-fip", "Expose port forwardings in a floating IP",
     "Expose port forwardings in a floating IP"),
    ("external-net", "Neutron external network", "Adds external network attribute to network resource."),  # noqa: E501
    ("dhcp_agent_scheduler", "DHCP Agent Scheduler", "Schedule networks among dhcp agents"),
    ("default-subnetpools", "Default Subnetpools",
     "Provides ability to mark and use a subnetpool as the default."),
    ("ext-gw-mode", "Neutron L3 Configurable external gateway mode",
     "Extension of the router abstraction for specifying whether SNAT should occur on the "
     "external gateway"),
    ("extra_dhcp_opt", "Neutron Extra DHCP options",
     "Extra options configuration for DHCP. For example PXE boot options to DHCP clients can "
     "be specified (e.g. tftp-server, server-ip-address, bootfile-name)"),
    ("extraroute", "Neutron Extra Route", "Extra routes configuration for L3 router"),
    ("extraroute-atomic", "Atomically add/remove extra routes",
     "Edit extra routes of a router on server side by atomically adding/removing extra routes"),
    ("filter-validation", "Filter parameters validation", "Provides validation on filter parameters."),  # noqa: E501
    ("fip-port-details", "Floating IP Port Details Extension",
     "Add port_details attribute to Floating IP resource"),
    ("flavors", "Neutron Service Flavors", "Flavor specification for Neutron advanced services."),
    ("floating-ip-port-forwarding", "Floating IP Port Forwarding",
     "Provide a way to configure port forwarding on Floating IP."),
    ("ip-substring-filtering", "IP address substring filtering",
     "Provides IP address substring filtering when listing ports"),
    ("network-ip-availability", "Network IP Availability",
     "Provides IP availability data for each network and subnet."),
    ("l3-ha", "HA Router extension", "Adds HA capability to routers."),
    ("l3_agent_scheduler", "L3 Agent Scheduler", "Schedule routers among l3 agents"),
    ("metering", "Neutron Metering", "Neutron Metering extension."),
    ("net-mtu", "Network MTU", "Provides MTU attribute for a network resource."),
    ("net-mtu-writable", "Network MTU (writable)", "Provides a writable MTU attribute for a network resource."),  # noqa: E501
    ("network_availability_zone", "Network Availability Zone", "Availability zone support for network."),  # noqa: E501
    ("pagination", "Pagination support", "Extension that indicates that pagination is enabled."),
    ("port-security", "Port Security", "Provides port security"),
    ("qos", "Quality of Service", "The Quality of Service extension."),
    ("qos-bw-limit-direction", "Direction for QoS bandwidth limit rule",
     "Allow to configure QoS bandwidth limit rule with specific direction: ingress or egress"),
    ("qos-bw-minimum-ingress", "Ingress direction for QoS minimum bandwidth rule",
     "Allow to configure QoS minumum bandwidth rule with ingress direction."),
    ("qos-default", "QoS default policy", "Expose the QoS default policy per project"),
    ("qos-rule-type-details", "Details of QoS rule types",
     "Expose details about QoS rule types supported by loaded backend drivers"),
    ("project-id", "project_id field enabled", "Extension that indicates that project_id field is enabled."),  # noqa: E501
    ("provider", "Provider Network", "Expose mapping of virtual networks to physical networks"),
    ("quota-check-limit", "Quota engine limit check",
     "Support for checking the resource usage before applying a new quota limit"),
    ("quotas", "Quota management support", "Expose functions for quotas management per project"),
    ("quota_details", "Quota details management support", "Expose functions for quotas usage statistics per project"),  # noqa: E501
    ("rbac-policies", "RBAC Policies", "Allows creation and modification of policies that control tenant access to resources."),  # noqa: E501
    ("router", "Neutron L3 Router", "Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway."),  # noqa: E501
    ("router_availability_zone", "Router Availability Zone", "Availability zone support for router."),  # noqa: E501
    ("security-group", "security-group", "The security groups extension."),
    ("service-type", "Neutron Service Type Management",
     "API for retrieving service providers for Neutron advanced services"),
    ("security-groups-normalized-cidr", "Security group normalized CIDR",
     "Add new field with normalized remote_ip_prefix cidr in SG rule"),
    ("sorting", "Sorting support", "Extension that indicates that sorting is enabled."),
    ("standard-attr-description", "standard-attr-description", "Extension to add descriptions to standard attributes"),  # noqa: E501
    ("standard-attr-revisions", "Resource revision numbers", "This extension will display the revision number of neutron resources."),  # noqa: E501
    ("standard-attr-tag", "Tag support for resources with standard attribute: subnet, trunk, network_segment_range, router, network, policy, subnetpool, port, security_group, floatingip",  # noqa: E501
     "Enables to set tag on resources with standard attribute."),
    ("standard-attr-timestamp", "Resource timestamps", "Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes."),  # noqa: E501
    ("stateful-security-group", "Stateful security group", "Indicates if the security group is stateful or not"),  # noqa: E501
    ("subnet-external-network", "Subnet belongs to an external network",
     "Informs if the subnet belongs to an external network"),
    ("trunk", "Trunk Extension", "Provides support for trunk ports"),
    ("trunk-details", "Trunk port details", "Expose trunk port details"),
    ("subnet_allocation", "Subnet Allocation", "Enables allocation of subnets from a subnet pool"),
    ("subnet-service-types", "Subnet service types", "Provides ability to set the subnet service_types field"),  # noqa: E501
)  # fmt: skip


def _doc(alias: str, name: str, description: str) -> dict[str, object]:
    return {"alias": alias, "name": name, "description": description, "updated": UPDATED,
            "links": []}  # fmt: skip


async def list_extensions(request: Request) -> Response:
    enforce(request, "get_extension", {})
    return json_response({"extensions": [_doc(*e) for e in EXTENSIONS]})


async def show_extension(request: Request) -> Response:
    enforce(request, "get_extension", {})
    alias = request.path_params["alias"]
    for ext in EXTENSIONS:
        if ext[0] == alias:
            return json_response({"extension": _doc(*ext)})
    raise errors.NotFound(f"Extension with alias {alias} does not exist")


# The service providers behind the advanced services (Neutron's service-type extension). The
# L3 ones are those Neutron's L3 router plugin always lists (its driver controller's legacy
# providers, in its order, none the default: a router's ha and distributed flags pick one).
# Every router here is single_node's: ha or distributed true is refused (see routers).
SERVICE_PROVIDERS: tuple[dict[str, object], ...] = tuple(
    {"service_type": "L3_ROUTER_NAT", "name": name, "default": False}
    for name in ("dvrha", "dvr", "ha", "single_node")
)


def _provider_matches(provider: dict[str, object], request: Request) -> bool:
    """Neutron's list filters: each given field must match (booleans in any case)."""
    for key, value in provider.items():
        wanted = [w.lower() for w in request.query_params.getlist(key)]
        if wanted and str(value).lower() not in wanted:
            return False
    return True


async def list_service_providers(request: Request) -> Response:
    get_context(request)
    found = [dict(p) for p in SERVICE_PROVIDERS if _provider_matches(p, request)]
    return json_response({"service_providers": found})


async def list_ip_availabilities(request: Request) -> Response:
    enforce(request, "get_network_ip_availability", {})
    q = request.query_params
    wanted = {k: q.getlist(k) for k in ip_availability.FILTERS if k in q}
    found = await ip_availability.availabilities(service(request).db, wanted)
    return json_response({"network_ip_availabilities": found})


async def show_ip_availability(request: Request) -> Response:
    enforce(request, "get_network_ip_availability", {})
    network_id = request.path_params["network_id"]
    found = await ip_availability.availabilities(service(request).db, {"network_id": [network_id]})
    if not found:
        raise nerr.NetworkNotFound(id=network_id)
    return json_response({"network_ip_availability": found[0]})


routes = [
    Route("/v2.0/network-ip-availabilities", list_ip_availabilities, methods=["GET"]),
    Route("/v2.0/network-ip-availabilities/{network_id}", show_ip_availability, methods=["GET"]),
    Route("/v2.0/service-providers", list_service_providers, methods=["GET"]),
    Route("/v2.0/extensions", list_extensions, methods=["GET"]),
    Route("/v2.0/extensions/{alias}", show_extension, methods=["GET"]),
]
