"""The dashboard's pages, one module per area, each exporting ``ROUTES``."""

from __future__ import annotations

from starlette.routing import BaseRoute

from onestack.dashboard.pages import (
    admin,
    alarms,
    api_access,
    app_credentials,
    auth,
    containers,
    flavors,
    floating_ips,
    identity_groups,
    identity_projects,
    identity_users,
    image_edit,
    images,
    instance_actions,
    instance_attach,
    instance_console,
    instance_forms,
    instance_launch,
    instance_metrics,
    instances,
    key_pairs,
    networks,
    objects,
    overview,
    routers,
    security_groups,
    stack_launch,
    stacks,
    subnets,
    topology,
    volume_actions,
    volume_backups,
    volume_types,
    volumes,
)


def routes() -> list[BaseRoute]:
    return [
        *auth.ROUTES,
        *overview.ROUTES,
        # The launch dialog's path comes before an instance's (/project/instances/{id}/).
        *instance_launch.ROUTES,
        *instances.ROUTES,
        *instance_console.ROUTES,
        *instance_metrics.ROUTES,
        *instance_actions.ROUTES,
        *instance_forms.ROUTES,
        *instance_attach.ROUTES,
        *containers.ROUTES,
        *objects.ROUTES,
        *key_pairs.ROUTES,
        *images.ROUTES,
        *image_edit.ROUTES,
        # The fixed paths (accept_transfer/, backups/...) before the {volume_id} ones.
        *volume_actions.ROUTES,
        *volume_backups.ROUTES,
        *volumes.ROUTES,
        *volume_types.ROUTES,
        *networks.ROUTES,
        *subnets.ROUTES,
        *security_groups.ROUTES,
        *routers.ROUTES,
        *stacks.ROUTES,
        *stack_launch.ROUTES,
        *api_access.ROUTES,
        *app_credentials.ROUTES,
        *flavors.ROUTES,
        *admin.ROUTES,
        *floating_ips.ROUTES,
        *topology.ROUTES,
        *alarms.ROUTES,
        # /identity/{project_id}/... after the fixed /identity/users/..., groups, roles.
        *identity_users.ROUTES,
        *identity_groups.ROUTES,
        *identity_projects.ROUTES,
    ]
