"""Resources as JSON: projects, indicators, key tasks, budget units and classification codes.

Each view reads the graph with a few small SPARQL queries (:func:`project_detail`,
:func:`unit_summaries`, :func:`code_detail` …, plain functions of the store) run in the thread
pool. Ids are the last path segment of the IRI (``/api/projects/a5607415adf71490`` is
``https://w3id.org/budgetkg/id/project/a5607415adf71490``); ``/api/project?iri=`` takes a full IRI.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel
from fastapi.concurrency import run_in_threadpool

from api.errors import ApiError, StrictQueryRoute, error_responses
from api.models import Code, Indicator, Project, Task, Unit, Units
from api.readmodel import ids
from api.readmodel.graph import UNORDERED, Directory, directory
from api.readmodel.graph import indicators_of as graph_indicators
from api.readmodel.codes import broader, concepts, narrower
from api.readmodel.graph import RDFS_LABEL
from api.readmodel.graph import document_ref as graph_document
from api.readmodel.projects import read_project
from api.readmodel.ids import ID_PATTERN, NOTATION_PATTERN, InvalidIRI, local_id
from api.runtime import runtime
from ontology import BKG, ID, PREFIXES

router = APIRouter(route_class=StrictQueryRoute, tags=["资源 Resources"])

MAX_LINES = 1000

IdPath = Path(..., pattern=ID_PATTERN, description="IRI 的最后一段，如 a5607415adf71490")


# -- values -----------------------------------------------------------------------------------

def compact(iri: str) -> str:
    """``https://w3id.org/budgetkg/def#amount`` → ``bkg:amount`` (longest known namespace)."""
    best = max((ns for ns in PREFIXES.values() if iri.startswith(ns)), key=len, default=None)
    if best is None:
        return iri
    prefix = next(p for p, ns in PREFIXES.items() if ns == best)
    return f"{prefix}:{iri[len(best):]}"


