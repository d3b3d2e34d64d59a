"""Identity (Keystone v3): users, projects, roles, tokens and the service catalog."""

from __future__ import annotations

from pathlib import Path

from onestack.common.errors import keystone_body
from onestack.common.runtime import Runtime, ServiceSpec
from onestack.identity import api
from onestack.identity.api.views import Views
from onestack.identity.bootstrap import bootstrap
from onestack.identity.facade import IdentityAPI, IdentityFacade
from onestack.identity.keys import KeyRepository
from onestack.identity.policies import RULES
from onestack.identity.service import IdentityService


def token_keys(runtime_dir: Path, max_active: int = 3) -> KeyRepository:
    return KeyRepository(runtime_dir / "fernet-keys", max_active)


def credential_keys(runtime_dir: Path, max_active: int = 3) -> KeyRepository:
    return KeyRepository(runtime_dir / "credential-keys", max_active)


async def start(runtime: Runtime) -> None:
    settings = runtime.settings
    tokens = token_keys(settings.data_dir, settings.identity.max_active_keys)
    creds = credential_keys(settings.data_dir, settings.identity.max_active_keys)
    tokens.initialize()
    creds.initialize()
    svc = IdentityService(runtime.db, runtime.bus, settings.identity, tokens, creds)
    await svc.revocations.load()
    runtime.provide(IdentityService, svc)
    runtime.provide(Views, Views(f"{runtime.public_url}/identity/v3"))
    runtime.provide(
        IdentityAPI, IdentityFacade(svc, await bootstrap(runtime, svc), runtime.enforcer)
    )
    runtime.token_validator = svc.tokens
    runtime.spawn(svc.revocations.refresh_forever(), "identity-revocations")
    runtime.spawn(svc.warm_up(), "identity-warm-up")


SPEC = ServiceSpec(
    name="identity",
    catalog_type="identity",
    catalog_name="keystone",
    prefix="/identity",
    endpoint_path="/identity",
    routes=api.routes,
    error_body=keystone_body,
    public=api.PUBLIC,
    www_authenticate=api.WWW_AUTHENTICATE,
    scoped_tokens=False,
    policies=RULES,
    migrations=Path(__file__).parent / "migrations" / "versions",
    start=start,
)
