"""Image data from a URL: the ``web-download`` import method and the tasks API's ``import``
task fetch through here, behind Glance's ``[import_filtering_opts]`` URI filter
(``common/urlfetch.py``), its lists from the image settings (``import_allowed_schemes`` ...),
with Glance's defaults: schemes http and https, ports 80 and 443, any host.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

from onestack.common import urlfetch
from onestack.common.urlfetch import UriFilter
from onestack.config import ImageSettings

__all__ = ["FetchError", "UriFilter", "fetch", "import_filter"]


class FetchError(Exception):
    """The data could not be fetched; the message names the URL and why."""


def import_filter(s: ImageSettings) -> UriFilter:
    return UriFilter.of(s, "import_")


async def fetch(uri: str, uri_filter: UriFilter) -> AsyncGenerator[bytes, None]:
    """The bytes at ``uri`` as served, as Glance's web-download reads them."""
    try:
        async with contextlib.aclosing(urlfetch.fetch(uri, uri_filter)) as chunks:
            async for chunk in chunks:
                yield chunk
    except urlfetch.FetchError as exc:
        raise FetchError(f"Failed to import from {uri}: {exc}") from exc
