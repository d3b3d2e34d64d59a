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
from onestack.identity.service.base import Store
from onestack.identity.service.catalog import Catalog
from onestack.identity.service.credentials import Credentials
from onestack.identity.service.policy_blobs import PolicyBlobs
from onestack.identity.service.resources import Resources
from onestack.identity.service.revocations import TOPIC as REVOCATION_TOPIC
from onestack.identity.service.revocations import Revocations
from onestack.identity.service.roles import Roles
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
        store = Store(db=db, bus=bus, settings=settings)
        self.checker = checker = PasswordChecker(settings.password_hash_rounds)
        self.revocations = Revocations(store, RevocationList())
        self.tokens = TokenProvider(token_keys, self.revocations.list)
        self.resources = Resources(store, self.revocations)
        self.users = Users(store, self.revocations, checker)
        self.roles = Roles(store, self.revocations)
        self.assignments = Assignments(store, self.revocations, self.resources, self.roles)
        self.catalog = Catalog(store)
        self.policy_blobs = PolicyBlobs(store)
        self.credentials = Credentials(store, self.revocations, checker, credential_keys)
        self.auth = Authenticator(
            self.users,
            self.resources,
            self.roles,
            self.assignments,
            self.credentials,
            self.tokens,
            settings.token_expiration,
        )
        bus.subscribe(REVOCATION_TOPIC, self.revocations.on_event)

    async def warm_up(self) -> None:
        """Work worth doing once before the first request, but not before serving."""
        await self.checker.decoy()
