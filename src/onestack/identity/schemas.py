"""Identity request bodies, validated as Keystone's JSON schemas do.

Most Keystone resources accept extra attributes and store them (``extra="allow"``);
application credentials and password changes reject unknown fields.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
    model_validator,
)

from onestack.common.http import check_document

Name64 = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=False)]
Name255 = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Id64 = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Description = Annotated[str, StringConstraints(max_length=65535)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^,/]*$")]


EXTRA_MAX_BYTES = 65535  # Keystone's ``extra`` column is a TEXT: 64 KiB on MariaDB
EXTRA_MAX_DEPTH = 16


def parse_expiry(value: Any) -> Any:
    """An ISO 8601 timestamp as a naive UTC datetime (anything else left to the model)."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("must be an ISO 8601 timestamp") from None
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        return parsed
    return value


class _Open(BaseModel):
    # Validators built on first use, not at import: a start needs none of them (#19).
    model_config = ConfigDict(extra="allow", strict=True, defer_build=True)

    @model_validator(mode="after")
    def _bounded_extras(self) -> _Open:
        """Extra attributes are stored as they come: at most ``EXTRA_MAX_BYTES`` of JSON,
        nested at most ``EXTRA_MAX_DEPTH`` deep (checked before anything is written)."""
        extras = self.model_extra or {}
        if not extras:
            return self
        if len(orjson.dumps(extras)) > EXTRA_MAX_BYTES:
            raise ValueError(f"extra attributes are larger than {EXTRA_MAX_BYTES} bytes")
        check_document(extras, max_depth=EXTRA_MAX_DEPTH)
        return self

    def changes(self) -> dict[str, Any]:
        """Fields the client sent (extras included), minus the read-only ones."""
        data = self.model_dump(exclude_unset=True)
        for readonly in ("id", "links"):
            data.pop(readonly, None)
        return data


OpenBody = _Open  # the public name, for code that handles any resource body


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class ResourceOptions(_Closed):
    immutable: StrictBool | None = None


class UserOptions(_Closed):
    ignore_change_password_upon_first_use: StrictBool | None = None
    ignore_password_expiry: StrictBool | None = None
    ignore_lockout_failure_attempts: StrictBool | None = None
    lock_password: StrictBool | None = None
    ignore_user_inactivity: StrictBool | None = None
    multi_factor_auth_enabled: StrictBool | None = None
    multi_factor_auth_rules: list[list[str]] | None = None


class DomainCreate(_Open):
    name: Name64
    description: Description | None = None
    enabled: StrictBool = True
    tags: list[Tag] = Field(default_factory=list, max_length=80)
    explicit_domain_id: Id64 | None = None
    options: ResourceOptions | None = None


class DomainUpdate(_Open):
    name: Name64 | None = None
    description: Description | None = None
    enabled: StrictBool | None = None
    tags: list[Tag] | None = Field(default=None, max_length=80)
    options: ResourceOptions | None = None


class ProjectCreate(_Open):
    name: Name64
    domain_id: Id64 | None = None
    parent_id: Id64 | None = None
    description: Description | None = None
    enabled: StrictBool = True
    is_domain: StrictBool = False
    tags: list[Tag] = Field(default_factory=list, max_length=80)
    options: ResourceOptions | None = None


class ProjectUpdate(_Open):
    name: Name64 | None = None
    description: Description | None = None
    enabled: StrictBool | None = None
    tags: list[Tag] | None = Field(default=None, max_length=80)
    options: ResourceOptions | None = None
    domain_id: Id64 | None = None
    parent_id: Id64 | None = None
    is_domain: StrictBool | None = None


class UserCreate(_Open):
    name: Name255
    domain_id: Id64 | None = None
    default_project_id: Id64 | None = None
    description: Description | None = None
    enabled: StrictBool = True
    password: Annotated[str, StringConstraints(max_length=4096)] | None = None
    options: UserOptions | None = None


class UserUpdate(_Open):
    name: Name255 | None = None
    domain_id: Id64 | None = None
    default_project_id: Id64 | None = None
    description: Description | None = None
    enabled: StrictBool | None = None
    password: Annotated[str, StringConstraints(max_length=4096)] | None = None
    options: UserOptions | None = None


class PasswordChange(_Closed):
    password: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    original_password: Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class GroupCreate(_Open):
    name: Name64
    domain_id: Id64 | None = None
    description: Description | None = None


class GroupUpdate(_Open):
    name: Name64 | None = None
    domain_id: Id64 | None = None
    description: Description | None = None


class RoleCreate(_Open):
    name: Name255
    domain_id: Id64 | None = None
    description: Description | None = None
    options: ResourceOptions | None = None


class RoleUpdate(_Open):
    name: Name255 | None = None
    domain_id: Id64 | None = None
    description: Description | None = None
    options: ResourceOptions | None = None


class ServiceCreate(_Open):
    type: Name255
    name: Name255 | None = None
    description: Description | None = None
    enabled: StrictBool = True


