"""Templates: validation, the template versions and their functions; and the build info."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from onestack.common.api import authorize, body
from onestack.common.http import json_response
from onestack.orchestration import services as engine_services
from onestack.orchestration import urlfetch
from onestack.orchestration.api.common import caller, service
from onestack.orchestration.errors import EntityNotFound
from onestack.orchestration.schemas import TemplateBody
from onestack.orchestration.template import cfn, functions, hot, hotlegacy


async def validate(request: Request) -> Response:
    ctx = caller(request)
    authorize(request, "stacks:validate_template")
    # heatclient asks for the nested stacks' parameters in the query (and repeats it in the
    # body, as every other keyword of its validate call).
    nested = request.query_params.get("show_nested", "").lower() in ("true", "1", "yes")
    svc = service(request)
    given = await urlfetch.resolve(await body(request, TemplateBody), svc.settings)
    return json_response(svc.validate(ctx, given, nested))


async def template_versions(request: Request) -> Response:
    caller(request)
    authorize(request, "stacks:list_template_versions")
    return json_response({"template_versions": hot.template_versions()})


async def template_functions(request: Request) -> Response:
    caller(request)
    authorize(request, "stacks:list_template_functions")
    if request.path_params["template_version"] in {f"{cfn.VERSION_KEY}.{v}" for v in cfn.VERSIONS}:
        return json_response(
            {
                "template_functions": [
                    {"functions": n, "description": d} for n, d in sorted(cfn.DESCRIPTIONS.items())
                ]
            }
        )
    version = request.path_params["template_version"].removeprefix("heat_template_version.")
    if version not in functions.VERSIONS and version not in functions.ALIASES:
        raise EntityNotFound(
            entity="Template version", name=request.path_params["template_version"]
        )
    names = functions.version_functions(version) | hotlegacy.live(version)
    if request.query_params.get("with_condition_func", "").lower() != "true":
        # Heat lists a version's condition functions only when asked: they are evaluated
        # in conditions (and if's first argument), not among the template's functions.
        names = names - {"equals", "not", "and", "or"}
    return json_response(
        {
            "template_functions": [
                {
                    "functions": n,
                    "description": functions.DESCRIPTIONS.get(n) or cfn.DESCRIPTIONS.get(n, ""),
                }
                for n in sorted(names)
            ]
        }
    )


async def build_info(request: Request) -> Response:
    caller(request)
    authorize(request, "build_info:build_info")
    return json_response({"api": {"revision": "onestack"}, "engine": {"revision": "onestack"}})


async def services(request: Request) -> Response:
    """Heat's service list: the engines and whether they report (admins only)."""
    caller(request)
    authorize(request, "service:index")
    return json_response({"services": await engine_services.listing(service(request).db)})
