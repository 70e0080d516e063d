"""``/``: the search page (检索) and, before a search, the overview of what the graph holds."""
from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.readmodel.graph import Directory, directory
from api.readmodel.ids import local_id, page_url
from api.runtime import Runtime, runtime
from api.templating import FIELD_LABELS, KIND_LABELS, highlight, render, to_decimal
from api.views.pages.forms import SearchForm, with_params
from index.embedder import EmbedderError
from index.search import IndexUnavailable
from index.understand import QuestionError

log = logging.getLogger("budgetkg.pages")
router = APIRouter(include_in_schema=False)

FILTER_LABELS = {"town": "地区", "region": "地区", "unit": "单位", "year": "年度", "amount": "金额", "kind": "类型",
                 "code": "科目"}
MAX_UNITS_LISTED = 100
#: region levels in the filter list, larger first
LEVEL_ORDER = {"prefecture": 0, "county": 1, "town": 2}
EXAMPLE_SEARCHES = [line.strip() for line in (Path(__file__).resolve().parents[2] / "content" / "example-searches.txt")
                    .read_text(encoding="utf-8").splitlines() if line.strip()]


def query_terms(engine, text: str) -> list[str]:
    """Words of the query worth highlighting: the tokenizer's words of two characters or more."""
    if not text or not text.strip():
        return []
    words = [t for t in engine.tokenizer.tokens(text) if not t.startswith(("_", "~"))]
    words += text.split()
    return [w for w in dict.fromkeys(words) if len(w) >= 2 or (w.isascii() and w.isalnum())]


def chip_text(f: dict) -> str:
    label = f.get("label") or ""
    if f.get("kind") == "kind":
        label = {"project": "项目", "indicator": "绩效指标", "task": "重点任务"}.get(f.get("value"), label)
    return f"{FILTER_LABELS.get(f.get('kind'), f.get('kind'))}：{label}"


def region_options(d: Directory) -> list[tuple[str, list[str]]]:
    """Regions for the filter, grouped under their province: [(province, [labels])]."""
    labels: set[str] = set()
    for u in d.units.values():
        if u.region in d.regions:
            chain = d.regions[u.region]["chain"]
            labels.update(chain[:-1] or chain)
    groups: dict[str, list[str]] = defaultdict(list)
    by_label = {e["label"]: e for e in d.regions.values()}
    for lab in labels:
        groups[by_label[lab]["chain"][-1]].append(lab)
    return [(prov, sorted(labs, key=lambda x: (LEVEL_ORDER.get(by_label[x]["level"], len(LEVEL_ORDER)), x)))
            for prov, labs in sorted(groups.items())]


def years_in_graph(rt: Runtime) -> list[int]:
    def get():
        ys = set()
        for r in rt.store.select("SELECT DISTINCT ?y WHERE { ?s bkg:fiscalYear ?y }"):
            try:
                ys.add(int(r["y"]))
            except (TypeError, ValueError):
                pass
        return sorted(ys, reverse=True)
    return rt.once("years", get)


def overview(rt: Runtime) -> dict:
    def get():
        store = rt.store
        counts = {}
        for key, cls in (("projects", "bkg:Project"), ("indicators", "bkg:PerformanceIndicator"),
                         ("tasks", "bkg:KeyTask"), ("units", "bkg:BudgetUnit"), ("documents", "bkg:Document"),
                         ("lines", "bkg:BudgetLine")):
            counts[key] = int(next(iter(store.select(f"SELECT (COUNT(?x) AS ?n) WHERE {{ ?x a {cls} }}")))["n"])
        per: dict[str, dict] = defaultdict(lambda: {"projects": 0, "amount": Decimal(0), "documents": 0})
        for r in store.select("SELECT ?u (COUNT(?p) AS ?n) (SUM(?a) AS ?s) WHERE { ?p a bkg:Project ; bkg:budgetUnit ?u ; "
                              "bkg:amount ?a } GROUP BY ?u"):
            per[r["u"]].update(projects=int(r["n"]), amount=to_decimal(r["s"]) or Decimal(0))
        for r in store.select("SELECT ?u (COUNT(?d) AS ?n) WHERE { ?d a bkg:Document ; bkg:budgetUnit ?u } GROUP BY ?u"):
            per[r["u"]]["documents"] = int(r["n"])
        unit_rows = [{**asdict(u), **per[iri]} for iri, u in directory(rt).units.items()]
        unit_rows.sort(key=lambda u: (u["chain"][::-1], u["label"]))
        return {"counts": counts, "units": unit_rows[:MAX_UNITS_LISTED], "units_total": len(unit_rows)}
    return rt.once("overview", get)


