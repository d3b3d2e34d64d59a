"""Keystone v3 response bodies: exactly the fields Keystone returns."""

from __future__ import annotations

from typing import Any

import orjson

from onestack.identity import models
from onestack.identity.service import AssignmentRef
from onestack.identity.service.roles import public_domain
from onestack.identity.tokens import TokenData, isoformat, us_to_datetime

# Token bodies kept rendered (a few KiB each with a catalog): the tokens of a cloud's
# services and busy clients, validated again and again, within a few MiB.
RENDERED_TOKENS = 1024


class Views:
    def __init__(self, base: str) -> None:
        self.base = base  # .../identity/v3
        # token -> (the catalog object it was rendered with, its JSON body)
        self._rendered: dict[str, tuple[list[dict[str, Any]] | None, bytes]] = {}

    def link(self, path: str) -> dict[str, str]:
        return {"self": f"{self.base}/{path}"}

    def collection(
        self, key: str, items: list[dict[str, Any]], path: str, truncated: bool = False
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            key: items,
            "links": {"self": f"{self.base}/{path}", "previous": None, "next": None},
        }
        if truncated:
            body["truncated"] = True
        return body

    def domain(self, d: models.Domain) -> dict[str, Any]:
        return {
            **d.extra,
            "id": d.id,
            "name": d.name,
            "description": d.description or "",
            "enabled": d.enabled,
            "tags": list(d.tags or []),
            "options": {},
            "links": self.link(f"domains/{d.id}"),
        }

    def project(self, p: models.Project, tags: list[str]) -> dict[str, Any]:
        return {
            **p.extra,
            "id": p.id,
            "name": p.name,
            "domain_id": p.domain_id,
            "description": p.description or "",
            "enabled": p.enabled,
            "parent_id": p.parent_id or p.domain_id,
            "is_domain": False,
            "tags": tags,
            "options": dict(p.options or {}),
            "links": self.link(f"projects/{p.id}"),
        }

    def domain_as_project(self, d: models.Domain) -> dict[str, Any]:
        """A domain seen through the projects API, as Keystone shows it (``is_domain``)."""
        return {
            **d.extra,
            "id": d.id,
            "name": d.name,
            "domain_id": None,
            "description": d.description or "",
            "enabled": d.enabled,
            "parent_id": None,
            "is_domain": True,
            "tags": list(d.tags or []),
            "options": {},
            "links": self.link(f"projects/{d.id}"),
        }

    def user(self, u: models.User) -> dict[str, Any]:
        body: dict[str, Any] = {
            **u.extra,
            "id": u.id,
            "name": u.name,
            "domain_id": u.domain_id,
            "enabled": u.enabled,
            "password_expires_at": isoformat(u.password_expires_at),
            "options": dict(u.options or {}),
            "links": self.link(f"users/{u.id}"),
        }
        if u.default_project_id:
            body["default_project_id"] = u.default_project_id
        return body

    def group(self, g: models.Group) -> dict[str, Any]:
        return {
            **g.extra,
            "id": g.id,
            "name": g.name,
            "domain_id": g.domain_id,
            "description": g.description or "",
            "links": self.link(f"groups/{g.id}"),
        }

    def role(self, r: models.Role) -> dict[str, Any]:
        return {
            **r.extra,
            "id": r.id,
            "name": r.name,
            "domain_id": public_domain(r.domain_id),
            "description": r.description,
            "options": dict(r.options or {}),
            "links": self.link(f"roles/{r.id}"),
        }

    def role_ref(self, r: models.Role) -> dict[str, Any]:
        return {"id": r.id, "name": r.name, "links": self.link(f"roles/{r.id}")}

    def service(self, s: models.Service) -> dict[str, Any]:
        body = {
            **s.extra,
            "id": s.id,
            "type": s.type,
            "enabled": s.enabled,
            "links": self.link(f"services/{s.id}"),
        }
        if s.name is not None:
            body["name"] = s.name
        if s.description is not None:
            body["description"] = s.description
        return body

    def endpoint(self, e: models.Endpoint) -> dict[str, Any]:
        return {
            **e.extra,
            "id": e.id,
            "interface": e.interface,
            "region": e.region_id,
            "region_id": e.region_id,
            "service_id": e.service_id,
            "url": e.url,
            "enabled": e.enabled,
            "links": self.link(f"endpoints/{e.id}"),
        }

    def region(self, r: models.Region) -> dict[str, Any]:
        return {
            **r.extra,
            "id": r.id,
            "description": r.description or "",
            "parent_region_id": r.parent_region_id,
            "links": self.link(f"regions/{r.id}"),
        }

    def app_cred(
        self, c: models.ApplicationCredential, roles: list[models.Role], secret: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": c.id,
            "name": c.name,
            "description": c.description,
            # Keystone writes this one timestamp without the trailing Z.
            "expires_at": c.expires_at.isoformat(timespec="microseconds") if c.expires_at else None,
            "project_id": c.project_id,
            "system": c.system,
            "user_id": c.user_id,
            "unrestricted": c.unrestricted,
            "roles": [
                {"id": r.id, "name": r.name, "domain_id": public_domain(r.domain_id)}
                for r in sorted(roles, key=lambda r: r.name)
            ],
            "access_rules": list(c.access_rules or []),
            "links": self.link(f"users/{c.user_id}/application_credentials/{c.id}"),
        }
        if secret is not None:
            body["secret"] = secret
        return body

    def access_rule(self, r: models.AccessRule) -> dict[str, Any]:
        return {
            "id": r.id,
            "service": r.service,
            "path": r.path,
            "method": r.method,
            "links": self.link(f"users/{r.user_id}/access_rules/{r.id}"),
        }

    def policy(self, p: models.Policy) -> dict[str, Any]:
        return {
            **p.extra,
            "id": p.id,
            "type": p.type,
            "blob": p.blob,
            "links": self.link(f"policies/{p.id}"),
        }

    def credential(self, c: models.Credential, blob: str) -> dict[str, Any]:
        return {
            **c.extra,
            "id": c.id,
            "user_id": c.user_id,
            "project_id": c.project_id,
            "type": c.type,
            "blob": blob,
            "links": self.link(f"credentials/{c.id}"),
        }

    def ec2(self, c: models.Credential, blob: dict[str, Any]) -> dict[str, Any]:
        return {
            "user_id": c.user_id,
            "tenant_id": c.project_id,
            "access": blob.get("access"),
            "secret": blob.get("secret"),
            "trust_id": blob.get("trust_id"),
            "links": self.link(f"users/{c.user_id}/credentials/OS-EC2/{blob.get('access')}"),
        }

    def token(self, t: TokenData, catalog: list[dict[str, Any]] | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "methods": list(t.methods),
            "user": {
                "domain": {"id": t.user_domain_id, "name": t.user_domain_name},
                "id": t.user_id,
                "name": t.user_name,
                "password_expires_at": (
                    isoformat(us_to_datetime(t.password_expires_at_us))
                    if t.password_expires_at_us
                    else None
                ),
            },
            "audit_ids": list(t.audit_ids),
            "expires_at": isoformat(us_to_datetime(t.expires_at_us)),
            "issued_at": isoformat(us_to_datetime(t.issued_at_us)),
        }
        if t.federation is not None:
            idp, protocol, groups = t.federation
            body["user"]["OS-FEDERATION"] = {
                "identity_provider": {"id": idp},
                "protocol": {"id": protocol},
                "groups": [{"id": g} for g in groups],
            }
        if t.project_id:
            body["project"] = {
                "domain": {"id": t.project_domain_id, "name": t.project_domain_name},
                "id": t.project_id,
                "name": t.project_name,
            }
            body["is_domain"] = False
        elif t.domain_id:
            body["domain"] = {"id": t.domain_id, "name": t.domain_name}
        elif t.system:
            body["system"] = {"all": True}
        if t.project_id or t.domain_id or t.system:
            body["roles"] = [{"id": rid, "name": name} for rid, name in t.roles]
            if catalog is not None:
                body["catalog"] = catalog
        if t.trust is not None:
            trust_id, trustor, trustee, impersonation = t.trust
            body["OS-TRUST:trust"] = {
                "id": trust_id,
                "impersonation": impersonation,
                "trustee_user": {"id": trustee},
                "trustor_user": {"id": trustor},
                "links": self.link(f"OS-TRUST/trusts/{trust_id}"),
            }
        if t.oauth is not None:
            body["OS-OAUTH1"] = {"access_token_id": t.oauth[0], "consumer_id": t.oauth[1]}
        if t.app_cred is not None:
            body["application_credential"] = {
                "id": t.app_cred[0],
                "name": t.app_cred[1],
                "restricted": t.app_cred[2],
            }
        return {"token": body}

    def token_json(self, token: str, t: TokenData, catalog: list[dict[str, Any]] | None) -> bytes:
        """``token``'s body (its payload ``t``) as JSON, rendered once per token and catalog:
        building and serialising it was a fifth of a validation's CPU. A payload never
        changes; the catalog service hands out the same list object until its catalog
        changes (a new object then), so the object itself tells a stale body."""
        hit = self._rendered.get(token)
        if hit is not None and hit[0] is catalog:
            return hit[1]
        body = orjson.dumps(self.token(t, catalog))
        if hit is None and len(self._rendered) >= RENDERED_TOKENS:
            del self._rendered[next(iter(self._rendered))]  # the oldest entry
        self._rendered[token] = (catalog, body)
        return body

    def assignment(self, a: AssignmentRef, names: dict[str, Any] | None) -> dict[str, Any]:
        scope: dict[str, Any]
        if a.target == "system":
            scope = {"system": {"all": True}}
        else:
            scope = {a.target: {"id": a.target_id}}
            if names is not None:
                scope[a.target].update(names.get(a.target_id, {}))
        if a.inherited:  # Keystone marks the grant and, in effective mode, what it expands to
            scope["OS-INHERIT:inherited_to"] = "projects"
        actor_ref: dict[str, Any] = {"id": a.actor_id}
        role_ref: dict[str, Any] = {"id": a.role_id}
        if names is not None:
            actor_ref.update(names.get(a.actor_id, {}))
            role_ref.update(names.get(a.role_id, {}))
        actor_kind, actor_id = ("group", a.via_group) if a.via_group else (a.actor, a.actor_id)
        role_id = a.prior_role_id or a.role_id
        if a.target == "system":
            link = f"{self.base}/system/{actor_kind}s/{actor_id}/roles/{role_id}"
        elif a.inherited:
            kind, target_id = a.source_target or a.target, a.source_target_id or a.target_id
            link = (
                f"{self.base}/OS-INHERIT/{kind}s/{target_id}/{actor_kind}s/{actor_id}"
                f"/roles/{role_id}/inherited_to_projects"
            )
        else:
            link = f"{self.base}/{a.target}s/{a.target_id}/{actor_kind}s/{actor_id}/roles/{role_id}"
        links: dict[str, str] = {"assignment": link}
        if a.via_group:
            links["membership"] = f"{self.base}/groups/{a.via_group}/users/{a.actor_id}"
        if a.prior_role_id is not None:
            # Keystone's own link, in its order (implied role first), not a body field.
            links["prior_role"] = f"{self.base}/prior_role/{a.role_id}/implies/{a.prior_role_id}"
        return {
            "role": role_ref,
            a.actor: actor_ref,
            "scope": scope,
            "links": links,
        }
