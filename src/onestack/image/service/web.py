"""Image data from a URL: the ``web-download`` import method and the tasks API's ``import``
task fetch through here, behind Glance's ``[import_filtering_opts]`` URI filter.

The filter's lists come from the image settings (``import_allowed_schemes`` ... below), with
Glance's defaults: schemes http and https, ports 80 and 443, any host. As in Glance, an
allow list, when set, makes its deny list ignored, and a URL naming no port passes the port
lists. Every redirect must pass the filter too: a filtered URL never reaches a private port
by a hop through an allowed one.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from onestack.config import ImageSettings

if TYPE_CHECKING:
    import httpx

TIMEOUT = 60.0
MAX_REDIRECTS = 10


class FetchError(Exception):
    """The data could not be fetched; the message names the URL and why."""


def _words(setting: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in setting.split(",") if w.strip())


def _ports(setting: str, name: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in _words(setting))
    except ValueError:
        raise ValueError(f"image {name} is not a list of ports: {setting}") from None


@dataclass(frozen=True)
class UriFilter:
    allowed_schemes: tuple[str, ...] = ("http", "https")
    disallowed_schemes: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    disallowed_hosts: tuple[str, ...] = ()
    allowed_ports: tuple[int, ...] = (80, 443)
    disallowed_ports: tuple[int, ...] = ()

    @classmethod
    def of(cls, s: ImageSettings) -> UriFilter:
        return cls(
            allowed_schemes=_words(s.import_allowed_schemes),
            disallowed_schemes=_words(s.import_disallowed_schemes),
            allowed_hosts=_words(s.import_allowed_hosts),
            disallowed_hosts=_words(s.import_disallowed_hosts),
            allowed_ports=_ports(s.import_allowed_ports, "import_allowed_ports"),
            disallowed_ports=_ports(s.import_disallowed_ports, "import_disallowed_ports"),
        )

    def allows(self, uri: object) -> bool:
        if not isinstance(uri, str) or not uri:
            return False
        try:
            parsed = urllib.parse.urlparse(uri)
            port = parsed.port
        except ValueError:
            return False
        # Only schemes the fetch below speaks, whatever the lists say: never file: or ftp:.
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            return False
        return (
            _passes(parsed.scheme, self.allowed_schemes, self.disallowed_schemes)
            and _passes(parsed.hostname, self.allowed_hosts, self.disallowed_hosts)
            and (port is None or _passes(port, self.allowed_ports, self.disallowed_ports))
        )


def _passes(value: object, allowed: tuple[object, ...], denied: tuple[object, ...]) -> bool:
    if allowed:
        return value in allowed
    return value not in denied


async def fetch(uri: str, uri_filter: UriFilter) -> AsyncGenerator[bytes, None]:
    """The bytes at ``uri`` as served (no content decoding), checked against the response's
    Content-Length when it has one, as Glance's web-download checks the bytes it wrote."""
    import httpx  # with its command-line extras (rich, pygments) ~80 ms: not on every start

    async def check(request: httpx.Request) -> None:
        if not uri_filter.allows(str(request.url)):
            raise FetchError(f"Failed to import from {uri}: redirect to {request.url} refused")

    try:
        async with (
            httpx.AsyncClient(
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                timeout=TIMEOUT,
                event_hooks={"request": [check]},
                trust_env=False,
            ) as client,
            client.stream("GET", uri) as response,
        ):
            if response.status_code >= 400:
                raise FetchError(
                    f"Failed to import from {uri}: HTTP {response.status_code} "
                    f"{response.reason_phrase}"
                )
            size = 0
            async for chunk in response.aiter_raw():
                size += len(chunk)
                yield chunk
            expected = response.headers.get("content-length")
            if expected is not None and expected.isdigit() and int(expected) != size:
                raise FetchError(
                    f"Failed to import from {uri}: {size} bytes arrived of the {expected} announced"
                )
    except httpx.HTTPError as exc:
        raise FetchError(f"Failed to import from {uri}: {exc or type(exc).__name__}") from exc
