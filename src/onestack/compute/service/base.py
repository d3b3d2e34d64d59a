"""What every part of the compute service layer shares: the compute context."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from onestack.common.bus import Bus
from onestack.common.db import Database
from onestack.config import Settings
from onestack.identity.facade import IdentityAPI
from onestack.image.facade import ImageAPI
from onestack.network.facade import NetworkAPI

# The topic of compute's notifications (``compute.instance.create.end``, ...), which higher
# services may subscribe to (``facade.COMPUTE_NOTIFICATIONS``).
NOTIFICATIONS = "notifications.compute"

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime
    from onestack.volume.facade import VolumeAPI


@dataclass
class ComputeContext:
    """The process's database, bus and settings, and the other services compute calls
    (through their facades), handed to each part of the service layer."""

    db: Database
    bus: Bus
    settings: Settings
    runtime: Runtime
    # Set by this process's own compute agent once its host is registered: it registers in
    # the background (a fresh host's accelerator probe takes seconds) while the API serves,
    # and a boot that arrives meanwhile waits for it. None: no agent runs in this process.
    local_host_registered: asyncio.Event | None = field(default=None)

    async def wait_local_host(self, timeout: float = 120.0) -> None:
        event = self.local_host_registered
        if event is not None and not event.is_set():
            # Past the timeout, scheduling says which hosts there are.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)

    @property
    def image(self) -> ImageAPI:
        return self.runtime.service(ImageAPI)

    @property
    def network(self) -> NetworkAPI:
        return self.runtime.service(NetworkAPI)

    @property
    def identity(self) -> IdentityAPI | None:
        return self.runtime.optional(IdentityAPI)

    @property
    def volume(self) -> VolumeAPI | None:
        """The block storage service, None while this cloud runs none."""
        from onestack.volume.facade import VolumeAPI

        return self.runtime.optional(VolumeAPI)


def compute_topic(host: str) -> str:
    """The bus topic a host's compute agent serves."""
    return f"compute.{host}"
