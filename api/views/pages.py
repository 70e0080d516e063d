"""Web pages for researchers, in Chinese: server-rendered Jinja2 templates over the store and the engine.

Every page is usable without JavaScript except the SPARQL editor and the charts; the small scripts in
``api/static/js`` only add to what the server rendered. Pages read the graph with short SPARQL
queries (the functions below, one per need) and the search engine directly — never the JSON API —
so the first paint needs one request. All assets are served from ``/static``; the pages send a
Content-Security-Policy that lets the browser talk to this server only.

Routes (none is in the OpenAPI schema): ``/`` search, ``/project/{id}``, ``/unit/{id}``,
``/target/{id}`` (a department-wide target table), ``/document/{id}``, ``/code/{notation}``,
``/codes``, ``/compare?ids=a,b``, ``/charts``, ``/sparql-editor``; ``/indicator/{id}`` and
``/task/{id}`` redirect to the table that holds them.
"""
from __future__ import annotations

import json
import logging
import re
import time
from collections import OrderedDict, defaultdict
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from api.app import TEMPLATES
from index.embedder import EmbedderError
from index.search import IndexUnavailable
from index.understand import MAX_AMOUNT, QuestionError

log = logging.getLogger("budgetkg.pages")

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(TEMPLATES))

BKG = "https://w3id.org/budgetkg/def#"
ID = "https://w3id.org/budgetkg/id/"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
DCT_TITLE = "http://purl.org/dc/terms/title"
DCT_PART_OF = "http://purl.org/dc/terms/isPartOf"

#: what the browser may load: this server only (inline styles are set by ECharts and CodeMirror)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'self'")

KIND_LABELS = {"project": "项目", "indicator": "指标", "task": "重点任务", "line": "预算科目行"}
FILTER_LABELS = {"town": "地区", "region": "地区", "unit": "单位", "year": "年度", "amount": "金额", "kind": "类型",
                 "code": "科目"}
FIELD_LABELS = {"name": "名称", "alias": "名称（异写）", "goal": "绩效目标", "summary": "项目概述", "indicator": "绩效指标",
                "content": "主要实施内容", "outcome": "期望达到的目标", "basis": "设立依据", "clause": "绩效目标（摘句）"}
SCHEME_LABELS = {"functional": "支出功能分类科目", "economic": "支出经济分类科目"}
SCHEME_IRIS = {"functional": BKG + "FunctionalClassification", "economic": BKG + "EconomicClassification"}
FUND_SCOPES = {"all": "全部资金", "general-public-budget": "一般公共预算", "government-fund": "政府性基金预算",
               "state-capital": "国有资本经营预算", "fiscal-appropriation": "财政拨款"}
EXPENDITURE_TYPES = {"all": "合计", "basic": "基本支出", "project": "项目支出", "running": "机关运行经费"}
FLOWS = {"expenditure": "支出", "income": "收入"}

MAX_Q = 1000
WAN = 10_000  # 元 in 1 万元
MAX_COMPARE = 6
MAX_PICK = 300  # projects listed by the compare picker; beyond, researchers pick from search results
MAX_UNITS_LISTED = 100
MAX_CHART_BARS = 20
ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
NOTATION_RE = re.compile(r"^[0-9]{1,12}$")


# ---------------------------------------------------------------------------------------------
# formatting (also Jinja filters)
# ---------------------------------------------------------------------------------------------

def to_decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def exact_yuan(value) -> str:
    d = to_decimal(value)
    return "" if d is None else f"{d:,.2f} 元"


def yuan(value) -> Markup:
    """An amount in 元: ≥ 10,000 元 as 万元 with two decimals, the exact 元 in the title."""
    d = to_decimal(value)
    if d is None:
        return Markup('<span class="amt amt-none">—</span>')
    exact = f"{d:,.2f} 元"
    shown = f"{d / 10000:,.2f} 万元" if abs(d) >= 10000 else exact
    return Markup('<span class="amt" title="{}" data-yuan="{}">{}</span>').format(exact, str(d), shown)


def wan(value) -> float | None:
    d = to_decimal(value)
    return None if d is None else round(float(d) / 10000, 2)


def local_id(iri: str | None) -> str:
    return (iri or "").rstrip("/").rsplit("/", 1)[-1]


def page_url(iri: str | None) -> str | None:
    """The page of a graph IRI, when there is one."""
    if not iri or not iri.startswith(ID):
        return None
    rest = iri[len(ID):]
    parts = rest.split("/")
    kind = parts[0]
    if kind == "code" and len(parts) == 3:
        return f"/code/{parts[2]}?scheme={parts[1]}"
    if len(parts) != 2:
        return None
    pages = {"project": "/project/", "unit": "/unit/", "department-target": "/target/", "doc": "/document/",
             "indicator": "/indicator/", "task": "/task/"}
    return pages[kind] + parts[1] if kind in pages else None


def highlight(text: str | None, terms: list[str]) -> Markup:
    """``text`` escaped, with the query terms in <mark>."""
    if not text:
        return Markup("")
    if not terms:
        return escape(text)
    pattern = re.compile("(?:" + "|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True)) + ")+",
                         re.IGNORECASE)
    out, pos = [], 0
    for m in pattern.finditer(text):
        out.append(escape(text[pos:m.start()]))
        out.append(Markup("<mark>") + escape(m.group(0)) + Markup("</mark>"))
        pos = m.end()
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def query_terms(engine, text: str) -> list[str]:
    """Words of the query worth highlighting: the tokenizer's words of two characters or more."""
    if not text or not text.strip():
        return []
    words = [t for t in engine.tokenizer.tokens(text) if not t.startswith(("_", "~"))]
    words += text.split()
    return [w for w in dict.fromkeys(words) if len(w) >= 2 or (w.isascii() and w.isalnum())]


def year_span(start, end, open_ended) -> str:
    if not start and not end:
        return ""
    if str(open_ended).lower() == "true" or str(end) == "2099":
        return f"{start}年起（长期）" if start else "长期"
    if start and end and start != end:
        return f"{start}–{end}年"
    return f"{start or end}年"


templates.env.filters.update(yuan=yuan, exact_yuan=exact_yuan, page_url=page_url, local_id=local_id, wan=wan)
templates.env.globals.update(KIND_LABELS=KIND_LABELS, FIELD_LABELS=FIELD_LABELS, FUND_SCOPES=FUND_SCOPES,
                             EXPENDITURE_TYPES=EXPENDITURE_TYPES, SCHEME_LABELS=SCHEME_LABELS, FLOWS=FLOWS)


