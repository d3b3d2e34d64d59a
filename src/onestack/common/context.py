"""The request context: who is calling, in which scope, with which roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What a validated token says about the caller. Built once per request."""

    request_id: str
    user_id: str
    user_name: str = ""
    user_domain_id: str = ""
    user_domain_name: str = ""
    project_id: str | None = None
    project_name: str | None = None
    project_domain_id: str | None = None
    project_domain_name: str | None = None
    domain_id: str | None = None
    domain_name: str | None = None
    system_scope: str | None = None
    roles: tuple[str, ...] = ()
    role_ids: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    audit_ids: tuple[str, ...] = ()
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    application_credential_id: str | None = None
    application_credential_name: str | None = None
    application_credential_restricted: bool = True
    trust_id: str | None = None  # the trust a trust-scoped token came through
    auth_token: str = field(default="", repr=False)

    @property
    def scope(self) -> str | None:
        if self.system_scope:
            return "system"
        if self.domain_id:
            return "domain"
        if self.project_id:
            return "project"
        return None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def policy_credentials(self) -> dict[str, Any]:
        """The credentials oslo.policy-style rules are evaluated against."""
        return {
            "user_id": self.user_id,
            "user_domain_id": self.user_domain_id,
            "project_id": self.project_id,
            "project_domain_id": self.project_domain_id,
            "domain_id": self.domain_id,
            "system_scope": self.system_scope,
            "roles": list(self.roles),
            "is_admin": False,
            "token": {
                "user_id": self.user_id,
                "project": {"id": self.project_id, "domain": {"id": self.project_domain_id}},
                "domain": {"id": self.domain_id},
            },
        }