class ServiceUpdate(_Open):
    type: Name255 | None = None
    name: Name255 | None = None
    description: Description | None = None
    enabled: StrictBool | None = None


class EndpointCreate(_Open):
    service_id: Id64
    interface: Literal["public", "internal", "admin"]
    url: Annotated[
        str, StringConstraints(min_length=1, max_length=2048, pattern=r"^[a-zA-Z0-9+.-]+://")
    ]
    region_id: Name255 | None = None
    region: Name255 | None = None
    enabled: StrictBool = True


class EndpointUpdate(_Open):
    service_id: Id64 | None = None
    interface: Literal["public", "internal", "admin"] | None = None
    url: (
        Annotated[
            str, StringConstraints(min_length=1, max_length=2048, pattern=r"^[a-zA-Z0-9+.-]+://")
        ]
        | None
    ) = None
    region_id: Name255 | None = None
    region: Name255 | None = None
    enabled: StrictBool | None = None


class RegionCreate(_Open):
    id: Name255 | None = None
    description: Description | None = None
    parent_region_id: Name255 | None = None


class RegionUpdate(_Open):
    description: Description | None = None
    parent_region_id: Name255 | None = None


class RoleRef(_Closed):
    id: Id64 | None = None
    name: Name255 | None = None
    domain_id: Id64 | None = None


class AccessRule(_Closed):
    id: Id64 | None = None
    path: Annotated[str, StringConstraints(max_length=225)] | None = None
    method: Literal["POST", "GET", "HEAD", "PATCH", "PUT", "DELETE"] | None = None
    service: Annotated[str, StringConstraints(max_length=225)] | None = None


class AppCredCreate(_Closed):
    name: Name255
    description: Description | None = None
    secret: Annotated[str, StringConstraints(min_length=1, max_length=4096)] | None = None
    expires_at: datetime | None = None
    roles: list[RoleRef] | None = None
    unrestricted: StrictBool | None = None
    access_rules: list[AccessRule] | None = None
    system: str | None = None

    @field_validator("expires_at", mode="before")
    @classmethod
    def _parse_time(cls, value: Any) -> Any:
        return parse_expiry(value)


class CredentialCreate(_Open):
    blob: Annotated[str, StringConstraints(min_length=1, max_length=65535)]
    type: Name255
    user_id: Id64
    project_id: Id64 | None = None


def _no_nulls(data: Any, keys: tuple[str, ...]) -> Any:
    """Keystone's schemas type these members as strings: an explicit null is a 400 (stored,
    it would break every later read)."""
    if isinstance(data, dict):
        for key in keys:
            if key in data and data[key] is None:
                raise ValueError(f"{key}: None is not of type 'string'")
    return data


class CredentialUpdate(_Open):
    blob: Annotated[str, StringConstraints(min_length=1, max_length=65535)] | None = None
    type: Name255 | None = None
    user_id: Id64 | None = None
    project_id: Id64 | None = None

    @model_validator(mode="before")
    @classmethod
    def _typed(cls, data: Any) -> Any:
        return _no_nulls(data, ("blob", "type", "user_id"))


class PolicyCreate(_Open):
    blob: Annotated[str, StringConstraints(min_length=1, max_length=65535)]
    type: Name255


class PolicyUpdate(_Open):
    blob: Annotated[str, StringConstraints(min_length=1, max_length=65535)] | None = None
    type: Name255 | None = None

    @model_validator(mode="before")
    @classmethod
    def _typed(cls, data: Any) -> Any:
        return _no_nulls(data, ("blob", "type"))


class Ec2Create(_Open):
    tenant_id: Id64


# --- POST /v3/auth/tokens --------------------------------------------------------------------
AuthString = Annotated[str, StringConstraints(max_length=4096)]


class _Named(_Open):
    """A reference by ``id``, or by ``name`` (with a domain where names are per domain)."""

    id: AuthString | None = None
    name: AuthString | None = None

    @model_validator(mode="after")
    def _id_or_name(self) -> _Named:
        if self.id is None and self.name is None:
            raise ValueError("an id or a name is required")
        return self


class DomainRef(_Named):
    pass


class _InDomain(_Named):
    domain: DomainRef | None = None

    @model_validator(mode="after")
    def _name_needs_domain(self) -> _InDomain:
        if self.id is None and self.domain is None:
            raise ValueError("a reference by name needs its domain")
        return self


class UserRef(_InDomain):
    pass


class PasswordUser(UserRef):
    password: AuthString


class PasswordMethod(_Open):
    user: PasswordUser


class TokenMethod(_Open):
    id: Annotated[str, StringConstraints(min_length=1, max_length=8192)]


class AppCredMethod(_Named):
    secret: AuthString
    user: UserRef | None = None

    @model_validator(mode="after")
    def _name_needs_user(self) -> AppCredMethod:
        if self.id is None and self.user is None:
            raise ValueError("an application credential named by name needs its user")
        return self


