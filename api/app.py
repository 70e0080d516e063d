"""The app factory: one FastAPI app over one data directory.

Everything heavy (graph store, embedding model, FAISS, BM25) is loaded once at start-up and kept
on ``app.state``; views reach it through :func:`state`.
"""
from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


@dataclass
class Settings:
    data_dir: Path
    sparql_timeout: float = 30.0  # seconds
    result_cap: int = 10_000  # rows returned by /sparql at most
    load_model: bool = True
    sparql_workers: int = 2  # worker processes answering /sparql
    sparql_memory_mb: int | None = 2048  # resident memory a SPARQL worker may use; None: no limit
    cors_origins: tuple[str, ...] = ("*",)  # origins allowed to read responses; () disables CORS


def state(request: Request):
    """The loaded resources of the app serving this request (``store``, ``engine``, ``settings``)."""
    return request.app.state


def create_app(settings: Settings) -> FastAPI:
    from api.cache import LRU
    from api.middleware import install
    from api.views.search import FILTER_CACHE_SIZE
    from ingest.store import open_store
    from index.search import SearchEngine

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.settings = settings
        # the server holds the store's write lock although it never writes: `budgetkg ingest` into a
        # served data directory is refused with a clear message instead of racing the readers, while
        # read-only CLI commands (`sparql`, `search`) keep working beside it
        app.state.store = open_store(settings.data_dir, read_only=False)
        app.state.engine = SearchEngine(settings.data_dir, load_model=settings.load_model)
        # `sparql` search filters stay resolved while nobody else can change the store
        app.state.filter_cache = None if app.state.store.shared else LRU(FILTER_CACHE_SIZE)
        try:
            yield
        finally:
            app.state.store.close()

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

    from api.views.pages import render

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        wants_html = "text/html" in request.headers.get("accept", "") and not request.url.path.startswith(("/api/", "/sparql"))
        if wants_html and exc.status_code == 404:
            return render(request, "error.html", status=404, title="页面不存在",
                          message="没有这个页面。", hint="请检查地址，或回到检索页重新查找。")
        return JSONResponse({"error": exc.detail if isinstance(exc.detail, str) else "error", "detail": exc.detail},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))
