"""Budget tables and lines (预算表、预算科目行) as the pages show them."""
from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal

from api.readmodel.ids import iri_term
from api.readmodel.labels import EXPENDITURE_TYPES, FLOWS, FUND_SCOPES

UNIT_BUDGET = "单位预算"


def unit_budget_lines(store, unit: str) -> list[dict]:
    """The unit's budget tables with their coded lines (one query)."""
    tables: dict[str, dict] = OrderedDict()
    for r in store.select(f"""
        SELECT ?t ?tl ?num ?fs ?et ?flow ?doc ?tls ?l ?c ?n ?name ?pn ?lev ?scheme ?a ?y WHERE {{
          ?l a bkg:BudgetLine ; bkg:budgetUnit {iri_term(unit)} ; bkg:inTable ?t ; bkg:classification ?c .
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


def functional_classes_of(store, unit: str | None = None) -> list[dict]:
    """支出功能分类 by 类 per unit and year: the detail rows (bkg:detailRow true) of the expenditure table
    of all funds rolled up to their 类 (skos:broader), so that a table printing only 项 lines still counts
    — the data of the functional-class charts. One document per unit and year: a 单位预算 before a 部门预算
    (which also counts the unit's subordinates)."""
    flt = f"FILTER(?u = {iri_term(unit)})" if unit else ""
    got = list(store.select(f"""
        SELECT ?u ?y ?doc ?kind ?n ?name (SUM(?a) AS ?amount) WHERE {{
          ?l a bkg:BudgetLine ; bkg:budgetUnit ?u ; bkg:inTable ?t ; bkg:classification ?c ; bkg:amount ?a ;
             bkg:detailRow true .
          ?t bkg:flow "expenditure" ; bkg:fundScope "all" ; bkg:expenditureType "all" ; bkg:sourceDocument ?doc .
          ?c skos:inScheme bkg:FunctionalClassification ; skos:broader* ?lei .
          ?lei bkg:codeLevel "类" ; skos:notation ?n .
          OPTIONAL {{ ?lei skos:prefLabel ?name }}
          OPTIONAL {{ ?doc bkg:documentKind ?kind }} OPTIONAL {{ ?l bkg:fiscalYear ?y }} {flt}
        }} GROUP BY ?u ?y ?doc ?kind ?n ?name"""))
    best: dict[tuple, tuple] = {}
    for r in got:
        key = (r["u"], r["y"])
        rank = 0 if r["kind"] == UNIT_BUDGET else 1
        if key not in best or (rank, r["doc"]) < best[key]:
            best[key] = (rank, r["doc"])
    out: dict[tuple, dict] = {}
    for r in got:
        if best[(r["u"], r["y"])][1] != r["doc"]:
            continue
        e = out.setdefault((r["u"], r["y"], r["n"]), {"unit": r["u"], "year": r["y"], "notation": r["n"],
                                                       "name": r["name"] or r["n"], "amount": Decimal(0)})
        e["amount"] += Decimal(r["amount"])
    return sorted(out.values(), key=lambda e: (e["unit"], e["year"] or "", e["notation"]))
