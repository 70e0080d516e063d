"""勾稽 checks of the documents in the store (``budgetkg check``).

The rules are those of :mod:`ingest.consistency` (also what ``budgetkg inspect`` and the benchmark
run on a parsed document); this module only reads each document's printed figures back from its
named graph into :class:`~ingest.consistency.Figures`. Discrepancies are reported with the lines
involved, never hidden.
"""
from __future__ import annotations

from decimal import Decimal

from .consistency import (
    DEFAULT_DECIMALS,
    KEY_PROJECT_LIST,
    PROJECT_LIST,
    CodedLine,
    Figures,
    Finding,
    ListEntry,
    ProjectFigure,
    SummaryRow,
    TableFigures,
    run_rules,
    step_of,
    table_kind,
)
from .store import GraphStore

__all__ = ["Finding", "run_checks", "store_figures"]

_BKG = "https://w3id.org/budgetkg/def#"


def _dec(v: object) -> Decimal:
    return Decimal(str(v))


def run_checks(store: GraphStore) -> list[Finding]:
    """Every check of every document, documents in the order of their labels."""
    docs = {r["d"]: r["label"] for r in store.select(
        "SELECT ?d ?label WHERE { ?d a bkg:Document ; rdfs:label ?label }")}
    findings: list[Finding] = []
    for d, label in sorted(docs.items(), key=lambda x: x[1]):
        findings.extend(run_rules(store_figures(store, d, label)))
    return findings


def store_figures(store: GraphStore, d: str, label: str) -> Figures:
    """One document's figures from its named graph ``d``."""
    tables = _tables(store, d)
    projects = _projects(store, d)
    return Figures(label, [t for _, t in sorted(tables.values(), key=lambda x: x[0])], list(projects.values()),
                   _entries(store, d, projects))


def _tables(store: GraphStore, d: str) -> dict[str, tuple[tuple[int, str], TableFigures]]:
    out: dict[str, tuple[tuple[int, str], TableFigures]] = {}
    steps: dict[str, list[Decimal]] = {}
    units: dict[str, str] = {}
    for r in store.select(f"""
        SELECT ?t ?title ?kind ?unit ?flow ?fund ?etype ?total ?line WHERE {{ GRAPH <{d}> {{
          ?t a bkg:BudgetTable ; rdfs:label ?title ; bkg:flow ?flow ; bkg:fundScope ?fund ;
             bkg:expenditureType ?etype ; bkg:lineStart ?line .
          OPTIONAL {{ ?t bkg:tableKind ?kind }} OPTIONAL {{ ?t bkg:amountUnit ?unit }}
          OPTIONAL {{ ?t bkg:printedTotal ?total }} }} }}"""):
        kind = str(r["kind"]).removeprefix(_BKG) if r["kind"] is not None else None
        t = TableFigures(title=str(r["title"]), kind=kind, flow=str(r["flow"]), fund=str(r["fund"]),
                         etype=str(r["etype"]), line=int(r["line"]),
                         total=_dec(r["total"]) if r["total"] is not None else None)
        out[r["t"]] = ((t.line, str(r["t"])), t)
        steps[r["t"]] = []
        units[r["t"]] = str(r["unit"]) if r["unit"] is not None else "元"
    lines: dict[str, CodedLine] = {}
    columns: dict[str, list[tuple[int, str, Decimal]]] = {}
    for r in store.select(f"""
        SELECT ?t ?l ?code ?cross ?amount ?printed ?unit ?line WHERE {{
          GRAPH <{d}> {{ ?l qb:dataSet ?t ; bkg:classification ?c ; bkg:amount ?amount ; bkg:lineStart ?line .
                         OPTIONAL {{ ?l bkg:amountPrinted ?printed }} OPTIONAL {{ ?l bkg:amountUnit ?unit }} }}
          ?c skos:notation ?code
          OPTIONAL {{ GRAPH <{d}> {{ ?l bkg:secondaryClassification ?c2 }} ?c2 skos:notation ?cross }} }}"""):
        if r["t"] not in out:
            continue
        # the second code of a cross-classified row groups it (see CodedLine.cross)
        ln = lines[r["l"]] = CodedLine(str(r["code"]), _dec(r["amount"]), int(r["line"]),
                                       cross=str(r["cross"]) if r["cross"] is not None else None)
        out[r["t"]][1].lines.append(ln)
        s = step_of(r["printed"], r["unit"])
        if s is not None:
            steps[r["t"]].append(s)
    for r in store.select(f"""
        SELECT ?l ?h ?a ?o WHERE {{ GRAPH <{d}> {{
          ?l a bkg:BudgetLine ; bkg:columnAmount ?ca . ?ca rdfs:label ?h ; bkg:amount ?a ; bkg:order ?o . }} }}"""):
        if r["l"] in lines:
            columns.setdefault(r["l"], []).append((int(r["o"]), str(r["h"]), _dec(r["a"])))
    for iri, cols in columns.items():
        lines[iri].columns = [(h, a) for _, h, a in sorted(cols)]
    rows = []
    for r in store.select(f"""
        SELECT ?t ?r ?rlabel ?amount ?printed WHERE {{ GRAPH <{d}> {{
          ?t a bkg:BudgetTable ; bkg:summaryRow ?r . ?r rdfs:label ?rlabel ; bkg:amount ?amount .
          OPTIONAL {{ ?r bkg:amountPrinted ?printed }} }} }}"""):
        rows.append(r)
    # rows in the order printed: their IRIs are numbered …/s1, …/s2 … (see ingest.mapping)
    for r in sorted(rows, key=lambda r: (r["t"], int(r["r"].rsplit("/s", 1)[1]))):
        _, t = out[r["t"]]
        t.summary.append(SummaryRow(str(r["rlabel"]), _dec(r["amount"]), t.line))
        s = step_of(r["printed"], units[r["t"]])
        if s is not None:
            steps[r["t"]].append(s)
    for iri, (_, t) in out.items():
        t.kind = table_kind(t.kind, t.flow, t.fund, t.etype, bool(t.summary))
        t.step = max(steps[iri]) if steps[iri] else step_of("0." + "0" * DEFAULT_DECIMALS, units[iri])
    return out