def render(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    context.setdefault("nav", "")
    resp = templates.TemplateResponse(request, name, context, status_code=status)
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "same-origin"
    return resp


def not_found(request: Request, what: str, key: str) -> HTMLResponse:
    return render(request, "error.html", status=404, title="未找到",
                  message=f"没有找到{what}“{key}”。", hint="链接可能已过期，或该文件尚未导入。可以回到检索页重新查找。")


def data_json(value) -> Markup:
    """JSON for a ``<script type="application/json">`` block (``<`` escaped so it cannot close the tag)."""
    return Markup(json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
                  .replace("&", "\\u0026"))


templates.env.filters["data_json"] = data_json


# ---------------------------------------------------------------------------------------------
# graph access: small SPARQL functions
# ---------------------------------------------------------------------------------------------

def store_of(request: Request):
    return request.app.state.store


def engine_of(request: Request):
    return getattr(request.app.state, "engine", None)


def cached(request: Request, key: str, fn):
    """Values that cannot change while the server runs (it holds the store's write lock)."""
    cache = request.app.state.__dict__.setdefault("_pages_cache", {})
    if key not in cache:
        cache[key] = fn()
    return cache[key]


def props(store, iri: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for r in store.select(f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}"):
        if r["o"] not in out[r["p"]]:
            out[r["p"]].append(r["o"])
    return out


def typed_props(store, iri: str, cls: str) -> dict[str, list[str]] | None:
    """:func:`props` of a resource that is a ``bkg:<cls>``; None when it is not (or does not exist)."""
    p = props(store, iri)
    return p if BKG + cls in p.get(RDF_TYPE, []) else None


def one(p: dict[str, list[str]], key: str) -> str | None:
    key = key if key.startswith("http") else BKG + key
    v = p.get(key)
    return v[0] if v else None


def region_info(store) -> dict[str, dict]:
    """region IRI → {label, level, parent, chain: [labels from itself up]}"""
    regs: dict[str, dict] = {}
    for r in store.select("SELECT ?r ?l ?lev ?p WHERE { ?r a bkg:Region ; rdfs:label ?l . "
                          "OPTIONAL { ?r bkg:adminLevel ?lev } OPTIONAL { ?r bkg:partOf ?p } }"):
        e = regs.setdefault(r["r"], {"iri": r["r"], "label": r["l"], "level": r["lev"], "parents": []})
        if r["p"] and r["p"] != r["r"] and r["p"] not in e["parents"]:
            e["parents"].append(r["p"])
    for e in regs.values():
        chain, seen, cur = [e["label"]], {e["iri"]}, e
        while cur["parents"]:
            nxt = next((regs[p] for p in cur["parents"] if p in regs and p not in seen), None)
            if nxt is None:
                break
            chain.append(nxt["label"])
            seen.add(nxt["iri"])
            cur = nxt
        e["chain"] = chain
    return regs


def units_info(store) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for r in store.select("SELECT ?u ?l ?r WHERE { ?u a bkg:BudgetUnit ; rdfs:label ?l . OPTIONAL { ?u bkg:region ?r } }"):
        out.setdefault(r["u"], {"iri": r["u"], "label": r["l"], "region": r["r"]})
    return out


def regions(request: Request) -> dict[str, dict]:
    return cached(request, "regions", lambda: region_info(store_of(request)))


def units(request: Request) -> dict[str, dict]:
    return cached(request, "units", lambda: units_info(store_of(request)))


def unit_ref(request: Request, iri: str | None) -> dict | None:
    if not iri:
        return None
    u = units(request).get(iri)
    if u is None:
        return {"iri": iri, "label": local_id(iri), "region": None, "chain": []}
    reg = regions(request).get(u["region"] or "")
    return {**u, "region_label": reg["label"] if reg else None, "chain": reg["chain"] if reg else []}


def document_ref(store, iri: str | None) -> dict | None:
    if not iri:
        return None
    p = props(store, iri)
    return {"iri": iri, "title": one(p, DCT_TITLE) or one(p, RDFS_LABEL) or local_id(iri),
            "label": one(p, RDFS_LABEL), "file": one(p, "sourceFile"), "kind": one(p, "documentKind"),
            "year": one(p, "fiscalYear")}


def provenance(store, p: dict[str, list[str]]) -> dict:
    return {"document": document_ref(store, one(p, "sourceDocument")), "start": one(p, "lineStart"),
            "end": one(p, "lineEnd")}


def indicators_of(store, owner: str) -> list[dict]:
    """The indicator rows of a project or department target, in table order."""
    seen: dict[str, dict] = OrderedDict()
    for r in store.select(f"""
        SELECT ?i ?name ?order ?l1 ?l1l ?l2 ?l2l ?annual ?period WHERE {{
          <{owner}> bkg:hasIndicator ?i . ?i rdfs:label ?name .
          OPTIONAL {{ ?i bkg:order ?order }}
          OPTIONAL {{ ?i bkg:level1 ?l1 . OPTIONAL {{ ?l1 skos:prefLabel ?l1l }} }}
          OPTIONAL {{ ?i bkg:level2 ?l2 . OPTIONAL {{ ?l2 skos:prefLabel ?l2l }} }}
          OPTIONAL {{ ?i bkg:annualTarget ?annual }}
          OPTIONAL {{ ?i bkg:periodTarget ?period }}
        }}"""):
        if r["i"] in seen:
            continue
        seen[r["i"]] = {"iri": r["i"], "id": local_id(r["i"]), "name": r["name"],
                        "order": int(r["order"]) if r["order"] else 10**6,
                        "level1": r["l1l"] or "", "level2": r["l2l"] or "", "annual": r["annual"] or "",
                        "period": r["period"] or ""}
    items = sorted(seen.values(), key=lambda x: (x["order"], x["name"]))
    # merged cells as printed: 一级 spans its run of rows, 二级 its run within the 一级
    for k, it in enumerate(items):
        it["l1_span"] = it["l2_span"] = 0
        if k == 0 or items[k - 1]["level1"] != it["level1"]:
            n = 1
            while k + n < len(items) and items[k + n]["level1"] == it["level1"]:
                n += 1
            it["l1_span"] = n
        if k == 0 or it["l1_span"] or items[k - 1]["level2"] != it["level2"]:
            n = 1
            while (k + n < len(items) and items[k + n]["level2"] == it["level2"]
                   and items[k + n]["level1"] == it["level1"]):
                n += 1
            it["l2_span"] = n
    return items


def indicator_mix(indicators: list[dict]) -> list[dict]:
    """Counts by 一级 and, inside, by 二级: the data of the indicator-mix chart."""
    mix: dict[str, dict[str, int]] = OrderedDict()
    for it in indicators:
        l1 = it["level1"] or "（未注明）"
        l2 = it["level2"] or "（未注明）"
        mix.setdefault(l1, OrderedDict())
        mix[l1][l2] = mix[l1].get(l2, 0) + 1
    return [{"name": l1, "children": [{"name": l2, "value": n} for l2, n in sub.items()]} for l1, sub in mix.items()]


def project_detail(request: Request, iri: str) -> dict | None:
    store = store_of(request)
    p = typed_props(store, iri, "Project")
    if p is None:
        return None
    unit = unit_ref(request, one(p, "budgetUnit"))
    mentions = []
    for r in store.select(f"""
        SELECT ?e ?t ?l ?a ?ap ?au ?note ?doc ?ls WHERE {{
          ?e bkg:refersTo <{iri}> ; a ?t .
          FILTER(?t IN (bkg:KeyProjectEntry, bkg:ProjectDescription))
          OPTIONAL {{ ?e rdfs:label ?l }} OPTIONAL {{ ?e bkg:amount ?a }} OPTIONAL {{ ?e bkg:amountPrinted ?ap }}
          OPTIONAL {{ ?e bkg:amountUnit ?au }} OPTIONAL {{ ?e bkg:matchNote ?note }}
          OPTIONAL {{ ?e bkg:sourceDocument ?doc }} OPTIONAL {{ ?e bkg:lineStart ?ls }}
        }}"""):
        mentions.append({"kind": "重点项目条目" if r["t"].endswith("KeyProjectEntry") else "项目经费情况说明",
                         "label": r["l"], "amount": r["a"], "printed": r["ap"], "unit": r["au"],
                         "note": r["note"], "line": r["ls"], "document": document_ref(store, r["doc"])})
    return {
        "iri": iri, "id": local_id(iri), "name": one(p, RDFS_LABEL) or local_id(iri), "unit": unit,
        "year": one(p, "fiscalYear"), "type": one(p, "projectType"), "level": one(p, "projectLevel"),
        "department": one(p, "competentDepartment"), "implementing": one(p, "implementingUnit"),
        "period": one(p, "periodText") or year_span(one(p, "startYear"), one(p, "endYear"), one(p, "openEnded")),
        "amount": one(p, "amount"), "amount_printed": one(p, "amountPrinted"), "amount_unit": one(p, "amountUnit"),
        "funds": [(label, one(p, key)) for key, label in (("totalFunds", "项目资金总额"),
                                                          ("currentYearAppropriation", "当年财政拨款"),
                                                          ("carryOver", "上年结转资金"), ("otherFunds", "其他资金"))
                  if one(p, key)],
        "basis": one(p, "basis"), "summary": one(p, "summary"),
        "overall_goal": one(p, "overallGoal"), "annual_goal": one(p, "annualGoal"),
        "indicators": indicators_of(store, iri), "source": provenance(store, p), "mentions": mentions,
    }


def owner_of(store, iri: str, prop: str) -> str | None:
    for r in store.select(f"SELECT ?o WHERE {{ ?o bkg:{prop} <{iri}> }} LIMIT 1"):
        return r["o"]
    return None


# ---------------------------------------------------------------------------------------------
# search
# ---------------------------------------------------------------------------------------------

def parse_wan(value: str) -> tuple[Decimal | None, str | None]:
    """A form amount in 万元 → 元 (bounded as amounts written in a question are)."""
    v = (value or "").strip().replace(",", "").replace("，", "")
    if not v:
        return None, None
    try:
        d = Decimal(v)
    except InvalidOperation:
        return None, f"“{value}”不是数字"
    # finite first: comparing a signalling NaN raises
    if not d.is_finite() or d < 0:
        return None, f"“{value}”不是有效金额"
    if d > MAX_AMOUNT / WAN:  # compared before multiplying: 1e999999 × 10000 overflows
        return None, f"“{value}”万元过大"
    return d * WAN, None


def run_search(engine, q: str, kind: str | None, town: str | None, year: int | None, amin: Decimal | None,
               amax: Decimal | None, top: int, parse: bool, off: list[str]) -> dict:
    """``engine.search``; the words of ``off`` (filters the researcher removed) stay search text."""
    return engine.search(q, kind=kind, town=town, year=year, top=top, parse=parse,
                         amount_min=amin, amount_max=amax, off=tuple(off))


def with_params(base: dict, **change) -> str:
    """``/?...`` with ``base`` changed (None removes a key; lists become repeated keys)."""
    params = {**base, **change}
    pairs = []
    for k, v in params.items():
        if v is None or v == "" or v == []:
            continue
        if isinstance(v, (list, tuple)):
            pairs += [(k, x) for x in v]
        else:
            pairs.append((k, v))
    return "/?" + urlencode(pairs) if pairs else "/"


def chip_text(f: dict) -> str:
    label = f.get("label") or ""
    if f.get("kind") == "kind":
        label = {"project": "项目", "indicator": "绩效指标", "task": "重点任务"}.get(f.get("value"), label)
    return f"{FILTER_LABELS.get(f.get('kind'), f.get('kind'))}：{label}"


def region_options(request: Request) -> list[tuple[str, list[str]]]:
    """Regions for the filter, grouped under their province: [(province, [labels])]."""
    regs = regions(request)
    used = {u["region"] for u in units(request).values() if u["region"]}
    labels: set[str] = set()
    for r in used:
        if r in regs:
            labels.update(regs[r]["chain"][:-1] or regs[r]["chain"])
    groups: dict[str, list[str]] = defaultdict(list)
    order = {"prefecture": 0, "county": 1, "town": 2}
    by_label = {e["label"]: e for e in regs.values()}
    for lab in labels:
        e = by_label[lab]
        groups[e["chain"][-1]].append(lab)
    return [(prov, sorted(labs, key=lambda x: (order.get(by_label[x]["level"], 3), x))) for prov, labs in sorted(groups.items())]


def years_in_graph(request: Request) -> list[int]:
    def get():
        ys = set()
        for r in store_of(request).select("SELECT DISTINCT ?y WHERE { ?s bkg:fiscalYear ?y }"):
            try:
                ys.add(int(r["y"]))
            except (TypeError, ValueError):
                pass
        return sorted(ys, reverse=True)
    return cached(request, "years", get)


def overview(request: Request) -> dict:
    def get():
        store = store_of(request)
        counts = {}
        for key, cls in (("projects", "bkg:Project"), ("indicators", "bkg:PerformanceIndicator"),
                         ("tasks", "bkg:KeyTask"), ("units", "bkg:BudgetUnit"), ("documents", "bkg:Document"),
                         ("lines", "bkg:BudgetLine")):
            counts[key] = int(next(iter(store.select(f"SELECT (COUNT(?x) AS ?n) WHERE {{ ?x a {cls} }}")))["n"])
        unit_rows = []
        per: dict[str, dict] = defaultdict(lambda: {"projects": 0, "amount": Decimal(0), "documents": 0})
        for r in store.select("SELECT ?u (COUNT(?p) AS ?n) (SUM(?a) AS ?s) WHERE { ?p a bkg:Project ; bkg:budgetUnit ?u ; "
                              "bkg:amount ?a } GROUP BY ?u"):
            per[r["u"]].update(projects=int(r["n"]), amount=to_decimal(r["s"]) or Decimal(0))
        for r in store.select("SELECT ?u (COUNT(?d) AS ?n) WHERE { ?d a bkg:Document ; bkg:budgetUnit ?u } GROUP BY ?u"):
            per[r["u"]]["documents"] = int(r["n"])
        for iri in units(request):
            u = unit_ref(request, iri)
            unit_rows.append({**u, **per[iri]})
        unit_rows.sort(key=lambda u: (u["chain"][::-1], u["label"]))
        return {"counts": counts, "units": unit_rows[:MAX_UNITS_LISTED], "units_total": len(unit_rows)}
    return cached(request, "overview", get)


EXAMPLE_SEARCHES = ["自助终端 租赁", "清溪镇2024年的租赁项目", "设备坏了多久能修好", "群众满意度 指标",
                    "东莞 50万元以上的项目", "给窗口工作人员做工装"]


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request, q: str = "", kind: str = "", town: str = "", year: str = "", amin: str = "",
                amax: str = "", top: str = "20", parse: str = "1", off: list[str] = Query([])):
    try:
        top = min(100, max(1, int(top)))
    except ValueError:
        top = 20
    engine = engine_of(request)
    errors: dict[str, str] = {}
    q = q.strip()
    off = [w for w in dict.fromkeys(off) if w and w in q]  # words of an earlier question do not carry over
    if len(q) > MAX_Q:
        errors["q"] = f"检索词过长（{len(q)} 字），请不超过 {MAX_Q} 字。"
    if kind and kind not in KIND_LABELS:
        errors["kind"] = "类型只能是项目、指标、重点任务或预算科目行。"
    year_v = None
    if year:
        try:
            year_v = int(year)
        except ValueError:
            errors["year"] = f"“{year}”不是年份。"
    amin_v, e1 = parse_wan(amin)
    amax_v, e2 = parse_wan(amax)
    if e1:
        errors["amin"] = "最低金额" + e1 + "。"
    if e2:
        errors["amax"] = "最高金额" + e2 + "。"
    if amin_v is not None and amax_v is not None and amin_v > amax_v:
        errors["amax"] = "最高金额小于最低金额。"
    parse_on = parse not in ("0", "false", "no", "off")
    state = {"q": q, "kind": kind, "town": town, "year": year, "amin": amin, "amax": amax,
             "top": top if top != 20 else None, "parse": None if parse_on else "0", "off": off}
    searched = bool(q or kind or town or year or amin or amax)
    results: list[dict] = []
    interp = None
    error = None
    seconds = None
    match = None
    chips: list[dict] = []
    if searched and not errors:
        if engine is None:
            error = "检索索引尚未加载，请稍后再试。"
        else:
            t0 = time.perf_counter()
            try:
                out = run_search(engine, q, kind or None, town or None, year_v, amin_v, amax_v, top, parse_on, off)
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
        r["url"] = result_url(request, r)
        r["name_html"] = highlight(r.get("name"), terms)
        m = r.get("match") or {}
        if m.get("text") and m.get("text") != r.get("name"):
            r["match_html"] = highlight(m["text"], terms)
            r["match_label"] = FIELD_LABELS.get(m.get("field"), m.get("field"))
        if r.get("kind") == "indicator" and r.get("project"):
            r["project_url"] = page_url(r["project"].get("iri"))
    groups = region_options(request)
    return render(request, "search.html", nav="search", q=q, kind=kind, town=town, year=year, amin=amin, amax=amax,
                  top=top, parse_on=parse_on, off=off, errors=errors, searched=searched, results=results,
                  interp=interp, chips=chips, explicit=explicit, error=error, seconds=seconds, match=match,
                  region_groups=groups, town_labels={lab for _, labs in groups for lab in labs},
                  years=years_in_graph(request),
                  overview=overview(request) if not searched else None, examples=EXAMPLE_SEARCHES,
                  raw_url=with_params(state, parse="0", off=None) if interp and interp.get("filters") else None,
                  parse_url=with_params(state, parse=None, off=None),
                  title=f"{q} - 检索" if q else None)


def result_url(request: Request, r: dict) -> str | None:
    """Project → its page; indicator / task → the row of the table that holds it."""
    if r.get("kind") == "project":
        return page_url(r["iri"])
    owner = (r.get("project") or {}).get("iri")
    if r.get("kind") == "indicator" and owner:
        return f"{page_url(owner)}#ind-{local_id(r['iri'])}"
    if r.get("kind") == "task" and owner:
        return f"{page_url(owner)}#task-{local_id(r['iri'])}"
    return page_url(r.get("iri"))


# ---------------------------------------------------------------------------------------------
# project, unit, department target, document
# ---------------------------------------------------------------------------------------------

@router.get("/project/{id}", response_class=HTMLResponse)
def project_page(request: Request, id: str):
    if not ID_RE.match(id):
        return not_found(request, "项目", id)
    iri = ID + "project/" + id
    p = project_detail(request, iri)
    if p is None:
        return not_found(request, "项目", id)
    similar, similar_error = [], None
    engine = engine_of(request)
    if engine is not None:
        try:
            similar = engine.similar(iri, other_towns=True, top=5)
        except KeyError:
            similar_error = "该项目不在检索索引中，无法计算可比项目（请重新运行 budgetkg ingest 或 reindex）。"
        except Exception as exc:
            log.exception("similar failed: %s", iri)
            similar_error = f"计算可比项目时出错：{exc}"
    else:
        similar_error = "检索索引尚未加载，暂时无法列出可比项目。"
    for s in similar:
        s["url"] = page_url(s["iri"])
    sparql = f"DESCRIBE <{iri}>"
    return render(request, "project.html", nav="", p=p, similar=similar, similar_error=similar_error,
                  mix=indicator_mix(p["indicators"]), title=p["name"], sparql_url="/sparql-editor?" + urlencode({"query": sparql}),
                  has_period=any(i["period"] for i in p["indicators"]))


@router.get("/indicator/{id}")
def indicator_redirect(request: Request, id: str):
    if not ID_RE.match(id):
        return not_found(request, "指标", id)
    owner = owner_of(store_of(request), ID + "indicator/" + id, "hasIndicator")
    if owner is None:
        return not_found(request, "指标", id)
    return RedirectResponse(f"{page_url(owner)}#ind-{id}", status_code=303)


@router.get("/task/{id}")
def task_redirect(request: Request, id: str):
    if not ID_RE.match(id):
        return not_found(request, "重点任务", id)
    owner = owner_of(store_of(request), ID + "task/" + id, "hasKeyTask")
    if owner is None:
        for r in store_of(request).select(f"SELECT ?o WHERE {{ <{ID}task/{id}> dcterms:isPartOf ?o }} LIMIT 1"):
            owner = r["o"]
    if owner is None:
        return not_found(request, "重点任务", id)
    return RedirectResponse(f"{page_url(owner)}#task-{id}", status_code=303)


def tasks_of(store, target: str) -> list[dict]:
    out: dict[str, dict] = OrderedDict()
    for r in store.select(f"""
        SELECT ?t ?l ?c ?a ?o ?opt ?ls WHERE {{
          {{ <{target}> bkg:hasKeyTask ?t }} UNION {{ ?t dcterms:isPartOf <{target}> ; a bkg:KeyTask }}
          ?t rdfs:label ?l .
          OPTIONAL {{ ?t bkg:content ?c }} OPTIONAL {{ ?t bkg:amount ?a }} OPTIONAL {{ ?t bkg:expectedOutcome ?o }}
          OPTIONAL {{ ?t bkg:optional ?opt }} OPTIONAL {{ ?t bkg:lineStart ?ls }}
        }}"""):
        out.setdefault(r["t"], {"iri": r["t"], "id": local_id(r["t"]), "name": r["l"], "content": r["c"],
                                "amount": r["a"], "outcome": r["o"], "optional": r["opt"] == "true",
                                "line": int(r["ls"]) if r["ls"] else 10**6})
    return sorted(out.values(), key=lambda t: t["line"])


@router.get("/target/{id}", response_class=HTMLResponse)
def target_page(request: Request, id: str):
    if not ID_RE.match(id):
        return not_found(request, "部门整体绩效目标", id)
    iri = ID + "department-target/" + id
    store = store_of(request)
    p = typed_props(store, iri, "DepartmentTarget")
    if p is None:
        return not_found(request, "部门整体绩效目标", id)
    t = {"iri": iri, "id": id, "name": one(p, RDFS_LABEL) or id, "unit": unit_ref(request, one(p, "budgetUnit")),
         "year": one(p, "fiscalYear"), "overall_goal": one(p, "overallGoal"), "annual_goal": one(p, "annualGoal"),
         "staff": one(p, "staffCount"), "basic": one(p, "basicExpenditure"), "project": one(p, "projectExpenditure"),
         "indicators": indicators_of(store, iri), "tasks": tasks_of(store, iri), "source": provenance(store, p)}
    return render(request, "target.html", t=t, title=t["name"], mix=indicator_mix(t["indicators"]),
                  has_period=any(i["period"] for i in t["indicators"]))


def unit_budget_lines(store, unit: str) -> list[dict]:
    """The unit's budget tables with their coded lines."""
    tables: dict[str, dict] = OrderedDict()
    for r in store.select(f"""
        SELECT ?t ?tl ?num ?fs ?et ?flow ?doc ?tls ?l ?c ?n ?name ?pn ?lev ?scheme ?a ?y WHERE {{
          ?l a bkg:BudgetLine ; bkg:budgetUnit <{unit}> ; bkg:inTable ?t ; bkg:classification ?c .
          ?c skos:notation ?n ; skos:inScheme ?scheme .
          FILTER(?scheme IN (bkg:FunctionalClassification, bkg:EconomicClassification))
          OPTIONAL {{ ?c skos:prefLabel ?name }} OPTIONAL {{ ?c bkg:codeLevel ?lev }}
          OPTIONAL {{ ?l bkg:printedName ?pn }} OPTIONAL {{ ?l bkg:amount ?a }} OPTIONAL {{ ?l bkg:fiscalYear ?y }}
          OPTIONAL {{ ?t rdfs:label ?tl }} OPTIONAL {{ ?t bkg:tableNumber ?num }} OPTIONAL {{ ?t bkg:fundScope ?fs }}
          OPTIONAL {{ ?t bkg:expenditureType ?et }} OPTIONAL {{ ?t bkg:flow ?flow }} OPTIONAL {{ ?t bkg:sourceDocument ?doc }}
          OPTIONAL {{ ?t bkg:lineStart ?tls }}
        }}"""):
        t = tables.setdefault(r["t"], {"iri": r["t"], "label": r["tl"] or "预算表", "number": r["num"],
                                       "fund": FUND_SCOPES.get(r["fs"] or "", r["fs"]),
                                       "etype": EXPENDITURE_TYPES.get(r["et"] or "", r["et"]),
                                       "flow": FLOWS.get(r["flow"] or "", r["flow"]), "doc": r["doc"],
                                       "start": int(r["tls"]) if r["tls"] else 0, "lines": {}})
        t["lines"].setdefault(r["l"], {"notation": r["n"], "name": r["pn"] or r["name"], "level": r["lev"],
                                       "scheme": "functional" if r["scheme"].endswith("FunctionalClassification") else "economic",
                                       "amount": r["a"], "year": r["y"]})
    out = []
    for t in sorted(tables.values(), key=lambda t: (t["doc"] or "", t["start"])):
        t["lines"] = sorted(t["lines"].values(), key=lambda x: x["notation"])
        out.append(t)
    return out


@router.get("/unit/{id}", response_class=HTMLResponse)
def unit_page(request: Request, id: str):
    if not ID_RE.match(id):
        return not_found(request, "预算单位", id)
    iri = ID + "unit/" + id
    if iri not in units(request):
        return not_found(request, "预算单位", id)
    store = store_of(request)
    u = unit_ref(request, iri)
    projects = []
    for r in store.select(f"""
        SELECT ?p ?l ?y ?a ?type (COUNT(?i) AS ?n) WHERE {{
          ?p a bkg:Project ; bkg:budgetUnit <{iri}> ; rdfs:label ?l .
          OPTIONAL {{ ?p bkg:fiscalYear ?y }} OPTIONAL {{ ?p bkg:amount ?a }} OPTIONAL {{ ?p bkg:projectType ?type }}
          OPTIONAL {{ ?p bkg:hasIndicator ?i }}
        }} GROUP BY ?p ?l ?y ?a ?type ORDER BY DESC(?y) DESC(?a)"""):
        projects.append({"iri": r["p"], "name": r["l"], "year": r["y"], "amount": r["a"], "type": r["type"],
                         "indicators": int(r["n"])})
    targets = [{"iri": r["t"], "name": r["l"], "year": r["y"]} for r in store.select(f"""
        SELECT ?t ?l ?y WHERE {{ ?t a bkg:DepartmentTarget ; bkg:budgetUnit <{iri}> ; rdfs:label ?l .
        OPTIONAL {{ ?t bkg:fiscalYear ?y }} }} ORDER BY DESC(?y)""")]
    docs = [document_ref(store, r["d"]) for r in store.select(
        f"SELECT ?d WHERE {{ ?d a bkg:Document ; bkg:budgetUnit <{iri}> }}")]
    docs.sort(key=lambda d: (d["year"] or "", d["title"]), reverse=True)
    tables = unit_budget_lines(store, iri)
    fc = functional_classes_of(store, iri)
    several_years = len({e["year"] for e in fc}) > 1
    classes = {"categories": [f"{e['name']}" + (f"（{e['year']}年）" if several_years and e["year"] else "") for e in fc],
               "values": [wan(e["amount"]) for e in fc], "links": [f"/code/{e['notation']}?scheme=functional" for e in fc],
               "unit": "万元"} if fc else None
    return render(request, "unit.html", u=u, projects=projects, targets=targets, docs=docs, tables=tables,
                  classes=classes, title=u["label"])


def functional_classes_of(store, unit: str | None = None) -> list[dict]:
    """类-level functional lines of the expenditure table of all funds (one document per unit and year,
    a 单位预算 before a 部门预算): the data of the functional-class charts."""
    flt = f"FILTER(?u = <{unit}>)" if unit else ""
    got = []
    for r in store.select(f"""
        SELECT ?u ?y ?doc ?kind ?n ?name (SUM(?a) AS ?amount) WHERE {{
          ?l a bkg:BudgetLine ; bkg:budgetUnit ?u ; bkg:inTable ?t ; bkg:classification ?c ; bkg:amount ?a .
          ?t bkg:flow "expenditure" ; bkg:fundScope "all" ; bkg:expenditureType "all" ; bkg:sourceDocument ?doc .
          ?c skos:inScheme bkg:FunctionalClassification ; bkg:codeLevel "类" ; skos:notation ?n .
          OPTIONAL {{ ?c skos:prefLabel ?name }}
          OPTIONAL {{ ?doc bkg:documentKind ?kind }} OPTIONAL {{ ?l bkg:fiscalYear ?y }} {flt}
        }} GROUP BY ?u ?y ?doc ?kind ?n ?name"""):
        got.append(r)
    # one document per unit and year
    best: dict[tuple, tuple] = {}
    for r in got:
        key = (r["u"], r["y"])
        rank = 0 if r["kind"] == "单位预算" else 1
        if key not in best or (rank, r["doc"]) < best[key]:
            best[key] = (rank, r["doc"])
    out: dict[tuple, dict] = {}
    for r in got:
        if best[(r["u"], r["y"])][1] != r["doc"]:
            continue
        e = out.setdefault((r["u"], r["y"], r["n"]), {"unit": r["u"], "year": r["y"], "notation": r["n"],
                                                       "name": r["name"] or r["n"], "amount": Decimal(0)})
        e["amount"] += to_decimal(r["amount"]) or Decimal(0)
    return sorted(out.values(), key=lambda e: (e["unit"], e["year"] or "", e["notation"]))


@router.get("/document/{id}", response_class=HTMLResponse)
def document_page(request: Request, id: str):
    if not ID_RE.match(id):
        return not_found(request, "文件", id)
    iri = ID + "doc/" + id
    store = store_of(request)
    p = typed_props(store, iri, "Document")
    if p is None:
        return not_found(request, "文件", id)
    d = document_ref(store, iri)
    d.update(unit=unit_ref(request, one(p, "budgetUnit")), sha256=one(p, "sha256"), encoding=one(p, "encoding"),
             lines=one(p, "lineEnd"))
    contents = []
    for r in store.select(f"""
        SELECT ?x ?t ?l ?ls ?le ?a WHERE {{
          ?x bkg:sourceDocument <{iri}> ; a ?t ; rdfs:label ?l .
          FILTER(?t IN (bkg:Project, bkg:DepartmentTarget, bkg:BudgetTable, bkg:KeyProjectEntry, bkg:ProjectDescription))
          OPTIONAL {{ ?x bkg:lineStart ?ls }} OPTIONAL {{ ?x bkg:lineEnd ?le }} OPTIONAL {{ ?x bkg:amount ?a }}
        }}"""):
        kind = {"Project": "项目绩效目标表", "DepartmentTarget": "部门整体支出绩效目标表", "BudgetTable": "预算表",
                "KeyProjectEntry": "重点项目条目", "ProjectDescription": "项目经费情况说明"}[r["t"].rsplit("#", 1)[-1]]
        url = page_url(r["x"])
        if kind == "预算表" and d["unit"]:
            url = f"{page_url(d['unit']['iri'])}#table-{local_id(r['x'])}"
        contents.append({"iri": r["x"], "kind": kind, "label": r["l"], "start": int(r["ls"]) if r["ls"] else 0,
                         "end": r["le"], "amount": r["a"], "url": url})
    contents.sort(key=lambda c: (c["start"], c["label"]))
    return render(request, "document.html", d=d, contents=contents, title=d["title"])


# ---------------------------------------------------------------------------------------------
# classification codes
# ---------------------------------------------------------------------------------------------

def concept_of(store, notation: str, scheme: str | None) -> list[dict]:
    flt = f"FILTER(?s = <{SCHEME_IRIS[scheme]}>)" if scheme in SCHEME_IRIS else \
        "FILTER(?s IN (bkg:FunctionalClassification, bkg:EconomicClassification))"
    out: dict[str, dict] = {}
    for r in store.select(f"""
        SELECT ?c ?s ?l ?lev WHERE {{ ?c skos:notation "{notation}" ; skos:inScheme ?s . {flt}
          OPTIONAL {{ ?c skos:prefLabel ?l }} OPTIONAL {{ ?c bkg:codeLevel ?lev }} }}"""):
        out.setdefault(r["c"], {"iri": r["c"], "notation": notation, "label": r["l"], "level": r["lev"],
                                "scheme": "functional" if r["s"].endswith("FunctionalClassification") else "economic"})
    return list(out.values())


def concept_ref(store, iri: str) -> dict:
    for r in store.select(f"SELECT ?n ?l ?lev WHERE {{ <{iri}> skos:notation ?n . OPTIONAL {{ <{iri}> skos:prefLabel ?l }} "
                          f"OPTIONAL {{ <{iri}> bkg:codeLevel ?lev }} }} LIMIT 1"):
        return {"iri": iri, "notation": r["n"], "label": r["l"], "level": r["lev"]}
    return {"iri": iri, "notation": local_id(iri), "label": None, "level": None}


@router.get("/code/{notation}", response_class=HTMLResponse)
def code_page(request: Request, notation: str, scheme: str = ""):
    if not NOTATION_RE.match(notation):
        return not_found(request, "科目", notation)
    store = store_of(request)
    concepts = concept_of(store, notation, scheme or None)
    if not concepts:
        return not_found(request, "科目", notation)
    if len(concepts) > 1:
        return render(request, "code_choice.html", concepts=concepts, notation=notation, title=f"科目 {notation}")
    c = concepts[0]
    iri = c["iri"]
    chain = []
    cur = iri
    for _ in range(6):
        parent = next((r["b"] for r in store.select(f"SELECT ?b WHERE {{ <{cur}> skos:broader ?b }} LIMIT 1")), None)
        if parent is None:
            break
        chain.append(concept_ref(store, parent))
        cur = parent
    chain.reverse()
    narrower = []
    for r in store.select(f"""
        SELECT ?n ?l (COUNT(DISTINCT ?line) AS ?k) WHERE {{ ?x skos:broader <{iri}> ; skos:notation ?n .
          OPTIONAL {{ ?x skos:prefLabel ?l }} OPTIONAL {{ ?line bkg:classification ?x }} }} GROUP BY ?n ?l ORDER BY ?n"""):
        narrower.append({"notation": r["n"], "label": r["l"], "lines": int(r["k"])})
    lines = []
    for r in store.select(f"""
        SELECT ?line ?u ?y ?a ?pn ?t ?tl ?fs ?et ?flow ?doc ?dk ?ls WHERE {{
          ?line bkg:classification <{iri}> ; bkg:budgetUnit ?u .
          OPTIONAL {{ ?line bkg:fiscalYear ?y }} OPTIONAL {{ ?line bkg:amount ?a }} OPTIONAL {{ ?line bkg:printedName ?pn }}
          OPTIONAL {{ ?line bkg:lineStart ?ls }}
          OPTIONAL {{ ?line bkg:sourceDocument ?doc OPTIONAL {{ ?doc bkg:documentKind ?dk }} }}
          OPTIONAL {{ ?line bkg:inTable ?t . OPTIONAL {{ ?t rdfs:label ?tl }} OPTIONAL {{ ?t bkg:fundScope ?fs }}
                     OPTIONAL {{ ?t bkg:expenditureType ?et }} OPTIONAL {{ ?t bkg:flow ?flow }} }}
        }} ORDER BY ?u DESC(?y) ?ls LIMIT 2000"""):
        lines.append({"unit": unit_ref(request, r["u"]), "year": r["y"], "amount": r["a"], "printed": r["pn"],
                      "table": r["tl"] or "", "fund": FUND_SCOPES.get(r["fs"] or "", r["fs"] or ""),
                      "etype": EXPENDITURE_TYPES.get(r["et"] or "", r["et"] or ""),
                      "flow": FLOWS.get(r["flow"] or "", r["flow"] or ""), "doc": r["doc"], "doc_kind": r["dk"],
                      "line": r["ls"], "table_id": local_id(r["t"]) if r["t"] else None})
    # the chart: the expenditure line of all funds per unit and year, from a 单位预算 when there is one
    chart: dict[tuple, dict] = OrderedDict()
    for ln in sorted(lines, key=lambda x: x["doc_kind"] != "单位预算"):
        if ln["flow"] == "支出" and ln["fund"] == "全部资金" and ln["etype"] == "合计" and ln["amount"]:
            key = (ln["unit"]["iri"], ln["year"])
            if key not in chart:
                chart[key] = {"name": f"{ln['unit']['region_label'] or ''} {short_unit(ln['unit']['label'])} {ln['year'] or ''}".strip(),
                              "value": wan(ln["amount"])}
    chart = list(chart.values())
    return render(request, "code.html", c=c, chain=chain, narrower=narrower, lines=lines, chart=chart,
                  title=f"[{notation}] {c['label'] or ''}")


def short_unit(label: str) -> str:
    """东莞市清溪镇政务服务中心 → 政务服务中心 (the part after the last region word)."""
    m = re.search(r"(?:省|市|区|县|镇|街道|乡)(?!.*(?:省|市|区|县|镇|街道|乡))(.+)$", label or "")
    return m.group(1) if m and len(m.group(1)) >= 2 else (label or "")


@router.get("/codes", response_class=HTMLResponse)
def codes_page(request: Request):
    store = store_of(request)
    concepts: dict[str, dict] = {}
    for r in store.select("""
        SELECT ?c ?s ?n ?l ?lev ?b (COUNT(DISTINCT ?line) AS ?k) WHERE {
          ?c skos:inScheme ?s ; skos:notation ?n . FILTER(?s IN (bkg:FunctionalClassification, bkg:EconomicClassification))
          OPTIONAL { ?c skos:prefLabel ?l } OPTIONAL { ?c bkg:codeLevel ?lev } OPTIONAL { ?c skos:broader ?b }
          OPTIONAL { ?line bkg:classification ?c }
        } GROUP BY ?c ?s ?n ?l ?lev ?b"""):
        concepts.setdefault(r["c"], {"iri": r["c"], "notation": r["n"], "label": r["l"], "level": r["lev"], "broader": r["b"],
                                     "scheme": "functional" if r["s"].endswith("FunctionalClassification") else "economic",
                                     "lines": int(r["k"]), "children": []})
    roots: dict[str, list] = {"functional": [], "economic": []}
    for c in sorted(concepts.values(), key=lambda c: c["notation"]):
        parent = concepts.get(c["broader"] or "")
        (parent["children"] if parent else roots[c["scheme"]]).append(c)
    return render(request, "codes.html", nav="codes", roots=roots, title="预算科目")


# ---------------------------------------------------------------------------------------------
# compare
# ---------------------------------------------------------------------------------------------

def project_choices(request: Request) -> list[tuple[str, list[dict]]] | None:
    """Projects by region for the compare picker; None when there are too many to list."""
    n = int(next(iter(store_of(request).select("SELECT (COUNT(?p) AS ?n) WHERE { ?p a bkg:Project }")))["n"])
    if n > MAX_PICK:
        return None
    out: dict[str, list[dict]] = defaultdict(list)
    for r in store_of(request).select("""
        SELECT ?p ?l ?u ?y ?a WHERE { ?p a bkg:Project ; rdfs:label ?l ; bkg:budgetUnit ?u .
          OPTIONAL { ?p bkg:fiscalYear ?y } OPTIONAL { ?p bkg:amount ?a } } ORDER BY ?l"""):
        u = unit_ref(request, r["u"])
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
    projects, missing = [], []
    for x in wanted:
        p = project_detail(request, ID + "project/" + x) if ID_RE.match(x) else None
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
    for k, row in enumerate(aligned):
        row["l1_span"] = 0
        if k == 0 or aligned[k - 1]["level1"] != row["level1"]:
            n = 1
            while k + n < len(aligned) and aligned[k + n]["level1"] == row["level1"]:
                n += 1
            row["l1_span"] = n
    chart = {"names": [f"{p['unit']['region_label'] or ''}·{p['name']}" for p in projects],
             "amounts": [wan(p["amount"]) for p in projects],
             "levels": list(OrderedDict.fromkeys(k[0] or "（未注明）" for k in keys)),
             "counts": [[sum(1 for it in p["indicators"] if (it["level1"] or "（未注明）") == l1)
                         for l1 in OrderedDict.fromkeys(k[0] or "（未注明）" for k in keys)] for p in projects]}
    return render(request, "compare.html", nav="compare", projects=projects, missing=missing, message=message,
                  aligned=aligned, chart=chart, choices=project_choices(request) if len(projects) < 2 else None,
                  pick=len(projects) < 2,
                  chosen=[p["id"] for p in projects], title="项目对比")


# ---------------------------------------------------------------------------------------------
# charts
# ---------------------------------------------------------------------------------------------

@router.get("/charts", response_class=HTMLResponse)
def charts_page(request: Request):
    store = store_of(request)
    # 1. project amounts by region and year
    by_town: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    counts: dict[str, int] = defaultdict(int)
    for r in store.select("""
        SELECT ?u ?y (SUM(?a) AS ?s) (COUNT(?p) AS ?n) WHERE { ?p a bkg:Project ; bkg:amount ?a ; bkg:budgetUnit ?u .
          OPTIONAL { ?p bkg:fiscalYear ?y } } GROUP BY ?u ?y"""):
        u = unit_ref(request, r["u"])
        town = u["region_label"] or u["label"]
        by_town[town][r["y"] or "年度未注明"] += to_decimal(r["s"]) or Decimal(0)
        counts[town] += int(r["n"])
    towns = sorted(by_town, key=lambda t: -sum(by_town[t].values()))
    towns_total = len(towns)
    towns = towns[:MAX_CHART_BARS]
    years = sorted({y for t in by_town.values() for y in t})
    town_chart = {"categories": towns, "series": [{"name": f"{y}年" if y.isdigit() else y,
                                                   "data": [wan(by_town[t].get(y)) for t in towns]} for y in years],
                  "counts": [counts[t] for t in towns], "links": [with_params({}, town=t, kind="project") for t in towns],
                  "unit": "万元", "total": towns_total}
    # 2. functional classes (类) by unit
    fc = functional_classes_of(store)
    groups: dict[tuple, dict] = OrderedDict()
    classes: dict[str, str] = {}
    for e in fc:
        u = unit_ref(request, e["unit"])
        key = (e["unit"], e["year"])
        g = groups.setdefault(key, {"name": f"{u['region_label'] or short_unit(u['label'])} {e['year'] or ''}".strip(),
                                    "long": f"{u['region_label'] or ''} {short_unit(u['label'])} {e['year'] or ''}".strip(),
                                    "unit": u["label"], "values": {}})
        g["values"][e["notation"]] = e["amount"]
        classes[e["notation"]] = e["name"]
    groups_total = len(groups)
    groups = OrderedDict(sorted(groups.items(), key=lambda kv: -sum(kv[1]["values"].values()))[:MAX_CHART_BARS])
    names = [g["name"] for g in groups.values()]
    cats = [g["name"] if names.count(g["name"]) == 1 else g["long"] for g in groups.values()]
    class_chart = {"categories": cats,
                   "series": [{"name": f"{classes[n]}", "notation": n,
                               "data": [wan(g["values"].get(n)) for g in groups.values()]} for n in sorted(classes)],
                   "units": [g["unit"] for g in groups.values()], "unit": "万元", "total": groups_total}
    # 3. indicators by 一级 › 二级 over all project tables
    mix = []
    for r in store.select("""
        SELECT ?l1 ?l2 (COUNT(?i) AS ?n) WHERE { ?p a bkg:Project ; bkg:hasIndicator ?i .
          OPTIONAL { ?i bkg:level1/skos:prefLabel ?l1 } OPTIONAL { ?i bkg:level2/skos:prefLabel ?l2 } } GROUP BY ?l1 ?l2"""):
        mix.append({"level1": r["l1"] or "（未注明）", "level2": r["l2"] or "（未注明）", "n": int(r["n"])})
    tree: dict[str, dict[str, int]] = OrderedDict()
    for m in sorted(mix, key=lambda m: (-sum(x["n"] for x in mix if x["level1"] == m["level1"]), -m["n"])):
        tree.setdefault(m["level1"], OrderedDict())[m["level2"]] = m["n"]
    mix_chart = [{"name": l1, "children": [{"name": l2, "value": n} for l2, n in sub.items()]} for l1, sub in tree.items()]
    return render(request, "charts.html", nav="charts", town_chart=town_chart, class_chart=class_chart,
                  mix_chart=mix_chart, title="图表")


# ---------------------------------------------------------------------------------------------
# SPARQL editor
# ---------------------------------------------------------------------------------------------

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
