"""Identity tables. Only ``identity.service`` writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from onestack.common.db import Base, UTCDateTime, utcnow
from onestack.common.db import new_id as new_id

# Keystone's trick for "no domain" in unique constraints: NULLs never collide in SQL.
NULL_DOMAIN = "<<null>>"


class Domain(Base):
    __tablename__ = "identity_domain"
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Project(Base):
    __tablename__ = "identity_project"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64))
    domain_id: Mapped[str] = mapped_column(ForeignKey("identity_domain.id"), index=True)
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("identity_project.id"), nullable=True, index=True
    )
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProjectTag(Base):
    __tablename__ = "identity_project_tag"
    project_id: Mapped[str] = mapped_column(
        ForeignKey("identity_project.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(255), primary_key=True)


class User(Base):
    __tablename__ = "identity_user"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255))
    domain_id: Mapped[str] = mapped_column(ForeignKey("identity_domain.id"), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    default_project_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    password_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    password_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Group(Base):
    __tablename__ = "identity_group"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64))
    domain_id: Mapped[str] = mapped_column(ForeignKey("identity_domain.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Membership(Base):
    __tablename__ = "identity_membership"
    user_id: Mapped[str] = mapped_column(
        ForeignKey("identity_user.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(
        ForeignKey("identity_group.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Role(Base):
    __tablename__ = "identity_role"
    __table_args__ = (UniqueConstraint("name", "domain_id"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255))
    domain_id: Mapped[str] = mapped_column(String(64), default=NULL_DOMAIN)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ImpliedRole(Base):
    __tablename__ = "identity_implied_role"
    prior_role_id: Mapped[str] = mapped_column(
        ForeignKey("identity_role.id", ondelete="CASCADE"), primary_key=True
    )
    implied_role_id: Mapped[str] = mapped_column(
        ForeignKey("identity_role.id", ondelete="CASCADE"), primary_key=True
    )


class Assignment(Base):
    """A role granted to an actor (user or group) on a target (project, domain or system)."""

    __tablename__ = "identity_assignment"
    __table_args__ = (Index("ix_identity_assignment_target", "target_id"),)
    type: Mapped[str] = mapped_column(String(16), primary_key=True)  # UserProject, GroupSystem...
    actor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    target_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # "system" for system
    role_id: Mapped[str] = mapped_column(
        ForeignKey("identity_role.id", ondelete="CASCADE"), primary_key=True
    )
    inherited: Mapped[bool] = mapped_column(Boolean, primary_key=True, default=False)


class Service(Base):
    __tablename__ = "identity_service"
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    type: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Region(Base):
    __tablename__ = "identity_region"
    id: Mapped[str] = mapped_column(String(255), primary_key=True, default=new_id)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    parent_region_id: Mapped[str | None] = mapped_column(
        ForeignKey("identity_region.id"), nullable=True
    )
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Endpoint(Base):
    __tablename__ = "identity_endpoint"
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("identity_service.id", ondelete="CASCADE"), index=True
    )
    interface: Mapped[str] = mapped_column(String(8))
    region_id: Mapped[str | None] = mapped_column(ForeignKey("identity_region.id"), nullable=True)
    url: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ApplicationCredential(Base):
    __tablename__ = "identity_app_cred"
    __table_args__ = (UniqueConstraint("user_id", "name"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(
        ForeignKey("identity_user.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    system: Mapped[str | None] = mapped_column(String(16), nullable=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    unrestricted: Mapped[bool] = mapped_column(Boolean, default=False)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)  # role ids
    access_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Credential(Base):
    """EC2-style and other credentials; the blob is stored encrypted."""

    __tablename__ = "identity_credential"
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("identity_user.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    type: Mapped[str] = mapped_column(String(255))
    encrypted_blob: Mapped[str] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RevocationEvent(Base):
    """Tokens matching every non-null field and issued at or before ``issued_before`` are dead."""

    __tablename__ = "identity_revocation_event"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    audit_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    project_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    domain_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    role_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    app_cred_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    trust_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    access_token_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    consumer_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    group_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    issued_before_us: Mapped[int] = mapped_column(BigInteger)  # µs since the epoch
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Policy(Base):
    """Keystone's (deprecated) policy blob store: kept for clients that still use it."""

    __tablename__ = "identity_policy"
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    type: Mapped[str] = mapped_column(String(255))
    blob: Mapped[str] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AccessRule(Base):
    """A user's access rule; application credentials refer to them and keep a copy."""

    __tablename__ = "identity_access_rule"
    __table_args__ = (UniqueConstraint("user_id", "service", "path", "method"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("identity_user.id", ondelete="CASCADE"), index=True
    )
    service: Mapped[str] = mapped_column(String(225))
    path: Mapped[str] = mapped_column(String(225))
    method: Mapped[str] = mapped_column(String(16))


class Trust(Base):
    """A trustor's delegation of roles on a project to a trustee (OS-TRUST).

    Deleted trusts are kept (``deleted_at``) as Keystone keeps them; they answer 404."""

    __tablename__ = "identity_trust"
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    trustor_user_id: Mapped[str] = mapped_column(String(64), index=True)
    trustee_user_id: Mapped[str] = mapped_column(String(64), index=True)
    project_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    impersonation: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    remaining_uses: Mapped[int | None] = mapped_column(Integer, nullable=True)
    redelegated_trust_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    redelegation_count: Mapped[int] = mapped_column(Integer, default=0)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)  # role ids
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EndpointGroup(Base):
    """OS-EP-FILTER: the endpoints matching ``filters`` (service_id, region_id, interface)."""

    __tablename__ = "identity_endpoint_group"
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ProjectEndpoint(Base):
    """An endpoint a project's catalog is narrowed to (OS-EP-FILTER)."""

    __tablename__ = "identity_project_endpoint"
    endpoint_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class ProjectEndpointGroup(Base):
    """An endpoint group a project's catalog is narrowed to (OS-EP-FILTER)."""

    __tablename__ = "identity_project_endpoint_group"
    endpoint_group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class RegisteredLimit(Base):
    """A service's default limit on a resource (unified limits)."""

    __tablename__ = "identity_registered_limit"
    __table_args__ = (UniqueConstraint("service_id", "region_id", "resource_name"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    service_id: Mapped[str] = mapped_column(String(64), index=True)
    region_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    resource_name: Mapped[str] = mapped_column(String(255))
    default_limit: Mapped[int] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)


class Limit(Base):
    """A project's (or domain's) own limit, overriding its registered limit."""

    __tablename__ = "identity_limit"
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    registered_limit_id: Mapped[str] = mapped_column(String(64), index=True)
    project_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    domain_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    service_id: Mapped[str] = mapped_column(String(64))
    region_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    resource_name: Mapped[str] = mapped_column(String(255))
    resource_limit: Mapped[int] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)


