"""Views grouped by resource. Each module exposes a ``router``; :func:`register` mounts them."""
from __future__ import annotations

from fastapi import FastAPI


def register(app: FastAPI) -> None:
    from fastapi.staticfiles import StaticFiles

    from api.templating import STATIC
    from api import sparql_endpoint
    from api.views import ontology, pages, resources, search, years

    app.include_router(sparql_endpoint.router)
    app.include_router(search.router)
    app.include_router(resources.router)
    app.include_router(years.router)
    app.include_router(ontology.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
