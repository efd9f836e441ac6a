"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI

from comfyhangar import __version__
from comfyhangar.core.access import Scope
from comfyhangar.server.api_docs import install_api_docs
from comfyhangar.server.audit import AuditTrail
from comfyhangar.server.auth import access, own_credentials
from comfyhangar.server.dashboard import install_dashboard
from comfyhangar.server.errors import install_error_handlers
from comfyhangar.server.hosts import AllowedHosts, host_rules
from comfyhangar.server.request_limits import BodySizeLimit, RequestWriteWait
from comfyhangar.server.request_log import RequestLog
from comfyhangar.server.routers import (
    audit,
    auth,
    budgets,
    comfyui_servers,
    cost_reports,
    costs,
    deployments,
    events,
    gpus,
    health,
    input_files,
    outputs,
    pods,
    preflight,
    presets,
    runs,
    tokens,
    users,
    workflows,
)
from comfyhangar.server.runtime import Runtime
from comfyhangar.server.schemas.limits import MAX_BODY_BYTES
from comfyhangar.server.security_headers import SecurityHeaders
from comfyhangar.server.services.workflows import MAX_WORKFLOW_BYTES
from comfyhangar.server.settings import Settings, load_settings
from comfyhangar.server.simulated_pods import SimulatedPods

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. Start-up (in the lifespan) migrates the database and connects the cloud."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with Runtime.start(settings) as runtime:
            app.state.runtime = runtime
            yield

    app = FastAPI(
        title="ComfyHangar",
        version=__version__,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        # Operation ids are the handlers' names (`list_deployments`): the dashboard's generated
        # client and any other generator get readable function names.
        generate_unique_id_function=lambda route: route.name,
    )
    install_error_handlers(app)
    # Open to anyone: the health check and sign-in. Everything else needs credentials, with
    # the scope each router's unsafe methods need (server/auth.py).
    app.include_router(health.router, prefix=API_PREFIX)
    app.include_router(auth.router, prefix=API_PREFIX)
    guarded: list[tuple[Any, Scope]] = [
        (gpus, Scope.DEPLOY),
        (deployments, Scope.DEPLOY),
        (events, Scope.DEPLOY),
        (pods, Scope.DEPLOY),
        (costs, Scope.DEPLOY),
        (cost_reports, Scope.DEPLOY),
        (budgets, Scope.ADMIN),
        (presets, Scope.DEPLOY),
        (preflight, Scope.DEPLOY),
        (workflows, Scope.RUN),
        (comfyui_servers, Scope.RUN),
        (runs, Scope.RUN),
        (input_files, Scope.RUN),
        (outputs, Scope.RUN),
    ]
    for module, write in guarded:
        app.include_router(module.router, prefix=API_PREFIX, dependencies=[Depends(access(write))])
    app.include_router(
        users.router,
        prefix=API_PREFIX,
        dependencies=[Depends(access(Scope.ADMIN, read=Scope.ADMIN))],
    )
    app.include_router(tokens.router, prefix=API_PREFIX, dependencies=[Depends(own_credentials)])
    app.include_router(
        audit.router,
        prefix=API_PREFIX,
        dependencies=[Depends(access(Scope.ADMIN, read=Scope.ADMIN))],
    )
    install_api_docs(app, prefix=API_PREFIX)
    install_dashboard(app, api_prefix=API_PREFIX)  # last: its catch-all must not shadow the API
    # Outermost last: every request is logged (refused ones too); the Host check runs before
    # anything else is done with it, then the simulated pods' ComfyUI takes its paths (with
    # ComfyUI's own upload limit), then the body limit.
    app.add_middleware(AuditTrail)  # innermost: it sees who the request authenticated as
    app.add_middleware(RequestWriteWait)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=MAX_BODY_BYTES,
        # workflow files (JSON, images) and input images
        larger={f"{API_PREFIX}/{p}": MAX_WORKFLOW_BYTES for p in ("workflows", "input-files")},
    )
    app.add_middleware(SimulatedPods)
    app.add_middleware(AllowedHosts, rules=host_rules(settings.host, settings.allowed_host_list))
    app.add_middleware(SecurityHeaders, hsts=settings.behind_tls)  # on refusals (421) too
    app.add_middleware(RequestLog)
    return app
