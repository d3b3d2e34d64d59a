"""Pieces several API test modules share: unique names and module-scoped client fixtures.

The fixtures are made by factories so that each module names them as its tests do, by plain
assignment (a fixture's name is the module attribute it is bound to)::

    admin = sdk_connection("onestack")
    demo = image_api("onestack-demo")
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.cloud import Cloud


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def sdk_connection(cloud_name: str) -> Any:
    """A module-scoped fixture: an openstacksdk connection as the clouds.yaml entry
    ``cloud_name``, closed after the module."""

    @pytest.fixture(scope="module")
    def connection(cloud: Cloud) -> Iterator[Any]:
        conn = cloud.sdk(cloud_name)
        yield conn
        conn.close()

    return connection


def image_api(cloud_name: str) -> Any:
    """A module-scoped fixture: an httpx client of the image API (base URL ``/image``) with a
    token of the clouds.yaml entry ``cloud_name``."""

    @pytest.fixture(scope="module")
    def client(cloud: Cloud) -> Iterator[httpx.Client]:
        headers = {"X-Auth-Token": cloud.token(cloud_name)}
        with httpx.Client(base_url=f"{cloud.url}/image", headers=headers, timeout=30) as c:
            yield c

    return client
