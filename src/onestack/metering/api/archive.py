"""Archive policies and archive policy rules."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.api import authorize, param
from onestack.common.http import empty, json_response
from onestack.metering import schemas
from onestack.metering.api.helpers import service, valid_body
from onestack.metering.views import rule_view


async def list_policies(request: Request) -> Response:
    authorize(request, "list archive policy")
    policies = await service(request).policies.all()
    return json_response([p.jsonify() for _, p in sorted(policies.items())])


async def create_policy(request: Request) -> Response:
    authorize(request, "create archive policy")
    spec = await valid_body(request, schemas.ArchivePolicyCreate)
    policy = await service(request).policies.create(spec.policy())
    return json_response(policy.jsonify(), 201)


async def show_policy(request: Request) -> Response:
    authorize(request, "get archive policy")
    return json_response((await service(request).policies.get(param(request, "name"))).jsonify())


async def update_policy(request: Request) -> Response:
    authorize(request, "update archive policy")
    change = await valid_body(request, schemas.ArchivePolicyUpdate)
    policy = await service(request).policies.update(param(request, "name"), change.definition)
    return json_response(policy.jsonify())


async def delete_policy(request: Request) -> Response:
    authorize(request, "delete archive policy")
    await service(request).policies.delete(param(request, "name"))
    return empty()


async def list_rules(request: Request) -> Response:
    authorize(request, "list archive policy rule")
    rules = await service(request).policies.rules()
    return json_response([rule_view(r) for r in sorted(rules, key=lambda r: r.name)])


async def create_rule(request: Request) -> Response:
    authorize(request, "create archive policy rule")
    rule = await service(request).policies.create_rule(
        await valid_body(request, schemas.ArchivePolicyRuleCreate)
    )
    return json_response(rule_view(rule), 201)


async def show_rule(request: Request) -> Response:
    authorize(request, "get archive policy rule")
    return json_response(rule_view(await service(request).policies.rule(param(request, "name"))))


async def update_rule(request: Request) -> Response:
    authorize(request, "update archive policy rule")
    change = await valid_body(request, schemas.ArchivePolicyRuleRename)
    rule = await service(request).policies.rename_rule(param(request, "name"), change.name)
    return json_response(rule_view(rule))


async def delete_rule(request: Request) -> Response:
    authorize(request, "delete archive policy rule")
    await service(request).policies.delete_rule(param(request, "name"))
    return empty()


AP = "/v1/archive_policy"
RULE = "/v1/archive_policy_rule"
routes = [
    Route(AP, list_policies, methods=["GET"]),
    Route(AP, create_policy, methods=["POST"]),
    Route(AP + "/{name}", show_policy, methods=["GET"]),
    Route(AP + "/{name}", update_policy, methods=["PATCH"]),
    Route(AP + "//{name}", update_policy, methods=["PATCH"]),  # gnocchiclient's own URL
    Route(AP + "/{name}", delete_policy, methods=["DELETE"]),
    Route(RULE, list_rules, methods=["GET"]),
    Route(RULE, create_rule, methods=["POST"]),
    Route(RULE + "/{name}", show_rule, methods=["GET"]),
    Route(RULE + "/{name}", update_rule, methods=["PATCH"]),
    Route(RULE + "//{name}", update_rule, methods=["PATCH"]),  # gnocchiclient's own URL
    Route(RULE + "/{name}", delete_rule, methods=["DELETE"]),
]
