"""Dashboard (Horizon's job): the cloud in a browser, server-rendered pages (Starlette and
Jinja2) that call the services' public APIs with the signed-in user's token."""

from __future__ import annotations

from onestack.common.api import Public
from onestack.common.runtime import ServiceSpec
from onestack.dashboard.app import build, error_page

SPEC = ServiceSpec(
    name="dashboard",
    catalog_type="",  # a web page: no catalog entry
    catalog_name="horizon",
    prefix="/dashboard",
    endpoint_path="/dashboard",
    routes=lambda runtime: (),
    app=build,
    error_body=error_page,
    # The dashboard's own sessions stand in for tokens: every path reaches it.
    public=(Public(r"", frozenset({"GET", "HEAD", "POST", "PUT", "DELETE"})),),
    scoped_tokens=False,
)
