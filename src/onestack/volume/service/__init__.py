"""The block storage service layer: the only writer of the volume tables."""

from __future__ import annotations

from onestack.common.bus import Bus
from onestack.common.db import Database
from onestack.config import VolumeSettings
from onestack.image.facade import ImageAPI
from onestack.volume.service.actions import Actions
from onestack.volume.service.attachments import Attachments, AttachmentsAPI
from onestack.volume.service.backups import Backups
from onestack.volume.service.base import VolumeContext
from onestack.volume.service.messages import Messages
from onestack.volume.service.pools import Pools
from onestack.volume.service.qos import Qos
from onestack.volume.service.quotas import Quotas
from onestack.volume.service.snapshots import Snapshots
from onestack.volume.service.transfers import Transfers
from onestack.volume.service.types import Types
from onestack.volume.service.volumes import Volumes


class VolumeService:
    def __init__(
        self, db: Database, bus: Bus, settings: VolumeSettings, image: ImageAPI | None = None
    ) -> None:
        self.context = VolumeContext(db, bus, settings, image)
        self.pools = Pools(self.context)
        self.quotas = Quotas(self.context)
        self.types = Types(self.context)
        self.messages = Messages(self.context)
        self.volumes = Volumes(self.context, self.pools, self.quotas)
        self.actions = Actions(self.context, self.pools, self.quotas)
        self.qos = Qos(self.context)
        self.attachments = Attachments(self.context, self.qos)
        self.attachments_api = AttachmentsAPI(self.context, self.attachments)
        self.snapshots = Snapshots(self.context, self.quotas)
        self.transfers = Transfers(self.context, self.quotas)
        self.backups = Backups(self.context, self.quotas)
