"""Who may do what (Swift's keystoneauth): the caller's Keystone token, then container ACLs.

- ``admin`` and the reseller admin role (``ResellerAdmin``) may use every account;
- an operator role (``admin``, ``member``, ``swiftoperator``) in project P owns ``AUTH_P``;
  ``reader`` in P may read it;
- anyone else gets what the container's ACLs grant: ``X-Container-Read`` for GET and HEAD
  (a listing too when it names the caller, or ``.rlistings`` with a referrer entry),
  ``X-Container-Write`` for object PUT, POST and DELETE. Never an account, never a
  container's own PUT, POST or DELETE.

Refused without a token: 401; refused with one: 403 (Swift's rule)."""

from __future__ import annotations

from onestack.common import errors as common_errors
from onestack.object import errors
from onestack.object.api import acl
from onestack.object.api.http import SwiftRequest
from onestack.object.service import ObjectService

READS = frozenset({"GET", "HEAD"})


def token_context(svc: ObjectService, req: SwiftRequest) -> None:
    token = req.headers.get("x-auth-token") or req.headers.get("x-storage-token")
    if not token:
        return
    try:
        ctx = svc.context(token, req.txid)
    except common_errors.Unauthorized:
        raise errors.Unauthorized() from None
    if ctx.scope is None:  # as every service behind Keystone: an unscoped token is refused
        raise errors.Unauthorized()
    req.ctx = ctx


def owner_level(svc: ObjectService, req: SwiftRequest, account: str) -> str:
    """ "owner", "reader" or "" for the caller on ``account``."""
    ctx = req.ctx
    if ctx is None:
        return ""
    roles = ctx.roles
    if not svc.reseller_roles.isdisjoint(roles):
        return "owner"
    if ctx.project_id and account == f"AUTH_{ctx.project_id}":
        if not svc.operator_roles.isdisjoint(roles):
            return "owner"
        if "reader" in roles:
            return "reader"
    return ""


def is_reseller(svc: ObjectService, req: SwiftRequest) -> bool:
    return req.ctx is not None and not svc.reseller_roles.isdisjoint(req.ctx.roles)


def deny(req: SwiftRequest) -> errors.SwiftError:
    return errors.Forbidden() if req.ctx is not None else errors.Unauthorized()


async def authorize(
    svc: ObjectService,
    req: SwiftRequest,
    account: str,
    container: str,
    obj: str,
    method: str,
) -> None:
    """Raise 401/403 unless the caller may ``method`` the path; marks owners."""
    level = owner_level(svc, req, account)
    if level == "owner":
        req.swift_owner = True
        return
    if level == "reader" and method in READS:
        return
    if method == "OPTIONS":
        return
    if not container:
        raise deny(req)
    if not obj and method not in READS:
        raise deny(req)
    info = await svc.container(account, container)
    metadata = info.metadata if info is not None else {}
    header = "x-container-read" if method in READS else "x-container-write"
    parsed = acl.parse(metadata.get(header, ""))
    if (
        method in READS
        and acl.referrer_allowed(req.header("referer"), parsed.referrers)
        and (obj or ".rlistings" in parsed.entries)
    ):
        req.authorized_by = "acl"
        return
    if req.ctx is not None and acl.user_allowed(parsed, req.ctx):
        req.authorized_by = "acl"
        return
    raise deny(req)
