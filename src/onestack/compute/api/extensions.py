"""``/extensions``: Nova's frozen list of legacy v2 extensions, kept for old clients that
check an extension's presence before using it. Only those whose API OneStack serves."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.http import json_response
from onestack.compute.api.helpers import authorize, param

# Nova answers these two constants for every extension since v2.1 replaced them.
NAMESPACE = "http://docs.openstack.org/compute/ext/fake_xml"
UPDATED = "2014-12-03T00:00:00Z"

# (name, alias, description)
EXTENSIONS: tuple[tuple[str, str, str], ...] = (
    ("DiskConfig", "OS-DCF", "Disk Management Extension."),
    ("ExtendedAvailabilityZone", "OS-EXT-AZ", "Extended Availability Zone support."),
    ("ImageSize", "OS-EXT-IMG-SIZE", "Adds image size to image listings."),
    ("ExtendedIps", "OS-EXT-IPS", ""),
    ("ExtendedIpsMac", "OS-EXT-IPS-MAC", ""),
    ("ExtendedServerAttributes", "OS-EXT-SRV-ATTR", "Extended Server Attributes support."),
    ("ExtendedStatus", "OS-EXT-STS", "Extended Status support."),
    ("FlavorDisabled", "OS-FLV-DISABLED", ""),
    ("FlavorExtraData", "OS-FLV-EXT-DATA", ""),
    ("SchedulerHints", "OS-SCH-HNT", "Pass arbitrary key/value pairs to the scheduler."),
    ("ServerUsage", "OS-SRV-USG", "Adds launched_at and terminated_at on Servers."),
    ("AccessIPs", "os-access-ips", "Access IPs support."),
    ("AdminActions", "os-admin-actions", "Enable admin-only server actions."),
    ("Aggregates", "os-aggregates", "Admin-only aggregate administration."),
    ("AttachInterfaces", "os-attach-interfaces", "Attach interface support."),
    ("AvailabilityZone", "os-availability-zone", "Availability zones in server create."),
    ("BlockDeviceMapping", "os-block-device-mapping", "Block device mapping boot support."),
    ("BlockDeviceMappingV2Boot", "os-block-device-mapping-v2-boot", ""),
    ("ConfigDrive", "os-config-drive", "Config Drive Extension."),
    ("ConsoleOutput", "os-console-output", "Console log output support, with tailing ability."),
    ("Consoles", "os-consoles", "Interactive Console support."),
    ("Createserverext", "os-create-server-ext", ""),
    ("ExtendedHypervisors", "os-extended-hypervisors", ""),
    ("ExtendedQuotas", "os-extended-quotas", ""),
    ("ExtendedServices", "os-extended-services", ""),
    ("ExtendedServicesDelete", "os-extended-services-delete", ""),
    ("ExtendedVolumes", "os-extended-volumes", "Extended Volumes support."),
    ("FlavorAccess", "os-flavor-access", "Flavor access support."),
    ("FlavorExtraSpecs", "os-flavor-extra-specs", "Flavors extra specs support."),
    ("FlavorManage", "os-flavor-manage", "Flavor create/delete API support."),
    ("FlavorRxtx", "os-flavor-rxtx", "Support to show the rxtx status of a flavor."),
    ("FlavorSwap", "os-flavor-swap", ""),
    ("Hosts", "os-hosts", "Admin-only host administration."),
    ("HypervisorStatus", "os-hypervisor-status", ""),
    ("Hypervisors", "os-hypervisors", "Admin-only hypervisor administration."),
    ("InstanceActions", "os-instance-actions", "View a log of actions taken on an instance."),
    ("Keypairs", "os-keypairs", "Keypair Support."),
    ("Lock", "os-lock-server", "Enable lock/unlock server actions."),
    ("MultipleCreate", "os-multiple-create", "Allow multiple create in the Create Server API."),
    ("PauseServer", "os-pause-server", "Enable pause/unpause server actions."),
    ("QuotaClasses", "os-quota-class-sets", "Quota classes management support."),
    ("Quotas", "os-quota-sets", "Quotas management support."),
    ("SecurityGroups", "os-security-groups", "Security group support."),
    ("ServerDiagnostics", "os-server-diagnostics", "Allow Admins to view server diagnostics."),
    ("ServerGroupQuotas", "os-server-group-quotas", ""),
    ("ServerGroups", "os-server-groups", "Server group support."),
    ("ServerListMultiStatus", "os-server-list-multi-status", ""),
    ("ServerPassword", "os-server-password", "Server password support."),
    ("ServerSortKeys", "os-server-sort-keys", ""),
    ("ServerStartStop", "os-server-start-stop", ""),
    ("Services", "os-services", "Services support."),
    ("SimpleTenantUsage", "os-simple-tenant-usage", "Simple tenant usage extension."),
    ("SuspendServer", "os-suspend-server", "Enable suspend/resume server actions."),
    ("UsedLimits", "os-used-limits", "Provide data on limited resources that are being used."),
    ("UsedLimitsForAdmin", "os-used-limits-for-admin", ""),
    ("UserQuotas", "os-user-quotas", ""),
    ("Volumes", "os-volumes", "Volumes support."),
)


def _view(name: str, alias: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "alias": alias,
        "description": description,
        "namespace": NAMESPACE,
        "updated": UPDATED,
        "links": [],
    }


async def list_extensions(request: Request) -> Response:
    authorize(request, "extensions")
    return json_response({"extensions": [_view(*e) for e in EXTENSIONS]})


async def show_extension(request: Request) -> Response:
    authorize(request, "extensions")
    alias = param(request, "alias")
    for ext in EXTENSIONS:
        if ext[1] == alias:
            return json_response({"extension": _view(*ext)})
    raise errors.NotFound(f"Extension {alias} could not be found.")


routes = [
    Route("/extensions", list_extensions, methods=["GET"]),
    Route("/extensions/{alias}", show_extension, methods=["GET"]),
]
