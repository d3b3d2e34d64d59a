"""The dashboard's pages, one module per area, each exporting ``ROUTES``."""

from __future__ import annotations

from starlette.routing import BaseRoute

from onestack.dashboard.pages import auth, containers, instances, objects, overview


def routes() -> list[BaseRoute]:
    return [*auth.ROUTES, *overview.ROUTES, *instances.ROUTES, *containers.ROUTES, *objects.ROUTES]
