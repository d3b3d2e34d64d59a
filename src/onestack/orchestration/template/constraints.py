"""Parameters' ``custom_constraint`` (``nova.flavor``, ``glance.image``, ``neutron.network``,
...): the value must name something the caller can use, asked of the owning service through
its facade before anything is created."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from onestack.common import errors
from onestack.compute.facade import ComputeAPI
from onestack.orchestration.errors import ResourceFailure, StackValidationFailed
from onestack.orchestration.resources.base import Context
from onestack.orchestration.resources.neutron import find_id
from onestack.orchestration.resources.nova import image_id
from onestack.orchestration.template.parameters import Parameter
from onestack.volume.facade import VolumeAPI


async def _flavor(c: Context, value: str) -> None:
    await c.runtime.service(ComputeAPI).flavor_id(c.ctx, value)


async def _volume(c: Context, value: str) -> None:
    await c.runtime.service(VolumeAPI).get(c.ctx, value)


def _neutron(collection: str) -> Callable[[Context, str], Awaitable[None]]:
    async def check(c: Context, value: str) -> None:
        await find_id(c, collection, value)

    return check


async def _image(c: Context, value: str) -> None:
    await image_id(c, value)


CHECKS: dict[str, tuple[str, Callable[[Context, str], Awaitable[None]]]] = {
    "nova.flavor": ("Flavor", _flavor),
    "glance.image": ("Image", _image),
    "cinder.volume": ("Volume", _volume),
    "neutron.network": ("Network", _neutron("networks")),
    "neutron.subnet": ("Subnet", _neutron("subnets")),
    "neutron.port": ("Port", _neutron("ports")),
    "neutron.router": ("Router", _neutron("routers")),
    "neutron.security_group": ("Security Group", _neutron("security-groups")),
}


async def check(c: Context, params: dict[str, Parameter], values: dict[str, Any]) -> None:
    """400 naming the parameter and the value when a custom constraint does not hold."""
    for name, param in params.items():
        for constraint in param.constraints:
            kind = constraint.get("custom_constraint")
            if kind not in CHECKS or values.get(name) in (None, ""):
                continue
            entity, fn = CHECKS[kind]
            items = values[name] if isinstance(values[name], list) else [values[name]]
            for item in items:
                try:
                    await fn(c, str(item))
                except (errors.NotFound, ResourceFailure):
                    reason = constraint.get("description") or (
                        f"Error validating value '{item}': The {entity} ({item}) could not be "
                        "found."
                    )
                    raise StackValidationFailed(
                        message=f"Parameter '{name}' is invalid: {reason}"
                    ) from None


# The resource properties Heat gives a custom constraint, checked as those of parameters.
PROPERTY_CHECKS = {"OS::Nova::Server": {"image": "glance.image", "flavor": "nova.flavor"}}


async def check_properties(c: Context, resources: Any, values: dict[str, Any]) -> None:
    """Heat's validation of those properties at a create or update, before anything is made:
    a literal value or a parameter's (one a resource gives is known only later). A resource
    under a condition is left to its create."""
    known: set[tuple[str, str]] = set()  # a group of servers names one image: asked once
    for rdef in resources.values():
        for prop, kind in PROPERTY_CHECKS.get(rdef.type, {}).items():
            value = rdef.properties.get(prop)
            if isinstance(value, dict) and list(value) == ["get_param"]:
                value = (
                    values.get(value["get_param"]) if isinstance(value["get_param"], str) else None
                )
            if rdef.condition is not None or not isinstance(value, str) or not value:
                continue
            if (kind, value) in known:
                continue
            entity, fn = CHECKS[kind]
            try:
                await fn(c, value)
                known.add((kind, value))
            except (errors.NotFound, ResourceFailure):
                raise StackValidationFailed(
                    message=f"Property error: resources.{rdef.name}.properties.{prop}: Error "
                    f"validating value '{value}': The {entity} ({value}) could not be found."
                ) from None
