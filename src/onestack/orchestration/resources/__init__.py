"""Resource types by name: every plugin module's classes, found at import; a type naming a
template (``nested.yaml``: a key of the client's ``files``) is a template resource."""

from __future__ import annotations

from onestack.orchestration.resources import (
    aodh,
    autoscaling,
    aws,
    cinder,
    deployments,
    glance,
    heat,
    keystone,
    neutron,
    nova,
    software,
    stacks,
    swift,
    waits,
)
from onestack.orchestration.resources.base import Plugin

REGISTRY: dict[str, type[Plugin]] = {
    cls.type_name: cls
    for module in (
        heat,
        neutron,
        nova,
        cinder,
        glance,
        swift,
        software,
        deployments,
        stacks,
        autoscaling,
        aws,
        waits,
        aodh,
        keystone,
    )
    for cls in module.PLUGINS
}


def plugin_type(name: str) -> type[Plugin] | None:
    found = REGISTRY.get(name)
    if found is None and stacks.is_template(name):
        return stacks.TemplateResource
    return found