def num(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(Decimal(value))
    except (InvalidOperation, ValueError):
        return None


def integer(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def boolean(value: str | None) -> bool | None:
    return None if value is None else value in ("true", "1")


def iri_term(iri: str) -> str:
    """``<iri>`` for a query (:func:`api.readmodel.ids.iri_term`); an unsafe IRI is a 422."""
    try:
        return ids.iri_term(iri)
    except InvalidIRI as exc:
        raise ApiError(422, "IRI 无效 invalid IRI", str(exc)) from exc


def properties(store, iri: str) -> dict[str, list[str]]:
    """Every (predicate → values) of a subject, predicates compacted (``bkg:amount``, ``rdfs:label``)."""
    out: dict[str, list[str]] = defaultdict(list)
    for r in store.select(f"SELECT ?p ?o WHERE {{ {iri_term(iri)} ?p ?o }}"):
        out[compact(r["p"])].append(r["o"])
    return dict(out)


def first(props: dict[str, list[str]], key: str) -> str | None:
    values = props.get(key)
    return values[0] if values else None


def has_type(props: dict[str, list[str]], cls: str) -> bool:
    return str(BKG[cls]) in props.get("rdf:type", [])


# -- shared pieces ----------------------------------------------------------------------------

def unit_ref(store, unit: str | None, d: Directory) -> dict | None:
    """A unit with its region chain, from the directory the server read once (no query per unit)."""
    if not unit:
        return None
    u = d.units.get(unit)
    if u is None:
        return {"iri": unit, "id": local_id(unit), "name": None, "town": None, "regions": []}
    chain = d.chains.get(u.region, []) if u.region else []
    return {"iri": unit, "id": local_id(unit), "name": u.label, "town": chain[0]["label"] if chain else None,
            "regions": [c["label"] for c in chain], "region": chain[0] if chain else None}


def document_json(doc: dict | None, start: int | None, end: int | None) -> dict | None:
    """A document of the read model (:func:`api.readmodel.graph.documents`) as the API gives it, with the
    lines a resource was read from."""
    if doc is None:
        return None
    return {"iri": doc["iri"], "title": doc["title_printed"], "label": doc["label"], "file": doc["file"],
            "kind": doc["kind"], "year": integer(doc["year"]), "lines": [start, end] if start is not None else None}


def document_ref(store, doc: str | None, props: dict[str, list[str]]) -> dict | None:
    """The document a resource (its compacted ``props``) was read from."""
    if not doc:
        return None
    return document_json(graph_document(store, doc), integer(first(props, "bkg:lineStart")), integer(first(props, "bkg:lineEnd")))


def amount_fields(props: dict[str, list[str]]) -> dict:
    return {"amount": num(first(props, "bkg:amount")), "amount_text": first(props, "bkg:amount"),
            "amount_printed": first(props, "bkg:amountPrinted"), "amount_unit": first(props, "bkg:amountUnit")}


def target_value(store, node: str | None) -> dict | None:
    """A parsed target (≥95% → comparator ≥, min 95, unit %)."""
    if not node:
        return None
    p = properties(store, node)
    return {"comparator": first(p, "bkg:comparator"), "min": num(first(p, "schema:minValue")),
            "max": num(first(p, "schema:maxValue")), "value": num(first(p, "schema:value")),
            "unit": first(p, "schema:unitText"), "raw": first(p, "bkg:raw")}


def indicator_json(it: dict) -> dict:
    """An indicator row of the read model (:func:`api.readmodel.graph.indicators_of`) with the API's field
    names (absent values null)."""
    return {"iri": it["iri"], "id": it["id"], "name": it["name"], "level1": it["level1"] or None,
            "level2": it["level2"] or None, "annual_target": it["annual"] or None, "period_target": it["period"] or None,
            "order": it["order"] if it["order"] != UNORDERED else None}


def indicators_of(store, owner: str) -> list[dict]:
    return [indicator_json(it) for it in graph_indicators(store, owner)]


async def in_thread(request: Request, fn: Callable, *args):
    """``fn(store, directory, *args)`` off the event loop (the units and regions are read once per server)."""
    rt = runtime(request)
    d = await run_in_threadpool(directory, rt)
    return await run_in_threadpool(fn, rt.store, d, *args)


def not_found(what: str, key: str) -> ApiError:
    return ApiError(404, "未找到 not found", f"no {what} {key!r} in this data directory")


# -- projects, indicators, tasks --------------------------------------------------------------

def project_detail(store, d, iri: str) -> dict | None:
    """The JSON of a project: the read model's :class:`~api.readmodel.projects.ProjectRecord`, with the API's
    field names and types (numbers as floats beside their exact text)."""
    rec = read_project(store, d, iri)
    if rec is None:
        return None
    one = rec.one
    unit = unit_ref(store, one("budgetUnit"), d)
    listed = [{"iri": r["iri"], "kind": compact(r["type"]) if r["type"] else None, "name": r["name"],
               "match_note": r["note"], "amount": num(r["amount"])} for r in rec.references]
    doc = rec.document(one("sourceDocument"))
    start, end = integer(one("lineStart")), integer(one("lineEnd"))
    return {
        "iri": iri, "id": local_id(iri), "kind": "project", "name": one(RDFS_LABEL),
        "unit": unit, "town": unit["town"] if unit else None, "year": integer(one("fiscalYear")),
        "amount": num(one("amount")), "amount_text": one("amount"), "amount_printed": one("amountPrinted"),
        "amount_unit": one("amountUnit"),
        "type": one("projectType"), "level": one("projectLevel"),
        "competent_department": one("competentDepartment"), "implementing_unit": one("implementingUnit"),
        "period": {"start": integer(one("startYear")), "end": integer(one("endYear")),
                   "open_ended": boolean(one("openEnded")), "text": one("periodText")},
        "funds": {"total": num(one("totalFunds")), "current_year": num(one("currentYearAppropriation")),
                  "carry_over": num(one("carryOver")), "other": num(one("otherFunds"))},
        "goals": {"overall": one("overallGoal"), "annual": one("annualGoal")},
        "summary": one("summary"), "basis": one("basis"),
        "indicators": [indicator_json(it) for it in rec.indicators],
        "document": document_json(doc, start, end),
        "listed_as": sorted({x["iri"]: x for x in listed}.values(), key=lambda x: x["iri"]),
    }


def indicator_detail(store, d, iri: str) -> dict | None:
    p = properties(store, iri)
    if not has_type(p, "PerformanceIndicator"):
        return None
    owner = first(p, "bkg:indicatorOf")
    rows = list(store.select(f"""SELECT ?o ?name ?t ?unit ?year ?l1 ?l2 WHERE {{
        OPTIONAL {{ ?o bkg:hasIndicator {iri_term(iri)} . OPTIONAL {{ ?o rdfs:label ?name }} OPTIONAL {{ ?o a ?t }}
                   OPTIONAL {{ ?o bkg:budgetUnit ?unit }} OPTIONAL {{ ?o bkg:fiscalYear ?year }} }}
        OPTIONAL {{ {iri_term(iri)} bkg:level1/skos:prefLabel ?l1 }} OPTIONAL {{ {iri_term(iri)} bkg:level2/skos:prefLabel ?l2 }}
    }} LIMIT 1"""))
    r = rows[0] if rows else {}
    owner = r.get("o") or owner
    unit = unit_ref(store, r.get("unit"), d)
    return {
        "iri": iri, "id": local_id(iri), "kind": "indicator", "name": first(p, "rdfs:label"),
        "level1": r.get("l1"), "level2": r.get("l2"),
        "annual_target": first(p, "bkg:annualTarget"), "period_target": first(p, "bkg:periodTarget"),
        "annual_value": target_value(store, first(p, "bkg:annualTargetValue")),
        "period_value": target_value(store, first(p, "bkg:periodTargetValue")),
        "order": integer(first(p, "bkg:order")),
        "project": {"iri": owner, "id": local_id(owner), "name": r.get("name"),
                    "kind": "project" if r.get("t") == str(BKG.Project) else "department-target"} if owner else None,
        "unit": unit, "town": unit["town"] if unit else None, "year": integer(r.get("year")),
        "document": document_ref(store, first(p, "bkg:sourceDocument"), p),
    }


def task_detail(store, d, iri: str) -> dict | None:
    p = properties(store, iri)
    if not has_type(p, "KeyTask"):
        return None
    target = first(p, "dcterms:isPartOf")
    tp = properties(store, target) if target else {}
    unit = unit_ref(store, first(p, "bkg:budgetUnit"), d)
    return {
        "iri": iri, "id": local_id(iri), "kind": "task", "name": first(p, "rdfs:label"),
        "content": first(p, "bkg:content"), "expected_outcome": first(p, "bkg:expectedOutcome"),
        "optional": boolean(first(p, "bkg:optional")), **amount_fields(p),
        "unit": unit, "town": unit["town"] if unit else None,
        "year": integer(first(p, "bkg:fiscalYear") or first(tp, "bkg:fiscalYear")),
        "department_target": {"iri": target, "name": first(tp, "rdfs:label"), "overall_goal": first(tp, "bkg:overallGoal"),
                              "indicators": indicators_of(store, target)} if target else None,
        "document": document_ref(store, first(p, "bkg:sourceDocument"), p),
    }


# -- units ------------------------------------------------------------------------------------

def _per_unit(store, sparql: str) -> dict[str, dict]:
    return {r["u"]: r for r in store.select(sparql)}


def unit_summaries(store, d) -> list[dict]:
    units = list(store.select("SELECT ?u ?name ?r WHERE { ?u a bkg:BudgetUnit ; rdfs:label ?name . "
                              "OPTIONAL { ?u bkg:region ?r } } ORDER BY ?name"))
    projects = _per_unit(store, "SELECT ?u (COUNT(?p) AS ?n) (SUM(COALESCE(?a, 0)) AS ?total) WHERE { "
                                "?p a bkg:Project ; bkg:budgetUnit ?u . OPTIONAL { ?p bkg:amount ?a } } GROUP BY ?u")
    tasks = _per_unit(store, "SELECT ?u (COUNT(?k) AS ?n) (SUM(COALESCE(?a, 0)) AS ?total) WHERE { "
                             "?k a bkg:KeyTask ; bkg:budgetUnit ?u . OPTIONAL { ?k bkg:amount ?a } } GROUP BY ?u")
    indicators = _per_unit(store, "SELECT ?u (COUNT(DISTINCT ?i) AS ?n) WHERE { ?o bkg:hasIndicator ?i ; bkg:budgetUnit ?u } GROUP BY ?u")
    lines = _per_unit(store, "SELECT ?u (COUNT(?l) AS ?n) WHERE { ?l a bkg:BudgetLine ; bkg:budgetUnit ?u } GROUP BY ?u")
    docs = _per_unit(store, "SELECT ?u (COUNT(?d) AS ?n) (GROUP_CONCAT(DISTINCT STR(?y); separator=',') AS ?years) WHERE { "
                            "?d a bkg:Document ; bkg:budgetUnit ?u . OPTIONAL { ?d bkg:fiscalYear ?y } } GROUP BY ?u")
    out = []
    for u in units:
        iri = u["u"]
        chain = d.chains.get(u["r"], [])
        years = sorted({int(y) for y in (docs.get(iri, {}).get("years") or "").split(",") if y.isdigit()})
        out.append({
            "iri": iri, "id": local_id(iri), "name": u["name"],
            "town": chain[0]["label"] if chain else None, "regions": [c["label"] for c in chain],
            "region": chain[0] if chain else None, "years": years,
            "counts": {"documents": integer(docs.get(iri, {}).get("n")) or 0,
                       "projects": integer(projects.get(iri, {}).get("n")) or 0,
                       "indicators": integer(indicators.get(iri, {}).get("n")) or 0,
                       "tasks": integer(tasks.get(iri, {}).get("n")) or 0,
                       "budget_lines": integer(lines.get(iri, {}).get("n")) or 0},
            "totals": {"projects_amount": num(projects.get(iri, {}).get("total")) or 0.0,
                       "tasks_amount": num(tasks.get(iri, {}).get("total")) or 0.0},
        })
    return out


def unit_detail(store, d, iri: str) -> dict | None:
    p = properties(store, iri)
    if not has_type(p, "BudgetUnit"):
        return None
    u = iri_term(iri)
    summary = next((x for x in unit_summaries(store, d) if x["iri"] == iri), {})
    documents = [{"iri": r["d"], "title": r["title"], "file": r["file"], "kind": r["kind"], "year": integer(r["y"])}
                 for r in store.select(f"""SELECT ?d ?title ?file ?kind ?y WHERE {{ ?d a bkg:Document ; bkg:budgetUnit {u} .
                     OPTIONAL {{ ?d dcterms:title ?title }} OPTIONAL {{ ?d bkg:sourceFile ?file }}
                     OPTIONAL {{ ?d bkg:documentKind ?kind }} OPTIONAL {{ ?d bkg:fiscalYear ?y }} }} ORDER BY ?y ?file""")]
    projects = [{"iri": r["p"], "id": local_id(r["p"]), "name": r["name"], "year": integer(r["y"]), "amount": num(r["a"])}
                for r in store.select(f"""SELECT ?p ?name ?y ?a WHERE {{ ?p a bkg:Project ; bkg:budgetUnit {u} ; rdfs:label ?name .
                    OPTIONAL {{ ?p bkg:fiscalYear ?y }} OPTIONAL {{ ?p bkg:amount ?a }} }} ORDER BY DESC(?y) ?name""")]
    tasks = [{"iri": r["k"], "id": local_id(r["k"]), "name": r["name"], "year": integer(r["y"]), "amount": num(r["a"])}
             for r in store.select(f"""SELECT ?k ?name ?y ?a WHERE {{ ?k a bkg:KeyTask ; bkg:budgetUnit {u} ; rdfs:label ?name .
                 OPTIONAL {{ ?k bkg:fiscalYear ?y }} OPTIONAL {{ ?k bkg:amount ?a }} }} ORDER BY DESC(?y) ?name""")]
    tables = [{"iri": r["t"], "number": r["num"], "title": r["title"], "year": integer(r["y"]), "flow": r["flow"],
               "fund_scope": r["scope"], "expenditure_type": r["etype"], "printed_total": num(r["total"]),
               "lines": integer(r["n"]) or 0}
              for r in store.select(f"""SELECT ?t ?num ?title ?y ?flow ?scope ?etype ?total (COUNT(?l) AS ?n) WHERE {{
                  ?t a bkg:BudgetTable ; bkg:budgetUnit {u} . OPTIONAL {{ ?t bkg:tableNumber ?num }}
                  OPTIONAL {{ ?t rdfs:label ?title }} OPTIONAL {{ ?t bkg:fiscalYear ?y }} OPTIONAL {{ ?t bkg:flow ?flow }}
                  OPTIONAL {{ ?t bkg:fundScope ?scope }} OPTIONAL {{ ?t bkg:expenditureType ?etype }}
                  OPTIONAL {{ ?t bkg:printedTotal ?total }} OPTIONAL {{ ?l bkg:inTable ?t }} }}
                  GROUP BY ?t ?num ?title ?y ?flow ?scope ?etype ?total ORDER BY ?y ?num ?title""")]
    return {**summary, "documents": documents, "projects": projects, "tasks": tasks, "budget_tables": tables}


# -- classification codes ---------------------------------------------------------------------

def code_lines(store, d, concept: str, limit: int) -> tuple[list[dict], int]:
    c = iri_term(concept)
    rows = list(store.select(f"""SELECT ?l ?amount ?unit ?y ?flow ?scope ?etype ?t ?tnum ?ttitle ?printed ?doc ?file ?start ?end WHERE {{
        ?l bkg:classification {c} . OPTIONAL {{ ?l bkg:amount ?amount }} OPTIONAL {{ ?l bkg:budgetUnit ?unit }}
        OPTIONAL {{ ?l bkg:fiscalYear ?y }} OPTIONAL {{ ?l bkg:flow ?flow }} OPTIONAL {{ ?l bkg:fundScope ?scope }}
        OPTIONAL {{ ?l bkg:expenditureType ?etype }} OPTIONAL {{ ?l bkg:printedName ?printed }}
        OPTIONAL {{ ?l bkg:inTable ?t . OPTIONAL {{ ?t bkg:tableNumber ?tnum }} OPTIONAL {{ ?t rdfs:label ?ttitle }} }}
        OPTIONAL {{ ?l bkg:sourceDocument ?doc . OPTIONAL {{ ?doc bkg:sourceFile ?file }} }}
        OPTIONAL {{ ?l bkg:lineStart ?start }} OPTIONAL {{ ?l bkg:lineEnd ?end }} }} ORDER BY ?unit DESC(?y) ?tnum ?l"""))
    seen: dict[str, dict] = {}
    units: dict[str, dict | None] = {}
    for r in rows:
        if r["l"] in seen:
            continue
        if r["unit"] not in units:
            units[r["unit"]] = unit_ref(store, r["unit"], d)
        unit = units[r["unit"]]
        seen[r["l"]] = {
            "iri": r["l"], "amount": num(r["amount"]), "amount_text": r["amount"], "printed_name": r["printed"],
            "unit": {"iri": r["unit"], "name": unit["name"]} if unit else None, "town": unit["town"] if unit else None,
            "year": integer(r["y"]), "flow": r["flow"], "fund_scope": r["scope"], "expenditure_type": r["etype"],
            "table": {"iri": r["t"], "number": r["tnum"], "title": r["ttitle"]} if r["t"] else None,
            "document": r["file"], "lines": [integer(r["start"]), integer(r["end"])] if r["start"] else None,
        }
    lines = list(seen.values())
    return lines[:limit], len(lines)


def by_unit(lines: list[dict]) -> list[dict]:
    """One amount per unit and year: the line over all funds and all expenditure types."""
    out: dict[tuple, dict] = {}
    for ln in lines:
        if ln["fund_scope"] in ("all", None) and ln["expenditure_type"] in ("all", None) and ln["flow"] != "income":
            key = (ln["unit"]["iri"] if ln["unit"] else None, ln["year"])
            out.setdefault(key, {"unit": ln["unit"], "town": ln["town"], "year": ln["year"], "amount": ln["amount"]})
    return sorted(out.values(), key=lambda x: -(x["amount"] or 0))


def code_detail(store, d, notation: str, scheme: str | None, limit: int) -> dict | None:
    found = concepts(store, notation, scheme)
    if not found:
        return None
    if len(found) > 1:
        options = ", ".join(sorted(c["scheme"] for c in found))
        raise ApiError(409, "科目编码不唯一 ambiguous code",
                       f"{notation} is in several schemes ({options}); add scheme=functional or scheme=economic")
    r = found[0]
    c = iri_term(r["iri"])
    alt = [x["a"] for x in store.select(f"SELECT ?a WHERE {{ {c} skos:altLabel ?a }} ORDER BY ?a")]
    parents, children = broader(store, r["iri"]), narrower(store, r["iri"])
    lines, total = code_lines(store, d, r["iri"], limit)
    return {"iri": r["iri"], "notation": notation, "label": r["label"], "alt_labels": alt, "scheme": r["scheme"],
            "level": r["level"], "parents": parents, "children": children,
            "by_unit": by_unit(lines), "line_count": total, "lines": lines, "lines_truncated": total > len(lines)}


# -- routes -----------------------------------------------------------------------------------

def typed(model: type[BaseModel]) -> dict:
    """Route options: ``model`` documents and checks the answer, whose keys are served as the view set them."""
    return {"response_model": model, "response_model_exclude_unset": True}


def _example(description: str, **fields) -> dict:
    return {200: {"description": description, "content": {"application/json": {"example": fields}}}, **error_responses(404, 422)}


PROJECT_EXAMPLE = _example(
    "项目详情", iri="https://w3id.org/budgetkg/id/project/a5607415adf71490", id="a5607415adf71490", kind="project",
    name="专用设备租赁费支出", unit={"iri": "https://w3id.org/budgetkg/id/unit/0ccf550f29c9103f", "name": "东莞市清溪镇政务服务中心",
                              "town": "清溪镇", "regions": ["清溪镇", "东莞市", "广东省"]},
    town="清溪镇", year=2024, amount=432000.0, amount_text="432000", amount_printed="432,000.00", amount_unit="元",
    goals={"overall": "……", "annual": "……"},
    indicators=[{"iri": "https://w3id.org/budgetkg/id/indicator/…", "name": "设备租赁数量", "level1": "产出指标",
                 "level2": "数量指标", "annual_target": "≥3台", "period_target": None, "order": 1}],
    document={"iri": "https://w3id.org/budgetkg/id/doc/06a315420748bfb5", "title": "东莞市清溪镇政务服务中心2024年部门预算",
              "file": "dongguan-qingxi-2024-department-budget.txt", "kind": "部门预算", "lines": [408, 431]})


async def _detail(request: Request, fn: Callable, iri: str, what: str) -> dict:
    iri_term(iri)
    out = await in_thread(request, fn, iri)
    if out is None:
        raise not_found(what, iri)
    return out


@router.get("/api/projects/{id}", summary="项目详情",
            description="项目：预算单位、地区、年度、金额（元）、项目类型与期限、资金构成、总体/年度绩效目标、全部绩效指标"
                        "（一级/二级指标、年度与实施周期指标值）、来源文件及行号、重点项目清单中的对应条目。",
            responses=PROJECT_EXAMPLE, **typed(Project))
async def project(request: Request, id: str = IdPath) -> dict:
    return await _detail(request, project_detail, str(ID[f"project/{id}"]), "project")


@router.get("/api/project", summary="项目详情（按 IRI）", description="同 `/api/projects/{id}`，以完整 IRI 指定项目。",
            responses=PROJECT_EXAMPLE, **typed(Project))
async def project_by_iri(request: Request, iri: str = Query(..., max_length=500, description="项目的完整 IRI",
                                                            examples=["https://w3id.org/budgetkg/id/project/a5607415adf71490"])) -> dict:
    return await _detail(request, project_detail, iri, "project")


@router.get("/api/indicators/{id}", summary="绩效指标详情",
            description="绩效指标（三级指标）：一级/二级指标、年度与实施周期指标值（原文及解析：比较符、数值、单位）、所属项目、来源。",
            responses=_example("指标详情", iri="https://w3id.org/budgetkg/id/indicator/a0e85bc5e252bac8", kind="indicator",
                               name="数据安全培训", level1="产出指标", level2="数量指标", annual_target="大于或等于1场",
                               annual_value={"comparator": "≥", "min": 1.0, "max": None, "value": None, "unit": "场",
                                             "raw": "大于或等于1场"}), **typed(Indicator))
async def indicator(request: Request, id: str = IdPath) -> dict:
    return await _detail(request, indicator_detail, str(ID[f"indicator/{id}"]), "indicator")


@router.get("/api/tasks/{id}", summary="年度重点工作任务详情",
            description="部门整体支出绩效目标表中的年度重点工作任务：名称、主要实施内容、期望目标、金额、所属部门整体目标及其指标、来源。",
            responses=_example("任务详情", iri="https://w3id.org/budgetkg/id/task/5d15038955fc53b8", kind="task",
                               name="任务一：搭建审前服务体系，推行完善审前服务。", amount=9725000.0, town="沙田镇"),
            **typed(Task))
async def task(request: Request, id: str = IdPath) -> dict:
    return await _detail(request, task_detail, str(ID[f"task/{id}"]), "key task")


@router.get("/api/units", summary="预算单位列表",
            description="全部预算单位：所属地区（由具体到上级）、年度、文件/项目/指标/任务/预算科目行数量、项目与任务金额合计（元）。",
            responses=_example("预算单位", units=[{"iri": "https://w3id.org/budgetkg/id/unit/0ccf550f29c9103f", "id": "0ccf550f29c9103f",
                                                 "name": "东莞市清溪镇政务服务中心", "town": "清溪镇", "regions": ["清溪镇", "东莞市", "广东省"],
                                                 "years": [2024], "counts": {"documents": 1, "projects": 8, "indicators": 48, "tasks": 0,
                                                                             "budget_lines": 65},
                                                 "totals": {"projects_amount": 5000000.0, "tasks_amount": 0.0}}]),
            **typed(Units))
async def units(request: Request) -> dict:
    return {"units": await in_thread(request, unit_summaries)}


@router.get("/api/units/{id}", summary="预算单位详情",
            description="预算单位：地区、计数与合计，以及它的文件、项目、年度重点工作任务和预算表（表号、名称、资金范围、合计、行数）。",
            responses=_example("单位详情", iri="https://w3id.org/budgetkg/id/unit/0ccf550f29c9103f", name="东莞市清溪镇政务服务中心"),
            **typed(Unit))
async def unit(request: Request, id: str = IdPath) -> dict:
    return await _detail(request, unit_detail, str(ID[f"unit/{id}"]), "budget unit")


@router.get("/api/codes/{notation}", summary="预算科目（功能分类 / 经济分类）",
            description="科目编码对应的 SKOS 概念：名称（及各文件印出的其他名称）、科目级次（类/款/项）、上级科目链、下级科目，"
                        "以及各单位使用该科目的预算科目行（金额、年度、资金范围、支出类型、所在表、来源行号）；"
                        "`by_unit` 为每个单位、年度“全部资金、全部支出类型”的金额。",
            responses=_example("科目", notation="2010350", label="事业运行", scheme="functional", level="项",
                               parents=[{"notation": "201", "label": "一般公共服务支出"}, {"notation": "20103", "label": "政府办公厅（室）及相关机构事务"}],
                               children=[], by_unit=[{"unit": {"name": "东莞市清溪镇政务服务中心"}, "town": "清溪镇", "year": 2024,
                                                      "amount": 1200000.0}], line_count=3, lines=[]),
            **typed(Code))
async def code(request: Request,
               notation: str = Path(..., pattern=NOTATION_PATTERN, description="科目编码，如 2010350（功能分类）或 30213（经济分类）"),
               scheme: str | None = Query(None, pattern="^(functional|economic)$",
                                          description="分类体系：functional 支出功能分类、economic 支出经济分类（编码重复时必填）"),
               limit: int = Query(200, ge=1, le=MAX_LINES, description="最多返回的预算科目行数（1–1000）")) -> dict:
    out = await in_thread(request, code_detail, notation, scheme, limit)
    if out is None:
        raise not_found("classification code", notation)
    return out
