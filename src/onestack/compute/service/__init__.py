"""The compute service layer: the only code that writes compute tables (with the scheduler's
claims)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from onestack.compute.service.actions import Actions
from onestack.compute.service.aggregates import Aggregates
from onestack.compute.service.base import ComputeContext
from onestack.compute.service.block_devices import BlockDevices
from onestack.compute.service.boot import Boot
from onestack.compute.service.consoles import Consoles
from onestack.compute.service.create import Creation
from onestack.compute.service.flavors import Flavors
from onestack.compute.service.groups import Groups
from onestack.compute.service.guests import Guests
from onestack.compute.service.hosts import Hosts
from onestack.compute.service.instance_actions import InstanceActions
from onestack.compute.service.interfaces import Interfaces
from onestack.compute.service.keypairs import Keypairs
from onestack.compute.service.networking import Networking
from onestack.compute.service.quotas import Quotas
from onestack.compute.service.servers import Servers
from onestack.compute.service.shelve import Shelve
from onestack.compute.service.tags import Tags
from onestack.compute.service.tasks import Tasks
from onestack.compute.service.usage import Usage
from onestack.compute.service.volumes import Volumes

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime


class ComputeService:
    def __init__(self, runtime: Runtime) -> None:
        self.context = ComputeContext(
            db=runtime.db, bus=runtime.bus, settings=runtime.settings, runtime=runtime
        )
        self.flavors = Flavors(self.context)
        self.quotas = Quotas(self.context)
        self.keypairs = Keypairs(self.context, self.quotas)
        self.hosts = Hosts(self.context)
        self.networking = Networking(self.context)
        self.servers = Servers(self.context, self.quotas)
        self.guests = Guests(self.context, self.networking)
        self.block_devices = BlockDevices(self.context)
        self.boot = Boot(self.context, self.networking, self.block_devices)
        self.shelve = Shelve(self.context, self.networking)
        self.actions = Actions(
            self.context,
            servers=self.servers,
            networking=self.networking,
            quotas=self.quotas,
            boot=self.boot,
            shelve=self.shelve,
            flavors=self.flavors,
            keypairs=self.keypairs,
        )
        self.migrations = self.actions.migrations
        self.aggregates = Aggregates(self.context)
        self.groups = Groups(self.context, self.quotas)
        self.creation = Creation(
            self.context,
            flavors=self.flavors,
            quotas=self.quotas,
            keypairs=self.keypairs,
            hosts=self.hosts,
            groups=self.groups,
            networking=self.networking,
            servers=self.servers,
            boot=self.boot,
        )
        self.usage = Usage(self.context)
        self.instance_actions = InstanceActions(self.context)
        self.tags = Tags(self.context)
        self.interfaces = Interfaces(self.context, self.networking)
        self.volumes = Volumes(self.context)
        self.consoles = Consoles(self.context, self.actions)
        self.tasks = Tasks(self.context)  # what the host agents write back
