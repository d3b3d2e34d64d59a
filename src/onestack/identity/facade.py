"""What other services may ask of the identity service: ``runtime.service(IdentityAPI)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from onestack.common import errors
from onestack.identity.service import IdentityService


@dataclass(frozen=True)
class Bootstrapped:
    """What the first start made: the admin and demo projects and their users' passwords."""

    admin_project_id: str
    demo_project_id: str
    admin_password: str
    demo_password: str

    def secrets(self) -> dict[str, str]:
        """The passwords, as ``clouds.yaml`` and the openrc files need them."""
        return {"admin_password": self.admin_password, "demo_password": self.demo_password}


class IdentityAPI(Protocol):
    @property
    def bootstrapped(self) -> Bootstrapped: ...

    async def project_exists(self, project_id: str) -> bool: ...


class IdentityFacade:
    def __init__(self, svc: IdentityService, bootstrapped: Bootstrapped) -> None:
        self._svc = svc
        self._bootstrapped = bootstrapped

    @property
    def bootstrapped(self) -> Bootstrapped:
        return self._bootstrapped

    async def project_exists(self, project_id: str) -> bool:
        try:
            await self._svc.resources.get_project(project_id)
        except errors.NotFound:
            return False
        return True