class DomainConfigOption(Base):
    """One option of a domain's configuration (Keystone's domain-specific config API)."""

    __tablename__ = "identity_domain_config"
    domain_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group: Mapped[str] = mapped_column(String(255), primary_key=True)
    option: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)


class OAuthConsumer(Base):
    """An OAuth1 consumer (OS-OAUTH1); its secret is kept encrypted with the credential keys."""

    __tablename__ = "identity_oauth_consumer"
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    encrypted_secret: Mapped[str] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OAuthRequestToken(Base):
    """An OAuth1 request token: asked for by a consumer, then authorized by a user with roles
    on the requested project (``verifier`` set), then traded for an access token."""

    __tablename__ = "identity_oauth_request_token"
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    encrypted_secret: Mapped[str] = mapped_column(Text)
    consumer_id: Mapped[str] = mapped_column(String(64), index=True)
    requested_project_id: Mapped[str] = mapped_column(String(64))
    verifier: Mapped[str | None] = mapped_column(String(64), nullable=True)
    authorizing_user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    role_ids: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OAuthAccessToken(Base):
    """An OAuth1 access token: the consumer's delegated access to a user's roles on a project."""

    __tablename__ = "identity_oauth_access_token"
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    encrypted_secret: Mapped[str] = mapped_column(Text)
    consumer_id: Mapped[str] = mapped_column(String(64), index=True)
    project_id: Mapped[str] = mapped_column(String(64))
    authorizing_user_id: Mapped[str] = mapped_column(String(64), index=True)
    role_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class IdentityProvider(Base):
    """OS-FEDERATION: a trusted identity provider; its users land in ``domain_id``."""

    __tablename__ = "identity_federation_idp"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    domain_id: Mapped[str] = mapped_column(String(64), index=True)
    authorization_ttl: Mapped[int | None] = mapped_column(Integer, nullable=True)


class IdpRemoteId(Base):
    """One of an identity provider's entity ids; each names one provider only."""

    __tablename__ = "identity_federation_idp_remote_id"
    remote_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    idp_id: Mapped[str] = mapped_column(String(64), index=True)


class Mapping(Base):
    """Rules turning an assertion into a local user, groups and projects."""

    __tablename__ = "identity_federation_mapping"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    schema_version: Mapped[str] = mapped_column(String(16), default="1.0")


class FederationProtocol(Base):
    """How an identity provider's users come in (saml2, openid, mapped...) and their mapping."""

    __tablename__ = "identity_federation_protocol"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    idp_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    mapping_id: Mapped[str] = mapped_column(String(64), index=True)
    remote_id_attribute: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ServiceProvider(Base):
    """OS-FEDERATION: a cloud this one vouches for its users to (Keystone to Keystone)."""

    __tablename__ = "identity_federation_sp"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    auth_url: Mapped[str] = mapped_column(String(256))
    sp_url: Mapped[str] = mapped_column(String(256))
    relay_state_prefix: Mapped[str] = mapped_column(String(256))


class FederatedUser(Base):
    """The local (shadow) user of a remote identity, as Keystone's ``federated_user``."""

    __tablename__ = "identity_federated_user"
    idp_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    protocol_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    unique_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    display_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
