"""A stack's ``template_url``: fetched as Heat's API fetches it (``heat/common/urlfetch.py``),
behind the URI filter the image service's web-download uses, read no further than
``max_template_size``, and every failure a 400 worded as Heat's: "Could not retrieve
template: ..."."""

from __future__ import annotations

import contextlib
import urllib.parse
from typing import TypeVar

from onestack.common import errors, urlfetch
from onestack.common.urlfetch import UriFilter
from onestack.config import OrchestrationSettings
from onestack.orchestration.schemas import TemplateBody

B = TypeVar("B", bound=TemplateBody)


class TemplateFetchError(errors.BadRequest):
    template = "Could not retrieve template: {reason}"

    @property
    def name(self) -> str:
        return "BadRequest"  # Heat's API raises webob's HTTPBadRequest


async def get(url: str, settings: OrchestrationSettings) -> str:
    """The template text at ``url``."""
    uri_filter = UriFilter.of(settings, "template_url_")
    scheme = urllib.parse.urlparse(url).scheme
    if not uri_filter.allows_scheme(scheme):
        raise TemplateFetchError(reason=f"Invalid URL scheme {scheme}")
    if not uri_filter.allows(url):
        raise TemplateFetchError(reason=f"URL {url} is not allowed")
    limit = settings.max_template_size
    data = bytearray()
    try:
        chunks = urlfetch.fetch(url, uri_filter, settings.template_url_timeout)
        async with contextlib.aclosing(chunks):
            async for chunk in chunks:
                data += chunk
                # Counted as it arrives: a Content-Length can lie, a huge body must not land.
                if len(data) > limit:
                    raise TemplateFetchError(
                        reason=f"Template exceeds maximum allowed size ({limit} bytes)"
                    )
    except urlfetch.FetchError as exc:
        raise TemplateFetchError(reason=f"Failed to retrieve template from {url}") from exc
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise TemplateFetchError(reason=f"Template at {url} is not UTF-8 text") from None


async def resolve(body: B, settings: OrchestrationSettings) -> B:
    """``body`` with its ``template`` fetched from its ``template_url`` when it has only the
    URL (an inline template wins, as in Heat)."""
    url = body.template_url
    if body.template is not None or not url:
        return body
    if not isinstance(url, str):
        raise TemplateFetchError(reason=f"Invalid URL {url!r}")
    return body.model_copy(update={"template": await get(url, settings)})
