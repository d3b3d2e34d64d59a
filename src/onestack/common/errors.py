"""One exception hierarchy for every service, and the error bodies each service speaks.

A handler raises one of these; the service's error middleware turns it into that service's
OpenStack error body with ``format_error``. Third-party exceptions are converted where they
enter (database, netlink, QMP), never passed through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson


class OneStackError(Exception):
    """Base of every error an API returns on purpose."""

    code: ClassVar[int] = 500
    title: ClassVar[str] = "Internal Server Error"
    template: ClassVar[str] = (
        "An unexpected error prevented the server from fulfilling your request."
    )

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        self.message = message if message is not None else self.template.format(**kwargs)
        self.headers: dict[str, str] = {}
        super().__init__(self.message)

    @property
    def name(self) -> str:
        """Error type name, used by services whose bodies carry one (Neutron's ``type``)."""
        return type(self).__name__


class BadRequest(OneStackError):
    code = 400
    title = "Bad Request"
    template = "The request you have made is invalid."


class ValidationError(BadRequest):
    template = "Invalid input for field '{field}': {reason}"


class Unauthorized(OneStackError):
    code = 401
    title = "Unauthorized"
    template = "The request you have made requires authentication."


class Forbidden(OneStackError):
    code = 403
    title = "Forbidden"
    template = "You are not authorized to perform the requested action: {action}."


class NotFound(OneStackError):
    code = 404
    title = "Not Found"
    template = "Could not find {kind}: {id}."


class MethodNotAllowed(OneStackError):
    code = 405
    title = "Method Not Allowed"
    template = "The method is not allowed for the requested URL."


class NotAcceptable(OneStackError):
    code = 406
    title = "Not Acceptable"
    template = "{reason}"


class Conflict(OneStackError):
    code = 409
    title = "Conflict"
    template = "Conflict occurred attempting to store {kind} - {reason}."


class PayloadTooLarge(OneStackError):
    code = 413
    title = "Request Entity Too Large"
    template = "Request is too large."


class UnsupportedMediaType(OneStackError):
    code = 415
    title = "Unsupported Media Type"
    template = "The media type {media_type} is not supported, use application/json."


class InternalError(OneStackError):
    pass


class ServiceUnavailable(OneStackError):
    code = 503
    title = "Service Unavailable"
    template = "The service is unavailable: {reason}."


@dataclass(frozen=True)
class ErrorPage:
    """An error body that is not JSON (Swift answers with text/html and text/plain pages)."""

    content_type: str
    body: bytes


ErrorFormatter = Callable[[OneStackError], "dict[str, Any] | ErrorPage"]


def render_error(formatter: ErrorFormatter, err: OneStackError) -> tuple[bytes, bytes]:
    """(content type, body) of ``err`` in a service's error body."""
    rendered = formatter(err)
    if isinstance(rendered, ErrorPage):
        return rendered.content_type.encode(), rendered.body
    return b"application/json", orjson.dumps(rendered)


def keystone_body(err: OneStackError) -> dict[str, Any]:
    """Keystone: ``{"error": {"code", "message", "title"}}``."""
    return {"error": {"code": err.code, "message": err.message, "title": err.title}}


_NOVA_KEYS = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "HTTPMethodNotAllowed",
    406: "HTTPNotAcceptable",
    409: "conflictingRequest",
    413: "overLimit",
    415: "HTTPUnsupportedMediaType",
    503: "serviceUnavailable",
}


def nova_body(err: OneStackError) -> dict[str, Any]:
    """Nova and Cinder: ``{"itemNotFound": {"code", "message"}}``."""
    key = _NOVA_KEYS.get(err.code, "computeFault")
    return {key: {"code": err.code, "message": err.message}}


def neutron_body(err: OneStackError) -> dict[str, Any]:
    """Neutron: ``{"NeutronError": {"type", "message", "detail"}}``."""
    return {"NeutronError": {"type": err.name, "message": err.message, "detail": ""}}


def glance_body(err: OneStackError) -> dict[str, Any]:
    """Glance (webob's JSON error page): ``{"code": "404 Not Found", "message", "title"}``."""
    return {"code": f"{err.code} {err.title}", "message": err.message, "title": err.title}
