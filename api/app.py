"""The app factory: one FastAPI app over one data directory.

Everything heavy (graph store, embedding model, FAISS, BM25, SPARQL workers) is loaded once at
start-up into one :class:`~api.runtime.Runtime`, which views receive through :func:`api.runtime.runtime`.
"""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from api.runtime import Runtime, Settings

__all__ = ["Settings", "create_app"]


def create_app(settings: Settings) -> FastAPI:
    from api.middleware import install

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        rt = Runtime.open(settings)
        try:
            await rt.start_sparql()
            app.state.runtime = rt
            yield
        finally:
            await rt.close()

    app = FastAPI(
        title="budgetkg",
        description="预算公开知识图谱：SPARQL 查询、语义检索与可比项目。Knowledge graph and semantic search over Chinese government budget disclosures.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served below from the package: the default page loads Swagger UI from a CDN
    )
    from api.views import register

    register(app)
    install(app, settings.cors_origins)
    _docs(app)
    _html_errors(app)
    return app


def _docs(app: FastAPI) -> None:
    from fastapi.openapi.docs import get_swagger_ui_html

    @app.get("/docs", include_in_schema=False)
    async def docs():
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="budgetkg API 文档",
                                   swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
                                   swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg")


def _html_errors(app: FastAPI) -> None:
    """Browsers asking for a page that does not exist get the site's Chinese error page; API clients
    keep JSON errors."""
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from api.templating import render

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        wants_html = "text/html" in request.headers.get("accept", "") and not request.url.path.startswith(("/api/", "/sparql"))
        if wants_html and exc.status_code == 404:
            return render(request, "error.html", status=404, title="页面不存在",
                          message="没有这个页面。", hint="请检查地址，或回到检索页重新查找。")
        return JSONResponse({"error": exc.detail if isinstance(exc.detail, str) else "error", "detail": exc.detail},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))
