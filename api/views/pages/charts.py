"""``/charts``: project amounts by region and year, spending by functional class (类) per unit, and the
indicator mix over all project tables."""
from __future__ import annotations

from collections import OrderedDict, defaultdict
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.readmodel.budget import functional_classes_of
from api.readmodel.graph import directory, short_unit
from api.runtime import runtime
from api.templating import render, to_decimal, wan
from api.views.pages.forms import with_params

router = APIRouter(include_in_schema=False)

#: bars of a chart at most (the largest first; the page says how many there are in all)
MAX_CHART_BARS = 20


@router.get("/charts", response_class=HTMLResponse)
def charts_page(request: Request):
    rt = runtime(request)
    store, d = rt.store, directory(rt)
    # 1. project amounts by region and year
    by_town: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    counts: dict[str, int] = defaultdict(int)
    for r in store.select("""
        SELECT ?u ?y (SUM(?a) AS ?s) (COUNT(?p) AS ?n) WHERE { ?p a bkg:Project ; bkg:amount ?a ; bkg:budgetUnit ?u .
          OPTIONAL { ?p bkg:fiscalYear ?y } } GROUP BY ?u ?y"""):
        u = d.unit(r["u"])
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
        u = d.unit(e["unit"])
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
