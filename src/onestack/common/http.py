"""Request and response helpers shared by every service's handlers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import orjson
import pydantic
from starlette.requests import Request
from starlette.responses import Response

from onestack.common import errors

M = TypeVar("M", bound=pydantic.BaseModel)

DEFAULT_MAX_BODY = 1024 * 1024


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


# Everything printable in ASCII stays as it is in a header value; the rest is percent-encoded.
_HEADER_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def safe_headers(headers: dict[str, str] | None) -> dict[str, str] | None:
    """Header values HTTP can carry: a ``Location`` naming a resource by a user's unicode
    name or tag (``/tags/☃``) is percent-encoded, not a crash after the write is done."""
    if not headers:
        return headers
    return {
        k: v if v.isascii() and v.isprintable() else quote(v, safe=_HEADER_SAFE)
        for k, v in headers.items()
    }


def json_response(
    content: Any, status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(content, status_code=status, headers=safe_headers(headers))


def json_bytes_response(
    body: bytes, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A JSON document already serialised (a cached rendering)."""
    return Response(body, status, safe_headers(headers), "application/json")


def empty(status: int = 204, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, headers=safe_headers(headers))


async def read_body(request: Request, limit: int | None = None) -> bytes:
    """Read the body, refusing more than ``limit`` bytes without buffering the excess."""
    if limit is None:
        limit = int(getattr(request.app.state, "max_body_bytes", DEFAULT_MAX_BODY))
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise errors.PayloadTooLarge()
        except ValueError:
            raise errors.BadRequest("Invalid Content-Length header.") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise errors.PayloadTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


MAX_DEPTH = 64  # deeper documents are no API's and break recursive code downstream
INT_RANGE = 2**63  # every integer column is at most a signed 64-bit integer


def check_document(doc: Any, *, max_depth: int = MAX_DEPTH, bounded: bool = True) -> None:
    """400 for a document nested deeper than ``max_depth`` or (``bounded``) carrying a number
    no column can hold: checked once here, before any service code walks or stores it."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            number = isinstance(node, int | float) and not isinstance(node, bool)
            if bounded and number and not -INT_RANGE <= node < INT_RANGE:
                raise errors.BadRequest(f"Invalid input: the number {node} is out of range.")
            continue
        if depth > max_depth:
            raise errors.BadRequest(
                f"Invalid input: the document is nested deeper than {max_depth} levels."
            )
        stack.extend((child, depth + 1) for child in children)


@dataclass(frozen=True)
class JsonReading:
    """How a service reads its JSON bodies: its own words for a body that is no JSON document
    (each a 400 of the service's error type), and whether it refuses escaped NULs."""

    empty: Callable[[], errors.OneStackError]
    malformed: Callable[[], errors.OneStackError]
    refuse_nul: bool = True  # PostgreSQL cannot store NUL in text
    blank_is_empty: bool = False  # a body of white space only counts as none
    any_type: bool = False  # JSON whatever the Content-Type says (a guest's curl sends its own)


READING = JsonReading(
    empty=lambda: errors.BadRequest("The request body is empty; a JSON document is required."),
    malformed=lambda: errors.BadRequest("Malformed request body: it is not valid JSON."),
)


async def read_json(
    request: Request,
    *,
    bounded: bool = True,
    checked: bool = True,
    optional: bool = False,
    limit: int | None = None,
    reading: JsonReading = READING,
) -> Any:
    """The request body parsed as JSON; 400 with a clear message when it is not, when it is
    nested too deep, or (``bounded``) when it carries a number out of a column's range.
    ``checked``: False leaves the depth and range walk to the body's own parser (a batch of
    10,000 measures); ``optional``: None when there is no body; ``limit``: the most bytes
    taken (the app's ``max_body_bytes`` by default)."""
    ctype = request.headers.get("content-type", "application/json").split(";")[0].strip()
    json_type = ctype == "application/json" or ctype.endswith("+json")
    if ctype and not json_type and not reading.any_type:
        raise errors.UnsupportedMediaType(media_type=ctype)
    body = await read_body(request, limit)
    if not (body.strip() if reading.blank_is_empty else body):
        if optional:
            return None
        raise reading.empty()
    if reading.refuse_nul and b"\\u0000" in body:
        # JSON can only carry NUL as an escape; PostgreSQL cannot store it in text.
        raise errors.BadRequest("Null characters are not allowed in the request body.")
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise reading.malformed() from None
    if checked:
        check_document(doc, bounded=bounded)
    return doc


def validate(model: type[M], data: Any, context: dict[str, Any] | None = None) -> M:
    """Validate ``data`` against ``model``, turning pydantic's report into one 400.
    ``context`` reaches the model's validators (what a body is checked against: the
    resource's type, the alarm it changes)."""
    try:
        return model.model_validate(data, context=context)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        reason = first["msg"]
        if first["type"] == "extra_forbidden":
            reason = "Additional properties are not allowed"
        elif first["type"] == "missing":
            reason = "this field is required"
        raise errors.ValidationError(field=field, reason=reason) from None


def query_bool(value: str | None) -> bool | None:
    """OpenStack's lenient boolean query parameters (``?enabled=true``, ``?effective``)."""
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("", "1", "true", "yes", "on", "t", "y"):
        return True
    if lowered in ("0", "false", "no", "off", "f", "n"):
        return False
    raise errors.BadRequest(f"Invalid boolean value: {value!r}.")
