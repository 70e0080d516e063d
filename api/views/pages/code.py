"""Classification code pages (预算科目): ``/code/{notation}`` (one code, its place in the hierarchy and
every line that uses it) and ``/codes`` (both code lists as trees)."""
from __future__ import annotations

from collections import OrderedDict

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.readmodel.budget import UNIT_BUDGET
from api.readmodel.codes import broader, concepts
from api.readmodel.graph import directory, short_unit
from api.readmodel.ids import NOTATION_RE, iri_term, local_id
from api.readmodel.labels import EXPENDITURE_TYPES, FLOWS, FUND_SCOPES
from api.runtime import runtime
from api.templating import not_found, render, wan

router = APIRouter(include_in_schema=False)

#: budget lines listed on a code page at most
MAX_CODE_LINES = 2000


@router.get("/code/{notation}", response_class=HTMLResponse)
def code_page(request: Request, notation: str, scheme: str = ""):
    if not NOTATION_RE.match(notation):
        return not_found(request, "科目", notation)
    rt = runtime(request)
    store, d = rt.store, directory(rt)
    found = concepts(store, notation, scheme or None)
    if not found:
        return not_found(request, "科目", notation)
    if len(found) > 1:
        return render(request, "code_choice.html", concepts=found, notation=notation, title=f"科目 {notation}")
    c = found[0]
    iri = c["iri"]
    chain = broader(store, iri)
    narrower = []
    for r in store.select(f"""
        SELECT ?n ?l (COUNT(DISTINCT ?line) AS ?k) WHERE {{ ?x skos:broader {iri_term(iri)} ; skos:notation ?n .
          OPTIONAL {{ ?x skos:prefLabel ?l }} OPTIONAL {{ ?line bkg:classification ?x }} }} GROUP BY ?n ?l ORDER BY ?n"""):
        narrower.append({"notation": r["n"], "label": r["l"], "lines": int(r["k"])})
    lines = []
    for r in store.select(f"""
        SELECT ?line ?u ?y ?a ?pn ?t ?tl ?fs ?et ?flow ?doc ?dk ?ls WHERE {{
          ?line bkg:classification {iri_term(iri)} ; bkg:budgetUnit ?u .
          OPTIONAL {{ ?line bkg:fiscalYear ?y }} OPTIONAL {{ ?line bkg:amount ?a }} OPTIONAL {{ ?line bkg:printedName ?pn }}
          OPTIONAL {{ ?line bkg:lineStart ?ls }}
          OPTIONAL {{ ?line bkg:sourceDocument ?doc OPTIONAL {{ ?doc bkg:documentKind ?dk }} }}
          OPTIONAL {{ ?line bkg:inTable ?t . OPTIONAL {{ ?t rdfs:label ?tl }} OPTIONAL {{ ?t bkg:fundScope ?fs }}
                     OPTIONAL {{ ?t bkg:expenditureType ?et }} OPTIONAL {{ ?t bkg:flow ?flow }} }}
        }} ORDER BY ?u DESC(?y) ?ls LIMIT {MAX_CODE_LINES}"""):
        lines.append({"unit": d.unit(r["u"]), "year": r["y"], "amount": r["a"], "printed": r["pn"],
                      "table": r["tl"] or "", "fund": FUND_SCOPES.get(r["fs"] or "", r["fs"] or ""),
                      "etype": EXPENDITURE_TYPES.get(r["et"] or "", r["et"] or ""),
                      "flow": FLOWS.get(r["flow"] or "", r["flow"] or ""), "doc": r["doc"], "doc_kind": r["dk"],
                      "line": r["ls"], "table_id": local_id(r["t"]) if r["t"] else None})
    # the chart: the expenditure line of all funds per unit and year, from a 单位预算 when there is one
    chart: dict[tuple, dict] = OrderedDict()
    for ln in sorted(lines, key=lambda x: x["doc_kind"] != UNIT_BUDGET):
        if ln["flow"] == "支出" and ln["fund"] == "全部资金" and ln["etype"] == "合计" and ln["amount"]:
            key = (ln["unit"]["iri"], ln["year"])
            if key not in chart:
                chart[key] = {"name": f"{ln['unit']['region_label'] or ''} {short_unit(ln['unit']['label'])} {ln['year'] or ''}".strip(),
                              "value": wan(ln["amount"])}
    chart = list(chart.values())
    return render(request, "code.html", c=c, chain=chain, narrower=narrower, lines=lines, chart=chart,
                  title=f"[{notation}] {c['label'] or ''}")


@router.get("/codes", response_class=HTMLResponse)
def codes_page(request: Request):
    store = runtime(request).store
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
