"""Resource types: the list, each type's schema, and a template made from a type."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from onestack.common.api import authorize
from onestack.common.http import json_response
from onestack.orchestration.api.common import caller
from onestack.orchestration.errors import EntityNotFound, StackValidationFailed
from onestack.orchestration.resources import REGISTRY


async def resource_types(request: Request) -> Response:
    caller(request)
    authorize(request, "stacks:list_resource_types")
    name = request.query_params.get("name")
    found = sorted(t for t in REGISTRY if not name or name in t)
    if request.query_params.get("with_description", "").lower() == "true":
        return json_response(
            {
                "resource_types": [
                    {"resource_type": t, "description": REGISTRY[t].description} for t in found
                ]
            }
        )
    return json_response({"resource_types": found})


async def resource_schema(request: Request) -> Response:
    caller(request)
    authorize(request, "stacks:resource_schema")
    name = request.path_params["type_name"]
    plugin = REGISTRY.get(name)
    if plugin is None:
        raise EntityNotFound(entity="Resource Type", name=name)
    return json_response(
        {
            "resource_type": name,
            "description": plugin.description,
            "properties": {k: p.schema() for k, p in plugin.properties.items()},
            "attributes": {
                **{k: {"description": d, "type": "string"} for k, d in plugin.attributes.items()},
                "show": {"description": "Detailed information about resource.", "type": "map"},
            },
            "support_status": {
                "status": "SUPPORTED",
                "version": None,
                "message": None,
                "previous_status": None,
            },
        }
    )


async def resource_type_template(request: Request) -> Response:
    """Heat's generate_template: a template with the type's properties as parameters and
    its attributes as outputs (``template_type`` hot or cfn)."""
    caller(request)
    authorize(request, "stacks:generate_template")
    name = request.path_params["type_name"]
    plugin = REGISTRY.get(name)
    if plugin is None:
        raise EntityNotFound(entity="Resource Type", name=name)
    kind = request.query_params.get("template_type", "cfn").lower()
    if kind not in ("hot", "cfn"):
        raise StackValidationFailed(message=f"Template type is not supported: {kind}")
    short = name.split("::")[-1]
    params = {}
    for pname, prop in plugin.properties.items():
        ptype = {"integer": "number", "map": "json", "list": "comma_delimited_list"}.get(
            prop.type, prop.type
        )
        param: dict[str, object] = {"type": ptype, "description": prop.description}
        if prop.default is not None:
            param["default"] = prop.default
        params[pname] = param
    attrs = {**plugin.attributes, "show": "Detailed information about resource."}
    if kind == "hot":
        return json_response(
            {
                "heat_template_version": "2016-10-14",
                "description": f"Initial template of {short}",
                "parameters": params,
                "resources": {
                    short: {
                        "type": name,
                        "properties": {p: {"get_param": p} for p in plugin.properties},
                    }
                },
                "outputs": {
                    a: {"description": d, "value": {"get_attr": [short, a]}}
                    for a, d in attrs.items()
                },
            }
        )
    cfn_types = {"string": "String", "number": "Number", "json": "Json",
                 "comma_delimited_list": "CommaDelimitedList", "boolean": "Boolean"}  # fmt: skip
    return json_response(
        {
            "HeatTemplateFormatVersion": "2012-12-12",
            "Description": f"Initial template of {short}",
            "Parameters": {
                p: {
                    **{k: v for k, v in spec.items() if k != "type" and k != "description"},
                    "Type": cfn_types.get(str(spec["type"]), "String"),
                    "Description": spec["description"],
                }
                for p, spec in params.items()
            },
            "Resources": {
                short: {"Type": name, "Properties": {p: {"Ref": p} for p in plugin.properties}}
            },
            "Outputs": {
                a: {"Description": d, "Value": {"Fn::GetAtt": [short, a]}} for a, d in attrs.items()
            },
        }
    )
