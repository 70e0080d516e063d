"""Budget unit pages (``/unit/{id}``): documents, projects, department targets, the functional-class
chart, the budget tables, and 历年对比 — the unit's years side by side."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.readmodel.budget import functional_classes_of, unit_budget_lines
from api.readmodel.graph import directory, documents
from api.readmodel.ids import ID_RE, iri_term, minted
from api.readmodel.years import compare_years
from api.runtime import runtime
from api.templating import not_found, render, wan

router = APIRouter(include_in_schema=False)


@router.get("/unit/{id}", response_class=HTMLResponse)
def unit_page(request: Request, id: str):
    if not ID_RE.match(id):
        return not_found(request, "预算单位", id)
    iri = minted("unit", id)
    rt = runtime(request)
    if iri not in directory(rt).units:
        return not_found(request, "预算单位", id)
    store = rt.store
    u = directory(rt).unit(iri)
    projects = []
    for r in store.select(f"""
        SELECT ?p ?l ?y ?a ?type (COUNT(?i) AS ?n) WHERE {{
          ?p a bkg:Project ; bkg:budgetUnit {iri_term(iri)} ; rdfs:label ?l .
          OPTIONAL {{ ?p bkg:fiscalYear ?y }} OPTIONAL {{ ?p bkg:amount ?a }} OPTIONAL {{ ?p bkg:projectType ?type }}
          OPTIONAL {{ ?p bkg:hasIndicator ?i }}
        }} GROUP BY ?p ?l ?y ?a ?type ORDER BY DESC(?y) DESC(?a)"""):
        projects.append({"iri": r["p"], "name": r["l"], "year": r["y"], "amount": r["a"], "type": r["type"],
                         "indicators": int(r["n"])})
    targets = [{"iri": r["t"], "name": r["l"], "year": r["y"]} for r in store.select(f"""
        SELECT ?t ?l ?y WHERE {{ ?t a bkg:DepartmentTarget ; bkg:budgetUnit {iri_term(iri)} ; rdfs:label ?l .
        OPTIONAL {{ ?t bkg:fiscalYear ?y }} }} ORDER BY DESC(?y)""")]
    docs = documents(store, f"?d a bkg:Document ; bkg:budgetUnit {iri_term(iri)} .")
    docs.sort(key=lambda d: (d["year"] or "", d["title"]), reverse=True)
    tables = unit_budget_lines(store, iri)
    fc = functional_classes_of(store, iri)
    several_years = len({e["year"] for e in fc}) > 1
    classes = {"categories": [f"{e['name']}" + (f"（{e['year']}年）" if several_years and e["year"] else "") for e in fc],
               "values": [wan(e["amount"]) for e in fc], "links": [f"/code/{e['notation']}?scheme=functional" for e in fc],
               "unit": "万元"} if fc else None
    years = compare_years(store, directory(rt), iri)
    return render(request, "unit.html", u=u, projects=projects, targets=targets, docs=docs, tables=tables,
                  classes=classes, years=years if years and len(years.years) > 1 else None, title=u["label"])