class AuthIdentity(_Open):
    methods: list[Annotated[str, StringConstraints(max_length=64)]] = Field(min_length=1)
    password: PasswordMethod | None = None
    token: TokenMethod | None = None
    application_credential: AppCredMethod | None = None


class ProjectRef(_InDomain):
    pass


class SystemRef(_Closed):
    all: Literal[True]


class TrustRef(_Open):
    id: Id64


class AuthScope(_Open):
    project: ProjectRef | None = None
    domain: DomainRef | None = None
    system: SystemRef | None = None
    trust: TrustRef | None = Field(default=None, alias="OS-TRUST:trust")

    @model_validator(mode="after")
    def _one_target(self) -> AuthScope:
        targets = (self.project, self.domain, self.system, self.trust)
        if sum(x is not None for x in targets) != 1:
            raise ValueError("exactly one of project, domain, system or OS-TRUST:trust is required")
        return self


class AuthRequest(_Open):
    identity: AuthIdentity
    scope: AuthScope | Literal["unscoped"] | None = None


class TrustRoleRef(_Closed):
    id: Id64 | None = None
    name: Name255 | None = None

    @model_validator(mode="after")
    def _one(self) -> TrustRoleRef:
        if (self.id is None) == (self.name is None):
            raise ValueError("a role is named by exactly one of id or name")
        return self


class TrustCreate(_Open):
    trustor_user_id: Id64
    trustee_user_id: Id64
    impersonation: StrictBool
    project_id: Id64 | None = None
    roles: list[TrustRoleRef] = Field(default_factory=list)
    expires_at: datetime | None = None
    remaining_uses: Annotated[int, Field(ge=1)] | None = None
    allow_redelegation: StrictBool | None = None
    redelegation_count: Annotated[int, Field(ge=0)] | None = None

    @field_validator("expires_at", mode="before")
    @classmethod
    def _parse_time(cls, value: Any) -> Any:
        return parse_expiry(value)


class EndpointGroupCreate(_Open):
    name: Name255
    description: Description | None = None
    filters: dict[str, Any]


class EndpointGroupUpdate(_Open):
    name: Name255 | None = None
    description: Description | None = None
    filters: dict[str, Any] | None = None


LimitValue = Annotated[int, Field(ge=-1, le=0x7FFFFFFF)]


class RegisteredLimitCreate(_Closed):
    service_id: Id64
    region_id: Name255 | None = None
    resource_name: Name255
    default_limit: LimitValue
    description: Description | None = None


class RegisteredLimitUpdate(_Closed):
    service_id: Id64 | None = None
    region_id: Name255 | None = None
    resource_name: Name255 | None = None
    default_limit: LimitValue | None = None
    description: Description | None = None


class LimitCreate(_Closed):
    project_id: Id64 | None = None
    domain_id: Id64 | None = None
    service_id: Id64
    region_id: Name255 | None = None
    resource_name: Name255
    resource_limit: LimitValue
    description: Description | None = None

    @model_validator(mode="after")
    def _one_owner(self) -> LimitCreate:
        if (self.project_id is None) == (self.domain_id is None):
            raise ValueError("a limit belongs to exactly one of project_id or domain_id")
        return self


class LimitUpdate(_Closed):
    resource_limit: LimitValue | None = None
    description: Description | None = None


class ConsumerBody(_Open):
    description: Description | None = None


class RequestTokenAuthorize(_Closed):
    """``PUT /v3/OS-OAUTH1/authorize/{id}``: the roles (by id or a global role's name)."""

    roles: list[TrustRoleRef] = Field(min_length=1)


RemoteId = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Url = Annotated[
    str, StringConstraints(min_length=1, max_length=225, pattern=r"^[a-zA-Z0-9+.-]+://")
]


class IdentityProviderUpdate(_Closed):
    enabled: StrictBool | None = None
    description: Description | None = None
    authorization_ttl: Annotated[int, Field(ge=0)] | None = None
    remote_ids: list[RemoteId] | None = None

    @field_validator("remote_ids")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("remote_ids must be unique")
        return value


class IdentityProviderCreate(IdentityProviderUpdate):
    domain_id: Id64 | None = None


class ProtocolCreate(_Closed):
    mapping_id: Id64
    remote_id_attribute: Annotated[str, StringConstraints(max_length=64)] | None = None


class ProtocolUpdate(_Closed):
    mapping_id: Id64
    remote_id_attribute: Annotated[str, StringConstraints(max_length=64)] | None = None


class ServiceProviderUpdate(_Closed):
    auth_url: Url | None = None
    sp_url: Url | None = None
    description: Description | None = None
    enabled: StrictBool | None = None
    relay_state_prefix: Annotated[str, StringConstraints(max_length=256)] | None = None


class ServiceProviderCreate(ServiceProviderUpdate):
    auth_url: Url
    sp_url: Url
