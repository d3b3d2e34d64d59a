"""What every part of the compute service layer shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from onestack.common.bus import Bus
from onestack.common.db import Database
from onestack.config import Settings

if TYPE_CHECKING:
    from onestack.common.runtime import Runtime


@dataclass
class Store:
    db: Database
    bus: Bus
    settings: Settings
    runtime: Runtime

    @property
    def image(self) -> Any:
        """The image service (``runtime.state["image"]``)."""
        return self.runtime.state["image"]

    @property
    def network(self) -> Any:
        """The network service (``runtime.state["network"]``)."""
        return self.runtime.state["network"]

    @property
    def identity(self) -> Any:
        return self.runtime.state.get("identity")


def compute_topic(host: str) -> str:
    """The bus topic a host's compute agent serves."""
    return f"compute.{host}"
