"""The routes for setting up and moving in: Check set-up, the model list, imports."""

from __future__ import annotations

from aiohttp import web

from proxy.admin.doctor_routes import doctor_routes
from proxy.admin.import_routes import import_routes
from proxy.admin.models_route import models_routes


def setup_routes() -> list[web.RouteDef]:
    return [*doctor_routes(), *models_routes(), *import_routes()]
