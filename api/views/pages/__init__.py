"""Web pages for researchers, in Chinese: server-rendered Jinja2 templates (:mod:`api.templating`) over
the read model (:mod:`api.readmodel`) and the search engine — never the JSON API — so the first paint
needs one request. Every page is usable without JavaScript except the SPARQL editor and the charts; the
small scripts in ``api/static/js`` only add to what the server rendered.

One module per resource; none is in the OpenAPI schema: :mod:`.home` ``/`` (search), :mod:`.project`
``/project/{id}``, ``/target/{id}``, ``/indicator/{id}`` and ``/task/{id}`` (redirects), :mod:`.unit`
``/unit/{id}``, :mod:`.document` ``/document/{id}``, :mod:`.code` ``/code/{notation}`` and ``/codes``,
:mod:`.compare` ``/compare?ids=a,b``, :mod:`.years` ``/compare/years?unit=…``, :mod:`.charts` ``/charts``,
:mod:`.editor` ``/sparql-editor``.
"""
from __future__ import annotations

from fastapi import APIRouter

from api.views.pages import charts, code, compare, document, editor, home, project, unit
from api.views.pages.editor import SPARQL_EXAMPLES

__all__ = ["router", "SPARQL_EXAMPLES"]

router = APIRouter(include_in_schema=False)
for module in (home, project, unit, document, code, compare, charts, editor):
    router.include_router(module.router)
