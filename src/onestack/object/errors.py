"""Swift's errors and error bodies: an HTML page per status (swob's), or the plain-text
reason Swift gives for a refused input ("Metadata name too long; max 128")."""

from __future__ import annotations

from typing import ClassVar

from onestack.common import errors
from onestack.common.errors import ErrorPage, OneStackError

HTML = "text/html; charset=UTF-8"
PLAIN = "text/plain; charset=UTF-8"

# swob's status pages: (title, explanation).
PAGES: dict[int, tuple[str, str]] = {
    400: (
        "Bad Request",
        "The server could not comply with the request since it is either malformed or "
        "otherwise incorrect.",
    ),
    401: (
        "Unauthorized",
        "This server could not verify that you are authorized to access the document you "
        "requested.",
    ),
    403: ("Forbidden", "Access was denied to this resource."),
    404: ("Not Found", "The resource could not be found."),
    405: ("Method Not Allowed", "The method is not allowed for this resource."),
    406: ("Not Acceptable", "The server has no response in a format the client accepts."),
    408: ("Request Timeout", "The server has waited too long for the request to be sent."),
    409: ("Conflict", "There was a conflict when trying to complete your request."),
    411: ("Length Required", "Length Required"),
    412: ("Precondition Failed", "A precondition for this request was not met."),
    413: ("Request Entity Too Large", "The body of your request was too large for this server."),
    414: ("Request URI Too Long", "The request URI was too long for this server."),
    416: ("Requested Range Not Satisfiable", "The Range requested is not available."),
    422: ("Unprocessable Entity", "Unable to process the contained instructions"),
    499: ("Client Disconnect", "The client was disconnected during request."),
    500: (
        "Internal Error",
        "The server has either erred or is incapable of performing the requested operation.",
    ),
    501: ("Not Implemented", "The server is unable to process the request."),
    503: (
        "Service Unavailable",
        "The server is currently unavailable. Please try again at a later time.",
    ),
}


class SwiftError(OneStackError):
    """An answer with Swift's page for its status, or ``message`` as plain text."""

    template = ""


def _error(code_: int) -> type[SwiftError]:
    title_, _ = PAGES[code_]

    class _Status(SwiftError):
        code: ClassVar[int] = code_
        title: ClassVar[str] = title_

    _Status.__name__ = title_.replace(" ", "")
    return _Status


BadRequest = _error(400)
Unauthorized = _error(401)
Forbidden = _error(403)
NotFound = _error(404)
MethodNotAllowed = _error(405)
NotAcceptable = _error(406)
Conflict = _error(409)
LengthRequired = _error(411)
PreconditionFailed = _error(412)
TooLarge = _error(413)
RangeNotSatisfiable = _error(416)
Unprocessable = _error(422)
ClientDisconnect = _error(499)


def swift_body(err: OneStackError) -> ErrorPage:
    """Swift's body for ``err``: its reason as plain text when it has one of its own, else
    the status page."""
    if isinstance(err, SwiftError) and err.message:
        return ErrorPage(PLAIN, err.message.encode())
    title, text = PAGES.get(err.code, PAGES[500])
    if err.code == 500 and isinstance(err, errors.InternalError):
        pass
    elif not isinstance(err, SwiftError) and err.code in (400, 503) and err.message:
        return ErrorPage(PLAIN, err.message.encode())
    return ErrorPage(HTML, f"<html><h1>{title}</h1><p>{text}</p></html>".encode())
