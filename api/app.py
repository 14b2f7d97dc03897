"""The FastAPI application factory."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.middleware import BodyLimitMiddleware, HostCheckMiddleware, SecurityHeadersMiddleware
from api.rendering import render_error
from core.settings import ROOT, get_settings, secret_key
from core.templating import environment
from services.platform.audit import record_refusal
from services.platform.errors import ServiceError

log = logging.getLogger("signoff.api")
STATIC = ROOT / "static"


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _service_error(request: Request, exc: ServiceError) -> Response:
    if exc.refusal is not None:
        try:
            record_refusal(exc.refusal, exc.message)
        except Exception:  # the refusal must still be answered
            log.exception("could not audit a refused attempt")
    if _wants_json(request):
        from api.problems import problem

        return problem(exc.status_code, exc.message, instance=request.url.path)
    return render_error(
        request, _TITLES.get(exc.status_code, "Sorry"), exc.message, status_code=exc.status_code
    )


def _server_error(request: Request, exc: Exception) -> Response:
    """An unexpected failure: logged in full, answered with a plain page and no detail."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if _wants_json(request):
        return JSONResponse(
            {
                "type": "about:blank",
                "title": "Internal Server Error",
                "status": 500,
                "code": "server_error",
                "detail": "Something went wrong. It has been logged.",
            },
            status_code=500,
            media_type="application/problem+json",
        )
    return render_error(request, _TITLES[500], status_code=500)


_TITLES = {
    500: "Sorry, there is a problem with the service",
    403: "You cannot do that",
    404: "Page not found",
    409: "This has changed",
    410: "Already done",
    422: "Check your answers",
}


def create_app() -> FastAPI:
    settings = get_settings()
    secret_key()  # refuse to start without a key outside dev
    app = FastAPI(
        title="Signoff",
        version="0.1.0",
        description="Change control and sign-off for councils. Authenticate with a personal "
        "API token: `Authorization: Bearer sgf_...` (create one with `signoff tokens create`).",
        openapi_url="/openapi.json",
        docs_url=None,  # served below from static/, not a CDN
        redoc_url=None,
        telemetry={
            "tracing": settings.opentelemetry,
            "metrics": settings.opentelemetry,
            "logs": settings.opentelemetry,
        },
    )
    app.add_exception_handler(ServiceError, _service_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _server_error)

    @app.exception_handler(StarletteHTTPException)
    def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = getattr(exc, "headers", None)
        if _wants_json(request) and exc.status_code >= 400:
            from api.problems import problem, router_detail

            return problem(
                exc.status_code,
                router_detail(request, exc.status_code, exc.detail),
                instance=request.url.path,
                headers=headers,
            )
        if _wants_json(request) or 300 <= exc.status_code < 400:
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=headers
            )
        return render_error(
            request,
            _TITLES.get(exc.status_code, "Sorry, there is a problem"),
            str(exc.detail),
            status_code=exc.status_code,
        )

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            from api.problems import (
                VALIDATION_FAILED,
                problem,
                validation_detail,
                validation_errors,
            )

            listed = validation_errors(exc.errors())
            return problem(
                422,
                validation_detail(listed),
                code=VALIDATION_FAILED,
                instance=request.url.path,
                errors=listed,
            )
        return render_error(request, "Page not found", status_code=404)

    from api.actions.change_control import router as approvals_router
    from api.actions.performance import router as figures_link_router
    from api.actions.planning import router as plan_signoff_router
    from api.api_v1.change_control import router as api_router
    from api.api_v1.performance import router as performance_api_router
    from api.api_v1.planning import router as planning_api_router
    from api.pages.routes import router as pages_router

    # Routes are tried in order: the emailed links (a committee's sponsors clicking at once)
    # first, so they are not matched against every API route before their own. No two
    # routers share a path: the links' paths are their own, the API's all start /api/v1.
    app.include_router(approvals_router)
    app.include_router(figures_link_router)
    app.include_router(plan_signoff_router)
    app.include_router(api_router)
    app.include_router(performance_api_router)
    app.include_router(planning_api_router)
    app.include_router(pages_router)
    if settings.mailbox_enabled:
        from api.pages.mailbox import router as mailbox_router

        app.include_router(mailbox_router)

    @app.get("/api/docs", include_in_schema=False)
    async def api_docs(request: Request) -> HTMLResponse:
        """Swagger UI from static/ (swagger-ui-dist), so it works offline and under the CSP."""
        html = (
            environment()
            .get_template("pages/api_docs.html")
            .render(
                cspNonce=request.scope.get("state", {}).get("csp_nonce"),
                openapi_url=app.openapi_url,
            )
        )
        return HTMLResponse(html)

    assets = STATIC / "assets"
    if assets.is_dir():
        app.mount("/assets", StaticFiles(directory=assets), name="assets")
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(HostCheckMiddleware)  # outermost: a foreign Host gets nothing else
    return app


STATIC_FILES = (
    "govuk-frontend.min.css",
    "govuk-frontend.min.js",
    "signoff.js",
    "swagger-ui/swagger-ui-bundle.js",
    "swagger-ui/swagger-ui.css",
)


def static_ready() -> bool:
    """Whether `make assets` has built what the pages and /api/docs load."""
    return all((STATIC / "assets" / name).is_file() for name in STATIC_FILES)
