"""/v3/OS-FEDERATION: identity providers, their protocols, mappings, service providers, the
federated login, and the projects and domains a federated token may scope to."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common import errors
from onestack.common.auth import get_context
from onestack.common.http import empty, json_response, read_json, validate
from onestack.config import IdentitySettings
from onestack.identity import mapping, models, schemas
from onestack.identity.api.helpers import (
    authorize,
    filters,
    param,
    require_body_key,
    service,
    views,
)
from onestack.identity.api.views import Views
from onestack.identity.service import IdentityService

BASE = "OS-FEDERATION"


def _idp(v: Views, idp: models.IdentityProvider, remote_ids: list[str]) -> dict[str, Any]:
    path = f"{v.base}/{BASE}/identity_providers/{idp.id}"
    return {
        "id": idp.id,
        "enabled": idp.enabled,
        "description": idp.description,
        "domain_id": idp.domain_id,
        "authorization_ttl": idp.authorization_ttl,
        "remote_ids": remote_ids,
        "links": {"self": path, "protocols": f"{path}/protocols"},
    }


def _protocol(v: Views, p: models.FederationProtocol, listed: bool = False) -> dict[str, Any]:
    idp = f"{v.base}/{BASE}/identity_providers/{p.idp_id}"
    body: dict[str, Any] = {
        "id": p.id,
        "mapping_id": p.mapping_id,
        "links": {"self": f"{idp}/protocols/{p.id}", "identity_provider": idp},
    }
    if listed:  # Keystone lists these two; a single protocol shows the attribute when set
        body["idp_id"] = p.idp_id
        body["remote_id_attribute"] = p.remote_id_attribute
    elif p.remote_id_attribute is not None:
        body["remote_id_attribute"] = p.remote_id_attribute
    return body


def _mapping(v: Views, m: models.Mapping) -> dict[str, Any]:
    return {
        "id": m.id,
        "rules": m.rules,
        "schema_version": m.schema_version,
        "links": v.link(f"{BASE}/mappings/{m.id}"),
    }


def _sp(v: Views, sp: models.ServiceProvider) -> dict[str, Any]:
    return {
        "id": sp.id,
        "auth_url": sp.auth_url,
        "sp_url": sp.sp_url,
        "description": sp.description,
        "enabled": sp.enabled,
        "relay_state_prefix": sp.relay_state_prefix,
        "links": v.link(f"{BASE}/service_providers/{sp.id}"),
    }


def _without_id(request: Request, raw: Any) -> Any:
    """openstacksdk sends the resource's id in the body too: accepted when it is the path's
    (Keystone's ``_require_matching_id``)."""
    if isinstance(raw, dict) and "id" in raw:
        raw = dict(raw)
        given = raw.pop("id")
        if given not in request.path_params.values():
            raise errors.BadRequest("The ID in the body does not match the ID in the URL.")
    return raw


async def _member(request: Request, key: str, model: type[Any], partial: bool) -> dict[str, Any]:
    raw = _without_id(request, require_body_key(await read_json(request), key))
    if partial and isinstance(raw, dict) and not raw:
        raise errors.ValidationError(field=key, reason="needs at least one attribute")
    changes: dict[str, Any] = validate(model, raw).model_dump(exclude_unset=True)
    return changes


# --- identity providers --------------------------------------------------------------------
async def _render_idp(request: Request, idp: models.IdentityProvider) -> dict[str, Any]:
    remote_ids = await service(request).federation.remote_ids([idp.id])
    return _idp(views(request), idp, remote_ids[idp.id])


async def list_idps(request: Request) -> Response:
    authorize(request, "identity:list_identity_providers")
    fed = service(request).federation
    rows = await fed.list_idps(filters(request, "id", booleans=("enabled",)))
    remote_ids = await fed.remote_ids([r.id for r in rows])
    v = views(request)
    items = [_idp(v, r, remote_ids[r.id]) for r in rows]
    return json_response(v.collection("identity_providers", items, f"{BASE}/identity_providers"))


async def create_idp(request: Request) -> Response:
    authorize(request, "identity:create_identity_provider")
    values = await _member(request, "identity_provider", schemas.IdentityProviderCreate, False)
    idp = await service(request).federation.create_idp(param(request, "idp_id"), values)
    return json_response({"identity_provider": await _render_idp(request, idp)}, 201)


async def show_idp(request: Request) -> Response:
    authorize(request, "identity:get_identity_provider")
    idp = await service(request).federation.get_idp(param(request, "idp_id"))
    return json_response({"identity_provider": await _render_idp(request, idp)})


async def update_idp(request: Request) -> Response:
    authorize(request, "identity:update_identity_provider")
    changes = await _member(request, "identity_provider", schemas.IdentityProviderUpdate, True)
    idp = await service(request).federation.update_idp(param(request, "idp_id"), changes)
    return json_response({"identity_provider": await _render_idp(request, idp)})


async def delete_idp(request: Request) -> Response:
    authorize(request, "identity:delete_identity_provider")
    await service(request).federation.delete_idp(param(request, "idp_id"))
    return empty()


# --- protocols -----------------------------------------------------------------------------
async def list_protocols(request: Request) -> Response:
    authorize(request, "identity:list_protocols")
    idp_id = param(request, "idp_id")
    rows = await service(request).federation.list_protocols(idp_id)
    v = views(request)
    items = [_protocol(v, p, listed=True) for p in rows]
    return json_response(
        v.collection("protocols", items, f"{BASE}/identity_providers/{idp_id}/protocols")
    )


async def create_protocol(request: Request) -> Response:
    authorize(request, "identity:create_protocol")
    values = await _member(request, "protocol", schemas.ProtocolCreate, False)
    row = await service(request).federation.create_protocol(
        param(request, "idp_id"), param(request, "protocol_id"), values
    )
    return json_response({"protocol": _protocol(views(request), row)}, 201)


async def show_protocol(request: Request) -> Response:
    authorize(request, "identity:get_protocol")
    row = await service(request).federation.get_protocol(
        param(request, "idp_id"), param(request, "protocol_id")
    )
    return json_response({"protocol": _protocol(views(request), row)})


async def update_protocol(request: Request) -> Response:
    authorize(request, "identity:update_protocol")
    changes = await _member(request, "protocol", schemas.ProtocolUpdate, True)
    row = await service(request).federation.update_protocol(
        param(request, "idp_id"), param(request, "protocol_id"), changes
    )
    return json_response({"protocol": _protocol(views(request), row)})


async def delete_protocol(request: Request) -> Response:
    authorize(request, "identity:delete_protocol")
    await service(request).federation.delete_protocol(
        param(request, "idp_id"), param(request, "protocol_id")
    )
    return empty()


# --- mappings ------------------------------------------------------------------------------
async def _rules(request: Request) -> mapping.Rules:
    raw = require_body_key(await read_json(request), "mapping")
    return validate(mapping.Rules, _without_id(request, raw))


async def list_mappings(request: Request) -> Response:
    authorize(request, "identity:list_mappings")
    v = views(request)
    items = [_mapping(v, m) for m in await service(request).federation.list_mappings()]
    return json_response(v.collection("mappings", items, f"{BASE}/mappings"))


async def create_mapping(request: Request) -> Response:
    authorize(request, "identity:create_mapping")
    row = await service(request).federation.create_mapping(
        param(request, "mapping_id"), await _rules(request)
    )
    return json_response({"mapping": _mapping(views(request), row)}, 201)


async def show_mapping(request: Request) -> Response:
    authorize(request, "identity:get_mapping")
    row = await service(request).federation.get_mapping(param(request, "mapping_id"))
    return json_response({"mapping": _mapping(views(request), row)})


async def update_mapping(request: Request) -> Response:
    authorize(request, "identity:update_mapping")
    row = await service(request).federation.update_mapping(
        param(request, "mapping_id"), await _rules(request)
    )
    return json_response({"mapping": _mapping(views(request), row)})


async def delete_mapping(request: Request) -> Response:
    authorize(request, "identity:delete_mapping")
    await service(request).federation.delete_mapping(param(request, "mapping_id"))
    return empty()


# --- service providers ---------------------------------------------------------------------
async def list_sps(request: Request) -> Response:
    authorize(request, "identity:list_service_providers")
    rows = await service(request).federation.list_sps(filters(request, "id", booleans=("enabled",)))
    v = views(request)
    items = [_sp(v, sp) for sp in rows]
    return json_response(v.collection("service_providers", items, f"{BASE}/service_providers"))


async def create_sp(request: Request) -> Response:
    authorize(request, "identity:create_service_provider")
    values = await _member(request, "service_provider", schemas.ServiceProviderCreate, False)
    sp = await service(request).federation.create_sp(param(request, "sp_id"), values)
    return json_response({"service_provider": _sp(views(request), sp)}, 201)


async def show_sp(request: Request) -> Response:
    authorize(request, "identity:get_service_provider")
    sp = await service(request).federation.get_sp(param(request, "sp_id"))
    return json_response({"service_provider": _sp(views(request), sp)})


async def update_sp(request: Request) -> Response:
    authorize(request, "identity:update_service_provider")
    changes = await _member(request, "service_provider", schemas.ServiceProviderUpdate, True)
    sp = await service(request).federation.update_sp(param(request, "sp_id"), changes)
    return json_response({"service_provider": _sp(views(request), sp)})


async def delete_sp(request: Request) -> Response:
    authorize(request, "identity:delete_service_provider")
    await service(request).federation.delete_sp(param(request, "sp_id"))
    return empty()


# --- the federated login -------------------------------------------------------------------
def trusted_assertion(settings: IdentitySettings, headers: Any) -> dict[str, str]:
    """The attributes the trusted front set, from the headers configuration names (none
    unless configured: otherwise any client could claim to be anyone)."""
    assertion: dict[str, str] = {}
    prefix = settings.federation_assertion_header_prefix.lower()
    if prefix:
        for name, value in headers.items():
            if name.lower().startswith(prefix) and len(name) > len(prefix):
                assertion[name[len(prefix) :]] = value
    user_header = settings.federation_remote_user_header
    if user_header and headers.get(user_header):
        assertion["REMOTE_USER"] = headers[user_header]
    return assertion


async def federated_auth(request: Request) -> Response:
    svc: IdentityService = service(request)
    assertion = trusted_assertion(svc.settings, request.headers)
    data = await svc.federated_login.login(
        param(request, "idp_id"),
        param(request, "protocol_id"),
        assertion,
        svc.settings.token_expiration,
    )
    token = svc.tokens.issue(data)
    return json_response(views(request).token(data, None), 201, {"X-Subject-Token": token})


# --- what a federated token may scope to ---------------------------------------------------
async def federated_groups(request: Request) -> list[str]:
    """The groups the caller's (federated) token carries."""
    ctx = get_context(request)
    if not ctx.auth_token:
        return []
    data = service(request).tokens.decode(ctx.auth_token)
    return list(data.federation[2]) if data.federation else []


async def _targets(request: Request, kind: str) -> set[str]:
    svc = service(request)
    ctx = get_context(request)
    ids = set(await svc.assignments.targets_of_user(ctx.user_id, kind))
    ids.update(await svc.assignments.targets_of_groups(await federated_groups(request), kind))
    return ids


async def projects_for(request: Request, path: str) -> Response:
    svc = service(request)
    ids = await _targets(request, "project")
    projects = await svc.resources.list_projects({"enabled": True}, ids=sorted(ids))
    v = views(request)
    return json_response(v.collection("projects", [v.project(p, t) for p, t in projects], path))


async def domains_for(request: Request, path: str) -> Response:
    ids = await _targets(request, "domain")
    domains = [
        d for d in await service(request).resources.list_domains({"enabled": True}) if d.id in ids
    ]
    v = views(request)
    return json_response(v.collection("domains", [v.domain(d) for d in domains], path))


async def federation_projects(request: Request) -> Response:
    return await projects_for(request, f"{BASE}/projects")


async def federation_domains(request: Request) -> Response:
    return await domains_for(request, f"{BASE}/domains")


IDPS = f"/v3/{BASE}/identity_providers"
IDP = IDPS + "/{idp_id}"
PROTOCOL = IDP + "/protocols/{protocol_id}"
MAPPING = f"/v3/{BASE}/mappings/{{mapping_id}}"
SP = f"/v3/{BASE}/service_providers/{{sp_id}}"

routes = [
    Route(IDPS, list_idps, methods=["GET"]),
    Route(IDP, create_idp, methods=["PUT"]),
    Route(IDP, show_idp, methods=["GET"]),
    Route(IDP, update_idp, methods=["PATCH"]),
    Route(IDP, delete_idp, methods=["DELETE"]),
    Route(IDP + "/protocols", list_protocols, methods=["GET"]),
    Route(PROTOCOL, create_protocol, methods=["PUT"]),
    Route(PROTOCOL, show_protocol, methods=["GET"]),
    Route(PROTOCOL, update_protocol, methods=["PATCH"]),
    Route(PROTOCOL, delete_protocol, methods=["DELETE"]),
    Route(PROTOCOL + "/auth", federated_auth, methods=["GET", "POST"]),
    Route(f"/v3/{BASE}/mappings", list_mappings, methods=["GET"]),
    Route(MAPPING, create_mapping, methods=["PUT"]),
    Route(MAPPING, show_mapping, methods=["GET"]),
    Route(MAPPING, update_mapping, methods=["PATCH"]),
    Route(MAPPING, delete_mapping, methods=["DELETE"]),
    Route(f"/v3/{BASE}/service_providers", list_sps, methods=["GET"]),
    Route(SP, create_sp, methods=["PUT"]),
    Route(SP, show_sp, methods=["GET"]),
    Route(SP, update_sp, methods=["PATCH"]),
    Route(SP, delete_sp, methods=["DELETE"]),
    Route(f"/v3/{BASE}/projects", federation_projects, methods=["GET"]),
    Route(f"/v3/{BASE}/domains", federation_domains, methods=["GET"]),
]