def _projects(store: GraphStore, d: str) -> dict[str, ProjectFigure]:
    out = {}
    for r in store.select(f"""
        SELECT ?p ?name ?amount ?printed ?unit ?type ?line ?by WHERE {{ GRAPH <{d}> {{
          ?p a bkg:Project ; rdfs:label ?name ; bkg:lineStart ?line .
          OPTIONAL {{ ?p bkg:amount ?amount }} OPTIONAL {{ ?p bkg:amountPrinted ?printed }}
          OPTIONAL {{ ?p bkg:amountUnit ?unit }} OPTIONAL {{ ?p bkg:projectType ?type }}
          OPTIONAL {{ ?p bkg:implementingUnit ?by }} }} }} ORDER BY ?line"""):
        out[r["p"]] = ProjectFigure(str(r["name"]), _dec(r["amount"]) if r["amount"] is not None else None,
                                    int(r["line"]), str(r["type"]) if r["type"] is not None else None,
                                    step_of(r["printed"], r["unit"]) or Decimal(1), r["by"])
    return out


#: the store's class of each list's entries (see ingest.mapping)
_LISTS = {KEY_PROJECT_LIST: "bkg:KeyProjectEntry", PROJECT_LIST: "bkg:ProjectBudgetEntry"}


def _entries(store: GraphStore, d: str, projects: dict[str, ProjectFigure]) -> list[ListEntry]:
    out = []
    for listing, cls in _LISTS.items():
        for r in store.select(f"""
            SELECT ?name ?amount ?printed ?unit ?line ?p ?by WHERE {{ GRAPH <{d}> {{
              ?e a {cls} ; rdfs:label ?name ; bkg:lineStart ?line .
              OPTIONAL {{ ?e bkg:amount ?amount }} OPTIONAL {{ ?e bkg:amountPrinted ?printed }}
              OPTIONAL {{ ?e bkg:amountUnit ?unit }} OPTIONAL {{ ?e bkg:refersTo ?p }}
              OPTIONAL {{ ?e bkg:implementingUnit ?by }} }} }} ORDER BY ?line"""):
            out.append(ListEntry(str(r["name"]), _dec(r["amount"]) if r["amount"] is not None else None,
                                 int(r["line"]), projects.get(r["p"]) if r["p"] is not None else None,
                                 step_of(r["printed"], r["unit"]) or Decimal(100), listing, r["by"]))
    return out
