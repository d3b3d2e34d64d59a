"""``GET /info``: what this object store can do (Swift's discoverable capabilities), without
a token. Clients (``swift capabilities``, ``swift delete`` deciding on bulk delete) ask it
at the root of the host as well as under ``/object``."""

from __future__ import annotations

from typing import Any

from onestack.config import ObjectSettings
from onestack.object.api import bulk, large, symlink
from onestack.object.api.metadata import (
    ACCOUNT_LISTING_LIMIT,
    CONTAINER_LISTING_LIMIT,
    MAX_ACCOUNT_NAME_LENGTH,
    MAX_CONTAINER_NAME_LENGTH,
    MAX_HEADER_SIZE,
    MAX_META_COUNT,
    MAX_META_NAME_LENGTH,
    MAX_META_OVERALL_SIZE,
    MAX_META_VALUE_LENGTH,
    MAX_OBJECT_NAME_LENGTH,
    POLICY,
)
from onestack.object.api.signed import DIGESTS, METHODS

SWIFT_VERSION = "2.38.0"


def capabilities(settings: ObjectSettings) -> dict[str, Any]:
    return {
        "swift": {
            "version": SWIFT_VERSION,
            "max_file_size": settings.max_file_size,
            "max_meta_name_length": MAX_META_NAME_LENGTH,
            "max_meta_value_length": MAX_META_VALUE_LENGTH,
            "max_meta_count": MAX_META_COUNT,
            "max_meta_overall_size": MAX_META_OVERALL_SIZE,
            "max_header_size": MAX_HEADER_SIZE,
            "max_object_name_length": MAX_OBJECT_NAME_LENGTH,
            "container_listing_limit": CONTAINER_LISTING_LIMIT,
            "account_listing_limit": ACCOUNT_LISTING_LIMIT,
            "max_account_name_length": MAX_ACCOUNT_NAME_LENGTH,
            "max_container_name_length": MAX_CONTAINER_NAME_LENGTH,
            "extra_header_count": 0,
            "valid_api_versions": ["v1", "v1.0"],
            "policies": [{"name": POLICY, "aliases": POLICY, "default": True}],
            "strict_cors_mode": True,
            "allow_account_management": False,
            "account_autocreate": True,
        },
        "keystoneauth": {},
        "tempurl": {
            "methods": list(METHODS),
            "incoming_remove_headers": ["x-timestamp"],
            "incoming_allow_headers": [],
            "outgoing_remove_headers": ["x-object-meta-*"],
            "outgoing_allow_headers": ["x-object-meta-public-*"],
            "allowed_digests": sorted(DIGESTS),
        },
        "formpost": {"allowed_digests": sorted(DIGESTS)},
        "bulk_delete": {
            "max_deletes_per_request": bulk.MAX_DELETES,
            "max_failed_deletes": bulk.MAX_FAILED,
        },
        "bulk_upload": {
            "max_containers_per_extraction": bulk.MAX_CONTAINERS_PER_EXTRACTION,
            "max_failed_extractions": bulk.MAX_FAILED,
        },
        "slo": {
            "max_manifest_segments": large.MAX_MANIFEST_SEGMENTS,
            "max_manifest_size": large.MAX_MANIFEST_SIZE,
            "min_segment_size": large.MIN_SEGMENT_SIZE,
            "yield_frequency": 10,
            "allow_async_delete": False,
        },
        "dlo": {"max_get_time": 86400},
        "versioned_writes": {"allowed_flags": ["x-versions-location", "x-history-location"]},
        "account_quotas": {},
        "container_quotas": {},
        "copy": {},
        "staticweb": {},
        "symlink": {"symloop_max": symlink.SYMLOOP_MAX, "static_links": True},
    }