def result_url(r: dict) -> str | None:
    """Project → its page; indicator / task → the row of the table that holds it."""
    if r.get("kind") == "project":
        return page_url(r["iri"])
    owner = (r.get("project") or {}).get("iri")
    if r.get("kind") == "indicator" and owner:
        return f"{page_url(owner)}#ind-{local_id(r['iri'])}"
    if r.get("kind") == "task" and owner:
        return f"{page_url(owner)}#task-{local_id(r['iri'])}"
    return page_url(r.get("iri"))


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request, q: str = "", kind: str = "", town: str = "", year: str = "", amin: str = "",
                amax: str = "", top: str = "20", parse: str = "1", off: list[str] = Query([])):
    rt = runtime(request)
    engine = rt.engine
    form = SearchForm.read(q, kind, town, year, amin, amax, top, parse, off)
    errors, q, off = form.errors, form.q, form.off
    state = form.state()
    results: list[dict] = []
    interp = None
    error = None
    seconds = None
    match = None
    chips: list[dict] = []
    if form.searched and not errors:
        if engine is None:
            error = "检索索引尚未加载，请稍后再试。"
        else:
            t0 = time.perf_counter()
            try:
                # the words of ``off`` (filters the researcher removed) stay search text
                out = engine.search(q, kind=kind or None, town=town or None, year=form.year_v, top=form.top,
                                    parse=form.parse_on, amount_min=form.amin_v, amount_max=form.amax_v, off=tuple(off))
                results = out["results"]
                interp = out.get("interpretation")
                match = out.get("match")
            except QuestionError as exc:  # a number out of bounds, a question too long: the researcher can fix it
                errors["q"] = f"{exc.message}，请修改后重试。"
            except (IndexUnavailable, EmbedderError, OSError, RuntimeError) as exc:
                # a bad index or model must not give a bare 500 page; the log says which, the page says what to do
                log.error("search failed: %r: %r", q, exc)
                error = "检索暂时无法完成。"
            seconds = time.perf_counter() - t0
    # a filter of the form wins over the same kind of filter written in the question
    overridden = {"town": bool(town), "region": bool(town), "unit": bool(town), "year": bool(year),
                  "amount": bool(amin or amax), "kind": bool(kind)}
    if interp:
        for f in interp.get("filters", []):
            chips.append({"text": chip_text(f), "from": f.get("from"), "ambiguous": f.get("ambiguous"),
                          "overridden": overridden.get(f.get("kind"), False),
                          "remove": with_params(state, off=off + [f.get("from")]),
                          "code": f["value"][0]["notation"] if f.get("kind") == "code" and f.get("value") else None})
    for word in off:
        if q and word in q:
            chips.append({"text": f"“{word}”按检索词处理", "from": word, "off": True,
                          "restore": with_params(state, off=[w for w in off if w != word])})
    explicit = []
    if kind:
        explicit.append({"text": f"类型：{KIND_LABELS.get(kind, kind)}", "remove": with_params(state, kind=None)})
    if town:
        explicit.append({"text": f"地区：{town}", "remove": with_params(state, town=None)})
    if year:
        explicit.append({"text": f"年度：{year}年", "remove": with_params(state, year=None)})
    if amin or amax:
        rng = f"{amin or '0'}–{amax}万元" if amax else f"≥ {amin}万元"
        explicit.append({"text": f"金额：{rng}", "remove": with_params(state, amin=None, amax=None)})
    terms = query_terms(engine, (interp or {}).get("text") if interp else q) if engine is not None else []
    for r in results:
        r["url"] = result_url(r)
        r["name_html"] = highlight(r.get("name"), terms)
        m = r.get("match") or {}
        if m.get("text") and m.get("text") != r.get("name"):
            r["match_html"] = highlight(m["text"], terms)
            r["match_label"] = FIELD_LABELS.get(m.get("field"), m.get("field"))
        if r.get("kind") == "indicator" and r.get("project"):
            r["project_url"] = page_url(r["project"].get("iri"))
    groups = region_options(directory(rt))
    return render(request, "search.html", nav="search", q=q, kind=kind, town=town, year=year, amin=amin, amax=amax,
                  top=form.top, parse_on=form.parse_on, off=off, errors=errors, searched=form.searched, results=results,
                  interp=interp, chips=chips, explicit=explicit, error=error, seconds=seconds, match=match,
                  region_groups=groups, town_labels={lab for _, labs in groups for lab in labs},
                  years=years_in_graph(rt),
                  overview=overview(rt) if not form.searched else None, examples=EXAMPLE_SEARCHES,
                  raw_url=with_params(state, parse="0", off=None) if interp and interp.get("filters") else None,
                  parse_url=with_params(state, parse=None, off=None),
                  title=f"{q} - 检索" if q else None)
