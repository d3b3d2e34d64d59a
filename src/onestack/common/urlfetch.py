"""Data from a URL a user names (an image's web-download, a stack's ``template_url``), behind
a URI filter as Glance's ``[import_filtering_opts]``.

The filter: schemes, hosts and ports, each an allow list and a deny list; as in Glance, an
allow list, when set, makes its deny list ignored, and a URL naming no port passes the port
lists. Only http and https are ever fetched, whatever the lists say. Every redirect must pass
the filter too: a filtered URL never reaches a private port by a hop through an allowed one.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

TIMEOUT = 60.0
MAX_REDIRECTS = 10


class FetchError(Exception):
    """The data could not be fetched; the message says why (without the URL asked for)."""


class Refused(FetchError):
    """A redirect the filter refuses."""


class HTTPStatus(FetchError):
    """The server answered with an error status."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status} {reason}")
        self.status = status


def _words(setting: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in setting.split(",") if w.strip())


def _ports(setting: str, name: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in _words(setting))
    except ValueError:
        raise ValueError(f"{name} is not a list of ports: {setting}") from None


@dataclass(frozen=True)
class UriFilter:
    allowed_schemes: tuple[str, ...] = ("http", "https")
    disallowed_schemes: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    disallowed_hosts: tuple[str, ...] = ()
    allowed_ports: tuple[int, ...] = (80, 443)
    disallowed_ports: tuple[int, ...] = ()

    @classmethod
    def of(cls, settings: object, prefix: str) -> UriFilter:
        """The filter from a settings group's six comma-separated lists, named ``PREFIX``
        + ``allowed_schemes``, ``disallowed_schemes``, ... ``disallowed_ports``."""

        def get(name: str) -> str:
            return str(getattr(settings, prefix + name))

        return cls(
            allowed_schemes=_words(get("allowed_schemes")),
            disallowed_schemes=_words(get("disallowed_schemes")),
            allowed_hosts=_words(get("allowed_hosts")),
            disallowed_hosts=_words(get("disallowed_hosts")),
            allowed_ports=_ports(get("allowed_ports"), prefix + "allowed_ports"),
            disallowed_ports=_ports(get("disallowed_ports"), prefix + "disallowed_ports"),
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
            self.allows_scheme(parsed.scheme)
            and _passes(parsed.hostname, self.allowed_hosts, self.disallowed_hosts)
            and (port is None or _passes(port, self.allowed_ports, self.disallowed_ports))
        )

    def allows_scheme(self, scheme: str) -> bool:
        return scheme in ("http", "https") and _passes(
            scheme, self.allowed_schemes, self.disallowed_schemes
        )


def _passes(value: object, allowed: tuple[object, ...], denied: tuple[object, ...]) -> bool:
    if allowed:
        return value in allowed
    return value not in denied


async def fetch(
    uri: str, uri_filter: UriFilter, timeout: float = TIMEOUT
) -> AsyncGenerator[bytes, None]:
    """The bytes at ``uri`` as served (no content decoding), checked against the response's
    Content-Length when it has one. The caller checks ``uri`` itself against the filter
    first; this checks every redirect."""
    import httpx  # with its command-line extras (rich, pygments) ~80 ms: not on every start

    async def check(request: httpx.Request) -> None:
        if not uri_filter.allows(str(request.url)):
            raise Refused(f"redirect to {request.url} refused")

    try:
        async with (
            httpx.AsyncClient(
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                timeout=timeout,
                event_hooks={"request": [check]},
                trust_env=False,
            ) as client,
            client.stream("GET", uri) as response,
        ):
            if response.status_code >= 400:
                raise HTTPStatus(response.status_code, response.reason_phrase)
            size = 0
            async for chunk in response.aiter_raw():
                size += len(chunk)
                yield chunk
            expected = response.headers.get("content-length")
            if expected is not None and expected.isdigit() and int(expected) != size:
                raise FetchError(f"{size} bytes arrived of the {expected} announced")
    except httpx.HTTPError as exc:
        raise FetchError(str(exc) or type(exc).__name__) from exc
