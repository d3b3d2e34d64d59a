"""Neutron's error types: the class name is the ``type`` of the ``NeutronError`` body."""

from __future__ import annotations

from onestack.common import errors


class NetworkNotFound(errors.NotFound):
    template = "Network {id} could not be found."


class SubnetNotFound(errors.NotFound):
    template = "Subnet {id} could not be found."


class PortNotFound(errors.NotFound):
    template = "Port {id} could not be found."


class RouterNotFound(errors.NotFound):
    template = "Router {id} could not be found."


class FloatingIPNotFound(errors.NotFound):
    template = "Floating IP {id} could not be found"


class SecurityGroupNotFound(errors.NotFound):
    template = "Security group {id} does not exist"


class SecurityGroupRuleNotFound(errors.NotFound):
    template = "Security group rule {id} does not exist"


class RbacPolicyNotFound(errors.NotFound):
    template = "RBAC policy with type {type} and id {id} not found"


class AddressScopeNotFound(errors.NotFound):
    template = "Address scope {id} could not be found."


class SubnetPoolNotFound(errors.NotFound):
    template = "Subnet pool {id} could not be found."


class PortForwardingNotFound(errors.NotFound):
    template = "Port Forwarding {id} could not be found."


class AgentNotFound(errors.NotFound):
    template = "Agent {id} could not be found."


class MeteringLabelNotFound(errors.NotFound):
    template = "Metering label {id} does not exist"


class MeteringLabelRuleNotFound(errors.NotFound):
    template = "Metering label rule {id} does not exist"


class TagNotFound(errors.NotFound):
    template = "Tag {tag} could not be found."


class RouterInterfaceNotFoundForSubnet(errors.NotFound):
    template = "Router {router_id} has no interface on subnet {subnet_id}."


class RouterInterfaceNotFound(errors.NotFound):
    template = "Router {router_id} does not have an interface with id {port_id}."


class HTTPBadRequest(errors.BadRequest):
    """Neutron's generic attribute validation failure."""


class HTTPNotFound(errors.NotFound):
    """Neutron's answer to a port or subnet on a network the caller may see but not use:
    a 404 that does not admit the network exists for it."""

    template = "The resource could not be found."


class DeviceIDNotOwnedByTenant(errors.Conflict):
    template = (
        "The following device_id {device_id} is not owned by your tenant or matches "
        "another tenants router."
    )


class InvalidInput(errors.BadRequest):
    template = "Invalid input for operation: {reason}"


class InvalidSortKey(errors.BadRequest):
    template = "{key} is an invalid attribute for sort_key."


class InvalidFilter(errors.BadRequest):
    template = "{key} is invalid attribute for filtering."


class InvalidAllocationPool(errors.BadRequest):
    template = "The allocation pool {pool} is not valid."


class InvalidCIDR(errors.BadRequest):
    template = "Invalid CIDR {cidr} for IP version {version}."


class BadRequest(errors.BadRequest):
    template = "Bad {resource} request: {msg}."


class InvalidIpForSubnet(errors.BadRequest):
    template = "IP address {ip_address} is not a valid IP for the specified subnet."


class InvalidIpForNetwork(errors.BadRequest):
    template = "IP address {ip_address} is not a valid IP for any of the subnets on the network."


class SecurityGroupInvalidPortRange(errors.BadRequest):
    template = "For TCP/UDP protocols, port_range_min must be <= port_range_max"


class SecurityGroupInvalidPortValue(errors.BadRequest):
    template = "Invalid value for port {port}."


class SecurityGroupRuleInvalidProtocol(errors.BadRequest):
    template = "Security group rule protocol {protocol} not supported. Only protocol values {values} and integer representations [0 to 255] are supported."  # noqa: E501


class SecurityGroupRuleInvalidEtherType(errors.BadRequest):
    template = "Security group rule for ethertype '{ethertype}' not supported. Allowed values are {values}."  # noqa: E501


class SecurityGroupRuleParameterConflict(errors.BadRequest):
    template = "Conflicting value ethertype {ethertype} for CIDR {cidr}"


class SecurityGroupRemoteGroupAndRemoteIpPrefix(errors.BadRequest):
    template = "Only remote_ip_prefix or remote_group_id may be provided."


class SecurityGroupInvalidIcmpValue(errors.BadRequest):
    template = "Invalid value for ICMP {field} (type or code) {attr}"


class SecurityGroupMissingIcmpType(errors.BadRequest):
    template = (
        "ICMP code (port-range-max) {value} is provided but ICMP type (port-range-min) is missing."
    )


class SecurityGroupCannotRemoveDefault(errors.Conflict):
    template = "Insufficient rights for removing default security group."


class SecurityGroupDefaultAlreadyExists(errors.Conflict):
    template = "Default security group already exists."


class SecurityGroupCannotUpdateDefault(errors.Conflict):
    template = "Updating default security group not allowed."


class SecurityGroupInUse(errors.Conflict):
    template = "Security Group {id} in use."


