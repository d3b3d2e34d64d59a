"""The identity service layer: the only code that writes identity tables. Other services reach
it through ``identity.facade.IdentityAPI``."""

from __future__ import annotations

from onestack.common.bus import Bus
from onestack.common.db import Database
from onestack.config import IdentitySettings
from onestack.identity.keys import KeyRepository
from onestack.identity.passwords import PasswordChecker
from onestack.identity.service.assignments import AssignmentRef, Assignments
from onestack.identity.service.auth import Authenticator
from onestack.identity.service.base import NOTIFICATIONS, IdentityContext
from onestack.identity.service.catalog import Catalog
from onestack.identity.service.credentials import Credentials
from onestack.identity.service.domain_config import DomainConfig
from onestack.identity.service.endpoint_filter import EndpointFilter
from onestack.identity.service.federated_login import FederatedLogin
from onestack.identity.service.federation import Federation
from onestack.identity.service.limits import Limits
from onestack.identity.service.oauth1 import OAuth1
from onestack.identity.service.policy_blobs import PolicyBlobs
from onestack.identity.service.resources import Resources
from onestack.identity.service.revocations import TOPIC as REVOCATION_TOPIC
from onestack.identity.service.revocations import Revocations
from onestack.identity.service.roles import Roles
from onestack.identity.service.trusts import Trusts
from onestack.identity.service.users import Users
from onestack.identity.tokens import RevocationList, TokenProvider

__all__ = ["AssignmentRef", "IdentityService"]


class IdentityService:
    def __init__(
        self,
        db: Database,
        bus: Bus,
        settings: IdentitySettings,
        token_keys: KeyRepository,
        credential_keys: KeyRepository,
    ) -> None:
        self.settings = settings
        context = IdentityContext(db=db, bus=bus, settings=settings)
        self.checker = checker = PasswordChecker(settings.password_hash_rounds)
        self.revocations = Revocations(context, RevocationList())
        self.tokens = TokenProvider(token_keys, self.revocations.list)
        self.resources = Resources(context, self.revocations)
        self.users = Users(context, self.revocations, checker)
        self.roles = Roles(context, self.revocations)
        self.assignments = Assignments(context, self.revocations, self.resources, self.roles)
        self.catalog = Catalog(context)
        self.endpoint_filter = EndpointFilter(context)
        self.limits = Limits(context)
        self.domain_config = DomainConfig(context)
        self.catalog.project_filter = self.endpoint_filter.catalog_filter
        self.policy_blobs = PolicyBlobs(context)
        self.credentials = Credentials(context, self.revocations, checker, credential_keys)
        self.trusts = Trusts(
            context, self.revocations, self.users, self.resources, self.roles, self.assignments
        )
        self.oauth1 = OAuth1(
            context, credential_keys, self.revocations, self.resources, self.roles, self.assignments
        )
        self.federation = Federation(
            context, self.revocations, self.users, self.resources, self.roles, self.assignments
        )
        self.federated_login = FederatedLogin(
            context, self.federation, self.users, self.resources, self.roles, self.assignments
        )
        self.auth = Authenticator(
            self.users,
            self.resources,
            self.roles,
            self.assignments,
            self.credentials,
            self.tokens,
            settings.token_expiration,
            self.trusts,
            self.oauth1,
        )
        bus.subscribe(REVOCATION_TOPIC, self.revocations.on_event)
        bus.subscribe(NOTIFICATIONS, self.trusts.on_event)
        bus.subscribe(NOTIFICATIONS, self.oauth1.on_event)
        bus.subscribe(NOTIFICATIONS, self.federation.on_event)

    async def warm_up(self) -> None:
        """Work worth doing once before the first request, but not before serving."""
        await self.checker.decoy()
