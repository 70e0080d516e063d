"""Project pages (``/project/{id}``), department-target pages (``/target/{id}``), and the redirects of
``/indicator/{id}`` and ``/task/{id}`` to the table row that holds them."""
from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.readmodel.graph import RDFS_LABEL, directory, indicator_mix, indicators_of, one, provenance, typed_props
from api.readmodel.ids import ID_RE, iri_term, minted, page_url
from api.readmodel.projects import owner_of, project_detail, tasks_of
from api.readmodel.years import compare_years
from api.runtime import runtime
from api.templating import not_found, render
from index.embedder import EmbedderError
from index.search import IndexUnavailable

log = logging.getLogger("budgetkg.pages")
router = APIRouter(include_in_schema=False)
#: comparable projects listed on a project page
SIMILAR_SHOWN = 5


@router.get("/project/{id}", response_class=HTMLResponse)
def project_page(request: Request, id: str):
    if not ID_RE.match(id):
        return not_found(request, "项目", id)
    rt = runtime(request)
    iri = minted("project", id)
    p = project_detail(rt.store, directory(rt), iri)
    if p is None:
        return not_found(request, "项目", id)
    similar, similar_error = [], None
    engine = rt.engine
    if engine is not None:
        try:
            similar = engine.similar(iri, other_towns=True, top=SIMILAR_SHOWN)
        except KeyError:
            similar_error = "该项目不在检索索引中，无法计算可比项目（请重新运行 budgetkg ingest 或 reindex）。"
        except (IndexUnavailable, EmbedderError, OSError, RuntimeError) as exc:
            log.exception("similar failed: %s", iri)
            similar_error = f"计算可比项目时出错：{exc}"
    else:
        similar_error = "检索索引尚未加载，暂时无法列出可比项目。"
    for s in similar:
        s["url"] = page_url(s["iri"])
    sparql = f"DESCRIBE {iri_term(iri)}"
    years = compare_years(rt.store, directory(rt), p["unit"].iri) if p["unit"] else None
    years = years.only(iri) if years else None
    return render(request, "project.html", nav="", p=p, similar=similar, similar_error=similar_error,
                  years=years if years and any(len(g.years) > 1 for g in years.projects) else None,
                  mix=indicator_mix(p["indicators"]), title=p["name"], sparql_url="/sparql-editor?" + urlencode({"query": sparql}),
                  has_period=any(i["period"] for i in p["indicators"]))


@router.get("/indicator/{id}")
def indicator_redirect(request: Request, id: str):
    if not ID_RE.match(id):
        return not_found(request, "指标", id)
    rt = runtime(request)
    owner = owner_of(rt.store, minted("indicator", id), "hasIndicator")
    if owner is None:
        return not_found(request, "指标", id)
    return RedirectResponse(f"{page_url(owner)}#ind-{id}", status_code=303)


@router.get("/task/{id}")
def task_redirect(request: Request, id: str):
    if not ID_RE.match(id):
        return not_found(request, "重点任务", id)
    rt = runtime(request)
    owner = owner_of(rt.store, minted("task", id), "hasKeyTask")
    if owner is None:
        for r in rt.store.select(f"SELECT ?o WHERE {{ {iri_term(minted('task', id))} dcterms:isPartOf ?o }} LIMIT 1"):
            owner = r["o"]
    if owner is None:
        return not_found(request, "重点任务", id)
    return RedirectResponse(f"{page_url(owner)}#task-{id}", status_code=303)


@router.get("/target/{id}", response_class=HTMLResponse)
def target_page(request: Request, id: str):
    if not ID_RE.match(id):
        return not_found(request, "部门整体绩效目标", id)
    iri = minted("department-target", id)
    rt = runtime(request)
    store = rt.store
    p = typed_props(store, iri, "DepartmentTarget")
    if p is None:
        return not_found(request, "部门整体绩效目标", id)
    t = {"iri": iri, "id": id, "name": one(p, RDFS_LABEL) or id, "unit": directory(rt).unit(one(p, "budgetUnit")),
         "year": one(p, "fiscalYear"), "overall_goal": one(p, "overallGoal"), "annual_goal": one(p, "annualGoal"),
         "staff": one(p, "staffCount"), "basic": one(p, "basicExpenditure"), "project": one(p, "projectExpenditure"),
         "indicators": indicators_of(store, iri), "tasks": tasks_of(store, iri), "source": provenance(store, p)}
    return render(request, "target.html", t=t, title=t["name"], mix=indicator_mix(t["indicators"]),
                  has_period=any(i["period"] for i in t["indicators"]))
