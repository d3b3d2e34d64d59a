"""What every block storage handler uses: the negotiated version, the caller's views, the
URL's project check, and routes under both ``/v3/{project_id}`` and ``/v3`` (3.67)."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from onestack.common import api, errors
from onestack.common.api import allowed, runtime_of
from onestack.common.auth import get_context
from onestack.common.context import RequestContext
from onestack.common.microversion import APIVersion
from onestack.volume.service import VolumeService
from onestack.volume.views import Views

Handler = Callable[[Request], Any]


def version(request: Request) -> APIVersion:
    v: APIVersion = request.scope["state"]["api_version"]
    return v


# The toolkit bound to this service: Cinder's rules carry no prefix and, without a target,
# see the caller's own project.
kit = api.ServiceHelpers(VolumeService)
svc = kit.service


def context(request: Request) -> RequestContext:
    """The caller; 400 when the URL names another project than the token's."""
    ctx = get_context(request)
    url_project = request.path_params.get("project_id")
    if url_project is not None and url_project != ctx.project_id:
        raise errors.BadRequest(
            "Malformed request URL: URL's project_id does not match Context's project_id."
        )
    return ctx


def views(request: Request, ctx: RequestContext) -> Views:
    base = f"{runtime_of(request).public_url}/volume"
    return Views(
        base,
        ctx.project_id or "",
        version(request),
        ctx.is_admin,
        allowed(request, "volume_extension:volume_tenant_attribute"),
    )


def require_version(request: Request, minimum: str) -> None:
    if version(request) < APIVersion.parse(minimum):
        raise errors.NotFound("The resource could not be found.")


DB_MAX_INT = 2**31 - 1  # Cinder's constants.DB_MAX_INT


def offset_param(raw: str | None) -> int:
    """A list's ``offset`` (Cinder's validate_integer: 0 to DB_MAX_INT, else 400); none or
    not a number of ASCII digits: 0, as before."""
    if not raw or not (raw.isascii() and raw.isdigit()):
        return 0
    if int(raw) > DB_MAX_INT:
        raise errors.BadRequest(
            f"Invalid input received: offset must be less than or equal to {DB_MAX_INT}."
        )
    return int(raw)


def dict_param(raw: str | None, name: str) -> dict[str, str]:
    """A dictionary in a query parameter (``metadata={'k': 'v'}``, JSON or Python literal)."""
    if not raw:
        return {}
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(raw)
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
    raise errors.BadRequest(f"Invalid filter {name}: {raw!r} is not a dictionary.")


def both(routes: Sequence[tuple[str, Handler, list[str]]]) -> list[Route]:
    """Each route under ``/v3/{project_id}`` and, since 3.67, under ``/v3``."""
    out = [Route(f"/v3/{{project_id}}{path}", fn, methods=m) for path, fn, m in routes]
    out += [Route(f"/v3{path}", fn, methods=m) for path, fn, m in routes]
    return out
