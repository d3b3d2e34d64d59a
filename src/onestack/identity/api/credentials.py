"""Application credentials, /v3/credentials and the OS-EC2 extension."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.auth import get_context
from onestack.common.http import empty, json_response
from onestack.identity import schemas
from onestack.identity.api.helpers import (
    allowed,
    authorize,
    filters,
    param,
    service,
    valid_body,
    views,
)


def _owner_target(user_id: str) -> dict[str, Any]:
    return {"user_id": user_id, "target": {"user": {"id": user_id}}}


# --- application credentials ---------------------------------------------------------------
async def create_app_cred(request: Request) -> Response:
    user_id = param(request, "user_id")
    ctx = authorize(request, "identity:create_application_credential", _owner_target(user_id))
    body = await valid_body(request, schemas.AppCredCreate, "application_credential")
    if ctx.project_id is None:
        raise errors.Forbidden("Application credentials need a project-scoped token.")
    if ctx.application_credential_id is not None and ctx.application_credential_restricted:
        raise errors.Forbidden(
            "A restricted application credential cannot create application credentials."
        )
    svc = service(request)
    if body.roles:
        # As Keystone: the roles the user holds now, which may be newer than the token.
        held = await svc.roles.roles_by_id(
            await svc.assignments.effective_role_ids(user_id, "project", ctx.project_id)
        )
        wanted: list[str] = []
        for ref in body.roles:
            match = [
                rid
                for rid, role in held.items()
                if rid == ref.id or (ref.id is None and role.name == ref.name)
            ]
            if not match:
                raise errors.NotFound(
                    f"Could not find role assignment with role: {ref.id or ref.name}, "
                    f"user or group: {user_id}, project, domain, or system: {ctx.project_id}."
                )
            wanted.extend(match)
    else:
        wanted = list(ctx.role_ids)
    values = body.model_dump(exclude_unset=True, exclude={"roles", "system"})
    cred, secret = await svc.credentials.create_app_cred(user_id, ctx.project_id, values, wanted)
    roles = list((await svc.roles.roles_by_id(cred.roles)).values())
    return json_response(
        {"application_credential": views(request).app_cred(cred, roles, secret)}, 201
    )


async def list_app_creds(request: Request) -> Response:
    user_id = param(request, "user_id")
    authorize(request, "identity:list_application_credentials", _owner_target(user_id))
    svc = service(request)
    creds = await svc.credentials.list_app_creds(user_id, request.query_params.get("name"))
    roles = await svc.roles.roles_by_id({r for c in creds for r in c.roles})
    items = [views(request).app_cred(c, [roles[r] for r in c.roles if r in roles]) for c in creds]
    return json_response(
        views(request).collection(
            "application_credentials", items, f"users/{user_id}/application_credentials"
        )
    )


async def _owned_app_cred(request: Request, action: str) -> Any:
    user_id = param(request, "user_id")
    authorize(request, action, _owner_target(user_id))
    cred = await service(request).credentials.get_app_cred(param(request, "cred_id"))
    if cred.user_id != user_id:
        raise errors.NotFound(kind="application credential", id=cred.id)
    return cred


async def get_app_cred(request: Request) -> Response:
    cred = await _owned_app_cred(request, "identity:get_application_credential")
    roles = await service(request).roles.roles_by_id(cred.roles)
    return json_response(
        {
            "application_credential": views(request).app_cred(
                cred, [roles[r] for r in cred.roles if r in roles]
            )
        }
    )


async def delete_app_cred(request: Request) -> Response:
    cred = await _owned_app_cred(request, "identity:delete_application_credential")
    await service(request).credentials.delete_app_cred(cred.id)
    return empty()


async def list_access_rules(request: Request) -> Response:
    user_id = param(request, "user_id")
    authorize(request, "identity:list_access_rules", _owner_target(user_id))
    rules = await service(request).credentials.list_access_rules(user_id)
    items = [views(request).access_rule(r) for r in rules]
    return json_response(
        views(request).collection("access_rules", items, f"users/{user_id}/access_rules")
    )


async def get_access_rule(request: Request) -> Response:
    user_id = param(request, "user_id")
    authorize(request, "identity:get_access_rule", _owner_target(user_id))
    rule = await service(request).credentials.get_access_rule(user_id, param(request, "rule_id"))
    return json_response({"access_rule": views(request).access_rule(rule)})


async def delete_access_rule(request: Request) -> Response:
    user_id = param(request, "user_id")
    authorize(request, "identity:delete_access_rule", _owner_target(user_id))
    await service(request).credentials.delete_access_rule(user_id, param(request, "rule_id"))
    return empty()


# --- /v3/credentials -----------------------------------------------------------------------
def _credential_target(user_id: str | None) -> dict[str, Any]:
    return {"target": {"credential": {"user_id": user_id}}}


async def list_credentials(request: Request) -> Response:
    ctx = get_context(request)
    wanted = filters(request, "user_id", "type")
    svc = service(request)
    if not allowed(request, "identity:list_credentials", _credential_target(wanted.get("user_id"))):
        # Non-admins see their own credentials only, as in Keystone.
        wanted["user_id"] = ctx.user_id
        authorize(request, "identity:list_credentials", _credential_target(ctx.user_id))
    creds = await svc.credentials.list_credentials(wanted)
    items = [views(request).credential(c, svc.credentials.decrypt(c)) for c in creds]
    return json_response(views(request).collection("credentials", items, "credentials"))


async def create_credential(request: Request) -> Response:
    body = await valid_body(request, schemas.CredentialCreate, "credential")
    authorize(request, "identity:create_credential", _credential_target(body.user_id))
    svc = service(request)
    cred = await svc.credentials.create_credential(body.changes())
    return json_response(
        {"credential": views(request).credential(cred, svc.credentials.decrypt(cred))}, 201
    )


async def _credential(request: Request, action: str) -> Any:
    svc = service(request)
    cred_id = param(request, "credential_id")
    try:
        cred = await svc.credentials.get_credential(cred_id)
    except errors.NotFound:
        authorize(request, action, _credential_target(None))
        raise
    authorize(request, action, _credential_target(cred.user_id))
    return cred


async def get_credential(request: Request) -> Response:
    cred = await _credential(request, "identity:get_credential")
    blob = service(request).credentials.decrypt(cred)
    return json_response({"credential": views(request).credential(cred, blob)})


async def update_credential(request: Request) -> Response:
    cred = await _credential(request, "identity:update_credential")
    body = await valid_body(request, schemas.CredentialUpdate, "credential")
    svc = service(request)
    changes = body.changes()
    if "user_id" in changes:
        authorize(request, "identity:update_credential", _credential_target(changes["user_id"]))
    cred = await svc.credentials.update_credential(cred.id, changes)
    return json_response(
        {"credential": views(request).credential(cred, svc.credentials.decrypt(cred))}
    )


async def delete_credential(request: Request) -> Response:
    cred = await _credential(request, "identity:delete_credential")
    await service(request).credentials.delete_credential(cred.id)
    return empty()


# --- OS-EC2 --------------------------------------------------------------------------------
async def create_ec2(request: Request) -> Response:
    user_id = param(request, "user_id")
    authorize(request, "identity:create_credential", _credential_target(user_id))
    body = await valid_body(request, schemas.Ec2Create)
    svc = service(request)
    await svc.resources.get_project(body.tenant_id)
    cred, blob = await svc.credentials.create_ec2(user_id, body.tenant_id)
    return json_response({"credential": views(request).ec2(cred, blob)}, 201)


async def list_ec2(request: Request) -> Response:
    user_id = param(request, "user_id")
    authorize(request, "identity:list_credentials", _credential_target(user_id))
    svc = service(request)
    creds = await svc.credentials.list_credentials({"user_id": user_id, "type": "ec2"})
    items = [views(request).ec2(c, orjson.loads(svc.credentials.decrypt(c))) for c in creds]
    return json_response(
        views(request).collection("credentials", items, f"users/{user_id}/credentials/OS-EC2")
    )


async def _ec2(request: Request, action: str) -> tuple[Any, dict[str, Any]]:
    user_id = param(request, "user_id")
    authorize(request, action, _credential_target(user_id))
    cred, blob = await service(request).credentials.ec2_by_access(param(request, "access"))
    if cred.user_id != user_id:
        raise errors.NotFound(kind="credential", id=param(request, "access"))
    return cred, blob


async def get_ec2(request: Request) -> Response:
    cred, blob = await _ec2(request, "identity:get_credential")
    return json_response({"credential": views(request).ec2(cred, blob)})


async def delete_ec2(request: Request) -> Response:
    cred, _ = await _ec2(request, "identity:delete_credential")
    await service(request).credentials.delete_credential(cred.id)
    return empty()


routes = [
    Route("/v3/users/{user_id}/application_credentials", list_app_creds, methods=["GET"]),
    Route("/v3/users/{user_id}/application_credentials", create_app_cred, methods=["POST"]),
    Route("/v3/users/{user_id}/application_credentials/{cred_id}", get_app_cred, methods=["GET"]),
    Route(
        "/v3/users/{user_id}/application_credentials/{cred_id}", delete_app_cred, methods=["DELETE"]
    ),
    Route("/v3/users/{user_id}/access_rules", list_access_rules, methods=["GET"]),
    Route("/v3/users/{user_id}/access_rules/{rule_id}", get_access_rule, methods=["GET"]),
    Route("/v3/users/{user_id}/access_rules/{rule_id}", delete_access_rule, methods=["DELETE"]),
    Route("/v3/credentials", list_credentials, methods=["GET"]),
    Route("/v3/credentials", create_credential, methods=["POST"]),
    Route("/v3/credentials/{credential_id}", get_credential, methods=["GET"]),
    Route("/v3/credentials/{credential_id}", update_credential, methods=["PATCH"]),
    Route("/v3/credentials/{credential_id}", delete_credential, methods=["DELETE"]),
    Route("/v3/users/{user_id}/credentials/OS-EC2", list_ec2, methods=["GET"]),
    Route("/v3/users/{user_id}/credentials/OS-EC2", create_ec2, methods=["POST"]),
    Route("/v3/users/{user_id}/credentials/OS-EC2/{access}", get_ec2, methods=["GET"]),
    Route("/v3/users/{user_id}/credentials/OS-EC2/{access}", delete_ec2, methods=["DELETE"]),
]
