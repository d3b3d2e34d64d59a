"""Version discovery documents, shared by every service's prefix root."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class APIVersionDoc:
    id: str
    status: str  # CURRENT, SUPPORTED, DEPRECATED (Keystone: stable)
    updated: str
    media_type: str
    path: str  # relative to the service prefix, e.g. "v3/" or "v2.1/"
    min_version: str = ""
    max_version: str = ""

    def render(self, prefix_url: str, with_microversions: bool = True) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "updated": self.updated,
            "links": [{"rel": "self", "href": f"{prefix_url.rstrip('/')}/{self.path}"}],
            "media-types": [{"base": "application/json", "type": self.media_type}],
        }
        if with_microversions:
            doc["min_version"] = self.min_version
            doc["version"] = self.max_version
        return doc
