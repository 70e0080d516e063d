"""``/sparql-editor``: the SPARQL editor, with the query cookbook as its examples."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.templating import render

router = APIRouter(include_in_schema=False)


#: the SPARQL editor's examples are the query cookbook (``ontology/queries/*.rq``, tested against the
#: samples): these first, in this order, then the others by name
EDITOR_FIRST = ("top-projects", "totals-by-region-year", "indicators-by-level", "year-on-year", "projects-by-code",
                "budget-vs-actual", "similar-names")


def _editor_examples() -> list[dict]:
    from ontology import cookbook

    queries = sorted(cookbook(), key=lambda q: (EDITOR_FIRST.index(q.name) if q.name in EDITOR_FIRST else len(EDITOR_FIRST), q.name))
    return [{"title": q.title, "query": q.text, "name": q.name} for q in queries]


SPARQL_EXAMPLES = _editor_examples()


@router.get("/sparql-editor", response_class=HTMLResponse)
def sparql_editor(request: Request, query: str = ""):
    return render(request, "sparql.html", nav="sparql", query=query or SPARQL_EXAMPLES[0]["query"],
                  examples=SPARQL_EXAMPLES, title="SPARQL 查询")


@router.get("/favicon.ico")
def favicon() -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=308)