class SecurityGroupRuleExists(errors.Conflict):
    template = "Security group rule already exists. Rule id is {rule_id}."


class IpAddressAlreadyAllocated(errors.Conflict):
    template = "IP address {ip} already allocated in subnet {subnet_id}"


class IpAddressGenerationFailure(errors.Conflict):
    template = "No more IP addresses available on network {net_id}."


class MacAddressInUse(errors.Conflict):
    template = "Unable to complete operation for network {net_id}. The mac address {mac} is in use."


class NetworkInUse(errors.Conflict):
    template = "Unable to complete operation on network {net_id}. There are one or more ports still in use on the network."  # noqa: E501


class SubnetInUse(errors.Conflict):
    template = "Unable to complete operation on subnet {subnet_id}: One or more ports have an IP allocation from this subnet."  # noqa: E501


class PortInUse(errors.Conflict):
    template = "Unable to complete operation on port {port_id} for network {net_id}. Port already has an attached device {device_id}."  # noqa: E501


class RouterInUse(errors.Conflict):
    template = "Router {router_id} {reason}"


class RouterInterfaceInUseByFloatingIP(errors.Conflict):
    template = "Router interface for subnet {subnet_id} on router {router_id} cannot be deleted, as it is required by one or more floating IPs."  # noqa: E501


class GatewayConflictWithAllocationPools(errors.Conflict):
    template = "Gateway ip {ip_address} conflicts with allocation pool {pool}."


class OverlappingAllocationPools(errors.Conflict):
    template = "{reason}"


class FloatingIPPortAlreadyAssociated(errors.Conflict):
    template = "Cannot associate floating IP {floating_ip_address} ({fip_id}) with port {port_id} using fixed IP {fixed_ip}, as that fixed IP already has a floating IP on external network {net_id}."  # noqa: E501


class ExternalGatewayForFloatingIPNotFound(errors.NotFound):
    template = "External network {external_network_id} is not reachable from subnet {subnet_id}.  Therefore, cannot associate Port {port_id} with a Floating IP."  # noqa: E501


class ExternalNetworkInUse(errors.Conflict):
    template = "{reason}"


class DefaultExternalNetworkExists(errors.Conflict):
    template = "A default external network already exists: {net_id}."


class OverQuota(errors.Conflict):
    template = "Quota exceeded for resources: {overs}."


class InUse(errors.Conflict):
    template = "{reason}"


class Conflict(errors.Conflict):
    template = "{reason}"


class NoNetworkAvailable(errors.ServiceUnavailable):
    template = "Unable to create the network. No tenant network is available for allocation."


class TagResourceNotFound(errors.NotFound):
    template = "Resource {resource} with id {resource_id} not found."


class PortBindingAlreadyExists(errors.Conflict):
    template = "Binding for port {port_id} on host {host} already exists."


class DuplicateRbacPolicy(errors.Conflict):
    template = "An RBAC policy already exists with those values."


class RbacPolicyInUse(errors.Conflict):
    template = (
        "RBAC policy on object {object_id} cannot be removed because other objects depend on it."
    )


class SubnetPoolQuotaExceeded(errors.Conflict):
    template = "Per-tenant subnet pool prefix quota exceeded."


class PrefixUnavailable(errors.Conflict):
    template = "Unable to allocate subnet with prefix length {prefixlen}, no more prefixes available in pool {pool}."  # noqa: E501


class QosPolicyNotFound(errors.NotFound):
    template = "QoS policy {id} could not be found."


class QosRuleNotFound(errors.NotFound):
    template = "QoS rule {rule_id} for policy {policy_id} could not be found."


class QosRuleTypeNotFound(errors.NotFound):
    template = "QoS rule type {rule_type} could not be found."


class QosPolicyInUse(errors.Conflict):
    template = "QoS Policy {policy_id} is used by {object_type} {object_id}."


class QoSPolicyDefaultAlreadyExists(errors.Conflict):
    template = "A default QoS policy exists for project {project_id}."


class QoSRulesConflict(errors.Conflict):
    template = "Rule {new_rule_type} conflicts with rule {rule_id} which already exists in QoS Policy {policy_id}."  # noqa: E501


class NetworkHostedByDHCPAgent(errors.Conflict):
    template = "The network {network_id} has been already hosted by the DHCP Agent {agent_id}."


class NetworkNotHostedByDhcpAgent(errors.Conflict):
    template = "The network {network_id} is not hosted by the DHCP agent {agent_id}."


class InvalidDHCPAgent(errors.NotFound):
    template = "Agent {id} is not a valid DHCP Agent or has been disabled"


class RouterHostedByL3Agent(errors.Conflict):
    template = "The router {router_id} has been already hosted by the L3 Agent {agent_id}."


class RouterNotHostedByL3Agent(errors.Conflict):
    template = "The router {router_id} is not hosted by L3 agent {agent_id}."


class InvalidL3Agent(errors.NotFound):
    template = "Agent {id} is not a L3 Agent or has been disabled"
