"""``/compare?ids=a,b``: projects side by side (项目对比) — amounts, and indicators aligned by 一级 › 二级."""
from __future__ import annotations

import re
from collections import OrderedDict, defaultdict

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.readmodel.graph import directory, spans
from api.readmodel.ids import is_id, local_id, minted
from api.readmodel.projects import project_detail
from api.runtime import runtime
from api.templating import render, wan

router = APIRouter(include_in_schema=False)

MAX_COMPARE = 6
MAX_PICK = 300  # projects listed by the compare picker; beyond, researchers pick from search results


def project_choices(rt) -> list[tuple[str, list[dict]]] | None:
    """Projects by region for the compare picker; None when there are too many to list."""
    n = int(next(iter(rt.store.select("SELECT (COUNT(?p) AS ?n) WHERE { ?p a bkg:Project }")))["n"])
    if n > MAX_PICK:
        return None
    out: dict[str, list[dict]] = defaultdict(list)
    for r in rt.store.select("""
        SELECT ?p ?l ?u ?y ?a WHERE { ?p a bkg:Project ; rdfs:label ?l ; bkg:budgetUnit ?u .
          OPTIONAL { ?p bkg:fiscalYear ?y } OPTIONAL { ?p bkg:amount ?a } } ORDER BY ?l"""):
        u = directory(rt).unit(r["u"])
        out[u["region_label"] or u["label"]].append({"id": local_id(r["p"]), "name": r["l"], "year": r["y"],
                                                     "amount": r["a"], "unit": u["label"]})
    return sorted(out.items())


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request, ids: list[str] = Query([])):
    wanted: list[str] = []
    for chunk in ids:
        for x in re.split(r"[,\s，]+", chunk):
            if x and x not in wanted:
                wanted.append(x)
    message = None
    if len(wanted) > MAX_COMPARE:
        message = f"一次最多对比 {MAX_COMPARE} 个项目，已取前 {MAX_COMPARE} 个。"
        wanted = wanted[:MAX_COMPARE]
    rt = runtime(request)
    d = directory(rt)
    projects, missing = [], []
    for x in wanted:
        p = project_detail(rt.store, d, minted("project", x)) if is_id(x) else None
        if p is None:
            missing.append(x)
        else:
            projects.append(p)
    # indicators aligned by 一级 › 二级, in the order they first appear
    keys: list[tuple[str, str]] = []
    for p in projects:
        for it in p["indicators"]:
            k = (it["level1"], it["level2"])
            if k not in keys:
                keys.append(k)
    first = {}
    for i, k in enumerate(keys):
        first.setdefault(k[0], i)
    keys.sort(key=lambda k: first[k[0]])  # keep each 一级 together (stable)
    aligned = []
    for k in keys:
        aligned.append({"level1": k[0], "level2": k[1],
                        "cells": [[it for it in p["indicators"] if (it["level1"], it["level2"]) == k] for p in projects]})
    spans(aligned, "level1", "l1_span")
    chart = {"names": [f"{p['unit']['region_label'] or ''}·{p['name']}" for p in projects],
             "amounts": [wan(p["amount"]) for p in projects],
             "levels": list(OrderedDict.fromkeys(k[0] or "（未注明）" for k in keys)),
             "counts": [[sum(1 for it in p["indicators"] if (it["level1"] or "（未注明）") == l1)
                         for l1 in OrderedDict.fromkeys(k[0] or "（未注明）" for k in keys)] for p in projects]}
    return render(request, "compare.html", nav="compare", projects=projects, missing=missing, message=message,
                  aligned=aligned, chart=chart, choices=project_choices(rt) if len(projects) < 2 else None,
                  pick=len(projects) < 2,
                  chosen=[p["id"] for p in projects], title="项目对比")
