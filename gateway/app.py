"""The FastAPI application factory.

One ``APIRouter`` per resource; the factory takes its settings as an argument
so tests build an app without touching the environment.
"""

from __future__ import annotations

from fastapi import FastAPI

from gateway.problems import install_problem_handlers
from gateway.routers import health, info
from gateway.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Pujiang Gateway",
        version=info.project_version(),
        summary="Cross-chain hub between Pujiang subchains and regional chains",
    )
    app.state.settings = settings
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(info.router)
    return app
