"""/v3/domains/{domain_id}/config[/{group}[/{option}]] and /v3/domains/config/.../default."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.http import empty, json_response, read_json
from onestack.identity.api.helpers import authorize, require_body_key, service
from onestack.identity.service.domain_config import SECURITY_COMPLIANCE


def _parts(request: Request) -> tuple[str, str | None, str | None]:
    p = request.path_params
    return str(p["domain_id"]), p.get("group"), p.get("option")


async def _security_compliance(request: Request, domain_id: str, option: str | None) -> Response:
    """The password rules users of the default domain may read (Keystone serves its own)."""
    authorize(request, "identity:get_security_compliance_domain_config")
    if domain_id != "default":
        raise errors.Forbidden(
            "Invalid domain specific configuration: Reading security compliance information "
            "for any domain other than the default domain is not allowed or supported."
        )
    if option is not None and option not in SECURITY_COMPLIANCE:
        raise errors.Forbidden(
            "Invalid domain specific configuration: Reading security compliance values other "
            "than password_regex and password_regex_description is not allowed."
        )
    if option is not None:
        return json_response({"config": {option: None}})
    return json_response({"config": {"security_compliance": dict.fromkeys(SECURITY_COMPLIANCE)}})


async def show(request: Request) -> Response:
    domain_id, group, option = _parts(request)
    if group == "security_compliance":
        return await _security_compliance(request, domain_id, option)
    authorize(request, "identity:get_domain_config")
    svc = service(request)
    await svc.resources.get_domain(domain_id)
    config = await svc.domain_config.get(domain_id, group, option)
    return empty(200) if request.method == "HEAD" else json_response({"config": config})


async def create(request: Request) -> Response:
    domain_id, _, _ = _parts(request)
    authorize(request, "identity:create_domain_config")
    svc = service(request)
    await svc.resources.get_domain(domain_id)
    config = require_body_key(await read_json(request), "config")
    shown, created = await svc.domain_config.create(domain_id, config)
    return json_response({"config": shown}, 201 if created else 200)


async def update(request: Request) -> Response:
    domain_id, group, option = _parts(request)
    authorize(request, "identity:update_domain_config")
    svc = service(request)
    await svc.resources.get_domain(domain_id)
    config: Any = require_body_key(await read_json(request), "config")
    shown = await svc.domain_config.update(domain_id, config, group, option)
    return json_response({"config": shown})


async def remove(request: Request) -> Response:
    domain_id, group, option = _parts(request)
    authorize(request, "identity:delete_domain_config")
    svc = service(request)
    await svc.resources.get_domain(domain_id)
    await svc.domain_config.delete(domain_id, group, option)
    return empty()


async def defaults(request: Request) -> Response:
    authorize(request, "identity:get_domain_config_default")
    p = request.path_params
    config = service(request).domain_config.defaults(p.get("group"), p.get("option"))
    return empty(200) if request.method == "HEAD" else json_response({"config": config})


ONE = "/v3/domains/{domain_id}/config"
routes = [
    Route("/v3/domains/config/default", defaults, methods=["GET", "HEAD"]),
    Route("/v3/domains/config/{group}/default", defaults, methods=["GET", "HEAD"]),
    Route("/v3/domains/config/{group}/{option}/default", defaults, methods=["GET", "HEAD"]),
    Route(ONE, show, methods=["GET", "HEAD"]),
    Route(ONE, create, methods=["PUT"]),
    Route(ONE, update, methods=["PATCH"]),
    Route(ONE, remove, methods=["DELETE"]),
    Route(ONE + "/{group}", show, methods=["GET", "HEAD"]),
    Route(ONE + "/{group}", update, methods=["PATCH"]),
    Route(ONE + "/{group}", remove, methods=["DELETE"]),
    Route(ONE + "/{group}/{option}", show, methods=["GET", "HEAD"]),
    Route(ONE + "/{group}/{option}", update, methods=["PATCH"]),
    Route(ONE + "/{group}/{option}", remove, methods=["DELETE"]),
]
